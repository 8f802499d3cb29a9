"""Building blocks that several papers' models share, each written once.

- :class:`LatentGenerator`: what every generator of the course declares about itself: the
  length of its latent code (:attr:`~LatentGenerator.latent_dim`), the latent spaces it takes
  (:attr:`~LatentGenerator.spaces`), and :meth:`~LatentGenerator.synthesize`, ``G(latent)`` in
  one of them. Inversion, latent arithmetic and widgets ask a generator these questions
  instead of guessing its kind.
- :func:`sample_z`: seeded latent codes from N(0, I), the one source of ``z`` in the course.
- :func:`down_block`: DCGAN's strided convolution (Radford et al. 2015, Sec. 3), which the
  DCGAN discriminator and the StyleGAN encoder both stack.
- :func:`resolutions` and :func:`channels_at`: the resolutions of a 4-px-to-image-size pyramid
  and the channel count at each, shared by the StyleGAN and the encoder that mirrors it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import check_count, check_seed

__all__ = ["LatentGenerator", "sample_z", "down_block", "resolutions", "channels_at"]


def sample_z(n: int, nz: int = 100, seed: int = 0) -> torch.Tensor:
    """``n`` latent vectors from N(0, I), reproducible from ``seed``: ``n×nz``."""
    n, seed = check_count(n, "sample_z(n)"), check_seed(seed, "sample_z(seed)")
    nz = check_count(nz, "sample_z(nz)")
    return torch.randn(n, nz, generator=torch.Generator().manual_seed(seed))


class LatentGenerator(nn.Module):
    """A generator that maps a latent code to images ``N×3×S×S`` in [-1, 1].

    A subclass declares :attr:`spaces` (the latent spaces :meth:`synthesize` accepts, ``"z"``
    first) and :attr:`latent_dim` (the length of ``z``), and implements :meth:`synthesize`.
    """

    #: the latent spaces the generator can be driven from (and so inverted into), ``"z"`` first
    spaces: tuple[str, ...] = ("z",)

    @property
    def latent_dim(self) -> int:
        """The length of ``z``."""
        raise NotImplementedError

    def check_space(self, space: str, who: str) -> str:
        """``space``, if this generator takes it; a clear error otherwise."""
        if space not in self.spaces:
            raise ValueError(f"{who}: space {space!r} is not one of {self.spaces} for a "
                             f"{type(self).__name__}")
        return space

    def sample_latent(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` seeded codes ``z`` for this generator (:func:`sample_z`), on the CPU."""
        return sample_z(n, self.latent_dim, seed)

    def noise_maps(self) -> list[torch.Tensor]:
        """The fixed noise maps that :meth:`synthesize` uses by default (none by default)."""
        return []

    def synthesize(self, latent: torch.Tensor, space: str = "z",
                   noise: list[torch.Tensor] | None = None) -> torch.Tensor:
        """``G(latent)`` for a code of ``space``, differentiable in the code (for inversion).
        ``noise``: fixed noise maps, for a generator that has them."""
        raise NotImplementedError

    def stages(self) -> list[tuple[str, nn.Module]]:
        """The generator as a plain stack, ``[(name, module)]`` in order, ``z`` (as
        ``N×nz×1×1``) in and the image out, so that it can be split at a named stage into
        ``G_F`` and ``G_B`` (GAN Dissection, GANPaint: :mod:`course_lib.ganpaint`). A
        generator whose layers take more than the previous layer's output (a StyleGAN's ``w``
        and noise) is not a plain stack and does not declare one."""
        raise ValueError(f"{type(self).__name__} is not a plain stack of layers (its layers read "
                         "more than the previous layer's output), so it cannot be split into G_F "
                         "and G_B; dcgan.Generator can")


def down_block(c_in: int, c_out: int, norm: bool = True) -> nn.Sequential:
    """Halve the resolution: 4×4 convolution with stride 2, batch norm (optional), LeakyReLU(0.2)."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def resolutions(config) -> list[int]:
    """The resolutions 4, 8, ..., ``config.image_size`` (a power of two, at least 4) of a
    StyleGAN's synthesis pyramid, which its discriminator and encoder mirror."""
    size = config.image_size
    if not isinstance(size, int) or isinstance(size, bool) or size < 4 or size & (size - 1):
        raise ValueError(f"StyleGAN: image_size must be a power of two >= 4, got {size!r}")
    return [2 ** k for k in range(2, int(math.log2(size)) + 1)]


def channels_at(config, resolution: int) -> int:
    """Feature channels at ``resolution``: ``min(config.channel_base // resolution,
    config.channel_max)``, at least 1. The paper preset gives StyleGAN 1's FFHQ table, 512 up to
    32 px, then halving to 16 at 1024 px (StyleGAN 2's config F keeps 512 up to 64 px)."""
    return max(1, min(config.channel_base // resolution, config.channel_max))
