"""The painting widget of the SPADE lecture: paint a label map, see the landscape SPADE makes of it.

:class:`PaintingWidget` puts an ``ipycanvas.Canvas`` with the label map (drawn in the classes'
display colours) beside the generated landscape, both at ``scale`` × the model's side, crisp
(nearest-neighbour), with the controls under them: a palette of the world's classes by name and
colour, the brush size, the tool (brush or fill), undo, a blank map, a held-out map, the look
(through the encoder on a reference render), a random style and its seed. Every stroke redraws
the landscape.

Everything the mouse does goes through Python methods (:meth:`PaintingWidget.stroke`,
:meth:`PaintingWidget.fill`, :meth:`PaintingWidget.undo`, ...) that tests and notebooks can call
headless; coordinates are in label-map pixels (``0 ≤ x, y < side``).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ..checks import check_int, describe
from ..data import HELD_OUT_SEED, LANDSCAPE_CLASSES, LANDSCAPE_STYLES, colour_labels, landscapes
from ..spade import SPADEModel, check_label_map, look_code, synthesize
from .core import BrushCanvas, canvas_pixels, paint_stroke

__all__ = ["PaintingWidget", "painting_widget", "paint_stroke", "flood_fill"]

_CLASS_NAMES = [name for name, _ in LANDSCAPE_CLASSES]


def _class_id(label) -> int:
    if isinstance(label, str):
        if label not in _CLASS_NAMES:
            raise ValueError(f"unknown class {label!r}; the world's classes are {', '.join(_CLASS_NAMES)}")
        return _CLASS_NAMES.index(label)
    if (
        not isinstance(label, (int, np.integer))
        or isinstance(label, bool)
        or not 0 <= label < len(_CLASS_NAMES)
    ):
        raise ValueError(
            f"expected a class name ({', '.join(_CLASS_NAMES)}) or id 0..{len(_CLASS_NAMES) - 1}, "
            f"got {label!r}"
        )
    return int(label)


def flood_fill(labels: torch.Tensor, x: int, y: int, label: int) -> torch.Tensor:
    """A copy of one label map with the 4-connected region of pixel ``(x, y)``'s class set to ``label``."""
    from scipy import ndimage

    h, w = labels.shape
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"fill: the point ({x}, {y}) is outside the {w}×{h} map")
    arr = labels.numpy()
    regions, _ = ndimage.label(arr == arr[y, x])
    out = labels.clone()
    out[torch.from_numpy(regions == regions[y, x])] = label
    return out


class PaintingWidget(BrushCanvas):
    """Paint a label map and see SPADE's landscape of it (see the module docstring).

    ``model``: a :class:`course_lib.spade.SPADEModel`; ``labels``: the starting map (``1×S×S`` or
    ``S×S`` int64; default: held-out scene 0); ``scale``: screen pixels per map pixel.
    Attributes: ``labels`` (the current ``S×S`` map), ``z`` (the style code), ``image`` (the last
    generated ``1×3×S×S``), ``result_pixels`` (what the right canvas shows), ``last_render_ms``.
    """

    def __init__(
        self,
        model: SPADEModel,
        labels: torch.Tensor | None = None,
        scale: int = 2,
        seed: int = 0,
        look: str | None = None,
    ):
        import ipycanvas
        import ipywidgets as W

        if not isinstance(model, SPADEModel):
            raise ValueError(
                f"PaintingWidget: expected a SPADEModel (course_lib.pretrained.load("
                f"'spade-landscapes128')), got {type(model).__name__}"
            )
        self.model, self.side = model, model.config.image_size
        self.scale = check_int(scale, "PaintingWidget(scale)", 1)
        if labels is None:
            labels = self.held_out_map(0)
        labels = labels[None] if isinstance(labels, torch.Tensor) and labels.dim() == 2 else labels
        self.labels = check_label_map(labels, model.config, "PaintingWidget(labels)")[0].clone()
        self.history: list[torch.Tensor] = []
        self.seed = check_int(seed, "PaintingWidget(seed)")
        self.z = self._code(look)
        self.image, self.result_pixels, self.last_render_ms = None, None, float("nan")

        px = self.side * self.scale
        self.canvas = ipycanvas.Canvas(
            width=px, height=px, layout=W.Layout(width=f"{px}px", height=f"{px}px")
        )
        self.result = ipycanvas.Canvas(
            width=px, height=px, layout=W.Layout(width=f"{px}px", height=f"{px}px")
        )
        self.canvas.image_smoothing_enabled = False
        self.result.image_smoothing_enabled = False
        self.palette = W.ToggleButtons(
            options=[(name, i) for i, name in enumerate(_CLASS_NAMES)],
            value=4,
            description="class",
            style={"button_width": "84px"},
        )
        swatches = "".join(
            f'<span style="display:inline-block;width:84px;margin:0 2px;height:8px;'
            f'background:rgb{tuple(c)}"></span>'
            for _, c in LANDSCAPE_CLASSES
        )
        self.swatches = W.HTML(f'<div style="margin-left:0px">{swatches}</div>')
        self.brush = W.IntSlider(value=8, min=1, max=40, description="brush (px)")
        self.tool = W.ToggleButtons(
            options=["brush", "fill"], value="brush", description="tool", style={"button_width": "60px"}
        )
        self.look = W.Dropdown(
            options=["random"] + list(LANDSCAPE_STYLES), value=look or "random", description="look"
        )
        self.seed_box = W.IntText(value=self.seed, description="seed", layout=W.Layout(width="160px"))
        buttons = {
            name: W.Button(description=name, layout=W.Layout(width="110px"))
            for name in ("undo", "blank map", "held-out map", "random style")
        }
        buttons["undo"].on_click(lambda _: self.undo())
        buttons["blank map"].on_click(lambda _: self.blank())
        buttons["held-out map"].on_click(lambda _: self.set_labels(self.held_out_map(self.seed_box.value)))
        buttons["random style"].on_click(lambda _: self.random_style())
        self.look.observe(
            lambda ch: self.set_look(None if ch["new"] == "random" else ch["new"]), names="value"
        )
        self.seed_box.observe(lambda ch: self.set_seed(ch["new"]), names="value")
        self.status = W.HTML()
        self.listen()
        title = W.HTML("<b>Paint a label map (left); SPADE's landscape of it (right)</b>")
        self.widget = W.VBox(
            [
                title,
                W.HBox([self.canvas, self.result]),
                self.palette,
                self.swatches,
                W.HBox([self.tool, self.brush]),
                W.HBox(list(buttons.values())),
                W.HBox([self.look, self.seed_box]),
                self.status,
            ]
        )
        self.widget.add_class("spade-painting")
        self.buttons = buttons
        self.redraw()

    # ---- what the buttons and the mouse do, callable from Python
    def held_out_map(self, index: int = 0) -> torch.Tensor:
        """Held-out scene ``index`` (seed ``HELD_OUT_SEED``): ``1×S×S``."""
        index = check_int(index, "held_out_map(index)")
        return landscapes(index + 1, size=self.side, seed=HELD_OUT_SEED)[1][index:]

    def stroke(self, points, label=None, size=None) -> None:
        """Paint ``label`` (a class name or id; default: the palette's) along ``points`` ``[(x, y), ...]``
        (map pixels) with a brush of ``size`` pixels (default: the slider's), then redraw."""
        label = self.palette.value if label is None else _class_id(label)
        size = self.brush.value if size is None else size
        new = paint_stroke(self.labels, points, label, size)
        self._push(new)

    def fill(self, x: int, y: int, label=None) -> None:
        """Set the connected region of pixel ``(x, y)``'s class to ``label``, then redraw."""
        label = self.palette.value if label is None else _class_id(label)
        self._push(flood_fill(self.labels, int(x), int(y), label))

    def undo(self) -> None:
        if self.history:
            self.labels = self.history.pop()
            self.redraw()

    def blank(self, label="sky") -> None:
        """A map of one class (a one-class canvas is a valid map)."""
        self._push(torch.full_like(self.labels, _class_id(label)))

    def set_labels(self, labels: torch.Tensor) -> None:
        labels = labels[None] if isinstance(labels, torch.Tensor) and labels.dim() == 2 else labels
        self._push(check_label_map(labels, self.model.config, "set_labels")[0].clone())

    def set_look(self, look: str | None) -> None:
        """``look``: one of ``LANDSCAPE_STYLES`` (the encoder's code of a reference render in that
        look), or ``None`` for a random code drawn with the seed."""
        self.z = self._code(look)
        self.redraw()

    def set_seed(self, seed: int) -> None:
        self.seed = check_int(seed, "seed")
        self.z = self._code(None if self.look.value == "random" else self.look.value)
        self.redraw()

    def random_style(self) -> None:
        """A new random code: the next seed, look "random"."""
        self.look.value = "random"
        self.seed_box.value = self.seed + 1  # observed: set_seed redraws

    # ---- internals
    def _code(self, look: str | None) -> torch.Tensor | None:
        config = self.model.config
        if config.generator != "spade" or not config.use_encoder:
            return None
        if look is not None:
            return look_code(self.model, look, seed=self.seed)
        g = torch.Generator().manual_seed(self.seed)
        return torch.randn(1, config.z_dim, generator=g)

    def _push(self, labels: torch.Tensor) -> None:
        self.history = (self.history + [self.labels])[-50:]
        self.labels = labels
        self.redraw()

    def redraw(self) -> None:
        start = time.perf_counter()
        self.image = synthesize(self.model, self.labels[None], z=self.z)
        self.result_pixels = canvas_pixels(self.image, self.scale)
        self.result.put_image_data(self.result_pixels, 0, 0)
        self.canvas.put_image_data(canvas_pixels(colour_labels(self.labels[None]), self.scale), 0, 0)
        self.last_render_ms = (time.perf_counter() - start) * 1e3
        present = ", ".join(_CLASS_NAMES[i] for i in self.labels.unique().tolist())
        self.status.value = f"classes: {present} · redrawn in {self.last_render_ms:.0f} ms"

    # ---- the mouse (BrushCanvas does the brush; the fill tool acts on the press)
    def brush_colour(self) -> str:
        r, g, b = LANDSCAPE_CLASSES[self.palette.value][1]
        return f"rgb({r},{g},{b})"

    def _down(self, x, y):
        if self.tool.value == "fill":
            self.fill(int(x // self.scale), int(y // self.scale))
            self._points = []
            return
        super()._down(x, y)


def painting_widget(
    model: SPADEModel,
    labels: torch.Tensor | None = None,
    scale: int = 2,
    seed: int = 0,
    look: str | None = None,
) -> PaintingWidget:
    """:class:`PaintingWidget` (the lecture's entry point)."""
    if labels is not None and not isinstance(labels, torch.Tensor):
        raise ValueError(f"painting_widget(labels): expected a label map tensor, got {describe(labels)}")
    return PaintingWidget(model, labels, scale=scale, seed=seed, look=look)
