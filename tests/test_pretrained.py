import json

import pytest
import torch

from course_lib import curves, pretrained, recipes
from course_lib.trainer import Trainer
from tiny_recipe import TinyConfig, TinyData, TinyRecipe


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A weights folder holding one checkpoint of the tiny recipe, published as the CLI does."""
    monkeypatch.setitem(recipes.RECIPES, "tiny", TinyRecipe)
    recipe = TinyRecipe()
    t = Trainer(recipe, TinyConfig(), TinyData(), recipe.settings["course"], out=tmp_path / "run")
    t.fit()
    root = tmp_path / "weights"
    pretrained.publish(t.export(), "tiny-demo", command="python -m course_lib.train tiny ...",
                       data="tiny", root=root)
    return root, t


def test_load_returns_the_trained_model(shipped):
    root, t = shipped
    assert pretrained.available(root) == ["tiny-demo"]
    model = pretrained.load("tiny-demo", root=root)
    assert not model.training
    x = TinyData().x[:5]
    with torch.no_grad():
        expected = t.modules["model"].eval()(x)
        assert torch.allclose(model(x), expected, atol=1e-2)  # fp16 weights
    entry = pretrained.info("tiny-demo", root=root)
    for key in ("sha256", "config", "data", "steps", "command", "train_seconds"):
        assert key in entry
    assert entry["steps"] == t.step


def test_unknown_missing_and_tampered_checkpoints(shipped):
    root, _ = shipped
    with pytest.raises(ValueError, match="available: tiny-demo"):
        pretrained.load("no-such-model", root=root)
    path = root / "tiny-demo.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        pretrained.load("tiny-demo", root=root)
    path.unlink()
    with pytest.raises(ValueError, match="missing"):
        pretrained.load("tiny-demo", root=root)


def test_broken_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        pretrained.available(tmp_path)


def test_shipped_manifest_is_complete():
    """Every shipped checkpoint: file present, hash right, under 10 MB, command recorded; its
    curves, where the manifest names them, present, small and as long as its training."""
    names = pretrained.available()
    assert names, "no shipped checkpoint"
    total, shipped_companions = 0, set()
    for name in names:
        entry = pretrained.info(name)
        path = pretrained.WEIGHTS_DIR / entry["file"]
        assert path.is_file(), name
        assert pretrained.sha256(path) == entry["sha256"], name
        assert path.stat().st_size < 10 * 2**20, name
        assert entry["command"].startswith("python -m course_lib.train "), name
        assert "--publish" not in entry["command"], name
        assert isinstance(pretrained.load(name), torch.nn.Module)
        total += path.stat().st_size
        for kind in curves.SUFFIXES:      # its training curves, where recorded: small, complete
            if kind in entry:
                companion = pretrained.WEIGHTS_DIR / entry[kind]
                assert companion.is_file(), (name, kind)
                total += companion.stat().st_size
                shipped_companions.add(companion.name)
        if "curves" in entry:
            recorded = curves.load(pretrained.WEIGHTS_DIR / entry["curves"])
            assert recorded["steps"] == entry["steps"], name
            assert len(recorded["step"]) <= curves.MAX_POINTS, name
        if "samples" in entry:
            assert (pretrained.WEIGHTS_DIR / entry["samples"]).stat().st_size < curves.STRIP_BYTES, name
    assert total < 60 * 2**20
    on_disk = {p.name for suffix in curves.SUFFIXES.values()
               for p in pretrained.WEIGHTS_DIR.glob(f"*{suffix}")}
    assert on_disk == shipped_companions, "curves files that no manifest entry names"
    manifest = json.loads((pretrained.WEIGHTS_DIR / "manifest.json").read_text())
    assert sorted(manifest) == names
