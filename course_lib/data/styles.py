"""Styles: a seeded world of painterly and graphic textures, in named families.

AdaIN's decoder learns from tens of thousands of paintings (WikiArt) in the paper. Offline, the
course draws its style images instead. Each family is a kind of picture-making, with its own
palette drawn per image:

- ``strokes``: short thick brush strokes that follow a smooth flow field (painterly);
- ``mosaic``: Voronoi tiles with dark grout;
- ``stripes``: bands of two or three colours at an angle, straight or wavy;
- ``halftone``: a rotated grid of dots whose size follows a smooth tone;
- ``pointillism``: dense small dots of jittered colours on a ground;
- ``plaid``: two crossing stripe sets, blended;
- ``swirls`` (held out): spiralling bands around a few centres;
- ``marble`` (held out): soft layers crossed by turbulent veins.

:data:`HELD_OUT_FAMILIES` stay out of the decoder's training, so the lecture can test styles of a
kind the network never saw. Beside the families, :func:`textures` gives the real textures and
photographs that scikit-image ships (brick, grass, gravel, coffee, ...), and the landscapes
world's looks (:data:`LANDSCAPE_STYLES`) serve as styles too.

Image ``i`` depends only on ``(seed, i)`` and its family, as in the other worlds.
"""

from __future__ import annotations

import colorsys
import math

import numpy as np
import torch

from ..checks import check_count, check_seed, check_size
from ._noise import fbm, grid, sample_rngs, sdf_segment, smoothstep

__all__ = ["styles", "textures", "STYLE_FAMILIES", "TRAINED_FAMILIES", "HELD_OUT_FAMILIES",
           "TEXTURE_NAMES"]

TRAINED_FAMILIES = ("strokes", "mosaic", "stripes", "halftone", "pointillism", "plaid")
HELD_OUT_FAMILIES = ("swirls", "marble")
STYLE_FAMILIES = TRAINED_FAMILIES + HELD_OUT_FAMILIES
TEXTURE_NAMES = ("brick", "grass", "gravel", "coffee", "chelsea", "hubble_deep_field",
                 "immunohistochemistry", "colorwheel")
_STREAM = 5
_MIN_SIZE = 16


def _palette(rng: np.random.Generator, k: int = 4) -> torch.Tensor:
    """``k`` colours ``k×3`` in [0, 1]: hues around a random base (analogous or complementary)."""
    base = rng.random()
    spread = rng.choice([0.08, 0.5, 0.33])
    out = []
    for j in range(k):
        h = (base + spread * j + rng.normal(0, 0.03)) % 1.0
        s = float(np.clip(rng.uniform(0.35, 1.0), 0, 1))
        v = float(np.clip(rng.uniform(0.25, 1.0) if j else rng.uniform(0.1, 0.5), 0, 1))
        out.append(colorsys.hsv_to_rgb(h, s, v))
    return torch.tensor(out, dtype=torch.float32)[torch.from_numpy(rng.permutation(k))]


def _mix(palette: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Colours along the palette by a field ``t`` in [0, 1] (piecewise linear): ``3×H×W``."""
    k = len(palette)
    pos = t.clamp(0, 1) * (k - 1)
    i = pos.floor().long().clamp(max=k - 2)
    frac = (pos - i).unsqueeze(0)
    return palette[i].permute(2, 0, 1) * (1 - frac) + palette[i + 1].permute(2, 0, 1) * frac


def _pick(palette: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return palette[index % len(palette)].permute(2, 0, 1)


def _rotated(rng, size):
    x, y = grid(size)
    a = rng.uniform(0, math.pi)
    return x * math.cos(a) + y * math.sin(a), -x * math.sin(a) + y * math.cos(a)


def _stripes(rng, size, pal):
    u, v = _rotated(rng, size)
    freq = rng.uniform(4, 14)
    wave = rng.uniform(0, 0.08) * torch.sin(v * rng.uniform(2, 12) * math.pi)
    t = (u + wave) * freq
    k = int(rng.integers(2, 4))
    return _pick(pal, t.floor().long() % k)


def _plaid(rng, size, pal):
    u, v = _rotated(rng, size)
    f1, f2 = rng.uniform(3, 10), rng.uniform(3, 10)
    a = ((u * f1) % 1 < rng.uniform(0.3, 0.6)).float()
    b = ((v * f2) % 1 < rng.uniform(0.3, 0.6)).float()
    fine = ((u * f1 * 4).floor() + (v * f2 * 4).floor()) % 2  # the weave
    base = pal[0].view(3, 1, 1)
    out = base * (1 - 0.5 * a - 0.5 * b) + pal[1].view(3, 1, 1) * 0.5 * a + pal[2].view(3, 1, 1) * 0.5 * b
    return out * (0.9 + 0.1 * fine)


def _halftone(rng, size, pal):
    u, v = _rotated(rng, size)
    cells = rng.uniform(8, 20)
    tone = fbm([rng], size, int(rng.integers(2, 4)), octaves=2)[0] * 0.5 + 0.5
    du, dv = (u * cells) % 1 - 0.5, (v * cells) % 1 - 0.5
    r = (du ** 2 + dv ** 2).sqrt()
    dot = smoothstep(0.02, -0.02, r - 0.55 * tone.clamp(0.05, 1))
    return pal[0].view(3, 1, 1) * dot + pal[1].view(3, 1, 1) * (1 - dot)


def _pointillism(rng, size, pal):
    out = _pick(pal, torch.zeros(size, size, dtype=torch.long)) * 0.6 + 0.4 * pal[1].view(3, 1, 1)
    x, y = grid(size)
    cells = int(rng.integers(14, 26))
    for layer in range(3):
        jx = torch.from_numpy(rng.random((cells, cells), dtype=np.float32))
        jy = torch.from_numpy(rng.random((cells, cells), dtype=np.float32))
        col = torch.from_numpy(rng.integers(1, len(pal), (cells, cells)))
        shift = layer / 3
        gx, gy = x * cells + shift, y * cells + shift
        ix, iy = gx.floor().long() % cells, gy.floor().long() % cells
        dx, dy = gx % 1 - jx[iy, ix], gy % 1 - jy[iy, ix]
        dot = smoothstep(0.36, 0.28, (dx ** 2 + dy ** 2).sqrt()).unsqueeze(0)
        colour = pal[col[iy, ix]].permute(2, 0, 1) * float(rng.uniform(0.85, 1.15))
        out = out * (1 - dot) + colour * dot
    return out


def _mosaic(rng, size, pal):
    x, y = grid(size)
    k = int(rng.integers(30, 110))
    seeds = torch.from_numpy(rng.random((k, 2), dtype=np.float32))
    d = (x[None] - seeds[:, 0, None, None]) ** 2 + (y[None] - seeds[:, 1, None, None]) ** 2
    two = d.topk(2, dim=0, largest=False)
    nearest = two.indices[0]
    gap = two.values[1].sqrt() - two.values[0].sqrt()
    tint = torch.from_numpy(rng.uniform(0.8, 1.2, (k, 1))).float()
    colours = pal[1:][torch.from_numpy(rng.integers(0, len(pal) - 1, k))] * tint
    tiles = colours[nearest].permute(2, 0, 1)
    grout = smoothstep(0.004, 0.012, gap).unsqueeze(0)
    return tiles * grout + pal[0].view(3, 1, 1) * 0.5 * (1 - grout)


def _strokes(rng, size, pal):
    x, y = grid(size)
    out = _mix(pal, torch.full((size, size), 0.5)) * 0.0 + pal[0].view(3, 1, 1)
    flow = fbm([rng], 9, 2, octaves=1)[0] * math.pi * rng.uniform(0.5, 1.5) + rng.uniform(0, math.pi)
    length, width = rng.uniform(0.05, 0.1), rng.uniform(0.012, 0.028)
    for _ in range(int(rng.integers(160, 260))):
        cx, cy = rng.random(2)
        a = float(flow[min(8, int(cy * 9)), min(8, int(cx * 9))]) + rng.normal(0, 0.2)
        dx, dy = length * math.cos(a), length * math.sin(a)
        d = sdf_segment(x, y, cx - dx, cy - dy, cx + dx, cy + dy)
        alpha = smoothstep(width, width * 0.5, d).unsqueeze(0) * rng.uniform(0.7, 1.0)
        colour = pal[int(rng.integers(1, len(pal)))].view(3, 1, 1) * rng.uniform(0.8, 1.2)
        out = out * (1 - alpha) + colour * alpha
    return out


def _swirls(rng, size, pal):
    x, y = grid(size)
    t = torch.zeros(size, size)
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = rng.random(2)
        dx, dy = x - cx, y - cy
        r, ang = (dx ** 2 + dy ** 2).sqrt(), torch.atan2(dy, dx)
        t = t + torch.sin(ang * int(rng.integers(1, 4)) + r * rng.uniform(15, 40)) * torch.exp(-r * 2)
    return _mix(pal, (t * 0.5 + 0.5).clamp(0, 1))


def _marble(rng, size, pal):
    u, _ = _rotated(rng, size)
    turb = fbm([rng], size, int(rng.integers(2, 5)), octaves=4)[0]
    t = torch.sin((u * rng.uniform(3, 8) + turb * rng.uniform(1.5, 3)) * math.pi)
    layers = _mix(pal[1:], (turb * 0.5 + 0.5).clamp(0, 1))
    veins = smoothstep(0.15, 0.0, t.abs()).unsqueeze(0)
    return layers * (1 - veins) + pal[0].view(3, 1, 1) * veins


_PAINTERS = {"strokes": _strokes, "mosaic": _mosaic, "stripes": _stripes, "halftone": _halftone,
             "pointillism": _pointillism, "plaid": _plaid, "swirls": _swirls, "marble": _marble}
assert tuple(_PAINTERS) == STYLE_FAMILIES


def styles(n: int, size: int = 128, seed: int = 0, families=None):
    """Draw ``n`` style images: ``(images N×3×size×size in [-1, 1], list of N family names)``.

    ``families``: one name or a sequence of names from :data:`STYLE_FAMILIES` to cycle through
    (default: all of them, so image ``i`` is of family ``STYLE_FAMILIES[i % 8]``);
    ``TRAINED_FAMILIES`` gives the decoder's training styles.
    """
    n = check_count(n)
    size = check_size(size, _MIN_SIZE)
    seed = check_seed(seed)
    if families is None:
        families = STYLE_FAMILIES
    if isinstance(families, str):
        families = (families,)
    bad = [f for f in families if f not in STYLE_FAMILIES]
    if not families or bad:
        raise ValueError(f"families: expected names from {STYLE_FAMILIES}, got {list(families)!r}")
    names = [families[i % len(families)] for i in range(n)]
    images = [_PAINTERS[name](rng, size, _palette(rng)) for name, rng in
              zip(names, sample_rngs(_STREAM, seed, n))]
    return torch.stack(images).clamp(0, 1) * 2 - 1, names


def textures(size: int | None = None, names=None) -> dict[str, torch.Tensor]:
    """Real textures and photographs bundled with scikit-image, ``{name: 1×3×H×W}`` in [-1, 1]
    (grey ones repeated to three channels); ``size`` centre-crops and resizes to a square."""
    import skimage.data

    from ..images import crop_resize, from_numpy

    names = TEXTURE_NAMES if names is None else ((names,) if isinstance(names, str) else tuple(names))
    bad = [name for name in names if name not in TEXTURE_NAMES]
    if bad:
        raise ValueError(f"names: unknown texture(s) {bad}; expected some of {list(TEXTURE_NAMES)}")
    out = {}
    for name in names:
        array = getattr(skimage.data, name)()
        image = from_numpy(array[..., :3] if array.ndim == 3 else array)
        out[name] = image if size is None else crop_resize(image, check_size(size, 8))
    return out
