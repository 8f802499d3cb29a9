"""The paint-to-edit widget of the GANPaint lecture: paint on a photo, a concept appears or goes.

:class:`EditingWidget` puts an ``ipycanvas.Canvas`` with the photo (and the painted region
tinted over it) beside the edited photo, both at ``scale`` × the generator's side, crisp, with
the controls under them: the concept (the dissected classes), add or remove, the brush size,
undo and clear. Every stroke re-runs :meth:`course_lib.ganpaint.GANPaint.edit` on the photo,
which was prepared (inverted and adapted) once when the widget was made.

Everything the mouse does goes through Python methods (:meth:`EditingWidget.stroke`,
:meth:`EditingWidget.undo`, :meth:`EditingWidget.clear`) that tests and notebooks call
headless; coordinates are in photo pixels (``0 ≤ x, y < side``).
"""

from __future__ import annotations

import time

import ipycanvas
import ipywidgets as W
import torch

from ..checks import check_int
from ..ganpaint import MODES, GANPaint, Photo
from .core import BrushCanvas, canvas_pixels, paint_stroke

__all__ = ["EditingWidget", "editing_widget"]

_TINT = torch.tensor([1.0, 0.2, 0.9]).view(1, 3, 1, 1)     # the painted region, tinted magenta


class EditingWidget(BrushCanvas):
    """Paint a region on a prepared photo; see the photo with ``concept`` added or removed there.

    Attributes: ``region`` (``1×1×S×S``, the painted pixels), ``result`` (the last
    :class:`~course_lib.ganpaint.EditResult`, None while nothing is painted), ``image`` (what the
    right canvas shows, ``1×3×S×S``), ``last_render_ms``.
    """

    def __init__(self, painter: GANPaint, prepared: Photo, concept: str = "tree", mode: str = "add",
                 scale: int = 4, brush: int = 10):
        if not isinstance(painter, GANPaint) or not isinstance(prepared, Photo):
            raise ValueError("EditingWidget: expected a GANPaint and a Photo from GANPaint.prepare, got "
                             f"{type(painter).__name__} and {type(prepared).__name__}")
        painter.dissection.check_concept(concept)
        if mode not in MODES:
            raise ValueError(f"EditingWidget: mode must be one of {MODES}, got {mode!r}")
        self.painter, self.prepared = painter, prepared
        self.side = prepared.photo.shape[-1]
        self.scale = check_int(scale, "EditingWidget(scale)", 1)
        self.region = torch.zeros(1, 1, self.side, self.side)
        self.history: list[torch.Tensor] = []
        self.result, self.image, self.last_render_ms = None, prepared.photo, float("nan")

        px = self.side * self.scale
        size = W.Layout(width=f"{px}px", height=f"{px}px")
        self.canvas = ipycanvas.Canvas(width=px, height=px, layout=size)
        self.output = ipycanvas.Canvas(width=px, height=px, layout=size)
        self.canvas.image_smoothing_enabled = False
        self.output.image_smoothing_enabled = False
        self.concept = W.Dropdown(options=list(painter.dissection.classes), value=concept,
                                  description="concept")
        self.mode = W.ToggleButtons(options=list(MODES), value=mode, description="edit",
                                    style={"button_width": "70px"})
        self.brush = W.IntSlider(value=brush, min=1, max=self.side // 2, description="brush (px)")
        self.buttons = {name: W.Button(description=name, layout=W.Layout(width="90px"))
                        for name in ("undo", "clear")}
        self.buttons["undo"].on_click(lambda _: self.undo())
        self.buttons["clear"].on_click(lambda _: self.clear())
        self.concept.observe(lambda _: self.redraw(), names="value")
        self.mode.observe(lambda _: self.redraw(), names="value")
        self.status = W.HTML()
        self.listen()
        title = W.HTML("<b>Paint where to edit (left); the edited photo (right)</b>")
        self.widget = W.VBox([title, W.HBox([self.canvas, self.output]),
                              W.HBox([self.concept, self.mode]),
                              W.HBox([self.brush, *self.buttons.values()]), self.status])
        self.widget.add_class("ganpaint-editing")
        self.redraw()

    # ---- what the mouse and the buttons do, callable from Python
    def stroke(self, points, size=None) -> None:
        """Paint the region along ``points`` ``[(x, y), ...]`` (photo pixels) with a brush of
        ``size`` pixels (default: the slider's), then edit and redraw."""
        size = self.brush.value if size is None else size
        painted = paint_stroke(self.region[0, 0].long(), points, 1, size).float()
        self._push(painted[None, None])

    def undo(self) -> None:
        if self.history:
            self.region = self.history.pop()
            self.redraw()

    def clear(self) -> None:
        self._push(torch.zeros_like(self.region))

    def _push(self, region: torch.Tensor) -> None:
        self.history = (self.history + [self.region])[-50:]
        self.region = region
        self.redraw()

    def redraw(self) -> None:
        start = time.perf_counter()
        photo = self.prepared.photo
        if bool(self.region.any()):
            self.result = self.painter.edit(self.prepared, self.region, self.concept.value, self.mode.value)
            self.image = self.result.image
        else:
            self.result, self.image = None, photo
        shown = photo + 0.5 * self.region * (_TINT - photo)
        self.canvas.put_image_data(canvas_pixels(shown, self.scale), 0, 0)
        self.output.put_image_data(canvas_pixels(self.image, self.scale), 0, 0)
        self.last_render_ms = (time.perf_counter() - start) * 1e3
        painted = int(self.region.sum())
        self.status.value = (f"{self.mode.value} {self.concept.value} in {painted} painted pixels · "
                             f"redrawn in {self.last_render_ms:.0f} ms")

    # ---- the mouse (BrushCanvas)
    def brush_colour(self) -> str:
        return "rgba(255,50,230,0.6)"


def editing_widget(painter: GANPaint, prepared: Photo, concept: str = "tree", mode: str = "add",
                   scale: int = 4, brush: int = 10) -> EditingWidget:
    """:class:`EditingWidget` (the lecture's entry point)."""
    return EditingWidget(painter, prepared, concept, mode, scale, brush)
