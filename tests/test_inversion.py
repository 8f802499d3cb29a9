import pytest
import torch
import torch.nn.functional as F

from course_lib import inversion
from course_lib.dcgan import DCGANConfig, Generator as DCGANGenerator
from course_lib.inversion import InversionConfig, invert
from course_lib.latent import sample_z
from course_lib.stylegan import Generator as StyleGenerator, StyleGANConfig


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
    assert torch.allclose(inversion.psnr(result.image, target).mean(), torch.tensor(result.psnr), atol=1e-3)
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
    assert inversion.spaces_of(G) == ("z", "w", "w+") and inversion.spaces_of(tiny_dcgan()) == ("z",)
    w0 = inversion.initial_latent(G, "w+", n=2)
    assert w0.shape == (2, G.num_ws, 8) and torch.allclose(w0[:, 0], G.mean_w().expand(2, -1))
    target = torch.rand(1, 3, 16, 16) * 1.6 - 0.8           # not an image G can make exactly
    results = {s: invert(G, target, InversionConfig(space=s, steps=60, lr=0.05)) for s in ("w", "w+")}
    assert results["w+"].latent.shape == (1, G.num_ws, 8) and results["w"].latent.shape == (1, 8)
    assert results["w+"].psnr > results["w"].psnr
    assert results["w+"].psnr > results["w+"].history[0]["psnr"]


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
    d = inversion.perceptual_distance(features, torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4))
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
