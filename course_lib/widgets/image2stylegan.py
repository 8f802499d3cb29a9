"""Lecture 03's widgets: editing embedded images with a StyleGAN's W+ codes (Image2StyleGAN,
Abdal et al. 2019, Sec. 6): :func:`morph_widget` (a slider along the line between two codes),
:func:`mixing_widget` (the crossover layer of style mixing) and :func:`transfer_widget` (the
strength of a W+ difference, e.g. a smile). The edits themselves are in :mod:`course_lib.latent`."""

from __future__ import annotations

from typing import Callable

import torch

from ..checks import check_count
from ..latent import expression_transfer, generate, morph
from .core import image_widget, slider

__all__ = ["morph_widget", "mixing_widget", "transfer_widget"]


def _one_code(generator, code, who: str) -> torch.Tensor:
    """One W+ code ``1×num_ws×w_dim`` on the CPU (a ``w`` is broadcast; a batch must hold one)."""
    code = generator.as_w_plus(code, who)
    if code.shape[0] != 1:
        raise ValueError(f"{who}: expected one code (N = 1), got {code.shape[0]}")
    return code.detach().float().cpu()


def _draw(generator, codes: torch.Tensor) -> torch.Tensor:
    """``G(w+)`` with the fixed noise maps, on the generator's device; the images on the CPU."""
    return generate(generator, codes, space="w+")


def _between_widget(generator, a: torch.Tensor, b: torch.Tensor, name: str, control,
                    code_at: Callable[[object], torch.Tensor], title: str):
    """``G(a)``, ``G(code_at(value))`` and ``G(b)`` side by side, the middle one redrawn as the
    slider ``name`` moves (the two ends are drawn once)."""
    ends = _draw(generator, torch.cat([a, b]))

    def render(**value):
        return torch.cat([ends[:1], _draw(generator, code_at(value[name])), ends[1:]])

    return image_widget(render, {name: control}, title=title)


def morph_widget(generator, w_a: torch.Tensor, w_b: torch.Tensor, frames: int = 11,
                 title: str = "Morphing: the line between two embeddings (left: A, right: B)"):
    """A slider ``t`` from 0 to 1 in ``frames`` steps; shows ``G(w_a)``, ``G(morph(w_a, w_b, t))``
    and ``G(w_b)`` side by side (:func:`course_lib.latent.morph`)."""
    a, b = _one_code(generator, w_a, "morph_widget(w_a)"), _one_code(generator, w_b, "morph_widget(w_b)")
    frames = check_count(frames, "morph_widget(frames)")
    if frames < 2:
        raise ValueError(f"morph_widget(frames): expected at least 2 (both ends), got {frames}")
    control = slider("t", 0.5, 0.0, 1.0, 1 / (frames - 1), readout=".2f")
    return _between_widget(generator, a, b, "t", control, lambda t: morph(generator, a, b, t), title)


def mixing_widget(generator, w_coarse: torch.Tensor, w_fine: torch.Tensor,
                  title: str = "Style mixing: layers < crossover from A, the rest from B (A, mix, B)"):
    """A slider for the crossover layer of :meth:`course_lib.stylegan.Generator.mix`: layers below
    it from ``w_coarse`` (pose, shape), the rest from ``w_fine`` (colours, texture)."""
    a = _one_code(generator, w_coarse, "mixing_widget(w_coarse)")
    b = _one_code(generator, w_fine, "mixing_widget(w_fine)")
    control = slider("crossover", generator.num_ws // 2, 0, generator.num_ws, 1)
    return _between_widget(generator, a, b, "crossover", control, lambda c: generator.mix(a, b, c), title)


def transfer_widget(generator, w_plus: torch.Tensor, neutral: torch.Tensor, expressive: torch.Tensor,
                    lo: float = -1.0, hi: float = 2.0,
                    title: str = "Expression transfer: neutral, expressive, a face, "
                                 "the face + strength × (expressive − neutral)"):
    """A strength slider for :func:`course_lib.latent.expression_transfer`: shows the neutral and
    the expressive image, the face, and the edited face."""
    code = _one_code(generator, w_plus, "transfer_widget(w_plus)")
    a = _one_code(generator, neutral, "transfer_widget(neutral)")
    b = _one_code(generator, expressive, "transfer_widget(expressive)")
    fixed = _draw(generator, torch.cat([a, b, code]))
    control = slider("strength", 1.0, float(lo), float(hi), 0.1)

    def render(strength):
        return torch.cat([fixed, _draw(generator, expression_transfer(generator, code, a, b, strength))])

    return image_widget(render, {"strength": control}, title=title)
