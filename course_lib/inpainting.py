"""Filling holes: the classical baselines and the measures that compare hole fillers.

Baselines: :func:`mean_fill` (each image's mean colour) and :func:`biharmonic_fill`
(scikit-image's biharmonic inpainting, Damelin and Hoang 2018: the smoothest surface that
meets the hole's border). Measures, all restricted to the hole: :func:`hole_psnr`,
:func:`hole_ssim`, :func:`hole_label_accuracy` (does a judge read the right classes
there?) and :func:`hf_energy_ratio` (how much fine detail is there, relative to the real
image). :func:`compare_fillers` puts them in one table.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Mapping

import numpy as np
import torch

from .checks import check_image, check_labels, check_mask, describe

__all__ = ["mean_fill", "biharmonic_fill", "hole_psnr", "hole_ssim", "hole_label_accuracy",
           "laplacian_energy", "hf_energy_ratio", "compare_fillers", "format_table"]


def _pair(real: torch.Tensor, filled: torch.Tensor, mask: torch.Tensor, who: str):
    real, filled = check_image(real, f"{who}(real)"), check_image(filled, f"{who}(filled)")
    if real.shape != filled.shape:
        raise ValueError(f"{who}: real {tuple(real.shape)} and filled {describe(filled)} differ in shape")
    mask = check_mask(mask, f"{who}(mask)", like=real).expand(len(real), -1, -1, -1)
    return real.float().cpu(), filled.float().cpu(), (mask > 0.5).float().cpu()


def mean_fill(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The hole filled with each image's mean colour over its known pixels."""
    image = check_image(image, "mean_fill(image)")
    mask = check_mask(mask, "mean_fill(mask)", like=image)
    known = 1 - mask
    mean = (image * known).sum((2, 3), keepdim=True) / known.sum((2, 3), keepdim=True).clamp_min(1)
    return image * known + mean * mask


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


def hole_psnr(real: torch.Tensor, filled: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PSNR in dB inside each image's hole, on the [0, 1] scale: ``N`` values."""
    real, filled, mask = _pair(real, filled, mask, "hole_psnr")
    se = (((real - filled) / 2) ** 2 * mask).sum((1, 2, 3))
    mse = se / (3 * mask.sum((1, 2, 3))).clamp_min(1)
    return 10 * torch.log10(1 / mse.clamp_min(1e-10))


def hole_ssim(real: torch.Tensor, filled: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """SSIM (Wang et al. 2004, scikit-image's 7×7 window) averaged over each hole's pixels: ``N``."""
    from skimage.metrics import structural_similarity

    real, filled, mask = _pair(real, filled, mask, "hole_ssim")
    out = []
    for a, b, m in zip(real, filled, mask):
        _, full = structural_similarity(a.permute(1, 2, 0).numpy(), b.permute(1, 2, 0).numpy(),
                                        channel_axis=-1, data_range=2.0, full=True)
        hole = m[0].numpy() > 0.5
        out.append(float(full[hole].mean()) if hole.any() else float("nan"))
    return torch.tensor(out)


def hole_label_accuracy(segmenter, filled: torch.Tensor, labels: torch.Tensor,
                        mask: torch.Tensor) -> float:
    """The fraction of hole pixels where ``segmenter.predict(filled)`` gives the true label."""
    filled = check_image(filled, "hole_label_accuracy(filled)")
    labels = check_labels(labels, "hole_label_accuracy(labels)")
    mask = check_mask(mask, "hole_label_accuracy(mask)", like=filled).expand(len(filled), -1, -1, -1)
    hole = mask[:, 0].cpu() > 0.5
    predicted = segmenter.predict(filled).cpu()
    return float((predicted == labels.cpu())[hole].float().mean())


def laplacian_energy(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum of the squared 5-point Laplacian over the hole's pixels whose four neighbours are
    also in the hole (so the seam at the border is not counted), per image: ``N``."""
    images, _, mask = _pair(images, images, mask, "laplacian_energy")
    lap = (4 * images[..., 1:-1, 1:-1] - images[..., :-2, 1:-1] - images[..., 2:, 1:-1]
           - images[..., 1:-1, :-2] - images[..., 1:-1, 2:])
    m = mask[..., 1:-1, 1:-1] * mask[..., :-2, 1:-1] * mask[..., 2:, 1:-1] * mask[..., 1:-1, :-2] \
        * mask[..., 1:-1, 2:]
    return (lap ** 2 * m).sum((1, 2, 3))


def hf_energy_ratio(real: torch.Tensor, filled: torch.Tensor, mask: torch.Tensor) -> float:
    """The high-frequency (Laplacian) energy inside the holes of ``filled`` over that of ``real``,
    summed over the batch: 1 means as much fine detail as the real image, 0 a flat fill."""
    real, filled, mask = _pair(real, filled, mask, "hf_energy_ratio")
    return float(laplacian_energy(filled, mask).sum() / laplacian_energy(real, mask).sum().clamp_min(1e-12))


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


def format_table(rows: list[dict]) -> str:
    """The rows of :func:`compare_fillers` as a markdown table (show it with ``IPython.display.Markdown``)."""
    lines = ["| method | hole PSNR (dB) | hole SSIM | segmenter accuracy in holes | HF energy ratio "
             "| seconds |", "|---|---|---|---|---|---|"]
    for r in rows:
        psnr = "∞" if math.isinf(r["psnr"]) else f"{r['psnr']:.2f}"
        lines.append(f"| {r['method']} | {psnr} | {r['ssim']:.3f} | {r['label_acc']:.1%} | "
                     f"{r['hf_ratio']:.2f} | {r['seconds']:.2f} |")
    return "\n".join(lines)
