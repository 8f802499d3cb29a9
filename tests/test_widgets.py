import ipywidgets as W
import pytest
import torch

from course_lib.widgets import image_widget


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


def test_bad_controls():
    with pytest.raises(ValueError, match="value widget"):
        image_widget(lambda: torch.zeros(1, 3, 4, 4), {"x": W.Button(description="no")})
    with pytest.raises(ValueError, match="callable"):
        image_widget("render", {"x": W.IntSlider()})
