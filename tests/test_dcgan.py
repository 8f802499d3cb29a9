import pytest
import torch
from torch import nn

from course_lib.dcgan import DCGANConfig, DCGANRecipe, Discriminator, Generator, up_block
from course_lib.latent import generate, sample_z
from course_lib.recipes import TrainSettings
from course_lib.trainer import Trainer
from tests.tiny_recipe import TinyData


def layers(module, kind):
    return [m for m in module.modules() if isinstance(m, kind)]


def test_paper_generator_follows_the_architecture_guidelines():
    G = Generator(DCGANRecipe.presets["paper"])
    convs = layers(G, nn.ConvTranspose2d)
    # z (100×1×1) -> 4×4×512 -> 8×8×256 -> 16×16×128 -> 32×32×64 -> 64×64×3
    assert [(c.in_channels, c.out_channels) for c in convs] == [(100, 512), (512, 256), (256, 128),
                                                                (128, 64), (64, 3)]
    assert [c.stride for c in convs] == [(1, 1)] + [(2, 2)] * 4
    assert all(c.kernel_size == (4, 4) for c in convs)
    assert not layers(G, nn.Linear) and not layers(G, nn.MaxPool2d) and not layers(G, nn.AvgPool2d)
    assert len(layers(G, nn.BatchNorm2d)) == 4          # every layer but the output
    assert len(layers(G, nn.ReLU)) == 4 and isinstance(G.to_rgb[-1], nn.Tanh)
    out = G(torch.randn(2, 100))
    assert out.shape == (2, 3, 64, 64) and out.abs().max() <= 1


def test_paper_discriminator_follows_the_architecture_guidelines():
    D = Discriminator(DCGANRecipe.presets["paper"])
    convs = layers(D, nn.Conv2d)
    assert [(c.in_channels, c.out_channels) for c in convs] == [(3, 64), (64, 128), (128, 256),
                                                                (256, 512), (512, 1)]
    assert [c.stride for c in convs] == [(2, 2)] * 4 + [(1, 1)]
    assert len(layers(D, nn.BatchNorm2d)) == 3          # none on the input layer
    assert isinstance(D.blocks[0][1], nn.LeakyReLU)     # the first block has no batch norm
    assert all(m.negative_slope == 0.2 for m in layers(D, nn.LeakyReLU))
    assert not layers(D, nn.Linear) and not layers(D, nn.MaxPool2d)
    assert D(torch.rand(3, 3, 64, 64) * 2 - 1).shape == (3,)


def test_weights_start_from_n_0_002_and_adam_uses_the_paper_settings():
    config = DCGANRecipe.presets["paper"]
    torch.manual_seed(0)
    G = Generator(config)
    w = torch.cat([c.weight.detach().flatten() for c in layers(G, nn.ConvTranspose2d)])
    assert abs(float(w.std()) - 0.02) < 0.002 and abs(float(w.mean())) < 0.001
    recipe = DCGANRecipe()
    opts = recipe.optimizers(recipe.build(config), config)
    for opt in opts.values():
        assert opt.defaults["lr"] == 2e-4 and opt.defaults["betas"] == (0.5, 0.999)


def test_other_sizes_and_clear_errors():
    G = Generator(DCGANConfig(image_size=32, nz=8, ngf=8, ndf=8))
    assert G(torch.randn(1, 8)).shape == (1, 3, 32, 32)
    assert Discriminator(DCGANConfig(image_size=32, ndf=8))(torch.zeros(1, 3, 32, 32)).shape == (1,)
    with pytest.raises(ValueError, match="power of two"):
        Generator(DCGANConfig(image_size=48))
    with pytest.raises(ValueError, match=r"z of shape N×8"):
        G(torch.randn(2, 9))


def test_up_block_doubles_the_resolution():
    block = up_block(8, 4)
    assert block(torch.randn(2, 8, 5, 5)).shape == (2, 4, 10, 10)


def test_sample_z_is_reproducible_and_generate_restores_training_mode():
    assert torch.equal(sample_z(4, 10, seed=3), sample_z(4, 10, seed=3))
    assert not torch.equal(sample_z(4, 10, seed=3), sample_z(4, 10, seed=4))
    G = Generator(DCGANConfig(image_size=16, nz=10, ngf=4)).train()
    out = generate(G, sample_z(5, 10), batch_size=2)
    assert out.shape == (5, 3, 16, 16) and G.training
    with pytest.raises(ValueError, match="positive"):
        sample_z(0, 10)


def test_training_steps_update_both_players():
    config = DCGANConfig(image_size=8, nz=4, ngf=4, ndf=4)
    trainer = Trainer(DCGANRecipe(), config, TinyData(n=16, size=8),
                      TrainSettings(steps=3, batch_size=8, sample_every=3, save_every=3, progress=False))
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in trainer.modules.items()}
    history = trainer.fit()
    assert len(history) == trainer.total_steps >= 2
    assert all(torch.isfinite(torch.tensor(list(h.values()))).all() for h in history)
    for k, m in trainer.modules.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters())), k


def test_shipped_generator_makes_varied_faces_the_judge_can_read():
    from course_lib import data, pretrained
    from course_lib.judges import attribute_rates

    G, judge = pretrained.load("dcgan-faces64"), pretrained.load("faces-attributes")
    assert G.config.image_size == 64 and G.config.nz == 100
    rates = attribute_rates(judge, generate(G, sample_z(300, 100, seed=123)))
    for name in data.FACE_BINARY:     # real faces: each about 50%; a collapsed G shows one value only
        assert 0.03 < float(rates[name][1]) < 0.97, (name, rates[name])
    for name in data.FACE_CATEGORICAL:   # every hair colour, skin tone and background appears
        assert (rates[name] > 0.05).all(), (name, rates[name])


def test_discriminator_features_are_every_layer_max_pooled_to_4x4():
    from course_lib.dcgan import DCGANConfig, Discriminator

    D = Discriminator(DCGANConfig(image_size=32, ndf=8)).eval()
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    f = D.features(x)
    assert f.shape == (3, 16 * (8 + 16 + 32))
    first = D.blocks[0](x)                                   # 8 channels at 16×16
    assert torch.equal(f[:, :8 * 16], torch.nn.functional.max_pool2d(first, 4).flatten(1))


def test_linear_probe_reads_a_linear_label_and_not_noise():
    from course_lib.metrics import linear_probe

    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 20, generator=g)
    y = (x[:, 3] - 0.5 * x[:, 7] > 0).long()
    assert linear_probe(x[:300], y[:300], x[300:], y[300:]) > 0.9
    noise = torch.randint(0, 2, (400,), generator=g)
    assert abs(linear_probe(x[:300], noise[:300], x[300:], noise[300:]) - 0.5) < 0.15
    with pytest.raises(ValueError, match="labels N"):
        linear_probe(x, y[:10], x, y)
