"""StyleGAN: Karras, Laine and Aila 2019, "A Style-Based Generator Architecture for Generative
Adversarial Networks" (StyleGAN), with the style injection of Karras, Laine, Aittala, Hellsten,
Lehtinen and Aila 2020, "Analyzing and Improving the Image Quality of StyleGAN" (StyleGAN 2).

What is implemented:

- a mapping network ``z -> w``: pixel norm, then an MLP whose learning rate is lowered by
  ``config.lr_mapping`` (0.01 in both papers) through the equalized-lr scale of :class:`EqualLinear`;
- a synthesis network that starts from a learned constant ``const`` (4×4) and doubles the
  resolution per block; every block has two style-injected 3×3 convolutions
  (:class:`StyledConv`), each with its own ``w`` and its own noise input (:class:`NoiseInjection`),
  so ``w_plus`` holds one ``w`` per layer: ``num_ws = 2 × (number of resolutions)``, 18 at 1024 px,
  as in StyleGAN 1 (whose 4×4 block also has two style inputs; StyleGAN 2 has one conv there).
  Each block ends in a :class:`ToRGB` that *shares* the ``w`` of the
  block's second convolution (StyleGAN 2 gives it the next layer's ``w``; sharing keeps "layer
  ``i`` <-> ``w_plus[:, i]``" exact), and the RGB outputs are summed across resolutions (StyleGAN 2's
  skip generator, no progressive growing);
- style mixing regularisation (:meth:`Generator.mix`, used in :meth:`StyleGANRecipe.training_step`),
  the truncation trick (:meth:`Generator.truncate`, around :meth:`Generator.mean_w`);
- editing embedded W+ codes as Image2StyleGAN does (Abdal et al. 2019, Sec. 6): :func:`morph`,
  style transfer by :meth:`Generator.mix` of two codes, :func:`expression_transfer`, and
  :func:`distance_from_w`, how far a code lies from the codes the mapping network produces;
- a residual discriminator with minibatch standard deviation, the non-saturating logistic loss
  and lazy R1 (every ``r1_every`` steps, StyleGAN 2 Sec. 3.1); an exponential moving average of the
  generator (``generator_ema``) is what ships. Not implemented: path-length regularisation,
  progressive growing, the FIR blur filters (bilinear up/downsampling stands in; it is the same
  [1, 3, 3, 1] filter away from the borders).

Why modulated convolution rather than AdaIN: StyleGAN 2 showed that AdaIN's instance
normalisation of the *activations* makes the generator sneak signal past it in "droplet"
artifacts; demodulation applies the same idea -- scale each input channel by the style, then
restore unit variance -- as statistics of the *weights*, so nothing is normalised away. It is
AdaIN's equation moved from the feature maps onto the convolution weights (see
:class:`ModulatedConv2d`; the AdaIN lecture's ``y_s * (x - mu(x)) / sigma(x) + y_b`` becomes
modulation by ``s`` and demodulation by ``sigma_j``), the form that rosinality/stylegan2-pytorch
and the later inversion code build on, and on a CPU it costs one shared convolution plus two
channel scalings per layer.

Paper symbols -> code:

- ``z`` -> ``z`` (``N×z_dim``, standard normal); ``f`` (mapping) -> :class:`MappingNetwork`, ``G.mapping``
- ``w`` -> ``w`` (``N×w_dim``); ``W+`` -> ``w_plus`` (``N×num_ws×w_dim``, one ``w`` per styled layer)
- ``A`` (learned affine ``w -> s``) -> ``ModulatedConv2d.affine`` (an :class:`EqualLinear`, bias 1)
- ``B`` (per-layer noise scale) -> ``NoiseInjection.weight``
- the learned constant -> ``G.synthesis.const``
- ``psi`` -> ``truncation`` / ``psi``; ``w̄`` -> :meth:`Generator.mean_w`
- ``gamma`` (R1 weight) -> ``config.r1_gamma``; lazy interval -> ``config.r1_every``

Images follow the course convention: ``N×3×H×W`` float in [-1, 1]: the summed RGB skips are scaled
by ``1/sqrt(number of resolutions)`` and squashed by ``tanh`` (the papers' output is unbounded and
clipped when saved; without the scaling half the pixels of a fresh generator sit in tanh's flat tails).
"""

from __future__ import annotations

import copy
import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from torch.nn.parallel import DistributedDataParallel

from .checks import check_count, check_image, check_seed, describe
from .layers import LatentGenerator, channels_at, resolutions, sample_z
from .losses import discriminator_loss, generator_loss, r1_penalty
from .recipes import Recipe, TrainSettings, register

__all__ = ["StyleGANConfig", "EqualLinear", "EqualConv2d", "ModulatedConv2d", "NoiseInjection",
           "StyledConv", "ToRGB", "MappingNetwork", "SynthesisNetwork", "Generator",
           "Discriminator", "StyleGANRecipe", "channels_at", "resolutions"]

NOISE_MODES = ("random", "const", "none")
#: feature maps are kept channels-last: at these small widths the CPU convolutions run 2-4× faster
CHANNELS_LAST = torch.channels_last


@dataclasses.dataclass
class StyleGANConfig:
    image_size: int = 1024        # a power of two, at least 4
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    channel_base: int = 16384     # channels at resolution r: min(channel_base // r, channel_max)
    channel_max: int = 512
    lr_mapping: float = 0.01      # the mapping network's learning-rate multiplier
    style_mixing: float = 0.9     # probability that a training batch mixes two w's
    r1_gamma: float = 10.0        # R1 weight gamma
    r1_every: int = 16            # lazy R1: penalise every r1_every D steps
    ema_kimg: float = 10.0        # EMA half-life of the generator, in thousands of images
    lr: float = 0.002
    data_size: int = 20_000       # faces generated for training (seed 0)


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    """LeakyReLU(0.2) with gain sqrt(2), so equalized-lr layers keep unit variance."""
    return F.leaky_relu(x, 0.2) * math.sqrt(2)


# ----------------------------------------------------------------------------- building blocks

class EqualLinear(nn.Module):
    """A linear layer with equalized learning rate (Karras et al. 2018, Sec. 4.1).

    Weights are stored as N(0, 1/lr_mul²) and scaled at run time by ``lr_mul / sqrt(in)``, so
    every layer learns at the same speed under Adam, and ``lr_mul`` lowers that speed.
    """

    def __init__(self, in_features: int, out_features: int, lr_mul: float = 1.0,
                 bias_init: float = 0.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
        self.lr_mul, self.activation = lr_mul, activation
        self.scale = lr_mul / math.sqrt(in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return _lrelu(x) if self.activation else x


class EqualConv2d(nn.Module):
    """A convolution with equalized learning rate ("same" padding)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = 1 / math.sqrt(in_channels * kernel_size ** 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.weight.shape[-1] // 2)


class ModulatedConv2d(nn.Module):
    """A convolution whose weights are modulated by the style ``s = A(w)`` (StyleGAN 2's key idea).

    Computed as in the official code's non-fused path: scale the input channels by ``s``,
    convolve with the shared weights, scale the output channels by ``1/sigma_j``, which equals
    convolving with the per-sample weights ``w''`` of Eq. 1-3 below, at a single convolution's cost.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int,
                 demodulate: bool = True, upsample: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)   # "A": styles start at 1
        self.demodulate, self.upsample = demodulate, upsample

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        weight = self.weight * self.scale
        s = self.affine(w)                                              # N×C_in
        # Eq. 1 of Karras et al. 2020:  w'_ijk = s_i · w_ijk
        x = x * s[:, :, None, None]
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        if self.demodulate:
            # Eq. 2-3:  sigma_j = sqrt(sum_ik w'_ijk²);  w''_ijk = w'_ijk / sqrt(sigma_j² + eps)
            sigma_sq = s.pow(2) @ weight.pow(2).sum(dim=(2, 3)).t()    # N×C_out
            x = x * torch.rsqrt(sigma_sq + 1e-8)[:, :, None, None]
        return x


class NoiseInjection(nn.Module):
    """Add per-pixel noise scaled by the learned ``B`` (one weight per layer, starting at 0).

    Holds the layer's fixed noise map (``noise_const``, a buffer saved with the weights) for
    ``noise_mode="const"``.
    """

    def __init__(self, resolution: int, seed: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        noise = torch.randn(1, 1, resolution, resolution, generator=torch.Generator().manual_seed(seed))
        self.register_buffer("noise_const", noise)

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        return x if noise is None else x + self.weight * noise


class StyledConv(nn.Module):
    """One style-injected layer: modulated 3×3 conv (optionally upsampling), noise ``B``, bias, lrelu."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 upsample: bool = False, noise_seed: int = 0):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, upsample=upsample)
        self.noise = NoiseInjection(resolution, noise_seed)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.resolution = resolution

    def forward(self, x, w, noise=None):
        x = self.noise(self.conv(x, w), noise)
        return _lrelu(x + self.bias[:, None, None])


class ToRGB(nn.Module):
    """Modulated 1×1 conv to RGB, without demodulation (StyleGAN 2's output skips)."""

    def __init__(self, in_channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, 3, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x, w):
        return self.conv(x, w) + self.bias[:, None, None]


# ----------------------------------------------------------------------------- the generator

class MappingNetwork(nn.Module):
    """``z`` (``N×z_dim``) -> ``w`` (``N×w_dim``): pixel norm, then ``mapping_layers`` equalized
    linear layers with lrelu, learning ``lr_mapping`` times slower than the rest."""

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        self.z_dim, self.w_dim = config.z_dim, config.w_dim
        dims = [config.z_dim] + [config.w_dim] * config.mapping_layers
        self.layers = nn.ModuleList(EqualLinear(a, b, lr_mul=config.lr_mapping, activation=True)
                                    for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"mapping: expected z of shape N×{self.z_dim}, got {describe(z)}")
        x = z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)   # pixel norm
        for layer in self.layers:
            x = layer(x)
        return x


class SynthesisBlock(nn.Module):
    """One resolution: two styled convs (the first upsamples, except at 4×4) and a ToRGB."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, index: int):
        super().__init__()
        self.conv0 = StyledConv(in_channels, out_channels, w_dim, resolution,
                                upsample=resolution > 4, noise_seed=2 * index)
        self.conv1 = StyledConv(out_channels, out_channels, w_dim, resolution, noise_seed=2 * index + 1)
        self.to_rgb = ToRGB(out_channels, w_dim)
        self.resolution = resolution

    def forward(self, x, rgb, w0, w1, noise0=None, noise1=None):
        x = self.conv1(self.conv0(x, w0, noise0), w1, noise1)
        y = self.to_rgb(x, w1)                     # ToRGB shares the second conv's w
        if rgb is not None:
            y = y + F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False)
        return x, y


class SynthesisNetwork(nn.Module):
    """``w_plus`` (``N×num_ws×w_dim``) -> image ``N×3×S×S`` in [-1, 1], from a learned constant."""

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        self.config = config
        res = resolutions(config)
        self.const = nn.Parameter(torch.randn(1, channels_at(config, 4), 4, 4))
        self.blocks = nn.ModuleList(
            SynthesisBlock(channels_at(config, max(4, r // 2)), channels_at(config, r), config.w_dim, r, i)
            for i, r in enumerate(res))
        self.num_ws = 2 * len(res)
        # the skip outputs of all resolutions add up; dividing by sqrt(their number) starts the
        # sum at about unit variance, where tanh is not yet saturated (a course addition, see top)
        self.rgb_gain = 1 / math.sqrt(len(res))

    def layers(self) -> list[StyledConv]:
        """The style-injected layers in order: layer ``i`` reads ``w_plus[:, i]``."""
        return [conv for b in self.blocks for conv in (b.conv0, b.conv1)]

    def noise_buffers(self) -> list[torch.Tensor]:
        """The fixed noise maps (``1×1×r×r``, one per layer) that ``noise_mode="const"`` uses.

        Inversion can optimise copies: ``noise = [n.clone().requires_grad_() for n in
        G.synthesis.noise_buffers()]`` then ``G.synthesis(w_plus, noise=noise)``.
        """
        return [layer.noise.noise_const for layer in self.layers()]

    def forward(self, w_plus: torch.Tensor, noise: list[torch.Tensor] | None = None,
                noise_mode: str = "random") -> torch.Tensor:
        k, d = self.num_ws, self.config.w_dim
        if not isinstance(w_plus, torch.Tensor) or w_plus.ndim != 3 or tuple(w_plus.shape[1:]) != (k, d):
            hint = " (for one w per image use G.broadcast(w))" if isinstance(w_plus, torch.Tensor) \
                and w_plus.ndim == 2 else ""
            raise ValueError(f"synthesis: expected w_plus of shape N×{k}×{d} (num_ws × w_dim), "
                             f"got {describe(w_plus)}{hint}")
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"synthesis: noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        n, layers = len(w_plus), self.layers()
        if noise is not None:
            if len(noise) != len(layers):
                raise ValueError(f"synthesis: expected {len(layers)} noise maps, got {len(noise)}")
            for i, (m, layer) in enumerate(zip(noise, layers)):
                r = layer.resolution
                if not isinstance(m, torch.Tensor) or m.ndim != 4 or m.shape[0] not in (1, n) \
                        or tuple(m.shape[1:]) != (1, r, r):
                    raise ValueError(f"synthesis: noise[{i}] must be ({n} or 1)×1×{r}×{r}, got {describe(m)}")
        elif noise_mode == "const":
            noise = self.noise_buffers()
        elif noise_mode == "random":
            noise = [torch.randn(n, 1, layer.resolution, layer.resolution, device=w_plus.device,
                                 dtype=w_plus.dtype) for layer in layers]
        else:
            noise = [None] * len(layers)
        x, rgb = self.const.expand(n, -1, -1, -1).contiguous(memory_format=CHANNELS_LAST), None
        for i, block in enumerate(self.blocks):
            x, rgb = block(x, rgb, w_plus[:, 2 * i], w_plus[:, 2 * i + 1], noise[2 * i], noise[2 * i + 1])
        return torch.tanh(rgb * self.rgb_gain).contiguous()


class Generator(LatentGenerator):
    """Mapping plus synthesis. ``G(z)`` -> image; the pieces are public for inversion and editing.

    It takes three latent spaces (:meth:`synthesize`): ``z`` (``N×z_dim``), ``w = f(z)``
    (``N×w_dim``) and ``w+``, one ``w`` per style input (``N×num_ws×w_dim``)."""

    spaces = ("z", "w", "w+")

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        self.config = config
        self.mapping = MappingNetwork(config)
        self.synthesis = SynthesisNetwork(config)
        self.num_ws = self.synthesis.num_ws
        self._mean_w_cache: dict = {}

    @property
    def latent_dim(self) -> int:
        return self.config.z_dim

    def synthesize(self, latent: torch.Tensor, space: str = "z",
                   noise: list[torch.Tensor] | None = None) -> torch.Tensor:
        """``G(latent)`` for a code of ``space``, with fixed noise maps (the buffers, or ``noise``),
        differentiable in the code."""
        self.check_space(space, "synthesize")
        if space == "z":
            w_plus = self.broadcast(self.mapping(latent))
        elif space == "w":
            w_plus = self.broadcast(latent)
        else:
            w_plus = latent
        return self.synthesis(w_plus, noise=noise, noise_mode="const")

    def noise_maps(self) -> list[torch.Tensor]:
        """The fixed noise maps, one per style layer (``SynthesisNetwork.noise_buffers``)."""
        return self.synthesis.noise_buffers()

    # ---- W and W+
    def _check_w(self, w, name: str) -> torch.Tensor:
        d = self.config.w_dim
        if not isinstance(w, torch.Tensor) or w.ndim not in (2, 3) or w.shape[-1] != d \
                or (w.ndim == 3 and w.shape[1] != self.num_ws):
            raise ValueError(f"{name}: expected w of shape N×{d} or w_plus N×{self.num_ws}×{d}, "
                             f"got {describe(w)}")
        return w

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """``N×w_dim`` -> ``N×num_ws×w_dim``: the same ``w`` at every layer."""
        if not isinstance(w, torch.Tensor) or w.ndim != 2 or w.shape[1] != self.config.w_dim:
            raise ValueError(f"broadcast: expected w of shape N×{self.config.w_dim}, got {describe(w)}")
        return w[:, None, :].expand(-1, self.num_ws, -1)

    def as_w_plus(self, w: torch.Tensor, name: str = "w") -> torch.Tensor:
        """A ``w`` (``N×w_dim``, broadcast) or a ``w_plus`` (``N×num_ws×w_dim``) as a ``w_plus``."""
        return self.broadcast(w) if self._check_w(w, name).ndim == 2 else w

    def mix(self, w_a: torch.Tensor, w_b: torch.Tensor, crossover: int) -> torch.Tensor:
        """Style mixing: a ``w_plus`` with layers ``< crossover`` from ``w_a``, the rest from ``w_b``.

        ``w_a``/``w_b`` are ``N×w_dim`` or ``N×num_ws×w_dim``. Small ``crossover`` takes only the
        coarse styles (pose, face shape) from ``w_a``; large takes all but the finest.
        """
        if not isinstance(crossover, int) or isinstance(crossover, bool) or not 0 <= crossover <= self.num_ws:
            raise ValueError(f"mix: crossover must be an int in [0, {self.num_ws}], got {crossover!r}")
        a, b = self.as_w_plus(w_a, "mix(w_a)"), self.as_w_plus(w_b, "mix(w_b)")
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"mix: w_a and w_b need the same N, got {a.shape[0]} and {b.shape[0]}")
        take_a = (torch.arange(self.num_ws, device=a.device) < crossover)[None, :, None]
        return torch.where(take_a, a, b)

    @torch.no_grad()
    def sample_w(self, n: int, seed: int = 0) -> torch.Tensor:
        """``w = f(z)`` for ``n`` seeded ``z`` (:func:`course_lib.latent.sample_z`): ``n×w_dim``,
        on the generator's device."""
        z = sample_z(n, self.config.z_dim, seed)
        return self.mapping(z.to(next(self.mapping.parameters()).device))

    def mean_w(self, n: int = 4096, seed: int = 0) -> torch.Tensor:
        """``w̄``, the average ``w`` of ``n`` seeded ``z`` (``1×w_dim``), cached until the mapping changes."""
        n, seed = check_count(n, "mean_w(n)"), check_seed(seed, "mean_w(seed)")
        params = list(self.mapping.parameters())
        # a parameter's _version grows with every in-place update (optimiser, EMA, load_state_dict)
        stamp = tuple((p.data_ptr(), p._version, p.device) for p in params)
        key = (n, seed)
        hit = self._mean_w_cache.get(key)
        if hit is None or hit[0] != stamp:
            w = self.sample_w(n, seed).mean(dim=0, keepdim=True)
            self._mean_w_cache[key] = hit = (stamp, w)
        return hit[1].clone()

    def truncate(self, w: torch.Tensor, psi: float) -> torch.Tensor:
        """The truncation trick: ``w̄ + psi · (w − w̄)`` for ``w`` or ``w_plus`` (psi 0: the mean face)."""
        w = self._check_w(w, "truncate")
        if isinstance(psi, bool) or not isinstance(psi, (int, float)):
            raise ValueError(f"truncate: psi must be a number, got {psi!r}")
        if psi == 1:
            return w
        mean = self.mean_w().to(w.device, w.dtype)
        if w.ndim == 3:
            mean = mean[:, None, :]
        return mean + psi * (w - mean)

    def forward(self, z: torch.Tensor, truncation: float = 1.0, noise_mode: str = "random", *,
                mix_z: torch.Tensor | None = None, crossover: int | None = None) -> torch.Tensor:
        """``z`` -> images. With ``mix_z`` and ``crossover``: styles ``< crossover`` from ``z``,
        the rest from ``mix_z`` (one call, so training goes through a DDP wrapper's forward)."""
        w = self.truncate(self.mapping(z), truncation)
        if mix_z is None:
            w_plus = self.broadcast(w)
        else:
            w_plus = self.mix(w, self.truncate(self.mapping(mix_z), truncation),
                              self.num_ws if crossover is None else crossover)
        return self.synthesis(w_plus, noise_mode=noise_mode)


# ----------------------------------------------------------------------------- the discriminator

class DiscriminatorBlock(nn.Module):
    """Residual: conv 3×3, halve, conv 3×3; the skip halves and mixes channels with a 1×1 conv."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        skip = self.skip(F.avg_pool2d(x, 2))
        x = _lrelu(self.conv1(F.avg_pool2d(_lrelu(self.conv0(x)), 2)))
        return (x + skip) / math.sqrt(2)


class MinibatchStdDev(nn.Module):
    """Append the average standard deviation over groups of images as one feature map
    (Karras et al. 2018): a collapsed generator produces too little of it."""

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x):
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        while n % g:
            g -= 1
        y = x.reshape(g, n // g, c, h, w)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))   # n/g
        y = y.reshape(1, n // g, 1, 1, 1).expand(g, -1, 1, h, w).reshape(n, 1, h, w)
        return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """Image ``N×3×S×S`` -> logit ``N`` (positive: "real")."""

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        self.config = config
        res = resolutions(config)[::-1]                       # S, S/2, ..., 4
        self.from_rgb = EqualConv2d(3, channels_at(config, res[0]), 1)
        self.blocks = nn.Sequential(*[DiscriminatorBlock(channels_at(config, r), channels_at(config, r // 2))
                                      for r in res[:-1]])
        c = channels_at(config, 4)
        self.stddev = MinibatchStdDev()
        self.conv = EqualConv2d(c + 1, c, 3)
        self.fc = EqualLinear(c * 16, c, activation=True)
        self.out = EqualLinear(c, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        s = self.config.image_size
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (3, s, s):
            raise ValueError(f"Discriminator: expected images N×3×{s}×{s}, got {describe(images)}")
        x = self.blocks(_lrelu(self.from_rgb(images.contiguous(memory_format=CHANNELS_LAST))))
        x = _lrelu(self.conv(self.stddev(x)))
        return self.out(self.fc(x.flatten(1)))[:, 0]


# ----------------------------------------------------------------------------- training

def _unwrap(module: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper (the trainer wraps modules that train
    when several processes run), or the module itself."""
    return module.module if isinstance(module, DistributedDataParallel) else module


@register
class StyleGANRecipe(Recipe):
    name = "stylegan"
    config_class = StyleGANConfig
    presets = {
        "paper": StyleGANConfig(),
        # 64 px, channels 64, 64, 32, 16, 8 at 4..64 px: a training step at batch 32 in about 0.3 s
        # of one CPU core (benchmarks/bench_stylegan_speed.py); a lighter R1, run more often
        "course": StyleGANConfig(image_size=64, z_dim=128, w_dim=128, mapping_layers=8,
                                 channel_base=512, channel_max=64, r1_gamma=1.0, r1_every=8),
        # course with 4x the channels from 16 px up (128, 128, 128, 64, 32 at 4..64 px), for a GPU:
        # the 8 channels of course at 64 px cap how closely W+ can reconstruct a held-out face.
        # Shipped as stylegan-faces64 (10,035 steps on an H200): W+ reached 25.4 dB on
        # bench_inversion's held-out faces, 2.4 dB above the course model after 15,401 steps
        "course-wide": StyleGANConfig(image_size=64, z_dim=128, w_dim=128, mapping_layers=8,
                                      channel_base=2048, channel_max=128, r1_gamma=1.0, r1_every=8),
    }
    settings = {"course": TrainSettings(steps=18_000, batch_size=32, sample_every=1000, save_every=500),
                "course-wide": TrainSettings(steps=18_000, batch_size=64, sample_every=1000, save_every=500),
                "paper": TrainSettings(steps=780_000, batch_size=32, sample_every=5000, save_every=2500)}
    accepts = ("faces", "folder")
    export_module = "generator_ema"
    betas = (0.0, 0.99)       # StyleGAN's Adam: no momentum in beta1

    def build(self, config):
        generator = Generator(config)
        ema = copy.deepcopy(generator).requires_grad_(False)
        return {"generator": generator, "generator_ema": ema, "discriminator": Discriminator(config)}

    def build_export(self, config):
        return Generator(config)

    def optimizers(self, modules, config):
        # lazy R1 (StyleGAN 2, Sec. 3.1): D's Adam is adjusted as if R1 ran every step
        c = config.r1_every / (config.r1_every + 1)
        return {"generator": self.adam(modules["generator"].parameters(), config.lr),
                "discriminator": self.adam(modules["discriminator"].parameters(), config.lr * c,
                                           betas=tuple(b ** c for b in self.betas))}

    def training_step(self, modules, optimizers, batch, step, config):
        G, D = modules["generator"], modules["discriminator"]
        real = check_image(batch["image"], "training batch")
        n, num_ws = len(real), _unwrap(G).num_ws
        z = torch.randn(n, config.z_dim, device=real.device)
        # style mixing regularisation: with probability style_mixing the batch switches from one
        # w to another at a random layer, so the network cannot assume that adjacent styles correlate
        mixed = float(torch.rand(()) < config.style_mixing)
        crossover = int(torch.randint(1, num_ws, ())) if mixed else num_ws
        fake = G(z, mix_z=torch.randn(n, config.z_dim, device=real.device) if mixed else None,
                 crossover=crossover)

        # D: non-saturating logistic loss, plus R1 = gamma/2 · E||grad D(real)||² every r1_every steps
        do_r1 = config.r1_gamma > 0 and step % config.r1_every == 0
        real_in = real.detach().requires_grad_(do_r1)
        d_real, d_fake = D(real_in), D(fake.detach())
        d_loss = discriminator_loss(d_real, d_fake, "logistic")
        losses = {}
        if do_r1:
            r1 = r1_penalty(d_real, real_in)
            d_loss = d_loss + config.r1_gamma / 2 * config.r1_every * r1
            losses["r1"] = r1.detach()
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()

        # G: non-saturating loss -log D(G(z))
        g_loss = generator_loss(D(fake), "logistic")
        optimizers["generator"].zero_grad(set_to_none=True)
        if D is _unwrap(D):      # skip D's weight gradients (a DDP wrapper expects them all)
            g_loss.backward(inputs=list(G.parameters()))
        else:
            g_loss.backward()
        optimizers["generator"].step()

        # EMA of G, with a half-life of ema_kimg thousand images (ramped up over the first steps)
        half_life = min(config.ema_kimg * 1000, (step + 1) * n * 0.05 + n)
        beta = 0.5 ** (n / half_life)
        with torch.no_grad():
            ema, src = modules["generator_ema"], _unwrap(G)
            for p_ema, p in zip(ema.parameters(), src.parameters()):
                p_ema.lerp_(p, 1 - beta)
            for b_ema, b in zip(ema.buffers(), src.buffers()):
                b_ema.copy_(b)
        return {"d": d_loss.detach(), "g": g_loss.detach(), "d_real": torch.sigmoid(d_real).mean().detach(),
                "mixed": mixed, **losses}

    def samples(self, modules, config, batch):
        G = modules["generator_ema"]
        z = sample_z(32, config.z_dim, seed=0).to(batch["image"].device)
        return G(z, noise_mode="const")
