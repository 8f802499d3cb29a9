"""The course's training command.

    python -m course_lib.train MODEL --data WORLD_OR_FOLDER --config course|paper --out DIR [--resume]

``MODEL`` names a recipe (``python -m course_lib.train --list``). ``--data`` is
an embedded world (``faces``, ``landscapes``) or a folder of your own images.
Several GPUs or machines: start the same command with ``torchrun
--nproc_per_node N -m course_lib.train ...``. ``--publish NAME`` copies the
result into the shipped weights with its manifest entry, recording this exact
command so that anyone can reproduce the checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import platform
import shlex
import sys

import torch

from .runtime import device as default_device
from .trainer import Recipe, Trainer, init_distributed_from_env

__all__ = ["RECIPES", "get_recipe", "main"]

#: MODEL name -> "module:RecipeClass", imported on demand.
RECIPES: dict[str, str] = {
    "face-attributes": "course_lib.judges:FaceAttributesRecipe",
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(RECIPES))}")
    module, cls = RECIPES[name].split(":")
    return getattr(importlib.import_module(module), cls)()


def _hardware(dev: torch.device, world: int) -> str:
    if dev.type == "cuda":
        what = torch.cuda.get_device_name(dev)
    else:
        what = f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"
    return f"{world} × {what}" if world > 1 else what


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m course_lib.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", help="recipe name (see --list)")
    p.add_argument("--list", action="store_true", help="list the models and exit")
    p.add_argument("--data", help="faces, landscapes, or a folder of images")
    p.add_argument("--config", default="course", help="preset: course (CPU-sized) or paper")
    p.add_argument("--out", help="run folder: checkpoints, sample grids, exported weights")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--steps", type=int, help="override the preset's step count")
    p.add_argument("--batch-size", type=int, help="override the preset's (global) batch size")
    p.add_argument("--data-size", type=int, help="override how many world samples are generated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--publish", metavar="NAME", help="ship the result as checkpoint NAME")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list:
        print("\n".join(sorted(RECIPES)))
        return 0
    if not args.model or not args.data or not args.out:
        print("error: MODEL, --data and --out are required (see --help)", file=sys.stderr)
        return 2
    recipe = get_recipe(args.model)
    if args.config not in recipe.presets:
        raise SystemExit(f"error: model {args.model!r} has presets {sorted(recipe.presets)}, "
                         f"not {args.config!r}")
    config = recipe.presets[args.config]
    if args.data_size:
        config = dataclasses.replace(config, data_size=args.data_size)
    settings = dataclasses.replace(recipe.settings[args.config], seed=args.seed,
                                   progress=not args.no_progress)
    if args.steps:
        settings.steps = args.steps
    if args.batch_size:
        settings.batch_size = args.batch_size

    dev = default_device()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    init_distributed_from_env(dev)
    dataset = recipe.dataset(args.data, config)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    launcher = f"torchrun --nproc_per_node {world}" if world > 1 else "python"
    command = f"{launcher} -m course_lib.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    trainer = Trainer(recipe, config, dataset, settings, out=args.out, device=dev,
                      meta={"data": args.data, "command": command, "hardware": _hardware(dev, world)})
    if args.resume and trainer.resume():
        print(f"resumed from {trainer.checkpoint_path} at step {trainer.step}")
    trainer.fit()
    if trainer.rank == 0:
        path = trainer.export()
        print(f"exported {path} after {trainer.step} steps ({trainer.seconds:.0f} s)")
        if args.publish:
            from .pretrained import publish

            entry = publish(path, args.publish, command=command, data=args.data)
            print(f"published {args.publish}: {entry['file']} sha256 {entry['sha256'][:12]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main())
