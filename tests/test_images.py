import numpy as np
import torch
from PIL import Image

from course_lib import images as I


def test_numpy_round_trip_is_exact_for_uint8():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(2, 5, 7, 3), dtype=np.uint8)
    x = I.from_numpy(a)
    assert x.shape == (2, 3, 5, 7) and x.dtype == torch.float32
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    assert np.array_equal(I.to_numpy(x), a)


def test_grey_and_float_arrays():
    x = I.from_numpy(np.zeros((4, 6), dtype=np.uint8))
    assert x.shape == (1, 3, 4, 6) and float(x.max()) == -1.0
    y = I.from_numpy(np.ones((4, 6, 3), dtype=np.float32))
    assert float(y.min()) == 1.0


def test_pil_round_trip_and_load(tmp_path):
    a = np.zeros((20, 40, 3), dtype=np.uint8)
    a[:, 20:] = 255  # right half white
    Image.fromarray(a).save(tmp_path / "half.png")
    x = I.load_image(tmp_path / "half.png")
    assert x.shape == (1, 3, 20, 40)
    assert np.array_equal(np.asarray(I.to_pil(x)), a)
    sq = I.load_image(tmp_path / "half.png", size=10)  # centre crop keeps both halves
    assert sq.shape == (1, 3, 10, 10)
    assert float(sq[..., :3].mean()) < -0.9 and float(sq[..., -3:].mean()) > 0.9
    (tmp_path / "bad.png").write_bytes(b"not an image")
    try:
        I.load_image(tmp_path / "bad.png")
    except ValueError as err:
        assert "not an image" in str(err)
    else:
        raise AssertionError("a corrupt file must raise ValueError")


def test_rect_mask_and_colorize():
    m = I.rect_mask(2, 8, top=2, left=3, height=4, width=2)
    assert m.shape == (2, 1, 8, 8) and float(m.sum()) == 2 * 8
    assert float(m[0, 0, 2, 3]) == 1 and float(m[0, 0, 1, 3]) == 0
    labels = torch.tensor([[[0, 1], [1, 0]]])
    rgb = I.colorize_labels(labels, [(0, 0, 0), (255, 255, 255)])
    assert rgb.shape == (1, 3, 2, 2)
    assert torch.equal(rgb[0, :, 0, 1], torch.ones(3)) and torch.equal(rgb[0, :, 0, 0], -torch.ones(3))


def test_tile_layout_and_png():
    x = -torch.ones(5, 3, 4, 4)
    x[1] = 1
    t = I.tile(x, nrow=3, pad=1)
    assert t.shape == (2 * 4 + 1, 3 * 4 + 2, 3)
    assert t[0, 5, 0] == 255 and t[0, 0, 0] == 0 and t[0, 4, 0] == 255  # image 1 white, pad white
    png = I.png_bytes(x, scale=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_have_titles():
    import matplotlib

    matplotlib.use("Agg")
    fig = I.grid(torch.zeros(3, 3, 8, 8), nrow=2, titles=["a", "b", "c"], title="three")
    assert fig._suptitle.get_text() == "three"
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    fig2 = I.show([torch.zeros(1, 3, 8, 8), torch.zeros(3, 8, 8)], titles=["before", "after"])
    assert len([ax for ax in fig2.axes if ax.get_title()]) == 2


def test_panel_titles_get_room_above_each_row():
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    plain = I.grid(torch.zeros(4, 3, 8, 8), nrow=2)
    titled = I.grid(torch.zeros(4, 3, 8, 8), nrow=2, titles=list("abcd"))
    assert titled.get_figheight() > plain.get_figheight()      # so a title does not cover the row above
    plt.close("all")
