import io

import ipywidgets as W
import pytest
import torch
from PIL import Image

from course_lib.images import png_bytes
from course_lib.widgets import display_scale, image_widget


def test_slider_redraws_the_image():
    def render(level):
        return torch.full((2, 3, 8, 8), level / 10)

    box = image_widget(render, {"level": W.IntSlider(value=0, min=-10, max=10)}, title="demo")
    first = box.image.value
    assert first[:4] == b"\x89PNG"
    box.controls["level"].value = 5
    assert box.image.value != first
    assert box.last_render_ms >= 0
    assert "course-slider" in box.controls["level"]._dom_classes
    assert "course-image" in box.image._dom_classes


def test_nrow_lays_the_batch_out_in_rows():
    box = image_widget(lambda level: torch.full((6, 3, 8, 8), level / 10),
                       {"level": W.IntSlider(value=1)}, scale=1, nrow=3)
    width, height = Image.open(io.BytesIO(box.image.value)).size
    assert (width, height) == (3 * 8 + 2 * 2, 2 * 8 + 2)   # 3 a row, 2 rows, 2 px padding


def test_images_are_shown_at_a_chosen_size_never_stretched():
    box = image_widget(lambda level: torch.full((3, 3, 64, 64), level / 10), {"level": W.IntSlider(value=1)})
    width, height = Image.open(io.BytesIO(box.image.value)).size
    assert (width, height) == box.display_size and box.scale == display_scale(64, 3 * 64 + 4) == 3
    assert box.image.layout.width == f"{width}px" and box.image.layout.height == f"{height}px"
    assert width <= 640 and height <= 420                # beside a 300 px column on a 1366 px screen
    pixels = torch.tensor(list(Image.open(io.BytesIO(box.image.value)).convert("L").getdata()))
    assert len(set(pixels.tolist())) <= 2, "nearest-neighbour upscaling adds no blended colours"
    big = image_widget(lambda level: torch.zeros(1, 3, 256, 256), {"level": W.IntSlider(value=1)})
    assert big.scale == 1 and big.display_size == (256, 256)
    with pytest.raises(ValueError, match="scale must be a positive int"):
        image_widget(lambda level: torch.zeros(1, 3, 8, 8), {"level": W.IntSlider()}, scale=0)


def test_bad_controls():
    with pytest.raises(ValueError, match="value widget"):
        image_widget(lambda: torch.zeros(1, 3, 4, 4), {"x": W.Button(description="no")})
    with pytest.raises(ValueError, match="callable"):
        image_widget("render", {"x": W.IntSlider()})


def _tiny_stylegan():
    from course_lib.stylegan import Generator, StyleGANConfig

    torch.manual_seed(0)
    return Generator(StyleGANConfig(image_size=8, z_dim=8, w_dim=6, mapping_layers=2, channel_base=64,
                                    channel_max=8)).eval()


def _codes(G, *seeds):
    from course_lib.latent import sample_z

    with torch.no_grad():
        return [G.broadcast(G.mapping(sample_z(1, 8, seed=s))) for s in seeds]


def shows(box, expected: torch.Tensor, nrow=None) -> bool:
    """The widget's picture is exactly ``expected``, tiled and magnified as the widget says."""
    return box.image.value == png_bytes(expected, nrow=nrow, scale=box.scale)


def test_stylegan_widgets_redraw_from_python():
    from course_lib.latent import expression_transfer, morph
    from course_lib.widgets import mixing_widget, morph_widget, transfer_widget

    def synthesize(G, codes, space):
        return G.synthesize(codes, space)

    G = _tiny_stylegan()
    a, b, c = _codes(G, 1, 2, 3)
    box = morph_widget(G, a, b, frames=5)
    first = box.image.value
    box.controls["t"].value = 1.0
    assert box.image.value != first
    with torch.no_grad():
        expected = synthesize(G, torch.cat([a, morph(G, a, b, 1.0), b]), "w+")
    assert shows(box, expected)

    box = mixing_widget(G, a, b)
    assert box.controls["crossover"].max == G.num_ws
    before = box.image.value
    box.controls["crossover"].value = 0
    assert box.image.value != before
    with torch.no_grad():
        assert shows(box, synthesize(G, torch.cat([a, b, b]), "w+"))

    box = transfer_widget(G, c, a, b)
    before = box.image.value
    box.controls["strength"].value = 0.0
    assert box.image.value != before
    with torch.no_grad():
        assert shows(box, synthesize(G, torch.cat([a, b, c, c]), "w+"))
        box.controls["strength"].value = 1.5
        edited = expression_transfer(G, c, a, b, 1.5)
        assert shows(box, synthesize(G, torch.cat([a, b, c, edited]), "w+"))


def test_stylegan_widgets_check_their_codes():
    from course_lib.widgets import mixing_widget, morph_widget

    G = _tiny_stylegan()
    a, b = _codes(G, 1, 2)
    with pytest.raises(ValueError, match="one code"):
        morph_widget(G, torch.cat([a, b]), b)
    with pytest.raises(ValueError, match="at least 2"):
        morph_widget(G, a, b, frames=1)
    with pytest.raises(ValueError, match="expected w of shape"):
        mixing_widget(G, torch.zeros(1, 3), b)
