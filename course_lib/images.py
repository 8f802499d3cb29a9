"""Image helpers in the course's one convention (see :mod:`course_lib.checks`).

Conversion to and from NumPy and PIL, loading a file at a given size, hole
masks, label-map colouring, and titled matplotlib figures (``show``, ``grid``).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .checks import check_image, check_int, check_labels, check_mask, describe

__all__ = [
    "from_numpy", "to_numpy", "from_pil", "to_pil", "load_image", "resize",
    "center_crop", "crop_resize", "rect_mask", "mean_fill", "colorize_labels",
    "tile", "png_bytes", "save_png", "show", "grid", "label_legend",
]


def from_numpy(arr) -> torch.Tensor:
    """``H×W×3`` or ``N×H×W×3`` (also ``H×W`` grey) uint8 or float in [0, 1] -> ``N×3×H×W`` in [-1, 1]."""
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"from_numpy: expected a numpy array, got {describe(arr)}")
    a = arr
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=-1)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[-1] not in (1, 3, 4):
        raise ValueError("from_numpy: expected H×W, H×W×3 or N×H×W×3 (channels last), "
                         f"got {describe(arr)}")
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    a = a[..., :3]  # drop alpha
    if a.dtype == np.uint8:
        x = a.astype(np.float32) / 127.5 - 1.0
    elif np.issubdtype(a.dtype, np.floating):
        lo, hi = float(a.min()), float(a.max())
        if lo < 0 or hi > 1:
            raise ValueError(f"from_numpy: float arrays must be in [0, 1], got [{lo:.3g}, {hi:.3g}]")
        x = a.astype(np.float32) * 2.0 - 1.0
    else:
        raise ValueError(f"from_numpy: expected uint8 or float values, got dtype {a.dtype}")
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """``N×3×H×W`` in [-1, 1] -> ``N×H×W×3`` uint8."""
    x = check_image(x, "to_numpy(x)")
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round()
    return x.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def from_pil(img) -> torch.Tensor:
    """A PIL image -> ``1×3×H×W`` in [-1, 1]."""
    if not isinstance(img, Image.Image):
        raise ValueError(f"from_pil: expected a PIL.Image, got {describe(img)}")
    return from_numpy(np.asarray(img.convert("RGB")))


def to_pil(x: torch.Tensor) -> Image.Image | list[Image.Image]:
    """``N×3×H×W`` in [-1, 1] -> one PIL image if N == 1, else a list."""
    arrs = to_numpy(x)
    imgs = [Image.fromarray(a) for a in arrs]
    return imgs[0] if len(imgs) == 1 else imgs


def resize(x: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Resize an image batch (antialiased bilinear) to ``size`` or ``(H, W)``."""
    x = check_image(x, "resize(x)")
    hw = _size_pair(size, "resize")
    return F.interpolate(x, size=hw, mode="bilinear", align_corners=False, antialias=True).clamp(-1, 1)


def _size_pair(size, who: str) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, tuple) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        raise ValueError(f"{who}: expected size as a positive int or (H, W), got {size!r}")
    return size


def load_image(path: str | Path, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """Load an image file as ``1×3×H×W`` in [-1, 1]; with ``size``, centre-cropped and resized."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"load_image: no such file {str(path)!r}")
    try:
        with Image.open(path) as img:
            x = from_pil(img.convert("RGB"))
    except OSError as err:
        raise ValueError(f"load_image: {str(path)!r} is not an image PIL can read ({err})") from err
    return x if size is None else crop_resize(x, size)


def center_crop(x: torch.Tensor, aspect: float = 1.0) -> torch.Tensor:
    """Crop the centre of an ``N×C×H×W`` tensor to width/height == ``aspect``."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"center_crop: expected an N×C×H×W tensor, got {describe(x)}")
    if not aspect > 0:
        raise ValueError(f"center_crop: expected a positive aspect ratio, got {aspect!r}")
    _, _, h, w = x.shape
    if w / h > aspect:
        new_w = max(1, round(h * aspect))
        left = (w - new_w) // 2
        return x[..., :, left:left + new_w]
    new_h = max(1, round(w / aspect))
    top = (h - new_h) // 2
    return x[..., top:top + new_h, :]


def crop_resize(x: torch.Tensor, size: int | tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Centre-crop an ``N×C×H×W`` tensor to the aspect of ``size``, then resize to it.

    ``mode="bilinear"`` (antialiased, for images) or ``"nearest"`` (for label maps
    given as ``N×1×H×W`` floats): the same crop keeps an image and its labels aligned.
    """
    h, w = _size_pair(size, "crop_resize")
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"crop_resize: mode must be 'bilinear' or 'nearest', got {mode!r}")
    x = center_crop(x, w / h)
    if tuple(x.shape[-2:]) == (h, w):
        return x
    if mode == "nearest":
        return F.interpolate(x, size=(h, w), mode="nearest")
    return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True).clamp(-1, 1)


def rect_mask(n: int, size: int | tuple[int, int], top: int, left: int,
              height: int, width: int) -> torch.Tensor:
    """An ``N×1×H×W`` mask with one rectangular hole (1 inside)."""
    h, w = _size_pair(size, "rect_mask")
    n, height, width = (check_int(v, f"rect_mask({k})", 1, "a positive int")
                        for k, v in (("n", n), ("height", height), ("width", width)))
    top, left = (check_int(v, f"rect_mask({k})", 0, "an int") for k, v in (("top", top), ("left", left)))
    if not (0 <= top and top + height <= h and 0 <= left and left + width <= w):
        raise ValueError(f"rect_mask: the rectangle top={top}, left={left}, {height}×{width} "
                         f"does not fit in {h}×{w}")
    m = torch.zeros(n, 1, h, w)
    m[:, :, top:top + height, left:left + width] = 1.0
    return m


def mean_fill(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The holes (``mask`` = 1) filled with each image's mean colour over its known pixels.

    The simplest hole filler (lecture 04's first baseline), and what GLCIC's completion network
    receives in its holes (:func:`course_lib.glcic.network_input`; the paper fills them with the
    training set's mean pixel, the course with each image's own mean)."""
    image = check_image(image, "mean_fill(image)")
    mask = check_mask(mask, "mean_fill(mask)", like=image)
    known = 1 - mask
    mean = (image * known).sum((2, 3), keepdim=True) / known.sum((2, 3), keepdim=True).clamp_min(1)
    return image * known + mean * mask


def colorize_labels(labels: torch.Tensor, palette: Sequence[Sequence[int]]) -> torch.Tensor:
    """Render a label map ``N×H×W`` with one RGB colour (0-255) per class -> ``N×3×H×W`` in [-1, 1]."""
    pal = torch.as_tensor(np.asarray(palette, dtype=np.float32))
    if pal.dim() != 2 or pal.shape[1] != 3:
        raise ValueError(f"colorize_labels: expected a palette of K RGB triples, got {describe(pal)}")
    labels = check_labels(labels, "colorize_labels(labels)", num_classes=pal.shape[0])
    rgb = pal[labels.cpu()] / 127.5 - 1.0  # N×H×W×3
    return rgb.permute(0, 3, 1, 2).contiguous()


def tile(images: torch.Tensor, nrow: int | None = None, pad: int = 2, scale: int = 1) -> np.ndarray:
    """Lay an ``N×3×H×W`` batch out as one uint8 ``H'×W'×3`` array, ``nrow`` images a row."""
    arrs = to_numpy(images)
    n, h, w, _ = arrs.shape
    ncol = n if nrow is None else nrow
    if not isinstance(ncol, int) or ncol < 1:
        raise ValueError(f"tile: expected nrow as a positive int, got {nrow!r}")
    rows = math.ceil(n / ncol)
    out = np.full((rows * (h + pad) - pad, min(n, ncol) * (w + pad) - pad, 3), 255, dtype=np.uint8)
    for i, a in enumerate(arrs):
        r, c = divmod(i, ncol)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = a
    if scale > 1:
        out = out.repeat(scale, axis=0).repeat(scale, axis=1)
    return out


def png_bytes(images: torch.Tensor, nrow: int | None = None, scale: int = 1) -> bytes:
    """PNG bytes of :func:`tile` (what an ``ipywidgets.Image`` shows)."""
    buf = io.BytesIO()
    Image.fromarray(tile(images, nrow=nrow, scale=scale)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def save_png(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> Path:
    """Write :func:`tile` of a batch to a PNG file and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(images, nrow=nrow))
    return path


# ----------------------------------------------------------------------------- figures

def _as_image_list(images) -> list[torch.Tensor]:
    if isinstance(images, torch.Tensor):
        return list(check_image(images, "images").detach().cpu())
    out = []
    for i, im in enumerate(images):
        if isinstance(im, torch.Tensor) and im.dim() == 3:
            im = im[None]
        out.extend(check_image(im, f"images[{i}]").detach().cpu())
    if not out:
        raise ValueError("expected at least one image, got an empty list")
    sizes = {tuple(im.shape[-2:]) for im in out}
    if len(sizes) > 1:
        raise ValueError(f"images of different sizes {sorted(sizes)}: resize them to one size first "
                         "(course_lib.images.resize)")
    return out


def grid(images, nrow: int | None = None, titles: Sequence[str] | None = None,
         title: str | None = None, row_labels: Sequence[str] | None = None,
         scale: float = 1.6):
    """Plot images in a grid and return the matplotlib Figure.

    ``images`` is an ``N×3×H×W`` batch or a list of such batches / single
    images. ``titles`` labels each panel, ``row_labels`` each row, ``title``
    the whole figure.
    """
    import matplotlib.pyplot as plt

    ims = _as_image_list(images)
    n = len(ims)
    ncol = nrow if nrow is not None else min(n, 8)
    if not isinstance(ncol, int) or ncol < 1:
        raise ValueError(f"grid: expected nrow (images per row) as a positive int, got {nrow!r}")
    rows = math.ceil(n / ncol)
    if titles is not None and len(titles) != n:
        raise ValueError(f"grid: got {len(titles)} titles for {n} images")
    if row_labels is not None and len(row_labels) != rows:
        raise ValueError(f"grid: got {len(row_labels)} row labels for {rows} rows")
    row_height = scale + (0.25 if titles is not None else 0.0)   # room for panel titles above each row
    fig, axes = plt.subplots(rows, ncol, figsize=(scale * ncol, row_height * rows + (0.4 if title else 0)),
                             squeeze=False)
    arrs = to_numpy(torch.stack(ims))
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.axis("off")
            continue
        ax.imshow(arrs[k], interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
        if row_labels is not None and k % ncol == 0:
            ax.set_ylabel(row_labels[k // ncol], fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show(images, titles: Sequence[str] | None = None, title: str | None = None, scale: float = 2.5):
    """Plot a few images side by side, each titled (before/after panels)."""
    ims = _as_image_list(images)
    return grid(torch.stack(ims), nrow=len(ims), titles=titles, title=title, scale=scale)


def label_legend(ax, names: Sequence[str], palette: Sequence[Sequence[int]], **kwargs):
    """Add a legend of class colours to a matplotlib axis."""
    from matplotlib.patches import Patch

    if len(names) != len(palette):
        raise ValueError(f"label_legend: {len(names)} names but {len(palette)} colours")
    handles = [Patch(color=np.asarray(c) / 255.0, label=nm) for nm, c in zip(names, palette)]
    kwargs.setdefault("fontsize", 7)
    kwargs.setdefault("loc", "center left")
    kwargs.setdefault("bbox_to_anchor", (1.0, 0.5))
    return ax.legend(handles=handles, **kwargs)
