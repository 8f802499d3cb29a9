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
"real"), the minimax objective -> :meth:`DCGANRecipe.training_step` (the
non-saturating form, as in the paper's code).
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from .latent import sample_z
from .trainer import Recipe, TrainSettings

__all__ = ["DCGANConfig", "Generator", "Discriminator", "DCGANRecipe", "up_block", "down_block",
           "init_weights"]


@dataclasses.dataclass
class DCGANConfig:
    image_size: int = 64     # a power of two, at least 8
    nz: int = 100            # the length of z
    ngf: int = 64            # generator channels at the last hidden layer (doubled per step down)
    ndf: int = 64            # discriminator channels at the first layer (doubled per step down)
    lr: float = 2e-4
    beta1: float = 0.5
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


def down_block(c_in: int, c_out: int, norm: bool = True) -> nn.Sequential:
    """Halve the resolution: 4×4 convolution with stride 2, batch norm (optional), LeakyReLU(0.2)."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def init_weights(module: nn.Module) -> None:
    """The paper's initialisation: convolutions from N(0, 0.02); batch-norm scales from N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """``z`` (``N×nz``) -> image ``N×3×S×S`` in [-1, 1]."""

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

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.config.nz:
            raise ValueError(f"Generator: expected z of shape N×{self.config.nz}, got {tuple(z.shape)}")
        return self.to_rgb(self.blocks(self.project(z[:, :, None, None])))


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


class DCGANRecipe(Recipe):
    name = "dcgan"
    config_class = DCGANConfig
    presets = {"paper": DCGANConfig(), "course": DCGANConfig(ngf=32, ndf=32)}
    settings = {"course": TrainSettings(steps=10000, batch_size=64, sample_every=500, save_every=250),
                "paper": TrainSettings(steps=20000, batch_size=128, sample_every=1000, save_every=500)}
    accepts = ("faces", "folder")
    export_module = "generator"

    def build(self, config):
        return {"generator": Generator(config), "discriminator": Discriminator(config)}

    def optimizers(self, modules, config):
        return {k: torch.optim.Adam(m.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
                for k, m in modules.items()}

    def training_step(self, modules, optimizers, batch, step, config):
        G, D = modules["generator"], modules["discriminator"]
        real = batch["image"]
        z = torch.randn(len(real), config.nz, device=real.device)
        fake = G(z)
        # D: maximise log D(x) + log(1 - D(G(z)))
        d_real, d_fake = D(real), D(fake.detach())
        d_loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()
        # G: maximise log D(G(z)) (the non-saturating loss)
        d_fake = D(fake)
        g_loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        optimizers["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["generator"].step()
        return {"d": d_loss.detach(), "g": g_loss.detach(),
                "d_real": torch.sigmoid(d_real).mean().detach()}

    def samples(self, modules, config, batch):
        z = sample_z(32, config.nz, seed=0).to(batch["image"].device)
        return modules["generator"](z)
