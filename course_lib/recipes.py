"""Recipes: what a model contributes to training, and the registry of them by name.

A model module subclasses :class:`Recipe` beside its model and registers it with
:func:`register`; the training command (``python -m course_lib.train MODEL``) and
:func:`course_lib.pretrained.load` find it by name with :func:`get_recipe`. The package's
``__init__`` imports every model module, so the registry is complete whenever ``course_lib``
is imported.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import torch
from torch import nn
from torch.utils.data import Dataset

from .data.datasets import WORLDS, open_dataset

__all__ = ["Recipe", "TrainSettings", "RECIPES", "register", "get_recipe"]


class Recipe:
    """What a model contributes to training. Subclass it next to the model.

    Attributes: ``name`` (the CLI's MODEL), ``config_class`` (a dataclass) and
    ``presets`` (``{"course": config, "paper": config}``).
    """

    name: str = ""
    config_class: type = object
    presets: Mapping[str, Any] = {}
    #: which module :meth:`export` returns by default (the one a checkpoint ships)
    export_module: str = "model"
    #: TrainSettings per preset name
    settings: Mapping[str, "TrainSettings"] = {}
    #: the data a recipe trains on: worlds by name, "folder" for an image folder of your own
    accepts: tuple[str, ...] = ()
    #: Adam's betas in the default :meth:`optimizers` (GANs use ``(0.5, 0.999)``, after DCGAN)
    betas: tuple[float, float] = (0.9, 0.999)
    #: True when :meth:`training_step` sets its own learning rates (its paper's schedule): the
    #: trainer's ``lr_decay`` would be overwritten, so the trainer refuses it
    schedules_lr: bool = False

    def dataset(self, spec: str, config) -> Dataset:
        """The training set for ``--data spec``: ``config.data_size`` items of a world (or a
        folder's images) at ``config.image_size``."""
        kind = spec if spec in WORLDS else "folder"
        if kind not in self.accepts:
            raise ValueError(f"model {self.name!r} trains on {', '.join(self.accepts)}, "
                             f"not {spec!r}")
        return open_dataset(spec, size=config.image_size, n=config.data_size)

    def starts_from(self, config) -> dict[str, str]:
        """The shipped checkpoints this training starts from, ``{role: checkpoint name}``: the
        :class:`~course_lib.trainer.Trainer` loads each (:func:`course_lib.pretrained.load`) and
        passes it to :meth:`build` as the keyword ``role``. None by default."""
        return {}

    def build(self, config, **started: nn.Module) -> dict[str, nn.Module]:
        """The modules to train (and any frozen ones the step needs), by name; ``started`` holds
        the loaded checkpoints that :meth:`starts_from` names."""
        raise NotImplementedError

    def adam(self, params, lr: float, betas: tuple[float, float] | None = None) -> torch.optim.Adam:
        """Adam over ``params`` with this recipe's :attr:`betas` (or ``betas``, derived from them):
        the one place an optimiser of the course gets its betas."""
        return torch.optim.Adam(params, lr=lr, betas=self.betas if betas is None else betas)

    def optimizers(self, modules: dict[str, nn.Module], config) -> dict[str, torch.optim.Optimizer]:
        """One Adam per module, learning rate ``config.lr``, betas :attr:`betas`. Override it
        when modules share an optimiser, stay frozen, or need their own settings."""
        return {k: self.adam(m.parameters(), config.lr) for k, m in modules.items()}

    def training_step(self, modules: dict[str, nn.Module], optimizers, batch, step: int,
                      config) -> dict[str, float]:
        """Do one optimisation step on ``batch``; return the losses to display."""
        raise NotImplementedError

    def samples(self, modules: dict[str, nn.Module], config, batch) -> torch.Tensor | None:
        """An image batch to save as a sample grid (``None`` for no grid)."""
        return None

    def export(self, modules: dict[str, nn.Module]) -> nn.Module:
        return modules[self.export_module]

    def build_export(self, config) -> nn.Module:
        """The shipped module alone, freshly built (for loading checkpoints)."""
        return self.build(config)[self.export_module]

    def build_module(self, config, module: str | None = None) -> nn.Module:
        """A freshly built module to load a checkpoint into: the shipped one (``module`` None or
        :attr:`export_module`), or another of :meth:`build`'s modules that a run shipped with
        ``--ship MODULE`` (a GAN's discriminator, say). Only recipes whose :meth:`build` starts
        from no shipped checkpoint can ship another module."""
        if module is None or module == self.export_module:
            return self.build_export(config)
        if self.starts_from(config):
            raise ValueError(f"model {self.name!r} starts from shipped checkpoints; it can ship only "
                             f"its {self.export_module!r}, not {module!r}")
        modules = self.build(config)
        if module not in modules:
            raise ValueError(f"model {self.name!r} has modules {sorted(modules)}, not {module!r}")
        return modules[module]


@dataclasses.dataclass
class TrainSettings:
    """Loop settings shared by every model (a recipe's config holds the rest)."""

    steps: int = 1000
    batch_size: int = 64
    seed: int = 0
    sample_every: int = 200
    save_every: int = 200
    #: every this many steps, also export the shipped module to ``out/snapshots/step_NNNNNN``
    #: (0: never). GAN measures swing from one step to the next; snapshots let a run be judged,
    #: and one picked, on held-aside data after training.
    keep_every: int = 0
    #: ``(start, end)``: the learning rates fall linearly from their configured values at step
    #: ``start`` to zero at step ``end`` (and stay there); ``None``: constant. Absolute steps, so a
    #: run's schedule never depends on the step count it was asked for.
    lr_decay: tuple[int, int] | None = None
    progress: bool = True

    def lr_factor(self, step: int) -> float:
        """What the configured learning rates are multiplied by at step ``step``."""
        if self.lr_decay is None:
            return 1.0
        start, end = self.lr_decay
        return min(1.0, max(0.0, (end - step) / (end - start)))

    def __post_init__(self):
        if self.lr_decay is not None:
            ok = (isinstance(self.lr_decay, (tuple, list)) and len(self.lr_decay) == 2
                  and all(isinstance(s, int) and not isinstance(s, bool) for s in self.lr_decay)
                  and 0 <= self.lr_decay[0] < self.lr_decay[1])
            if not ok:
                raise ValueError(f"TrainSettings: lr_decay must be (start, end) steps with "
                                 f"0 <= start < end, got {self.lr_decay!r}")
            self.lr_decay = tuple(self.lr_decay)


#: MODEL name -> its Recipe class, filled by :func:`register`
RECIPES: dict[str, type[Recipe]] = {}


def register(cls: type[Recipe]) -> type[Recipe]:
    """Class decorator: make ``cls`` available under ``cls.name`` to the training command and
    to :func:`course_lib.pretrained.load`."""
    if not (isinstance(cls, type) and issubclass(cls, Recipe)) or not cls.name:
        raise ValueError(f"register: expected a Recipe subclass with a name, got {cls!r}")
    if RECIPES.get(cls.name, cls) is not cls:
        raise ValueError(f"register: the model name {cls.name!r} is taken by {RECIPES[cls.name].__name__}")
    RECIPES[cls.name] = cls
    return cls


def get_recipe(name: str) -> Recipe:
    """A fresh recipe of model ``name``."""
    if name not in RECIPES:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]()
