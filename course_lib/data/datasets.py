"""Torch datasets: the embedded worlds, and loaders for real data on disk.

Every item is a dict in the course convention: ``"image"`` (3×H×W in
[-1, 1]), plus ``"labels"`` (H×W int64) for label-map data and
``"attributes"`` (a dict of scalars) for the faces world.

- :class:`WorldDataset`: ``faces`` or ``landscapes``, generated once in memory.
- :class:`ImageFolder`: a flat folder of photos (CelebA-style).
- :class:`PairedFolder`: ``images/`` beside ``annotations/`` with one label PNG
  per image, matched by file stem (ADE20K-style).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from ..checks import check_size
from ..images import crop_resize, load_image
from .faces import faces
from .landscapes import landscapes

__all__ = ["WorldDataset", "ImageFolder", "PairedFolder", "IMAGE_EXTENSIONS", "open_dataset"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
WORLDS = ("faces", "landscapes")


def _quantise(x: torch.Tensor) -> torch.Tensor:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def _dequantise(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 127.5 - 1.0


class WorldDataset(Dataset):
    """``n`` samples of an embedded world at ``size`` pixels, made once (stored as uint8)."""

    def __init__(self, world: str, n: int, size: int, seed: int = 0):
        if world not in WORLDS:
            raise ValueError(f"WorldDataset: unknown world {world!r}; expected one of {WORLDS}")
        self.world, self.n, self.size, self.seed = world, n, size, seed
        if world == "faces":
            images, attributes = faces(n, size=size, seed=seed)
            self.attributes = {k: torch.as_tensor(v) for k, v in attributes.items()}
            self.labels = None
        else:
            images, labels, _styles = landscapes(n, size=size, seed=seed)
            self.attributes, self.labels = None, labels
        self.images = _quantise(images)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        item = {"image": _dequantise(self.images[i])}
        if self.labels is not None:
            item["labels"] = self.labels[i]
        if self.attributes is not None:
            item["attributes"] = {k: v[i] for k, v in self.attributes.items()}
        return item


def _list_images(folder: Path, who: str) -> list[Path]:
    if not folder.is_dir():
        raise ValueError(f"{who}: no folder at {str(folder)!r}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"{who}: {str(folder)!r} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


class ImageFolder(Dataset):
    """A flat folder of images, resized and centre-cropped to ``size``×``size``."""

    def __init__(self, root: str | Path, size: int = 64):
        self.root, self.size = Path(root), check_size(size, 8, "ImageFolder(size)")
        self.files = _list_images(self.root, "ImageFolder")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict:
        return {"image": load_image(self.files[i], self.size)[0]}


class PairedFolder(Dataset):
    """``root/images/*`` with label maps ``root/annotations/<same stem>.png`` (class index per pixel)."""

    def __init__(self, root: str | Path, size: int = 128, num_classes: int | None = None):
        self.root, self.size = Path(root), check_size(size, 8, "PairedFolder(size)")
        self.num_classes = num_classes
        images = _list_images(self.root / "images", "PairedFolder")
        labels = {p.stem: p for p in _list_images(self.root / "annotations", "PairedFolder")}
        missing = [p.name for p in images if p.stem not in labels]
        if missing:
            raise ValueError(f"PairedFolder: no label map in {str(self.root / 'annotations')!r} for "
                             f"{len(missing)} image(s), e.g. {missing[:3]}")
        self.pairs = [(p, labels[p.stem]) for p in images]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> dict:
        img_path, lab_path = self.pairs[i]
        x = load_image(img_path)
        try:
            with Image.open(lab_path) as lab:
                if lab.mode not in ("L", "P", "I", "I;16"):
                    raise ValueError(f"PairedFolder: label map {str(lab_path)!r} has mode {lab.mode!r};"
                                     " expected one class index per pixel (mode L or P)")
                y = torch.from_numpy(np.asarray(lab, dtype=np.int64).copy())
        except OSError as err:
            raise ValueError(f"cannot read label map {str(lab_path)!r}: {err}") from err
        if tuple(y.shape) != tuple(x.shape[-2:]):
            raise ValueError(f"PairedFolder: {img_path.name} is {tuple(x.shape[-2:])} but its label "
                             f"map is {tuple(y.shape)}")
        if self.num_classes is not None and int(y.max()) >= self.num_classes:
            raise ValueError(f"PairedFolder: {lab_path.name} has class {int(y.max())} but "
                             f"num_classes={self.num_classes}")
        x = crop_resize(x, self.size)[0]
        y = crop_resize(y[None, None].float(), self.size, mode="nearest")[0, 0].long()
        return {"image": x, "labels": y}


def open_dataset(spec: str, size: int, n: int = 10_000, seed: int = 0) -> Dataset:
    """``faces`` / ``landscapes`` (a world), or a folder: ``images/`` + ``annotations/`` inside
    means :class:`PairedFolder`, else :class:`ImageFolder`."""
    if spec in WORLDS:
        return WorldDataset(spec, n=n, size=size, seed=seed)
    root = Path(spec)
    if not root.is_dir():
        raise ValueError(f"--data {spec!r}: expected a world ({', '.join(WORLDS)}) or a folder")
    if (root / "images").is_dir() and (root / "annotations").is_dir():
        return PairedFolder(root, size=size)
    return ImageFolder(root, size=size)
