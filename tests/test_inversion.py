import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import inversion, pretrained
from course_lib.dcgan import DCGANConfig, Generator as DCGANGenerator
from course_lib.features import FeaturesConfig, PerceptualFeatures
from course_lib.encoder import Encoder, EncoderConfig, EncoderRecipe
from course_lib.inversion import InversionConfig, encode, hybrid_invert, invert
from course_lib.losses import perceptual_distance
from course_lib.metrics import psnr
from course_lib.latent import sample_z
from course_lib.stylegan import Generator as StyleGenerator, StyleGANConfig
from course_lib.recipes import TrainSettings, get_recipe
from course_lib.trainer import Trainer

#: an encoder for tiny_stylegan(): 16 px, 6 layers of w_dim 8, no perceptual network
TINY_ENCODER = EncoderConfig(generator="tiny-stylegan", image_size=16, num_ws=6, w_dim=8, channel_base=64,
                             channel_max=16, hidden=32, perceptual="", real_fraction=0.25, lr=3e-3)


def tiny_dcgan():
    torch.manual_seed(0)
    return DCGANGenerator(DCGANConfig(image_size=16, nz=8, ngf=8)).eval()


def tiny_stylegan():
    torch.manual_seed(0)
    config = StyleGANConfig(image_size=16, z_dim=8, w_dim=8, mapping_layers=2, channel_base=128,
                            channel_max=16)
    return StyleGenerator(config).eval()


def test_z_inversion_recovers_a_generated_image():
    G = tiny_dcgan()
    with torch.no_grad():
        target = G(sample_z(2, 8, seed=5))
    seen = []
    result = invert(G, target, InversionConfig(space="z", steps=150, lr=0.1),
                    callback=lambda step, image: seen.append(step))
    assert result.latent.shape == (2, 8) and result.image.shape == target.shape
    assert len(result.history) == 150 and seen == list(range(150))
    assert result.history[0]["psnr"] < result.psnr and result.psnr > 30
    assert torch.allclose(psnr(result.image, target).mean(), torch.tensor(result.psnr), atol=1e-3)
    assert all(p.requires_grad for p in G.parameters()) and not G.training   # left as it was


def test_restarts_keep_the_best_and_init_is_used():
    G = tiny_dcgan()
    with torch.no_grad():
        target = G(sample_z(1, 8, seed=9))
    one = invert(G, target, InversionConfig(space="z", steps=5, seed=3))
    three = invert(G, target, InversionConfig(space="z", steps=5, restarts=3, seed=1))
    singles = [invert(G, target, InversionConfig(space="z", steps=5, seed=s)).history[-1]["loss"]
               for s in (1, 2, 3)]
    assert three.history[-1]["loss"] == pytest.approx(min(singles))
    assert one.history[-1]["loss"] == pytest.approx(singles[2])
    warm = invert(G, target, InversionConfig(space="z", steps=1, lr=1e-6), init=sample_z(1, 8, seed=9))
    assert warm.history[0]["psnr"] > 40                                     # started at the answer


def test_stylegan_spaces_and_w_plus_fits_best():
    G = tiny_stylegan()
    assert G.spaces == ("z", "w", "w+") and tiny_dcgan().spaces == ("z",)
    w0 = inversion.initial_latent(G, "w+", n=2)
    assert w0.shape == (2, G.num_ws, 8) and torch.allclose(w0[:, 0], G.mean_w().expand(2, -1))
    target = torch.rand(1, 3, 16, 16) * 1.6 - 0.8           # not an image G can make exactly
    results = {s: invert(G, target, InversionConfig(space=s, steps=60, lr=0.05)) for s in ("w", "w+")}
    assert results["w+"].latent.shape == (1, G.num_ws, 8) and results["w"].latent.shape == (1, 8)
    assert results["w+"].psnr > results["w"].psnr
    assert results["w+"].psnr > results["w+"].history[0]["psnr"]


def test_lbfgs_search_is_per_image_and_beats_adam_at_equal_evaluations():
    G = tiny_stylegan()
    with torch.no_grad():
        target = G.synthesize(G.broadcast(G.sample_w(2, seed=3)), "w+")
    lbfgs = InversionConfig(space="w+", steps=40, optimizer="lbfgs", perceptual_weight=0)
    both = invert(G, target, lbfgs)
    alone = [invert(G, target[i:i + 1], lbfgs) for i in range(2)]
    # one image's search does not depend on the others in the batch
    for i, one in enumerate(alone):
        assert torch.allclose(both.latent[i], one.latent[0], atol=1e-5)
    assert len(both.history) <= 40 + 25 and both.history[-1]["psnr"] > both.history[0]["psnr"] + 5
    assert [h["step"] for h in both.history] == list(range(len(both.history)))
    adam = invert(G, target, dataclasses.replace(lbfgs, optimizer="adam", lr=0.05))
    assert both.psnr > adam.psnr
    # L-BFGS only moves the latent code and reports through the history, not a callback
    with pytest.raises(ValueError, match="optimize_noise"):
        invert(G, target, dataclasses.replace(lbfgs, optimize_noise=True))
    with pytest.raises(ValueError, match="callback"):
        invert(G, target, lbfgs, callback=lambda step, image: None)
    with pytest.raises(ValueError, match="optimizer"):
        invert(G, target, dataclasses.replace(lbfgs, optimizer="sgd"))


def test_noise_optimisation_keeps_maps_normalised():
    G = tiny_stylegan()
    target = torch.rand(1, 3, 16, 16) * 2 - 1
    result = invert(G, target, InversionConfig(space="w+", steps=5, optimize_noise=True))
    assert len(result.noise) == G.num_ws
    for m in result.noise:
        assert abs(float(m.mean())) < 1e-4 and abs(float(m.std()) - 1) < 1e-3
    flat, random = [torch.ones(1, 1, 16, 16)], [torch.randn(1, 1, 16, 16)]
    assert float(inversion.noise_regularization(flat)) > float(inversion.noise_regularization(random))


def test_learning_rate_ramps():
    lr = [inversion.learning_rate(t / 100, 0.1) for t in range(101)]
    assert lr[0] == 0 and max(lr) == pytest.approx(0.1) and lr[-1] == pytest.approx(0)
    assert lr[30] == pytest.approx(0.1)


def test_perceptual_term_uses_the_features():
    G = tiny_dcgan()
    calls = []

    def features(x):
        calls.append(len(x))
        return [F.avg_pool2d(x, 2), x.mean(1, keepdim=True)]

    target = torch.zeros(1, 3, 16, 16)
    result = invert(G, target, InversionConfig(space="z", steps=3, mse_weight=0.0), features=features)
    assert calls and result.history[0]["perceptual"] > 0 and result.history[0]["mse"] > 0
    assert len(calls) == 1 + 3  # the target's features once, then G(z)'s at each step
    # the remembered target features give the same loss as recomputing them
    still = invert(G, target, InversionConfig(space="z", steps=1, lr=0.0), features=features)
    with torch.no_grad():
        image = G.synthesize(still.latent, "z")
        expected = float(perceptual_distance(features, image, target).mean())
    assert still.history[0]["perceptual"] == pytest.approx(expected, rel=1e-6)
    d = perceptual_distance(features, torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4))
    assert torch.allclose(d, torch.full((2,), 2.0))


def test_bad_inputs():
    G = tiny_dcgan()
    with pytest.raises(ValueError, match="space 'w' is not one of"):
        invert(G, torch.zeros(1, 3, 16, 16), InversionConfig(space="w"))
    with pytest.raises(ValueError, match="perceptual"):
        invert(G, torch.zeros(1, 3, 16, 16), InversionConfig(space="z", mse_weight=0))
    with pytest.raises(ValueError, match="noise inputs"):
        invert(G, torch.zeros(1, 3, 16, 16), InversionConfig(space="z", optimize_noise=True))
    with pytest.raises(ValueError):
        invert(G, torch.zeros(3, 16, 16), InversionConfig(space="z"))


# ----------------------------------------------------------------------------- encoder, hybrid inversion

def generated(G, n=4, seed=5):
    """Faces of G with the constant noise that inversion uses: (images, their w_plus)."""
    with torch.no_grad():
        w_plus = G.broadcast(G.mapping(sample_z(n, G.config.z_dim, seed=seed)))
        return G.synthesize(w_plus, "w+"), w_plus


def test_untrained_encoder_answers_the_mean_w():
    G = tiny_stylegan()
    E = Encoder(TINY_ENCODER, mean_w=G.mean_w())
    codes = E(torch.rand(3, 3, 16, 16) * 2 - 1)
    assert codes.shape == (3, 6, 8)
    assert torch.allclose(codes, G.broadcast(G.mean_w()).expand(3, -1, -1))
    assert torch.equal(E.state_dict()["mean_w"], G.mean_w())        # exported with the weights
    assert torch.equal(Encoder(TINY_ENCODER).mean_w, torch.zeros(1, 8))
    assert 1e5 < sum(p.numel() for p in Encoder(EncoderConfig()).parameters()) < 1e6   # the course size
    assert Encoder(EncoderRecipe.presets["paper"]).to_offsets.out_features == 18 * 512
    assert isinstance(get_recipe("stylegan-encoder"), EncoderRecipe)


def test_encoder_and_hybrid_invert_reject_bad_inputs():
    G = tiny_stylegan()
    E = Encoder(TINY_ENCODER, mean_w=G.mean_w())
    with pytest.raises(ValueError, match="expected images N×3×16×16"):
        E(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="N×3×H×W"):
        E(torch.zeros(3, 16, 16))
    with pytest.raises(ValueError, match="mean_w of shape 1×8"):
        Encoder(TINY_ENCODER, mean_w=torch.zeros(8))
    target = torch.zeros(1, 3, 16, 16)
    with pytest.raises(ValueError, match="space='w\\+'"):
        hybrid_invert(G, E, target, InversionConfig(space="w"))
    with pytest.raises(ValueError, match="writes 6×4 codes .* reads 6×8"):
        hybrid_invert(G, Encoder(dataclasses.replace(TINY_ENCODER, w_dim=4)), target)
    with pytest.raises(ValueError, match="has no W\\+"):
        hybrid_invert(tiny_dcgan(), E, target)
    with pytest.raises(ValueError, match="expected an encoder.Encoder"):
        hybrid_invert(G, nn.Identity(), target)
    with pytest.raises(ValueError, match="expected an encoder.Encoder"):
        encode(nn.Identity(), target)


def held_out_loss(E, G):
    """The recipe's latent + pixel loss on 16 fixed generated faces."""
    torch.manual_seed(123)
    w_plus = EncoderRecipe.sample_w_plus(G, 16, TINY_ENCODER, "cpu")
    with torch.no_grad():
        x = G.synthesize(w_plus, "w+")
        codes = encode(E, x)
        return float(F.mse_loss(codes, w_plus) + F.mse_loss(G.synthesize(codes, "w+"), x))


def test_recipe_trains_the_encoder_of_a_frozen_generator(monkeypatch):
    G = tiny_stylegan()
    frozen = {k: v.clone() for k, v in G.state_dict().items()}
    feature_net = PerceptualFeatures(FeaturesConfig(widths=(4, 8)))
    shipped = {"tiny-stylegan": G, "tiny-features": feature_net}
    monkeypatch.setattr(pretrained, "load", lambda name, *args, **kwargs: shipped[name])
    monkeypatch.setattr(pretrained, "available", lambda *args, **kwargs: sorted(shipped))
    monkeypatch.setenv("COURSE_FAST", "0")
    data = [{"image": torch.rand(3, 16, 16) * 2 - 1} for _ in range(16)]
    recipe = EncoderRecipe()
    trainer = Trainer(recipe, TINY_ENCODER, data, TrainSettings(steps=40, batch_size=8, sample_every=40,
                                                                save_every=1000, progress=False))
    E = trainer.modules["encoder"]
    before = held_out_loss(E, G)
    history = trainer.fit()
    assert set(history[0]) == {"loss", "latent", "pixel"}      # TINY_ENCODER names no feature network
    assert held_out_loss(E, G) < 0.7 * before
    assert recipe.export(trainer.modules) is E and not any(p.requires_grad for p in G.parameters())
    assert all(torch.equal(v, frozen[k]) for k, v in G.state_dict().items())
    recipe.build_export(TINY_ENCODER).load_state_dict(E.state_dict())     # what pretrained.load does
    with torch.no_grad():
        grid = recipe.samples(trainer.modules, TINY_ENCODER, trainer.batch_for(0))
    assert grid.shape == (32, 3, 16, 16)

    with_features = dataclasses.replace(TINY_ENCODER, perceptual="tiny-features")
    trainer = Trainer(EncoderRecipe(), with_features, data,
                      TrainSettings(steps=1, batch_size=8, sample_every=40, save_every=1000, progress=False))
    assert trainer.fit()[0]["perceptual"] > 0


def test_hybrid_invert_starts_at_the_encoders_code_and_improves_it():
    G = tiny_stylegan()
    E = Encoder(TINY_ENCODER, mean_w=G.mean_w()).train()
    torch.manual_seed(1)
    nn.init.normal_(E.to_offsets.weight, std=0.3)            # a guess that is not the mean face
    target, _ = generated(G, n=2, seed=7)
    with torch.no_grad():
        guess = G.synthesize(encode(E, target), "w+")
    start = float(psnr(guess, target).mean())
    seen = []
    config = InversionConfig(space="w+", steps=40, lr=0.05)
    result = hybrid_invert(G, E, target, config, callback=lambda step, image: seen.append(step))
    assert result.history[0]["psnr"] == pytest.approx(start, abs=1e-4)
    assert result.psnr > start + 1 and seen == list(range(40))
    assert result.latent.shape == (2, 6, 8) and E.training               # encode left E as it was
    from_mean = invert(G, target, config).history[0]["psnr"]
    assert from_mean != pytest.approx(start, abs=0.1)                   # the encoder's start is not the mean
