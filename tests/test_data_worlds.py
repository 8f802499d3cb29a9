"""The procedural data worlds (faces, landscapes) and the bundled photos.

Imports come from the submodules so that these tests do not depend on what
``course_lib.data`` re-exports.
"""

import pytest
import torch

from course_lib.checks import check_image, check_labels
from course_lib.data.faces import FACE_ATTRIBUTES, FACE_BINARY, faces
from course_lib.data.landscapes import (LANDSCAPE_CLASSES, LANDSCAPE_STYLES, colour_labels,
                                        landscapes, render_landscape)
from course_lib.data.photos import PHOTO_NAMES, photos

N_CLASSES = len(LANDSCAPE_CLASSES)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small tensors: one thread is faster, and steady when other jobs share the CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def face_batch():
    return faces(400, size=64, seed=0)


@pytest.fixture(scope="module")
def scene_batch():
    return landscapes(48, size=64, seed=0)


# --------------------------------------------------------------------------- faces

def test_faces_follow_the_tensor_convention(face_batch):
    images, attributes = face_batch
    check_image(images)
    assert images.shape == (400, 3, 64, 64) and images.dtype == torch.float32
    assert set(attributes) == set(FACE_ATTRIBUTES)
    for name, values in FACE_ATTRIBUTES.items():
        a = attributes[name]
        assert a.dtype == torch.int64 and a.shape == (400,), name
        assert int(a.min()) >= 0 and int(a.max()) < len(values), name


@pytest.mark.parametrize("size", [32, 128])
def test_faces_come_in_other_sizes(size):
    images, _ = faces(3, size=size, seed=1)
    check_image(images)
    assert images.shape == (3, 3, size, size)


def test_faces_use_the_range_and_are_not_blank(face_batch):
    images, _ = face_batch
    assert images.min() < -0.8 and images.max() > 0.8
    # no two faces are the same picture
    flat = images.flatten(1)
    assert torch.cdist(flat[:50], flat[:50]).add(torch.eye(50) * 1e9).min() > 1.0


def test_faces_depend_only_on_seed_and_index():
    first, attrs_first = faces(5, seed=3)
    many, attrs_many = faces(40, seed=3)          # 40 spans more than one render chunk
    assert torch.equal(first, many[:5])
    for name in FACE_ATTRIBUTES:
        assert torch.equal(attrs_first[name], attrs_many[name][:5])
    again, _ = faces(40, seed=3)
    assert torch.equal(many, again)
    other, _ = faces(5, seed=4)
    assert (other - first).abs().mean() > 0.05


def test_binary_attributes_are_balanced_and_independent(face_batch):
    _, attributes = face_batch
    for name in FACE_BINARY:
        assert 0.38 < attributes[name].float().mean() < 0.62, name
    glasses, hat = attributes["glasses"].float(), attributes["hat"].float()
    assert abs(torch.corrcoef(torch.stack([glasses, hat]))[0, 1]) < 0.2


def test_every_categorical_value_occurs(face_batch):
    _, attributes = face_batch
    for name in ("hair_colour", "skin_tone", "background"):
        assert set(attributes[name].tolist()) == set(range(len(FACE_ATTRIBUTES[name]))), name


@pytest.mark.parametrize("name, rows", [
    ("glasses", range(24, 44)),   # the eye band (faces move a little, so the bands are wide)
    ("smile", range(36, 54)),     # the mouth
    ("hat", range(4, 32)),        # above the forehead
    ("beard", range(34, 58)),     # the jaw
    ("eyes_open", range(24, 44)),
])
def test_toggling_an_attribute_changes_its_region_only(name, rows):
    without, a0 = faces(16, seed=7, overrides={name: 0})
    with_it, a1 = faces(16, seed=7, overrides={name: 1})
    assert a0[name].sum() == 0 and a1[name].sum() == 16
    for other in FACE_ATTRIBUTES:          # same people otherwise
        if other != name:
            assert torch.equal(a0[other], a1[other])
    change = (with_it - without).abs().amax(dim=1)            # N×H×W
    visible = (change > 0.3).sum(dim=(1, 2))
    assert (visible >= 12).all(), f"{name} must be clearly visible in every face: {visible}"
    where = change.mean(dim=2).argmax(dim=1)                  # the most changed row
    assert all(int(r) in rows for r in where), f"{name} changed rows {where.tolist()}"
    # the bottom rows (shirt) never change
    assert torch.equal(with_it[..., 62:, :], without[..., 62:, :])


def test_faces_reject_bad_arguments():
    for n in (0, -3, 2.5, "4", True):
        with pytest.raises(ValueError, match="n"):
            faces(n)
    for size in (8, 64.0, None):
        with pytest.raises(ValueError, match="size"):
            faces(2, size=size)
    with pytest.raises(ValueError, match="seed"):
        faces(2, seed=-1)
    with pytest.raises(ValueError, match="unknown attribute"):
        faces(2, overrides={"moustache": 1})
    with pytest.raises(ValueError, match="glasses"):
        faces(2, overrides={"glasses": 2})
    with pytest.raises(ValueError, match="hair_colour"):
        faces(3, overrides={"hair_colour": [0, 1]})


# --------------------------------------------------------------------------- landscapes

def test_landscapes_follow_the_tensor_convention(scene_batch):
    images, labels, styles = scene_batch
    check_image(images)
    check_labels(labels, num_classes=N_CLASSES)
    assert images.shape == (48, 3, 64, 64) and labels.shape == (48, 64, 64)
    assert isinstance(styles, list) and len(styles) == 48
    assert set(styles) == set(LANDSCAPE_STYLES), "style=None should draw every style"


def test_every_class_appears_in_a_modest_batch(scene_batch):
    _, labels, _ = scene_batch
    assert set(labels.unique().tolist()) == set(range(N_CLASSES))


def test_layouts_vary(scene_batch):
    _, labels, _ = scene_batch
    # sky on top, ground at the bottom, and no two layouts alike
    assert (labels[:, 0] <= 2).float().mean() > 0.8
    assert (labels[:, -1] >= 3).float().mean() > 0.9
    flat = labels.flatten(1)
    same = (flat[:, None] == flat[None]).float().mean(-1).fill_diagonal_(0)
    assert same.max() < 0.97 and same.mean() < 0.7


def test_landscapes_depend_only_on_seed_and_index():
    images, labels, styles = landscapes(3, size=32, seed=5)
    more, more_labels, more_styles = landscapes(20, size=32, seed=5)   # spans two chunks
    assert torch.equal(images, more[:3]) and torch.equal(labels, more_labels[:3])
    assert styles == more_styles[:3]
    other, other_labels, _ = landscapes(3, size=32, seed=6)
    assert not torch.equal(labels, other_labels)


def test_a_forced_style_keeps_the_layout():
    _, labels, styles = landscapes(6, size=32, seed=2)
    night, night_labels, night_styles = landscapes(6, size=32, seed=2, style="night")
    assert torch.equal(labels, night_labels) and night_styles == ["night"] * 6
    # night is darker than day
    day, _, _ = landscapes(6, size=32, seed=2, style="day")
    assert night.mean() < day.mean() - 0.3


def test_render_repaints_landscapes_exactly():
    images, labels, styles = landscapes(4, size=48, seed=9)
    assert torch.equal(render_landscape(labels, styles, seed=9), images)


def test_one_layout_in_every_style(scene_batch):
    _, labels, _ = scene_batch
    labels = labels[:8]
    before = labels.clone()
    renders = [render_landscape(labels, s, seed=1) for s in LANDSCAPE_STYLES]
    assert torch.equal(labels, before), "rendering must not modify the labels"
    for i in range(len(renders)):
        check_image(renders[i])
        for j in range(i):
            assert (renders[i] - renders[j]).abs().mean() > 0.05, (LANDSCAPE_STYLES[i], LANDSCAPE_STYLES[j])


def test_classes_keep_their_own_look_in_every_style(scene_batch):
    """Per style, the mean colour of every class differs from every other class's."""
    _, labels, _ = scene_batch
    for style in LANDSCAPE_STYLES:
        images = render_landscape(labels, style, seed=0)
        pixels = images.permute(0, 2, 3, 1).reshape(-1, 3)
        means = torch.stack([pixels[labels.flatten() == c].mean(0) for c in range(N_CLASSES)])
        gap = torch.cdist(means, means) + torch.eye(N_CLASSES)
        assert gap.min() > 0.04, style


def test_colour_labels_shows_the_palette(scene_batch):
    _, labels, _ = scene_batch
    shown = colour_labels(labels[:2])
    check_image(shown)
    sky = torch.tensor(LANDSCAPE_CLASSES[0][1]) / 127.5 - 1
    mask = labels[:2] == 0
    assert torch.allclose(shown.permute(0, 2, 3, 1)[mask], sky.expand(int(mask.sum()), 3))


def test_landscapes_reject_bad_arguments():
    for n in (0, -1, 1.5):
        with pytest.raises(ValueError, match="n"):
            landscapes(n)
    for size in (8, 64.5):
        with pytest.raises(ValueError, match="size"):
            landscapes(2, size=size)
    with pytest.raises(ValueError, match="style"):
        landscapes(2, size=32, style="dusk")
    with pytest.raises(ValueError, match="style"):
        landscapes(2, size=32, style=["day", "night"])
    labels = torch.zeros(2, 32, 32, dtype=torch.int64)
    with pytest.raises(ValueError, match="style"):
        render_landscape(labels, "dusk")
    with pytest.raises(ValueError, match="style"):
        render_landscape(labels, ["day"])               # one name for two maps
    with pytest.raises(ValueError, match="int64"):
        render_landscape(labels.float(), "day")
    with pytest.raises(ValueError, match="N×H×W"):
        render_landscape(labels[:, None], "day")
    with pytest.raises(ValueError, match="class indices"):
        render_landscape(labels + N_CLASSES, "day")
    with pytest.raises(ValueError, match="square"):
        render_landscape(labels[:, :, :20], "day")
    with pytest.raises(ValueError, match="seed"):
        render_landscape(labels, "day", seed=-2)


# --------------------------------------------------------------------------- photos

def test_photos_load_offline_as_images():
    shown = photos(size=32)
    assert list(shown) == list(PHOTO_NAMES) and len(shown) >= 6
    for name, image in shown.items():
        check_image(image, name)
        assert image.shape == (1, 3, 32, 32), name
        assert image.std() > 0.05, name
    camera = shown["camera"]                       # a grey photo becomes RGB
    assert torch.equal(camera[:, 0], camera[:, 1]) and torch.equal(camera[:, 1], camera[:, 2])


def test_photos_keep_their_own_size_by_default():
    full = photos(names=["astronaut", "coffee"])
    assert full["astronaut"].shape == (1, 3, 512, 512)
    assert full["coffee"].shape == (1, 3, 400, 600)
    check_image(full["coffee"])


def test_photos_reject_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        photos(size=0)
    with pytest.raises(ValueError, match="unknown photo"):
        photos(names=["lena"])
