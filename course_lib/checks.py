"""The course's one tensor convention, checked at every public function.

- images: ``N×3×H×W`` float in ``[-1, 1]``
- masks: ``N×1×H×W`` float, 1 marks the hole, 0 the known pixels
- label maps: ``N×H×W`` int64 class indices

Each checker returns its input unchanged, or raises ``ValueError`` naming what
was expected and what came, so callers write ``x = check_image(x)``.
"""

from __future__ import annotations

import numbers

import torch

__all__ = ["check_image", "check_mask", "check_labels", "describe",
           "check_int", "check_count", "check_size", "check_seed"]

_RANGE_SLACK = 1e-3  # float rounding, e.g. fp16 weights, may overshoot [-1, 1] slightly


def describe(x) -> str:
    """A short description of what arrived, for error messages."""
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"{type(x).__name__} of shape {tuple(shape)}"
    return f"{type(x).__name__}"


def check_int(value, name: str, minimum: int = 0, what: str = "int") -> int:
    """An integer (Python or NumPy, not bool) of at least ``minimum``, returned as ``int``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}: expected {what} ≥ {minimum}, got {value!r}")
    return int(value)


def check_count(n, name: str = "n") -> int:
    """A positive number of samples."""
    return check_int(n, name, 1, "a positive int (number of samples)")


def check_size(size, minimum: int, name: str = "size") -> int:
    """An image side length in pixels, at least ``minimum``."""
    return check_int(size, name, minimum, "an int (image side in pixels)")


def check_seed(seed, name: str = "seed") -> int:
    """A non-negative int seed."""
    return check_int(seed, name, 0, "a non-negative int")


def _tensor(x, name: str, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected {what} as a torch.Tensor, got {describe(x)}")
    return x


def check_image(x, name: str = "image", channels: int = 3) -> torch.Tensor:
    """An image batch: ``N×3×H×W`` float in [-1, 1]."""
    what = f"an image batch N×{channels}×H×W float in [-1, 1]"
    x = _tensor(x, name, what)
    if x.dim() != 4 or x.shape[1] != channels:
        hint = " (add a batch axis with x[None])" if x.dim() == 3 else ""
        raise ValueError(f"{name}: expected {what}, got {describe(x)}{hint}")
    if not x.is_floating_point():
        raise ValueError(f"{name}: expected {what}, got integer {describe(x)}"
                         " (convert uint8 images with course_lib.images.from_numpy)")
    if x.shape[0] == 0 or x.shape[2] == 0 or x.shape[3] == 0:
        raise ValueError(f"{name}: expected {what}, got an empty {describe(x)}")
    if x.numel():
        lo, hi = float(x.detach().min()), float(x.detach().max())  # no grad warning
        if lo != lo or hi != hi:
            raise ValueError(f"{name}: contains NaN")
        if lo < -1 - _RANGE_SLACK or hi > 1 + _RANGE_SLACK:
            raise ValueError(f"{name}: expected values in [-1, 1], got [{lo:.3g}, {hi:.3g}]"
                             " (images in [0, 1] need x * 2 - 1)")
    return x


def check_mask(m, name: str = "mask", like: torch.Tensor | None = None) -> torch.Tensor:
    """A hole mask: ``N×1×H×W`` float in [0, 1], 1 = hole; optionally matching ``like``."""
    what = "a mask N×1×H×W float with 1 marking the hole"
    m = _tensor(m, name, what)
    if m.dim() != 4 or m.shape[1] != 1:
        raise ValueError(f"{name}: expected {what}, got {describe(m)}")
    if not m.is_floating_point():
        raise ValueError(f"{name}: expected {what}, got {describe(m)} (use mask.float())")
    if m.numel():
        lo, hi = float(m.detach().min()), float(m.detach().max())
        if lo != lo or hi != hi:
            raise ValueError(f"{name}: contains NaN")
        if lo < 0 or hi > 1:
            raise ValueError(f"{name}: expected values in [0, 1], got [{lo:.3g}, {hi:.3g}]")
    if like is not None:
        if not isinstance(like, torch.Tensor) or like.dim() != 4:
            raise ValueError(f"{name}: the image to match must be N×C×H×W, got {describe(like)}")
        n, _, h, w = like.shape
        if m.shape[0] not in (1, n) or tuple(m.shape[2:]) != (h, w):
            raise ValueError(f"{name}: expected shape ({n} or 1)×1×{h}×{w} to match the image, "
                             f"got {describe(m)}")
    return m


def check_labels(y, name: str = "labels", num_classes: int | None = None) -> torch.Tensor:
    """A label-map batch: ``N×H×W`` int64 with values in ``[0, num_classes)``."""
    what = "a label map N×H×W int64"
    y = _tensor(y, name, what)
    if y.dim() != 3:
        hint = " (drop the channel axis with y[:, 0])" if y.dim() == 4 and y.shape[1] == 1 else ""
        raise ValueError(f"{name}: expected {what}, got {describe(y)}{hint}")
    if y.dtype != torch.int64:
        raise ValueError(f"{name}: expected {what}, got {describe(y)} (use labels.long())")
    if y.numel():
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or (num_classes is not None and hi >= num_classes):
            bound = f"[0, {num_classes})" if num_classes is not None else "≥ 0"
            raise ValueError(f"{name}: expected class indices in {bound}, got [{lo}, {hi}]")
    return y
