"""Judges: small networks that read the embedded worlds, to measure what a model makes.

:class:`FaceAttributeClassifier` reads every attribute of the faces world
(glasses, smile, hat, hair colour, ...). Later lectures use it as their
instrument: the attribute rate of generated faces, the success of an
attribute edit, and a Fréchet distance in its penultimate features
(:func:`judge_features` with :func:`course_lib.metrics.frechet_distance`: the course's
stand-in for FID's Inception features, which would need a download).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_image
from .data import FACE_ATTRIBUTES, LANDSCAPE_STYLES, landscapes
from .recipes import Recipe, TrainSettings, register
from .runtime import eval_mode

__all__ = ["AttributesConfig", "FaceAttributeClassifier", "FaceAttributesRecipe",
           "judge_features", "attribute_rates", "segmenter_features"]


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
        with eval_mode(self):
            outs = [self(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
        return {name: torch.cat([o[name] for o in outs]).argmax(1) for name in self.heads}


@register
class FaceAttributesRecipe(Recipe):
    name = "faces-attributes"
    config_class = AttributesConfig
    presets = {"course": AttributesConfig(), "large": AttributesConfig(width=32, feature_dim=256)}
    settings = {"course": TrainSettings(steps=1500, batch_size=64, sample_every=500, save_every=250),
                "large": TrainSettings(steps=4000, batch_size=128, sample_every=1000, save_every=500)}
    accepts = ("faces",)

    def build(self, config):
        return {"model": FaceAttributeClassifier(config)}

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
    with eval_mode(judge):
        return torch.cat([judge.features(images[i:i + batch_size])
                          for i in range(0, len(images), batch_size)])


def attribute_rates(judge: nn.Module, images: torch.Tensor) -> dict[str, torch.Tensor]:
    """How often the judge sees each value of each attribute: ``{name: frequencies of its classes}``
    (for a binary attribute, ``[rate of no, rate of yes]``)."""
    predictions = judge.predict(images)
    return {name: torch.bincount(p.cpu(), minlength=judge.heads[name].out_features).float() / len(p)
            for name, p in predictions.items()}


# ============================================================================= landscapes segmenter

__all__ += ["SegmenterConfig", "LandscapeSegmenter", "SegmenterRecipe"]
#
# The judge of the landscapes world: a small U-Net (Ronneberger, Fischer and Brox 2015,
# "U-Net: Convolutional Networks for Biomedical Image Segmentation") that reads a render
# back into its label map. The image-completion lecture measures whether a filled hole
# shows the right classes; the SPADE and GANPaint lectures reuse it.

@torch.no_grad()
def most_likely(model: nn.Module, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """``argmax`` over the classes (dim 1) of ``model``'s logits, in eval mode, ``batch_size``
    images at a time on the model's device; int64 on the CPU. The judges' ``predict``."""
    images = check_image(images, "images")
    dev = next(model.parameters()).device
    with eval_mode(model):
        out = [model(images[i:i + batch_size].to(dev)).argmax(1).cpu()
               for i in range(0, len(images), batch_size)]
    return torch.cat(out)


@dataclasses.dataclass
class SegmenterConfig:
    image_size: int = 128
    width: int = 16          # channels at full resolution; doubled at each of `depth` downsamplings
    depth: int = 3
    num_classes: int = 8     # len(course_lib.data.LANDSCAPE_CLASSES)
    data_size: int = 4_000   # landscapes generated for training (seed 0)
    crop: int = 64           # train on random crops of this side (0: whole images); 4x cheaper
    lr: float = 2e-3
    decay_at: int = 2400     # the learning rate drops tenfold from this step on
    balance: float = 0.5     # class weights (batch frequency)^-balance, so rare rocks count (0: off)


def _unet_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
    )


class LandscapeSegmenter(nn.Module):
    """A small U-Net: image ``N×3×H×W`` -> class logits ``N×num_classes×H×W``.

    ``H`` and ``W`` must be multiples of ``2**depth``.
    """

    def __init__(self, config: SegmenterConfig):
        super().__init__()
        self.config = config
        widths = [config.width * 2 ** i for i in range(config.depth + 1)]   # e.g. 16, 32, 64, 128
        self.down = nn.ModuleList([_unet_block(3, widths[0])]
                                  + [_unet_block(widths[i], widths[i + 1]) for i in range(config.depth)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in reversed(range(config.depth))])
        self.merge = nn.ModuleList([_unet_block(2 * widths[i], widths[i])
                                    for i in reversed(range(config.depth))])
        self.to_logits = nn.Conv2d(widths[0], config.num_classes, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = check_image(images, "images")
        k = 2 ** self.config.depth
        if images.shape[-2] % k or images.shape[-1] % k:
            raise ValueError(f"LandscapeSegmenter: image sides must be multiples of {k}, "
                             f"got {tuple(images.shape[-2:])}")
        skips, x = [], images
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        skips.pop()
        for up, merge in zip(self.up, self.merge):
            x = merge(torch.cat([skips.pop(), up(x)], 1))
        return self.to_logits(x)

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        """The most likely class of every pixel: ``N×H×W`` int64 (in eval mode)."""
        return most_likely(self, images, batch_size)


@torch.no_grad()
def segmenter_features(segmenter: LandscapeSegmenter, images: torch.Tensor) -> torch.Tensor:
    """The segmenter's deepest features (after its last down block), averaged over positions:
    ``N×C``. A landscape's "Fréchet distance" in the course is measured in these (a judge that
    no generator trained against), as face-generators' are in :func:`judge_features`."""
    seen = []
    hook = segmenter.down[-1].register_forward_hook(lambda m, i, o: seen.append(o.mean((2, 3))))
    try:
        segmenter.predict(images)
    finally:
        hook.remove()
    return torch.cat(seen)


@register
class SegmenterRecipe(Recipe):
    name = "segmenter"
    config_class = SegmenterConfig
    presets = {"course": SegmenterConfig()}
    settings = {"course": TrainSettings(steps=3000, batch_size=16, sample_every=500, save_every=100)}
    accepts = ("landscapes",)
    schedules_lr = True    # a step decay at config.decay_at, in training_step

    def build(self, config):
        return {"model": LandscapeSegmenter(config)}

    def training_step(self, modules, optimizers, batch, step, config):
        images, labels = batch["image"], batch["labels"]
        size = images.shape[-1]
        if 0 < config.crop < size:  # one random window for the whole batch (the step's seeded RNG)
            top, left = (int(v) for v in torch.randint(size - config.crop + 1, (2,)))
            images = images[..., top:top + config.crop, left:left + config.crop]
            labels = labels[..., top:top + config.crop, left:left + config.crop]
        for group in optimizers["model"].param_groups:
            group["lr"] = config.lr * (0.1 if step >= config.decay_at else 1.0)
        logits = modules["model"](images)
        weight = None
        if config.balance:
            share = torch.bincount(labels.flatten(), minlength=config.num_classes).float() / labels.numel()
            weight = share.clamp_min(1e-3) ** -config.balance
            weight = weight / (weight * share).sum()        # the average pixel keeps weight 1
        loss = F.cross_entropy(logits, labels, weight=weight)
        optimizers["model"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["model"].step()
        acc = (logits.argmax(1) == labels).float().mean()
        return {"loss": loss.detach(), "acc": acc}


# ============================================================================= landscape looks

__all__ += ["LooksConfig", "LookClassifier", "LooksRecipe", "LookDataset"]
#
# The judge of a landscape's *look*: which of LANDSCAPE_STYLES (day, sunset, night, overcast)
# lit it. A look is in the colours and light of the whole picture, not in where things are,
# so a small CNN that pools globally reads it. Lecture 05 measures style transfer with it (a
# landscape restyled by a reference landscape should take the reference's look) and lecture 06
# measures style control.

@dataclasses.dataclass
class LooksConfig:
    image_size: int = 64
    width: int = 16          # channels of the first block; doubled at each downsampling (3 blocks)
    data_size: int = 4_000   # landscapes generated for training (seed 0), looks drawn per scene
    lr: float = 1e-3
    num_looks: int = 4       # len(course_lib.data.LANDSCAPE_STYLES)


class LookDataset(torch.utils.data.Dataset):
    """``landscapes(n, size, seed)`` with each scene's look as an index: ``{"image", "look"}``."""

    def __init__(self, n: int, size: int, seed: int = 0):
        images, _, looks = landscapes(n, size=size, seed=seed)
        self.images = images
        self.looks = torch.tensor([LANDSCAPE_STYLES.index(s) for s in looks])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        return {"image": self.images[i], "look": self.looks[i]}


class LookClassifier(nn.Module):
    """Images ``N×3×H×W`` (resized to ``image_size``) -> logits of the looks, ``N×num_looks``."""

    def __init__(self, config: LooksConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.body = nn.Sequential(_block(3, w), _block(w, 2 * w), _block(2 * w, 4 * w))
        self.head = nn.Linear(4 * w, config.num_looks)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = check_image(images, "LookClassifier(images)")
        s = self.config.image_size
        if images.shape[-2:] != (s, s):
            images = F.interpolate(images, size=(s, s), mode="bilinear", align_corners=False,
                                   antialias=True)
        return self.head(self.body(images).mean((2, 3)))

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """The most likely look of each image: ``N`` int64 indices into LANDSCAPE_STYLES."""
        return most_likely(self, images, batch_size)


@register
class LooksRecipe(Recipe):
    name = "landscape-looks"
    config_class = LooksConfig
    presets = {"course": LooksConfig()}
    settings = {"course": TrainSettings(steps=400, batch_size=64, sample_every=200, save_every=100)}
    accepts = ("landscapes",)

    def dataset(self, spec, config):
        if spec != "landscapes":
            raise ValueError(f"model {self.name!r} trains on 'landscapes', not {spec!r}")
        return LookDataset(config.data_size, config.image_size)

    def build(self, config):
        return {"model": LookClassifier(config)}

    def training_step(self, modules, optimizers, batch, step, config):
        logits = modules["model"](batch["image"])
        loss = F.cross_entropy(logits, batch["look"])
        optimizers["model"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["model"].step()
        return {"loss": loss.detach(), "acc": (logits.argmax(1) == batch["look"]).float().mean()}
