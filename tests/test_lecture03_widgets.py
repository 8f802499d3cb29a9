"""Lecture 03's widgets on the shipped StyleGAN, driven from Python as a student's slider would be.

Two held-out faces are embedded in W+ (a short search: the widgets only need two different
codes), then the morphing slider is moved and the image must change to exactly the morph at
the new position. The browser test (test_browser.py) moves the same slider in Chromium.
"""

import pytest
import torch

from course_lib import data, pretrained
from course_lib.images import png_bytes
from course_lib.inversion import InversionConfig, invert
from course_lib.latent import expression_transfer, morph
from course_lib.widgets import mixing_widget, morph_widget, transfer_widget


@pytest.fixture(scope="module")
def embedded():
    G = pretrained.load("stylegan-faces64")
    faces, _ = data.faces(3, seed=data.HELD_OUT_SEED)
    codes = invert(G, faces, InversionConfig(space="w+", steps=15, lr=0.1, perceptual_weight=0)).latent
    return G, codes


def test_morphing_slider_changes_the_image(embedded):
    G, codes = embedded
    box = morph_widget(G, codes[0:1], codes[1:2], frames=11)
    slider = box.controls["t"]
    assert (slider.min, slider.max, slider.value) == (0.0, 1.0, 0.5)
    middle = box.image.value
    for t in (0.0, 0.3, 1.0):
        before = box.image.value
        slider.value = t
        assert box.image.value != before, f"moving the slider to t = {t} did not change the image"
        with torch.no_grad():
            frame = G.synthesize(morph(G, codes[0:1], codes[1:2], t), "w+")
            ends = G.synthesize(codes[:2], "w+")
        assert box.image.value == png_bytes(torch.cat([ends[:1], frame, ends[1:]]), scale=box.scale)
    slider.value = 0.5
    assert box.image.value == middle                        # back where it started: the same picture


def test_mixing_and_transfer_sliders_draw_what_the_library_computes(embedded):
    G, codes = embedded
    a, b, c = codes[0:1], codes[1:2], codes[2:3]
    mixer = mixing_widget(G, a, b)
    mixer.controls["crossover"].value = 2
    with torch.no_grad():   # the widget draws the two ends once, as one batch, and the middle alone
        ends, middle = G.synthesize(torch.cat([a, b]), "w+"), G.synthesize(G.mix(a, b, 2), "w+")
    expected = torch.cat([ends[:1], middle, ends[1:]])
    assert mixer.image.value == png_bytes(expected, scale=mixer.scale)
    transfer = transfer_widget(G, c, a, b)
    transfer.controls["strength"].value = 0.5
    with torch.no_grad():
        fixed = G.synthesize(torch.cat([a, b, c]), "w+")
        expected = torch.cat([fixed, G.synthesize(expression_transfer(G, c, a, b, 0.5), "w+")])
    assert transfer.image.value == png_bytes(expected, scale=transfer.scale)
