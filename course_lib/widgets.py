"""Interactive image widgets (ipywidgets) that lectures build their demos from.

:func:`image_widget` ties a ``render(**values) -> images`` function to a set of
controls. Every change of a control re-renders straight into an
``ipywidgets.Image`` as PNG bytes, with no matplotlib in the loop, so a slider
feels instant. The same object can be driven from Python (set
``box.controls["seed"].value = 3`` and read ``box.image.value``), which is how
the tests check widgets without a browser.
"""

from __future__ import annotations

import time
from typing import Callable, Mapping

import torch

from .images import png_bytes

__all__ = ["image_widget"]


def image_widget(render: Callable[..., torch.Tensor], controls: Mapping[str, object],
                 title: str | None = None, scale: int = 3):
    """A box of controls above an image that ``render(**values)`` redraws.

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
        image.value = png_bytes(out, scale=scale)
        box.last_render_ms = (time.perf_counter() - start) * 1e3

    for c in controls.values():
        c.add_class("course-slider")
        c.observe(redraw, names="value")
    redraw()
    return box
