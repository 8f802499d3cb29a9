"""Lecture 02's widget: watching an inversion's descent (:func:`course_lib.inversion.invert`)."""

from __future__ import annotations

from typing import Sequence

import torch

from ..checks import check_count, check_image
from .core import image_widget, slider

__all__ = ["descent_widget"]


def descent_widget(targets: torch.Tensor, trajectory: Sequence[torch.Tensor], every: int):
    """A slider over the snapshots of an inversion: the targets on top, ``G(latent)`` at the chosen
    snapshot below. ``trajectory[k]`` holds the images at step ``k·every`` (as an ``invert``
    callback collects them), one per target."""
    targets = check_image(targets, "descent_widget(targets)")
    every = check_count(every, "descent_widget(every)")
    if not trajectory:
        raise ValueError("descent_widget: the trajectory is empty (collect images with invert's callback)")
    snapshots = [check_image(t, f"descent_widget(trajectory[{k}])") for k, t in enumerate(trajectory)]
    if any(t.shape != targets.shape for t in snapshots):
        raise ValueError("descent_widget: each snapshot must match the targets' shape "
                         f"{tuple(targets.shape)}")
    return image_widget(lambda snapshot: torch.cat([targets, snapshots[snapshot]]),
                        {"snapshot": slider(f"snapshot (every {every} steps)", 0, 0, len(snapshots) - 1)},
                        title="Targets (top) and G(z) during the inversion (bottom)", nrow=len(targets))
