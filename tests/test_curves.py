"""Training curves: recorded at export, shipped by publish, backfilled from a run, shown in a lecture."""

import dataclasses
import json
import math

import matplotlib
import pytest
from PIL import Image

from course_lib import curves, pretrained, recipes, train
from course_lib.trainer import Trainer
from tiny_recipe import TinyConfig, TinyData, TinyRecipe

matplotlib.use("Agg")

STEPS, SAMPLE_EVERY = 410, 41        # 410 steps: windows of ceil(410 / 200) = 3, the last one of 2


def tiny(out, steps=STEPS, config=None):
    recipe = TinyRecipe()
    settings = dataclasses.replace(recipe.settings["course"], steps=steps, sample_every=SAMPLE_EVERY,
                                   save_every=SAMPLE_EVERY)
    return Trainer(recipe, config or TinyConfig(), TinyData(), settings, out=out)


def expected_means(history, window):
    """The window means, computed here independently of course_lib.curves."""
    losses = [h["loss"] for h in history]
    return [sum(losses[i:i + window]) / len(losses[i:i + window]) for i in range(0, len(losses), window)]


@pytest.fixture
def trained(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "0")
    t = tiny(tmp_path / "run")
    t.fit()
    return t


def test_export_records_the_window_means_and_a_samples_strip(trained):
    path = trained.export()
    files = curves.companions(path)
    recorded = curves.load(files["curves"])
    assert recorded["steps"] == STEPS and recorded["window"] == 3
    assert recorded["step"] == list(range(3, STEPS, 3)) + [STEPS]     # the step each window ends at
    assert len(recorded["step"]) <= curves.MAX_POINTS
    assert recorded["losses"]["loss"] == pytest.approx(expected_means(trained.history, 3), rel=1e-5)
    assert recorded["losses"]["loss"][0] > 2 * recorded["losses"]["loss"][-1]   # it did learn
    # six of the ten grids (steps 41 ... 410), evenly spaced, the first and the last among them
    assert recorded["sample_steps"] == [41, 123, 205, 246, 328, 410]
    assert files["samples"].stat().st_size < curves.STRIP_BYTES
    with Image.open(files["samples"]) as strip:
        assert strip.format == "PNG" and strip.width == 3 * curves.PANEL_WIDTH + 2 * 6   # 3 to a row


def test_snapshot_curves_stop_at_the_snapshots_step(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "0")
    t = tiny(tmp_path / "run", steps=100)
    t.settings.keep_every = 50
    t.fit()
    snapshot = curves.load(tmp_path / "run" / "snapshots" / "step_000050.curves.json")
    assert snapshot["steps"] == 50 and snapshot["sample_steps"] == [41]
    assert snapshot["losses"]["loss"] == pytest.approx(expected_means(t.history[:50], 1), rel=1e-5)


def test_window_means_of_losses_that_come_and_go():
    history = [{"a": 1.0}, {"a": 3.0, "b": 10.0}, {"a": 5.0}, {"a": 7.0}, {"a": 9.0, "b": float("inf")}]
    out = curves.window_means(history, max_points=3)
    assert out == {"steps": 5, "window": 2, "step": [2, 4, 5],
                   "losses": {"a": [2.0, 6.0, 9.0], "b": [10.0, None, None]}}
    assert curves.window_means(history, steps=3, max_points=3)["step"] == [1, 2, 3]
    with pytest.raises(ValueError, match="steps must be from 1 to the 5 steps"):
        curves.window_means(history, steps=6)
    with pytest.raises(ValueError, match="empty"):
        curves.window_means([])
    with pytest.raises(ValueError, match="list of"):
        curves.window_means({"a": [1.0]})
    with pytest.raises(ValueError, match="NAME.safetensors"):
        curves.companions("model.pt")


def test_publish_ships_the_curves_and_the_manifest_names_them(trained, tmp_path):
    root = tmp_path / "weights"
    exported = trained.export()
    entry = pretrained.publish(exported, "tiny-demo", command="python -m course_lib.train tiny",
                               data="tiny", root=root)
    assert entry["curves"] == "tiny-demo.curves.json" and entry["samples"] == "tiny-demo.samples.png"
    assert pretrained.info("tiny-demo", root)["curves"] == "tiny-demo.curves.json"
    for kind, source in curves.companions(exported).items():
        assert (root / entry[kind]).read_bytes() == source.read_bytes(), kind
    # replaced by a run that wrote no sample grids: the old strip goes, not left beside new weights
    bare = tiny(None, steps=5)
    bare.fit()
    entry = pretrained.publish(bare.export(tmp_path / "bare" / "model.safetensors"), "tiny-demo",
                               command="python -m course_lib.train tiny", data="tiny", root=root,
                               replace=True)
    assert "samples" not in entry and not (root / "tiny-demo.samples.png").exists()
    assert curves.load(root / entry["curves"])["steps"] == 5


def test_show_training_plots_the_curves(trained, tmp_path):
    root = tmp_path / "weights"
    pretrained.publish(trained.export(), "tiny-demo", command="python -m course_lib.train tiny",
                       data="tiny", root=root)
    fig = pretrained.show_training("tiny-demo", root=root)
    loss_ax, strip_ax = fig.axes
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel(), loss_ax.get_title()) == ("step", "loss", "loss")
    assert "samples" in strip_ax.get_title()
    assert fig.get_suptitle().startswith(f"tiny-demo: {STEPS} steps")
    (root / "tiny-demo.samples.png").unlink()
    with pytest.raises(ValueError, match="samples file .* is missing"):
        pretrained.show_training("tiny-demo", root=root)


def test_show_training_without_curves_names_the_command(tmp_path, capsys):
    never_trained = tiny(tmp_path / "run")       # exported at step 0: no history, so no curves
    root = tmp_path / "weights"
    pretrained.publish(never_trained.export(), "old-demo", command="python -m course_lib.train tiny --x",
                       data="tiny", root=root)
    assert "curves" not in pretrained.info("old-demo", root)
    assert pretrained.show_training("old-demo", root=root) is None
    printed = capsys.readouterr().out
    assert "no training curves were recorded" in printed
    assert "python -m course_lib.train tiny --x" in printed


def test_record_curves_backfills_up_to_the_shipped_step(tmp_path, monkeypatch):
    """A checkpoint shipped at step 200 without curves, its run since continued to step 410."""
    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setitem(recipes.RECIPES, "tiny", TinyRecipe)
    root, run = tmp_path / "weights", tmp_path / "run"
    t = tiny(run, steps=200)
    t.fit()
    pretrained.publish(t.export(), "tiny-demo", command="python -m course_lib.train tiny", data="tiny",
                       root=root)
    manifest = json.loads((root / "manifest.json").read_text())      # as published before curves
    for kind in curves.SUFFIXES:
        del manifest["tiny-demo"][kind]
        (root / f"tiny-demo{curves.SUFFIXES[kind]}").unlink()
    (root / "manifest.json").write_text(json.dumps(manifest))
    longer = tiny(run)
    assert longer.resume()
    longer.fit()
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", root)
    assert train.main(["--curves", str(run), "--publish", "tiny-demo"]) == 0
    entry = pretrained.info("tiny-demo")
    recorded = curves.load(root / entry["curves"])
    assert recorded["steps"] == 200 == entry["steps"] and recorded["window"] == 1
    assert recorded["losses"]["loss"] == pytest.approx(expected_means(longer.history[:200], 1), rel=1e-5)
    assert recorded["sample_steps"] == [41, 82, 123, 164, 200]   # not 205 ...: past the shipped step
    assert math.isclose(recorded["losses"]["loss"][-1], longer.history[199]["loss"], rel_tol=1e-5)


def test_record_curves_refuses_another_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "0")
    root = tmp_path / "weights"
    t = tiny(tmp_path / "run", steps=50)
    t.fit()
    pretrained.publish(t.export(), "tiny-demo", command="python -m course_lib.train tiny", data="tiny",
                       root=root)
    other = tiny(tmp_path / "other", steps=50, config=TinyConfig(hidden=4))
    other.fit()
    with pytest.raises(ValueError, match="give the run folder that trained it"):
        pretrained.record_curves(tmp_path / "other", "tiny-demo", root=root)
    short = tiny(tmp_path / "short", steps=20)
    short.fit()
    with pytest.raises(ValueError, match="reached step 20 .* shipped step 50"):
        pretrained.record_curves(tmp_path / "short", "tiny-demo", root=root)
    assert train.main(["--curves", str(tmp_path / "run")]) == 2     # which checkpoint? --publish NAME


def test_stepped_files_skip_names_that_are_not_steps(tmp_path):
    from course_lib.checkpoints import stepped_files

    for name in ("step_000500.png", "step_001000.png", "step_x.png", "step_000500.curves.png", "other.png"):
        (tmp_path / name).write_bytes(b"")
    assert stepped_files(tmp_path, ".png") == {500: tmp_path / "step_000500.png",
                                               1000: tmp_path / "step_001000.png"}
    assert stepped_files(tmp_path / "missing", ".png") == {}
