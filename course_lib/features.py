"""Perceptual features: the course's stand-in for VGG-16, trained on the embedded worlds.

A perceptual loss compares images by the activations of a trained convolutional network
rather than by pixels (Johnson, Alahi and Fei-Fei 2016; Zhang et al. 2018, "LPIPS").
Image2StyleGAN inverts with VGG-16 features (Simonyan and Zisserman 2014) trained on
ImageNet, and AdaIN matches VGG statistics. Those weights would need a download, so the
course trains its own small VGG-shaped network, :class:`PerceptualFeatures`, and ships it
as ``perceptual-worlds64``.

How it differs from VGG-16:

- **Size.** 4 stages of two 3×3 convolutions (widths 16-32-64-128 by default) with max
  pooling between them, about 0.3 M parameters instead of VGG-16's 15 M convolutional ones;
  it reads 64-pixel images (larger inputs work: it is fully convolutional).
- **Training data.** Not ImageNet's 1.3 M photos in 1,000 classes, but the course's worlds
  and photographs, with one head per task (:class:`FeatureHeads`): every attribute of a
  cartoon face; a coarse label map of a landscape (so the features keep *where* things are);
  and which of the 10 bundled photographs a random crop came from (so they see real texture).
  Features trained on so little data are less general: they know skin, sky and grass well,
  and a photo's content mostly through its colours and textures.
- **Use.** ``features(images)`` returns the four stages' activations (like VGG's
  ``relu1_2, relu2_2, relu3_3, relu4_3``); :func:`course_lib.losses.perceptual_distance`
  turns them into a loss.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from .checks import check_image
from .data import FACE_ATTRIBUTES, LANDSCAPE_CLASSES, PHOTO_NAMES, faces, landscapes, photos
from .images import resize
from .recipes import Recipe, TrainSettings, register

__all__ = ["FeaturesConfig", "PerceptualFeatures", "FeatureHeads", "WorldsMix", "FeaturesRecipe"]

IGNORE = -100  # target value of a task an item does not belong to


@dataclasses.dataclass
class FeaturesConfig:
    image_size: int = 64
    widths: tuple[int, ...] = (16, 32, 64, 128)
    faces: int = 6000          # training items of each source (seed 0)
    landscapes: int = 6000
    photo_crops: int = 3000
    lr: float = 1e-3

    def __post_init__(self):   # a config read back from JSON has a list here
        self.widths = tuple(self.widths)


def _stage(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(inplace=True))


class PerceptualFeatures(nn.Module):
    """Images ``N×3×H×W`` in [-1, 1] -> the activations of its 4 stages (a list, fine to coarse)."""

    def __init__(self, config: FeaturesConfig):
        super().__init__()
        self.config = config
        widths = (3,) + tuple(config.widths)
        self.stages = nn.ModuleList(_stage(widths[i], widths[i + 1]) for i in range(len(config.widths)))

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = check_image(images, "features(images)")
        out = []
        for i, stage in enumerate(self.stages):
            if i:
                x = F.max_pool2d(x, 2)
            x = stage(x)
            out.append(x)
        return out


class FeatureHeads(nn.Module):
    """The training tasks that shape the features (not shipped)."""

    def __init__(self, config: FeaturesConfig):
        super().__init__()
        deep, mid = config.widths[-1], config.widths[-2]
        self.attributes = nn.ModuleDict({name: nn.Linear(deep, len(values))
                                         for name, values in FACE_ATTRIBUTES.items()})
        self.labels = nn.Conv2d(mid, len(LANDSCAPE_CLASSES), 1)   # a label map at 1/4 resolution
        self.photo = nn.Linear(deep, len(PHOTO_NAMES))

    def losses(self, feats: list[torch.Tensor], batch: dict) -> dict[str, torch.Tensor]:
        pooled = feats[-1].mean((2, 3))
        attrs = batch["attributes"]
        face_losses = [F.cross_entropy(head(pooled), attrs[:, i], ignore_index=IGNORE)
                       for i, head in enumerate(self.attributes.values()) if (attrs[:, i] != IGNORE).any()]
        out = {"faces": torch.stack(face_losses).mean() if face_losses else pooled.sum() * 0}
        logits = self.labels(feats[-2])
        labels = F.interpolate(batch["labels"][:, None].float(), size=logits.shape[-2:], mode="nearest")
        labels = labels[:, 0].long()
        out["landscapes"] = (F.cross_entropy(logits, labels, ignore_index=IGNORE)
                             if (labels != IGNORE).any() else logits.sum() * 0)
        photo = batch["photo"]
        out["photos"] = (F.cross_entropy(self.photo(pooled), photo, ignore_index=IGNORE)
                         if (photo != IGNORE).any() else pooled.sum() * 0)
        return out


def photo_crops(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random square crops of the bundled photos (random scale, flip), resized to ``size``."""
    rng = np.random.default_rng(seed)
    pics = list(photos().values())
    crops, which = [], []
    for _ in range(n):
        k = int(rng.integers(len(pics)))
        pic = pics[k]
        h, w = pic.shape[-2:]
        side = int(rng.integers(min(size, h, w), min(h, w) + 1))
        top, left = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
        crop = resize(pic[:, :, top:top + side, left:left + side], size)
        if rng.random() < 0.5:
            crop = crop.flip(-1)
        crops.append(crop)
        which.append(k)
    return torch.cat(crops), torch.tensor(which)


class WorldsMix(Dataset):
    """Faces (with attributes), landscapes (with label maps) and photo crops, in one list.

    Each item has every target; the ones that do not apply hold ``IGNORE``.
    """

    def __init__(self, config: FeaturesConfig, seed: int = 0):
        s = config.image_size
        face_images, attrs = faces(config.faces, size=s, seed=seed)
        land_images, labels, _ = landscapes(config.landscapes, size=s, seed=seed)
        crops, which = photo_crops(config.photo_crops, s, seed)
        self.images = torch.cat([face_images, land_images, crops])
        n_f, n_l, n_p = len(face_images), len(land_images), len(crops)
        self.attributes = torch.full((len(self.images), len(FACE_ATTRIBUTES)), IGNORE, dtype=torch.long)
        self.attributes[:n_f] = torch.stack([attrs[name] for name in FACE_ATTRIBUTES], 1)
        self.labels = torch.full((len(self.images), s, s), IGNORE, dtype=torch.long)
        self.labels[n_f:n_f + n_l] = labels
        self.photo = torch.full((len(self.images),), IGNORE, dtype=torch.long)
        self.photo[n_f + n_l:] = which
        assert len(self.images) == n_f + n_l + n_p

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        return {"image": self.images[i], "attributes": self.attributes[i], "labels": self.labels[i],
                "photo": self.photo[i]}


class WorldsMixRecipe(Recipe):
    """A recipe that trains on ``--data worlds``: :class:`WorldsMix` (faces, landscapes and photo
    crops together, with :class:`FeatureHeads`' tasks). The course's feature networks use it."""

    accepts = ("worlds",)

    def dataset(self, spec, config):
        if spec != "worlds":
            raise ValueError(f"model {self.name!r} trains on 'worlds' (faces, landscapes and photo "
                             f"crops together), not {spec!r}")
        return WorldsMix(config)


@register
class FeaturesRecipe(WorldsMixRecipe):
    name = "perceptual"
    config_class = FeaturesConfig
    presets = {"course": FeaturesConfig()}
    settings = {"course": TrainSettings(steps=3000, batch_size=32, sample_every=500, save_every=250)}
    export_module = "features"

    def build(self, config):
        return {"features": PerceptualFeatures(config), "heads": FeatureHeads(config)}

    def optimizers(self, modules, config):
        params = list(modules["features"].parameters()) + list(modules["heads"].parameters())
        return {"all": torch.optim.Adam(params, lr=config.lr)}

    def training_step(self, modules, optimizers, batch, step, config):
        losses = modules["heads"].losses(modules["features"](batch["image"]), batch)
        loss = sum(losses.values())
        optimizers["all"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["all"].step()
        return {k: v.detach() for k, v in losses.items()}
