"""Cartoon faces with known attributes: the course's small "CelebA".

A procedural world for the unconditional and attribute-aware GANs (DCGAN,
StyleGAN, latent editing, inversion). Every face is drawn from shapes with
anti-aliased edges, so it looks clean at 32, 64 or 128 pixels, and every
attribute that decides how it looks is returned with it, so a lecture can
train an attribute classifier, find a "glasses" direction in latent space, or
check that an edit changed what it should and nothing else.

Each face depends only on ``(seed, index)``. ``overrides`` fixes chosen
attributes while every other random choice stays the same, which gives exact
before/after pairs: the same person with and without glasses.

Attributes (all ``int64`` tensors of length N):

- binary, 0 = no, 1 = yes, each drawn independently with probability 1/2:
  ``glasses``, ``smile``, ``hat``, ``beard``, ``eyes_open``;
- categorical class indices into the name lists in :data:`FACE_ATTRIBUTES`:
  ``hair_colour``, ``skin_tone``, ``background``.

Geometry is in resolution-independent units: the image spans [-1, 1] in x and
y (y points down); each face has its own frame (shifted, scaled, slightly
rotated) in which the head is an ellipse of half-width about 0.45 at the origin.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..checks import check_count, check_seed, check_size
from ._noise import (coverage, fbm, paint, sample_rngs, sdf_box, sdf_circle, sdf_curve, sdf_ellipse,
                     sdf_segment, smoothstep)

__all__ = ["faces", "FACE_ATTRIBUTES", "FACE_BINARY", "FACE_CATEGORICAL"]

FACE_BINARY = ("glasses", "smile", "hat", "beard", "eyes_open")

_HAIR = {"black": (0.10, 0.08, 0.07), "brown": (0.42, 0.25, 0.12),
         "blond": (0.95, 0.80, 0.42), "red": (0.78, 0.30, 0.10),
         "grey": (0.72, 0.72, 0.74)}
_SKIN = {"pale": (1.00, 0.88, 0.79), "light": (0.95, 0.77, 0.62),
         "tan": (0.84, 0.62, 0.43), "brown": (0.62, 0.42, 0.27),
         "dark": (0.40, 0.26, 0.17)}
# background name -> (top colour, bottom colour) of a soft gradient
_BACKGROUND = {"blue": ((0.55, 0.75, 0.95), (0.80, 0.90, 1.00)),
               "green": ((0.55, 0.82, 0.62), (0.82, 0.95, 0.80)),
               "purple": ((0.62, 0.52, 0.82), (0.85, 0.78, 0.95)),
               "orange": ((0.98, 0.68, 0.40), (1.00, 0.88, 0.66)),
               "grey": ((0.45, 0.47, 0.50), (0.70, 0.71, 0.73)),
               "teal": ((0.20, 0.55, 0.58), (0.50, 0.78, 0.76))}

FACE_CATEGORICAL = {"hair_colour": tuple(_HAIR), "skin_tone": tuple(_SKIN),
                    "background": tuple(_BACKGROUND)}

#: attribute name -> names of its values (index = encoded value)
FACE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    **{name: ("no", "yes") for name in FACE_BINARY}, **FACE_CATEGORICAL}

_HAT_COLOURS = torch.tensor([(0.85, 0.15, 0.15), (0.15, 0.30, 0.80), (0.10, 0.60, 0.25),
                             (0.55, 0.20, 0.70), (0.95, 0.50, 0.05), (0.90, 0.25, 0.60)])
_BAND_COLOURS = torch.tensor([(0.98, 0.98, 0.95), (0.10, 0.10, 0.12), (0.98, 0.85, 0.15)])
_FRAME_COLOURS = torch.tensor([(0.05, 0.05, 0.06), (0.35, 0.18, 0.08), (0.80, 0.10, 0.12),
                               (0.10, 0.25, 0.75), (0.80, 0.62, 0.15)])
_IRIS_COLOURS = torch.tensor([(0.35, 0.20, 0.08), (0.20, 0.45, 0.80), (0.20, 0.55, 0.30),
                              (0.15, 0.10, 0.06)])
_SHIRT_COLOURS = torch.tensor([(0.90, 0.90, 0.88), (0.20, 0.25, 0.45), (0.75, 0.20, 0.20),
                               (0.25, 0.55, 0.35), (0.95, 0.75, 0.20), (0.40, 0.40, 0.42)])
_MOUTH = torch.tensor([0.24, 0.02, 0.04])
_INK = torch.tensor([0.12, 0.07, 0.06])

_STREAM = 1          # separates face randomness from the other worlds'
_N_UNIFORMS = 64     # uniforms drawn per face, always the same count (determinism)
_CHUNK = 32          # faces rendered at once: small batches stay in cache
_MIN_SIZE = 16


class _Draws:
    """Hands out named columns of the per-face uniforms as ``N×1×1`` tensors."""

    def __init__(self, uniforms: np.ndarray):
        self.u = torch.from_numpy(uniforms)
        self.k = 0

    def _next(self) -> torch.Tensor:
        col = self.u[:, self.k]
        self.k += 1
        return col

    def uniform(self, lo: float, hi: float) -> torch.Tensor:
        return (lo + (hi - lo) * self._next()).view(-1, 1, 1)

    def choice(self, k: int) -> torch.Tensor:
        return (self._next() * k).long().clamp(max=k - 1)

    def coin(self, p: float = 0.5) -> torch.Tensor:
        return (self._next() < p).long()


def _rgb(palette: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return palette[index].view(-1, 3, 1, 1)


def _check_overrides(overrides, n: int) -> dict[str, torch.Tensor]:
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise ValueError(f"overrides: expected a dict attribute -> value, got {type(overrides).__name__}")
    fixed = {}
    for name, value in overrides.items():
        if name not in FACE_ATTRIBUTES:
            raise ValueError(f"overrides: unknown attribute {name!r}; expected one of "
                             f"{sorted(FACE_ATTRIBUTES)}")
        k = len(FACE_ATTRIBUTES[name])
        v = torch.as_tensor(value).long().flatten()
        if v.numel() == 1:
            v = v.expand(n)
        if v.numel() != n or int(v.min()) < 0 or int(v.max()) >= k:
            raise ValueError(f"overrides[{name!r}]: expected an int in [0, {k}) or {n} of them, "
                             f"got {value!r}")
        fixed[name] = v.clone()
    return fixed


def faces(n: int, size: int = 64, seed: int = 0, overrides: dict | None = None):
    """Draw ``n`` cartoon faces.

    Returns ``(images, attributes)``: images ``N×3×size×size`` float32 in [-1, 1],
    and a dict of ``int64`` tensors of length N, one per name in
    :data:`FACE_ATTRIBUTES` (binary ones 0/1, categorical ones class indices).

    ``overrides`` fixes attributes, e.g. ``{"glasses": 1}`` or
    ``{"smile": [0, 1, 0]}``; all other choices stay as ``seed`` makes them, so
    ``faces(8, overrides={"hat": 0})`` and ``faces(8, overrides={"hat": 1})``
    show the same eight people without and with a hat.
    """
    n = check_count(n)
    size = check_size(size, _MIN_SIZE)
    seed = check_seed(seed)
    fixed = _check_overrides(overrides, n)
    images, attributes = [], []
    for start in range(0, n, _CHUNK):
        m = min(_CHUNK, n - start)
        chunk_fixed = {k: v[start:start + m] for k, v in fixed.items()}
        img, attr = _render(sample_rngs(_STREAM, seed, m, start), size, chunk_fixed)
        images.append(img)
        attributes.append(attr)
    images = torch.cat(images)
    attributes = {k: torch.cat([a[k] for a in attributes]) for k in FACE_ATTRIBUTES}
    return images, attributes


def _render(rngs, size: int, fixed: dict[str, torch.Tensor]):
    """Draw one chunk of faces; every random number comes from ``rngs`` (one per face)."""
    d = _Draws(np.stack([r.random(_N_UNIFORMS) for r in rngs]).astype(np.float32))

    # ---- attributes (drawn first so their columns never move)
    attr = {name: d.coin(0.5) for name in FACE_BINARY}
    for name, values in FACE_CATEGORICAL.items():
        attr[name] = d.choice(len(values))
    attr.update(fixed)
    on = {k: v.view(-1, 1, 1).float() for k, v in attr.items()}

    # ---- pose: the face's own frame (u, v) inside the image frame (x, y)
    t = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    x, y = t.view(1, 1, -1), t.view(1, -1, 1)
    scale = d.uniform(0.92, 1.1)
    angle = d.uniform(-0.15, 0.15)
    cx, cy = d.uniform(-0.1, 0.1), d.uniform(0.04, 0.16)
    cos, sin = torch.cos(angle), torch.sin(angle)
    u = (cos * (x - cx) + sin * (y - cy)) / scale
    v = (-sin * (x - cx) + cos * (y - cy)) / scale
    px = (2.0 / size) / scale          # one pixel, in face units: the anti-aliasing width

    def cov(sdf):
        return coverage(sdf, px)

    # ---- per-face shape choices
    head_rx, head_ry = d.uniform(0.38, 0.46), d.uniform(0.48, 0.56)
    eye_dx, eye_y = d.uniform(0.15, 0.2), d.uniform(-0.06, 0.0)
    eye_rx, eye_ry = d.uniform(0.075, 0.095), d.uniform(0.055, 0.072)
    iris = _rgb(_IRIS_COLOURS, d.choice(len(_IRIS_COLOURS)))
    brow_tilt, brow_lift = d.uniform(-0.03, 0.03), d.uniform(0.1, 0.14)
    mouth_y, mouth_w = d.uniform(0.23, 0.28), d.uniform(0.12, 0.17)
    open_smile = d.coin(0.85).view(-1, 1, 1).float()
    smile_bend, neutral_bend = d.uniform(0.09, 0.12), d.uniform(-0.045, -0.01)
    fringe, fringe_tilt = d.uniform(-0.3, -0.18), d.uniform(-0.12, 0.12)
    side_drop = d.uniform(0.1, 0.45)
    long_hair, hair_len = d.coin(0.5).view(-1, 1, 1).float(), d.uniform(0.3, 0.8)
    volume = d.uniform(0.04, 0.1)
    hat_style = d.choice(4).view(-1, 1, 1)
    hat_colour = _rgb(_HAT_COLOURS, d.choice(len(_HAT_COLOURS)))
    band_colour = _rgb(_BAND_COLOURS, d.choice(len(_BAND_COLOURS)))
    frame_colour = _rgb(_FRAME_COLOURS, d.choice(len(_FRAME_COLOURS)))
    square_frames = d.coin(0.5).view(-1, 1, 1).float()
    frame_w, lens_pad = d.uniform(0.025, 0.04), d.uniform(0.035, 0.05)
    beard_top = d.uniform(0.0, 0.08)
    shirt = _rgb(_SHIRT_COLOURS, d.choice(len(_SHIRT_COLOURS)))
    blush = d.coin(0.4).view(-1, 1, 1).float()
    light = d.uniform(0, 2 * math.pi)
    bg_angle = d.uniform(-0.6, 0.6)
    skin_jitter = d.uniform(0.97, 1.03)
    assert d.k <= _N_UNIFORMS

    # ---- textures (after the uniforms, in a fixed order)
    bg_blotch = fbm(rngs, size, 3, octaves=2).unsqueeze(1)
    strands = fbm(rngs, size, 16, octaves=2, aspect=0.15)     # vertical hair streaks
    stipple = fbm(rngs, size, 24, octaves=1)
    grain = torch.from_numpy(np.stack(
        [r.standard_normal((3, size, size), dtype=np.float32) for r in rngs]))

    names = FACE_CATEGORICAL
    hair = torch.tensor([_HAIR[k] for k in names["hair_colour"]])[attr["hair_colour"]]
    hair = hair.view(-1, 3, 1, 1)
    skin = torch.tensor([_SKIN[k] for k in names["skin_tone"]])[attr["skin_tone"]]
    skin = (skin.view(-1, 3, 1, 1) * skin_jitter.unsqueeze(1)).clamp(0, 1)
    bg = torch.tensor([_BACKGROUND[k] for k in names["background"]])[attr["background"]]

    # ---- background: a tilted two-colour gradient with soft blotches
    g = ((torch.sin(bg_angle) * x + torch.cos(bg_angle) * y) * 0.5 + 0.5).clamp(0, 1)
    canvas = bg[:, 0].view(-1, 3, 1, 1) * (1 - g.unsqueeze(1)) + bg[:, 1].view(-1, 3, 1, 1) * g.unsqueeze(1)
    canvas = canvas + 0.04 * bg_blotch
    canvas = canvas.contiguous()

    # ---- shoulders and shirt
    body = sdf_ellipse(u, v, 0, 1.0, 0.85, 0.42)
    paint(canvas, shirt * (1 - 0.15 * smoothstep(-0.3, 0, body).unsqueeze(1)), cov(body))

    # ---- hair behind the head: volume around the skull, plus a long fall
    hair_tex = hair * (1 + 0.12 * strands.unsqueeze(1)) - 0.03
    back = sdf_ellipse(u, v, 0, -0.05, head_rx + volume, head_ry + volume)
    fall = sdf_box(u, v, 0, (hair_len - 0.1) / 2, head_rx + volume - 0.01,
                   (hair_len + 0.1) / 2, 0.08)
    back = torch.where(long_hair > 0, torch.minimum(back, fall), back)
    paint(canvas, hair_tex * 0.85, cov(back))

    # ---- neck, ears, head (skin lit from a random side, darker at the rim)
    neck = sdf_box(u, v, 0, 0.58, 0.15, 0.3, 0.05)
    paint(canvas, skin * 0.8, cov(neck))
    for side in (-1, 1):
        ear = sdf_ellipse(u, v, side * head_rx, 0.04, 0.07, 0.1)
        paint(canvas, skin * 0.92, cov(ear))
    head = sdf_ellipse(u, v, 0, 0, head_rx, head_ry)
    shade = (1 + 0.1 * (torch.cos(light) * u + torch.sin(light) * v) / head_rx
             - 0.18 * smoothstep(-0.1, 0.0, head))
    paint(canvas, skin * shade.unsqueeze(1), cov(head))

    # ---- beard: a bushy jaw below a line that dips under the nose, clear around the
    #      mouth, outlined and stippled so that it shows even when hair and skin are alike
    jaw = torch.maximum(sdf_ellipse(u, v, 0, 0.05, head_rx + 0.04, head_ry + 0.06),
                        beard_top + 0.12 * (1 - (u / head_rx) ** 2) - v)
    mouth_clear = sdf_ellipse(u, v, 0, mouth_y + 0.03, mouth_w + 0.05, 0.09)
    beard = torch.maximum(jaw, -mouth_clear)
    beard_colour = hair * 0.75 * (1 + 0.4 * stipple.unsqueeze(1))
    paint(canvas, _INK.view(1, 3, 1, 1), cov(beard - 0.02) * on["beard"])
    paint(canvas, beard_colour, cov(beard) * on["beard"])

    # ---- nose and cheeks
    nose = sdf_ellipse(u, v, 0, 0.12, 0.035, 0.03)
    paint(canvas, skin * 0.72, cov(nose) * 0.8)
    for side in (-1, 1):
        cheek = sdf_ellipse(u, v, side * (eye_dx + 0.04), 0.14, 0.06, 0.035)
        paint(canvas, torch.tensor([0.95, 0.45, 0.45]).view(1, 3, 1, 1),
              smoothstep(0.02, -0.03, cheek) * 0.35 * blush)

    # ---- eyes: open (white, iris, pupil, glint) or closed (a sagging lash line)
    for side in (-1, 1):
        ex = side * eye_dx
        white = sdf_ellipse(u, v, ex, eye_y, eye_rx, eye_ry)
        opened = on["eyes_open"]
        paint(canvas, torch.tensor([0.98, 0.98, 0.96]).view(1, 3, 1, 1), cov(white) * opened)
        iris_sdf = torch.maximum(sdf_circle(u, v, ex, eye_y + 0.005, eye_ry * 0.72), white)
        paint(canvas, iris, cov(iris_sdf) * opened)
        pupil = sdf_circle(u, v, ex, eye_y + 0.005, eye_ry * 0.36)
        paint(canvas, _INK.view(1, 3, 1, 1) * 0.3, cov(pupil) * opened)
        glint = sdf_circle(u, v, ex + 0.02, eye_y - 0.015, 0.014)
        paint(canvas, torch.ones(1, 3, 1, 1), cov(glint) * opened)
        outline = white.abs() - 0.008
        paint(canvas, _INK.view(1, 3, 1, 1), cov(outline) * opened)
        lashes = sdf_curve(u, v, ex, eye_y - 0.005, eye_rx * 1.05, 0.035) - 0.018
        paint(canvas, _INK.view(1, 3, 1, 1), cov(lashes) * (1 - opened))
        brow = sdf_segment(u, v, ex - eye_rx * 0.9, eye_y - brow_lift - side * brow_tilt,
                           ex + eye_rx * 0.9, eye_y - brow_lift + side * brow_tilt) - 0.018
        paint(canvas, hair * 0.6, cov(brow))

    # ---- mouth: a smile sags in the middle (open with teeth, or a wide line);
    #      no smile is a shorter, slightly downturned line
    smiling = attr["smile"].view(-1, 1, 1) > 0
    bend = torch.where(smiling, smile_bend, neutral_bend)
    line = sdf_curve(u, v, 0, mouth_y, torch.where(smiling, mouth_w, 0.75 * mouth_w), bend) - 0.024
    top = mouth_y + 0.15 * smile_bend * (1 - (u / mouth_w) ** 2)
    bottom = mouth_y + 1.3 * smile_bend * (1 - (u / mouth_w) ** 2)
    opening = torch.maximum(torch.maximum(top - v, v - bottom), u.abs() - mouth_w)
    teeth = torch.maximum(opening, v - (top + 0.035))
    is_open = on["smile"] * open_smile
    lip = (skin * 1.25 + 0.05).clamp(max=1)    # a light rim keeps the line visible on dark skin
    paint(canvas, lip, cov(line - 0.015) * (1 - is_open) * 0.5)
    paint(canvas, _MOUTH.view(1, 3, 1, 1), cov(line) * (1 - is_open))
    paint(canvas, _MOUTH.view(1, 3, 1, 1) * 0.8, cov(opening - 0.005) * is_open)
    paint(canvas, torch.tensor([0.97, 0.96, 0.92]).view(1, 3, 1, 1), cov(teeth) * is_open)

    # ---- hair in front: the skull above a fringe that drops towards the temples
    fringe_line = fringe + fringe_tilt * u + side_drop * (u / head_rx) ** 4
    front = torch.maximum(sdf_ellipse(u, v, 0, -0.03, head_rx + 0.04, head_ry + 0.05),
                          v - fringe_line)
    paint(canvas, hair_tex, cov(front))

    # ---- glasses: two frames (round or square), a bridge, the arms to the ears
    lens_r = eye_rx + lens_pad
    wear = on["glasses"]
    for side in (-1, 1):
        ex = side * eye_dx
        round_lens = sdf_circle(u, v, ex, eye_y, lens_r)
        square_lens = sdf_box(u, v, ex, eye_y, lens_r * 1.05, lens_r * 0.8, 0.03)
        lens = torch.where(square_frames > 0, square_lens, round_lens)
        paint(canvas, torch.tensor([0.85, 0.93, 1.0]).view(1, 3, 1, 1), cov(lens) * 0.22 * wear)
        paint(canvas, frame_colour, cov(lens.abs() - frame_w / 2) * wear)
        arm = sdf_segment(u, v, ex + side * lens_r, eye_y, side * (head_rx + 0.01), eye_y - 0.03)
        paint(canvas, frame_colour, cov(arm - frame_w / 2) * wear)
    bridge = sdf_curve(u, v, 0, eye_y, eye_dx - lens_r * 0.95, -0.02) - frame_w / 2
    paint(canvas, frame_colour, cov(bridge) * wear)

    # ---- hats: beanie, top hat, sun hat, cap; brims and bands make a hat a hat
    base = fringe - 0.03
    hat_shade = hat_colour * (1 - 0.12 * (u / 0.5)).unsqueeze(1)
    crown_dome = torch.maximum(sdf_ellipse(u, v, 0, base, head_rx + 0.06, 0.42), v - base - 0.02)
    styles = [
        # beanie: dome, folded band, pom-pom
        [(crown_dome, hat_shade),
         (sdf_box(u, v, 0, base - 0.03, head_rx + 0.07, 0.065, 0.03), band_colour),
         (sdf_circle(u, v, 0, base - 0.45, 0.08), band_colour)],
        # top hat: tall crown, band, brim
        [(sdf_box(u, v, 0, base - 0.33, 0.3, 0.33, 0.02), hat_shade),
         (sdf_box(u, v, 0, base - 0.09, 0.3, 0.05), band_colour),
         (sdf_box(u, v, 0, base, 0.56, 0.045, 0.04), hat_shade * 0.85)],
        # sun hat: wide flat brim, low crown, band
        [(sdf_ellipse(u, v, 0, base, 0.78, 0.1), hat_shade * 0.9),
         (torch.maximum(sdf_ellipse(u, v, 0, base, 0.36, 0.34), v - base), hat_shade),
         (torch.maximum(sdf_box(u, v, 0, base - 0.05, 0.37, 0.045),
                        sdf_ellipse(u, v, 0, base, 0.37, 0.34)), band_colour)],
        # cap: dome, a visor in front, a button on top
        [(crown_dome, hat_shade),
         (torch.maximum(sdf_ellipse(u, v, 0, base - 0.01, head_rx + 0.16, 0.13), base - 0.01 - v),
          hat_shade * 0.75),
         (sdf_circle(u, v, 0, base - 0.42, 0.04), band_colour)],
    ]
    for k, layers in enumerate(styles):
        chosen = on["hat"] * (hat_style == k).float()
        for sdf, colour in layers:
            paint(canvas, colour, cov(sdf) * chosen)

    # ---- a little sensor noise, then the course's [-1, 1] convention
    canvas = canvas + 0.012 * grain
    images = canvas.clamp(0, 1) * 2 - 1
    return images.float(), attr
