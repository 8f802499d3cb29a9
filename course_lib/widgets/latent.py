"""Lecture 01's widgets: walking and doing arithmetic in a generator's latent space
(:mod:`course_lib.latent`). They work on any of the course's generators (a DCGAN or a StyleGAN),
which declare their latent size (:class:`course_lib.layers.LatentGenerator`)."""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..latent import apply, arithmetic, generate, interpolate, sample_z
from ..layers import LatentGenerator
from .core import image_widget, slider

__all__ = ["interpolation_walk", "interpolation_widget", "attribute_widget", "arithmetic_widget"]


def _generator(generator, who: str) -> LatentGenerator:
    if not isinstance(generator, LatentGenerator):
        raise ValueError(f"{who}: expected one of the course's generators (a layers.LatentGenerator), "
                         f"got {type(generator).__name__}")
    return generator


def _codes(z, who: str, nz: int) -> torch.Tensor:
    z = torch.as_tensor(z)
    if not z.is_floating_point() or z.ndim not in (1, 2) or z.shape[-1] != nz:
        raise ValueError(f"{who}: expected latent vectors of length {nz} (nz or N×nz), got "
                         f"{tuple(z.shape)} {z.dtype}")
    return z.reshape(-1, nz)


def interpolation_walk(generator: LatentGenerator, seed_a: int, seed_b: int, frames: int,
                       mode: str = "slerp") -> torch.Tensor:
    """The faces of :func:`interpolation_widget`: ``frames`` images from the face of ``seed_a``
    to that of ``seed_b`` (``interpolate`` between their seeded ``z``)."""
    nz = _generator(generator, "interpolation_widget").latent_dim
    path = interpolate(sample_z(1, nz, seed_a), sample_z(1, nz, seed_b), frames, mode)
    return generate(generator, path)


def interpolation_widget(generator: LatentGenerator, seed_a: int = 0, seed_b: int = 1, frames: int = 16,
                         mode: str = "slerp"):
    """A slider that walks from the face of ``seed_a`` to the face of ``seed_b``."""
    faces = interpolation_walk(generator, seed_a, seed_b, frames, mode)   # all at once: a move only shows one
    return image_widget(lambda step: faces[step:step + 1],
                        {"step": slider(f"{mode} step", 0, 0, frames - 1, 1)},
                        title=f"From seed {seed_a} to seed {seed_b}")


def attribute_widget(generator: LatentGenerator, vectors: Mapping[str, torch.Tensor], z: torch.Tensor):
    """One strength slider per attribute vector, acting together on the face of ``z``."""
    z = _codes(z, "attribute_widget(z)", _generator(generator, "attribute_widget").latent_dim)[:1]

    def render(**strengths):
        moved = z.clone()
        for name, s in strengths.items():
            moved = apply(moved, vectors[name], s)
        return generate(generator, moved)

    return image_widget(render, {name: slider(name, 0.0, -2.0, 2.0, 0.1) for name in vectors},
                        title="Attribute vectors: drag to add (+) or remove (-)")


def arithmetic_widget(generator: LatentGenerator, candidates: Sequence[torch.Tensor] | torch.Tensor,
                      a: Sequence[int], b: Sequence[int], c: Sequence[int]):
    """"A - B + C": index pickers into ``candidates`` (``K×nz``), showing the faces A, B, C (each
    the mean of its picks) and the result side by side."""
    nz = _generator(generator, "arithmetic_widget").latent_dim
    candidates = _codes(torch.as_tensor(candidates), "arithmetic_widget(candidates)", nz)
    k = len(candidates)
    sliders = {f"{who}{i}": slider(f"{who.upper()} #{i + 1}", int(pick), 0, k - 1, 1)
               for who, picks in (("a", a), ("b", b), ("c", c)) for i, pick in enumerate(picks)}

    def render(**picks):
        groups = [candidates[[v for name, v in picks.items() if name[0] == who]] for who in "abc"]
        means = torch.cat([g.mean(0, keepdim=True) for g in groups])
        return generate(generator, torch.cat([means, arithmetic(*groups)]))

    return image_widget(render, sliders,
                        title="A  -  B  +  C  =  result  (each face: the mean z of its picks)")
