"""Lecture 04's widget: cut a hole anywhere and watch GLCIC fill it (:func:`course_lib.glcic.complete`)."""

from __future__ import annotations

import torch

from ..checks import check_image
from ..glcic import CompletionNetwork, complete
from ..images import rect_mask
from .core import image_widget, slider

__all__ = ["hole_widget", "holed_and_completed"]


def holed_and_completed(model: CompletionNetwork, image: torch.Tensor, top: int, left: int, height: int,
                        width: int, blend: bool = True) -> torch.Tensor:
    """What :func:`hole_widget` draws for one rectangle: the image with the hole in white, and its
    completion (the rectangle is cut to the image; one that left it is no hole)."""
    image = check_image(image, "hole_widget(image)")[:1]
    h, w = image.shape[-2:]
    height, width = min(height, h - top), min(width, w - left)
    if height < 1 or width < 1:
        return torch.cat([image, image])
    mask = rect_mask(1, (h, w), top, left, height, width)
    return torch.cat([image * (1 - mask) + mask, complete(model, image, mask, blend=blend)])


def hole_widget(model: CompletionNetwork, image: torch.Tensor, blend: bool = True):
    """Rectangle sliders (``top``, ``left``, ``height``, ``width``) over one image: shows the image
    with its hole, and its completion, redrawn when a slider is released (a completion takes
    longer than a drag's frame)."""
    image = check_image(image, "hole_widget(image)")[:1]
    h, w = image.shape[-2:]
    controls = {"top": slider("top", h // 3, 0, h - 1, continuous=False),
                "left": slider("left", w // 3, 0, w - 1, continuous=False),
                "height": slider("height", h // 3, 1, h, continuous=False),
                "width": slider("width", w // 3, 1, w, continuous=False)}
    return image_widget(lambda **r: holed_and_completed(model, image, **r, blend=blend), controls,
                        title="Drag the sliders: the hole (white) and GLCIC's completion"
                        + (" with Poisson blending" if blend else ""))
