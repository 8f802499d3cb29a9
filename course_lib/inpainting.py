"""Filling holes: the classical baselines, and a comparison of hole fillers.

Baselines: :func:`mean_fill` (each image's mean colour, :func:`course_lib.images.mean_fill`) and
:func:`biharmonic_fill` (scikit-image's biharmonic inpainting, Damelin and Hoang 2018: the
smoothest surface that meets the hole's border). :func:`compare_fillers` measures any set of
fillers in the holes with :mod:`course_lib.metrics` (PSNR, SSIM, a segmenter's accuracy, fine
detail) and returns one row per filler, for a DataFrame.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Mapping

import numpy as np
import torch

from .checks import check_image, check_mask
from .images import mean_fill
from .metrics import hf_energy_ratio, hole_label_accuracy, hole_psnr, hole_ssim

__all__ = ["mean_fill", "biharmonic_fill", "compare_fillers"]


def _biharmonic_one(args) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    image, hole = args
    return inpaint_biharmonic(image, hole, channel_axis=-1)


def biharmonic_fill(image: torch.Tensor, mask: torch.Tensor, processes: int = 1) -> torch.Tensor:
    """scikit-image's biharmonic inpainting of every image (``processes`` > 1: in parallel)."""
    image = check_image(image, "biharmonic_fill(image)")
    mask = check_mask(mask, "biharmonic_fill(mask)", like=image).expand(len(image), -1, -1, -1)
    work = [(((x.permute(1, 2, 0).double().cpu().numpy()) + 1) / 2, m[0].cpu().numpy() > 0.5)
            for x, m in zip(image, mask)]
    if processes > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(processes) as pool:
            out = pool.map(_biharmonic_one, work)
    else:
        out = [_biharmonic_one(w) for w in work]
    filled = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() * 2 - 1
    return filled.clamp(-1, 1).to(image.device)


def compare_fillers(fillers: Mapping[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]],
                    images: torch.Tensor, labels: torch.Tensor, masks: torch.Tensor,
                    segmenter) -> list[dict]:
    """Run each ``fillers[name](images, masks)`` and measure it in the holes.

    Returns one row per filler (and a first row ``real``, the images themselves): ``method``,
    ``psnr`` and ``ssim`` (means over the images), ``label_acc`` (the segmenter's accuracy in
    the holes against ``labels``), ``hf_ratio`` and ``seconds`` (for the whole batch).
    """
    images = check_image(images, "compare_fillers(images)")
    rows = [{"method": "real", "psnr": math.inf, "ssim": 1.0,
             "label_acc": hole_label_accuracy(segmenter, images, labels, masks), "hf_ratio": 1.0,
             "seconds": 0.0}]
    for name, fill in fillers.items():
        start = time.perf_counter()
        filled = fill(images, masks)
        seconds = time.perf_counter() - start
        rows.append({"method": name, "psnr": float(hole_psnr(images, filled, masks).mean()),
                     "ssim": float(hole_ssim(images, filled, masks).mean()),
                     "label_acc": hole_label_accuracy(segmenter, filled, labels, masks),
                     "hf_ratio": hf_energy_ratio(images, filled, masks), "seconds": seconds})
    return rows
