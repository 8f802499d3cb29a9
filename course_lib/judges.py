"""Judges: small networks that read the embedded worlds, to measure what a model makes.

:class:`FaceAttributeClassifier` reads every attribute of the faces world
(glasses, smile, hat, hair colour, ...). Later lectures use it as their
instrument: the attribute rate of generated faces, the success of an
attribute edit, and a Fréchet distance in its penultimate features (the
course's stand-in for FID's Inception features, which would need a download).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_image
from .data import FACE_ATTRIBUTES
from .trainer import Recipe, TrainSettings

__all__ = ["AttributesConfig", "FaceAttributeClassifier", "FaceAttributesRecipe", "frechet_distance",
           "judge_features", "attribute_rates"]


def _default_attributes() -> dict[str, int]:
    return {name: len(values) for name, values in FACE_ATTRIBUTES.items()}


@dataclasses.dataclass
class AttributesConfig:
    image_size: int = 64
    width: int = 16          # channels of the first block; doubled at each downsampling
    feature_dim: int = 128   # the penultimate features (used for Fréchet distances)
    data_size: int = 12_000  # faces generated for training (seed 0)
    lr: float = 1e-3
    attributes: dict[str, int] = dataclasses.field(default_factory=_default_attributes)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class FaceAttributeClassifier(nn.Module):
    """A small CNN with one softmax head per attribute (binary attributes have 2 classes)."""

    def __init__(self, config: AttributesConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.body = nn.Sequential(_block(3, w), _block(w, 2 * w), _block(2 * w, 4 * w),
                                  _block(4 * w, 4 * w))
        self.to_features = nn.Sequential(nn.Flatten(), nn.Linear(4 * w * (config.image_size // 16) ** 2,
                                                                 config.feature_dim), nn.ReLU())
        self.heads = nn.ModuleDict({name: nn.Linear(config.feature_dim, k)
                                    for name, k in config.attributes.items()})

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``N×feature_dim``."""
        images = check_image(images, "images")
        s = self.config.image_size
        if images.shape[-2:] != (s, s):
            images = F.interpolate(images, size=(s, s), mode="bilinear", align_corners=False,
                                   antialias=True)
        return self.to_features(self.body(images))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.features(images)
        return {name: head(f) for name, head in self.heads.items()}

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 256) -> dict[str, torch.Tensor]:
        """The most likely class of every attribute: ``{name: N int64}`` (in eval mode)."""
        images = check_image(images, "images")
        was_training = self.training
        self.eval()
        try:
            outs = [self(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
        finally:
            self.train(was_training)
        return {name: torch.cat([o[name] for o in outs]).argmax(1) for name in self.heads}


class FaceAttributesRecipe(Recipe):
    name = "faces-attributes"
    config_class = AttributesConfig
    presets = {"course": AttributesConfig(), "large": AttributesConfig(width=32, feature_dim=256)}
    settings = {"course": TrainSettings(steps=1500, batch_size=64, sample_every=500, save_every=250),
                "large": TrainSettings(steps=4000, batch_size=128, sample_every=1000, save_every=500)}
    accepts = ("faces",)

    def build(self, config):
        return {"model": FaceAttributeClassifier(config)}

    def optimizers(self, modules, config):
        return {"model": torch.optim.Adam(modules["model"].parameters(), lr=config.lr)}

    def training_step(self, modules, optimizers, batch, step, config):
        logits = modules["model"](batch["image"])
        losses = {name: F.cross_entropy(out, batch["attributes"][name].long())
                  for name, out in logits.items()}
        loss = sum(losses.values()) / len(losses)
        optimizers["model"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["model"].step()
        acc = torch.stack([(out.argmax(1) == batch["attributes"][n]).float().mean()
                           for n, out in logits.items()]).mean()
        return {"loss": loss.detach(), "acc": acc}


@torch.no_grad()
def judge_features(judge: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """A judge's penultimate features of ``images`` (in eval mode, in batches): ``N×feature_dim``."""
    images = check_image(images, "images")
    was_training = judge.training
    judge.eval()
    try:
        return torch.cat([judge.features(images[i:i + batch_size])
                          for i in range(0, len(images), batch_size)])
    finally:
        judge.train(was_training)


def attribute_rates(judge: nn.Module, images: torch.Tensor) -> dict[str, torch.Tensor]:
    """How often the judge sees each value of each attribute: ``{name: frequencies of its classes}``
    (for a binary attribute, ``[rate of no, rate of yes]``)."""
    predictions = judge.predict(images)
    return {name: torch.bincount(p.cpu(), minlength=judge.heads[name].out_features).float() / len(p)
            for name, p in predictions.items()}


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017):

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``

    FID computes it on Inception features; the course uses a judge's features.
    """
    a, b = (np.asarray(f.detach().double().cpu() if isinstance(f, torch.Tensor) else f, dtype=np.float64)
            for f in (features_a, features_b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance: expected two N×D feature matrices with the same D and "
                         f"N >= 2, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues of S_a^(1/2) S_b S_a^(1/2)), which is symmetric
    vals, vecs = np.linalg.eigh(s_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    cross = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_root)
