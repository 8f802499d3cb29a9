"""Lecture 03's widgets on the shipped StyleGAN, driven from Python as a student's slider would be.

Two held-out faces are embedded in W+ (a short search: the widgets only need two different
codes), then the morphing slider is moved and the image must change to exactly the morph at
the new position. The browser test (test_browser.py) moves the same slider in Chromium.
"""

import pytest
import torch

from course_lib import data, pretrained
from course_lib.images import png_bytes
from course_lib.inversion import InversionConfig, invert, synthesize
from course_lib.stylegan import morph
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
            frame = synthesize(G, morph(G, codes[0:1], codes[1:2], t), "w+")
            ends = synthesize(G, codes[:2], "w+")
        assert box.image.value == png_bytes(torch.cat([ends[:1], frame, ends[1:]]), scale=3)
    slider.value = 0.5
    assert box.image.value == middle                        # back where it started: the same picture


def test_mixing_and_transfer_sliders_change_the_image(embedded):
    G, codes = embedded
    mixer = mixing_widget(G, codes[0:1], codes[1:2])
    before = mixer.image.value
    mixer.controls["crossover"].value = 2
    assert mixer.image.value != before
    transfer = transfer_widget(G, codes[2:3], codes[0:1], codes[1:2])
    before = transfer.image.value
    transfer.controls["strength"].value = 0.0
    assert transfer.image.value != before
