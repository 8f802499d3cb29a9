import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import spade
from course_lib.losses import discriminator_loss, generator_loss
from course_lib.spade import (
    SPADE,
    BaselineRecipe,
    ImageEncoder,
    MultiscaleDiscriminator,
    PlainNorm,
    SPADEGenerator,
    SPADEModel,
    SPADERecipe,
    check_label_map,
    feature_matching,
    generator_table,
    kl_divergence,
    look_code,
    one_hot,
    synthesize,
)

COURSE = SPADERecipe.presets["course"]
PAPER = SPADERecipe.presets["paper"]
TINY = dataclasses.replace(
    COURSE,
    image_size=64,
    width=4,
    hidden=8,
    z_dim=8,
    encoder_width=4,
    disc_width=4,
    perceptual_weight=0.0,
    data_size=16,
)


def _uniform(cls: int, n: int = 1, size: int = 64) -> torch.Tensor:
    return torch.full((n, size, size), cls, dtype=torch.int64)


# ----------------------------------------------------------------------------- the layer


def test_spade_layer_is_equation_1():
    torch.manual_seed(0)
    layer = SPADE(channels=3, num_classes=4, hidden=5)
    h = torch.randn(2, 3, 6, 6)
    m = one_hot(torch.randint(0, 4, (2, 12, 12)), 4)
    out = layer(h, m)
    mu = h.mean((0, 2, 3), keepdim=True)  # μ_c over N, H, W
    sigma = (h.var((0, 2, 3), unbiased=False, keepdim=True) + layer.normalize.eps).sqrt()
    m_small = F.interpolate(m, size=(6, 6), mode="nearest")
    a = F.relu(F.conv2d(m_small, layer.shared[0].weight, layer.shared[0].bias, padding=1))
    gamma = F.conv2d(a, layer.to_gamma.weight, layer.to_gamma.bias, padding=1)
    beta = F.conv2d(a, layer.to_beta.weight, layer.to_beta.bias, padding=1)
    expected = (1 + gamma) * (h - mu) / sigma + beta
    assert torch.allclose(out, expected, atol=1e-5)
    assert gamma.shape == (2, 3, 6, 6)  # γ varies with c, y and x
    assert not layer.normalize.affine  # parameter-free batch norm


def test_uniform_map_washed_out_by_normalisation_but_not_by_spade():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 3, 3, padding=1, padding_mode="reflect")
    plain, layer = PlainNorm(3), SPADE(3, 4, hidden=5)
    layer.eval()
    outs_plain, outs_spade = [], []
    for cls in (0, 2):
        m = one_hot(_uniform(cls, 1, 8), 4)
        outs_plain.append(plain(conv(m)))
        h = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1))
        outs_spade.append(layer(h, m))
    assert torch.allclose(outs_plain[0], outs_plain[1], atol=1e-5)  # the class is gone
    assert (outs_spade[0] - outs_spade[1]).abs().max() > 1e-2  # SPADE keeps it


def test_uniform_maps_baseline_generator_forgets_class_spade_does_not():
    torch.manual_seed(0)
    base = SPADEModel(dataclasses.replace(TINY, generator="baseline", use_encoder=False))
    model = SPADEModel(TINY)
    b = [spade.first_normalised(base, _uniform(c)) for c in (0, 4)]
    s = [spade.first_normalised(model, _uniform(c)) for c in (0, 4)]
    assert b[0].abs().max() < 1e-4  # all that is left is float rounding
    assert (b[0] - b[1]).abs().max() < 1e-4
    assert (s[0] - s[1]).abs().mean() > 1e-2


# ----------------------------------------------------------------------------- architecture


def _convs(module):
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def test_paper_generator_layer_by_layer():
    # Fig. 13 of the paper (appendix): ngf 64, a 8×8 map of 1024, blocks down to 64 at 256 px
    assert generator_table(PAPER) == [
        ("head_0", 1024, 1024, 8),
        ("middle_0", 1024, 1024, 16),
        ("middle_1", 1024, 1024, 16),
        ("up_0", 1024, 512, 32),
        ("up_1", 512, 256, 64),
        ("up_2", 256, 128, 128),
        ("up_3", 128, 64, 256),
    ]
    gen = SPADEGenerator(PAPER)
    assert (gen.from_code.in_features, gen.from_code.out_features) == (256, 1024 * 8 * 8)
    for name, c_in, c_out, _ in generator_table(PAPER):
        block = gen.blocks[name]
        middle = min(c_in, c_out)
        assert (block.conv_0.in_channels, block.conv_0.out_channels) == (c_in, middle)
        assert (block.conv_1.in_channels, block.conv_1.out_channels) == (middle, c_out)
        assert block.learned_shortcut == (c_in != c_out)
        assert hasattr(block.conv_0, "parametrizations")  # spectral norm
        for norm in [block.norm_0, block.norm_1] + ([block.norm_s] if block.learned_shortcut else []):
            assert norm.shared[0].in_channels == 8 and norm.shared[0].out_channels == 128
            assert norm.to_gamma.kernel_size == (3, 3) and norm.to_beta.kernel_size == (3, 3)
    assert gen.to_rgb.in_channels == 64


def test_paper_blocks_give_the_listed_shapes():
    """Each block of the paper preset maps its input to the listed width and side (run at batch 1 on
    one block at a time, the largest at a quarter of its side, to stay fast)."""
    gen = SPADEGenerator(PAPER).eval()
    seg = one_hot(_uniform(3, 1, 256), 8)
    with torch.no_grad():
        for name, c_in, c_out, side in generator_table(PAPER)[:4]:
            out = gen.blocks[name](torch.randn(1, c_in, side, side), seg)
            assert out.shape == (1, c_out, side, side)


def test_paper_encoder_and_discriminator():
    enc = ImageEncoder(PAPER)
    widths = [c.out_channels for c in _convs(enc)]
    assert widths == [64, 128, 256, 512, 512, 512]  # six stride-2 3×3 convs to 4×4
    assert enc.to_mu.in_features == 512 * 16 and enc.to_mu.out_features == 256
    d = MultiscaleDiscriminator(PAPER)
    assert len(d.scales) == 2
    for scale in d.scales:
        convs = _convs(scale)
        assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1]
        assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
        assert convs[0].in_channels == 8 + 3 and all(c.kernel_size == (4, 4) for c in convs)
    mu, logvar = ImageEncoder(COURSE)(torch.zeros(2, 3, 128, 128))
    assert mu.shape == logvar.shape == (2, COURSE.z_dim)


def test_paper_hyperparameters():
    assert (PAPER.lr_generator, PAPER.lr_discriminator, PAPER.beta1, PAPER.beta2) == (1e-4, 4e-4, 0.0, 0.999)
    assert (PAPER.feature_matching, PAPER.perceptual_weight, PAPER.kl_weight) == (10.0, 10.0, 0.05)
    assert COURSE.lr_discriminator / COURSE.lr_generator == 4
    opts = SPADERecipe().optimizers(
        {"model": SPADEModel(TINY), "discriminator": MultiscaleDiscriminator(TINY)}, TINY
    )
    assert opts["model"].defaults["betas"] == (0.0, 0.999)


def test_course_generator_makes_128px_images():
    model = SPADEModel(COURSE)
    out = synthesize(model, _uniform(4, 2, 128))
    assert out.shape == (2, 3, 128, 128) and out.abs().max() <= 1


# ----------------------------------------------------------------------------- losses


def test_hinge_losses():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 1.5])
    # D: mean max(0, 1 − real) + mean max(0, 1 + fake)
    assert discriminator_loss(real, fake, "hinge").item() == pytest.approx(
        (0 + 0.5 + 2) / 3 + (0 + 1 + 2.5) / 3
    )
    assert generator_loss(fake, "hinge").item() == pytest.approx(-(-2 + 0 + 1.5) / 3)
    out = [[torch.ones(1, 2, 3, 3), real], [torch.zeros(1, 2, 2, 2), real]]
    fake_out = [[torch.ones(1, 2, 3, 3) * 3, fake], [torch.zeros(1, 2, 2, 2), fake]]
    assert spade.hinge_losses(out, fake_out).item() == pytest.approx(
        discriminator_loss(real, fake, "hinge").item()
    )
    assert feature_matching(out, fake_out).item() == pytest.approx((2.0 + 0.0) / 2)


def test_kl_divergence_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(3, 5), torch.randn(3, 5)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(3, 5), torch.ones(3, 5))
    assert kl_divergence(mu, logvar).item() == pytest.approx(
        torch.distributions.kl_divergence(q, p).sum().item(), rel=1e-5
    )
    assert kl_divergence(torch.zeros(2, 4), torch.zeros(2, 4)).item() == 0


def test_training_steps_run_for_both_recipes():
    from course_lib.data import landscapes

    images, labels, _ = landscapes(4, size=64)
    for recipe in (SPADERecipe(), BaselineRecipe()):
        config = (
            dataclasses.replace(TINY, generator="baseline", use_encoder=False)
            if recipe.name == "spade-baseline"
            else TINY
        )
        torch.manual_seed(0)
        modules = recipe.build(config)
        optimizers = recipe.optimizers(modules, config)
        losses = recipe.training_step(modules, optimizers, {"image": images, "labels": labels}, 0, config)
        assert all(torch.isfinite(torch.as_tensor(v)) for v in losses.values())
        assert ("kl" in losses) == (recipe.name == "spade")
    assert BaselineRecipe.presets["course"] == dataclasses.replace(
        COURSE, generator="baseline", use_encoder=False
    )


# ----------------------------------------------------------------------------- bad input


def test_bad_label_maps():
    with pytest.raises(ValueError, match=r"class ids \[8, 12\].*sky"):
        check_label_map(torch.tensor([[[8, 12], [0, 1]]]).repeat(1, 32, 32), TINY)
    with pytest.raises(ValueError, match="float"):
        check_label_map(torch.zeros(1, 64, 64), TINY)
    with pytest.raises(ValueError, match="RGB"):
        check_label_map(torch.zeros(1, 3, 64, 64), TINY)
    with pytest.raises(ValueError, match="64×64"):
        check_label_map(_uniform(0, 1, 48), TINY)
    with pytest.raises(ValueError, match="batch axis"):
        check_label_map(torch.zeros(64, 64, dtype=torch.int64), TINY)
    with pytest.raises(ValueError, match="negative|not classes"):
        check_label_map(_uniform(-1), TINY)


def test_unknown_look_and_missing_code():
    model = SPADEModel(TINY)
    with pytest.raises(ValueError, match="unknown look 'dawn'.*sunset"):
        look_code(model, "dawn")
    with pytest.raises(ValueError, match="expected z"):
        model.generator(_uniform(0), None)
    assert look_code(model, "night").shape == (1, TINY.z_dim)


# ----------------------------------------------------------------------------- the widget


@pytest.fixture
def painting():
    pytest.importorskip("ipycanvas")
    from course_lib.widgets.spade import PaintingWidget

    torch.manual_seed(0)
    return PaintingWidget(SPADEModel(TINY), labels=_uniform(0, 1, 64), scale=2)


def test_widget_stroke_paints_along_the_stroke_and_redraws(painting):
    from course_lib.images import tile

    before, image_before = painting.labels.clone(), painting.image.clone()
    painting.stroke([(4, 10), (28, 10)], label="grass", size=3)
    changed = painting.labels != before
    assert (painting.labels[10, 4:29] == 4).all()  # along the stroke
    assert not changed[20:].any() and not changed[:, :2].any()  # nowhere far from it
    assert changed.sum() >= 25
    expected = synthesize(painting.model, painting.labels[None], z=painting.z)
    assert torch.equal(painting.image, expected)
    assert (painting.result_pixels[..., :3] == tile(expected, scale=2)).all()
    assert painting.result_pixels.shape == (128, 128, 4) and (painting.result_pixels[..., 3] == 255).all()
    assert not torch.equal(painting.image, image_before)
    painting.undo()
    assert torch.equal(painting.labels, before)


def test_widget_fill_blank_looks_and_bad_brush(painting):
    painting.fill(0, 0, label="water")
    assert (painting.labels == 3).all()  # the one region was the whole map
    painting.blank("sky")
    assert painting.labels.unique().tolist() == [0]  # a one-class canvas still draws
    assert painting.image.shape == (1, 3, 64, 64)
    painting.set_look("sunset")
    assert painting.z.shape == (1, TINY.z_dim)
    with pytest.raises(ValueError, match="brush size"):
        painting.stroke([(1, 1), (5, 5)], size=0)
    with pytest.raises(ValueError, match="brush size"):
        painting.stroke([(1, 1)], size=-2)
    with pytest.raises(ValueError, match="unknown class"):
        painting.stroke([(1, 1)], label="lava")
    with pytest.raises(ValueError, match="unknown look"):
        painting.set_look("dawn")
