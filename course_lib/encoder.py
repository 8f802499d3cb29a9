"""An encoder for a StyleGAN: an image to its W+ code in one pass.

Zhu et al. 2016 (Sec. 3.1) invert a generator three ways: optimise the code, train an encoder
``P`` that maps an image to its code in one pass, or both ("hybrid": start the optimisation at
``P(x)``, :func:`course_lib.inversion.hybrid_invert`). This module is the encoder, the model
alone; what is done with it lives in :mod:`course_lib.inversion`.

The :class:`Encoder` writes W+ codes as offsets from ``w̄``, as pSp does (Richardson et al.
2021, "Encoding in Style"). :class:`EncoderRecipe` trains it for a shipped, frozen StyleGAN
(``python -m course_lib.train stylegan-encoder``) on

    latent_weight ||E(G(w+)) - w+||² + pixel_weight ||G(E(x)) - x||² (+ perceptual_weight L_percept)

Symbols -> code: ``P`` / ``E`` -> :class:`Encoder`; the loss -> :meth:`EncoderRecipe.training_step`.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_image, describe
from .layers import LatentGenerator, channels_at, down_block, resolutions
from .losses import perceptual_distance
from .recipes import Recipe, TrainSettings, register

__all__ = ["EncoderConfig", "Encoder", "EncoderRecipe", "check_fits"]


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

    Strided 4×4 convolutions halve the image down to 4×4 (DCGAN's :func:`~course_lib.layers.down_block`,
    without batch norm so that training and evaluation agree); a linear layer reads one feature
    vector from the 4×4 map, and a last linear layer maps it to an *offset* for every layer's ``w``.
    The code is ``w̄ + offset`` (pSp, Richardson et al. 2021, Sec. 3: "we add the average style
    vector"): the last layer starts at zero, so an untrained encoder answers the mean face, where
    optimisation-based inversion starts too (:func:`course_lib.inversion.initial_latent`).
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


def check_fits(generator: nn.Module, encoder: nn.Module, who: str) -> None:
    """Raise unless ``encoder`` writes the W+ codes that ``generator`` reads."""
    if not isinstance(encoder, Encoder):
        raise ValueError(f"{who}: expected an encoder.Encoder, got {type(encoder).__name__}")
    if not isinstance(generator, LatentGenerator) or "w+" not in generator.spaces:
        raise ValueError(f"{who}: the encoder writes W+ codes; a {type(generator).__name__} has no W+")
    c, g = encoder.config, generator.config
    if (c.num_ws, c.w_dim, c.image_size) != (generator.num_ws, g.w_dim, g.image_size):
        raise ValueError(f"{who}: the encoder writes {c.num_ws}×{c.w_dim} codes for {c.image_size} px "
                         f"images; the generator reads {generator.num_ws}×{g.w_dim} and makes "
                         f"{g.image_size} px")


@register
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

    def starts_from(self, config):
        """The shipped StyleGAN it learns to invert and, when its term is on, the perceptual
        features."""
        started = {"generator": config.generator}
        if config.perceptual_weight > 0 and config.perceptual:     # "": no perceptual term
            started["perceptual"] = config.perceptual
        return started

    def build(self, config, generator: nn.Module, perceptual: nn.Module | None = None):
        generator = generator.requires_grad_(False).eval()
        encoder = Encoder(config, mean_w=generator.mean_w().cpu())
        check_fits(generator, encoder, f"stylegan-encoder ({config.generator})")
        # frozen, so kept out of the modules and their checkpoints
        self.perceptual_net = None if perceptual is None else perceptual.requires_grad_(False).eval()
        return {"encoder": encoder, "generator": generator}

    def build_export(self, config):
        return Encoder(config)

    def optimizers(self, modules, config):
        return {"encoder": self.adam(modules["encoder"].parameters(), config.lr)}

    @staticmethod
    @torch.no_grad()
    def sample_w_plus(generator: nn.Module, n: int, config: EncoderConfig, device) -> torch.Tensor:
        """``n`` W+ codes: ``w = f(z)``, truncated by ``config.truncation``, and with probability
        ``config.style_mixing`` switched to a second ``w`` at a random layer."""
        z_dim = generator.latent_dim
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
            images = torch.cat([G.synthesize(w_plus, "w+"), real[:n_real]])
        codes = E(images)
        latent = F.mse_loss(codes[:len(w_plus)], w_plus)
        reconstruction = G.synthesize(codes, "w+")
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
        fake, real = G.synthesize(w_plus, "w+"), batch["image"][:8]
        rows = [x for target in (fake, real) for x in (target, G.synthesize(E(target), "w+"))]
        return torch.cat(rows)
