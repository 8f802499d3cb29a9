"""The course's shipped checkpoints: ``available()`` lists them, ``load(name)`` builds one.

Weights live in ``course_lib/weights/NAME.safetensors`` (fp16) beside
``manifest.json``, which records for each checkpoint its sha256, the recipe
and config that build it, the data it saw, its step count, the time it took
and the exact command that trained it (run that command to reproduce it).
Loading verifies the sha256 and never unpickles anything.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import torch
from torch import nn

from .checkpoints import atomic_write, load_weights, sha256
from .recipes import get_recipe

__all__ = ["WEIGHTS_DIR", "available", "info", "load", "publish", "check_publishable", "sha256"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST = "manifest.json"


def _manifest(root: Path) -> dict:
    path = root / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"the checkpoint manifest {str(path)!r} is not valid JSON: {err}") from err


def available(root: str | Path | None = None) -> list[str]:
    """Names of the shipped checkpoints."""
    return sorted(_manifest(Path(root) if root else WEIGHTS_DIR))


def info(name: str, root: str | Path | None = None) -> dict:
    """The manifest entry of checkpoint ``name`` (config, data, steps, command, ...)."""
    root = Path(root) if root else WEIGHTS_DIR
    entries = _manifest(root)
    if name not in entries:
        names = ", ".join(sorted(entries)) or "none"
        raise ValueError(f"unknown checkpoint {name!r}; available: {names}")
    return entries[name]


def load(name: str, device: torch.device | str = "cpu", root: str | Path | None = None) -> nn.Module:
    """Build checkpoint ``name``'s model, load its verified weights, return it in eval mode."""
    from safetensors.torch import load_file

    root = Path(root) if root else WEIGHTS_DIR
    entry = info(name, root)
    path = root / entry["file"]
    if not path.is_file():
        raise ValueError(f"checkpoint {name!r}: its file {str(path)!r} is missing; available "
                         f"checkpoints: {', '.join(available(root))}. Retrain it with: "
                         f"{entry.get('command', '?')}")
    digest = sha256(path)
    if digest != entry["sha256"]:
        raise ValueError(f"checkpoint {name!r}: {str(path)!r} has sha256 {digest[:12]}…, the manifest "
                         f"says {entry['sha256'][:12]}…; the file is damaged or was changed")
    recipe = get_recipe(entry["recipe"])
    config = recipe.config_class(**entry["config"])
    with torch.random.fork_rng(devices=[]):   # building draws initial weights: leave the caller's RNG be
        model = load_weights(recipe.build_module(config, entry.get("module")), load_file(str(path)))
    return model.to(device).eval()


def check_publishable(name: str, replace: bool = False, root: str | Path | None = None) -> None:
    """Raise unless ``name`` is a valid checkpoint name that is free (or ``replace`` is set)."""
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9.\-]*", name):
        raise ValueError(f"checkpoint names are lower-case letters, digits, '-' and '.', got {name!r}")
    if not replace and name in available(root):
        raise ValueError(f"checkpoint {name!r} is already shipped; pass --force to replace it")


def publish(exported: str | Path, name: str, command: str, data: str,
            root: str | Path | None = None, replace: bool = False) -> dict:
    """Copy a run's exported weights into the weights folder and record them in the manifest."""
    check_publishable(name, replace, root)
    exported = Path(exported)
    meta_path = exported.with_suffix(".json")
    if not exported.is_file() or not meta_path.is_file():
        raise ValueError(f"publish: expected {exported} and {meta_path} (written by Trainer.export)")
    root = Path(root) if root else WEIGHTS_DIR
    meta = json.loads(meta_path.read_text())
    target = atomic_write(root / f"{name}.safetensors", lambda tmp: shutil.copyfile(exported, tmp))
    entry = {
        "file": target.name,
        "sha256": sha256(target),
        "bytes": target.stat().st_size,
        "recipe": meta["recipe"],
        "config": meta["config"],
        "settings": meta["settings"],
        "data": data,
        "steps": meta["steps"],
        "train_seconds": meta["train_seconds"],
        "hardware": meta.get("hardware", ""),
        "command": command,
    }
    if meta.get("module"):            # trained with --ship MODULE: not the recipe's default module
        entry["module"] = meta["module"]
    entries = _manifest(root)
    entries[name] = entry
    text = json.dumps(entries, indent=2, sort_keys=True) + "\n"
    atomic_write(root / MANIFEST, lambda tmp: tmp.write_text(text))
    return entry
