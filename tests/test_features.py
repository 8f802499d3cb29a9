import pytest
import torch

from course_lib.features import IGNORE, FeaturesConfig, FeaturesRecipe, PerceptualFeatures, WorldsMix
from course_lib.losses import perceptual_distance
from course_lib.recipes import TrainSettings
from course_lib.trainer import Trainer

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


def test_perceptual_distance_is_the_mean_squared_feature_difference_summed_over_layers():
    def two_layers(x):
        return [x, 2 * x.mean(1, keepdim=True)]

    a, b = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    b[1] = 0.5
    # image 0: layer 1 gives mean (0 - 1)² = 1, layer 2 (0 - 2)² = 4; image 1: 0.25 + 1
    assert torch.allclose(perceptual_distance(two_layers, a, b), torch.tensor([5.0, 1.25]))
    assert torch.allclose(perceptual_distance(two_layers, b, b), torch.zeros(2))


def test_shipped_features_find_a_noisy_copy_closer_than_another_face():
    from course_lib import data, pretrained

    features = pretrained.load("perceptual-worlds64")
    faces, _ = data.faces(6, seed=data.HELD_OUT_SEED)
    noisy = (faces + 0.1 * torch.randn(faces.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    with torch.no_grad():
        to_noisy = perceptual_distance(features, faces, noisy)
        to_other = perceptual_distance(features, faces, faces.roll(1, 0))
    assert (to_noisy < to_other).all(), (to_noisy, to_other)
