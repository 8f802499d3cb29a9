"""GAN Dissection: which units of a generator draw which things, and switching them.

Bau, Zhu, Strobelt, Zhou, Tenenbaum, Freeman and Torralba 2019, "GAN Dissection: Visualizing
and Understanding Generative Adversarial Networks" (ICLR). A generator's middle layer holds
``r = G_F(z)``, one feature map per *unit* (channel). Upsample unit ``u``'s map to the image,
keep where it exceeds a threshold ``t_u``, and compare that region with where a segmenter
finds class ``c`` in the generated image, over many samples:

    IoU_{u,c} = E_z |(r↑_u > t_u) ∧ s_c(G(z))| / E_z |(r↑_u > t_u) ∨ s_c(G(z))|      (Eq. 1)

A unit with a high IoU for "tree" *draws* trees: switching it off (ablation, ``r_u := 0``)
removes trees, switching it on in a region (insertion, ``r_u := k_u`` there) adds them. That is
the paper's causal test (Sec. 3.2) and the handle that GANPaint (:mod:`course_lib.ganpaint`)
edits photos with.

Symbols -> code: ``r`` -> ``features`` (``N×U×h×w``, the output of the stage named ``layer``,
:meth:`~course_lib.layers.LatentGenerator.stages`); ``r↑_u`` -> :func:`upsample`; ``t_u`` ->
``Dissection.thresholds``; ``s_c`` -> the segmenter's mask of class ``c`` (:func:`segment`);
Eq. 1 -> :func:`unit_iou`; ``k_u`` -> ``Dissection.on_values``; ablation and insertion ->
:func:`intervene`.

What differs from the paper: the paper picks each ``t_{u,c}`` by an information-quality ratio;
here each unit gets one threshold, a top quantile of its activations over all samples and
positions (``quantile``: the top 10% by default; Network Dissection, Bau et al. 2017, keeps
the top 0.5% of much finer maps), and the value a unit is switched on to is a high quantile of
its own activations (the paper uses the unit's mean activation where its class is).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_count, check_image, check_seed, describe
from .data import LANDSCAPE_CLASSES
from .judges import LandscapeSegmenter
from .layers import LatentGenerator, sample_z
from .runtime import eval_mode

__all__ = ["CLASS_NAMES", "split", "segment", "upsample", "unit_iou", "Dissection", "dissect",
           "intervene", "class_fraction"]

#: the concepts a unit can be matched to: the landscapes world's classes, in label order
CLASS_NAMES = tuple(name for name, _ in LANDSCAPE_CLASSES)


# ============================================================================= G = G_B ∘ G_F

def split(generator: LatentGenerator, layer: str) -> tuple[nn.Sequential, nn.Sequential]:
    """``(G_F, G_B)``: the generator cut after the stage named ``layer``.

    ``G_F`` maps ``z`` (``N×nz``) to the features ``r`` there, ``G_B`` maps ``r`` to the image;
    both share the generator's modules (no copy). The names come from ``generator.stages()``."""
    if not isinstance(generator, LatentGenerator):
        raise ValueError(f"split: expected one of the course's generators, got {type(generator).__name__}")
    stages = generator.stages()
    names = [name for name, _ in stages]
    if layer not in names[:-1]:
        raise ValueError(f"split: layer must be one of {names[:-1]} (a stage before the image), "
                         f"got {layer!r}")
    k = names.index(layer) + 1
    g_f = nn.Sequential(_Unflatten(generator.latent_dim), *[m for _, m in stages[:k]])
    g_b = nn.Sequential(*[m for _, m in stages[k:]])
    return g_f, g_b


class _Unflatten(nn.Module):
    """``z`` ``N×nz`` -> ``N×nz×1×1``, with the shape checked."""

    def __init__(self, nz: int):
        super().__init__()
        self.nz = nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"G_F: expected z of shape N×{self.nz}, got {describe(z)}")
        return z[:, :, None, None]


# ============================================================================= measuring

@torch.no_grad()
def segment(segmenter: LandscapeSegmenter, images: torch.Tensor) -> torch.Tensor:
    """Class labels ``N×H×W`` (int64) of images of any size: resized to the segmenter's size
    (bilinear), segmented, and the labels brought back to the images' size (nearest)."""
    if not isinstance(segmenter, LandscapeSegmenter):
        raise ValueError(f"segment: expected the shipped LandscapeSegmenter, got {type(segmenter).__name__}")
    images = check_image(images, "segment(images)")
    size, s = images.shape[-2:], segmenter.config.image_size
    x = images if tuple(size) == (s, s) else F.interpolate(images, size=(s, s), mode="bilinear",
                                                           align_corners=False)
    labels = segmenter.predict(x)
    if tuple(size) != (s, s):
        labels = F.interpolate(labels[:, None].float(), size=tuple(size), mode="nearest")[:, 0].long()
    return labels


def upsample(features: torch.Tensor, size: int) -> torch.Tensor:
    """``r↑``: unit maps ``N×U×h×w`` brought to ``size×size`` (bilinear), as the paper does."""
    return F.interpolate(features, size=(size, size), mode="bilinear", align_corners=False)


def unit_iou(unit_masks: torch.Tensor, labels: torch.Tensor,
             num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The sums behind Eq. 1 for one batch: ``(intersection, union)``, each ``U×C``.

    ``unit_masks``: ``N×U×H×W`` booleans (``r↑_u > t_u``); ``labels``: ``N×H×W`` class indices.
    Summed over a batch, so that IoU = Σ intersection / Σ union over all samples (the
    expectation in Eq. 1 taken over samples before the ratio)."""
    if unit_masks.dim() != 4 or labels.dim() != 3 or unit_masks.shape[0] != labels.shape[0] \
            or unit_masks.shape[2:] != labels.shape[1:]:
        raise ValueError(f"unit_iou: expected unit masks N×U×H×W and labels N×H×W of the same N, H, W; "
                         f"got {describe(unit_masks)} and {describe(labels)}")
    a = unit_masks.transpose(0, 1).reshape(unit_masks.shape[1], -1).float()      # U × (N·H·W)
    b = F.one_hot(labels.reshape(-1), num_classes).float()                          # (N·H·W) × C
    intersection = a @ b
    union = a.sum(1, keepdim=True) + b.sum(0, keepdim=True) - intersection
    return intersection, union


@dataclasses.dataclass
class Dissection:
    """What :func:`dissect` measured at one layer: ``iou[u, c]`` (Eq. 1), the thresholds
    ``t_u`` and the values ``k_u`` that insertion sets, over ``samples`` generated images."""

    layer: str
    iou: torch.Tensor            # U × C
    thresholds: torch.Tensor     # U
    on_values: torch.Tensor      # U
    quantile: float
    samples: int
    classes: tuple[str, ...] = CLASS_NAMES

    def check_concept(self, concept: str) -> int:
        if concept not in self.classes:
            raise ValueError(f"unknown concept {concept!r}: the dissected classes are {list(self.classes)}")
        return self.classes.index(concept)

    def top_units(self, concept: str, k: int = 8) -> list[int]:
        """The ``k`` units with the highest IoU for ``concept``, best first."""
        c = self.check_concept(concept)
        k = check_count(k, "top_units(k)")
        return self.iou[:, c].argsort(descending=True)[:k].tolist()

    def table(self) -> pd.DataFrame:
        """One row per unit: its best class and that IoU, best units first."""
        best, cls = self.iou.max(1)
        rows = [(u, self.classes[c], float(v)) for u, (v, c) in enumerate(zip(best, cls))]
        return (pd.DataFrame(rows, columns=["unit", "class", "iou"])
                .sort_values("iou", ascending=False).reset_index(drop=True))

    def best_per_class(self) -> pd.DataFrame:
        """For each class: its best unit, that IoU, and how many units match it best with
        IoU ≥ 0.05."""
        best_of = self.iou.argmax(1)
        rows = [(name, int(self.iou[:, c].argmax()), float(self.iou[:, c].max()),
                 int(((best_of == c) & (self.iou[:, c] >= 0.05)).sum()))
                for c, name in enumerate(self.classes)]
        return pd.DataFrame(rows, columns=["class", "best unit", "iou", "units matching it"])


@torch.no_grad()
def dissect(generator: LatentGenerator, segmenter: LandscapeSegmenter, layer: str, samples: int = 1000,
            quantile: float = 0.9, on_quantile: float = 0.99, batch_size: int = 50, seed: int = 0,
            size: int = 32) -> Dissection:
    """Dissect the stage ``layer`` of ``generator`` over ``samples`` seeded images.

    Pass 1 generates the images and keeps their features (small: ``U×h×w`` each) and their
    segmentations at ``size`` px; the thresholds are the ``quantile`` of each unit's
    activations. Pass 2 accumulates Eq. 1's intersections and unions batch by batch."""
    samples = check_count(samples, "dissect(samples)")
    batch_size = check_count(batch_size, "dissect(batch_size)")
    seed = check_seed(seed, "dissect(seed)")
    for name, q in (("quantile", quantile), ("on_quantile", on_quantile)):
        if not 0.0 < q < 1.0:
            raise ValueError(f"dissect: {name} must be in (0, 1), got {q!r}")
    g_f, g_b = split(generator, layer)
    dev = next(generator.parameters()).device
    z = sample_z(samples, generator.latent_dim, seed)
    features, labels = [], []
    with eval_mode(generator, segmenter):
        for i in range(0, samples, batch_size):
            r = g_f(z[i:i + batch_size].to(dev))
            images = g_b(r)
            features.append(r.cpu())
            labels.append(segment(segmenter, images).cpu())
    features = torch.cat(features)
    labels = torch.cat(labels)
    if labels.shape[-1] != size:
        labels = F.interpolate(labels[:, None].float(), size=(size, size), mode="nearest")[:, 0].long()
    per_unit = features.transpose(0, 1).reshape(features.shape[1], -1)
    # torch.quantile refuses very long inputs; sort once instead
    ordered = per_unit.sort(1).values
    pick = lambda q: ordered[:, min(ordered.shape[1] - 1, int(q * ordered.shape[1]))]   # noqa: E731
    thresholds, on_values = pick(quantile), pick(on_quantile)
    inter = torch.zeros(features.shape[1], len(CLASS_NAMES))
    union = torch.zeros_like(inter)
    for i in range(0, samples, batch_size):
        masks = upsample(features[i:i + batch_size], size) > thresholds[None, :, None, None]
        a, b = unit_iou(masks, labels[i:i + batch_size], len(CLASS_NAMES))
        inter, union = inter + a, union + b
    return Dissection(layer, inter / union.clamp_min(1.0), thresholds, on_values, quantile, samples)


def class_fraction(labels: torch.Tensor, concept_index: int, region: torch.Tensor) -> torch.Tensor:
    """Per image, the fraction of ``region``'s pixels labelled ``concept_index``: ``N``."""
    region = region.expand(len(labels), *region.shape[1:]).bool()[:, 0]
    hits = ((labels == concept_index) & region).sum((1, 2)).float()
    return hits / region.sum((1, 2)).clamp_min(1).float()


# ============================================================================= intervening

def intervene(features: torch.Tensor, units: list[int], mode: str, region: torch.Tensor | None = None,
              on_values: torch.Tensor | None = None, strength: float = 1.0) -> torch.Tensor:
    """Switch ``units`` of ``features`` (``N×U×h×w``) off or on, inside ``region``; a new tensor.

    ``mode``: ``"remove"`` (ablation, ``r_u := 0``) or ``"add"`` (insertion, ``r_u := k_u``
    with ``k_u = on_values[u]``, the unit's high activation). ``region``: ``N×1×H×W`` or
    ``1×1×H×W`` in [0, 1] at any size (it is resized to ``h×w`` by area); None = everywhere.
    ``strength`` blends: ``r := (1 − s·m) r + s·m·value`` with ``m`` the resized region."""
    if mode not in ("add", "remove"):
        raise ValueError(f"intervene: mode must be 'add' or 'remove', got {mode!r}")
    if not isinstance(features, torch.Tensor) or features.dim() != 4:
        raise ValueError(f"intervene: expected features N×U×h×w, got {describe(features)}")
    units = list(units)
    if not units or any(not 0 <= u < features.shape[1] for u in units):
        raise ValueError(f"intervene: expected a non-empty list of unit indices in [0, {features.shape[1]}), "
                         f"got {units}")
    if mode == "add" and on_values is None:
        raise ValueError("intervene: mode 'add' needs on_values (Dissection.on_values)")
    h, w = features.shape[-2:]
    if region is None:
        m = torch.ones(1, 1, h, w, device=features.device)
    else:
        m = F.interpolate(region.float().to(features.device), size=(h, w), mode="area")
    m = (strength * m).clamp(0, 1)
    out = features.clone()
    r = out[:, units]
    value = torch.zeros_like(r) if mode == "remove" else \
        on_values[units].to(features)[None, :, None, None].expand_as(r)
    out[:, units] = (1 - m) * r + m * value
    return out
