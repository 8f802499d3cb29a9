"""Checkpoint files, written atomically and read without unpickling code.

- :func:`atomic_write`: every file of the course that must never be left half-written (a
  training checkpoint, shipped weights, the manifest, a grade) goes through it;
- training checkpoints (``last.pt``): :func:`atomic_save` and :func:`load_checkpoint`;
- shipped weights (fp16 safetensors): :func:`export_weights` and :func:`load_weights`;
- a run's snapshots: :func:`kept_snapshots` and :func:`average_states`;
- :func:`sha256` of a file, which the manifest records.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Mapping

import torch
from torch import nn

__all__ = ["atomic_write", "atomic_save", "load_checkpoint", "export_weights", "load_weights",
           "average_states", "kept_snapshots", "stepped_files", "sha256", "SNAPSHOTS"]


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic, so a crash mid-write leaves the previous file whole
    and no temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_save(obj, path: str | Path) -> Path:
    """``torch.save`` through :func:`atomic_write`."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            torch.save(obj, f)

    return atomic_write(path, write)


def load_checkpoint(path: str | Path) -> dict:
    """Load a training checkpoint without unpickling code (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"load_checkpoint: no checkpoint at {str(path)!r}")
    return torch.load(path, map_location="cpu", weights_only=True)


def export_weights(module: nn.Module, path: str | Path, dtype=torch.float16) -> Path:
    """Write a module's state dict as safetensors (floats cast to ``dtype``), atomically."""
    from safetensors.torch import save_file

    state = {k: (v.detach().to(dtype) if v.is_floating_point() else v.detach()).cpu().contiguous()
             for k, v in module.state_dict().items()}
    return atomic_write(path, lambda tmp: save_file(state, str(tmp)))


SNAPSHOTS = "snapshots"  # the folder of a run that Trainer.keep writes to


def stepped_files(folder: str | Path, suffix: str) -> dict[int, Path]:
    """The files ``folder/step_NNNNNN<suffix>`` a run wrote, by step, in step order; other names
    (``step_000500.curves.json`` beside ``step_000500.json``, a stray ``step_x.png``) are not steps."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    found = {}
    for p in folder.glob(f"step_*{suffix}"):
        number = p.name[len("step_"):-len(suffix)]
        if number.isdigit():
            found[int(number)] = p
    return dict(sorted(found.items()))


def kept_snapshots(out: str | Path | None) -> dict[int, Path]:
    """The snapshots a run folder holds (``Trainer.keep``), by step, in step order."""
    return {} if out is None else stepped_files(Path(out) / SNAPSHOTS, ".safetensors")


def load_weights(module: nn.Module, state: Mapping[str, torch.Tensor]) -> nn.Module:
    """Load ``state`` (fp16 from :func:`export_weights`, or any dtype) into ``module`` strictly,
    each tensor cast to the dtype of the module's own; the inverse of :func:`export_weights`."""
    own = module.state_dict()
    module.load_state_dict({k: v.to(own[k].dtype) if k in own else v for k, v in state.items()},
                           strict=True)
    return module


def average_states(states: list[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The mean of several snapshots' weights, in float32 (integer buffers: the last one's).

    Averaging the iterates (Polyak and Juditsky 1992) damps the swing that a GAN's generator
    makes from one step to the next; Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging
    in GAN Training", measure it for GANs. StyleGAN's ``G_ema`` is the running form of the same idea."""
    if not states:
        raise ValueError("average_states: no snapshots to average")
    keys = set(states[0])
    if any(set(s) != keys for s in states):
        raise ValueError("average_states: the snapshots hold different weights (another model?)")
    return {k: torch.stack([s[k].float() for s in states]).mean(0) if states[0][k].is_floating_point()
            else states[-1][k] for k in states[0]}
