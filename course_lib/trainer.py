"""The one training loop of the course, for GANs and plain networks alike.

A model plugs in as a :class:`~course_lib.recipes.Recipe`: it builds its modules and
optimisers from a config and says what one step does. The :class:`Trainer` owns
everything else, once:

- the shipped checkpoints a recipe starts from (:meth:`Recipe.starts_from`), loaded
  and handed to its ``build``;
- batches: step ``s`` draws its batch indices from a generator seeded by
  ``(seed, s)``, and torch's global RNG is reseeded from ``(seed, s, rank)``
  before the step, so a run resumed from a checkpoint continues exactly as an
  uninterrupted one would;
- a ``tqdm.auto`` progress bar showing the losses (a widget in Jupyter, text
  elsewhere);
- sample grids every ``sample_every`` steps, written as PNG and handed to an
  optional callback (a notebook shows them);
- checkpoints every ``save_every`` steps, written atomically
  (:func:`atomic_save`), loaded with ``torch.load(weights_only=True)``;
- snapshots of the shipped module every ``keep_every`` steps, and an export that
  averages the last of them (:func:`average_states`);
- the learning-rate schedule ``lr_decay`` (:meth:`Trainer.set_lr`): every optimiser's rates
  fall linearly to zero between two absolute steps;
- the run's training curves, written beside every export (:func:`course_lib.curves.record`):
  the losses' window means and a strip of the sample grids up to that step;
- fast mode: the step count goes through :func:`course_lib.runtime.steps`;
- several processes with DistributedDataParallel when started by
  ``torchrun`` (each rank takes its slice of the global batch, so 2 ranks of
  batch 8 see the same data as 1 rank of batch 16).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset, default_collate

from . import curves, pretrained
from .checkpoints import (SNAPSHOTS, atomic_save, atomic_write, average_states, export_weights,
                          kept_snapshots, load_checkpoint, load_weights)
from .images import save_png
from .recipes import Recipe, TrainSettings
from .runtime import eval_mode
from .runtime import steps as scaled_steps

__all__ = ["Trainer", "init_distributed_from_env"]


# ----------------------------------------------------------------------------- the loop

def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_distributed_from_env(device: torch.device) -> tuple[int, int]:
    """Join the process group that ``torchrun`` describes in the environment, if any;
    return this process's ``(rank, world size)``."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not (dist.is_available() and dist.is_initialized()):
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return _dist_info()


class Trainer:
    """Train ``recipe`` with ``config`` on ``dataset``, writing into ``out`` (optional)."""

    def __init__(self, recipe: Recipe, config, dataset: Dataset, settings: TrainSettings,
                 out: str | Path | None = None, device: torch.device | str = "cpu",
                 on_samples: Callable[[int, torch.Tensor], None] | None = None,
                 meta: Mapping[str, Any] | None = None):
        if not isinstance(recipe, Recipe):
            raise ValueError(f"Trainer: expected a Recipe, got {type(recipe).__name__}")
        if not dataclasses.is_dataclass(config):
            raise ValueError(f"Trainer: expected a config dataclass, got {type(config).__name__}")
        if len(dataset) == 0:
            raise ValueError("Trainer: the dataset is empty")
        self.recipe, self.config, self.dataset, self.settings = recipe, config, dataset, settings
        self.out = Path(out) if out is not None else None
        self.device = torch.device(device)
        self.on_samples = on_samples
        self.meta = dict(meta or {})
        self.rank, self.world = _dist_info()
        if settings.batch_size % self.world:
            raise ValueError(f"Trainer: batch_size {settings.batch_size} must divide among "
                             f"{self.world} processes")
        if settings.lr_decay is not None and recipe.schedules_lr:
            raise ValueError(f"Trainer: recipe {recipe.name!r} sets its own learning rates each step "
                             "(its schedules_lr); lr_decay would be overwritten, so leave it out")
        started = {role: pretrained.load(name) for role, name in recipe.starts_from(config).items()}
        torch.manual_seed(settings.seed)  # weights are initialised identically on every rank
        self.modules = {k: m.to(self.device) for k, m in recipe.build(config, **started).items()}
        self.optimizers = recipe.optimizers(self.modules, config)
        #: each optimiser's learning rates as configured, which ``settings.lr_decay`` scales
        self.base_lrs = {k: [g["lr"] for g in o.param_groups] for k, o in self.optimizers.items()}
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.total_steps = scaled_steps(settings.steps)
        self.seconds = 0.0
        #: step -> the command that reproduces the snapshot of that step (set by the CLI)
        self.snapshot_command: Callable[[int], str] | None = None
        #: the module that :meth:`export` ships: None = the recipe's (``--ship`` sets another)
        self.ship: str | None = None

    # ---- checkpoints
    @property
    def checkpoint_path(self) -> Path | None:
        return None if self.out is None else self.out / "last.pt"

    def state_dict(self) -> dict:
        return {
            "recipe": self.recipe.name,
            "step": self.step,
            "seconds": self.seconds,
            "modules": {k: m.state_dict() for k, m in self.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "history": self.history,
            "config_json": json.dumps(dataclasses.asdict(self.config)),
            "settings_json": json.dumps(self._resume_settings()),
        }

    def _resume_settings(self) -> dict:
        """The settings an exact resume depends on (the step count may grow)."""
        return {k: v for k, v in dataclasses.asdict(self.settings).items()
                if k in ("batch_size", "seed")} | {"world": self.world}

    def save(self) -> Path | None:
        if self.checkpoint_path is None or self.rank != 0:
            return None
        return atomic_save(self.state_dict(), self.checkpoint_path)

    def resume(self, path: str | Path | None = None) -> bool:
        """Load the last checkpoint (``out/last.pt`` by default). False if there is none."""
        path = Path(path) if path is not None else self.checkpoint_path
        ckpt = load_checkpoint(path) if path is not None and path.is_file() else None
        if self.world > 1:  # every rank must resume from the same step, or the collectives hang
            mine = torch.tensor([-1 if ckpt is None else int(ckpt["step"])], device=self.device)
            steps = [torch.zeros_like(mine) for _ in range(self.world)]
            dist.all_gather(steps, mine)
            if len({int(t) for t in steps}) > 1:
                raise ValueError(f"resume: the processes found checkpoints at steps "
                                 f"{[int(t) for t in steps]} (-1: none); give every process the "
                                 "same --out on a shared disk")
        if ckpt is None:
            return False
        if ckpt.get("recipe") != self.recipe.name:
            raise ValueError(f"resume: {str(path)!r} was written by recipe {ckpt.get('recipe')!r}, "
                             f"not {self.recipe.name!r}")
        if json.loads(ckpt["config_json"]) != json.loads(json.dumps(dataclasses.asdict(self.config))):
            raise ValueError(f"resume: {str(path)!r} was trained with another config; "
                             "start a new --out folder or use the same config")
        saved = json.loads(ckpt.get("settings_json", "{}"))
        if saved != self._resume_settings():
            raise ValueError(f"resume: {str(path)!r} was trained with {saved}, this run has "
                             f"{self._resume_settings()}; an exact resume needs the same batch size, "
                             "seed and number of processes")
        for k, m in self.modules.items():
            m.load_state_dict(ckpt["modules"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(ckpt["optimizers"][k])
        self.step, self.history = int(ckpt["step"]), list(ckpt["history"])
        self.seconds = float(ckpt.get("seconds", 0.0))
        return True

    # ---- data
    def batch_for(self, step: int):
        """The slice of step ``step``'s global batch that this rank trains on."""
        g = torch.Generator().manual_seed(_stream_seed(self.settings.seed, step, "batch"))
        idx = torch.randint(len(self.dataset), (self.settings.batch_size,), generator=g)
        items = [self.dataset[int(i)] for i in idx[self.rank::self.world]]
        return _to(default_collate(items), self.device)

    # ---- loop
    def fit(self, stop_after: int | None = None,
            time_limit: float | None = None) -> list[dict[str, float]]:
        """Train up to the configured step count (or ``stop_after`` steps, to pause).

        ``time_limit`` (seconds of this call) stops early at the first step past it, saving a
        checkpoint; ``self.step`` then says how far it got."""
        if time_limit is not None and time_limit <= 0:
            raise ValueError(f"fit: time_limit must be positive seconds, got {time_limit}")
        began = time.perf_counter()
        from tqdm.auto import tqdm

        ddp = self._wrapped() if self.world > 1 else self.modules
        end = self.total_steps if stop_after is None else min(self.total_steps, stop_after)
        bar = tqdm(total=self.total_steps, initial=self.step, desc=self.recipe.name,
                   disable=not self.settings.progress or self.rank != 0, leave=True)
        for m in self.modules.values():
            m.train()
        while self.step < end:
            start = time.perf_counter()
            batch = self.batch_for(self.step)
            self.set_lr(self.step)
            torch.manual_seed(_stream_seed(self.settings.seed, self.step, "step", self.rank))
            losses = self.recipe.training_step(ddp, self.optimizers, batch, self.step, self.config)
            losses = {k: float(v) for k, v in losses.items()}
            self.history.append(losses)
            self.step += 1
            self.seconds += time.perf_counter() - start
            bar.update(1)
            bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
            if self.step % self.settings.sample_every == 0 or self.step == self.total_steps:
                self._sample(batch)
                if not self.settings.progress and self.rank == 0:  # a plain log line instead
                    print(f"step {self.step}/{self.total_steps} {self.seconds:.0f}s "
                          + " ".join(f"{k}={v:.4g}" for k, v in losses.items()), flush=True)
            out_of_time = time_limit is not None and time.perf_counter() - began > time_limit
            if time_limit is not None and self.world > 1:  # every rank stops at the same step
                flag = torch.tensor([float(out_of_time)], device=self.device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                out_of_time = bool(flag.item())
            if self.settings.keep_every and self.step % self.settings.keep_every == 0:
                self.keep()  # before the checkpoint: a run resumed from it never skips a snapshot
            if self.step % self.settings.save_every == 0 or self.step == end or out_of_time:
                self.save()
            if out_of_time:
                break
        bar.close()
        return self.history

    def set_lr(self, step: int) -> None:
        """Every learning rate at step ``step`` of the schedule (``settings.lr_decay``; none: the
        rates stay as the recipe's optimisers set them)."""
        if self.settings.lr_decay is None:
            return
        factor = self.settings.lr_factor(step)
        for k, o in self.optimizers.items():
            for group, base in zip(o.param_groups, self.base_lrs[k]):
                group["lr"] = base * factor

    def _wrapped(self) -> dict[str, nn.Module]:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if self.device.type == "cuda" else None
        return {k: DDP(m, device_ids=ids) if any(p.requires_grad for p in m.parameters()) else m
                for k, m in self.modules.items()}

    def _sample(self, batch) -> None:
        if self.rank != 0:
            return
        with eval_mode(*self.modules.values()), torch.no_grad():
            images = self.recipe.samples(self.modules, self.config, batch)
        if images is None:
            return
        images = images.detach().float().cpu().clamp(-1, 1)
        if self.out is not None:
            save_png(images, self.out / curves.SAMPLES / f"step_{self.step:06d}.png", nrow=8)
        if self.on_samples is not None:
            self.on_samples(self.step, images)

    def keep(self) -> Path | None:
        """Export a snapshot of this step to ``out/snapshots/step_NNNNNN.safetensors``; its meta
        records the command with ``--steps`` at this step (``snapshot_command``, when set), which
        reproduces it: nothing in a run depends on the step count it was asked for."""
        if self.out is None or self.rank != 0:
            return None
        command = self.snapshot_command(self.step) if self.snapshot_command else None
        return self.export(self.out / SNAPSHOTS / f"step_{self.step:06d}.safetensors", command=command)

    def averaged(self, first: int) -> tuple[nn.Module, list[int]]:
        """The shipped module with the mean weights of the snapshots from step ``first`` to now."""
        from safetensors.torch import load_file

        kept = {s: p for s, p in kept_snapshots(self.out).items() if first <= s <= self.step}
        if not kept:
            raise ValueError(f"export: no snapshots from step {first} to step {self.step} in "
                             f"{self.out}/snapshots to average (train with keep_every)")
        mean = average_states([load_file(str(p)) for p in kept.values()])
        return load_weights(self.recipe.build_module(self.config, self.ship), mean), sorted(kept)

    def export(self, path: str | Path | None = None, command: str | None = None,
               average_from: int | None = None) -> Path:
        """Write the shipped module as fp16 safetensors plus a ``meta.json`` and the run's curves up
        to this step (:func:`course_lib.curves.record`) beside it (``command``: the one recorded,
        in place of ``meta["command"]``; ``average_from``: ship the mean of the snapshots kept from
        that step on instead, see :func:`average_states`)."""
        if path is None:
            if self.out is None:
                raise ValueError("export: give a path, or construct the Trainer with out=")
            path = self.out / "model.safetensors"
        curves.companions(path)   # a path the curves can go beside, checked before anything is written
        if self.ship is None:
            module, extra = self.recipe.export(self.modules), {}
        elif self.ship in self.modules:
            module, extra = self.modules[self.ship], {"module": self.ship}
        else:
            raise ValueError(f"export: model {self.recipe.name!r} has modules {sorted(self.modules)}, "
                             f"not {self.ship!r}")
        if average_from is not None:
            module, extra["averaged_steps"] = self.averaged(average_from)
        path = export_weights(module, path)
        meta = dict(self.meta, **({"command": command} if command else {}), **extra,
                    recipe=self.recipe.name, steps=self.step,
                    train_seconds=round(self.seconds, 1), config=dataclasses.asdict(self.config),
                    settings=dataclasses.asdict(self.settings))
        text = json.dumps(meta, indent=2) + "\n"
        atomic_write(path.with_suffix(".json"), lambda tmp: tmp.write_text(text))
        curves.record(self.history, None if self.out is None else self.out / curves.SAMPLES, path,
                      steps=self.step)
        return path


def _stream_seed(seed: int, step: int, stream: str, rank: int = 0) -> int:
    """A seed for one random stream of one step: independent across streams, steps and ranks."""
    tag = {"batch": 1, "step": 2}[stream]
    return int(np.random.SeedSequence([seed, step, tag, rank]).generate_state(1, np.uint64)[0] >> 1)


def _to(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to(v, device) for v in batch)
    return batch
