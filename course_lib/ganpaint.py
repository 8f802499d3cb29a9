"""GANPaint: semantic photo manipulation with a generative image prior.

Bau, Strobelt, Peebles, Wulff, Zhou, Zhu and Torralba 2019, "Semantic Photo Manipulation with
a Generative Image Prior" (SIGGRAPH, ACM TOG 38(4)). Lecture 01 edits a *generated* image by
moving its code ``z``; to edit a *photo* by concept ("add trees here") three things are needed,
each a function below:

1. **Invert** the photo into the generator, not at ``z`` but at a middle layer, where units
   draw concepts (:mod:`course_lib.dissection`): ``G = G_B ∘ G_F``; find ``z`` (here by
   optimisation, :func:`course_lib.inversion.invert`; the paper starts from an encoder), then
   optimise the features ``r`` themselves from ``G_F(z)``:  ``r* = argmin_r ‖G_B(r) − x‖²``
   (:meth:`GANPaint.invert`).
2. **Adapt** ``G_B`` to this one photo, because no ``r`` reproduces a photo's details: small
   changes ``δ_i`` to the weights ``θ_i`` of each layer of ``G_B``, trained on the
   reconstruction and kept small,

       δ* = argmin_δ ‖G_B^{θ+δ}(r*) − x‖² + λ Σ_i ‖δ_i‖² / ‖θ_i‖²                    (adaptation)

   (:meth:`GANPaint.adapt`, :func:`adaptation_loss`). ``G_F`` stays as it is, so the
   dissected units keep their meaning.
3. **Edit**: switch a concept's units on (add) or off (remove) inside the painted region,
   ``r_e = intervene(r*)``, render ``x_e = G_B^{θ+δ*}(r_e)``, and keep the photo's own pixels
   outside the region (:meth:`GANPaint.edit`).

Symbols -> code: ``x`` -> ``photo``; ``G_F``, ``G_B`` -> ``GANPaint.g_f``, ``GANPaint.g_b``
(:func:`course_lib.dissection.split`); ``r`` -> ``features``; ``δ`` -> ``Photo.deltas`` (one
tensor per parameter of ``G_B``); ``λ`` -> ``GANPaintConfig.adapt_weight``.

What differs from the paper: the generator is the course's 64 px DCGAN of the landscapes world
(the paper's are Progressive GANs of LSUN scenes at 256 px); the first code comes from
optimising ``z`` from several starts, not an encoder; the losses are pixel MSE (the paper adds
a perceptual term); the regulariser is written relative to each layer's weights so that one
``λ`` serves layers of different scales.
"""

from __future__ import annotations

import dataclasses
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call

from .checks import check_image, describe
from .dissection import Dissection, intervene, split
from .inversion import InversionConfig, invert
from .layers import LatentGenerator
from .metrics import psnr
from .runtime import eval_mode

__all__ = ["LAYER", "GANPaintConfig", "Photo", "EditResult", "GANPaint", "adaptation_loss", "check_region",
           "edit", "paste", "MODES"]

#: what an edit does to a concept's units inside the region
MODES = ("add", "remove")
#: the stage of the shipped ``dcgan-landscapes64`` that is dissected and edited (chosen by
#: ``benchmarks/bench_ganpaint.py``'s dissection: the layer whose units match the most classes)
LAYER = "block2"


@dataclasses.dataclass
class GANPaintConfig:
    """The steps of inversion and adaptation, and how strongly an edit switches units."""

    z_steps: int = 300           # Adam steps on z (per start) ...
    z_restarts: int = 4          # ... from this many seeded starts; the best wins
    z_lr: float = 0.05
    feature_steps: int = 300     # then Adam on the features r
    feature_lr: float = 0.02
    adapt_steps: int = 300       # then Adam on the weight changes δ of G_B
    # Adam moves every weight by about adapt_lr at its first steps, all at once: at 2e-3 (12% of
    # a typical weight of the shipped G_B) the reconstruction fell from 29 to 5 dB before it
    # recovered, and 300 steps ended lower (32 against 35 dB) with larger changes δ than at 1e-4
    adapt_lr: float = 1e-4
    adapt_weight: float = 0.1    # λ: the price of a relative weight change
    units: int = 16              # a concept's top units that an edit switches
    strength: float = 1.0        # 1: the units take exactly the new value inside the region
    feather: int = 3             # px of soft edge when the edit is pasted into the photo


@dataclasses.dataclass
class Photo:
    """A photo prepared for editing: its code, features and adapted ``G_B``, with the
    reconstruction PSNR after each step (``psnr["z"]``, ``["features"]``, ``["adapted"]``)."""

    photo: torch.Tensor                  # 1×3×S×S, the caller's image (a copy)
    z: torch.Tensor                      # 1×nz
    features: torch.Tensor               # 1×U×h×w, r*
    deltas: dict[str, torch.Tensor]      # parameter name of G_B -> δ
    reconstructions: dict[str, torch.Tensor]   # "z", "features", "adapted" -> 1×3×S×S
    psnr: dict[str, float]
    seconds: dict[str, float]


@dataclasses.dataclass
class EditResult:
    """An edit: ``raw`` (G_B'(r_e), every pixel regenerated), ``image`` (pasted into the photo
    outside the region), ``before`` (G_B'(r*), the adapted reconstruction) and ``region``."""

    raw: torch.Tensor
    image: torch.Tensor
    before: torch.Tensor
    region: torch.Tensor
    units: list[int]


def check_region(region, like: torch.Tensor, who: str) -> torch.Tensor:
    """``region``: ``1×1×H×W`` or ``H×W`` of 0/1 (or bool) at the photo's size, not empty."""
    if not isinstance(region, torch.Tensor):
        raise ValueError(f"{who}: expected a region tensor 1×1×H×W of 0/1, got {describe(region)}")
    if region.dim() == 2:
        region = region[None, None]
    size = tuple(like.shape[-2:])
    if region.dim() != 4 or region.shape[:2] != (1, 1) or tuple(region.shape[-2:]) != size:
        raise ValueError(f"{who}: expected a region 1×1×{size[0]}×{size[1]} (the photo's size), "
                         f"got {describe(region)}")
    region = region.float()
    if region.min() < 0 or region.max() > 1:
        raise ValueError(f"{who}: region values must be in [0, 1], got {describe(region)}")
    if not bool((region > 0.5).any()):
        raise ValueError(f"{who}: the region is empty: paint where the edit should go")
    return (region > 0.5).float()


def adaptation_loss(output: torch.Tensor, photo: torch.Tensor, deltas: dict[str, torch.Tensor],
                    weights: dict[str, torch.Tensor], adapt_weight: float) -> torch.Tensor:
    """``‖G_B^{θ+δ}(r) − x‖² + λ Σ_i ‖δ_i‖² / ‖θ_i‖²``: the reconstruction (mean over pixels)
    plus the price of changing each layer's weights, relative to their size."""
    reconstruction = F.mse_loss(output, photo)
    penalty = sum((d ** 2).sum() / (weights[name] ** 2).sum().clamp_min(1e-12) for name, d in deltas.items())
    return reconstruction + adapt_weight * penalty


class GANPaint:
    """Edit photos with a generator, dissected at one layer.

    ``prepare(photo)`` inverts and adapts once (seconds); ``edit(prepared, region, concept,
    mode)`` then costs one pass of ``G_B`` (milliseconds)."""

    def __init__(self, generator: LatentGenerator, dissection: Dissection,
                 config: GANPaintConfig | None = None):
        if not isinstance(dissection, Dissection):
            raise ValueError(f"GANPaint: expected a dissection.Dissection, got {type(dissection).__name__}")
        self.generator = generator
        self.dissection = dissection
        self.config = config or GANPaintConfig()
        self.g_f, self.g_b = split(generator, dissection.layer)
        self.weights = {k: v.detach() for k, v in self.g_b.named_parameters()}

    # ------------------------------------------------------------------ 1. invert
    def _check_photo(self, photo, who: str) -> torch.Tensor:
        photo = check_image(photo, who)
        s = self.generator.config.image_size
        if photo.shape[0] != 1 or tuple(photo.shape[-2:]) != (s, s):
            raise ValueError(f"{who}: expected one photo 1×3×{s}×{s} in [-1, 1] (the generator's "
                             f"size), got {describe(photo)}")
        return photo.detach().clone()

    def invert(self, photo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """``(z, r*, reconstructions)``: ``z`` by optimisation, then the features from ``G_F(z)``."""
        c = self.config
        inv = invert(self.generator, photo, InversionConfig(space="z", steps=c.z_steps, lr=c.z_lr,
                                                            perceptual_weight=0.0, restarts=c.z_restarts))
        with eval_mode(self.generator, frozen=True):
            with torch.no_grad():
                r = self.g_f(inv.latent).clone()
            r.requires_grad_(True)
            opt = torch.optim.Adam([r], lr=c.feature_lr)
            for _ in range(c.feature_steps):
                loss = F.mse_loss(self.g_b(r), photo)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    r.clamp_(min=0)      # r is a ReLU's output
            with torch.no_grad():
                recon = {"z": inv.image.detach(), "features": self.g_b(r)}
        return inv.latent.detach(), r.detach(), recon

    # ------------------------------------------------------------------ 2. adapt
    def render(self, features: torch.Tensor, deltas: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """``G_B^{θ+δ}(features)`` (``δ`` = 0 when ``deltas`` is None), differentiable."""
        if not deltas:
            return self.g_b(features)
        params = {k: w + deltas[k] for k, w in self.weights.items()}
        return functional_call(self.g_b, params, (features,))

    def adapt(self, photo: torch.Tensor, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """The weight changes ``δ`` that let ``G_B`` reproduce this photo from ``features``."""
        c = self.config
        deltas = {k: torch.zeros_like(w, requires_grad=True) for k, w in self.weights.items()}
        opt = torch.optim.Adam(deltas.values(), lr=c.adapt_lr)
        with eval_mode(self.generator, frozen=True):
            for _ in range(c.adapt_steps):
                loss = adaptation_loss(self.render(features, deltas), photo, deltas, self.weights,
                                       c.adapt_weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        return {k: d.detach() for k, d in deltas.items()}

    def prepare(self, photo: torch.Tensor) -> Photo:
        """Invert ``photo`` (``1×3×S×S``) and adapt ``G_B`` to it."""
        photo = self._check_photo(photo, "GANPaint.prepare(photo)")
        photo = photo.to(next(self.generator.parameters()).device)   # all work on the generator's device
        t0 = time.perf_counter()
        z, r, recon = self.invert(photo)
        t1 = time.perf_counter()
        deltas = self.adapt(photo, r)
        t2 = time.perf_counter()
        with torch.no_grad(), eval_mode(self.generator):
            recon["adapted"] = self.render(r, deltas)
        scores = {k: float(psnr(v, photo).mean()) for k, v in recon.items()}
        return Photo(photo, z, r, deltas, recon, scores, {"invert": t1 - t0, "adapt": t2 - t1})

    # ------------------------------------------------------------------ 3. edit
    @torch.no_grad()
    def edit(self, prepared: Photo, region: torch.Tensor, concept: str, mode: str = "add",
             strength: float | None = None) -> EditResult:
        """Add or remove ``concept`` inside ``region`` (``1×1×S×S`` of 0/1) of a prepared photo."""
        if not isinstance(prepared, Photo):
            raise ValueError("GANPaint.edit: expected a Photo from GANPaint.prepare, got "
                             f"{type(prepared).__name__}")
        if mode not in MODES:
            raise ValueError(f"GANPaint.edit: mode must be one of {MODES}, got {mode!r}")
        self.dissection.check_concept(concept)
        region = check_region(region, prepared.photo, "GANPaint.edit(region)").to(prepared.photo.device)
        units = self.dissection.top_units(concept, self.config.units)
        strength = self.config.strength if strength is None else float(strength)
        edited = intervene(prepared.features, units, mode, region, self.dissection.on_values, strength)
        with eval_mode(self.generator, frozen=True):
            raw = self.render(edited, prepared.deltas).clamp(-1, 1)
        image = paste(raw, prepared.photo, region, self.config.feather)
        before = prepared.reconstructions["adapted"].clamp(-1, 1)    # G_B'(r*), rendered by prepare
        return EditResult(raw, image, before, region, units)


def paste(edited: torch.Tensor, photo: torch.Tensor, region: torch.Tensor, feather: int) -> torch.Tensor:
    """The edit inside ``region``, the photo outside: the region is grown by ``feather`` px and
    its edge softened over ``feather`` px more, so pixels farther than ``2·feather`` px from the
    region are the photo's own, exactly."""
    m = region
    if feather > 0:
        k = 2 * feather + 1
        m = F.max_pool2d(m, k, stride=1, padding=feather)                       # grow
        m = F.avg_pool2d(m, k, stride=1, padding=feather, count_include_pad=False)   # soften
    return m * edited + (1 - m) * photo


def edit(painter: GANPaint, photo: torch.Tensor, region: torch.Tensor, concept: str,
         mode: str = "add") -> EditResult:
    """One call: prepare ``photo`` (invert, adapt) and edit it. To edit one photo several
    times, call :meth:`GANPaint.prepare` once and :meth:`GANPaint.edit` for each edit."""
    if not isinstance(painter, GANPaint):
        raise ValueError(f"edit: expected a GANPaint as the first argument, got {type(painter).__name__}")
    if mode not in MODES:
        raise ValueError(f"edit: mode must be one of {MODES}, got {mode!r}")
    painter.dissection.check_concept(concept)
    check_region(region, check_image(photo, "edit(photo)"), "edit(region)")
    return painter.edit(painter.prepare(photo), region, concept, mode)

