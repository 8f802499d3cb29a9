"""Where the course runs: device choice, seeding, fast mode, and evaluation mode.

Fast mode is one switch. ``COURSE_FAST=1`` (the tests set it) makes
:func:`steps` shrink every training and optimisation loop in the course, so a
notebook that trains for 2,000 steps in full mode runs a handful of them when
tested. Loops never test ``FAST`` themselves; they ask ``steps(full)``.
"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

from .checks import check_int, check_seed

__all__ = ["FAST", "fast_mode", "steps", "device", "seed_everything", "eval_mode"]

_TRUE = {"1", "true", "yes", "on"}


def fast_mode() -> bool:
    """True when ``COURSE_FAST`` is set to 1/true/yes/on (read at call time)."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in _TRUE


#: Fast mode as it was when the course was imported. Loops should call :func:`steps`.
FAST: bool = fast_mode()


def steps(full: int, fast: int | None = None) -> int:
    """The number of iterations a loop should run.

    ``full`` is the count for real results. In fast mode the loop runs ``fast``
    iterations, by default a fiftieth of ``full`` and at least 2, so that every
    code path (including "every k steps" branches with small k) still runs.
    """
    full = check_int(full, "steps(full)", 1, "a positive int")
    if fast is not None:
        fast = check_int(fast, "steps(fast=...)", 1, "a positive int or None")
    if not fast_mode():
        return full
    return min(full, fast if fast is not None else max(2, full // 50))


def device() -> torch.device:
    """The best device here: ``COURSE_DEVICE`` if set, else cuda, then mps, then cpu."""
    wanted = os.environ.get("COURSE_DEVICE", "").strip()
    if wanted:
        try:
            dev = torch.device(wanted)
        except RuntimeError as err:
            raise ValueError(
                f"COURSE_DEVICE={wanted!r} is not a torch device (try cpu, cuda, cuda:1, mps)"
            ) from err
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"COURSE_DEVICE={wanted!r} but torch sees no CUDA device")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"COURSE_DEVICE={wanted!r} but torch sees no MPS device")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU generator seeded the same."""
    seed = check_seed(seed, "seed_everything(seed)")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def eval_mode(*modules: torch.nn.Module, frozen: bool = False):
    """Run the ``with`` block with ``modules`` in eval mode (batch norm uses its running
    statistics) and, with ``frozen``, without gradients for their parameters; each module's
    training flag and each parameter's ``requires_grad`` are restored afterwards, even on error."""
    flags = [m.training for m in modules]
    grads = {p: p.requires_grad for m in modules for p in m.parameters()} if frozen else {}
    try:
        for m in modules:
            m.eval()
        for p in grads:
            p.requires_grad_(False)
        yield modules[0] if len(modules) == 1 else modules
    finally:
        for p, flag in grads.items():
            p.requires_grad_(flag)
        for m, flag in zip(modules, flags):
            m.train(flag)
