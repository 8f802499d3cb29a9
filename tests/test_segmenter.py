import dataclasses

import pytest
import torch

from course_lib import data, pretrained
from course_lib.judges import LandscapeSegmenter, SegmenterConfig, SegmenterRecipe
from course_lib.metrics import segmentation_scores

SMALL = SegmenterConfig(width=4, depth=2)


def test_predict_shape_dtype_and_mode():
    torch.manual_seed(0)
    net = LandscapeSegmenter(SMALL)
    images = torch.rand(3, 3, 32, 32) * 2 - 1
    assert net(images).shape == (3, 8, 32, 32)
    labels = net.predict(images, batch_size=2)
    assert labels.shape == (3, 32, 32) and labels.dtype == torch.int64
    assert net.training   # predict() restores the mode it found


def test_bad_inputs():
    net = LandscapeSegmenter(SMALL)
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.zeros(1, 3, 30, 30))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        net.predict(torch.full((1, 3, 32, 32), 255.0))
    with pytest.raises(ValueError, match="add a batch axis"):
        net.predict(torch.zeros(3, 32, 32))


def test_segmentation_scores():
    truth = torch.tensor([[[0, 0], [1, 1]]])
    assert segmentation_scores(truth, truth) == {"pixel_accuracy": 1.0, "mean_iou": 1.0}
    pred = torch.tensor([[[0, 0], [0, 1]]])
    s = segmentation_scores(pred, truth)
    assert s["pixel_accuracy"] == 0.75
    assert s["mean_iou"] == pytest.approx((2 / 3 + 1 / 2) / 2)   # class 0: 2/3, class 1: 1/2
    where = torch.tensor([[[0, 0], [1, 1]]])
    assert segmentation_scores(pred, truth, where=where)["pixel_accuracy"] == 0.5
    with pytest.raises(ValueError, match="int64"):
        segmentation_scores(pred.float(), truth)
    with pytest.raises(ValueError, match="shape"):
        segmentation_scores(pred, truth[:, :1])


def test_recipe_step_on_crops():
    recipe = SegmenterRecipe()
    config = dataclasses.replace(SMALL, crop=16)
    torch.manual_seed(0)
    modules = recipe.build(config)
    optimizers = recipe.optimizers(modules, config)
    images, labels, _ = data.landscapes(2, size=32, seed=0)
    losses = recipe.training_step(modules, optimizers, {"image": images, "labels": labels}, 0, config)
    assert set(losses) == {"loss", "acc"} and float(losses["loss"]) > 0


def test_shipped_segmenter_reads_held_out_landscapes():
    net = pretrained.load("segmenter-landscapes128")
    for style in data.LANDSCAPE_STYLES:
        images, labels, _ = data.landscapes(6, size=128, seed=20_000, style=style)
        scores = segmentation_scores(net.predict(images), labels)
        assert scores["pixel_accuracy"] > 0.9, (style, scores)
