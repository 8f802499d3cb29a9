"""AdaIN: arbitrary style transfer in real time (Huang and Belongie 2017).

Huang and Belongie 2017, "Arbitrary Style Transfer in Real-time with Adaptive Instance
Normalization" (ICCV). Gatys et al. 2016 restyle an image by optimising its pixels until its
VGG features have the content of one image and the feature statistics of another: minutes per
image. Feed-forward networks (Johnson et al. 2016; Ulyanov et al. 2016) are fast but learn one
style each. AdaIN is fast *and* arbitrary: encode both images with a fixed VGG-19, give the
content features the per-channel mean and standard deviation of the style features, decode.

    AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)                           (Eq. 8)
    t = AdaIN(f(c), f(s));   T(c, s) = g(t)                                 (Eq. 9, 10)
    L = L_c + λ L_s                                                         (Eq. 11)
    L_c = ‖f(g(t)) − t‖                                                     (Eq. 12)
    L_s = Σ_i ‖μ(φ_i(g(t))) − μ(φ_i(s))‖ + ‖σ(φ_i(g(t))) − σ(φ_i(s))‖       (Eq. 13)
    T(c, s, α) = g((1 − α) f(c) + α AdaIN(f(c), f(s)))                      (Eq. 14)
    T(c, s_1..K, w) = g(Σ_k w_k AdaIN(f(c), f(s_k)))                        (Eq. 15)

Symbols -> code: ``x`` -> ``content_features``; ``y`` -> ``style_features``; ``μ``, ``σ`` ->
:func:`mean_std` (per sample and channel, over the spatial axes, with ``eps`` in the variance);
``f`` -> :class:`VGGEncoder` (VGG-19 up to relu4_1); ``φ_i`` -> its relu1_1, relu2_1, relu3_1,
relu4_1 (``VGGEncoder.features``); ``g`` -> :class:`AdaINDecoder`; ``t`` -> ``target``;
``λ`` -> ``AdaINConfig.style_weight``; ``α`` -> ``alpha``; ``w_k`` -> ``weights``;
:func:`adain` is Eq. 8, :func:`style_loss` Eq. 13, :func:`stylize` Eq. 9/10/14/15.

The encoder. The paper's is VGG-19 trained on ImageNet (``VGGEncoder`` with
``EncoderConfig.paper()``: widths 64-128-256-512; it loads torchvision's ``vgg19`` weights when
you give a local file, and never downloads). The course ships its own, ``adain-encoder``: the
same layer plan at a quarter of the widths (16-32-64-128), trained by the course's command on
the worlds and photographs with the tasks of :mod:`course_lib.features` (face attributes,
landscape label maps, which photo a crop came from). It has seen no paintings and no ImageNet.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_image, check_mask, describe
from .data import faces, landscapes
from .data.styles import TRAINED_FAMILIES, styles, textures
from .features import FeatureHeads, WorldsMixRecipe, photo_crops
from .images import resize
from .recipes import Recipe, TrainSettings, register

__all__ = ["VGG19_PLAN", "STYLE_LAYERS", "EncoderConfig", "VGGEncoder", "EncoderRecipe",
           "mean_std", "adain"]

#: VGG-19's layers up to relu4_1, in order ("pool" = 2×2 max pooling); every conv is 3×3 + ReLU.
VGG19_PLAN = ("conv1_1", "conv1_2", "pool", "conv2_1", "conv2_2", "pool",
              "conv3_1", "conv3_2", "conv3_3", "conv3_4", "pool", "conv4_1")
#: the layers whose statistics are the style (Sec. 6.1 of the paper); relu4_1 is also the content
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
#: where each conv sits in torchvision's ``vgg19().features`` (to read its state dict)
_TORCHVISION_INDEX = {"conv1_1": 0, "conv1_2": 2, "conv2_1": 5, "conv2_2": 7, "conv3_1": 10,
                      "conv3_2": 12, "conv3_3": 14, "conv3_4": 16, "conv4_1": 19}
_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


# ============================================================================= the operator

def mean_std(features: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """``μ`` and ``σ`` of ``N×C×H×W`` features per sample and channel: two ``N×C×1×1`` tensors.

    ``σ = sqrt(Var + eps)`` (biased variance over H×W, Eq. 5-6 of the paper), so a flat
    feature map has ``σ = sqrt(eps)``, not 0, and dividing by it stays finite."""
    if not isinstance(features, torch.Tensor) or features.dim() != 4:
        raise ValueError(f"mean_std: expected features N×C×H×W, got {describe(features)}")
    mu = features.mean((2, 3), keepdim=True)
    sigma = (features.var((2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return mu, sigma


def adain(content_features: torch.Tensor, style_features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Adaptive instance normalisation, Eq. 8 of Huang and Belongie 2017:

        AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)

    Normalise each channel of the content features ``x`` to zero mean and unit deviation,
    then give it the style features' mean and deviation. No learned parameters: the affine
    ``γ, β`` of instance normalisation are *computed* from the style image.
    """
    for name, f in (("content_features", content_features), ("style_features", style_features)):
        if not isinstance(f, torch.Tensor) or f.dim() != 4:
            raise ValueError(f"adain: expected {name} N×C×H×W, got {describe(f)}")
    if content_features.shape[:2] != style_features.shape[:2]:
        raise ValueError(f"adain: content and style features need the same N×C, got "
                         f"{tuple(content_features.shape)} and {tuple(style_features.shape)}")
    mu_x, sigma_x = mean_std(content_features, eps)
    mu_y, sigma_y = mean_std(style_features, eps)
    return sigma_y * (content_features - mu_x) / sigma_x + mu_y     # Eq. 8


# ============================================================================= the encoder f

@dataclasses.dataclass
class EncoderConfig:
    """VGG-19's layer plan up to relu4_1, at ``widths`` (one per stage).

    ``vgg19_weights``: a local file of torchvision's ``vgg19`` state dict (``.pth`` or
    ``.safetensors``), read only when it is given; nothing is ever downloaded. The training
    fields (``image_size`` ... ``lr``) are the course's: see :class:`EncoderRecipe`.
    """

    widths: tuple[int, ...] = (16, 32, 64, 128)
    imagenet_input: bool = False     # normalise inputs as torchvision's VGG expects
    vgg19_weights: str = ""
    image_size: int = 64
    faces: int = 4000
    landscapes: int = 4000
    photo_crops: int = 2000
    lr: float = 1e-3

    def __post_init__(self):   # a config read back from JSON has a list here
        self.widths = tuple(self.widths)
        if len(self.widths) != 4:
            raise ValueError(f"EncoderConfig: expected 4 widths (stages 1-4), got {self.widths}")

    @classmethod
    def paper(cls, vgg19_weights: str = "") -> "EncoderConfig":
        """VGG-19's own widths, ImageNet input normalisation, optionally its weights from disk."""
        return cls(widths=(64, 128, 256, 512), imagenet_input=True, vgg19_weights=vgg19_weights)


class VGGEncoder(nn.Module):
    """``f``: images ``N×3×H×W`` in [-1, 1] -> features at relu1_1, relu2_1, relu3_1, relu4_1.

    Reflection padding before every 3×3 convolution, as the authors' normalised VGG uses.
    The encoder is fixed during style transfer (``requires_grad_(False)`` after loading).
    """

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        widths, c_in, convs = config.widths, 3, {}
        for name in VGG19_PLAN:
            if name != "pool":
                stage = int(name[4]) - 1
                convs[name] = nn.Conv2d(c_in, widths[stage], 3)
                c_in = widths[stage]
        self.convs = nn.ModuleDict(convs)
        mean, std = (_IMAGENET_MEAN, _IMAGENET_STD) if config.imagenet_input else ((0.5,) * 3, (0.5,) * 3)
        self.register_buffer("input_mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("input_std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        if config.vgg19_weights:
            self.load_vgg19(config.vgg19_weights)

    def load_vgg19(self, path: str | Path) -> "VGGEncoder":
        """Read torchvision's ``vgg19`` weights from a local file (never a download)."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"VGGEncoder: no VGG-19 weights at {str(path)!r}. The course never "
                             "downloads; put torchvision's vgg19 state dict there yourself, or use "
                             "the course's encoder (course_lib.pretrained.load('adain-encoder'))")
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
        for name, conv in self.convs.items():
            for part in ("weight", "bias"):
                key = f"features.{_TORCHVISION_INDEX[name]}.{part}"
                if key not in state or state[key].shape != getattr(conv, part).shape:
                    raise ValueError(f"VGGEncoder: {str(path)!r} has no {key} of shape "
                                     f"{tuple(getattr(conv, part).shape)} (is it torchvision's vgg19?)")
                getattr(conv, part).data.copy_(state[key])
        return self

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """``φ_1..φ_4``: relu1_1, relu2_1, relu3_1, relu4_1, without checking the input (a
        decoder's raw output may leave [-1, 1] during training)."""
        x = ((images + 1) / 2 - self.input_mean) / self.input_std
        out = []
        for name in VGG19_PLAN:
            if name == "pool":
                x = F.max_pool2d(x, 2)
                continue
            x = F.relu(self.convs[name](F.pad(x, (1, 1, 1, 1), mode="reflect")))
            if name.endswith("_1"):
                out.append(x)
        return out

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        return self.features(check_image(images, "VGGEncoder(images)"))

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``f(images)``: relu4_1 alone, ``N×widths[3]×H/8×W/8``."""
        return self(images)[-1]


@register
class EncoderRecipe(WorldsMixRecipe):
    """Train the course's :class:`VGGEncoder` (``adain-encoder``) as a multi-task classifier.

    ImageNet's 1,000 classes are out of reach offline, so the encoder learns the tasks that
    shaped ``perceptual-worlds64`` (:class:`course_lib.features.FeatureHeads`): every attribute
    of a face (from relu4_1, pooled), a landscape's label map at 1/4 resolution (from relu3_1),
    and which photograph a random crop came from (relu4_1, pooled). The heads are not shipped.
    """

    name = "adain-encoder"
    config_class = EncoderConfig
    presets = {"course": EncoderConfig(), "paper": EncoderConfig.paper()}
    # course: about 0.1 s a step of batch 32 on one shared CPU thread
    settings = {"course": TrainSettings(steps=3000, batch_size=32, sample_every=500, save_every=250),
                "paper": TrainSettings(steps=3000, batch_size=32, sample_every=500, save_every=250)}
    export_module = "encoder"

    def build(self, config):
        return {"encoder": VGGEncoder(config), "heads": FeatureHeads(config)}

    def build_export(self, config):
        return VGGEncoder(dataclasses.replace(config, vgg19_weights=""))

    def optimizers(self, modules, config):
        params = list(modules["encoder"].parameters()) + list(modules["heads"].parameters())
        return {"all": self.adam(params, config.lr)}

    def training_step(self, modules, optimizers, batch, step, config):
        losses = modules["heads"].losses(modules["encoder"](batch["image"]), batch)
        loss = sum(losses.values())
        optimizers["all"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["all"].step()
        return {k: v.detach() for k, v in losses.items()}


# ============================================================================= the decoder g

def decoder_plan(widths: tuple[int, ...]) -> list[tuple[str, int, int]]:
    """The decoder's layers: the encoder's plan read backwards, each conv mapping its encoder
    twin's output width back to its input width and each pool becoming a 2× nearest upsampling
    (Sec. 6.1; the authors' train.lua builds it the same way): ``[(name, c_in, c_out)]``."""
    plan, c_in = [], 3
    for name in VGG19_PLAN:
        if name == "pool":
            plan.append(("upsample", 0, 0))
        else:
            c_out = widths[int(name[4]) - 1]
            plan.append((name, c_out, c_in))
            c_in = c_out
    return plan[::-1]


class AdaINDecoder(nn.Module):
    """``g``: AdaIN targets ``t`` (relu4_1 features) -> images ``N×3×8h×8w``.

    The encoder mirrored: reflection-padded 3×3 convolutions with ReLU, nearest-neighbour
    upsampling where the encoder pools, no normalisation layers (the paper, Sec. 6.1: they
    would normalise the style away again), and no activation after the last convolution.
    The output is not clamped, as in the paper; :func:`decode` clamps it to [-1, 1].
    """

    def __init__(self, widths: tuple[int, ...]):
        super().__init__()
        self.plan = decoder_plan(tuple(widths))
        self.convs = nn.ModuleDict({name: nn.Conv2d(c_in, c_out, 3)
                                    for name, c_in, c_out in self.plan if name != "upsample"})

    def forward(self, target: torch.Tensor) -> torch.Tensor:
        x = target
        for name, _, _ in self.plan:
            if name == "upsample":
                x = F.interpolate(x, scale_factor=2, mode="nearest")
                continue
            x = self.convs[name](F.pad(x, (1, 1, 1, 1), mode="reflect"))
            if name != "conv1_1":
                x = F.relu(x)
        return x


# ============================================================================= the losses

def content_loss(output_features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``L_c = ‖f(g(t)) − t‖²``, Eq. 12, as a mean over elements (the authors' MSE)."""
    return F.mse_loss(output_features, target)


def style_loss(output_features: list[torch.Tensor], style_features: list[torch.Tensor],
               eps: float = 1e-5) -> torch.Tensor:
    """``L_s``, Eq. 13: at each layer ``φ_i`` (relu1_1 ... relu4_1), the squared distance between
    the output's and the style's per-channel means plus that between their deviations, averaged
    over channels and samples, summed over layers. A style batch of 1 serves every output."""
    if len(output_features) != len(style_features):
        raise ValueError(f"style_loss: expected as many style layers as output layers, got "
                         f"{len(style_features)} and {len(output_features)}")
    total = 0.0
    for out, sty in zip(output_features, style_features):
        mu_o, sigma_o = mean_std(out, eps)
        mu_s, sigma_s = mean_std(sty, eps)
        total = total + ((mu_o - mu_s) ** 2).mean() + ((sigma_o - sigma_s) ** 2).mean()
    return total


# ============================================================================= the network

@dataclasses.dataclass
class AdaINConfig:
    """The style-transfer network and its training (Sec. 6 of the paper; course sizes).

    ``encoder``: the shipped checkpoint of ``f`` the decoder learns to invert ("" = a fresh
    :class:`VGGEncoder`, with ``vgg19_weights`` read from disk when given: the paper preset).
    ``style_weight`` is ``λ``. The paper trains at 256 px with Adam at lr 1e-4 (decayed as
    lr / (1 + 5e-5 · step), train.lua) for 160,000 steps of batch 8; the course at 128 px and
    a larger rate for a few thousand steps.
    """

    encoder: str = "adain-encoder"
    widths: tuple[int, ...] = (16, 32, 64, 128)
    imagenet_input: bool = False
    vgg19_weights: str = ""
    image_size: int = 128
    style_weight: float = 10.0
    lr: float = 1e-4
    lr_decay: float = 5e-5
    # The course's change: the decoder first learns to invert the encoder, ‖g(f(c)) − c‖₁ on
    # pixels alone at ``warmup_lr``, for this many steps; then it trains on Eq. 11 alone at
    # ``lr``. On a CPU budget (thousands of steps, not the paper's 160,000) Eq. 11 from a random
    # decoder leaves blurred, miscoloured images: its content and style terms say little about
    # colour in the course encoder's features. 0 = the paper.
    warmup_steps: int = 1500
    warmup_lr: float = 1e-3
    contents: int = 3000       # training content images: faces, landscapes and photo crops, a third each
    styles: int = 2400         # training style images: 3/4 the trained families, 1/8 textures, 1/8 looks

    def __post_init__(self):
        self.widths = tuple(self.widths)

    def encoder_config(self) -> EncoderConfig:
        return EncoderConfig(widths=self.widths, imagenet_input=self.imagenet_input,
                             vgg19_weights=self.vgg19_weights)


class StyleTransferNet(nn.Module):
    """``T(c, s) = g(AdaIN(f(c), f(s)))``: the fixed encoder ``f`` and the trained decoder ``g``.

    Use it through :func:`stylize` (and :func:`encode`, :func:`target`, :func:`decode`)."""

    def __init__(self, config: AdaINConfig):
        super().__init__()
        self.config = config
        self.encoder = VGGEncoder(config.encoder_config()).requires_grad_(False)
        self.decoder = AdaINDecoder(config.widths)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training: the raw output ``g(t)`` (gradients reach the decoder) and the loss terms
        ``(L_c, L_s)`` of Eq. 12-13 for a batch of contents and styles (``N`` each). To restyle
        images use :func:`stylize`, which clamps and takes the user controls."""
        with torch.no_grad():
            style_feats = self.encoder.features(style)
            t = adain(self.encoder.encode(content), style_feats[-1])       # Eq. 9
        output = self.decoder(t)                                            # Eq. 10
        out_feats = self.encoder.features(output)
        return output, torch.stack([content_loss(out_feats[-1], t), style_loss(out_feats, style_feats)])


# ============================================================================= transfer and the user controls

def _check_net(net, who: str) -> "StyleTransferNet":
    if not isinstance(net, StyleTransferNet):
        raise ValueError(f"{who}: expected a StyleTransferNet (course_lib.pretrained.load("
                         f"'adain-worlds128')), got {type(net).__name__}")
    return net


def _check_styles(style, content: torch.Tensor, who: str) -> list[torch.Tensor]:
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ValueError(f"{who}: expected at least one style image, got an empty list")
    n = len(content)
    for k, s in enumerate(styles):
        check_image(s, f"{who}(style[{k}])" if len(styles) > 1 else f"{who}(style)")
        if len(s) not in (1, n):
            raise ValueError(f"{who}: style[{k}] holds {len(s)} images; expected 1 (for every "
                             f"content) or {n} (one per content image)")
    return styles


def _check_alpha(alpha, who: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"{who}: expected alpha, the content-style trade-off, as a number in "
                         f"[0, 1] (0: the content, 1: full style), got {alpha!r}")
    return float(alpha)


def _check_weights(weights, k: int, who: str) -> list[float]:
    if weights is None:
        return [1.0 / k] * k
    weights = [float(w) for w in weights]
    if len(weights) != k:
        raise ValueError(f"{who}: expected {k} style weights, one per style image, got {len(weights)}")
    if any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-4:
        raise ValueError(f"{who}: expected non-negative style weights that sum to 1, got {weights} "
                         f"(sum {sum(weights):.4g})")
    return weights


def masked_mean_std(features: torch.Tensor, region: torch.Tensor,
                    eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """``μ`` and ``σ`` of ``features`` over the pixels where ``region`` (``N×1×H×W``, 0/1) is 1."""
    count = region.sum((2, 3), keepdim=True).clamp_min(1.0)
    mu = (features * region).sum((2, 3), keepdim=True) / count
    var = (((features - mu) ** 2) * region).sum((2, 3), keepdim=True) / count
    return mu, (var + eps).sqrt()


@torch.no_grad()
def encode(net: StyleTransferNet, images: torch.Tensor) -> torch.Tensor:
    """``f(images)``: the relu4_1 features."""
    return _check_net(net, "encode").encoder.encode(images)


@torch.no_grad()
def target(content_features: torch.Tensor, style_features: list[torch.Tensor],
           weights: list[float] | None = None, mask: torch.Tensor | None = None,
           eps: float = 1e-5) -> torch.Tensor:
    """The AdaIN target ``t`` from relu4_1 features.

    One style: Eq. 8. Several with ``weights``: ``Σ_k w_k AdaIN(f(c), f(s_k))`` (Eq. 15, style
    interpolation). Two with a ``mask`` (``N×1×H×W`` at any size, 1 = the first style's region):
    each region of the content gets AdaIN with its own statistics and its own style (spatial
    control, Sec. 7.3)."""
    n = len(content_features)
    style_features = [s.expand(n, -1, -1, -1) for s in style_features]
    if mask is None:
        weights = _check_weights(weights, len(style_features), "target")
        return sum(w * adain(content_features, s, eps) for w, s in zip(weights, style_features))
    region = (F.interpolate(mask, size=content_features.shape[-2:], mode="area") > 0.5).float()
    region = region.expand(n, -1, -1, -1)
    out = torch.zeros_like(content_features)
    for inside, s in ((region, style_features[0]), (1 - region, style_features[1])):
        mu_x, sigma_x = masked_mean_std(content_features, inside, eps)
        mu_y, sigma_y = mean_std(s, eps)
        out = out + inside * (sigma_y * (content_features - mu_x) / sigma_x + mu_y)   # Eq. 8 per region
    return out


def blend(content_features: torch.Tensor, adain_target: torch.Tensor, alpha: float) -> torch.Tensor:
    """Eq. 14, the content-style trade-off at test time: ``(1 − α) f(c) + α t``."""
    alpha = _check_alpha(alpha, "blend")
    return (1 - alpha) * content_features + alpha * adain_target


@torch.no_grad()
def decode(net: StyleTransferNet, features: torch.Tensor) -> torch.Tensor:
    """``g(features)`` clamped to [-1, 1]."""
    return _check_net(net, "decode").decoder(features).clamp(-1, 1)


def match_colour(style: torch.Tensor, content: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Colour preservation (Sec. 7.3): recolour ``style`` so that its pixels have the mean and
    covariance of ``content``'s (the authors' code does this "CORAL" match, Sun et al. 2016),
    then transfer as usual. ``x' = Σ_c^½ Σ_s^-½ (x − μ_s) + μ_c`` per image."""
    style, content = check_image(style, "match_colour(style)"), check_image(content, "match_colour(content)")
    n = max(len(style), len(content))
    if len(style) not in (1, n) or len(content) not in (1, n):
        raise ValueError(f"match_colour: expected batches of 1 or the same size, got "
                         f"{len(style)} and {len(content)}")
    style, content = style.expand(n, -1, -1, -1), content.expand(n, -1, -1, -1)
    s, c = style.flatten(2).double(), content.flatten(2).double()
    mu_s, mu_c = s.mean(2, keepdim=True), c.mean(2, keepdim=True)
    eye = eps * torch.eye(3, dtype=torch.float64)
    cov_s = (s - mu_s) @ (s - mu_s).transpose(1, 2) / s.shape[2] + eye
    cov_c = (c - mu_c) @ (c - mu_c).transpose(1, 2) / c.shape[2] + eye

    def power(m, p):
        vals, vecs = torch.linalg.eigh(m)
        return vecs @ torch.diag_embed(vals.clamp_min(eps) ** p) @ vecs.transpose(1, 2)

    out = power(cov_c, 0.5) @ power(cov_s, -0.5) @ (s - mu_s) + mu_c
    return out.view_as(style).float().clamp(-1, 1)


@torch.no_grad()
def stylize(net: StyleTransferNet, content: torch.Tensor, style, alpha: float = 1.0,
            weights=None, mask: torch.Tensor | None = None, preserve_colour: bool = False,
            eps: float = 1e-5) -> torch.Tensor:
    """Restyle ``content`` (``N×3×H×W`` in [-1, 1], sides multiples of 8) with ``style``.

    ``style``: an image batch (1 or N images), or a list of them for interpolation (with
    ``weights`` summing to 1; equal by default) or for spatial control (two styles and a
    ``mask`` ``N×1×H×W`` matching the content: the first style where it is 1). ``alpha``: the
    content-style trade-off in [0, 1] (Eq. 14). ``preserve_colour``: keep the content's colours
    (:func:`match_colour`). Returns ``g(t)`` clamped to [-1, 1]."""
    net = _check_net(net, "stylize")
    content = check_image(content, "stylize(content)")
    if content.shape[-1] % 8 or content.shape[-2] % 8:
        raise ValueError(f"stylize: content sides must be multiples of 8 (three poolings), got "
                         f"{tuple(content.shape[-2:])}")
    styles = _check_styles(style, content, "stylize")
    alpha = _check_alpha(alpha, "stylize")
    if mask is not None:
        check_mask(mask, "stylize(mask)", like=content)
        if len(styles) != 2 or weights is not None:
            raise ValueError(f"stylize: spatial control takes exactly two styles (the first where "
                             f"the mask is 1) and no weights, got {len(styles)} styles"
                             + (" and weights" if weights is not None else ""))
    else:
        weights = _check_weights(weights, len(styles), "stylize")
    if preserve_colour:
        styles = [match_colour(s, content) for s in styles]
    content_features = encode(net, content)
    t = target(content_features, [encode(net, s) for s in styles], weights, mask, eps)
    return decode(net, blend(content_features, t, alpha))


# ============================================================================= the baseline: Gatys et al.

@dataclasses.dataclass
class GatysResult:
    """What :func:`gatys` returns: the image and its losses after every iteration."""

    image: torch.Tensor
    content_losses: list[float]
    style_losses: list[float]
    seconds: float
    converged: bool

    @property
    def iterations(self) -> int:
        return len(self.content_losses)


def gatys(net: StyleTransferNet, content: torch.Tensor, style: torch.Tensor,
          style_weight: float | None = None, max_steps: int = 2000, lr: float = 0.02,
          tolerance: float = 0.01, window: int = 20, callback=None) -> GatysResult:
    """Gatys, Ecker and Bethge 2016, "Image Style Transfer Using Convolutional Neural Networks":
    optimise the image's pixels, here with Adam, on the *same* encoder and the *same* losses as
    the decoder is trained on, ``L_c(x) + λ L_s(x)`` with ``L_c = ‖f(x) − t‖²`` and ``L_s`` of
    Eq. 13 (Gatys match Gram matrices; the AdaIN paper's Fig. 3 compares on its own losses).

    Starts from the content image and stops when the loss improved by less than ``tolerance``
    (relative) over the last ``window`` iterations, or after ``max_steps``. ``callback(step,
    image)`` is called after every iteration."""
    net = _check_net(net, "gatys")
    content = check_image(content, "gatys(content)")
    style = check_image(style, "gatys(style)")
    if len(style) not in (1, len(content)):
        raise ValueError(f"gatys: expected 1 or {len(content)} style images, got {len(style)}")
    lam = net.config.style_weight if style_weight is None else float(style_weight)
    encoder = net.encoder
    start = time.perf_counter()
    with torch.no_grad():
        style_feats = encoder.features(style)
        t = adain(encoder.encode(content), style_feats[-1].expand(len(content), -1, -1, -1))
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    contents, styles, totals, converged = [], [], [], False
    for step in range(max_steps):
        feats = encoder.features(x)
        lc, ls = content_loss(feats[-1], t), style_loss(feats, style_feats)
        loss = lc + lam * ls
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(-1, 1)
        contents.append(float(lc.detach()))
        styles.append(float(ls.detach()))
        totals.append(float(loss.detach()))
        if callback is not None:
            callback(step, x.detach())
        if len(totals) > window and totals[-1] > (1 - tolerance) * totals[-1 - window]:
            converged = True
            break
    return GatysResult(x.detach(), contents, styles, time.perf_counter() - start, converged)


@torch.no_grad()
def losses(net: StyleTransferNet, content: torch.Tensor, style: torch.Tensor,
           output: torch.Tensor) -> dict[str, torch.Tensor]:
    """The paper's losses of a result, per image: ``{"content": L_c, "style": L_s}`` (``N``
    each), with ``t`` from ``content`` and ``style``: the scale of Fig. 3."""
    net = _check_net(net, "losses")
    encoder = net.encoder
    n = len(check_image(content, "losses(content)"))
    style_feats = encoder(style)
    t = adain(encoder.encode(content), style_feats[-1].expand(n, -1, -1, -1))
    out_feats = encoder(output)
    c = torch.stack([content_loss(out_feats[-1][i:i + 1], t[i:i + 1]) for i in range(n)])
    s = torch.stack([style_loss([f[i:i + 1] for f in out_feats],
                                [f[i:i + 1] if len(f) == n else f for f in style_feats])
                     for i in range(n)])
    return {"content": c, "style": s}


# ============================================================================= training

def _quantise(x: torch.Tensor) -> torch.Tensor:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


class StylePairs(torch.utils.data.Dataset):
    """Every (content, style) pair of two image sets, made once and stored as uint8.

    Contents: faces, landscapes and crops of the bundled photos (seed 0). Styles: the
    trained families of :func:`course_lib.data.styles` (never :data:`HELD_OUT_FAMILIES`),
    crops of the scikit-image textures, and landscapes in their four looks. Item ``i`` is the
    pair ``(i // styles, i % styles)``, so a random index is a random pair."""

    def __init__(self, config: AdaINConfig, seed: int = 0):
        s, third = config.image_size, config.contents // 3
        face_images, _ = faces(third, size=s, seed=seed)
        land_images, _, _ = landscapes(third, size=s, seed=seed)
        crops, _ = photo_crops(config.contents - 2 * third, s, seed)
        self.contents = _quantise(torch.cat([face_images, land_images, crops]))
        n_families, n_other = config.styles * 3 // 4, config.styles // 8
        family_images, _ = styles(n_families, size=s, seed=seed, families=TRAINED_FAMILIES)
        looks, _, _ = landscapes(config.styles - n_families - n_other, size=s, seed=seed + 1)
        self.styles = _quantise(torch.cat([family_images, _texture_crops(textures(), n_other, s, seed),
                                           looks]))

    def __len__(self) -> int:
        return len(self.contents) * len(self.styles)

    def __getitem__(self, i: int) -> dict:
        c, s = divmod(int(i), len(self.styles))
        return {"content": self.contents[c].float() / 127.5 - 1, "style": self.styles[s].float() / 127.5 - 1}


def _texture_crops(pictures: dict[str, torch.Tensor], n: int, size: int, seed: int) -> torch.Tensor:
    """``n`` random square crops (random scale) of the pictures, resized to ``size``."""
    rng = np.random.default_rng([seed, 7])
    pics, out = list(pictures.values()), []
    for _ in range(n):
        pic = pics[int(rng.integers(len(pics)))]
        h, w = pic.shape[-2:]
        side = int(rng.integers(min(size, h, w), min(h, w) + 1))
        top, left = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
        out.append(resize(pic[:, :, top:top + side, left:left + side], size))
    return torch.cat(out)


@register
class AdaINRecipe(Recipe):
    """Train the decoder ``g`` with ``L_c + λ L_s`` (Eq. 11), the encoder ``f`` fixed.

    ``--data worlds``: :class:`StylePairs`. The shipped module is the whole
    :class:`StyleTransferNet` (the fixed encoder's weights travel with the decoder's)."""

    name = "adain"
    config_class = AdaINConfig
    presets = {
        "course": AdaINConfig(),
        # VGG-19's widths at 256 px, the paper's Adam settings; the encoder read from
        # AdaINConfig.vgg19_weights (buildable; not trained here)
        "paper": AdaINConfig(encoder="", widths=(64, 128, 256, 512), imagenet_input=True,
                             image_size=256, lr=1e-4, contents=80_000, styles=80_000,
                             warmup_steps=0),
    }
    # course: about 0.3 s a step of batch 8 at 128 px on one shared CPU thread
    settings = {"course": TrainSettings(steps=4000, batch_size=8, sample_every=250, save_every=100),
                "paper": TrainSettings(steps=160_000, batch_size=8, sample_every=2000, save_every=2000)}
    accepts = ("worlds",)
    schedules_lr = True    # train.lua's learningRateDecay, in training_step
    export_module = "net"

    def starts_from(self, config: AdaINConfig) -> dict[str, str]:
        """The shipped checkpoints this recipe starts from: the encoder it learns to invert."""
        return {"encoder": config.encoder} if config.encoder else {}

    def dataset(self, spec, config):
        if spec != "worlds":
            raise ValueError(f"model {self.name!r} trains on 'worlds' (contents from the faces, "
                             f"landscapes and photos; styles from the styles world), not {spec!r}")
        return StylePairs(config)

    def build(self, config, encoder: nn.Module | None = None):
        net = StyleTransferNet(config)
        if config.encoder:
            if not isinstance(encoder, VGGEncoder) or encoder.config.widths != config.widths:
                raise ValueError(f"adain: checkpoint {config.encoder!r} is not a VGGEncoder of "
                                 f"widths {config.widths}")
            net.encoder.load_state_dict(encoder.state_dict())
        net.encoder.requires_grad_(False)
        return {"net": net}

    def build_export(self, config):
        return StyleTransferNet(config)

    def optimizers(self, modules, config):
        return {"decoder": self.adam(modules["net"].decoder.parameters(), config.lr)}

    def training_step(self, modules, optimizers, batch, step, config):
        content, style = batch["content"], batch["style"]
        warm = step < config.warmup_steps
        for group in optimizers["decoder"].param_groups:   # train.lua's learningRateDecay
            group["lr"] = config.warmup_lr if warm else \
                config.lr / (1 + config.lr_decay * (step - config.warmup_steps))
        if warm:                                  # the course's warm-up: learn to invert f first
            output, (lc, ls) = modules["net"](content, content)
            loss = F.l1_loss(output, content)
        else:
            _, (lc, ls) = modules["net"](content, style)
            loss = lc + config.style_weight * ls                              # Eq. 11
        optimizers["decoder"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["decoder"].step()
        return {"loss": loss.detach(), "content": lc.detach(), "style": ls.detach()}

    def samples(self, modules, config, batch):
        """Rows: 8 contents, 8 styles, the 8 results."""
        net = modules["net"]
        content, style = batch["content"][:8], batch["style"][:8]
        return torch.cat([content, style, net.decoder(adain(net.encoder.encode(content),
                                                            net.encoder.encode(style))).clamp(-1, 1)])


__all__ += ["decoder_plan", "AdaINDecoder", "content_loss", "style_loss", "AdaINConfig",
            "StyleTransferNet", "masked_mean_std", "encode", "target", "blend", "decode",
            "match_colour", "stylize", "GatysResult", "gatys", "losses", "StylePairs", "AdaINRecipe"]
