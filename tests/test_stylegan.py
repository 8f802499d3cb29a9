import dataclasses
import json
import math

import pytest
import torch

from course_lib import pretrained, recipes
from course_lib.checks import check_image
from course_lib.latent import sample_z
from course_lib.stylegan import (Discriminator, EqualLinear, Generator, StyleGANConfig, StyleGANRecipe,
                                 channels_at)
from course_lib.recipes import TrainSettings
from course_lib.trainer import Trainer
from tests.tiny_recipe import TinyData

TINY = StyleGANConfig(image_size=16, z_dim=8, w_dim=8, mapping_layers=2, channel_base=64, channel_max=8,
                      r1_every=2, data_size=16)


def tiny_generator(seed=0, noise_strength=0.0):
    torch.manual_seed(seed)
    G = Generator(TINY)
    for layer in G.synthesis.layers():                     # B starts at 0: noise has no effect yet
        layer.noise.weight.data.fill_(noise_strength)
    return G


def test_paper_preset_builds_the_1024px_architecture():
    config = StyleGANRecipe.presets["paper"]
    assert (config.image_size, config.z_dim, config.w_dim, config.mapping_layers) == (1024, 512, 512, 8)
    res = [2 ** k for k in range(2, 11)]
    assert [channels_at(config, r) for r in res] == [512, 512, 512, 512, 256, 128, 64, 32, 16]
    G = Generator(config)
    assert G.num_ws == 18 == 2 * len(res) == len(G.synthesis.layers())
    assert G.synthesis.const.shape == (1, 512, 4, 4)
    assert [tuple(layer.weight.shape) for layer in G.mapping.layers] == [(512, 512)] * 8
    for block, r in zip(G.synthesis.blocks, res):
        c_in, c_out = channels_at(config, max(4, r // 2)), channels_at(config, r)
        assert block.conv0.conv.weight.shape == (c_out, c_in, 3, 3) and block.conv0.conv.upsample == (r > 4)
        assert block.conv1.conv.weight.shape == (c_out, c_out, 3, 3) and not block.conv1.conv.upsample
        assert block.conv0.conv.affine.weight.shape == (c_in, 512)      # A: one style per input channel
        assert block.to_rgb.conv.weight.shape == (3, c_out, 1, 1) and not block.to_rgb.conv.demodulate
        assert block.conv0.noise.noise_const.shape == block.conv1.noise.noise_const.shape == (1, 1, r, r)
    assert G.synthesis.noise_buffers()[-1].shape == (1, 1, 1024, 1024)
    D = Discriminator(config)
    assert D.from_rgb.weight.shape == (16, 3, 1, 1) and len(D.blocks) == 8
    assert D.conv.weight.shape == (512, 513, 3, 3)                          # + the minibatch-stddev map


def test_course_preset_generates_64px_images_in_range():
    config = StyleGANRecipe.presets["course"]
    assert config.image_size == 64
    torch.manual_seed(0)
    G = Generator(config)
    assert G.num_ws == 10
    with torch.no_grad():
        out = G(sample_z(3, config.z_dim, seed=1))
    assert out.shape == (3, 3, 64, 64) and out.is_contiguous()
    check_image(out)
    assert out.std() > 0.01                                                  # not a constant image
    d = Discriminator(config)(out)
    assert d.shape == (3,) and torch.isfinite(d).all()


def test_broadcast_mix_and_truncate():
    G = tiny_generator()
    w_a, w_b = G.mapping(sample_z(2, 8, seed=1)), G.mapping(sample_z(2, 8, seed=2))
    a = G.broadcast(w_a)
    assert a.shape == (2, G.num_ws, 8) and torch.equal(a[:, 3], w_a) and torch.equal(a[:, -1], w_a)
    mixed = G.mix(w_a, w_b, 3)
    assert mixed.shape == (2, G.num_ws, 8)
    assert torch.equal(mixed[:, :3], G.broadcast(w_a)[:, :3])
    assert torch.equal(mixed[:, 3:], G.broadcast(w_b)[:, 3:])
    assert torch.equal(G.mix(w_a, w_b, 0), G.broadcast(w_b)) and torch.equal(G.mix(w_a, w_b, G.num_ws), a)
    assert torch.equal(G.mix(mixed, a, 1)[:, 1:], a[:, 1:])                 # w_plus inputs work too
    mean = G.mean_w()
    assert mean.shape == (1, 8)
    assert torch.allclose(mean, G.mapping(sample_z(4096, 8, seed=0)).mean(0, keepdim=True), atol=1e-6)
    assert torch.allclose(G.truncate(w_a, 0.0), mean.expand(2, -1))
    assert torch.allclose(G.truncate(a, 0.0), G.broadcast(mean.expand(2, -1)))
    assert torch.equal(G.truncate(w_a, 1.0), w_a)
    assert torch.allclose(G.truncate(w_a, 0.5), (w_a + mean) / 2, atol=1e-6)
    # psi = 0 through G(z): every z gives the same (mean) face
    faces = G(sample_z(2, 8, seed=5), truncation=0.0, noise_mode="const")
    assert torch.allclose(faces[0], faces[1], atol=1e-6)


def test_mean_w_is_cached_until_the_mapping_changes():
    G = tiny_generator()
    first = G.mean_w()
    assert torch.equal(G.mean_w(), first) and len(G._mean_w_cache) == 1
    # the mean of the same seeded w's that sample_w gives
    assert torch.allclose(first, G.sample_w(4096, seed=0).mean(0, keepdim=True))
    assert not torch.allclose(G.sample_w(2, seed=0), G.sample_w(2, seed=1))
    with torch.no_grad():
        G.mapping.layers[0].bias.add_(1.0)
    assert not torch.allclose(G.mean_w(), first)
    G.load_state_dict(tiny_generator(seed=0).state_dict())
    assert torch.allclose(G.mean_w(), first)


def test_generator_declares_its_spaces_and_synthesizes_in_each():
    G = tiny_generator().eval()
    assert G.spaces == ("z", "w", "w+") and G.latent_dim == 8
    assert G.noise_maps() == G.synthesis.noise_buffers()
    z = sample_z(2, G.latent_dim, seed=4)
    w = G.mapping(z)
    image = G.synthesize(z, "z")
    assert torch.equal(image, G.synthesize(w, "w")) and torch.equal(image, G.synthesize(G.broadcast(w), "w+"))
    assert torch.equal(image, G.synthesis(G.broadcast(w), noise_mode="const"))
    with pytest.raises(ValueError, match="space 'x' is not one of"):
        G.synthesize(z, "x")


def test_noise_modes():
    G = tiny_generator(noise_strength=1.0).eval()
    w_plus = G.broadcast(G.mapping(sample_z(2, 8, seed=1)))
    const = G.synthesis(w_plus, noise_mode="const")
    assert torch.equal(const, G.synthesis(w_plus, noise_mode="const"))
    random_a, random_b = (G.synthesis(w_plus, noise_mode="random") for _ in range(2))
    assert not torch.allclose(random_a, random_b)
    assert torch.equal(G.synthesis(w_plus, noise_mode="none"), G.synthesis(w_plus, noise_mode="none"))
    assert not torch.allclose(const, G.synthesis(w_plus, noise_mode="none"))
    # explicit noise maps (what inversion optimises) replace the buffers
    buffers = G.synthesis.noise_buffers()
    assert len(buffers) == G.num_ws
    assert torch.equal(G.synthesis(w_plus, noise=[b.clone() for b in buffers]), const)
    g = torch.Generator().manual_seed(3)
    noise = [torch.randn(2, *b.shape[1:], generator=g).requires_grad_() for b in buffers]
    G.synthesis(w_plus, noise=noise).sum().backward()
    assert all(m.grad is not None and m.grad.abs().sum() > 0 for m in noise)
    # with B = 0 (a fresh generator) the noise has no effect
    G0 = tiny_generator(noise_strength=0.0)
    assert torch.equal(G0.synthesis(w_plus, noise_mode="random"), G0.synthesis(w_plus, noise_mode="none"))


def test_mapping_learns_lr_mapping_times_slower():
    config = StyleGANRecipe.presets["course"]
    G = Generator(config)
    for layer in G.mapping.layers:
        assert layer.lr_mul == config.lr_mapping == 0.01
        assert math.isclose(layer.scale, 0.01 / math.sqrt(layer.weight.shape[1]))
    assert 90 < float(G.mapping.layers[0].weight.detach().std()) < 110     # stored as N(0, 1/lr_mul²)
    # one Adam step moves the effective weight lr_mul times as far as in a normal layer
    moved = {}
    for lr_mul in (1.0, 0.01):
        torch.manual_seed(0)
        layer = EqualLinear(16, 4, lr_mul=lr_mul)
        before = (layer.weight * layer.scale).detach().clone()
        opt = torch.optim.Adam(layer.parameters(), lr=0.01)
        layer(torch.randn(8, 16)).pow(2).sum().backward()
        opt.step()
        moved[lr_mul] = float(((layer.weight * layer.scale).detach() - before).abs().mean())
    assert moved[0.01] / moved[1.0] == pytest.approx(0.01, rel=1e-3)


def make_trainer(config=TINY, steps=3):
    return Trainer(StyleGANRecipe(), config, TinyData(n=16, size=16),
                   TrainSettings(steps=steps, batch_size=4, sample_every=steps, save_every=steps,
                                 progress=False))


def test_training_steps_update_generator_ema_and_discriminator(tmp_path):
    trainer = make_trainer()
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in trainer.modules.items()}
    history = trainer.fit()
    assert len(history) == trainer.total_steps >= 2
    assert all(math.isfinite(v) for h in history for v in h.values())
    assert "r1" in history[0] and "r1" not in history[1]                     # lazy R1, every 2 steps
    for k, m in trainer.modules.items():
        changed = [not torch.equal(a, b) for a, b in zip(before[k], m.parameters())]
        assert any(changed), k
    G, ema = trainer.modules["generator"], trainer.modules["generator_ema"]
    assert not any(p.requires_grad for p in ema.parameters())
    assert not all(torch.equal(a, b) for a, b in zip(G.parameters(), ema.parameters()))
    # the EMA is what ships, and a shipped checkpoint loads into a freshly built generator
    recipe = StyleGANRecipe()
    assert recipe.export(trainer.modules) is ema
    path = trainer.export(tmp_path / "run" / "model.safetensors")
    pretrained.publish(path, "stylegan-test", command="test", data="tiny", root=tmp_path)
    loaded = pretrained.load("stylegan-test", root=tmp_path)
    assert isinstance(loaded, Generator) and loaded.config == TINY
    z = sample_z(2, 8, seed=0)
    assert torch.allclose(loaded(z, noise_mode="const"), ema.eval()(z, noise_mode="const"), atol=2e-2)


def test_style_mixing_happens_in_training_with_probability_style_mixing():
    for p, expect_mixed in ((1.0, True), (0.0, False)):
        trainer = make_trainer(dataclasses.replace(TINY, style_mixing=p), steps=2)
        seen = []

        def record(module, args, seen=seen):
            seen.append(args[0].detach().clone())

        trainer.modules["generator"].synthesis.register_forward_pre_hook(record)
        history = trainer.fit()
        assert len(seen) == len(history) >= 2
        for w_plus, h in zip(seen, history):
            assert h["mixed"] == float(expect_mixed)
            distinct = {tuple(w.tolist()) for w in w_plus[0]}
            assert len(distinct) == (2 if expect_mixed else 1), p
            if expect_mixed:                        # a crossover c: one w before it, the other from c on
                same_as_first = [torch.equal(w_plus[:, i], w_plus[:, 0]) for i in range(w_plus.shape[1])]
                c = same_as_first.index(False)
                assert 1 <= c and not any(same_as_first[c:])
                assert all(torch.equal(w_plus[:, i], w_plus[:, -1]) for i in range(c, w_plus.shape[1]))


def test_recipe_is_registered_and_samples_are_fixed():
    recipe = recipes.get_recipe("stylegan")
    assert isinstance(recipe, StyleGANRecipe)
    assert recipe.accepts == ("faces", "folder") and recipe.export_module == "generator_ema"
    assert set(recipe.presets) == set(recipe.settings) == {"course", "course-wide", "paper"}
    course, wide = recipe.presets["course"], recipe.presets["course-wide"]
    # the wide preset differs only in channels: 4x from 16 px up, so W+ fits the same encoder
    narrowed = dataclasses.replace(wide, channel_base=course.channel_base, channel_max=course.channel_max)
    assert narrowed == course
    assert [channels_at(wide, r) for r in (4, 8, 16, 32, 64)] == [128, 128, 128, 64, 32]
    assert [channels_at(course, r) for r in (16, 32, 64)] == [32, 16, 8]
    assert recipe.settings["course"].batch_size == 32
    config = recipe.presets["course"]
    assert StyleGANConfig(**json.loads(json.dumps(dataclasses.asdict(config)))) == config
    torch.manual_seed(0)
    modules = recipe.build(TINY)
    batch = {"image": torch.zeros(4, 3, 16, 16)}
    torch.manual_seed(1)
    a = recipe.samples(modules, TINY, batch)
    torch.manual_seed(2)
    assert a.shape == (32, 3, 16, 16) and torch.equal(a, recipe.samples(modules, TINY, batch))


def test_discriminator_takes_any_batch_size():
    torch.manual_seed(0)
    D = Discriminator(TINY)
    for n in (1, 3, 6):
        assert D(torch.rand(n, 3, 16, 16) * 2 - 1).shape == (n,)


def test_clear_errors():
    G = tiny_generator()
    w = G.mapping(sample_z(2, 8))
    with pytest.raises(ValueError, match=r"w_plus of shape N×6×8"):
        G.synthesis(torch.zeros(2, 7, 8))
    with pytest.raises(ValueError, match="G.broadcast"):
        G.synthesis(w)
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(G.broadcast(w), noise_mode="fixed")
    with pytest.raises(ValueError, match=r"noise\[0\]"):
        G.synthesis(G.broadcast(w), noise=[torch.zeros(2, 1, 5, 5)] * G.num_ws)
    with pytest.raises(ValueError, match=r"z of shape N×8"):
        G(torch.zeros(2, 9))
    with pytest.raises(ValueError, match="crossover"):
        G.mix(w, w, G.num_ws + 1)
    with pytest.raises(ValueError, match="broadcast"):
        G.broadcast(torch.zeros(2, 4))
    for size in (48, 2, 64.0):
        with pytest.raises(ValueError, match="power of two"):
            Generator(dataclasses.replace(TINY, image_size=size))
    with pytest.raises(ValueError, match=r"N×3×16×16"):
        Discriminator(TINY)(torch.zeros(2, 3, 32, 32))


def test_morph_expression_transfer_and_distance_from_w():
    from course_lib.latent import expression_transfer, morph
    from course_lib.metrics import distance_from_w

    G = tiny_generator()
    w_a, w_b = G.mapping(sample_z(2, 8, seed=1)), G.mapping(sample_z(2, 8, seed=2))
    a, b = G.broadcast(w_a), G.mix(w_a, w_b, 2)
    assert torch.equal(morph(G, a, b, 0.0), a) and torch.allclose(morph(G, a, b, 1.0), b)
    half = morph(G, a, b, 0.5)
    assert half.shape == (2, G.num_ws, 8) and torch.allclose(half, (a + b) / 2)
    assert torch.allclose(morph(G, w_a, w_b, 0.25), G.broadcast(0.75 * w_a + 0.25 * w_b))   # w broadcast

    face = G.broadcast(G.mapping(sample_z(2, 8, seed=3)))
    moved = expression_transfer(G, face, a, b, 2.0)
    assert torch.allclose(moved, face + 2 * (b - a))
    assert torch.equal(expression_transfer(G, face, a, b, 0.0), face)
    assert torch.allclose(expression_transfer(G, face, a, a), face)

    d = distance_from_w(G, torch.cat([G.broadcast(G.mean_w()), a, b]))
    assert d["to_mean"].shape == (5,) and d["to_mean"][0] < 1e-5
    assert torch.allclose(d["spread"][:3], torch.zeros(3), atol=1e-5)      # codes in W: all layers equal
    assert (d["spread"][3:] > 0.1).all()                                   # two w's in one code
    sampled = distance_from_w(G, G.mapping(sample_z(500, 8, seed=7)))["to_mean"].mean()
    assert 0.9 < sampled < 1.1                                             # a sampled w: about 1
    far = distance_from_w(G, a + 10 * (a - G.mean_w()[:, None]))["to_mean"]
    assert (far > 5).all()

    one = morph(G, a[:1], b, 0.5)                                          # one code against N
    assert one.shape == (2, G.num_ws, 8) and torch.allclose(one, (a[:1] + b) / 2)
    assert torch.allclose(expression_transfer(G, face, a[:1], b[:1]), face + b[:1] - a[:1])
    with pytest.raises(ValueError, match="same N"):
        morph(G, a, w_b[:1].expand(3, -1), 0.5)
    with pytest.raises(ValueError, match="t must be a number"):
        morph(G, a, b, "half")
    with pytest.raises(ValueError, match="expected w of shape"):
        expression_transfer(G, face, a, torch.zeros(2, 3))
