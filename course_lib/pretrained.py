"""The course's shipped checkpoints: ``available()`` lists them, ``load(name)`` builds one.

Weights live in ``course_lib/weights/NAME.safetensors`` (fp16) beside
``manifest.json``, which records for each checkpoint its sha256, the recipe
and config that build it, the data it saw, its step count, the time it took
and the exact command that trained it (run that command to reproduce it).
Loading verifies the sha256 and never unpickles anything.

A checkpoint trained since the trainer records its curves also ships ``NAME.curves.json`` and
``NAME.samples.png`` (:mod:`course_lib.curves`), named in its entry as ``curves`` and
``samples``; :func:`show_training` shows them in a lecture, and :func:`record_curves` writes
them afterwards from the run folder of a checkpoint shipped without them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import torch
from torch import nn

from . import curves
from .checkpoints import atomic_write, load_checkpoint, load_weights, sha256
from .recipes import get_recipe

__all__ = ["WEIGHTS_DIR", "available", "info", "load", "publish", "check_publishable", "sha256",
           "record_curves", "show_training"]

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


def _write_manifest(root: Path, entries: dict) -> None:
    text = json.dumps(entries, indent=2, sort_keys=True) + "\n"
    atomic_write(root / MANIFEST, lambda tmp: tmp.write_text(text))


def _copy(source: Path, target: Path) -> Path:
    return atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))


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
    target = _copy(exported, root / f"{name}.safetensors")
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
    shipped = curves.companions(target)
    for kind, source in curves.companions(exported).items():
        if source.is_file():
            entry[kind] = _copy(source, shipped[kind]).name
        else:                         # a replaced checkpoint's, which would not match these weights
            shipped[kind].unlink(missing_ok=True)
    entries = _manifest(root)
    entries[name] = entry
    _write_manifest(root, entries)
    return entry


def record_curves(run: str | Path, name: str, root: str | Path | None = None) -> dict:
    """Write the curves of shipped checkpoint ``name`` from its run folder ``run`` (its
    ``last.pt`` history and ``samples/``), up to the step the checkpoint shipped, for a checkpoint
    published before the trainer recorded them; returns its updated manifest entry."""
    root = Path(root) if root else WEIGHTS_DIR
    run = Path(run)
    entry = info(name, root)
    ckpt = load_checkpoint(run / "last.pt")
    config = json.loads(ckpt["config_json"])
    if ckpt.get("recipe") != entry["recipe"] or config != entry["config"]:
        raise ValueError(f"record_curves: {str(run)!r} trained recipe {ckpt.get('recipe')!r} with config "
                         f"{config}, but checkpoint {name!r} is recipe {entry['recipe']!r} with config "
                         f"{entry['config']}; give the run folder that trained it")
    if int(ckpt["step"]) < entry["steps"] or len(ckpt["history"]) < entry["steps"]:
        raise ValueError(f"record_curves: {str(run)!r} reached step {ckpt['step']} (history of "
                         f"{len(ckpt['history'])} steps), but checkpoint {name!r} shipped step "
                         f"{entry['steps']}: its curves would stop short")
    written = curves.record(ckpt["history"], run / curves.SAMPLES, root / entry["file"],
                            steps=entry["steps"])
    entries = _manifest(root)
    entries[name] = {k: v for k, v in entry.items() if k not in curves.SUFFIXES}
    entries[name].update({kind: path.name for kind, path in written.items()})
    _write_manifest(root, entries)
    return entries[name]


def show_training(name: str, root: str | Path | None = None):
    """Plot shipped checkpoint ``name``'s training curves (its losses over the steps, and its
    samples over the steps) and return the Figure; for a checkpoint shipped without them, print
    which command retrains it, recording them, and return None."""
    root = Path(root) if root else WEIGHTS_DIR
    entry = info(name, root)
    if "curves" not in entry:
        print(f"{name}: no training curves were recorded for this checkpoint (it was trained before "
              f"the trainer recorded them). The command that trains it again, recording them:\n"
              f"    {entry['command']}")
        return None
    files = {kind: root / entry[kind] for kind in curves.SUFFIXES if kind in entry}
    for kind, path in files.items():
        if not path.is_file():
            raise ValueError(f"checkpoint {name!r}: its {kind} file {str(path)!r} is missing")
    return curves.plot(curves.load(files["curves"]), files.get("samples"), title=name)
