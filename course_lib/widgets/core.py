"""The one image widget of the course, which every lecture's widgets are built on.

:func:`image_widget` ties a ``render(**values) -> images`` function to a set of controls. Every
change of a control re-renders straight into an ``ipywidgets.Image`` as PNG bytes, with no
matplotlib in the loop, so a slider feels instant. The same object can be driven from Python
(set ``box.controls["seed"].value = 3`` and read ``box.image.value``), which is how the tests
check widgets without a browser.

What a student sees is decided here, once: the images are upscaled by a whole factor with
nearest-neighbour (crisp pixels, never the browser's blur), shown at exactly that size (the
page never stretches them), and the controls sit beside the image, so that on a laptop screen
(1366 × 768) a slider and what it changes are seen together.
"""

from __future__ import annotations

import time
from typing import Callable, Mapping

import numpy as np
import torch

from ..images import png_bytes, tile

__all__ = ["image_widget", "slider", "display_scale", "paint_stroke", "canvas_pixels", "BrushCanvas",
           "MAX_WIDTH", "MAX_HEIGHT"]

#: the largest image a widget shows, in CSS pixels: it fits beside its controls in a notebook on
#: a 1366 × 768 laptop screen, with the controls' column (about 300 px) to its left
MAX_WIDTH, MAX_HEIGHT = 640, 420
#: never magnify a small image more than this (a 16-px thumbnail does not need 40×)
MAX_SCALE = 4
CONTROLS_WIDTH = "300px"


def slider(description: str, value, lo, hi, step=1, continuous: bool = True, readout: str | None = None):
    """An ``IntSlider`` (int ``value``) or ``FloatSlider`` from ``lo`` to ``hi``, redrawing while it
    is dragged (``continuous``; pass False for a redraw that takes longer than ~50 ms)."""
    import ipywidgets as W

    cls = W.IntSlider if isinstance(value, int) and not isinstance(value, bool) else W.FloatSlider
    extra = {"readout_format": readout} if readout else {}
    return cls(value=value, min=lo, max=hi, step=step, description=description,
               continuous_update=continuous, style={"description_width": "initial"}, **extra)


def display_scale(height: int, width: int) -> int:
    """The whole magnification that shows an ``height × width`` picture as large as fits in
    ``MAX_WIDTH × MAX_HEIGHT`` (at least 1, at most ``MAX_SCALE``)."""
    return max(1, min(MAX_SCALE, MAX_WIDTH // max(1, width), MAX_HEIGHT // max(1, height)))


def image_widget(render: Callable[..., torch.Tensor], controls: Mapping[str, object],
                 title: str | None = None, scale: int | None = None, nrow: int | None = None):
    """A title, then the controls beside an image that ``render(**values)`` redraws.

    The rendered batch is laid out ``nrow`` images a row (default: all in one row), so a
    render can return, say, four targets followed by their four reconstructions. ``scale``
    magnifies it by a whole factor (default: :func:`display_scale`, as large as fits).

    Returns an ``ipywidgets.VBox`` with extra attributes: ``image`` (the ``ipywidgets.Image``),
    ``controls`` (the dict passed in), ``last_render`` (the images of the last redraw, as
    ``render`` returned them), ``scale`` (its magnification), ``display_size`` (``(width, height)``
    in CSS pixels, exactly the PNG's size) and ``last_render_ms`` (how long the last redraw took,
    render plus encode).
    """
    import ipywidgets as W

    if not callable(render):
        raise ValueError(f"image_widget: expected a callable render(**values), got {render!r}")
    if not controls or not all(isinstance(c, W.ValueWidget) for c in controls.values()):
        raise ValueError("image_widget: expected a non-empty dict of name -> ipywidgets value "
                         f"widget (IntSlider, FloatSlider, Dropdown, ...), got {controls!r}")
    if scale is not None and (not isinstance(scale, int) or isinstance(scale, bool) or scale < 1):
        raise ValueError(f"image_widget: scale must be a positive int (or None: fit), got {scale!r}")
    image = W.Image(format="png")
    image.add_class("course-image")
    panel = W.VBox(list(controls.values()), layout=W.Layout(width=CONTROLS_WIDTH, min_width=CONTROLS_WIDTH))
    header = [W.HTML(f"<b>{title}</b>")] if title else []
    # the pixelated rendering keeps the PNG's nearest-neighbour pixels crisp on zoomed screens too
    style = W.HTML("<style>.course-image img, img.course-image {image-rendering: pixelated;}</style>")
    box = W.VBox(header + [W.HBox([panel, image], layout=W.Layout(align_items="flex-start")), style])
    box.image, box.controls, box.last_render_ms = image, dict(controls), float("nan")
    box.last_render, box.display_size, box.scale = None, (0, 0), 0

    def redraw(_change=None):
        start = time.perf_counter()
        with torch.no_grad():
            out = render(**{k: c.value for k, c in controls.items()})
        h, w = tile(out, nrow=nrow).shape[:2]          # the layout at scale 1 decides the scale
        k = scale if scale is not None else display_scale(h, w)
        image.value = png_bytes(out, nrow=nrow, scale=k)
        size = (w * k, h * k)
        if size != box.display_size:   # exactly the PNG's pixels: never stretched by the page
            image.layout = W.Layout(width=f"{size[0]}px", height=f"{size[1]}px", min_width=f"{size[0]}px",
                                    object_fit="contain")
            box.display_size = size
        box.last_render, box.scale = out, k
        box.last_render_ms = (time.perf_counter() - start) * 1e3

    for c in controls.values():
        c.add_class("course-slider")
        c.observe(redraw, names="value")
    redraw()
    return box


def paint_stroke(labels: torch.Tensor, points, label: int, size: float) -> torch.Tensor:
    """A copy of one label map (``H×W`` int64) with ``label`` painted along the polyline ``points``
    (``[(x, y), ...]`` in pixels) by a round brush of diameter ``size`` pixels."""
    if not isinstance(size, (int, float)) or isinstance(size, bool) or not size > 0:
        raise ValueError(f"brush size: expected a number of pixels > 0, got {size!r}")
    pts = [(float(x), float(y)) for x, y in points]
    if not pts:
        raise ValueError("stroke: expected at least one point (x, y)")
    h, w = labels.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
    )
    hit = torch.zeros(h, w, dtype=torch.bool)
    radius = max(size / 2, 0.5)  # a 1-pixel brush still paints the pixel it touches
    for (ax, ay), (bx, by) in zip(pts, pts[1:] or pts):
        dx, dy = bx - ax, by - ay
        t = (((xs - ax) * dx + (ys - ay) * dy) / (dx * dx + dy * dy + 1e-12)).clamp(0, 1)
        hit |= (xs - ax - t * dx) ** 2 + (ys - ay - t * dy) ** 2 <= radius**2
    return labels.masked_fill(hit, label)


def canvas_pixels(images: torch.Tensor, scale: int) -> np.ndarray:
    """:func:`~course_lib.images.tile` with an opaque alpha channel: ipycanvas sends an RGB array to
    the browser as a JPEG (lossy, quality 75), an RGBA array as a PNG, so the canvas shows these
    pixels exactly."""
    rgb = tile(images, scale=scale)
    return np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255, dtype=np.uint8)], axis=2)


class BrushCanvas:
    """The mouse side of a painting widget, written once: a drag on ``self.canvas`` (an
    ``ipycanvas.Canvas`` showing the image at ``self.scale`` screen pixels per image pixel)
    draws a live line in :meth:`brush_colour` at the ``self.brush`` slider's width, and the
    release hands the stroke, in image pixels, to ``self.stroke(points)``. A widget calls
    :meth:`listen` once its canvas exists, and implements ``stroke`` and ``brush_colour``."""

    def listen(self) -> None:
        self._points: list[tuple[float, float]] = []
        self.canvas.on_mouse_down(self._down)
        self.canvas.on_mouse_move(self._move)
        self.canvas.on_mouse_up(self._up)

    def brush_colour(self) -> str:
        raise NotImplementedError

    def _xy(self, x, y) -> tuple[float, float]:
        return x / self.scale, y / self.scale

    def _down(self, x, y):
        self._points = [self._xy(x, y)]

    def _move(self, x, y):
        if self._points:
            (px, py), (qx, qy) = self._points[-1], self._xy(x, y)
            self._points.append((qx, qy))
            self.canvas.stroke_style = self.brush_colour()   # live feedback; the image follows on release
            self.canvas.line_width = self.brush.value * self.scale
            self.canvas.line_cap = "round"
            self.canvas.stroke_line(px * self.scale, py * self.scale, qx * self.scale, qy * self.scale)

    def _up(self, x, y):
        if self._points:
            points, self._points = self._points + [self._xy(x, y)], []
            self.stroke(points)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
