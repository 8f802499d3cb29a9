"""Landscapes: semantic label maps of outdoor scenes, and their renders in several styles.

A procedural world for the label-to-image models (pix2pix, SPADE/GauGAN) and
for segmentation. A scene is made in two separate steps, as in those papers'
data:

1. :func:`landscapes` draws a *layout*, a label map (``N×H×W`` int64) of the
   classes in :data:`LANDSCAPE_CLASSES`: sky and clouds at the top, one or two
   mountain ranges on the horizon, a lake, the sea or a meadow below, beaches,
   trees and boulders in front.
2. :func:`render_landscape` paints a label map in a *style* from
   :data:`LANDSCAPE_STYLES` (day, sunset, night, overcast). Every class has its
   own noise texture (grass grain, water ripples, foliage clumps, rock grain,
   soft clouds), so the classes stay recognisable in every style, and the same
   layout can be shown in all four.

Each scene depends only on ``(seed, index)``. Coordinates are in image units
(x and y in [0, 1], y down), so a layout looks the same at any size.
"""

from __future__ import annotations

import numpy as np
import torch

from ..checks import check_count, check_labels, check_seed, check_size
from ..images import colorize_labels
import torch.nn.functional as F

from ._noise import fbm, fbm_1d, grid, sample_rngs, sdf_box, sdf_circle, sdf_ellipse, smoothstep

__all__ = ["landscapes", "render_landscape", "colour_labels",
           "LANDSCAPE_CLASSES", "LANDSCAPE_STYLES"]

#: (name, display colour as 0-255 RGB), in label order: label k is LANDSCAPE_CLASSES[k]
LANDSCAPE_CLASSES = (
    ("sky", (120, 180, 240)),
    ("cloud", (235, 235, 235)),
    ("mountain", (125, 95, 80)),
    ("water", (30, 80, 200)),
    ("grass", (110, 190, 60)),
    ("tree", (20, 95, 35)),
    ("sand", (235, 210, 140)),
    ("rock", (110, 110, 115)),
)
SKY, CLOUD, MOUNTAIN, WATER, GRASS, TREE, SAND, ROCK = range(len(LANDSCAPE_CLASSES))

#: the rendering styles, in the order their indices refer to
LANDSCAPE_STYLES = ("day", "sunset", "night", "overcast")

_SCENES = ("lake", "coast", "meadow", "desert")
_SCENE_P = (0.3, 0.25, 0.33, 0.12)
_LAYOUT_STREAM, _RENDER_STREAM = 2, 3
_MIN_SIZE = 16
_CHUNK = 16          # scenes rendered at once: small batches stay in cache


# =========================================================================== layout

def _layout(rng: np.random.Generator, size: int) -> torch.Tensor:
    """One scene's label map, ``size×size`` int64. Painted back to front."""
    x, y = grid(size)
    xs = x[0]
    lab = torch.full((size, size), SKY, dtype=torch.int64)
    lab_np = lab.numpy()    # the same memory: reading one pixel through NumPy costs far less
    scene = _SCENES[rng.choice(len(_SCENES), p=_SCENE_P)]
    horizon = rng.uniform(0.42, 0.66)

    def below(line: torch.Tensor) -> torch.Tensor:    # pixels under a line y(x)
        return y >= line.view(1, -1)

    # mountain ranges: ridged noise (1 - |fbm|) makes sharp peaks and round valleys
    n_ranges = rng.choice(3, p=(0.2, 0.45, 0.35) if scene != "coast" else (0.5, 0.35, 0.15))
    for k in range(n_ranges):
        height = rng.uniform(0.12, 0.34) * (0.6 if k else 1.0)
        ridge = (1 - fbm_1d(rng, size, int(rng.integers(2, 5)), octaves=5).abs()).clamp(0, 1)
        top = horizon - height * (0.2 + 0.8 * ridge**1.5)
        lab.masked_fill_(below(top), MOUNTAIN)

    # ground below the horizon
    ground_top = torch.full_like(xs, horizon)
    lab.masked_fill_(y >= horizon, SAND if scene == "desert" else GRASS)
    if scene in ("meadow", "desert") and rng.random() < 0.6:       # rolling hills / dunes
        hills = horizon - rng.uniform(0.03, 0.12) * (0.5 + 0.5 * fbm_1d(rng, size, 2, octaves=3))
        lab.masked_fill_(below(hills), SAND if scene == "desert" else GRASS)
        ground_top = torch.minimum(ground_top, hills)
    shore = None
    if scene in ("lake", "coast"):
        far_bank = torch.full_like(xs, horizon)
        if scene == "lake":     # a thin strip of far shore above the water
            far_bank = horizon + 0.012 + 0.01 * fbm_1d(rng, size, 6).abs()
        shore = far_bank + rng.uniform(0.1, 0.3) + 0.05 * fbm_1d(rng, size, 3)
        lab.masked_fill_(below(far_bank) & ~below(shore), WATER)
        beach = rng.uniform(0.05, 0.22) if scene == "coast" else rng.uniform(0.0, 0.05)
        sand_line = shore + beach * (1 + 0.4 * fbm_1d(rng, size, 4))
        lab.masked_fill_(below(shore) & ~below(sand_line), SAND)
        if scene == "coast" and rng.random() < 0.4:
            lab.masked_fill_(below(shore), SAND)
        if scene == "lake":
            ground_top = far_bank
    elif scene == "meadow" and rng.random() < 0.35:                 # a pond
        px, py = rng.uniform(0.2, 0.8), rng.uniform(horizon + 0.15, 0.95)
        rx = rng.uniform(0.1, 0.3)
        rim = rng.uniform(0.0, 0.03)
        lab.masked_fill_(sdf_ellipse(x, y, px, py, rx + rim, rx * 0.3 + rim) < 0, SAND)
        lab.masked_fill_(sdf_ellipse(x, y, px, py, rx, rx * 0.3) < 0, WATER)

    # a forest edge standing on the far ground line
    if scene in ("lake", "meadow") and rng.random() < 0.5:
        bumps = fbm_1d(rng, size, 24, octaves=2).abs()
        tree_top = ground_top - rng.uniform(0.02, 0.06) * (0.4 + 0.8 * bumps)
        band = below(tree_top) & ~below(ground_top + 0.006)
        lab.masked_fill_(band & (lab != WATER), TREE)

    def window(cx: float, cy: float, half_w: float, half_h: float):
        """The pixel window around an object, so that small shapes cost little."""
        rows = slice(max(0, int((cy - half_h) * size)), max(0, min(size, int((cy + half_h) * size) + 2)))
        cols = slice(max(0, int((cx - half_w) * size)), max(0, min(size, int((cx + half_w) * size) + 2)))
        return x[rows, cols], y[rows, cols], lab[rows, cols]

    # single trees on grass, bigger when nearer (lower in the picture)
    for _ in range(int(rng.integers(0, 10 if scene != "desert" else 2))):
        tx, ty = rng.uniform(0.02, 0.98), rng.uniform(horizon + 0.03, 1.05)
        conifer, jitter = rng.random() < 0.5, rng.uniform(0.8, 1.2)
        offsets = rng.uniform(-1, 1, size=(3, 2))
        row, col = min(int(ty * size), size - 1), int(tx * size)
        if lab_np[row, col] != GRASS:
            continue
        h = (0.05 + 0.3 * (ty - horizon) / (1 - horizon)) * jitter
        wx, wy, wlab = window(tx, ty - h / 2, h * 0.5, h * 0.6)
        shape = sdf_box(wx, wy, tx, ty - h * 0.15, h * 0.04, h * 0.15) < 0      # trunk
        if conifer:
            for j in range(3):       # three stacked triangles
                apex = ty - h + j * h * 0.22
                depth = (wy - apex) / (h * 0.45)
                shape |= (depth >= 0) & (depth <= 1) & ((wx - tx).abs() <= h * (0.2 + 0.06 * j) * depth)
        else:
            for dx, dy in offsets:   # a canopy of three overlapping discs
                shape |= sdf_circle(wx, wy, tx + dx * h * 0.15, ty - h * 0.65 + dy * h * 0.1,
                                    h * 0.3) < 0
        wlab.masked_fill_(shape, TREE)

    # boulders on grass, sand or in shallow water: jagged half-buried ellipses
    for _ in range(int(rng.integers(0, 4 if scene != "desert" else 7))):
        bx, by = rng.uniform(0.02, 0.98), rng.uniform(horizon + 0.04, 1.0)
        lobes, phase = int(rng.integers(3, 7)), rng.uniform(0, 2 * np.pi)
        row, col = min(int(by * size), size - 1), int(bx * size)
        if lab_np[row, col] not in (GRASS, SAND, WATER):
            continue
        r = (0.02 + 0.08 * (by - horizon) / (1 - horizon)) * rng.uniform(0.7, 1.3)
        wx, wy, wlab = window(bx, by - r * 0.5, r * 1.2, r * 0.7)
        angle = torch.atan2(wy - by, wx - bx)
        sdf = (sdf_ellipse(wx, wy, bx, by - 0.3 * r, r, 0.7 * r)
               + 0.1 * r * torch.sin(lobes * angle + phase))
        wlab.masked_fill_((sdf < 0) & (wy <= by), ROCK)

    # clouds: thresholded fractal noise, thinning towards the horizon, behind everything
    if rng.random() < 0.85:
        field = fbm([rng], size, 3, octaves=4, aspect=2.0)[0]
        cover = rng.uniform(0.15, 0.65)
        field = field - 0.5 * smoothstep(0.15, horizon, y)
        lab.masked_fill_((field > 0.45 - 0.8 * cover) & (lab == SKY), CLOUD)
    return lab


# =========================================================================== rendering

def _rgb(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


# Day colours of the ground classes: (colour A, colour B); a texture field t mixes them.
_GROUND = {
    MOUNTAIN: ((0.42, 0.40, 0.48), (0.58, 0.52, 0.50)),
    WATER: ((0.30, 0.55, 0.80), (0.06, 0.24, 0.48)),
    GRASS: ((0.30, 0.58, 0.18), (0.58, 0.72, 0.26)),
    TREE: ((0.04, 0.20, 0.08), (0.16, 0.42, 0.14)),
    SAND: ((0.80, 0.68, 0.46), (0.96, 0.88, 0.64)),
    ROCK: ((0.30, 0.29, 0.30), (0.62, 0.60, 0.58)),
}

# Per style: sky zenith, sky horizon, cloud shadow, cloud light, sun/moon colour,
# and how the ground is lit: tint, brightness, saturation, darkening of the foreground.
_STYLE = {
    "day": dict(zenith=_rgb(0.22, 0.48, 0.88), horizon=_rgb(0.68, 0.84, 0.97),
                cloud_dark=_rgb(0.70, 0.75, 0.84), cloud_light=_rgb(1.0, 1.0, 1.0),
                sun=_rgb(1.0, 0.98, 0.85), sun_glow=0.25, stars=0.0,
                tint=_rgb(1.0, 1.0, 0.97), bright=1.0, sat=1.0, foreground=0.15),
    "sunset": dict(zenith=_rgb(0.25, 0.22, 0.52), horizon=_rgb(1.0, 0.58, 0.30),
                   cloud_dark=_rgb(0.45, 0.28, 0.40), cloud_light=_rgb(1.0, 0.66, 0.52),
                   sun=_rgb(1.0, 0.85, 0.45), sun_glow=0.55, stars=0.0,
                   tint=_rgb(1.15, 0.80, 0.62), bright=0.72, sat=0.85, foreground=0.45),
    "night": dict(zenith=_rgb(0.01, 0.02, 0.08), horizon=_rgb(0.10, 0.15, 0.32),
                  cloud_dark=_rgb(0.14, 0.16, 0.24), cloud_light=_rgb(0.42, 0.45, 0.55),
                  sun=_rgb(0.95, 0.95, 0.85), sun_glow=0.12, stars=0.9,
                  tint=_rgb(0.62, 0.75, 1.15), bright=0.5, sat=0.55, foreground=0.3),
    "overcast": dict(zenith=_rgb(0.66, 0.68, 0.72), horizon=_rgb(0.84, 0.85, 0.86),
                     cloud_dark=_rgb(0.30, 0.32, 0.38), cloud_light=_rgb(0.56, 0.58, 0.63),
                     sun=_rgb(0.85, 0.85, 0.85), sun_glow=0.0, stars=0.0,
                     tint=_rgb(0.95, 0.98, 1.02), bright=0.82, sat=0.55, foreground=0.1),
}


def _styled_ground(style: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The ground colours A and B of all classes (``8×3`` each) under a style's light."""
    a, b = torch.zeros(len(LANDSCAPE_CLASSES), 3), torch.zeros(len(LANDSCAPE_CLASSES), 3)
    for cls, (ca, cb) in _GROUND.items():
        for target, colour in ((a, ca), (b, cb)):
            c = _rgb(*colour)
            c = c.mean() + style["sat"] * (c - c.mean())
            target[cls] = c * style["tint"] * style["bright"]
    return a, b


_STYLE_A, _STYLE_B = map(torch.stack, zip(*(_styled_ground(s) for s in _STYLE.values())))
_STYLE_TABLE = {k: torch.stack([s[k] if torch.is_tensor(s[k]) else torch.tensor(float(s[k]))
                                for s in _STYLE.values()])
                for k in _STYLE["day"]}


def _check_styles(style, n: int) -> torch.Tensor:
    """Style names (one, or one per sample) as an int64 tensor of style indices."""
    names = [style] * n if isinstance(style, str) else style
    if not isinstance(names, (list, tuple)) or len(names) != n:
        raise ValueError(f"style: expected one of {LANDSCAPE_STYLES} or a list of {n} of them, "
                         f"got {style!r}")
    bad = [s for s in names if s not in LANDSCAPE_STYLES]
    if bad:
        raise ValueError(f"style: expected names from {LANDSCAPE_STYLES}, got {bad[0]!r}")
    return torch.tensor([LANDSCAPE_STYLES.index(s) for s in names])


def render_landscape(labels: torch.Tensor, style, seed: int = 0) -> torch.Tensor:
    """Paint label maps (``N×H×W`` int64, square) as images ``N×3×H×W`` in [-1, 1].

    ``style``: one name from :data:`LANDSCAPE_STYLES` for all, or a list of N
    names. ``seed`` picks the textures (and where the sun, moon and stars are);
    sample ``i`` depends only on its label map, its style, ``seed`` and ``i``, so
    ``render_landscape(labels, styles, seed)`` repaints ``landscapes(n, seed=seed)``
    exactly.
    """
    labels = check_labels(labels, "labels", num_classes=len(LANDSCAPE_CLASSES))
    n, h, w = labels.shape
    if h != w or h < _MIN_SIZE:
        raise ValueError(f"labels: expected square label maps of side ≥ {_MIN_SIZE}, got {h}×{w}")
    style_idx = _check_styles(style, n)
    seed = check_seed(seed)
    out = []
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        rngs = sample_rngs(_RENDER_STREAM, seed, stop - start, start)
        out.append(_render(labels[start:stop], style_idx[start:stop], rngs))
    return torch.cat(out)


def box_blur(x: torch.Tensor, k: int) -> torch.Tensor:
    """``_noise.box_blur`` to the last bit (the same running sums and differences), without
    the copy that prepends a zero: window ``i`` is ``sum[i + k − 1] − sum[i − 1]``, and window 0
    is ``sum[k − 1]`` alone (the original subtracts an exact zero)."""
    p = k // 2
    for dim in (-1, -2):
        pad = (p, p, 0, 0) if dim == -1 else (0, 0, p, p)
        total = F.pad(x, pad, mode="replicate").cumsum(dim)
        n = total.shape[dim] - k + 1
        out = total.narrow(dim, k - 1, n).clone()
        out.narrow(dim, 1, n - 1).sub_(total.narrow(dim, 0, n - 1))
        x = out.div_(k)
    return x


def _pick(fields, is_) -> torch.Tensor:
    """Per pixel, the field of its class: ``fields[labels]`` (``N×1×H×W``), as a chain of
    selections instead of stacking every class's field and gathering from the stack."""
    out = fields[0].expand_as(is_[0])
    for field, mask in zip(fields[1:], is_[1:]):
        out = torch.where(mask, field, out)
    return out.unsqueeze(1)


def _gather(colours: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-sample class colours ``N×C×3`` looked up by label: ``N×3×H×W``."""
    n, s = labels.shape[0], labels.shape[-1]
    index = labels.reshape(n, 1, -1).expand(n, 3, -1)
    return torch.gather(colours.transpose(1, 2), 2, index).view(n, 3, s, s)


def _render(labels: torch.Tensor, style_idx: torch.Tensor, rngs) -> torch.Tensor:
    n, size = labels.shape[0], labels.shape[-1]
    x, y = grid(size)
    st = {k: v[style_idx] for k, v in _STYLE_TABLE.items()}

    def col(key):                            # a per-sample style colour as N×3×1×1
        return st[key].view(n, 3, 1, 1)

    def val(key):                            # a per-sample style number as N×1×1
        return st[key].view(n, 1, 1)

    # ---- random draws: per-sample colour jitter, sun position; then textures
    jitter = torch.from_numpy(np.stack([r.uniform(0.93, 1.07, size=(8, 3)) for r in rngs])).float()
    sun = torch.from_numpy(np.stack([r.uniform((0.15, 0.1), (0.85, 0.3)) for r in rngs])).float()
    coarse = fbm(rngs, size, 3, octaves=2)
    medium = fbm(rngs, size, 10, octaves=2)
    fine = fbm(rngs, size, 40, octaves=2)
    ripple = fbm(rngs, size, 24, octaves=2, aspect=10.0)
    foliage = fbm(rngs, size, 24, octaves=2)
    stars = torch.from_numpy(np.stack([r.random((size, size), dtype=np.float32) for r in rngs]))

    is_ = [labels == c for c in range(len(LANDSCAPE_CLASSES))]
    sky_like = is_[SKY] | is_[CLOUD]
    # where the sky ends and the water starts, for gradients (per sample)
    sky_bottom = torch.where(sky_like, y, torch.zeros(())).amax(dim=(1, 2)).clamp(0.25, 1).view(n, 1, 1)
    water_top = torch.where(is_[WATER], y, torch.ones(())).amin(dim=(1, 2)).view(n, 1, 1)
    # how deep inside its own region each cloud, tree and rock pixel is (soft edges)
    k = 2 * max(1, size // 40) + 1
    inner = box_blur(torch.stack([is_[CLOUD], is_[TREE], is_[ROCK]], 1).float(), k)
    cloud_in, tree_in, rock_in = inner[:, 0], inner[:, 1], inner[:, 2]

    # ---- colours A and B per class and sample; a field t mixes them, a field k shades
    a = _STYLE_A[style_idx] * jitter
    b = _STYLE_B[style_idx] * jitter
    a[:, SKY], b[:, SKY] = st["zenith"], st["horizon"]
    a[:, CLOUD], b[:, CLOUD] = st["cloud_dark"], st["cloud_light"]
    haze = st["horizon"] * 0.8 + 0.2 * a[:, MOUNTAIN]
    b[:, MOUNTAIN] = 0.55 * b[:, MOUNTAIN] + 0.45 * haze       # far rock fades into the sky
    a[:, WATER] = 0.5 * a[:, WATER] + 0.5 * st["horizon"]        # near the horizon, water mirrors sky

    # The fields are written with in-place operations on their first term: the same operations in
    # the same order as ``(0.5 + 0.5 * coarse + 0.25 * fine).clamp(0, 1)`` (a + b = b + a exactly),
    # without a new tensor for every step.
    t_sky = (y / sky_bottom).clamp_(0, 1).pow_(1.3)
    t = [
        t_sky,                                                             # sky: zenith -> horizon
        (0.9 * cloud_in).add_(0.25).add_(0.3 * medium).sub_(0.3 * smoothstep(0.3, 1, y / sky_bottom))
        .clamp_(0, 1),
        (0.6 * smoothstep(sky_bottom - 0.35, sky_bottom, y)).add_(0.25 * medium).add_(0.2).clamp_(0, 1),
        smoothstep(water_top, water_top + 0.35, y).add_(0.2 * ripple).clamp_(0, 1),
        (0.5 * coarse).add_(0.5).add_(0.25 * fine).clamp_(0, 1),
        (0.9 * foliage).add_(0.5).clamp_(0, 1),
        (0.4 * coarse).add_(0.5).add_(0.3 * ripple).clamp_(0, 1),
        (0.5 * fine).add_(0.5).add_(0.35 * medium).clamp_(0, 1),
    ]
    shade = [
        torch.ones_like(y).expand(n, size, size),
        torch.ones_like(y).expand(n, size, size),
        (0.25 * medium).add_(1).add_(0.1 * fine),
        (0.22 * ripple).add_(1),
        (0.16 * fine).add_(1),
        (0.35 * tree_in).add_(0.8),
        (0.06 * fine).add_(1),
        (0.4 * rock_in).add_(0.75),
    ]
    t_pix, shade_pix = _pick(t, is_), _pick(shade, is_)
    ca, cb = _gather(a, labels), _gather(b, labels)
    # in-place from here on (the same operations in the same order, so the same bits): a new
    # N×3×H×W tensor per operation costs more than the arithmetic itself
    image = cb.sub_(ca).mul_(t_pix).add_(ca).mul_(shade_pix)          # (ca + (cb − ca)·t)·shade

    # ---- the ground darkens towards the viewer (strongly at sunset)
    ground = (~sky_like).unsqueeze(1).float()
    image.mul_(1 - ground * val("foreground").unsqueeze(1)
               * smoothstep(0, 1, (y - sky_bottom) / (1 - sky_bottom + 1e-3)).unsqueeze(1))

    # ---- clouds are soft: their thin edges let the sky through
    sky_colour = ((col("horizon") - col("zenith")) * t_sky.unsqueeze(1)).add_(col("zenith"))
    cloud_alpha = (is_[CLOUD].float() * (0.35 + 0.65 * cloud_in)).unsqueeze(1)
    see_through = (image - sky_colour).mul_(cloud_alpha).add_(sky_colour)
    image = torch.where(is_[CLOUD].unsqueeze(1), see_through, image)

    # ---- sun (low at sunset) or moon, its glow, stars at night, glitter on the water
    sun_x = sun[:, 0].view(n, 1, 1)
    low = style_idx.view(n, 1, 1) == LANDSCAPE_STYLES.index("sunset")
    sun_y = torch.where(low, sky_bottom - 0.08, sun[:, 1].view(n, 1, 1))
    dist2 = (x - sun_x) ** 2 + (y - sun_y) ** 2
    glow = val("sun_glow") * torch.exp(-dist2 / 0.03)
    disc = smoothstep(0.045**2, 0.035**2, dist2) * (val("sun_glow") > 0).float()
    twinkle = smoothstep(0.997, 1.0, stars) * val("stars") * (1 - t_sky)
    lit_sky = is_[SKY].float() * (glow + twinkle + disc) + is_[CLOUD].float() * 0.5 * glow
    image.add_(col("sun") * lit_sky.unsqueeze(1))
    column = torch.exp(-((x - sun_x) ** 2) / 0.004) * smoothstep(0.3, 0.7, ripple)
    image.add_(col("sun") * (is_[WATER].float() * column * val("sun_glow") * 1.6).unsqueeze(1))

    # ---- soften the staircase along class borders, add a little grain
    border = torch.zeros_like(labels, dtype=torch.bool)
    across, down = labels[:, :, 1:] != labels[:, :, :-1], labels[:, 1:] != labels[:, :-1]
    border[:, :, 1:] |= across
    border[:, :, :-1] |= across
    border[:, 1:] |= down
    border[:, :-1] |= down
    border = border.unsqueeze(1).float()
    blurred = box_blur(image, 3)
    image.add_(blurred.sub_(image).mul_(0.5).mul_(border))
    image.add_(0.01 * fine.unsqueeze(1))
    return image.clamp_(0, 1).mul_(2).sub_(1).float()


# =========================================================================== public API

def landscapes(n: int, size: int = 128, seed: int = 0, style=None):
    """Draw ``n`` scenes: ``(images, labels, styles)``.

    - ``images``: ``N×3×size×size`` float32 in [-1, 1], the label maps rendered;
    - ``labels``: ``N×size×size`` int64, indices into :data:`LANDSCAPE_CLASSES`;
    - ``styles``: a list of N style names from :data:`LANDSCAPE_STYLES`.

    ``style=None`` draws a style per scene (deterministically from the seed); a
    name renders every scene in that style. The layout of scene ``i`` does not
    depend on ``style``, so ``landscapes(8, style="night")`` shows the same
    places as ``landscapes(8, style="day")``.
    """
    n = check_count(n)
    size = check_size(size, _MIN_SIZE)
    seed = check_seed(seed)
    if style is not None:
        _check_styles(style, 1 if isinstance(style, str) else len(style))
        if not isinstance(style, str):
            raise ValueError(f"style: expected None or one of {LANDSCAPE_STYLES}, got {style!r}")
    labels, styles = [], []
    for rng in sample_rngs(_LAYOUT_STREAM, seed, n):
        drawn = LANDSCAPE_STYLES[int(rng.integers(len(LANDSCAPE_STYLES)))]
        styles.append(style or drawn)
        labels.append(_layout(rng, size))
    labels = torch.stack(labels)
    return render_landscape(labels, styles, seed=seed), labels, styles


def colour_labels(labels: torch.Tensor) -> torch.Tensor:
    """Label maps shown in their classes' display colours: ``N×3×H×W`` in [-1, 1]."""
    return colorize_labels(labels, [c for _, c in LANDSCAPE_CLASSES])
