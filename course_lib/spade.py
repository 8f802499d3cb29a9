"""SPADE / GauGAN: Park, Liu, Wang and Zhu 2019, "Semantic Image Synthesis with Spatially-Adaptive
Normalization" (CVPR 2019).

A label map (which class is where) becomes a photo-like image. Networks that read the label map
once, at their input, lose it in their normalisation layers: a uniform map gives a uniform
activation, which normalisation sets to zero whatever the class was. SPADE feeds the label map to
*every* normalisation layer instead, as a per-pixel scale and shift:

- :class:`SPADE`: Eq. 1, the layer (the idea, in one place);
- :class:`SPADEResBlock`: two SPADE–ReLU–conv units and a shortcut (learned when the width
  changes), spectral norm on the convolutions (Fig. 4 of the paper);
- :class:`SPADEGenerator`: a code ``z`` (random, or the :class:`ImageEncoder`'s code of a
  reference image) -> a small map -> SPADE residual blocks with 2× upsampling -> the image;
  ``config.generator = "baseline"`` builds the network the paper argues against instead
  (pix2pixHD-like: the label map enters only at the input and passes through ordinary,
  instance normalisation);
- :class:`ImageEncoder`: an image -> ``(mu, logvar)`` of its style code (a VAE's encoder), for
  multimodal synthesis and style from a reference; :func:`kl_divergence` is its KL term;
- :class:`MultiscaleDiscriminator`: PatchGAN discriminators (Isola et al. 2017) at two scales,
  each reading the image beside its one-hot label map;
- the losses: hinge (:mod:`course_lib.losses`), :func:`feature_matching` (λ 10),
  :func:`perceptual_loss` (λ 10, on the course's ``perceptual-worlds64`` features instead of
  VGG-19), KL (λ 0.05); :class:`SPADERecipe` trains with the paper's two learning rates (TTUR:
  generator 1e-4, discriminator 4e-4, Adam β = (0, 0.999) as the paper's Sec. 4 states; the
  authors' code uses β2 = 0.9 with TTUR);
- :func:`synthesize`, :func:`look_code`, :func:`encode_style`: the public entry points.

Paper symbols -> code:

- ``h`` (activations, ``N×C×H×W``) -> ``h``; ``m`` (the label map) -> ``segmap`` (one-hot,
  ``N×K×H×W``, from :func:`one_hot`);
- ``μ_c, σ_c`` (per channel, over N, H, W) -> ``self.normalize`` (batch norm without affine
  parameters);
- ``γ_{c,y,x}(m), β_{c,y,x}(m)`` -> ``gamma``, ``beta``: ``self.to_gamma(self.shared(m))``, ...
- ``λ_FM, λ_VGG, λ_KLD`` -> ``config.feature_matching``, ``config.perceptual_weight``,
  ``config.kl_weight``.

Presets: ``paper`` (256 px, ``ngf = 64``: widths 1024 down to 64, 128 hidden SPADE channels,
``z`` of 256, two discriminators of 4 layers from 64 channels) builds and is checked layer by layer
in the tests; ``course`` (128 px, widths 128 down to 8, 16 hidden channels, ``z`` of 32,
discriminators from 16 channels) trains on a laptop's CPU. ``baseline`` is ``course`` with the
pix2pixHD-like generator, trained with the same discriminators, losses, data and budget.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .checks import check_image, check_int, describe
from .data import LANDSCAPE_CLASSES, LANDSCAPE_STYLES
from .losses import discriminator_loss, generator_loss
from .recipes import Recipe, TrainSettings, register

__all__ = [
    "SPADEConfig",
    "SPADE",
    "SPADEResBlock",
    "PlainNorm",
    "SPADEGenerator",
    "ImageEncoder",
    "PatchDiscriminator",
    "MultiscaleDiscriminator",
    "SPADEModel",
    "SPADERecipe",
    "BaselineRecipe",
    "one_hot",
    "check_label_map",
    "kl_divergence",
    "feature_matching",
    "perceptual_loss",
    "synthesize",
    "encode_style",
    "look_code",
    "generator_table",
    "first_normalised",
]


@dataclasses.dataclass
class SPADEConfig:
    image_size: int = 256
    num_classes: int = len(LANDSCAPE_CLASSES)
    width: int = 64  # ngf: the last block's width; the first ones are 16×
    upsamplings: int = 5  # the code's map is image_size / 2**upsamplings wide
    hidden: int = 128  # SPADE's shared embedding ("nhidden", hard-coded 128)
    generator: str = "spade"  # "spade", or "baseline" (pix2pixHD-like, label map at the input)
    use_encoder: bool = True  # z from the image encoder (VAE) or random; False: from the map
    z_dim: int = 256
    encoder_width: int = 64
    disc_width: int = 64
    disc_layers: int = 4
    disc_scales: int = 2
    feature_matching: float = 10.0  # λ_FM
    perceptual_weight: float = 10.0  # λ_VGG, here on the course's own features
    kl_weight: float = 0.05  # λ_KLD
    perceptual: str = "perceptual-worlds64"
    perceptual_size: int = 64  # images are resized to this side for the perceptual features
    lr_generator: float = 1e-4  # TTUR (Heusel et al. 2017): the discriminator learns 4× faster
    lr_discriminator: float = 4e-4
    beta1: float = 0.0
    beta2: float = 0.999
    data_size: int = 10_000


# ----------------------------------------------------------------------------- label maps


def check_label_map(labels, config: SPADEConfig, who: str = "labels") -> torch.Tensor:
    """A label-map batch the generator can take: ``N×S×S`` int64, ``S = config.image_size``,
    ids in ``[0, config.num_classes)``. Raises ``ValueError`` naming what is wrong."""
    names = ", ".join(f"{i} {name}" for i, (name, _) in enumerate(LANDSCAPE_CLASSES[: config.num_classes]))
    what = f"a label map N×{config.image_size}×{config.image_size} int64 of class ids ({names})"
    if not isinstance(labels, torch.Tensor):
        raise ValueError(f"{who}: expected {what} as a torch.Tensor, got {describe(labels)}")
    if labels.dim() == 4 and labels.shape[1] == 3:
        raise ValueError(
            f"{who}: expected {what}, got {describe(labels)}, an RGB picture; a label "
            "map holds one class id per pixel"
        )
    if labels.dim() == 2:
        raise ValueError(
            f"{who}: expected {what}, got {describe(labels)} (add a batch axis with labels[None])"
        )
    if labels.dim() != 3:
        raise ValueError(f"{who}: expected {what}, got {describe(labels)}")
    if labels.is_floating_point() or labels.dtype != torch.int64:
        raise ValueError(
            f"{who}: expected {what}, got {describe(labels)} (a float or other map: "
            "round it and use .long() if it holds class ids)"
        )
    if tuple(labels.shape[-2:]) != (config.image_size, config.image_size):
        raise ValueError(
            f"{who}: this generator makes {config.image_size}×{config.image_size} images "
            f"and takes label maps of that size, got {tuple(labels.shape[-2:])} "
            "(resize with nearest-neighbour interpolation)"
        )
    bad = sorted({int(v) for v in labels.unique()} - set(range(config.num_classes)))
    if bad:
        raise ValueError(f"{who}: class ids {bad} are not classes of this world; it has {names}")
    return labels


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``N×H×W`` int64 -> ``N×K×H×W`` float, 1 at each pixel's class (the paper's ``m``)."""
    return F.one_hot(labels, num_classes).permute(0, 3, 1, 2).float()


# ----------------------------------------------------------------------------- the layer


class SPADE(nn.Module):
    """Spatially-adaptive normalisation, Eq. 1 of Park et al. 2019:

    ``out_{n,c,y,x} = γ_{c,y,x}(m) · (h_{n,c,y,x} − μ_c) / σ_c + β_{c,y,x}(m)``

    ``μ_c, σ_c``: batch norm without its own affine parameters (over N, H, W). ``γ, β``: from the
    label map ``m`` resized (nearest) to ``h``'s size, through a shared 3×3 convolution and ReLU,
    then one 3×3 convolution each. As in the authors' code, the scale is written ``1 + γ`` (so
    that a freshly initialised ``γ ≈ 0`` starts as plain batch norm); that is Eq. 1 with
    ``γ' = 1 + γ``.
    """

    def __init__(self, channels: int, num_classes: int, hidden: int = 128, kernel: int = 3):
        super().__init__()
        self.normalize = nn.BatchNorm2d(channels, affine=False)
        self.shared = nn.Sequential(nn.Conv2d(num_classes, hidden, kernel, padding=kernel // 2), nn.ReLU())
        self.to_gamma = nn.Conv2d(hidden, channels, kernel, padding=kernel // 2)
        self.to_beta = nn.Conv2d(hidden, channels, kernel, padding=kernel // 2)

    def forward(self, h: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        normalized = self.normalize(h)  # (h − μ_c) / σ_c
        m = F.interpolate(segmap, size=h.shape[-2:], mode="nearest")
        embedded = self.shared(m)
        gamma, beta = self.to_gamma(embedded), self.to_beta(embedded)  # γ_{c,y,x}(m), β_{c,y,x}(m)
        return normalized * (1 + gamma) + beta  # Eq. 1, with γ -> 1 + γ


class PlainNorm(nn.Module):
    """The baseline's normalisation: instance norm with learned per-channel affine parameters
    (pix2pixHD's); it ignores the label map, so the baseline sees it only at its input."""

    def __init__(self, channels: int, num_classes: int = 0, hidden: int = 0):
        super().__init__()
        self.normalize = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, h: torch.Tensor, segmap: torch.Tensor | None = None) -> torch.Tensor:
        return self.normalize(h)


def _act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)  # the paper's figure says ReLU; the authors' code uses leaky ReLU 0.2


class SPADEResBlock(nn.Module):
    """Fig. 4 (left) of the paper: ``x + conv(act(SPADE(conv(act(SPADE(x, m))), m)))``; when the
    width changes, the shortcut is SPADE then a 1×1 convolution. Spectral norm on every conv.
    ``norm=PlainNorm`` makes the baseline's block (no label map)."""

    def __init__(self, c_in: int, c_out: int, num_classes: int, hidden: int, norm=SPADE):
        super().__init__()
        middle = min(c_in, c_out)
        self.learned_shortcut = c_in != c_out
        self.norm_0, self.conv_0 = (
            norm(c_in, num_classes, hidden),
            spectral_norm(nn.Conv2d(c_in, middle, 3, padding=1)),
        )
        self.norm_1, self.conv_1 = (
            norm(middle, num_classes, hidden),
            spectral_norm(nn.Conv2d(middle, c_out, 3, padding=1)),
        )
        if self.learned_shortcut:
            self.norm_s = norm(c_in, num_classes, hidden)
            self.conv_s = spectral_norm(nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor, segmap: torch.Tensor | None) -> torch.Tensor:
        shortcut = self.conv_s(self.norm_s(x, segmap)) if self.learned_shortcut else x
        dx = self.conv_0(_act(self.norm_0(x, segmap)))
        dx = self.conv_1(_act(self.norm_1(dx, segmap)))
        return shortcut + dx


# ----------------------------------------------------------------------------- generator


def generator_table(config: SPADEConfig) -> list[tuple[str, int, int, int]]:
    """The generator's residual blocks, ``(name, in width, out width, side)``, in order (Fig. 13 of
    the paper's appendix for ``upsamplings = 5``): each block after the first two follows a 2×
    nearest-neighbour upsampling."""
    nf, s = config.width, config.image_size // 2**config.upsamplings
    widths = [
        ("head_0", 16, 16),
        ("middle_0", 16, 16),
        ("middle_1", 16, 16),
        ("up_0", 16, 8),
        ("up_1", 8, 4),
        ("up_2", 4, 2),
        ("up_3", 2, 1),
    ]
    sides = [s, 2 * s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s]
    if config.upsamplings != 5:
        raise ValueError(
            f"generator_table: the paper's 'normal' generator upsamples 5 times, got "
            f"upsamplings={config.upsamplings}"
        )
    return [(name, a * nf, b * nf, side) for (name, a, b), side in zip(widths, sides)]


class SPADEGenerator(nn.Module):
    """``(labels N×S×S int64, z N×z_dim)`` -> images ``N×3×S×S`` in [-1, 1].

    ``generator="spade"``: ``z`` (or, with ``use_encoder=False``, the label map downsampled to the
    first side) -> a linear layer (a 3×3 conv) -> a ``16·width`` map -> SPADE residual blocks.
    ``generator="baseline"``: the one-hot label map -> 3×3 convolutions (reflection padding,
    instance norm, ReLU) that halve the side down to the first map -> the same residual blocks
    with :class:`PlainNorm` (the label map is not seen again); ``z`` is ignored. The same blocks
    keep both networks' cost alike; pix2pixHD's encoder stops at 1/16 of the size, so this
    baseline's bottleneck (1/32) is narrower than pix2pixHD's.
    """

    def __init__(self, config: SPADEConfig):
        super().__init__()
        if config.generator not in ("spade", "baseline"):
            raise ValueError(
                f"SPADEGenerator: generator must be 'spade' or 'baseline', got {config.generator!r}"
            )
        self.config = config
        nf, k, s0 = config.width, config.num_classes, config.image_size // 2**config.upsamplings
        if s0 < 1 or s0 * 2**config.upsamplings != config.image_size:
            raise ValueError(
                f"SPADEGenerator: image_size must be a multiple of 2**{config.upsamplings}, "
                f"got {config.image_size}"
            )
        self.first_side = s0
        rows = generator_table(config)
        if config.generator == "baseline":
            layers, c = (
                [
                    nn.Conv2d(k, nf, 3, padding=1, padding_mode="reflect"),
                    nn.InstanceNorm2d(nf, affine=True),
                    nn.ReLU(),
                ],
                nf,
            )
            for i in range(config.upsamplings):
                c_out = min(16 * nf, nf * 2 ** (i + 1))
                layers += [
                    nn.Conv2d(c, c_out, 3, stride=2, padding=1, padding_mode="reflect"),
                    nn.InstanceNorm2d(c_out, affine=True),
                    nn.ReLU(),
                ]
                c = c_out
            layers.append(nn.Conv2d(c, 16 * nf, 3, padding=1, padding_mode="reflect"))
            self.label_encoder = nn.Sequential(*layers)
        elif config.use_encoder:
            self.from_code = nn.Linear(config.z_dim, 16 * nf * s0 * s0)
        else:
            self.from_labels = nn.Conv2d(k, 16 * nf, 3, padding=1)
        norm = SPADE if config.generator == "spade" else PlainNorm
        self.blocks = nn.ModuleDict(
            {name: SPADEResBlock(a, b, k, config.hidden, norm) for name, a, b, _ in rows}
        )
        self.to_rgb = nn.Conv2d(nf, 3, 3, padding=1)

    def forward(self, labels: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        config = self.config
        labels = check_label_map(labels, config, "SPADEGenerator(labels)")
        segmap = one_hot(labels, config.num_classes).to(self.to_rgb.weight.dtype)
        n, s0 = len(labels), self.first_side
        if config.generator == "baseline":
            x, segmap = self.label_encoder(segmap), None
        elif config.use_encoder:
            if z is None or z.shape != (n, config.z_dim):
                raise ValueError(
                    f"SPADEGenerator: expected z of shape ({n}, {config.z_dim}), got "
                    f"{describe(z)} (random: torch.randn; a reference's: encode_style)"
                )
            x = self.from_code(z).view(n, 16 * config.width, s0, s0)
        else:
            x = self.from_labels(F.interpolate(segmap, size=(s0, s0), mode="nearest"))
        for name, block in self.blocks.items():
            if name != "head_0" and name != "middle_1":  # 2× before middle_0 and every up_k
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = block(x, segmap)
        return torch.tanh(self.to_rgb(_act(x)))


class ImageEncoder(nn.Module):
    """An image -> ``(mu, logvar)`` of its style code, ``N×z_dim`` each (the authors' ConvEncoder):
    3×3 stride-2 convolutions with instance norm and spectral norm down to a 4×4 map (five for a
    128-px image, six for 256), then two linear layers."""

    def __init__(self, config: SPADEConfig):
        super().__init__()
        self.config = config
        w, side, layers, c = config.encoder_width, config.image_size, [], 3
        i = 0
        while side > 4:
            c_out = w * min(2**i, 8)
            layers += [
                spectral_norm(nn.Conv2d(c, c_out, 3, stride=2, padding=1)),
                nn.InstanceNorm2d(c_out, affine=False),
                nn.LeakyReLU(0.2),
            ]
            c, side, i = c_out, side // 2, i + 1
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.to_mu = nn.Linear(c * 16, config.z_dim)
        self.to_logvar = nn.Linear(c * 16, config.z_dim)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.config.image_size
        if images.dim() != 4 or images.shape[1:] != (3, s, s):
            raise ValueError(f"ImageEncoder: expected images N×3×{s}×{s} in [-1, 1], got {describe(images)}")
        h = self.body(images)
        return self.to_mu(h), self.to_logvar(h)


class SPADEModel(nn.Module):
    """What ships: the generator and, for SPADE with ``use_encoder``, its image encoder."""

    def __init__(self, config: SPADEConfig):
        super().__init__()
        self.config = config
        self.generator = SPADEGenerator(config)
        self.encoder = ImageEncoder(config) if config.generator == "spade" and config.use_encoder else None

    def forward(self, labels: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(labels, z)


# ----------------------------------------------------------------------------- discriminator


class PatchDiscriminator(nn.Module):
    """pix2pixHD's PatchGAN: 4×4 convolutions (stride 2, the last two stride 1), spectral and
    instance norm between, leaky ReLU; returns every layer's output (the last one: a map of
    logits), for feature matching."""

    def __init__(self, in_channels: int, width: int, layers: int):
        super().__init__()
        blocks, c = (
            [nn.Sequential(nn.Conv2d(in_channels, width, 4, stride=2, padding=2), nn.LeakyReLU(0.2))],
            width,
        )
        for n in range(1, layers):
            c_out = min(2 * c, 8 * width)
            blocks.append(
                nn.Sequential(
                    spectral_norm(
                        nn.Conv2d(c, c_out, 4, stride=1 if n == layers - 1 else 2, padding=2, bias=False)
                    ),
                    nn.InstanceNorm2d(c_out, affine=False),
                    nn.LeakyReLU(0.2),
                )
            )
            c = c_out
        blocks.append(nn.Conv2d(c, 1, 4, padding=2))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for block in self.blocks:
            x = block(x)
            out.append(x)
        return out


class MultiscaleDiscriminator(nn.Module):
    """``config.disc_scales`` PatchGANs, the k-th on the input average-pooled k times; each reads
    the image beside the one-hot label map. Returns one list of features per scale."""

    def __init__(self, config: SPADEConfig):
        super().__init__()
        self.config = config
        self.scales = nn.ModuleList(
            PatchDiscriminator(config.num_classes + 3, config.disc_width, config.disc_layers)
            for _ in range(config.disc_scales)
        )

    def forward(self, labels: torch.Tensor, images: torch.Tensor) -> list[list[torch.Tensor]]:
        x = torch.cat([one_hot(labels, self.config.num_classes).to(images.dtype), images], 1)
        out = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            out.append(d(x))
        return out


# ----------------------------------------------------------------------------- losses


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I)) = −½ Σ (1 + logvar − mu² − exp(logvar))``, summed over
    the batch and the code's dimensions, as the authors' KLDLoss does (a scalar)."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def hinge_losses(real_out, fake_out) -> torch.Tensor:
    """The discriminator's hinge loss, averaged over the scales (the last output of each)."""
    return sum(discriminator_loss(r[-1], f[-1], "hinge") for r, f in zip(real_out, fake_out)) / len(real_out)


def feature_matching(real_out, fake_out) -> torch.Tensor:
    """pix2pixHD's feature-matching loss: the L1 distance between the discriminators' hidden
    layers on real and generated images, summed over layers and averaged over scales."""
    total = 0.0
    for real_feats, fake_feats in zip(real_out, fake_out):
        for r, f in zip(real_feats[:-1], fake_feats[:-1]):
            total = total + F.l1_loss(f, r.detach())
    return total / len(real_out)


#: weights of the perceptual features' 4 stages: the last four of the authors' VGG weights
PERCEPTUAL_WEIGHTS = (1 / 16, 1 / 8, 1 / 4, 1.0)


def perceptual_loss(
    features: nn.Module, fake: torch.Tensor, real: torch.Tensor, size: int = 64
) -> torch.Tensor:
    """The authors' VGG loss with the course's features: ``Σ_k w_k · L1(φ_k(fake), φ_k(real))``,
    on the images resized to ``size`` (the side the features were trained at)."""
    if fake.shape[-1] != size:
        fake = F.interpolate(fake, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        real = F.interpolate(real, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    with torch.no_grad():
        target = features(real.clamp(-1, 1))
    return sum(
        w * F.l1_loss(f, t) for w, f, t in zip(PERCEPTUAL_WEIGHTS, features(fake.clamp(-1, 1)), target)
    )


# ----------------------------------------------------------------------------- using a trained model


def _model(model, who: str) -> SPADEModel:
    if not isinstance(model, SPADEModel):
        raise ValueError(
            f"{who}: expected a SPADEModel (course_lib.pretrained.load('spade-landscapes128')), "
            f"got {type(model).__name__}"
        )
    return model


@torch.no_grad()
def encode_style(model: SPADEModel, reference: torch.Tensor) -> torch.Tensor:
    """The style code of reference images: the encoder's ``mu``, ``N×z_dim``."""
    model = _model(model, "encode_style")
    if model.encoder is None:
        raise ValueError("encode_style: this model has no image encoder (the baseline has no style code)")
    reference = check_image(reference, "encode_style(reference)")
    was_training = model.training
    model.eval()
    try:
        return model.encoder(reference.to(model.generator.to_rgb.weight.device))[0]
    finally:
        model.train(was_training)


def look_code(
    model: SPADEModel, look: str, labels: torch.Tensor | None = None, seed: int = 0
) -> torch.Tensor:
    """The code of one of the world's looks (``LANDSCAPE_STYLES``): the encoder's code of a reference
    render in that look (of ``labels[:1]``, or of a landscape of the world drawn with ``seed``),
    ``1×z_dim``."""
    from .data import landscapes, render_landscape

    if look not in LANDSCAPE_STYLES:
        raise ValueError(
            f"look_code: unknown look {look!r}; the world's looks are {', '.join(LANDSCAPE_STYLES)}"
        )
    size = _model(model, "look_code").config.image_size
    if labels is None:
        reference = landscapes(1, size=size, seed=seed, style=look)[0]
    else:
        reference = render_landscape(
            check_label_map(labels, model.config, "look_code(labels)")[:1], look, seed=seed
        )
    return encode_style(model, reference)


@torch.no_grad()
def synthesize(
    model: SPADEModel,
    labels: torch.Tensor,
    z: torch.Tensor | None = None,
    seed: int | None = 0,
    look: str | None = None,
) -> torch.Tensor:
    """Label maps -> images ``N×3×S×S`` in [-1, 1], in eval mode.

    The style: ``z`` (``N×z_dim`` or ``1×z_dim``) if given; else ``look`` (a name from
    ``LANDSCAPE_STYLES``, through :func:`look_code`); else a random code drawn with ``seed``.
    The baseline ignores all three.
    """
    model = _model(model, "synthesize")
    labels = check_label_map(labels, model.config, "synthesize(labels)")
    dev = model.generator.to_rgb.weight.device
    if look is not None:
        z = look_code(model, look, seed=seed or 0)
    if model.config.generator == "spade" and model.config.use_encoder:
        if z is None:
            g = torch.Generator().manual_seed(check_int(seed or 0, "synthesize(seed)"))
            z = torch.randn(len(labels), model.config.z_dim, generator=g)
        z = z.expand(len(labels), -1) if len(z) == 1 else z
        z = z.to(dev)
    was_training = model.training
    model.eval()
    try:
        return model(labels.to(dev), z).float().cpu()
    finally:
        model.train(was_training)


@torch.no_grad()
def first_normalised(model: SPADEModel, labels: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
    """The activations just after the first normalisation layer that the label map reaches, in
    eval mode: the baseline's first convolution and instance norm; SPADE's first SPADE layer
    (``head_0.norm_0``, on the code's map). Where a uniform map's class survives, or not."""
    model = _model(model, "first_normalised")
    labels = check_label_map(labels, model.config, "first_normalised(labels)")
    g = model.generator
    segmap = one_hot(labels, model.config.num_classes)
    was_training = model.training
    model.eval()
    try:
        if model.config.generator == "baseline":
            return g.label_encoder[:2](segmap)
        s0 = g.first_side
        if model.config.use_encoder:
            z = torch.zeros(len(labels), model.config.z_dim) if z is None else z.expand(len(labels), -1)
            x = g.from_code(z).view(len(labels), -1, s0, s0)
        else:
            x = g.from_labels(F.interpolate(segmap, size=(s0, s0), mode="nearest"))
        return g.blocks["head_0"].norm_0(x, segmap)
    finally:
        model.train(was_training)


# ----------------------------------------------------------------------------- training


@register
class SPADERecipe(Recipe):
    """One step as in the authors' ``pix2pix_model``: the generator (and encoder) first, with
    hinge + feature matching + perceptual (+ KL), then the discriminators with the hinge loss."""

    name = "spade"
    config_class = SPADEConfig
    perceptual_net = None  # the frozen perceptual features (see build); not a trained module
    # the paper's learning rates doubled (the TTUR ratio kept): a CPU budget is a few thousand steps
    _course = SPADEConfig(
        image_size=128,
        width=8,
        hidden=16,
        z_dim=32,
        encoder_width=8,
        disc_width=16,
        lr_generator=2e-4,
        lr_discriminator=8e-4,
        data_size=2000,
    )
    presets = {"paper": SPADEConfig(), "course": _course}
    # course: batch 8 at 128 px on one shared CPU thread; the shipped pair ran with --time-limit
    settings = {
        "paper": TrainSettings(steps=200_000, batch_size=32, sample_every=5000, save_every=2500),
        "course": TrainSettings(steps=20_000, batch_size=8, sample_every=100, save_every=50),
    }
    accepts = ("landscapes",)
    export_module = "model"

    def starts_from(self, config):
        """The frozen perceptual features (a shipped checkpoint), when their loss is on."""
        return {"perceptual": config.perceptual} if config.perceptual_weight > 0 else {}

    def build(self, config, perceptual: nn.Module | None = None):
        # frozen, so kept out of the modules and their checkpoints
        self.perceptual_net = None if perceptual is None else perceptual.requires_grad_(False).eval()
        return {"model": SPADEModel(config), "discriminator": MultiscaleDiscriminator(config)}

    def build_export(self, config):
        return SPADEModel(config)

    def optimizers(self, modules, config):
        betas = (config.beta1, config.beta2)       # the paper's TTUR: two learning rates, one Adam
        return {"model": self.adam(modules["model"].parameters(), config.lr_generator, betas),
                "discriminator": self.adam(modules["discriminator"].parameters(), config.lr_discriminator,
                                           betas)}

    def training_step(self, modules, optimizers, batch, step, config):
        model, discriminator = modules["model"], modules["discriminator"]
        real, labels = batch["image"], batch["labels"]
        losses = {}
        z = None
        if model.encoder is not None:
            mu, logvar = model.encoder(real)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)  # the reparameterisation trick
        fake = model(labels, z)
        fake_out, real_out = discriminator(labels, fake), discriminator(labels, real)
        g_gan = sum(generator_loss(f[-1], "hinge") for f in fake_out) / len(fake_out)
        g_feat = feature_matching(real_out, fake_out)
        loss = g_gan + config.feature_matching * g_feat
        losses.update(g=g_gan.detach(), feat=g_feat.detach())
        if self.perceptual_net is not None:
            self.perceptual_net.to(real.device)
            g_perc = perceptual_loss(self.perceptual_net, fake, real, config.perceptual_size)
            loss = loss + config.perceptual_weight * g_perc
            losses["perc"] = g_perc.detach()
        if model.encoder is not None:
            kl = kl_divergence(mu, logvar)
            loss = loss + config.kl_weight * kl
            losses["kl"] = kl.detach()
        optimizers["model"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["model"].step()

        d_loss = hinge_losses(discriminator(labels, real), discriminator(labels, fake.detach()))
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()
        losses["d"] = d_loss.detach()
        return losses

    def samples(self, modules, config, batch):
        """Rows: the label maps, generated images, real renders."""
        from .data import colour_labels

        labels, real = batch["labels"][:8], batch["image"][:8]
        model = modules["model"]
        z = None
        if model.encoder is not None:
            z = torch.randn(len(labels), config.z_dim, generator=torch.Generator().manual_seed(0)).to(
                real.device
            )
        return torch.cat([colour_labels(labels.cpu()).to(real.device), model(labels, z), real])


@register
class BaselineRecipe(SPADERecipe):
    """The network the paper argues against (pix2pixHD-like), with SPADE's discriminators, losses,
    data and settings: only ``config.generator`` differs."""

    name = "spade-baseline"
    presets = {
        "paper": dataclasses.replace(SPADEConfig(), generator="baseline", use_encoder=False),
        "course": dataclasses.replace(SPADERecipe._course, generator="baseline", use_encoder=False),
    }
