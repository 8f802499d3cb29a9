"""GAN inversion by optimisation: find the latent code whose image matches a given image.

Zhu, Krähenbühl, Shechtman and Efros 2016, "Generative Visual Manipulation on the Natural
Image Manifold", and Creswell and Bharath 2018, "Inverting the Generator of a Generative
Adversarial Network", invert a generator by gradient descent on its input. Abdal, Qin and
Wonka 2019, "Image2StyleGAN: How to Embed Images Into the StyleGAN Latent Space?", ask
*which* input to optimise in a StyleGAN: ``z``, ``w``, or ``w+`` (one ``w`` per layer), and
find that ``w+`` reconstructs far better, even images unlike the training set.

The objective (Image2StyleGAN, Eq. 1, with the noise regulariser of StyleGAN 2's projector):

    latent* = argmin  mse_weight * MSE(G(latent), x) + perceptual_weight * L_percept(G(latent), x)
                      + noise_weight * R(noise)

Symbols -> code: ``x`` -> ``target``; ``G(latent)`` -> ``generator.synthesize(latent, space)``
(:class:`course_lib.layers.LatentGenerator`); the spaces ``Z``, ``W``, ``W+`` -> ``space="z" |
"w" | "w+"`` (a generator lists its own in ``generator.spaces``: the DCGAN has only ``z``, a
StyleGAN all three); the start ``w̄`` (mean w) -> :func:`initial_latent`; ``L_percept`` ->
``features`` (a callable giving a list of feature maps, see
:func:`course_lib.losses.perceptual_distance`); ``R`` -> :func:`noise_regularization`; the
learning-rate ramp -> :func:`learning_rate`; one search step -> :func:`_adam_search` (the loop)
over :func:`_objective` (the energy).
The papers search with Adam; ``InversionConfig(optimizer="lbfgs")`` searches with L-BFGS instead
(Liu and Nocedal 1989, "On the limited memory BFGS method for large scale optimization"), which
suits this deterministic, smooth objective (:func:`_lbfgs_search`).

Encoders and hybrid inversion. Zhu et al. 2016 (Sec. 3.1) compare three ways to invert: optimise,
train an encoder ``P`` that maps an image to its code in one pass, or both, the "hybrid" method:
start the optimisation at ``P(x)``. The encoder is fast but approximate, optimisation exact but
slow and dependent on where it starts. The encoder is a model of its own
(:class:`course_lib.encoder.Encoder`, trained as ``stylegan-encoder``); here :func:`encode` runs
it and :func:`hybrid_invert` starts :func:`invert` at its code. Symbols -> code: ``P`` / ``E`` ->
``encoder``; ``P(x)`` -> :func:`encode`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_count, check_image, check_seed
from .encoder import Encoder, check_fits
from .layers import LatentGenerator
from .losses import perceptual_distance
from .metrics import psnr
from .runtime import eval_mode

__all__ = ["SPACES", "InversionConfig", "PRESETS", "Inversion", "initial_latent", "learning_rate",
           "noise_regularization", "invert", "encode", "hybrid_invert"]

SPACES = ("z", "w", "w+")
OPTIMIZERS = ("adam", "lbfgs")
LBFGS_HISTORY = 20    # curvature pairs L-BFGS keeps (torch.optim.LBFGS's history_size)
Features = Callable[[torch.Tensor], Sequence[torch.Tensor]]


@dataclasses.dataclass
class InversionConfig:
    space: str = "w+"
    steps: int = 1000
    lr: float = 0.1              # peak learning rate of Adam
    lr_rampup: float = 0.05      # fraction of the steps spent ramping up ...
    lr_rampdown: float = 0.25    # ... and, at the end, ramping down (a half cosine)
    mse_weight: float = 1.0
    perceptual_weight: float = 1.0
    noise_weight: float = 1e5    # R(noise), only when optimize_noise is on
    optimize_noise: bool = False
    restarts: int = 1            # independent starts; the best final loss wins (Z has local minima)
    seed: int = 0
    optimizer: str = "adam"      # "adam" (the papers', with the ramp above) or "lbfgs" (see invert)



#: Tuned settings per shipped generator (``dataclasses.replace`` them to change one field).
#: ``stylegan-faces64`` (benchmarks/bench_inversion.py and lecture 03 measure these), chosen on
#: 6-8 faces: the learning rate and the noise on held-out faces, the steps and the weights
#: later on validation faces (seed 20,000; neither training's seed 0 nor the held-out 10,000):
#:
#: - lr 0.1: Adam's steps are per coordinate, and w spreads about 0.6 per coordinate there;
#:   0.03 and 0.01 were slower (W+, MSE, 200 steps: 22.0, 21.6, 20.3 dB for 0.1, 0.03, 0.01),
#:   0.3 no better; from the encoder's code (hybrid, 1000 steps, 8 faces) 0.05, 0.1 and 0.2 gave
#:   a median of 27.7, 28.2 and 28.2 dB;
#: - 1000 steps: W+ gains about 1 dB from 500 to 1000 steps (hybrid: 27.3 -> 28.2 dB), and 1000
#:   steps of one image take about 24 ms each on a 2-core CPU, inside the 30 s an inversion may take;
#: - perceptual weight 0 (pixels only) for this 64 px generator: the distance of
#:   ``perceptual-worlds64`` is about 100x the pixel MSE; at weight 1 it overrides the pixels
#:   (W+ 15 dB after 300 steps, 20 dB at 0.01), and even at 0.001 the hybrid ended 0.4 dB lower
#:   (27.8 against 28.2 dB) while each step cost a fifth more. PSNR scores pixels, so pixels
#:   alone score best here; what the perceptual term buys instead, lecture 02 shows;
#: - noise maps fixed: this generator learned noise strengths of about 0 (``NoiseInjection.weight``,
#:   at most 0.02), so optimising the maps has little to move; with StyleGAN 2's regulariser it
#:   changed nothing (23.4-23.8 dB); without it the maps copy the image's detail, which is not an
#:   embedding.
#:
#: ``dcgan-faces64`` (lecture 02): Z only, lr 0.05 (at 0.1 the codes drift off the |z| shell,
#: which spoils edits), perceptual weight 0.001 (what the perceptual term does, lecture 02 shows).
PRESETS = {
    "stylegan-faces64": InversionConfig(space="w+", steps=1000, lr=0.1, perceptual_weight=0.0),
    "dcgan-faces64": InversionConfig(space="z", steps=500, lr=0.05, perceptual_weight=0.001),
}

@dataclasses.dataclass
class Inversion:
    """What :func:`invert` found: the latent code, its image, and the loss/PSNR history."""

    space: str
    latent: torch.Tensor                     # z: N×nz, w: N×w_dim, w+: N×num_ws×w_dim
    image: torch.Tensor                      # G(latent), N×3×H×W
    history: list[dict[str, float]]          # one dict per step: loss, mse, perceptual, psnr, lr
    noise: list[torch.Tensor] | None = None  # the optimised noise maps (StyleGAN only)

    @property
    def psnr(self) -> float:
        return self.history[-1]["psnr"]


def _generator(generator, who: str) -> LatentGenerator:
    if not isinstance(generator, LatentGenerator):
        raise ValueError(f"{who}: expected one of the course's generators (a layers.LatentGenerator: "
                         f"dcgan.Generator, stylegan.Generator), got {type(generator).__name__}")
    return generator


def initial_latent(generator: LatentGenerator, space: str, n: int = 1, seed: int = 0) -> torch.Tensor:
    """Where optimisation starts: random ``z`` in Z, the mean ``w̄`` in W and W+ (Image2StyleGAN 3.2)."""
    _generator(generator, "initial_latent").check_space(space, "initial_latent")
    n, seed = check_count(n, "initial_latent(n)"), check_seed(seed, "initial_latent(seed)")
    if space == "z":
        return generator.sample_latent(n, seed)
    w = generator.mean_w().cpu().expand(n, -1).clone()
    return w if space == "w" else generator.broadcast(w).clone()


def learning_rate(t: float, base: float, rampup: float = 0.05, rampdown: float = 0.25) -> float:
    """The projector's schedule at fraction ``t`` of the run: linear warm-up, flat, cosine decay."""
    ramp = min(1.0, (1 - t) / rampdown) if rampdown > 0 else 1.0
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    if rampup > 0:
        ramp *= min(1.0, t / rampup)
    return base * ramp


def noise_regularization(noise: Sequence[torch.Tensor]) -> torch.Tensor:
    """StyleGAN 2's noise regulariser: squared autocorrelation of each noise map at shifts of 1
    pixel, over a pyramid down to 8×8, so optimised noise cannot smuggle the image in."""
    loss = torch.zeros(())
    for m in noise:
        while True:
            loss = loss + (m * torch.roll(m, 1, dims=3)).mean() ** 2 \
                + (m * torch.roll(m, 1, dims=2)).mean() ** 2
            if m.shape[-1] <= 8:
                break
            m = F.avg_pool2d(m, 2)
    return loss



def _noise_maps(generator: LatentGenerator, n: int, optimize: bool) -> list[torch.Tensor] | None:
    """Copies of the generator's fixed noise maps for ``n`` images (None: it has none)."""
    buffers = generator.noise_maps()
    if not buffers:
        if optimize:
            raise ValueError("invert: optimize_noise needs a generator with noise inputs (a StyleGAN)")
        return None
    maps = [m.detach().clone().expand(n, -1, -1, -1).clone() for m in buffers]
    return [m.requires_grad_(optimize) for m in maps]


def _remember(features: Features, target: torch.Tensor, target_features) -> Features:
    """``features``, except that it returns ``target_features`` for ``target`` itself."""
    return lambda images: target_features if images is target else features(images)


def _objective(generator: nn.Module, latent: torch.Tensor, space: str, noise, target: torch.Tensor,
               features: Features | None, config: InversionConfig):
    """The loss of the module docstring for ``latent``: ``(loss, mse, perceptual, image)``."""
    image = generator.synthesize(latent, space, noise)
    mse = F.mse_loss(image, target)
    percept = (perceptual_distance(features, image, target).mean() if features is not None
               and config.perceptual_weight > 0 else torch.zeros((), device=image.device))
    loss = config.mse_weight * mse + config.perceptual_weight * percept
    if config.optimize_noise:
        loss = loss + config.noise_weight * noise_regularization(noise)
    return loss, mse, percept, image


def _record(step: int, loss, mse, percept, image, target, lr: float) -> dict[str, float]:
    return {"step": step, "loss": float(loss.detach()), "mse": float(mse.detach()),
            "perceptual": float(percept.detach()), "lr": lr,
            "psnr": float(psnr(image.detach(), target).mean())}


def _adam_search(generator: nn.Module, target: torch.Tensor, latent: torch.Tensor, space: str, noise,
                 features: Features | None, config: InversionConfig, callback) -> list[dict[str, float]]:
    """Adam with the projector's learning-rate ramp, the whole batch at once (Adam's steps are
    per coordinate, so the images do not interact); ``latent`` (and the noise maps, when
    optimised) are updated in place. Returns the history per step."""
    params = [latent] + (noise if config.optimize_noise else [])
    opt = torch.optim.Adam(params, lr=config.lr)
    history = []
    for step in range(config.steps):
        lr = learning_rate(step / config.steps, config.lr, config.lr_rampup, config.lr_rampdown)
        for group in opt.param_groups:
            group["lr"] = lr
        loss, mse, percept, image = _objective(generator, latent, space, noise, target, features, config)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if config.optimize_noise:
            with torch.no_grad():          # keep each map at zero mean, unit variance
                for m in noise:
                    m.sub_(m.mean((1, 2, 3), keepdim=True)).div_(m.std((1, 2, 3), keepdim=True))
        history.append(_record(step, loss, mse, percept, image, target, lr))
        if callback is not None:
            callback(step, image.detach())
    return history


def _lbfgs_one(generator: nn.Module, target: torch.Tensor, code: torch.Tensor, space: str, noise,
               features: Features | None, config: InversionConfig) -> list[dict[str, float]]:
    """L-BFGS on one image's code (``1×...``, updated in place); the history per evaluation."""
    code.requires_grad_(True)
    opt = torch.optim.LBFGS([code], lr=1.0, max_iter=config.steps, max_eval=config.steps,
                            history_size=LBFGS_HISTORY, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-12, tolerance_change=1e-14)
    history = []

    def closure():
        opt.zero_grad(set_to_none=True)
        loss, mse, percept, image = _objective(generator, code, space, noise, target, features, config)
        loss.backward()
        history.append(_record(len(history), loss, mse, percept, image, target, 1.0))
        return loss

    opt.step(closure)
    code.requires_grad_(False)
    return history


def _lbfgs_search(generator: nn.Module, target: torch.Tensor, latent: torch.Tensor, space: str, noise,
                  features: Features | None, config: InversionConfig) -> list[dict[str, float]]:
    """Minimise the objective with L-BFGS (Liu and Nocedal 1989), strong-Wolfe line search, one
    image at a time, so that each image's search is independent of the others (one line search
    for a batch would tie their step sizes together). ``config.steps`` caps the generator
    evaluations per image; ``latent`` is updated in place. Returns the history per evaluation,
    averaged over the images."""
    histories = []
    for i in range(len(target)):
        code = latent[i:i + 1].detach().clone()
        maps = [m[i:i + 1] for m in noise] if noise is not None else None
        histories.append(_lbfgs_one(generator, target[i:i + 1], code, space, maps, features, config))
        with torch.no_grad():
            latent[i:i + 1] = code
    longest = max(len(h) for h in histories)   # a search that stopped early keeps its last values
    padded = [h + [h[-1]] * (longest - len(h)) for h in histories]
    return [{key: (k if key == "step" else sum(h[k][key] for h in padded) / len(padded))
             for key in padded[0][0]} for k in range(longest)]


def invert(generator: nn.Module, target: torch.Tensor, config: InversionConfig | None = None,
           features: Features | None = None, init: torch.Tensor | None = None,
           callback: Callable[[int, torch.Tensor], None] | None = None) -> Inversion:
    """Optimise a latent code of ``config.space`` so that ``G(latent)`` matches ``target``.

    ``init`` starts from a given code (an encoder's guess: hybrid inversion) instead of
    :func:`initial_latent`. ``features`` adds the perceptual term; without it only the
    pixel MSE is used. ``callback(step, image)`` sees the current image every step.

    ``config.optimizer`` picks the search: ``"adam"``, the papers' (Image2StyleGAN and StyleGAN 2's
    projector), with the learning-rate ramp; or ``"lbfgs"``, a quasi-Newton method that suits
    this objective, which is deterministic and smooth (noise maps fixed), and that needs no
    learning rate. It runs one image at a time (:func:`_lbfgs_search`), with ``config.steps``
    generator evaluations each, and takes neither ``optimize_noise`` nor a ``callback``.
    """
    config = config or InversionConfig()
    target = check_image(target, "invert(target)")
    space = _generator(generator, "invert").check_space(config.space, "invert")
    check_count(config.steps, "InversionConfig.steps")
    if features is None and config.mse_weight <= 0:
        raise ValueError("invert: with mse_weight <= 0 a perceptual `features` network is needed")
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"invert: optimizer must be one of {OPTIMIZERS}, got {config.optimizer!r}")
    if config.optimizer == "lbfgs" and (config.optimize_noise or callback is not None):
        raise ValueError("invert: optimizer='lbfgs' runs one image at a time and optimises only the latent "
                         "code: it takes neither optimize_noise=True nor a callback (use 'adam')")
    dev = next(generator.parameters()).device
    target = target.to(dev)
    if features is not None and config.perceptual_weight > 0:
        with torch.no_grad():  # the target's features do not change: compute them once
            target_features = list(features(target))
        features = _remember(features, target, target_features)
    best = None
    with eval_mode(generator, frozen=True):
        for restart in range(check_count(config.restarts, "InversionConfig.restarts")):
            if init is not None:
                latent = init.detach().clone().to(dev)
            else:
                latent = initial_latent(generator, space, len(target), config.seed + restart).to(dev)
            latent.requires_grad_(config.optimizer == "adam")   # L-BFGS optimises per-image copies
            noise = _noise_maps(generator, len(target), config.optimize_noise)
            noise = [m.to(dev) for m in noise] if noise is not None else None
            if config.optimizer == "lbfgs":
                history = _lbfgs_search(generator, target, latent, space, noise, features, config)
            else:
                history = _adam_search(generator, target, latent, space, noise, features, config, callback)
            with torch.no_grad():
                image = generator.synthesize(latent, space, noise)
                history[-1]["psnr"] = float(psnr(image, target).mean())
            if best is None or history[-1]["loss"] < best.history[-1]["loss"]:
                best = Inversion(space, latent.detach(), image.detach(), history,
                                 [m.detach() for m in noise] if noise is not None else None)
    return best


# ----------------------------------------------------------------------------- the encoder

@torch.no_grad()
def encode(encoder: Encoder, images: torch.Tensor) -> torch.Tensor:
    """``E(images)``: the encoder's W+ codes, in eval mode, on the encoder's device."""
    if not isinstance(encoder, Encoder):
        raise ValueError(f"encode: expected an encoder.Encoder, got {type(encoder).__name__}")
    with eval_mode(encoder):
        return encoder(images.to(encoder.mean_w.device))


def hybrid_invert(generator: nn.Module, encoder: Encoder, target: torch.Tensor,
                  config: InversionConfig | None = None, features: Features | None = None,
                  callback: Callable[[int, torch.Tensor], None] | None = None) -> Inversion:
    """Hybrid inversion (Zhu et al. 2016, Sec. 3.1): the encoder's guess ``E(x)``, then
    :func:`invert` in W+ starting from it. The encoder lands near the answer in one pass; the
    optimisation then needs far fewer steps than from the mean face."""
    config = config or InversionConfig(space="w+")
    if config.space != "w+":
        raise ValueError(f"hybrid_invert: the encoder gives W+ codes; use InversionConfig(space='w+'), "
                         f"not {config.space!r}")
    check_fits(generator, encoder, "hybrid_invert")
    target = check_image(target, "hybrid_invert(target)")
    return invert(generator, target, config, features=features, init=encode(encoder, target),
                  callback=callback)
