import pytest
import torch

from course_lib.features import IGNORE, FeaturesConfig, FeaturesRecipe, PerceptualFeatures, WorldsMix
from course_lib.inversion import perceptual_distance
from course_lib.trainer import Trainer, TrainSettings

TINY = FeaturesConfig(image_size=16, widths=(4, 8, 8, 8), faces=12, landscapes=12, photo_crops=12, lr=3e-3)


def test_four_stages_fine_to_coarse():
    feats = PerceptualFeatures(FeaturesConfig())(torch.zeros(2, 3, 64, 64))
    shapes = [tuple(f.shape) for f in feats]
    assert shapes == [(2, 16, 64, 64), (2, 32, 32, 32), (2, 64, 16, 16), (2, 128, 8, 8)]
    with pytest.raises(ValueError, match="N×3×H×W"):
        PerceptualFeatures(FeaturesConfig())(torch.zeros(3, 64, 64))


def test_mix_holds_each_source_with_its_own_targets():
    mix = WorldsMix(TINY)
    assert len(mix) == 36
    face, land, crop = mix[0], mix[12], mix[24]
    assert (face["attributes"] >= 0).all() and (face["labels"] == IGNORE).all() and face["photo"] == IGNORE
    assert (land["attributes"] == IGNORE).all() and (land["labels"] >= 0).all() and land["photo"] == IGNORE
    assert (crop["attributes"] == IGNORE).all() and (crop["labels"] == IGNORE).all()
    assert 0 <= crop["photo"] < 10
    assert all(item["image"].shape == (3, 16, 16) for item in (face, land, crop))
    with pytest.raises(ValueError, match="'worlds'"):
        FeaturesRecipe().dataset("faces", TINY)


def test_training_lowers_every_task_loss_and_exports_only_the_features():
    recipe = FeaturesRecipe()
    trainer = Trainer(recipe, TINY, WorldsMix(TINY),
                      TrainSettings(steps=60, batch_size=36, sample_every=10**6, save_every=10**6,
                                    progress=False))
    trainer.total_steps = 60                       # this test needs the steps even in fast mode
    history = trainer.fit()
    for task in ("faces", "landscapes", "photos"):
        first, last = (sum(h[task] for h in part) / 10 for part in (history[:10], history[-10:]))
        assert last < 0.97 * first, (task, first, last)
    exported = recipe.build_export(TINY)
    assert isinstance(exported, PerceptualFeatures)


def test_perceptual_distance_sees_structure_that_pixels_share():
    torch.manual_seed(0)
    features = PerceptualFeatures(TINY)
    a = torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.allclose(perceptual_distance(features, a, a), torch.zeros(2))
    assert (perceptual_distance(features, a, a.flip(-1)) > 0).all()
