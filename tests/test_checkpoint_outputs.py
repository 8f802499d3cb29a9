"""Every shipped checkpoint, run on fixed inputs, gives the outputs recorded in
``tests/data/checkpoint_outputs.json``, bit for bit: code can move between modules (the
architecture refactor did) without changing what a lecture shows.

The record holds, per checkpoint, the sha256 of its outputs' bytes (float32) and their sum.
Regenerate it only when a checkpoint is retrained or its code is meant to change:
``python tests/test_checkpoint_outputs.py --write``.
"""

import hashlib
import json
import sys
from pathlib import Path

import pytest
import torch

from course_lib import pretrained

RECORD = Path(__file__).parent / "data" / "checkpoint_outputs.json"


def _inputs(name: str, model: torch.nn.Module) -> list[torch.Tensor]:
    """Fixed inputs for the model of checkpoint ``name`` (its kind known from the manifest)."""
    g = torch.Generator().manual_seed(1234)
    config = model.config
    entry = pretrained.info(name)
    recipe = entry["recipe"]
    if recipe == "dcgan" and entry.get("module") != "discriminator":
        return [torch.randn(4, config.nz, generator=g)]
    if recipe == "stylegan":
        return [torch.randn(4, config.z_dim, generator=g)]
    size = config.image_size
    if recipe in ("spade", "spade-baseline"):
        from course_lib.data import landscapes

        _, labels, _ = landscapes(2, size=size, seed=1234)
        return [labels, torch.randn(2, config.z_dim, generator=g)]
    images = torch.rand(4, 3, size, size, generator=g) * 2 - 1
    if recipe == "glcic":
        mask = torch.zeros(4, 1, size, size)
        mask[:, :, size // 4: size // 2, size // 3: 2 * size // 3] = 1
        return [torch.cat([images * (1 - mask), mask], 1)]
    if recipe == "adain":        # the network's forward: a content batch and a style batch
        return [images, images.flip(0)]
    return [images]


def _outputs(name: str) -> list[torch.Tensor]:
    model = pretrained.load(name)
    args = _inputs(name, model)
    with torch.no_grad():
        if pretrained.info(name)["recipe"] == "stylegan":
            out = model(*args, noise_mode="const")
        else:
            out = model(*args)
    if isinstance(out, dict):
        out = [out[k] for k in sorted(out)]
    elif isinstance(out, (list, tuple)):
        out = list(out)
    else:
        out = [out]
    return [o.detach().float().contiguous() for o in out]


def fingerprint(name: str) -> dict:
    """sha256 of the outputs' float32 bytes, and their sum (to see how far a change moved them)."""
    outs = _outputs(name)
    h = hashlib.sha256()
    for o in outs:
        h.update(o.numpy().tobytes())
    return {"sha256": h.hexdigest(), "sum": float(sum(o.double().sum() for o in outs))}


@pytest.mark.parametrize("name", pretrained.available())
def test_checkpoint_outputs_are_unchanged(name):
    record = json.loads(RECORD.read_text())
    assert name in record, f"{name} has no recorded outputs; run this file with --write"
    got = fingerprint(name)
    assert got["sha256"] == record[name]["sha256"], (
        f"{name}: outputs changed (sum {got['sum']:.6f}, recorded {record[name]['sum']:.6f})")


if __name__ == "__main__" and "--write" in sys.argv:
    RECORD.write_text(json.dumps({n: fingerprint(n) for n in pretrained.available()}, indent=1) + "\n")
    print(f"wrote {RECORD}")
