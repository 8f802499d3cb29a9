"""The loaders for real datasets, on small folders that the tests write."""

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.data import ImageFolder, PairedFolder, open_dataset
from course_lib.checks import check_image, check_labels


def write_rgb(path, h, w, value):
    Image.fromarray(np.full((h, w, 3), value, dtype=np.uint8)).save(path)


def test_image_folder_resizes_and_crops(tmp_path):
    write_rgb(tmp_path / "a.png", 40, 80, 255)
    write_rgb(tmp_path / "b.jpg", 100, 50, 0)
    (tmp_path / "notes.txt").write_text("ignored")
    ds = ImageFolder(tmp_path, size=32)
    assert len(ds) == 2
    a, b = ds[0]["image"], ds[1]["image"]
    assert a.shape == b.shape == (3, 32, 32)
    check_image(a[None])
    assert float(a.min()) > 0.99 and float(b.max()) < -0.95
    assert isinstance(open_dataset(str(tmp_path), size=16), ImageFolder)


def test_paired_folder_keeps_labels_aligned(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations").mkdir()
    img = np.zeros((60, 90, 3), dtype=np.uint8)
    img[:, 45:] = 255
    lab = np.zeros((60, 90), dtype=np.uint8)
    lab[:, 45:] = 3
    Image.fromarray(img).save(tmp_path / "images" / "scene1.jpg")
    Image.fromarray(lab, mode="L").save(tmp_path / "annotations" / "scene1.png")
    ds = PairedFolder(tmp_path, size=30)
    item = ds[0]
    check_labels(item["labels"][None])
    assert item["labels"].shape == (30, 30) and item["labels"].dtype == torch.int64
    assert set(item["labels"].unique().tolist()) == {0, 3}
    # bright pixels are labelled 3 and dark ones 0
    bright = item["image"].mean(0) > 0.5  # clearly bright (the boundary column is a blend)
    assert (item["labels"][bright] == 3).float().mean() > 0.95
    assert isinstance(open_dataset(str(tmp_path), size=16), PairedFolder)


def test_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="no folder"):
        ImageFolder(tmp_path / "missing")
    with pytest.raises(ValueError, match="holds no images"):
        ImageFolder(tmp_path)
    with pytest.raises(ValueError, match="size"):
        ImageFolder(tmp_path, size=2)
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations").mkdir()
    write_rgb(tmp_path / "images" / "x.png", 8, 8, 10)
    write_rgb(tmp_path / "annotations" / "y.png", 8, 8, 10)
    with pytest.raises(ValueError, match="no label map"):
        PairedFolder(tmp_path)
    write_rgb(tmp_path / "annotations" / "x.png", 8, 8, 10)  # RGB, not one index per pixel
    with pytest.raises(ValueError, match="mode"):
        PairedFolder(tmp_path, size=8)[0]
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ValueError, match="not an image"):
        ImageFolder(tmp_path, size=8)[0]
    with pytest.raises(ValueError, match="world"):
        open_dataset("no-such-world", size=8)
