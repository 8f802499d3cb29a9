"""GAN Dissection and GANPaint (lecture 07): the split, Eq. 1, interventions, adaptation, edits."""

import pytest
import torch

from course_lib import dissection, ganpaint, pretrained
from course_lib.data import HELD_OUT_SEED, landscapes
from course_lib.dcgan import DCGANConfig, Generator
from course_lib.dissection import Dissection, intervene, split, unit_iou
from course_lib.ganpaint import GANPaint, GANPaintConfig
from course_lib.layers import sample_z
from course_lib.stylegan import Generator as StyleGANGenerator
from course_lib.stylegan import StyleGANConfig

FAST = GANPaintConfig(z_steps=20, z_restarts=1, feature_steps=20, adapt_steps=30, units=4)


@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    return Generator(DCGANConfig(image_size=32, ngf=8, ndf=8)).eval()


@pytest.fixture(scope="module")
def dissected(generator):
    """A made-up dissection of the small generator's block1 (16 units × 8 classes)."""
    g = torch.Generator().manual_seed(1)
    iou = torch.rand(16, len(dissection.CLASS_NAMES), generator=g)
    return Dissection("block1", iou, torch.zeros(16), torch.full((16,), 2.0), 0.9, 10)


@pytest.fixture(scope="module")
def prepared(generator, dissected):
    photo = landscapes(1, size=32, seed=HELD_OUT_SEED)[0]
    painter = GANPaint(generator, dissected, FAST)
    return painter, painter.prepare(photo)


def test_split_composes_to_the_generator(generator):
    z = sample_z(3, 100, seed=0)
    for layer in ("project", "block1", "block2"):
        g_f, g_b = split(generator, layer)
        assert torch.equal(g_b(g_f(z)), generator(z)), layer
    assert split(generator, "block1")[0](z).shape == (3, 16, 8, 8)


def test_split_names_the_stages_and_refuses_what_is_not_a_stack(generator):
    with pytest.raises(ValueError, match="block1"):
        split(generator, "block9")
    sg = StyleGANGenerator(StyleGANConfig(image_size=8, channel_base=64, channel_max=16, w_dim=16,
                                          z_dim=16, mapping_layers=1))
    with pytest.raises(ValueError, match="not a plain stack"):
        split(sg, "b8")


def test_unit_iou_matches_a_hand_count():
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    labels[0, :2] = 1                                   # top half is class 1 (8 px)
    masks = torch.zeros(1, 2, 4, 4, dtype=torch.bool)
    masks[0, 0, :2, :2] = True                          # unit 0: 4 px, all inside class 1
    masks[0, 1, 1:3] = True                             # unit 1: 8 px, 4 in class 1
    inter, union = unit_iou(masks, labels, 3)
    iou = inter / union
    assert iou[0, 1] == pytest.approx(4 / 8)
    assert iou[1, 1] == pytest.approx(4 / 12)
    assert iou[0, 0] == pytest.approx(0.0)
    assert iou[1, 0] == pytest.approx(4 / 12)            # unit 1's lower 4 px over class 0's 8
    with pytest.raises(ValueError, match="N×H×W"):
        unit_iou(masks, labels[:, :2], 3)


def test_dissect_measures_every_unit_against_every_class(generator):
    segmenter = pretrained.load("segmenter-landscapes128")
    d = dissection.dissect(generator, segmenter, "block1", samples=20, batch_size=10, size=32)
    assert d.iou.shape == (16, len(dissection.CLASS_NAMES))
    assert ((d.iou >= 0) & (d.iou <= 1)).all()
    assert d.thresholds.shape == (16,) and (d.on_values >= d.thresholds).all()
    table = d.table()
    assert list(table.columns) == ["unit", "class", "iou"] and table["iou"].is_monotonic_decreasing


def test_top_units_and_unknown_concepts(dissected):
    c = dissection.CLASS_NAMES.index("tree")
    assert dissected.top_units("tree", 3) == dissected.iou[:, c].argsort(descending=True)[:3].tolist()
    with pytest.raises(ValueError, match="unknown concept 'dragon'.*tree"):
        dissected.top_units("dragon")


def test_intervene_changes_only_the_units_inside_the_region():
    r = torch.rand(2, 6, 8, 8) + 0.5
    before = r.clone()
    region = torch.zeros(1, 1, 32, 32)
    region[..., :16, :16] = 1                             # the top-left quarter: 4×4 of the 8×8
    added = intervene(r, [1, 4], "add", region, on_values=torch.full((6,), 9.0))
    removed = intervene(r, [1, 4], "remove", region)
    assert torch.equal(r, before)                          # never in place
    assert (added[:, [1, 4], :4, :4] == 9.0).all() and (removed[:, [1, 4], :4, :4] == 0).all()
    inside = torch.zeros(8, 8, dtype=torch.bool)
    inside[:4, :4] = True
    for out in (added, removed):
        assert torch.equal(out[:, [0, 2, 3, 5]], r[:, [0, 2, 3, 5]])
        assert torch.equal(out[:, [1, 4]][..., ~inside], r[:, [1, 4]][..., ~inside])
    with pytest.raises(ValueError, match="'add' or 'remove'"):
        intervene(r, [1], "paint")
    with pytest.raises(ValueError, match="unit indices"):
        intervene(r, [7], "remove")


def test_adaptation_improves_the_reconstruction(prepared):
    _, photo = prepared
    assert set(photo.psnr) == {"z", "features", "adapted"}
    assert photo.psnr["adapted"] > photo.psnr["features"] >= photo.psnr["z"] - 0.5
    assert all(d.abs().max() > 0 for d in photo.deltas.values())


def test_adaptation_loss_prices_relative_weight_changes():
    out, target = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    w = {"a": torch.full((10,), 2.0)}
    d = {"a": torch.full((10,), 0.2)}
    # MSE 1 + λ · (10·0.04)/(10·4) = 1 + 0.5 · 0.01
    assert float(ganpaint.adaptation_loss(out, target, d, w, 0.5)) == pytest.approx(1.005)


def test_edit_keeps_the_photo_outside_the_region_and_the_callers_tensor(prepared):
    painter, photo = prepared
    original = photo.photo.clone()
    region = torch.zeros(1, 1, 32, 32)
    region[..., 20:30, 4:14] = 1
    result = painter.edit(photo, region, "tree", "add")
    assert torch.equal(photo.photo, original)
    reach = 2 * FAST.feather                               # grown, then softened, by `feather` px
    far = torch.ones(32, 32, dtype=torch.bool)
    far[20 - reach:30 + reach, max(0, 4 - reach):14 + reach] = False   # beyond the feathered edge
    assert torch.equal(result.image[..., far], original[..., far])
    assert not torch.allclose(result.raw, result.before)   # the units did change the rendering
    assert result.units == painter.dissection.top_units("tree", FAST.units)


def test_bad_inputs_get_clear_errors(prepared, generator, dissected):
    painter, photo = prepared
    region = torch.zeros(1, 1, 32, 32)
    region[..., :4, :4] = 1
    with pytest.raises(ValueError, match="unknown concept 'dragon'"):
        painter.edit(photo, region, "dragon", "add")
    with pytest.raises(ValueError, match="region is empty"):
        painter.edit(photo, torch.zeros(1, 1, 32, 32), "tree", "add")
    with pytest.raises(ValueError, match="1×1×32×32"):
        painter.edit(photo, torch.ones(1, 1, 16, 16), "tree", "add")
    with pytest.raises(ValueError, match="mode must be one of"):
        painter.edit(photo, region, "tree", "paint")
    with pytest.raises(ValueError, match=r"\[-1, 1\]|range"):
        painter.prepare(torch.full((1, 3, 32, 32), 3.0))
    with pytest.raises(ValueError, match="1×3×32×32"):
        painter.prepare(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="mode must be one of"):
        ganpaint.edit(painter, photo.photo, region, "tree", "erase")


def test_editing_widget_draws_the_library_edit(prepared):
    from course_lib.images import tile
    from course_lib.widgets.ganpaint import editing_widget

    painter, photo = prepared
    w = editing_widget(painter, photo, concept="grass", mode="remove", scale=2, brush=6)
    assert w.result is None and torch.equal(w.image, photo.photo)
    w.stroke([(5, 5), (20, 8)])
    expected = painter.edit(photo, w.region, "grass", "remove")
    assert torch.equal(w.image, expected.image)
    assert int(w.region.sum()) > 20
    import numpy as np
    assert np.array_equal(tile(w.image, scale=2), tile(expected.image, scale=2))
    w.undo()
    assert w.result is None and not w.region.any()


def test_adaptation_of_the_shipped_generator_improves_from_its_first_steps():
    """Adam's first steps move every weight of G_B by about the learning rate: too large a one
    wrecks the reconstruction for a hundred steps (2e-3 went from 29 to 5 dB) before it recovers."""
    G = pretrained.load("dcgan-landscapes64").eval()
    with torch.no_grad():
        n_units = split(G, ganpaint.LAYER)[0](sample_z(1, G.latent_dim, seed=0)).shape[1]
    d = Dissection(ganpaint.LAYER, torch.zeros(n_units, len(dissection.CLASS_NAMES)), torch.zeros(n_units),
                   torch.ones(n_units), 0.9, 1)
    config = GANPaintConfig(z_steps=30, z_restarts=1, feature_steps=30, adapt_steps=10)
    painter = GANPaint(G, d, config)
    photo = painter.prepare(landscapes(1, size=64, seed=HELD_OUT_SEED)[0])
    assert photo.psnr["adapted"] > photo.psnr["features"]


def test_editing_widget_sends_the_browser_its_exact_pixels(prepared, monkeypatch):
    """ipycanvas encodes an RGB array as a JPEG (quality 75) and an RGBA array as a PNG: the
    canvases must get the lossless kind, so that the browser shows the edit's pixels."""
    import numpy as np
    from ipycanvas.utils import binary_image, image_bytes_to_array

    from course_lib.images import tile
    from course_lib.widgets.ganpaint import editing_widget

    painter, photo = prepared
    w = editing_widget(painter, photo, concept="tree", mode="add", scale=3, brush=6)
    sent = []
    monkeypatch.setattr(w.output, "put_image_data", lambda data, x=0, y=0: sent.append(data))
    w.stroke([(4, 20), (28, 20)])
    shown = image_bytes_to_array(binary_image(sent[-1]))[..., :3]     # what the browser decodes
    assert np.array_equal(shown, tile(w.image, scale=3))
