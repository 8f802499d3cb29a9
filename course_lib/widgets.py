"""Interactive image widgets (ipywidgets) that lectures build their demos from.

:func:`image_widget` ties a ``render(**values) -> images`` function to a set of
controls. Every change of a control re-renders straight into an
``ipywidgets.Image`` as PNG bytes, with no matplotlib in the loop, so a slider
feels instant. The same object can be driven from Python (set
``box.controls["seed"].value = 3`` and read ``box.image.value``), which is how
the tests check widgets without a browser.

For a StyleGAN's embedded images (lecture 03, Image2StyleGAN Sec. 6) three widgets are built on
it: :func:`morph_widget` (a slider along the line between two W+ codes),
:func:`mixing_widget` (a slider for the crossover layer of style mixing) and
:func:`transfer_widget` (a slider for the strength of a W+ difference, e.g. a smile).
"""

from __future__ import annotations

import time
from typing import Callable, Mapping

import torch

from .images import png_bytes

__all__ = ["image_widget", "morph_widget", "mixing_widget", "transfer_widget"]


def image_widget(render: Callable[..., torch.Tensor], controls: Mapping[str, object],
                 title: str | None = None, scale: int = 3, nrow: int | None = None):
    """A box of controls above an image that ``render(**values)`` redraws.

    The rendered batch is laid out ``nrow`` images a row (default: all in one row), so a
    render can return, say, four targets followed by their four reconstructions.

    Returns an ``ipywidgets.VBox`` with three extra attributes: ``image`` (the
    ``ipywidgets.Image``), ``controls`` (the dict passed in) and
    ``last_render_ms`` (how long the last redraw took, render plus encode).
    """
    import ipywidgets as W

    if not callable(render):
        raise ValueError(f"image_widget: expected a callable render(**values), got {render!r}")
    if not controls or not all(isinstance(c, W.ValueWidget) for c in controls.values()):
        raise ValueError("image_widget: expected a non-empty dict of name -> ipywidgets value "
                         f"widget (IntSlider, FloatSlider, Dropdown, ...), got {controls!r}")
    image = W.Image(format="png")
    image.add_class("course-image")
    header = [W.HTML(f"<b>{title}</b>")] if title else []
    box = W.VBox(header + list(controls.values()) + [image])
    box.image, box.controls, box.last_render_ms = image, dict(controls), float("nan")

    def redraw(_change=None):
        start = time.perf_counter()
        with torch.no_grad():
            out = render(**{k: c.value for k, c in controls.items()})
        image.value = png_bytes(out, nrow=nrow, scale=scale)
        box.last_render_ms = (time.perf_counter() - start) * 1e3

    for c in controls.values():
        c.add_class("course-slider")
        c.observe(redraw, names="value")
    redraw()
    return box


# ----------------------------------------------------------------------------- StyleGAN W+ codes

def _one_code(generator, code, who: str) -> torch.Tensor:
    """One W+ code ``1×num_ws×w_dim`` on the CPU (a ``w`` is broadcast; a batch must hold one)."""
    code = generator._plus(code, who)
    if code.shape[0] != 1:
        raise ValueError(f"{who}: expected one code (N = 1), got {code.shape[0]}")
    return code.detach().float().cpu()


def _draw(generator, codes: torch.Tensor) -> torch.Tensor:
    """``G(w+)`` with the fixed noise maps, on the generator's device; the images on the CPU."""
    from .inversion import synthesize

    dev = next(generator.parameters()).device
    return synthesize(generator, codes.to(dev), "w+").float().cpu()


def _between_widget(generator, a: torch.Tensor, b: torch.Tensor, name: str, slider,
                    code_at: Callable[[object], torch.Tensor], title: str):
    """``G(a)``, ``G(code_at(value))`` and ``G(b)`` side by side, the middle one redrawn as the
    slider ``name`` moves (the two ends are drawn once)."""
    ends = _draw(generator, torch.cat([a, b]))

    def render(**value):
        return torch.cat([ends[:1], _draw(generator, code_at(value[name])), ends[1:]])

    return image_widget(render, {name: slider}, title=title)


def morph_widget(generator, w_a: torch.Tensor, w_b: torch.Tensor, frames: int = 11,
                 title: str = "Morphing: the line between two embeddings (left: A, right: B)"):
    """A slider ``t`` from 0 to 1 in ``frames`` steps; shows ``G(w_a)``, ``G(morph(w_a, w_b, t))``
    and ``G(w_b)`` side by side (:func:`course_lib.stylegan.morph`)."""
    import ipywidgets as W

    from .checks import check_count
    from .stylegan import morph

    a, b = _one_code(generator, w_a, "morph_widget(w_a)"), _one_code(generator, w_b, "morph_widget(w_b)")
    frames = check_count(frames, "morph_widget(frames)")
    if frames < 2:
        raise ValueError(f"morph_widget(frames): expected at least 2 (both ends), got {frames}")
    slider = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=1 / (frames - 1), description="t",
                           continuous_update=True, readout_format=".2f")
    return _between_widget(generator, a, b, "t", slider, lambda t: morph(generator, a, b, t), title)


def mixing_widget(generator, w_coarse: torch.Tensor, w_fine: torch.Tensor,
                  title: str = "Style mixing: layers < crossover from A, the rest from B (A, mix, B)"):
    """A slider for the crossover layer of :meth:`course_lib.stylegan.Generator.mix`: layers below
    it from ``w_coarse`` (pose, shape), the rest from ``w_fine`` (colours, texture)."""
    import ipywidgets as W

    a = _one_code(generator, w_coarse, "mixing_widget(w_coarse)")
    b = _one_code(generator, w_fine, "mixing_widget(w_fine)")
    slider = W.IntSlider(value=generator.num_ws // 2, min=0, max=generator.num_ws, description="crossover",
                         continuous_update=True)
    return _between_widget(generator, a, b, "crossover", slider, lambda c: generator.mix(a, b, c), title)


def transfer_widget(generator, w_plus: torch.Tensor, neutral: torch.Tensor, expressive: torch.Tensor,
                    lo: float = -1.0, hi: float = 2.0,
                    title: str = "Expression transfer: neutral, expressive, a face, "
                                 "the face + strength × (expressive − neutral)"):
    """A strength slider for :func:`course_lib.stylegan.expression_transfer`: shows the neutral and
    the expressive image, the face, and the edited face."""
    import ipywidgets as W

    from .stylegan import expression_transfer

    code = _one_code(generator, w_plus, "transfer_widget(w_plus)")
    a = _one_code(generator, neutral, "transfer_widget(neutral)")
    b = _one_code(generator, expressive, "transfer_widget(expressive)")
    fixed = _draw(generator, torch.cat([a, b, code]))
    slider = W.FloatSlider(value=1.0, min=float(lo), max=float(hi), step=0.1, description="strength",
                           continuous_update=True)
    def render(strength):
        return torch.cat([fixed, _draw(generator, expression_transfer(generator, code, a, b, strength))])

    return image_widget(render, {"strength": slider}, title=title)
