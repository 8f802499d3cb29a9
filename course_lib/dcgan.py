"""DCGAN: Radford, Metz and Chintala 2015, "Unsupervised Representation Learning with
Deep Convolutional Generative Adversarial Networks".

The paper's architecture guidelines (Section 3), each a line below:

- no pooling: the generator upsamples with strided transposed convolutions
  (:func:`up_block`), the discriminator downsamples with strided convolutions
  (:func:`down_block`);
- batch norm in both networks, except the generator's output layer and the
  discriminator's input layer;
- no fully connected hidden layers: ``z`` is reshaped to ``nz×1×1`` and projected
  to a 4×4 map by a 4×4 transposed convolution; the discriminator's last 4×4
  convolution gives one logit;
- ReLU in the generator with a tanh output, LeakyReLU(0.2) in the discriminator;
- weights from N(0, 0.02) (:func:`init_weights`), Adam with lr 2e-4 and beta1 0.5.

Paper symbols -> code: ``z`` -> ``z`` (``N×nz``, standard normal), ``G`` ->
:class:`Generator`, ``D`` -> :class:`Discriminator` (returns the logit of
"real"), the minimax objective -> :meth:`DCGANRecipe.training_step` with
:mod:`course_lib.losses` (the non-saturating form, as in the paper's code).
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from .checks import describe
from .layers import LatentGenerator, down_block, sample_z
from .losses import discriminator_loss, generator_loss
from .recipes import Recipe, TrainSettings, register

__all__ = ["DCGANConfig", "Generator", "Discriminator", "DCGANRecipe", "up_block", "down_block",
           "init_weights"]


@dataclasses.dataclass
class DCGANConfig:
    image_size: int = 64     # a power of two, at least 8
    nz: int = 100            # the length of z
    ngf: int = 64            # generator channels at the last hidden layer (doubled per step down)
    ndf: int = 64            # discriminator channels at the first layer (doubled per step down)
    lr: float = 2e-4
    data_size: int = 20_000  # faces generated for training (seed 0)


def _num_ups(image_size: int) -> int:
    n = int(math.log2(image_size)) - 2
    if image_size < 8 or 2 ** (n + 2) != image_size:
        raise ValueError(f"DCGAN: image_size must be a power of two >= 8, got {image_size}")
    return n


def up_block(c_in: int, c_out: int) -> nn.Sequential:
    """Double the resolution: 4×4 transposed convolution with stride 2, batch norm, ReLU."""
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def init_weights(module: nn.Module) -> None:
    """The paper's initialisation: convolutions from N(0, 0.02); batch-norm scales from N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(LatentGenerator):
    """``z`` (``N×nz``) -> image ``N×3×S×S`` in [-1, 1]. Its only latent space is ``z``."""

    spaces = ("z",)

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        n = _num_ups(config.image_size) - 1          # upsampling blocks between 4×4 and the output
        widths = [config.ngf * 2 ** (n - i) for i in range(n + 1)]   # e.g. 512, 256, 128, 64
        self.project = nn.Sequential(                # z as a 1×1 map -> 4×4, no linear layer
            nn.ConvTranspose2d(config.nz, widths[0], kernel_size=4, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        self.blocks = nn.Sequential(*[up_block(widths[i], widths[i + 1]) for i in range(n)])
        self.to_rgb = nn.Sequential(
            nn.ConvTranspose2d(widths[-1], 3, kernel_size=4, stride=2, padding=1), nn.Tanh())
        self.apply(init_weights)

    @property
    def latent_dim(self) -> int:
        return self.config.nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.config.nz:
            raise ValueError(f"Generator: expected z of shape N×{self.config.nz}, got {describe(z)}")
        return self.to_rgb(self.blocks(self.project(z[:, :, None, None])))

    def synthesize(self, latent: torch.Tensor, space: str = "z", noise=None) -> torch.Tensor:
        self.check_space(space, "synthesize")
        if noise is not None:
            raise ValueError("synthesize: a DCGAN has no noise inputs (noise must be None)")
        return self(latent)

    def stages(self) -> list[tuple[str, nn.Module]]:
        """``project`` (z -> 4×4), ``block1`` (8×8), ``block2`` (16×16), ... and ``to_rgb`` (the
        image): each stage reads only the previous one's output."""
        names = [f"block{i + 1}" for i in range(len(self.blocks))]
        return [("project", self.project), *zip(names, self.blocks), ("to_rgb", self.to_rgb)]


class Discriminator(nn.Module):
    """Image ``N×3×S×S`` -> logit ``N`` (positive: "real")."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        n = _num_ups(config.image_size)              # stride-2 convolutions down to 4×4
        widths = [config.ndf * 2 ** i for i in range(n)]             # e.g. 64, 128, 256, 512
        self.blocks = nn.Sequential(down_block(3, widths[0], norm=False),
                                    *[down_block(widths[i], widths[i + 1]) for i in range(n - 1)])
        self.to_logit = nn.Conv2d(widths[-1], 1, kernel_size=4, stride=1, padding=0)
        self.apply(init_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.to_logit(self.blocks(images)).flatten()

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The representation the paper probes (Sec. 5.1): every convolutional layer's output,
        max-pooled to a 4×4 grid, flattened and concatenated: ``N×(16·Σ widths)`` (in eval mode
        when the caller put the discriminator in it)."""
        out, x = [], images
        for block in self.blocks:
            x = block(x)
            out.append(F.adaptive_max_pool2d(x, 4).flatten(1))
        return torch.cat(out, 1)


@register
class DCGANRecipe(Recipe):
    name = "dcgan"
    config_class = DCGANConfig
    presets = {"paper": DCGANConfig(), "course": DCGANConfig(ngf=32, ndf=32)}
    settings = {"course": TrainSettings(steps=10000, batch_size=64, sample_every=500, save_every=250),
                "paper": TrainSettings(steps=20000, batch_size=128, sample_every=1000, save_every=500)}
    accepts = ("faces", "landscapes", "folder")   # the paper trained on faces and LSUN scenes
    export_module = "generator"
    betas = (0.5, 0.999)     # the paper's: beta1 0.5 (0.9 "resulted in training oscillation")

    def build(self, config):
        return {"generator": Generator(config), "discriminator": Discriminator(config)}

    def training_step(self, modules, optimizers, batch, step, config):
        G, D = modules["generator"], modules["discriminator"]
        real = batch["image"]
        z = torch.randn(len(real), config.nz, device=real.device)
        fake = G(z)
        # D: maximise log D(x) + log(1 - D(G(z)))
        d_real, d_fake = D(real), D(fake.detach())
        d_loss = discriminator_loss(d_real, d_fake, "logistic")
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()
        # G: maximise log D(G(z)) (the non-saturating loss)
        g_loss = generator_loss(D(fake), "logistic")
        optimizers["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["generator"].step()
        return {"d": d_loss.detach(), "g": g_loss.detach(),
                "d_real": torch.sigmoid(d_real).mean().detach()}

    def samples(self, modules, config, batch):
        z = sample_z(32, config.nz, seed=0).to(batch["image"].device)
        return modules["generator"](z)
