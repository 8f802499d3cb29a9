import math

import pytest
import torch
from torch import nn

from course_lib import latent, metrics, widgets
from course_lib.images import png_bytes
from course_lib.latent import sample_z
from course_lib.layers import LatentGenerator
from course_lib.stylegan import Generator as StyleGenerator, StyleGANConfig


class SignGenerator(LatentGenerator):
    """A stand-in generator: the image is bright where z[0] > threshold (the "glasses" direction).

    "Glasses" is a half-space of z: the linear picture of :func:`latent.transfer_ceiling`."""

    def __init__(self, nz=6, threshold=0.0):
        super().__init__()
        self.nz = nz
        self.scale = nn.Parameter(torch.ones(()))
        self.threshold = threshold

    @property
    def latent_dim(self):
        return self.nz

    def forward(self, z):
        return torch.tanh(self.scale * (z[:, :1, None, None] - self.threshold)).expand(-1, 3, 8, 8) * 0.9

    def synthesize(self, latent, space="z", noise=None):
        return self(latent)


class BrightnessJudge(nn.Module):
    """Reads "glasses" from the mean brightness; "smile" from nothing (always 0)."""

    heads = {"glasses": nn.Linear(1, 2), "smile": nn.Linear(1, 2)}

    def predict(self, images):
        bright = images.mean((1, 2, 3)) > 0
        return {"glasses": bright.long(), "smile": torch.zeros(len(images), dtype=torch.long)}


def test_slerp_keeps_the_radius_and_lerp_cuts_inside():
    z0, z1 = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    mid_s, mid_l = latent.slerp(z0, z1, 0.5), latent.lerp(z0, z1, 0.5)
    assert torch.allclose(mid_s.norm(), torch.tensor(3.0))
    assert torch.allclose(mid_s, torch.full((1, 2), 3 / math.sqrt(2)))
    assert mid_l.norm() < 2.2
    path = latent.interpolate(z0, z1, steps=5)
    assert path.shape == (5, 2) and torch.allclose(path[0], z0) and torch.allclose(path[-1], z1, atol=1e-6)
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 3.0))
    lin = latent.interpolate(z0, z1, steps=3, mode="lerp")
    assert torch.allclose(lin[1], torch.tensor([1.5, 1.5]))


def test_slerp_of_parallel_vectors_falls_back_to_the_line():
    z = torch.tensor([1.0, 2.0])
    assert torch.allclose(latent.slerp(z, 2 * z, 0.5), 1.5 * z[None])


def test_interpolate_rejects_bad_inputs():
    z = torch.zeros(4)
    with pytest.raises(ValueError, match="'slerp' or 'lerp'"):
        latent.interpolate(z, z, 4, mode="cubic")
    with pytest.raises(ValueError, match="at least 2"):
        latent.interpolate(z, z, 1)
    with pytest.raises(ValueError, match="single latent vectors"):
        latent.interpolate(torch.zeros(2, 4), z)
    with pytest.raises(ValueError, match="float tensor"):
        latent.lerp([0, 1], z, 0.5)


def test_apply_and_arithmetic_average_each_concept():
    a = torch.tensor([[1.0, 0.0], [3.0, 0.0]])         # mean (2, 0)
    b = torch.tensor([0.0, 1.0])
    c = torch.tensor([[0.0, 4.0], [0.0, 2.0], [0.0, 0.0]])  # mean (0, 2)
    assert torch.allclose(latent.arithmetic(a, b, c), torch.tensor([[2.0, 1.0]]))
    assert torch.allclose(latent.apply(torch.zeros(3, 2), torch.tensor([1.0, -1.0]), 2.0),
                          torch.tensor([[2.0, -2.0]] * 3))
    with pytest.raises(ValueError, match="length"):
        latent.apply(torch.zeros(1, 3), torch.zeros(2))
    with pytest.raises(ValueError, match="lengths differ"):
        latent.arithmetic(torch.zeros(2), torch.zeros(3), torch.zeros(2))


def test_attribute_vector_finds_the_direction_the_judge_reads():
    G, judge = SignGenerator(), BrightnessJudge()
    v = latent.attribute_vector(G, judge, "glasses", n=200, pool=1000)
    assert v.shape == (6,)
    assert v[0] > 1.2 and v[1:].abs().max() < 0.4       # mean |z0| of a half-normal is 0.8: v0 ~ 1.6
    few = latent.attribute_vector(G, judge, "glasses", n=1, pool=1000)
    assert few[1:].norm() > v[1:].norm()               # one sample per side: noisy in every direction
    result = latent.attribute_transfer(G, judge, v, "glasses", strength=3.0, n=50)
    assert result["gained"] > 0.9 and result["smile"] == 1.0
    assert latent.attribute_transfer(G, judge, v, "glasses", strength=0.0, n=50)["gained"] == 0.0
    with pytest.raises(ValueError, match="unknown attribute 'wings'"):
        latent.attribute_vector(G, judge, "wings")
    with pytest.raises(ValueError, match="need 3"):
        latent.attribute_vector(G, judge, "smile", n=3, pool=50)


@pytest.mark.parametrize("prevalence", [0.5, 0.3, 0.7])
def test_a_perfectly_linear_attribute_reaches_the_transfer_ceiling(prevalence):
    threshold = float(torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(1.0 - prevalence)))
    G, judge = SignGenerator(threshold=threshold), BrightnessJudge()
    v = latent.attribute_vector(G, judge, "glasses", n=1000, pool=6000)
    gained = latent.attribute_transfer(G, judge, v, "glasses", strength=1.0, n=1000)["gained"]
    ceiling = latent.transfer_ceiling(prevalence)
    assert abs(gained - ceiling) < 0.04, (gained, ceiling)
    assert latent.transfer_ceiling(prevalence, strength=2.0) > ceiling


def test_transfer_ceiling_at_even_odds_and_bad_input():
    assert latent.transfer_ceiling(0.5) == pytest.approx(0.8895, abs=5e-4)  # (0.5 - Φ(-1.596)) / 0.5
    assert latent.transfer_ceiling(0.4) < latent.transfer_ceiling(0.5) < latent.transfer_ceiling(0.6)
    assert latent.transfer_ceiling(0.5, strength=0.0) == 0.0
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            latent.transfer_ceiling(bad)


def test_nearest_neighbours_finds_copies():
    pool = torch.rand(10, 3, 8, 8) * 2 - 1
    idx, dist = metrics.nearest_neighbours(pool[[7, 2]], pool, k=2)
    assert idx[:, 0].tolist() == [7, 2] and torch.allclose(dist[:, 0], torch.zeros(2), atol=1e-5)
    assert (dist[:, 1] > 0.1).all()
    with pytest.raises(ValueError, match="queries are"):
        metrics.nearest_neighbours(torch.zeros(1, 3, 4, 4), pool)


def test_widgets_draw_what_the_library_computes_for_each_value():
    G = SignGenerator()
    box = widgets.interpolation_widget(G, seed_a=0, seed_b=1, frames=6)
    box.controls["step"].value = 5
    z0, z1 = sample_z(1, 6, 0), sample_z(1, 6, 1)
    with torch.no_grad():
        assert box.image.value == png_bytes(G(latent.interpolate(z0, z1, 6)[5:6]), scale=box.scale)

    vectors = {"glasses": torch.tensor([5.0, 0, 0, 0, 0, 0])}
    z = -torch.ones(6)
    box = widgets.attribute_widget(G, vectors, z)
    box.controls["glasses"].value = 2.0
    with torch.no_grad():
        assert box.image.value == png_bytes(G(latent.apply(z, vectors["glasses"], 2.0)), scale=box.scale)

    candidates = sample_z(6, 6, 0)
    box = widgets.arithmetic_widget(G, candidates, a=[0], b=[1], c=[2])
    box.controls["c0"].value = 4
    with torch.no_grad():
        expected = G(torch.cat([candidates[[0, 1, 4]], latent.arithmetic(*candidates[[0, 1, 4]][:, None])]))
    assert box.image.value == png_bytes(expected, scale=box.scale)


def test_interpolation_widget_works_on_a_stylegan_too():
    G = tiny_stylegan()
    box = widgets.interpolation_widget(G, seed_a=2, seed_b=3, frames=4)
    box.controls["step"].value = 2
    path = latent.interpolate(sample_z(1, G.latent_dim, 2), sample_z(1, G.latent_dim, 3), 4)
    with torch.no_grad():
        assert box.image.value == png_bytes(G.synthesize(path[2:3], "z"), scale=box.scale)
    with pytest.raises(ValueError, match="LatentGenerator"):
        widgets.interpolation_widget(nn.Linear(2, 2))


def tiny_stylegan():
    torch.manual_seed(0)
    config = StyleGANConfig(image_size=8, z_dim=8, w_dim=6, mapping_layers=2, channel_base=64, channel_max=8)
    return StyleGenerator(config).eval()


def test_attribute_vectors_in_w_edit_w_plus_codes():
    G, judge = tiny_stylegan(), BrightnessJudge()
    bright = latent.find_latents(G, judge, 5, pool=400, glasses=1)
    bright_w = latent.find_latents(G, judge, 5, pool=400, space="w", glasses=1)
    assert bright.shape == (5, 8) and bright_w.shape == (5, 6)
    with torch.no_grad():
        assert torch.allclose(bright_w, G.mapping(bright))             # the same faces, their w
        dark_w = G.mapping(latent.find_latents(G, judge, 5, pool=400, glasses=0))
    v = latent.attribute_vector(G, judge, "glasses", n=5, pool=400, space="w")
    assert v.shape == (6,) and torch.allclose(v, bright_w.mean(0) - dark_w.mean(0), atol=1e-6)

    w_plus = torch.randn(3, G.num_ws, 6)
    moved = latent.apply(w_plus, v, 2.0)
    assert moved.shape == w_plus.shape and torch.allclose(moved - w_plus, (2.0 * v).expand(3, G.num_ws, 6))
    with torch.no_grad():                                              # the edit does what the judge reads
        mean = G.broadcast(G.mean_w())
        assert G.synthesis(latent.apply(mean, v, 3.0), noise_mode="const").mean() \
            > G.synthesis(mean, noise_mode="const").mean()

    with pytest.raises(ValueError, match="space must be 'z', or 'w' for a StyleGAN"):
        latent.attribute_vector(SignGenerator(), judge, "glasses", space="w")
    with pytest.raises(ValueError, match="space must be"):
        latent.find_latents(G, judge, 1, space="w+", glasses=1)
    with pytest.raises(ValueError, match="one vector"):
        latent.apply(w_plus, torch.zeros(2, 6))
    with pytest.raises(ValueError, match="W\\+ code"):
        latent.apply(torch.zeros(1, 2, 3, 6), v)
    with pytest.raises(ValueError, match="length 6 but the vector 4"):
        latent.apply(w_plus, torch.zeros(4))
