import dataclasses
import io

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from course_lib import adain
from course_lib.adain import (VGG19_PLAN, AdaINConfig, AdaINRecipe, EncoderConfig, StyleTransferNet,
                              VGGEncoder, decoder_plan, mean_std, stylize)
from course_lib.images import png_bytes
from course_lib.widgets import alpha_widget, display_scale, spatial_widget, style_interpolation_widget
from course_lib.widgets.adain import default_masks
from course_lib.widgets.core import MAX_WIDTH

SMALL = AdaINConfig(encoder="", widths=(4, 8, 8, 16), image_size=32, contents=6, styles=8)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return StyleTransferNet(SMALL).eval()


def _rand(n, c=3, h=32, w=32, seed=0, lo=-1.0, hi=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, h, w, generator=g) * (hi - lo) + lo


# ----------------------------------------------------------------------------- the operator (Eq. 8)

def test_adain_matches_equation_8_on_random_tensors():
    x, y = _rand(2, 5, 7, 9, seed=1) * 3 + 1, _rand(2, 5, 4, 6, seed=2) * 0.5 - 2
    eps = 1e-5
    out = adain.adain(x, y, eps)
    for n in range(2):
        for c in range(5):
            xc, yc = x[n, c].double(), y[n, c].double()
            mu_x, mu_y = xc.mean(), yc.mean()
            sd_x = (((xc - mu_x) ** 2).mean() + eps).sqrt()
            sd_y = (((yc - mu_y) ** 2).mean() + eps).sqrt()
            expected = sd_y * (xc - mu_x) / sd_x + mu_y
            assert torch.allclose(out[n, c].double(), expected, atol=1e-5)


def test_adain_output_has_the_style_statistics():
    x, y = _rand(3, 8, 10, 10, seed=3) * 4, _rand(3, 8, 6, 6, seed=4) + 2
    mu_out, sd_out = mean_std(adain.adain(x, y))
    mu_y, sd_y = mean_std(y)
    assert torch.allclose(mu_out, mu_y, atol=1e-5)
    assert torch.allclose(sd_out, sd_y, atol=1e-3)


def test_flat_style_works_thanks_to_eps(net):
    x, flat = _rand(2, 4, 8, 8, seed=5), torch.full((2, 4, 5, 5), 0.3)
    out = adain.adain(x, flat)
    assert torch.isfinite(out).all()
    assert torch.allclose(out, torch.full_like(out, 0.3), atol=1e-2)   # σ(y) = sqrt(eps): nearly flat
    image = stylize(net, _rand(1), torch.zeros(1, 3, 32, 32))          # a flat grey style image
    assert torch.isfinite(image).all() and image.shape == (1, 3, 32, 32)


def test_adain_rejects_mismatched_features():
    with pytest.raises(ValueError, match="same N×C"):
        adain.adain(torch.zeros(1, 4, 3, 3), torch.zeros(1, 5, 3, 3))
    with pytest.raises(ValueError, match="N×C×H×W"):
        adain.adain(torch.zeros(4, 3, 3), torch.zeros(1, 4, 3, 3))


# ----------------------------------------------------------------------------- the networks

def test_encoder_follows_vgg19_up_to_relu4_1():
    enc = VGGEncoder(EncoderConfig.paper())
    convs = list(enc.convs.items())
    assert [name for name, _ in convs] == [n for n in VGG19_PLAN if n != "pool"]
    assert [c.out_channels for _, c in convs] == [64, 64, 128, 128, 256, 256, 256, 256, 512]
    assert all(c.kernel_size == (3, 3) and c.padding == (0, 0) for _, c in convs)  # reflection pad
    feats = enc(torch.zeros(1, 3, 32, 32))
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 32, 32), (128, 16, 16), (256, 8, 8), (512, 4, 4)]


def test_paper_encoder_never_downloads(tmp_path):
    with pytest.raises(ValueError, match="never downloads"):
        VGGEncoder(EncoderConfig.paper(str(tmp_path / "vgg19.pth")))


def test_paper_encoder_reads_torchvision_layout(tmp_path):
    plain = VGGEncoder(EncoderConfig.paper())
    index = {"conv1_1": 0, "conv1_2": 2, "conv2_1": 5, "conv2_2": 7, "conv3_1": 10, "conv3_2": 12,
             "conv3_3": 14, "conv3_4": 16, "conv4_1": 19}
    state = {f"features.{index[n]}.{p}": torch.randn_like(getattr(c, p)) for n, c in plain.convs.items()
             for p in ("weight", "bias")}
    torch.save(state, tmp_path / "vgg19.pth")
    loaded = VGGEncoder(EncoderConfig.paper(str(tmp_path / "vgg19.pth")))
    assert torch.equal(loaded.convs["conv3_4"].weight, state["features.16.weight"])


def test_decoder_mirrors_the_encoder_and_restores_the_size(net):
    plan = decoder_plan((64, 128, 256, 512))
    convs = [(n, i, o) for n, i, o in plan if n != "upsample"]
    assert convs[0] == ("conv4_1", 512, 256) and convs[-1] == ("conv1_1", 64, 3)
    assert [n for n, _, _ in plan].count("upsample") == 3
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) for m in net.decoder.modules())
    t = adain.encode(net, _rand(2, h=40, w=56))
    assert t.shape == (2, 16, 5, 7)
    assert net.decoder(t).shape == (2, 3, 40, 56)


@pytest.mark.parametrize("step", [0, SMALL.warmup_steps], ids=["warm-up", "eq-11"])
def test_training_step_trains_only_the_decoder(step):
    recipe = AdaINRecipe()
    modules = recipe.build(SMALL)
    opt = recipe.optimizers(modules, SMALL)
    before = {k: v.clone() for k, v in modules["net"].state_dict().items()}
    batch = {"content": _rand(2, seed=6), "style": _rand(2, seed=7)}
    out = recipe.training_step(modules, opt, batch, step, SMALL)
    assert set(out) == {"loss", "content", "style"} and torch.isfinite(out["loss"])
    after = modules["net"].state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("encoder."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("decoder."))


def test_warm_up_inverts_the_encoder_then_eq_11_alone():
    """Before warmup_steps: the L1 pixel loss of g(f(c)) alone, at warmup_lr; from then on:
    Eq. 11 alone, at lr (decayed from the end of the warm-up)."""
    config = dataclasses.replace(SMALL, warmup_steps=3, warmup_lr=1e-3, lr=1e-4)
    recipe = AdaINRecipe()
    content, style = _rand(2, seed=30), _rand(2, seed=31)
    for step, warm in ((0, True), (2, True), (3, False)):
        torch.manual_seed(0)
        modules = recipe.build(config)
        with torch.no_grad():
            if warm:
                output, _ = modules["net"](content, content)
                expected = F.l1_loss(output, content)
            else:
                _, (lc, ls) = modules["net"](content, style)
                expected = lc + config.style_weight * ls
        opt = recipe.optimizers(modules, config)
        out = recipe.training_step(modules, opt, {"content": content, "style": style}, step, config)
        assert torch.allclose(out["loss"], expected, atol=1e-6), f"step {step}"
        assert opt["decoder"].param_groups[0]["lr"] == pytest.approx(1e-3 if warm else 1e-4), f"step {step}"
    assert AdaINRecipe.presets["paper"].warmup_steps == 0, "the paper preset trains on Eq. 11 alone"


def test_forward_returns_the_raw_output_and_both_losses(net):
    content, style = _rand(2, seed=32), _rand(2, seed=33)
    output, losses = net(content, style)
    assert output.shape == content.shape and losses.shape == (2,)
    t = adain.adain(net.encoder.encode(content), net.encoder.encode(style))
    assert torch.equal(output, net.decoder(t))                        # not clamped: the paper's g(t)
    scores = adain.losses(net, content, style, output.clamp(-1, 1))
    assert torch.isfinite(losses).all() and scores["content"].shape == (2,)


def test_the_trainer_hands_the_encoder_to_build():
    recipe = AdaINRecipe()
    assert recipe.starts_from(AdaINRecipe.presets["course"]) == {"encoder": "adain-encoder"}
    assert recipe.starts_from(AdaINRecipe.presets["paper"]) == {}
    config = dataclasses.replace(SMALL, encoder="small-encoder")
    torch.manual_seed(1)
    encoder = VGGEncoder(config.encoder_config())
    net = recipe.build(config, encoder=encoder)["net"]
    assert all(torch.equal(a, b) for a, b in zip(net.encoder.state_dict().values(),
                                                 encoder.state_dict().values()))
    assert not any(p.requires_grad for p in net.encoder.parameters())
    with pytest.raises(ValueError, match="not a VGGEncoder of widths"):
        recipe.build(config, encoder=VGGEncoder(EncoderConfig(widths=(4, 8, 16, 16))))
    with pytest.raises(ValueError, match="not a VGGEncoder"):
        recipe.build(config)


# ----------------------------------------------------------------------------- the controls

def test_alpha_zero_decodes_the_content_features(net):
    content, style = _rand(1, seed=8), _rand(1, seed=9)
    f_c = adain.encode(net, content)
    assert torch.equal(adain.blend(f_c, adain.target(f_c, [adain.encode(net, style)]), 0.0), f_c)
    assert torch.allclose(stylize(net, content, style, alpha=0.0), adain.decode(net, f_c))


def test_interpolation_with_one_hot_weights_is_that_style(net):
    content, a, b = _rand(1, seed=10), _rand(1, seed=11), _rand(1, seed=12)
    assert torch.allclose(stylize(net, content, [a, b], weights=[1.0, 0.0]), stylize(net, content, a),
                          atol=1e-6)


def test_spatial_control_with_a_full_mask_is_the_first_style(net):
    content, a, b = _rand(1, seed=13), _rand(1, seed=14), _rand(1, seed=15)
    full = torch.ones(1, 1, 32, 32)
    assert torch.allclose(stylize(net, content, [a, b], mask=full), stylize(net, content, a), atol=1e-5)


def test_colour_preservation_gives_the_style_the_contents_colours():
    style, content = _rand(1, seed=16) * 0.5, _rand(1, seed=17) * 0.3 + 0.2
    matched = adain.match_colour(style, content)
    assert torch.allclose(matched.mean((2, 3)), content.mean((2, 3)), atol=1e-3)


@pytest.mark.parametrize("call, message", [
    (lambda n, c, s: stylize(n, c[0], s), "N×3×H×W"),
    (lambda n, c, s: stylize(n, c * 2, s), r"\[-1, 1\]"),
    (lambda n, c, s: stylize(n, c, s * 3), r"\[-1, 1\]"),
    (lambda n, c, s: stylize(n, c, s, alpha=1.5), r"alpha.*\[0, 1\]"),
    (lambda n, c, s: stylize(n, c, s, alpha=-0.1), r"alpha.*\[0, 1\]"),
    (lambda n, c, s: stylize(n, c, [s, s], weights=[0.5, 0.6]), "sum to 1"),
    (lambda n, c, s: stylize(n, c, [s, s], weights=[1.0]), "expected 2 style weights"),
    (lambda n, c, s: stylize(n, c, []), "at least one style"),
    (lambda n, c, s: stylize(n, c, [s, s], mask=torch.ones(1, 1, 16, 16)), "×1×32×32 to match"),
    (lambda n, c, s: stylize(n, c, [s, s, s], mask=torch.ones(1, 1, 32, 32)), "exactly two styles"),
    (lambda n, c, s: stylize(n, c[:, :, :30], s), "multiples of 8"),
    (lambda n, c, s: stylize(nn.Identity(), c, s), "StyleTransferNet"),
])
def test_bad_inputs_raise_clear_errors(net, call, message):
    with pytest.raises(ValueError, match=message):
        call(net, _rand(1, seed=18), _rand(1, seed=19))


def test_gatys_lowers_the_loss_and_stops_when_converged(net):
    content, style = _rand(1, seed=20), _rand(1, seed=21)
    run = adain.gatys(net, content, style, max_steps=40, lr=0.05)
    total = [c + SMALL.style_weight * s for c, s in zip(run.content_losses, run.style_losses)]
    assert total[-1] < total[0] and run.image.shape == content.shape
    short = adain.gatys(net, content, style, max_steps=200, lr=1e-6, window=5)
    assert short.converged and short.iterations < 200


# ----------------------------------------------------------------------------- widgets

def test_alpha_widget_draws_the_librarys_result(net):
    content, style = _rand(1, seed=22), _rand(1, seed=23)
    box = alpha_widget(net, content, style)
    for alpha in (0.0, 0.35, 1.0):
        box.controls["alpha"].value = alpha
        assert box.image.value == png_bytes(stylize(net, content, style, alpha=alpha), scale=box.scale)
    assert box.scale == display_scale(32, 32) and box.last_render_ms > 0
    assert box.inputs in box.children and box.image.value != box.inputs.children[1].value
    with pytest.raises(ValueError, match=r"alpha.*\[0, 1\]"):
        alpha_widget(net, content, style, alpha=1.5)
    with pytest.raises(ValueError, match="one image"):
        alpha_widget(net, torch.cat([content, content]), style)


def test_interpolation_and_spatial_widgets_match_the_library(net):
    content, a, b = _rand(1, seed=24), _rand(1, seed=25), _rand(1, seed=26)
    box = style_interpolation_widget(net, content, [a, b])
    box.controls["w1"].value = 0.25
    assert box.weights() == pytest.approx([0.8, 0.2])
    assert box.image.value == png_bytes(stylize(net, content, [a, b], weights=box.weights()),
                                        scale=box.scale)
    box.controls["w0"].value, box.controls["w1"].value = 0.0, 0.0
    assert box.weights() == pytest.approx([0.5, 0.5])
    box = spatial_widget(net, content, a, b)
    box.controls["mask"].value = "top half"
    box.controls["alpha"].value = 0.6
    expected = stylize(net, content, [a, b], alpha=0.6, mask=default_masks(32)["top half"])
    assert box.image.value == png_bytes(expected, scale=box.scale)
    with pytest.raises(ValueError, match="2 to 4"):
        style_interpolation_widget(net, content, [a])


def test_the_inputs_row_fits_beside_the_controls(net):
    content = _rand(1, h=256, w=256, seed=27)
    styles = [_rand(1, h=256, w=256, seed=28 + k) for k in range(3)]
    box = style_interpolation_widget(net, content, styles)
    picture = box.inputs.children[1]
    width = int(picture.layout.width[:-2])
    assert width <= MAX_WIDTH and Image.open(io.BytesIO(picture.value)).size == (
        width, int(picture.layout.height[:-2]))
    assert box.display_size == (256, 256)


# ----------------------------------------------------------------------------- the style world

def test_style_world_is_seeded_and_holds_out_families():
    from course_lib.data import HELD_OUT_FAMILIES, STYLE_FAMILIES, TRAINED_FAMILIES, styles

    assert set(HELD_OUT_FAMILIES).isdisjoint(TRAINED_FAMILIES)
    assert set(STYLE_FAMILIES) == set(TRAINED_FAMILIES) | set(HELD_OUT_FAMILIES)
    a, names = styles(8, size=32, seed=3)
    b, _ = styles(8, size=32, seed=3)
    assert torch.equal(a, b) and names == list(STYLE_FAMILIES)
    assert a.shape == (8, 3, 32, 32) and a.min() >= -1 and a.max() <= 1
    assert not torch.equal(a, styles(8, size=32, seed=4)[0])
    with pytest.raises(ValueError, match="families"):
        styles(2, families=["cubism"])


def test_style_pairs_keep_held_out_families_out():
    pairs = adain.StylePairs(dataclasses.replace(SMALL, contents=3, styles=8))
    assert len(pairs) == 3 * 8
    item = pairs[5]
    assert item["content"].shape == item["style"].shape == (3, 32, 32)
