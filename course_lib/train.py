"""The course's training command.

    python -m course_lib.train MODEL --data WORLD_OR_FOLDER --config course|paper --out DIR [--resume]

``MODEL`` names a recipe (``python -m course_lib.train --list``). ``--data`` is
an embedded world (``faces``, ``landscapes``) or a folder of your own images.
Several GPUs or machines: start the same command with ``torchrun
--nproc_per_node N -m course_lib.train ...``. ``--publish NAME`` copies the
result into the shipped weights with its manifest entry, recording this exact
command so that anyone can reproduce the checkpoint, and the run's training curves beside it.
``--curves RUN_DIR --publish NAME`` writes those curves afterwards, without training, for a
checkpoint NAME shipped before the trainer recorded them, from the run folder that trained it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from pathlib import Path

import torch

from . import curves, pretrained
from .recipes import RECIPES, get_recipe
from .results import machine
from .runtime import device as default_device
from .trainer import Trainer, init_distributed_from_env

__all__ = ["main"]


def _reproducing_command(argv: list[str], world: int = 1, steps: int | None = None,
                         snapshot: bool = False) -> str:
    """The command that reproduces this run: the same arguments without the ones that only say
    where the result goes or how this particular run was started (an exact resume changes nothing).
    ``steps``: the step count the run reached, recorded in place of a ``--time-limit``.
    ``snapshot``: the command for one snapshot, which is not an average."""
    dropped = ("--publish", "--time-limit") + (("--average-from",) if snapshot else ())
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in dropped or (steps is not None and arg == "--steps"):
            skip = True
        elif not (arg.startswith(tuple(a + "=" for a in dropped))
                  or (steps is not None and arg.startswith("--steps="))
                  or arg in ("--resume", "--force")):
            kept.append(arg)
    if steps is not None:
        kept += ["--steps", str(steps)]
    launcher = f"torchrun --nproc_per_node {world}" if world > 1 else "python"
    return f"{launcher} -m course_lib.train " + shlex.join(kept)


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
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop after this many seconds of training, save and export; the recorded "
                        "command then names the steps reached")
    p.add_argument("--batch-size", type=int, help="override the preset's (global) batch size")
    p.add_argument("--data-size", type=int, help="override how many world samples are generated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep-every", type=int, default=0, metavar="N",
                   help="also export a snapshot every N steps into OUT/snapshots, with the command "
                        "that reproduces it (to pick one after training)")
    p.add_argument("--lr-decay", type=int, nargs=2, metavar=("START", "END"),
                   help="let the learning rates fall linearly from their preset values at step START "
                        "to zero at step END; a GAN's late swings calm down as the steps shrink")
    p.add_argument("--average-from", type=int, metavar="STEP",
                   help="ship the mean weights of the snapshots kept from STEP to the last step "
                        "(needs --keep-every); a GAN's generator swings less averaged")
    p.add_argument("--publish", metavar="NAME", help="ship the result as checkpoint NAME")
    p.add_argument("--ship", metavar="MODULE",
                   help="export this module of the model instead of the one it ships by default "
                        "(a GAN's discriminator, say, to probe its features)")
    p.add_argument("--curves", metavar="RUN_DIR",
                   help="with --publish NAME and nothing else: write the training curves of the shipped "
                        "checkpoint NAME from the run folder that trained it (no training)")
    p.add_argument("--force", action="store_true",
                   help="train into a non-empty --out, and let --publish replace a shipped checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list:
        print("\n".join(sorted(RECIPES)))
        return 0
    if args.curves:
        if not args.publish or args.model or args.data or args.out:
            print("error: --curves RUN_DIR takes --publish NAME (the shipped checkpoint) and no "
                  "MODEL, --data or --out", file=sys.stderr)
            return 2
        entry = pretrained.record_curves(args.curves, args.publish)
        print(f"{args.publish}: curves of its {entry['steps']} steps written: "
              + ", ".join(entry[kind] for kind in curves.SUFFIXES if kind in entry))
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
        if "data_size" not in {f.name for f in dataclasses.fields(config)}:
            raise SystemExit(f"error: model {args.model!r} has no --data-size (its config sets "
                             "how much of each world it uses)")
        config = dataclasses.replace(config, data_size=args.data_size)
    settings = dataclasses.replace(recipe.settings[args.config], seed=args.seed,
                                   progress=not args.no_progress)
    if args.steps:
        settings.steps = args.steps
    if args.batch_size:
        settings.batch_size = args.batch_size
    if args.keep_every < 0:
        raise SystemExit(f"error: --keep-every must be 0 or a positive step count, not {args.keep_every}")
    settings.keep_every = args.keep_every
    if args.lr_decay is not None:   # TrainSettings checks the pair; the CLI words the error
        try:
            settings = dataclasses.replace(settings, lr_decay=tuple(args.lr_decay))
        except ValueError:
            raise SystemExit("error: --lr-decay START END needs 0 <= START < END, got "
                             f"{args.lr_decay[0]} {args.lr_decay[1]}") from None
    if args.average_from is not None and not (
            args.keep_every and 0 < args.average_from <= settings.steps):
        raise SystemExit("error: --average-from STEP needs --keep-every N and a STEP from 1 to the "
                         f"step count ({settings.steps}), got {args.average_from}")

    if args.publish:
        # fail now, not after hours of training
        pretrained.check_publishable(args.publish, replace=args.force)
    out = Path(args.out)
    if out.is_dir() and any(out.iterdir()) and not (args.resume or args.force):
        raise SystemExit(f"error: --out {out} is not empty; add --resume to continue that run, "
                         "or --force to train over it")

    dev = default_device()
    if int(os.environ.get("LOCAL_RANK", "-1")) >= 0 and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    _, world = init_distributed_from_env(dev)
    dataset = recipe.dataset(args.data, config)
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _reproducing_command(argv, world)
    trainer = Trainer(recipe, config, dataset, settings, out=out, device=dev,
                      meta={"data": args.data, "command": command, "hardware": machine(dev, world)})
    trainer.snapshot_command = lambda step: _reproducing_command(argv, world, steps=step, snapshot=True)
    if args.ship is not None and args.ship not in trainer.modules:   # fail now, not after training
        raise ValueError(f"--ship: model {args.model!r} has modules {sorted(trainer.modules)}, "
                         f"not {args.ship!r}")
    trainer.ship = args.ship
    if args.resume and trainer.resume():
        print(f"resumed from {trainer.checkpoint_path} at step {trainer.step}")
    trainer.fit(time_limit=args.time_limit)
    if trainer.step < trainer.total_steps:  # stopped by --time-limit: record the steps reached
        command = trainer.meta["command"] = _reproducing_command(argv, world, steps=trainer.step)
    if trainer.rank == 0:
        path = trainer.export(average_from=args.average_from)
        print(f"exported {path} after {trainer.step} steps ({trainer.seconds:.0f} s)")
        if args.publish:
            entry = pretrained.publish(path, args.publish, command=command, data=args.data,
                            replace=args.force)
            print(f"published {args.publish}: {entry['file']} sha256 {entry['sha256'][:12]}…")
    if trainer.world > 1:  # leave together: a rank that exits early can abort its peers
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
