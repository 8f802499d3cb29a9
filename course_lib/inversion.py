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
The papers search with Adam; ``InversionConfig(optimizer="lbfgs")`` searches with L-BFGS instead
(Liu and Nocedal 1989, "On the limited memory BFGS method for large scale optimization"), which
suits this deterministic, smooth objective (:func:`_lbfgs_search`).

Encoders and hybrid inversion. Zhu et al. 2016 (Sec. 3.1) compare three ways to invert: optimise,
train an encoder ``P`` that maps an image to its code in one pass, or both, the "hybrid" method:
start the optimisation at ``P(x)``. The encoder is fast but approximate, optimisation exact but
slow and dependent on where it starts. Here the encoder (:class:`Encoder`, trained by
:class:`EncoderRecipe` as ``stylegan-encoder``) writes W+ codes as offsets from ``w̄``, as pSp does
(Richardson et al. 2021, "Encoding in Style"), and :func:`hybrid_invert` starts :func:`invert` there.
Symbols -> code: ``P`` / ``E`` -> ``encoder``; ``P(x)`` -> :func:`encode`; the encoder's training
loss ``||E(G(w+)) - w+||² + ||G(E(x)) - x||²`` -> :meth:`EncoderRecipe.training_step`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_count, check_image, check_seed, describe
from .dcgan import down_block
from .inpainting import hole_psnr
from .latent import _z_dim, sample_z
from .stylegan import resolutions, channels_at
from .trainer import Recipe, TrainSettings

__all__ = ["SPACES", "InversionConfig", "PRESETS", "Inversion", "spaces_of", "initial_latent", "synthesize",
           "learning_rate", "noise_regularization", "perceptual_distance", "psnr", "invert",
           "EncoderConfig", "Encoder", "encode", "hybrid_invert", "EncoderRecipe"]

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


def spaces_of(generator: nn.Module) -> tuple[str, ...]:
    """The spaces a generator can be inverted into: a StyleGAN has a synthesis network."""
    return SPACES if hasattr(generator, "synthesis") else ("z",)


def _check_space(generator: nn.Module, space: str) -> str:
    if space not in spaces_of(generator):
        raise ValueError(f"invert: space {space!r} is not one of {spaces_of(generator)} for a "
                         f"{type(generator).__name__}")
    return space


def initial_latent(generator: nn.Module, space: str, n: int = 1, seed: int = 0) -> torch.Tensor:
    """Where optimisation starts: random ``z`` in Z, the mean ``w̄`` in W and W+ (Image2StyleGAN 3.2)."""
    _check_space(generator, space)
    n, seed = check_count(n, "initial_latent(n)"), check_seed(seed, "initial_latent(seed)")
    if space == "z":
        return sample_z(n, _z_dim(generator), seed)
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


def _remember(features: Features, target: torch.Tensor, target_features) -> Features:
    """``features``, except that it returns ``target_features`` for ``target`` itself."""
    return lambda images: target_features if images is target else features(images)


def _objective(generator: nn.Module, latent: torch.Tensor, space: str, noise, target: torch.Tensor,
               features: Features | None, config: InversionConfig):
    """The loss of the module docstring for ``latent``: ``(loss, mse, perceptual, image)``."""
    image = synthesize(generator, latent, space, noise)
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
    space = _check_space(generator, config.space)
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
    was_training = generator.training
    frozen = {p: p.requires_grad for p in generator.parameters()}
    generator.eval()
    for p in frozen:
        p.requires_grad_(False)
    if features is not None and config.perceptual_weight > 0:
        with torch.no_grad():  # the target's features do not change: compute them once
            target_features = list(features(target))
        features = _remember(features, target, target_features)
    best = None
    try:
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


# ----------------------------------------------------------------------------- the encoder

@dataclasses.dataclass
class EncoderConfig:
    """An encoder for one generator: its image size and its W+ shape (``num_ws × w_dim``)."""

    generator: str = "stylegan-faces64"    # the shipped StyleGAN it inverts (loaded to train)
    image_size: int = 64
    num_ws: int = 10                       # the generator's num_ws and w_dim
    w_dim: int = 128
    channel_base: int = 1024               # channels at resolution r: min(channel_base // r, channel_max)
    channel_max: int = 64
    hidden: int = 256                      # the one vector that all layers' offsets are read from
    latent_weight: float = 1.0             # ||E(x) - w+||², generated images only
    pixel_weight: float = 5.0              # ||G(E(x)) - x||², generated and real images
    perceptual: str = "perceptual-worlds64"   # a shipped feature network; the term is off without it
    perceptual_weight: float = 0.1
    real_fraction: float = 0.5             # share of each batch taken from the world (image loss only)
    style_mixing: float = 0.5              # probability that a batch's W+ codes mix two w's
    truncation: float = 1.0                # psi of the sampled w (1: the whole of W)
    lr: float = 1e-3
    data_size: int = 10_000                # real faces generated for training (seed 0)


class Encoder(nn.Module):
    """Image ``N×3×S×S`` in [-1, 1] -> ``w_plus`` ``N×num_ws×w_dim``.

    Strided 4×4 convolutions halve the image down to 4×4 (DCGAN's :func:`~course_lib.dcgan.down_block`,
    without batch norm so that training and evaluation agree); a linear layer reads one feature
    vector from the 4×4 map, and a last linear layer maps it to an *offset* for every layer's ``w``.
    The code is ``w̄ + offset`` (pSp, Richardson et al. 2021, Sec. 3: "we add the average style
    vector"): the last layer starts at zero, so an untrained encoder answers the mean face, where
    optimisation-based inversion starts too (:func:`initial_latent`).
    """

    def __init__(self, config: EncoderConfig, mean_w: torch.Tensor | None = None):
        super().__init__()
        self.config = config
        res = resolutions(config)[::-1]                     # S, S/2, ..., 4
        self.from_rgb = nn.Sequential(nn.Conv2d(3, channels_at(config, res[0]), 3, padding=1),
                                      nn.LeakyReLU(0.2, inplace=True))
        self.blocks = nn.Sequential(*[down_block(channels_at(config, r), channels_at(config, r // 2),
                                                 norm=False) for r in res[:-1]])
        self.to_vector = nn.Sequential(nn.Flatten(), nn.Linear(channels_at(config, 4) * 16, config.hidden),
                                       nn.LeakyReLU(0.2, inplace=True))
        self.to_offsets = nn.Linear(config.hidden, config.num_ws * config.w_dim)
        nn.init.zeros_(self.to_offsets.weight)
        nn.init.zeros_(self.to_offsets.bias)
        if mean_w is None:
            mean_w = torch.zeros(1, config.w_dim)
        if not isinstance(mean_w, torch.Tensor) or tuple(mean_w.shape) != (1, config.w_dim):
            raise ValueError(f"Encoder: expected mean_w of shape 1×{config.w_dim} (G.mean_w()), "
                             f"got {describe(mean_w)}")
        self.register_buffer("mean_w", mean_w.detach().float().clone())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        s = self.config.image_size
        images = check_image(images, "Encoder(images)")
        if tuple(images.shape[2:]) != (s, s):
            raise ValueError(f"Encoder: expected images N×3×{s}×{s} in [-1, 1], got {describe(images)}")
        offsets = self.to_offsets(self.to_vector(self.blocks(self.from_rgb(images))))
        return self.mean_w[:, None, :] + offsets.view(len(images), self.config.num_ws, self.config.w_dim)


def _check_pair(generator: nn.Module, encoder: nn.Module, who: str) -> None:
    """Raise unless ``encoder`` writes the W+ codes that ``generator`` reads."""
    if not isinstance(encoder, Encoder):
        raise ValueError(f"{who}: expected an inversion.Encoder, got {type(encoder).__name__}")
    if "w+" not in spaces_of(generator):
        raise ValueError(f"{who}: the encoder writes W+ codes; a {type(generator).__name__} has no W+")
    c, g = encoder.config, generator.config
    if (c.num_ws, c.w_dim, c.image_size) != (generator.num_ws, g.w_dim, g.image_size):
        raise ValueError(f"{who}: the encoder writes {c.num_ws}×{c.w_dim} codes for {c.image_size} px "
                         f"images; the generator reads {generator.num_ws}×{g.w_dim} and makes "
                         f"{g.image_size} px")


@torch.no_grad()
def encode(encoder: Encoder, images: torch.Tensor) -> torch.Tensor:
    """``E(images)``: the encoder's W+ codes, in eval mode, on the encoder's device."""
    if not isinstance(encoder, Encoder):
        raise ValueError(f"encode: expected an inversion.Encoder, got {type(encoder).__name__}")
    was_training = encoder.training
    encoder.eval()
    try:
        return encoder(images.to(encoder.mean_w.device))
    finally:
        encoder.train(was_training)


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
    _check_pair(generator, encoder, "hybrid_invert")
    target = check_image(target, "hybrid_invert(target)")
    return invert(generator, target, config, features=features, init=encode(encoder, target),
                  callback=callback)


class EncoderRecipe(Recipe):
    """Train an :class:`Encoder` for a shipped, frozen StyleGAN.

    Each step samples ``z -> w`` (style-mixed, so the W+ codes vary across layers), makes
    ``x = G(w+)`` and trains ``E`` on ``latent_weight ||E(x) - w+||² + pixel_weight ||G(E(x)) - x||²``
    (the latent term as in Perarnau et al. 2016's IcGAN encoder, the image term as Zhu et al.
    2016's), plus a perceptual term when the feature network ``config.perceptual`` is shipped.
    A ``real_fraction`` of the batch is real faces from the world, which have no ``w+``: only
    the image terms see them.
    """

    name = "stylegan-encoder"
    config_class = EncoderConfig
    perceptual_net = None                 # the perceptual feature network, when shipped (see build)
    presets = {
        "course": EncoderConfig(),
        # a 1024 px StyleGAN's 18×512 codes, the encoder widened to match (buildable; not trained here)
        "paper": EncoderConfig(generator="stylegan-ffhq1024", image_size=1024, num_ws=18, w_dim=512,
                               channel_base=16384, channel_max=512, hidden=512),
    }
    # course: about 0.57 s a step of batch 32 on one shared CPU thread (4,238 steps took 40 minutes);
    # the shipped encoder ran 7,144 steps in 3 minutes on a GPU (the manifest records the command)
    settings = {"course": TrainSettings(steps=9_000, batch_size=32, sample_every=1000, save_every=500),
                "paper": TrainSettings(steps=200_000, batch_size=16, sample_every=5000, save_every=2500)}
    accepts = ("faces", "folder")
    export_module = "encoder"

    def build(self, config):
        from . import pretrained

        generator = pretrained.load(config.generator).requires_grad_(False).eval()
        encoder = Encoder(config, mean_w=generator.mean_w().cpu())
        _check_pair(generator, encoder, f"stylegan-encoder ({config.generator})")
        self.perceptual_net = None        # frozen, so kept out of the modules and their checkpoints
        if config.perceptual_weight > 0 and config.perceptual in pretrained.available():
            self.perceptual_net = pretrained.load(config.perceptual).requires_grad_(False).eval()
        return {"encoder": encoder, "generator": generator}

    def build_export(self, config):
        return Encoder(config)

    def optimizers(self, modules, config):
        return {"encoder": torch.optim.Adam(modules["encoder"].parameters(), lr=config.lr)}

    @staticmethod
    @torch.no_grad()
    def sample_w_plus(generator: nn.Module, n: int, config: EncoderConfig, device) -> torch.Tensor:
        """``n`` W+ codes: ``w = f(z)``, truncated by ``config.truncation``, and with probability
        ``config.style_mixing`` switched to a second ``w`` at a random layer."""
        z_dim = _z_dim(generator)
        w = generator.truncate(generator.mapping(torch.randn(n, z_dim, device=device)), config.truncation)
        if float(torch.rand(())) >= config.style_mixing:
            return generator.broadcast(w).clone()
        w_mix = generator.truncate(generator.mapping(torch.randn(n, z_dim, device=device)), config.truncation)
        return generator.mix(w, w_mix, int(torch.randint(1, generator.num_ws, ())))

    def training_step(self, modules, optimizers, batch, step, config):
        E, G = modules["encoder"], modules["generator"]
        real = check_image(batch["image"], "training batch")
        n_real = min(len(real) - 1, round(config.real_fraction * len(real)))
        w_plus = self.sample_w_plus(G, len(real) - n_real, config, real.device)
        with torch.no_grad():
            images = torch.cat([synthesize(G, w_plus, "w+"), real[:n_real]])
        codes = E(images)
        latent = F.mse_loss(codes[:len(w_plus)], w_plus)
        reconstruction = synthesize(G, codes, "w+")
        pixel = F.mse_loss(reconstruction, images)
        loss = config.latent_weight * latent + config.pixel_weight * pixel
        losses = {"latent": latent.detach(), "pixel": pixel.detach()}
        if self.perceptual_net is not None:
            self.perceptual_net.to(real.device)
            percept = perceptual_distance(self.perceptual_net, reconstruction, images).mean()
            loss = loss + config.perceptual_weight * percept
            losses["perceptual"] = percept.detach()
        optimizers["encoder"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["encoder"].step()
        return {"loss": loss.detach(), **losses}

    def samples(self, modules, config, batch):
        """Rows: 8 generated faces, their reconstructions, 8 real faces, their reconstructions."""
        E, G = modules["encoder"], modules["generator"]
        w_plus = G.broadcast(G.sample_w(8, seed=0))
        fake, real = synthesize(G, w_plus, "w+"), batch["image"][:8]
        rows = [x for target in (fake, real) for x in (target, synthesize(G, E(target), "w+"))]
        return torch.cat(rows)
