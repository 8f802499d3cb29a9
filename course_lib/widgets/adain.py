"""Lecture 05's widgets: AdaIN's user controls (Huang and Belongie 2017, Sec. 7.3).

Every control acts on the features between the encoder and the decoder, so each widget encodes
its images once and keeps the features (``box.cache``): moving a control only mixes cached
features and runs the decoder. The feed-forward transfer is what makes these controls
interactive at all (Gatys' optimisation takes minutes per position).

- :func:`alpha_widget`: the content-style trade-off ``α`` (Eq. 14);
- :func:`style_interpolation_widget`: 2-4 styles with a weight slider each (Eq. 15);
- :func:`spatial_widget`: two styles in the two regions of a mask, with ``α``.

Each draws what :func:`course_lib.adain.stylize` computes for its controls' values. The inputs
(content and styles) are shown once, in a row under the title; the result alone is redrawn, by
:func:`~course_lib.widgets.image_widget` (crisp, as large as fits, the controls beside it).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import ipywidgets as W
import torch

from .. import adain
from ..checks import check_image, check_mask
from ..images import png_bytes, resize
from .core import MAX_WIDTH, image_widget, slider

__all__ = ["alpha_widget", "style_interpolation_widget", "spatial_widget", "default_masks"]


def _one(x: torch.Tensor, who: str) -> torch.Tensor:
    x = check_image(x, who)
    if len(x) != 1:
        raise ValueError(f"{who}: expected one image 1×3×H×W, got a batch of {len(x)}")
    return x


def _alpha(alpha, who: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"{who}: expected alpha, the content-style trade-off, as a number in [0, 1] "
                         f"(0: the content, 1: full style), got {alpha!r}")
    return float(alpha)


def _alpha_slider(alpha: float):
    return slider("α", alpha, 0.0, 1.0, 0.05, readout=".2f")


def _with_inputs(box, inputs: Sequence[torch.Tensor], caption: str):
    """Put the inputs, drawn once, above the controls and the result: one row at the content's
    size and the result's magnification, smaller where that row would be wider than ``MAX_WIDTH``."""
    n, pad = len(inputs), 2
    h, w = inputs[0].shape[-2:]
    if n * w + pad * (n - 1) > MAX_WIDTH:
        w_fit = (MAX_WIDTH - pad * (n - 1)) // n
        h, w = max(1, h * w_fit // w), w_fit
    scale = max([1] + [k for k in range(1, box.scale + 1) if (n * w + pad * (n - 1)) * k <= MAX_WIDTH])
    row = torch.cat([x if x.shape[-2:] == (h, w) else resize(x, (h, w)) for x in inputs])
    picture = W.Image(value=png_bytes(row, scale=scale), format="png")
    width, height = (n * w + pad * (n - 1)) * scale, h * scale
    picture.layout = W.Layout(width=f"{width}px", height=f"{height}px", min_width=f"{width}px")
    box.inputs = W.VBox([W.HTML(f"<i>{caption}</i>"), picture])
    at = len(box.children) - 2   # image_widget's children: [title], the controls and image, a style
    box.children = box.children[:at] + (box.inputs,) + box.children[at:]
    return box


def alpha_widget(net: adain.StyleTransferNet, content: torch.Tensor, style: torch.Tensor,
                 alpha: float = 1.0,
                 title: str = "Content-style trade-off: g((1 − α) f(c) + α AdaIN(f(c), f(s)))"):
    """A slider for ``α`` in [0, 1]: draws ``adain.stylize(net, content, style, alpha=α)``.

    The box is :func:`~course_lib.widgets.image_widget`'s (``image``, ``controls``,
    ``last_render``, ``last_render_ms``, ...) with ``cache`` (``f(c)`` and the target ``t``)."""
    content, style = _one(content, "alpha_widget(content)"), _one(style, "alpha_widget(style)")
    alpha = _alpha(alpha, "alpha_widget")
    content_features = adain.encode(net, content)
    cache = {"content_features": content_features,
             "target": adain.target(content_features, [adain.encode(net, style)])}

    def render(alpha):
        return adain.decode(net, adain.blend(cache["content_features"], cache["target"], alpha))  # Eq. 14

    box = image_widget(render, {"alpha": _alpha_slider(alpha)}, title=title)
    box.cache = cache
    return _with_inputs(box, [content, style], "content, style")


def _normalised(values: Sequence[float]) -> list[float]:
    """Weights that sum to 1 (all at zero: equal weights)."""
    total = sum(values)
    return [1 / len(values)] * len(values) if total <= 0 else [v / total for v in values]


def style_interpolation_widget(net: adain.StyleTransferNet, content: torch.Tensor,
                               styles: Sequence[torch.Tensor], names: Sequence[str] | None = None,
                               title: str = "Style interpolation: g(Σ w_k AdaIN(f(c), f(s_k))), "
                                            "the weights divided by their sum"):
    """One weight slider per style (2 to 4 styles). The weights are divided by their sum (all at
    zero: equal weights); the widget draws ``adain.stylize(net, content, styles, weights=...)``
    with them, and ``box.weights()`` gives them."""
    content = _one(content, "style_interpolation_widget(content)")
    if not isinstance(styles, (list, tuple)) or not 2 <= len(styles) <= 4:
        raise ValueError(f"style_interpolation_widget: expected a list of 2 to 4 style images, got "
                         f"{len(styles) if isinstance(styles, (list, tuple)) else type(styles).__name__}")
    styles = [_one(s, f"style_interpolation_widget(styles[{k}])") for k, s in enumerate(styles)]
    names = list(names) if names is not None else [f"style {k + 1}" for k in range(len(styles))]
    if len(names) != len(styles):
        raise ValueError(f"style_interpolation_widget: expected {len(styles)} names, got {len(names)}")
    content_features = adain.encode(net, content)
    cache = {"content_features": content_features,
             "targets": [adain.target(content_features, [adain.encode(net, s)]) for s in styles]}
    sliders = {f"w{k}": slider(name, 1.0, 0.0, 1.0, 0.05, readout=".2f") for k, name in enumerate(names)}

    def render(**values):
        weights = _normalised([values[f"w{k}"] for k in range(len(styles))])
        return adain.decode(net, sum(w * t for w, t in zip(weights, cache["targets"])))   # Eq. 15

    box = image_widget(render, sliders, title=title)
    box.cache = cache
    box.weights = lambda: _normalised([s.value for s in sliders.values()])
    return _with_inputs(box, [content] + styles, "content, " + ", ".join(names))


def default_masks(size: int) -> dict[str, torch.Tensor]:
    """A few masks ``1×1×size×size`` (1 = the first style's region) for :func:`spatial_widget`."""
    t = (torch.arange(size) + 0.5) / size
    x, y = t.view(1, -1).expand(size, size), t.view(-1, 1).expand(size, size)
    shapes = {"left half": x < 0.5, "top half": y < 0.5,
              "centre disc": (x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.09,
              "diagonal": x > y}
    return {name: m.float()[None, None] for name, m in shapes.items()}


def spatial_widget(net: adain.StyleTransferNet, content: torch.Tensor, style_a: torch.Tensor,
                   style_b: torch.Tensor, masks: Mapping[str, torch.Tensor] | None = None,
                   title: str = "Spatial control: style A where the mask is 1, style B elsewhere"):
    """A dropdown of masks (:func:`default_masks` by default) and an ``α`` slider: draws
    ``adain.stylize(net, content, [style_a, style_b], alpha=α, mask=masks[choice])``."""
    content = _one(content, "spatial_widget(content)")
    style_a, style_b = _one(style_a, "spatial_widget(style_a)"), _one(style_b, "spatial_widget(style_b)")
    masks = default_masks(content.shape[-1]) if masks is None else dict(masks)
    if not masks:
        raise ValueError("spatial_widget: expected at least one mask")
    for name, m in masks.items():
        check_mask(m, f"spatial_widget(masks[{name!r}])", like=content)
    content_features = adain.encode(net, content)
    style_features = [adain.encode(net, style_a), adain.encode(net, style_b)]
    cache = {"content_features": content_features,
             "targets": {name: adain.target(content_features, style_features, mask=m)
                         for name, m in masks.items()}}
    controls = {"mask": W.Dropdown(options=list(masks), value=next(iter(masks)), description="mask"),
                "alpha": _alpha_slider(1.0)}

    def render(mask, alpha):
        return adain.decode(net, adain.blend(cache["content_features"], cache["targets"][mask], alpha))

    box = image_widget(render, controls, title=title)
    box.cache = cache
    return _with_inputs(box, [content, style_a, style_b], "content, style A, style B")
