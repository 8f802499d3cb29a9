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

Symbols -> code: ``x`` -> ``target``; ``G(latent)`` -> :func:`synthesize`; the spaces ``Z``,
``W``, ``W+`` -> ``space="z" | "w" | "w+"``; the start ``w̄`` (mean w) -> :func:`initial_latent`;
``L_percept`` -> ``features`` (a callable giving a list of feature maps, see
:func:`perceptual_distance`); ``R`` -> :func:`noise_regularization`; the learning-rate ramp ->
:func:`learning_rate`. The DCGAN has only ``z``; a StyleGAN (:mod:`course_lib.stylegan`) has all three.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_count, check_image, check_seed
from .inpainting import hole_psnr

__all__ = ["SPACES", "InversionConfig", "Inversion", "spaces_of", "initial_latent", "synthesize",
           "learning_rate", "noise_regularization", "perceptual_distance", "psnr", "invert"]

SPACES = ("z", "w", "w+")
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


def spaces_of(generator: nn.Module) -> tuple[str, ...]:
    """The spaces a generator can be inverted into: a StyleGAN has a synthesis network."""
    return SPACES if hasattr(generator, "synthesis") else ("z",)


def _check_space(generator: nn.Module, space: str) -> str:
    if space not in spaces_of(generator):
        raise ValueError(f"invert: space {space!r} is not one of {spaces_of(generator)} for a "
                         f"{type(generator).__name__}")
    return space


def _z_dim(generator: nn.Module) -> int:
    config = generator.config
    return getattr(config, "z_dim", getattr(config, "nz", None))


def initial_latent(generator: nn.Module, space: str, n: int = 1, seed: int = 0) -> torch.Tensor:
    """Where optimisation starts: random ``z`` in Z, the mean ``w̄`` in W and W+ (Image2StyleGAN 3.2)."""
    _check_space(generator, space)
    n, seed = check_count(n, "initial_latent(n)"), check_seed(seed, "initial_latent(seed)")
    if space == "z":
        return torch.randn(n, _z_dim(generator), generator=torch.Generator().manual_seed(seed))
    w = generator.mean_w().cpu().expand(n, -1).clone()
    return w if space == "w" else generator.broadcast(w).clone()


def synthesize(generator: nn.Module, latent: torch.Tensor, space: str,
               noise: list[torch.Tensor] | None = None) -> torch.Tensor:
    """``G(latent)`` for a latent code of ``space``, differentiable in the latent code."""
    _check_space(generator, space)
    if not hasattr(generator, "synthesis"):
        return generator(latent)
    if space == "z":
        w_plus = generator.broadcast(generator.mapping(latent))
    elif space == "w":
        w_plus = generator.broadcast(latent)
    else:
        w_plus = latent
    return generator.synthesis(w_plus, noise=noise, noise_mode="const")


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


def perceptual_distance(features: Features, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Image2StyleGAN's perceptual loss: the mean squared difference of feature maps, summed
    over the layers that ``features`` returns (one value per image pair)."""
    fa, fb = features(a), features(b)
    return sum(((x - y) ** 2).flatten(1).mean(1) for x, y in zip(fa, fb))


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image pair, on the [0, 1] scale: ``N`` values
    (:func:`course_lib.inpainting.hole_psnr` with the whole image as the hole)."""
    return hole_psnr(a, b, torch.ones_like(a[:, :1]))


def _noise_maps(generator: nn.Module, n: int, optimize: bool) -> list[torch.Tensor] | None:
    if not hasattr(generator, "synthesis"):
        if optimize:
            raise ValueError("invert: optimize_noise needs a generator with noise inputs (a StyleGAN)")
        return None
    maps = [m.detach().clone().expand(n, -1, -1, -1).clone() for m in generator.synthesis.noise_buffers()]
    return [m.requires_grad_(optimize) for m in maps]


def invert(generator: nn.Module, target: torch.Tensor, config: InversionConfig | None = None,
           features: Features | None = None, init: torch.Tensor | None = None,
           callback: Callable[[int, torch.Tensor], None] | None = None) -> Inversion:
    """Optimise a latent code of ``config.space`` so that ``G(latent)`` matches ``target``.

    ``init`` starts from a given code (an encoder's guess: hybrid inversion) instead of
    :func:`initial_latent`. ``features`` adds the perceptual term; without it only the
    pixel MSE is used. ``callback(step, image)`` sees the current image every step.
    """
    config = config or InversionConfig()
    target = check_image(target, "invert(target)")
    space = _check_space(generator, config.space)
    steps = check_count(config.steps, "InversionConfig.steps")
    if features is None and config.mse_weight <= 0:
        raise ValueError("invert: with mse_weight <= 0 a perceptual `features` network is needed")
    dev = next(generator.parameters()).device
    target = target.to(dev)
    was_training = generator.training
    frozen = {p: p.requires_grad for p in generator.parameters()}
    generator.eval()
    for p in frozen:
        p.requires_grad_(False)
    best = None
    try:
        for restart in range(check_count(config.restarts, "InversionConfig.restarts")):
            if init is not None:
                latent = init.detach().clone().to(dev)
            else:
                latent = initial_latent(generator, space, len(target), config.seed + restart).to(dev)
            latent.requires_grad_(True)
            noise = _noise_maps(generator, len(target), config.optimize_noise)
            noise = [m.to(dev) for m in noise] if noise is not None else None
            params = [latent] + (noise if config.optimize_noise else [])
            opt = torch.optim.Adam(params, lr=config.lr)
            history = []
            for step in range(steps):
                lr = learning_rate(step / steps, config.lr, config.lr_rampup, config.lr_rampdown)
                for group in opt.param_groups:
                    group["lr"] = lr
                image = synthesize(generator, latent, space, noise)
                mse = F.mse_loss(image, target)
                percept = (perceptual_distance(features, image, target).mean() if features is not None
                           and config.perceptual_weight > 0 else torch.zeros((), device=dev))
                loss = config.mse_weight * mse + config.perceptual_weight * percept
                if config.optimize_noise:
                    loss = loss + config.noise_weight * noise_regularization(noise)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if config.optimize_noise:
                    with torch.no_grad():          # keep each map at zero mean, unit variance
                        for m in noise:
                            m.sub_(m.mean((1, 2, 3), keepdim=True)).div_(m.std((1, 2, 3), keepdim=True))
                history.append({"step": step, "loss": float(loss.detach()), "mse": float(mse.detach()),
                                "perceptual": float(percept.detach()), "lr": lr,
                                "psnr": float(psnr(image.detach(), target).mean())})
                if callback is not None:
                    callback(step, image.detach())
            with torch.no_grad():
                image = synthesize(generator, latent, space, noise)
                history[-1]["psnr"] = float(psnr(image, target).mean())
            if best is None or history[-1]["loss"] < best.history[-1]["loss"]:
                best = Inversion(space, latent.detach(), image.detach(), history,
                                 [m.detach() for m in noise] if noise is not None else None)
    finally:
        for p, flag in frozen.items():
            p.requires_grad_(flag)
        generator.train(was_training)
    return best
