import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import glcic
from course_lib.glcic import (CompletionNetwork, ContextDiscriminator, GLCICRecipe, complete, crop_local,
                              hole_mse, joint_loss, network_input, phase, poisson_blend,
                              random_holes, receptive_field)
from course_lib.images import rect_mask

COURSE = GLCICRecipe.presets["course"]
PAPER = GLCICRecipe.presets["paper"]

# Table 1 of Iizuka et al. 2017: (type, kernel, dilation, stride, outputs); "deconv" stride 2 = 1/2
PAPER_COMPLETION = [
    ("conv", 5, 1, 1, 64), ("conv", 3, 1, 2, 128), ("conv", 3, 1, 1, 128), ("conv", 3, 1, 2, 256),
    ("conv", 3, 1, 1, 256), ("conv", 3, 1, 1, 256),
    ("conv", 3, 2, 1, 256), ("conv", 3, 4, 1, 256), ("conv", 3, 8, 1, 256), ("conv", 3, 16, 1, 256),
    ("conv", 3, 1, 1, 256), ("conv", 3, 1, 1, 256),
    ("deconv", 4, 1, 2, 128), ("conv", 3, 1, 1, 128), ("deconv", 4, 1, 2, 64), ("conv", 3, 1, 1, 32),
    ("conv", 3, 1, 1, 3),
]
# Table 2: the local discriminator (128-px patch) and the global one (256-px image), then FC 1024 each
PAPER_LOCAL = [64, 128, 256, 512, 512]
PAPER_GLOBAL = [64, 128, 256, 512, 512, 512]


def _conv_rows(module: nn.Module):
    rows = []
    for m in module.modules():
        if isinstance(m, nn.ConvTranspose2d):
            rows.append(("deconv", m.kernel_size[0], m.dilation[0], m.stride[0], m.out_channels))
        elif isinstance(m, nn.Conv2d):
            rows.append(("conv", m.kernel_size[0], m.dilation[0], m.stride[0], m.out_channels))
    return rows


def test_paper_completion_network_matches_table_1():
    net = CompletionNetwork(PAPER)
    assert _conv_rows(net) == PAPER_COMPLETION
    first = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 4  # RGB with the hole filled, plus the mask
    for m in net.modules():       # padding keeps the size (stride 1) or halves it (stride 2)
        if isinstance(m, nn.Conv2d) and not isinstance(m, nn.ConvTranspose2d):
            assert m.padding[0] == m.dilation[0] * (m.kernel_size[0] - 1) // 2


def test_paper_discriminators_match_table_2():
    d = ContextDiscriminator(PAPER)
    for part, widths in ((d.local_discriminator, PAPER_LOCAL), (d.global_discriminator, PAPER_GLOBAL)):
        assert _conv_rows(part) == [("conv", 5, 1, 2, w) for w in widths]
        fc = [m for m in part.modules() if isinstance(m, nn.Linear)]
        assert len(fc) == 1 and fc[0].out_features == 1024 and fc[0].in_features == 512 * 4 * 4
    assert (d.to_logit.in_features, d.to_logit.out_features) == (2048, 1)


def test_paper_network_runs_at_256():
    net = CompletionNetwork(PAPER).eval()
    x = network_input(torch.zeros(1, 3, 256, 256), rect_mask(1, 256, 64, 64, 100, 100))
    with torch.no_grad():
        assert net(x).shape == (1, 3, 256, 256)


def test_shapes_and_range_course():
    net, disc = CompletionNetwork(COURSE).eval(), ContextDiscriminator(COURSE).eval()
    images = torch.rand(2, 3, 128, 128) * 2 - 1
    mask, centres = random_holes(2, 128, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = net(network_input(images, mask))
        logits = disc(out, crop_local(out, centres, COURSE.local_size))
    assert out.shape == images.shape and out.abs().max() <= 1
    assert logits.shape == (2,)


def test_network_input_fills_the_hole_with_the_mean_colour():
    image = torch.zeros(1, 3, 8, 8)
    image[:, 0] = 0.5
    mask = rect_mask(1, 8, 2, 2, 3, 3)
    image = image * (1 - mask) + mask * -1   # the hole's content must not leak in
    x = network_input(image, mask)
    assert x.shape == (1, 4, 8, 8) and torch.equal(x[:, 3:], mask)
    assert torch.allclose(x[0, :3, 3, 3], torch.tensor([0.5, 0.0, 0.0]))


def test_receptive_field_of_the_dilated_middle():
    rf = receptive_field(glcic.completion_table(PAPER))
    assert rf[5] == 31 and rf[9] == 271  # before and after the four dilated layers: +4·2·(2+4+8+16)
    plain = dataclasses.replace(PAPER, dilations=(1, 1, 1, 1))
    assert receptive_field(glcic.completion_table(plain))[9] == 31 + 4 * 2 * 4


def test_random_holes_count_size_and_coverage():
    g = torch.Generator().manual_seed(1)
    masks, centres = random_holes(64, 128, count=(1, 3), hole_size=(20, 50), coverage=(0.10, 0.25),
                                  generator=g)
    assert masks.shape == (64, 1, 128, 128) and masks.dtype == torch.float32
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    cover = masks.mean((1, 2, 3))
    assert cover.min() >= 0.10 and cover.max() <= 0.25
    assert centres.shape == (64, 2) and centres.dtype == torch.int64
    assert all(masks[i, 0, r, c] == 1 for i, (r, c) in enumerate(centres.tolist()))
    again, _ = random_holes(64, 128, count=(1, 3), hole_size=(20, 50), coverage=(0.10, 0.25),
                            generator=torch.Generator().manual_seed(1))
    assert torch.equal(masks, again)


def test_random_holes_sizes_in_range():
    masks, _ = random_holes(32, 64, count=(1, 1), hole_size=(8, 12),
                            generator=torch.Generator().manual_seed(0))
    for m in masks[:, 0]:
        rows, cols = torch.nonzero(m, as_tuple=True)
        assert 8 <= rows.max() - rows.min() + 1 <= 12 and 8 <= cols.max() - cols.min() + 1 <= 12


def test_random_holes_bad_arguments():
    with pytest.raises(ValueError, match="hole_size"):
        random_holes(1, 32, hole_size=(40, 50))
    with pytest.raises(ValueError, match="coverage"):
        random_holes(1, 32, hole_size=(4, 8), coverage=(0.5, 0.2))
    with pytest.raises(ValueError, match="positive int"):
        random_holes(0, 32)


def test_crop_local_is_centred_on_the_hole():
    images = torch.arange(128 * 128, dtype=torch.float32).view(1, 1, 128, 128).repeat(1, 3, 1, 1)
    mask = rect_mask(1, 128, 40, 50, 20, 30)
    centre = torch.tensor([[50, 65]])                                  # the rectangle's centre (row, col)
    patch = crop_local(mask, centre, 64)
    assert patch.shape == (1, 1, 64, 64)
    rows, cols = torch.nonzero(patch[0, 0], as_tuple=True)
    assert (rows.min() + rows.max() + 1) / 2 == 32 and (cols.min() + cols.max() + 1) / 2 == 32
    assert crop_local(images, centre, 64)[0, 0, 0, 0] == 18 * 128 + 33   # top-left at (18, 33)
    corner = crop_local(images, torch.tensor([[2, 126]]), 64)           # moved inside the image
    assert corner[0, 0, 0, 0] == 64 and corner.shape == (1, 3, 64, 64)


def test_crop_local_bad_inputs():
    with pytest.raises(ValueError, match="centres"):
        crop_local(torch.zeros(2, 3, 32, 32), torch.zeros(1, 2, dtype=torch.int64), 16)
    with pytest.raises(ValueError, match="does not fit"):
        crop_local(torch.zeros(1, 3, 32, 32), torch.zeros(1, 2, dtype=torch.int64), 64)


def _laplacian(x: np.ndarray) -> np.ndarray:
    return 4 * x[1:-1, 1:-1] - x[:-2, 1:-1] - x[2:, 1:-1] - x[1:-1, :-2] - x[1:-1, 2:]


def test_poisson_blend_solves_the_equation():
    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 32, 32, generator=g) * 2 - 1
    source = (torch.rand(1, 3, 32, 32, generator=g) * 0.4 - 0.2).clamp(-1, 1)
    source = (source + 0.1 * torch.linspace(-1, 1, 32)).clamp(-1, 1)
    mask = rect_mask(1, 32, 8, 10, 14, 12)
    out = poisson_blend(image, source, mask)
    assert out.shape == image.shape
    assert torch.equal(out * (1 - mask), image * (1 - mask))   # known pixels kept exactly
    hole = mask[0, 0].numpy() > 0
    inner = hole[1:-1, 1:-1]
    for c in range(3):
        lap_out = _laplacian(out[0, c].double().numpy())
        lap_src = _laplacian(source[0, c].double().numpy())
        assert np.abs(lap_out[inner] - lap_src[inner]).max() < 1e-4


def test_poisson_blend_removes_a_constant_offset():
    image = torch.linspace(-0.5, 0.5, 24).view(1, 1, 1, 24).expand(1, 3, 24, 24).contiguous()
    mask = rect_mask(1, 24, 6, 6, 10, 10)
    shifted = (image + 0.3).clamp(-1, 1)   # same gradients, wrong brightness
    out = poisson_blend(image, shifted, mask)
    assert torch.allclose(out, image, atol=1e-5)


def test_poisson_blend_hole_at_the_border_and_bad_inputs():
    image = torch.zeros(2, 3, 16, 16)
    out = poisson_blend(image, torch.full_like(image, 0.5), rect_mask(1, 16, 0, 0, 6, 16))
    assert torch.allclose(out, image, atol=1e-6)   # only the known pixels fix the level
    with pytest.raises(ValueError, match="match"):
        poisson_blend(image, torch.zeros(2, 3, 8, 8), rect_mask(1, 16, 0, 0, 4, 4))
    with pytest.raises(ValueError, match="mask"):
        poisson_blend(image, image, torch.zeros(2, 16, 16))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        poisson_blend(image + 3, image, rect_mask(1, 16, 0, 0, 4, 4))


def test_complete_keeps_the_known_pixels():
    torch.manual_seed(0)
    net = CompletionNetwork(COURSE)
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    mask = rect_mask(1, 64, 10, 20, 16, 16)
    for blend in (False, True):
        out = complete(net, image, mask, blend=blend)
        assert out.shape == image.shape
        assert torch.equal(out * (1 - mask), image * (1 - mask))
        assert not torch.equal(out * mask, image * mask)
    assert net.training   # complete() restores the mode it found


def test_complete_blends_the_raw_output_so_a_colour_offset_vanishes():
    image = torch.linspace(-0.5, 0.5, 64).view(1, 1, 1, 64).expand(2, 3, 64, 64).contiguous()
    mask = rect_mask(1, 64, 20, 20, 24, 24)

    class Offset(CompletionNetwork):   # "predicts" the real image, 0.3 too bright
        def forward(self, x):
            return (image + 0.3).clamp(-1, 1)

    net = Offset(COURSE)
    assert (complete(net, image, mask, blend=False) - image).abs().max() > 0.29   # the seam
    assert torch.allclose(complete(net, image, mask, blend=True), image, atol=1e-5)


def test_complete_bad_inputs():
    net = CompletionNetwork(COURSE)
    with pytest.raises(ValueError, match="CompletionNetwork"):
        complete(nn.Identity(), torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match="N×1×H×W"):
        complete(net, torch.zeros(1, 3, 64, 64), torch.zeros(1, 64, 64))
    with pytest.raises(ValueError, match="multiples of 4"):
        complete(net, torch.zeros(1, 3, 62, 62), torch.zeros(1, 1, 62, 62))
    with pytest.raises(ValueError, match="add a batch axis"):
        complete(net, torch.zeros(3, 64, 64), torch.zeros(1, 1, 64, 64))


def test_losses():
    real, out = torch.zeros(2, 3, 8, 8), torch.ones(2, 3, 8, 8)
    mask = rect_mask(2, 8, 0, 0, 4, 8)   # half of each image
    assert hole_mse(out, real, mask) == pytest.approx(0.5)
    logits = torch.tensor([-2.0, 0.0])
    assert joint_loss(out, real, mask, logits, alpha=0.0) == pytest.approx(0.5)
    bce = torch.nn.functional.softplus(-logits).mean()
    assert joint_loss(out, real, mask, logits, alpha=0.5) == pytest.approx(0.5 + 0.5 * float(bce))
    assert GLCICRecipe.presets["course"].alpha == PAPER.alpha == 0.0004


def test_phases():
    assert [phase(s, COURSE) for s in (0, COURSE.tc_steps - 1, COURSE.tc_steps,
                                       COURSE.tc_steps + COURSE.td_steps)] == ["Tc", "Tc", "Td", "Ttrain"]
    mse = GLCICRecipe.presets["course-mse"]
    assert phase(GLCICRecipe.settings["course-mse"].steps, mse) == "Tc"
    gan = dataclasses.replace(GLCICRecipe.presets["course-gan"], init_completion="")
    assert phase(0, gan) == "Td" and phase(gan.td_steps, gan) == "Ttrain"


def test_each_phase_trains_its_own_players():
    recipe = GLCICRecipe()
    config = dataclasses.replace(COURSE, tc_steps=1, td_steps=1, feature_dim=16, width=4, disc_width=4)
    torch.manual_seed(0)
    modules = recipe.build(config)
    optimizers = recipe.optimizers(modules, config)
    batch = {"image": torch.rand(2, 3, 128, 128) * 2 - 1}
    for step, changes in ((0, {"completion_net"}), (1, {"discriminator"}),
                          (2, {"completion_net", "discriminator"})):
        before = {k: [p.detach().clone() for p in m.parameters()] for k, m in modules.items()}
        losses = recipe.training_step(modules, optimizers, batch, step, config)
        assert all(np.isfinite(float(v)) for v in losses.values())
        changed = {k for k, m in modules.items()
                   if any(not torch.equal(a, p) for a, p in zip(before[k], m.parameters()))}
        assert changed == changes, (step, changed)
    assert recipe.samples(modules, config, batch).shape == (6, 3, 128, 128)


def test_hole_widget_draws_the_completion_the_library_computes():
    from course_lib.images import png_bytes
    from course_lib.widgets import hole_widget

    torch.manual_seed(0)
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    net = CompletionNetwork(COURSE)
    box = hole_widget(net, image)
    assert set(box.controls) == {"top", "left", "height", "width"}
    box.controls["top"].value = 5
    box.controls["width"].value = 40
    mask = rect_mask(1, 64, 5, 21, 21, 40)
    expected = torch.cat([image * (1 - mask) + mask, complete(net, image, mask)])
    assert box.image.value == png_bytes(expected, scale=box.scale)
    box.controls["left"].value = 63                     # the rectangle is cut to the image
    mask = rect_mask(1, 64, 5, 63, 21, 1)
    expected = torch.cat([image * (1 - mask) + mask, complete(net, image, mask)])
    assert box.image.value == png_bytes(expected, scale=box.scale)


def test_shipped_checkpoints_fill_better_than_the_mean_colour():
    from course_lib import data, pretrained
    from course_lib.inpainting import mean_fill
    from course_lib.metrics import hole_psnr

    images, _, _ = data.landscapes(8, size=128, seed=20_000)
    masks, _ = random_holes(8, 128, count=(1, 3), hole_size=(16, 64), coverage=(0.10, 0.25),
                            generator=torch.Generator().manual_seed(20_000))
    baseline = float(hole_psnr(images, mean_fill(images, masks), masks).mean())
    for name in ("glcic-landscapes128", "glcic-landscapes128-mse"):
        entry = pretrained.info(name)
        assert entry["recipe"] == "glcic" and entry["bytes"] < 10 * 2**20
        net = pretrained.load(name)
        assert isinstance(net, CompletionNetwork) and not net.training
        for blend in (False, True):
            filled = complete(net, images, masks, blend=blend)
            assert float(hole_psnr(images, filled, masks).mean()) > baseline + 1.5, (name, blend)


def test_ablation_discriminators_see_only_their_input():
    """``discriminators="global"`` judges the whole image only, ``"local"`` the patch only; the
    ablation presets differ from each other in that and in the MSE-only run's phase alone."""
    small = dataclasses.replace(COURSE, feature_dim=16, disc_width=4)
    torch.manual_seed(0)
    images, patches = torch.rand(2, 3, 128, 128) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    other_images, other_patches = torch.rand(2, 3, 128, 128) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    for which, same_when in (("global", "patches"), ("local", "images")):
        d = ContextDiscriminator(dataclasses.replace(small, discriminators=which)).eval()
        assert d.uses == (which,) and d.to_logit.in_features == small.feature_dim
        out = d(images, patches)
        changed_other = d(images, other_patches) if same_when == "patches" else d(other_images, patches)
        changed_own = d(other_images, patches) if same_when == "patches" else d(images, other_patches)
        assert torch.equal(out, changed_other), which          # the input it ignores
        assert not torch.allclose(out, changed_own), which     # the input it judges
    both = ContextDiscriminator(small)
    assert both.uses == ("global", "local") and both.to_logit.in_features == 2 * small.feature_dim
    with pytest.raises(ValueError, match="discriminators must be one of"):
        ContextDiscriminator(dataclasses.replace(small, discriminators="middle"))
    presets = {k: v for k, v in GLCICRecipe.presets.items() if k.startswith("ablation-")}
    assert {k: v.discriminators for k, v in presets.items() if k != "ablation-mse"} == {
        "ablation-both": "both", "ablation-global": "global", "ablation-local": "local"}
    budgets = [GLCICRecipe.settings[k] for k in presets]
    assert all(b == budgets[0] for b in budgets)        # one budget for all four
    from course_lib import pretrained
    for name in presets:                                 # the preset reproduces what shipped
        assert pretrained.info(name.replace("ablation-", "glcic-ablation-"))["steps"] == budgets[0].steps
    assert {v.init_completion for v in presets.values()} == {"glcic-landscapes128-mse"}
    assert phase(10 ** 6, presets["ablation-mse"]) == "Tc" and phase(0, presets["ablation-local"]) == "Td"
