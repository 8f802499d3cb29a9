"""Procedural drawing helpers shared by the data worlds (faces, landscapes).

Three small toolkits, each written once:

- **Per-sample randomness.** :func:`sample_rngs` gives one NumPy generator per
  sample, seeded by ``(stream, seed, index)``. Sample ``i`` therefore depends only
  on the seed and its index: ``faces(10, seed=3)`` equals the first ten of
  ``faces(1000, seed=3)``.
- **Smooth value noise.** Random values on a coarse lattice, interpolated with
  cubic B-spline weights. Interpolation is a pair of small matrix products
  (``rows @ lattice @ cols.T``), so noise is cheap, smooth and resolution
  independent: the lattice is fixed in image units, the output size is free.
- **Anti-aliased shapes.** Shapes are signed distance functions (SDFs: negative
  inside, positive outside, in image units). :func:`coverage` turns a distance
  into a pixel coverage in [0, 1] with a one-pixel soft edge, which anti-aliases
  without supersampling (Inigo Quilez's SDF notes, iquilezles.org).

Everything here works on torch tensors that broadcast: shape parameters may be
Python floats or ``N×1×1`` tensors (one value per sample) against ``H×W`` or
``N×H×W`` coordinate grids.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "sample_rngs", "grid",
    "value_noise", "fbm", "fbm_1d", "box_blur",
    "coverage", "sdf_circle", "sdf_ellipse", "sdf_box", "sdf_segment", "sdf_curve",
    "paint", "smoothstep",
]


def sample_rngs(stream: int, seed: int, n: int, start: int = 0) -> list[np.random.Generator]:
    """One generator per sample, seeded by ``(stream, seed, index)``.

    ``stream`` separates independent uses (face geometry, landscape layout,
    landscape rendering) so that they never share random numbers.
    """
    return [np.random.default_rng([stream, seed, i]) for i in range(start, start + n)]


def grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates ``(x, y)`` in [0, 1], each of shape ``size×size``."""
    t = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    return t.view(1, -1).expand(size, size), t.view(-1, 1).expand(size, size)


# --------------------------------------------------------------------------- noise

@functools.lru_cache(maxsize=64)
def _bspline_weights(n_out: int, cells: int) -> torch.Tensor:
    """``n_out × (cells+3)`` cubic B-spline weights from a lattice to pixel centres."""
    t = (np.arange(n_out) + 0.5) / n_out * cells      # position in lattice units
    k = np.floor(t).astype(int)
    f = t - k
    w = np.stack([(1 - f) ** 3 / 6,
                  (3 * f**3 - 6 * f**2 + 4) / 6,
                  (-3 * f**3 + 3 * f**2 + 3 * f + 1) / 6,
                  f**3 / 6], axis=1)
    m = np.zeros((n_out, cells + 3), dtype=np.float32)
    for j in range(4):
        m[np.arange(n_out), k + j] = w[:, j]
    return torch.from_numpy(m)


def value_noise(rngs, height: int, width: int, cells_y: int, cells_x: int) -> torch.Tensor:
    """Smooth noise in about [0, 1], one ``height×width`` field per generator: ``N×H×W``.

    ``cells_y × cells_x`` is the lattice over the whole image, so the features
    have the same size in image units at any resolution.
    """
    lattice = torch.from_numpy(np.stack(
        [r.random((cells_y + 3, cells_x + 3), dtype=np.float32) for r in rngs]))
    rows, cols = _bspline_weights(height, cells_y), _bspline_weights(width, cells_x)
    # B-splines shrink the spread of the lattice values; stretch back around 0.5.
    return ((rows @ lattice @ cols.T) - 0.5) * 1.9 + 0.5


def fbm(rngs, size: int, cells: int, octaves: int = 3, aspect: float = 1.0,
        gain: float = 0.5) -> torch.Tensor:
    """Fractal (multi-octave) noise, zero mean, roughly in [-1, 1]: ``N×size×size``.

    Octave ``k`` has ``cells·2^k`` lattice cells across and weight ``gain^k``.
    ``aspect > 1`` stretches features horizontally (ripples, streaks).
    """
    total, norm = 0.0, 0.0
    for k in range(octaves):
        c = cells * 2**k
        cx = max(1, round(c / aspect))
        total = total + gain**k * (value_noise(rngs, size, size, c, cx) - 0.5)
        norm += gain**k
    return total * (2.0 / norm)


def fbm_1d(rng: np.random.Generator, size: int, cells: int, octaves: int = 4,
           gain: float = 0.5) -> torch.Tensor:
    """1-D fractal noise at ``size`` pixel centres (ridge lines, shorelines), about [-1, 1]."""
    total, norm = torch.zeros(size), 0.0
    for k in range(octaves):
        c = cells * 2**k
        lattice = torch.from_numpy(rng.random(c + 3, dtype=np.float32))
        total = total + gain**k * (_bspline_weights(size, c) @ lattice - 0.5)
        norm += gain**k
    return total * (2.0 * 1.9 / norm)


def box_blur(x: torch.Tensor, k: int) -> torch.Tensor:
    """Mean over a ``k×k`` window (``k`` odd) of ``N×C×H×W``, edges replicated.

    Separable, and each pass is a running sum (cumsum, then a difference),
    which on a CPU is several times faster than ``avg_pool2d``.
    """
    p = k // 2
    for dim in (-1, -2):
        pad = (p, p, 0, 0) if dim == -1 else (0, 0, p, p)
        total = F.pad(x, pad, mode="replicate").cumsum(dim)
        total = torch.cat([torch.zeros_like(total.narrow(dim, 0, 1)), total], dim)
        n = total.shape[dim] - k
        x = (total.narrow(dim, k, n) - total.narrow(dim, 0, n)) / k
    return x


# --------------------------------------------------------------------------- shapes

def smoothstep(edge0, edge1, x: torch.Tensor) -> torch.Tensor:
    """0 below ``edge0``, 1 above ``edge1``, a smooth S-curve between."""
    t = ((x - edge0) / (edge1 - edge0)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def coverage(sdf: torch.Tensor, pixel) -> torch.Tensor:
    """Pixel coverage of a shape from its signed distance: a one-pixel-wide soft edge."""
    return (0.5 - sdf / pixel).clamp(0, 1)


def sdf_circle(x, y, cx, cy, r) -> torch.Tensor:
    return torch.sqrt((x - cx) ** 2 + (y - cy) ** 2) - r


def sdf_ellipse(x, y, cx, cy, rx, ry) -> torch.Tensor:
    """Approximate signed distance to an axis-aligned ellipse (exact on the axes)."""
    px, py = x - cx, y - cy
    k1 = torch.sqrt((px / rx) ** 2 + (py / ry) ** 2)
    k2 = torch.sqrt((px / rx**2) ** 2 + (py / ry**2) ** 2)
    return k1 * (k1 - 1) / (k2 + 1e-6)


def sdf_box(x, y, cx, cy, hx, hy, radius=0.0) -> torch.Tensor:
    """Signed distance to a box of half-sizes ``hx, hy`` with corners rounded by ``radius``."""
    qx = (x - cx).abs() - hx + radius
    qy = (y - cy).abs() - hy + radius
    outside = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2)
    inside = torch.maximum(qx, qy).clamp(max=0)
    return outside + inside - radius


def sdf_segment(x, y, ax, ay, bx, by) -> torch.Tensor:
    """Distance to the segment from ``a`` to ``b`` (subtract half a width for a stroke)."""
    pax, pay, bax, bay = x - ax, y - ay, bx - ax, by - ay
    h = ((pax * bax + pay * bay) / (bax * bax + bay * bay + 1e-12)).clamp(0, 1)
    return torch.sqrt((pax - bax * h) ** 2 + (pay - bay * h) ** 2)


def sdf_curve(x, y, cx, cy, half_width, bend) -> torch.Tensor:
    """Distance to the parabolic arc ``y = cy + bend·(1 - ((x-cx)/half_width)²)``.

    The arc runs from ``cx - half_width`` to ``cx + half_width`` with its ends at
    ``cy``. With y pointing down, ``bend > 0`` sags in the middle (a smile, a
    closed eye), ``bend < 0`` bulges up (a frown). Inside the span the distance is
    the vertical gap divided by the slope's stretch; beyond, the distance to the end.
    """
    px = x - cx
    xc = torch.maximum(torch.minimum(px, half_width + 0 * px), -half_width + 0 * px)
    yc = cy + bend * (1 - (xc / half_width) ** 2)
    slope = -2 * bend * xc / half_width**2
    along = (y - yc).abs() / torch.sqrt(1 + slope**2)
    beyond = torch.sqrt((px - xc) ** 2 + (y - yc) ** 2)
    return torch.where(px.abs() <= half_width, along, beyond)


def paint(canvas: torch.Tensor, colour, alpha: torch.Tensor) -> torch.Tensor:
    """Alpha-composite ``colour`` over ``canvas`` (``N×3×H×W``) in place.

    ``colour`` is ``N×3×1×1`` (flat) or ``N×3×H×W`` (a texture); ``alpha`` is ``N×H×W``.
    """
    a = alpha.unsqueeze(1)
    canvas.mul_(1 - a).add_(colour * a)
    return canvas
