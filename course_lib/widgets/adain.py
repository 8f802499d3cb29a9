"""Widgets for AdaIN's user controls (lecture 05), built on :func:`course_lib.widgets.image_widget`.

Each widget encodes its images once and keeps the encoder's features, so that moving a slider
only mixes features and runs the decoder: the feed-forward transfer is what makes these
controls interactive at all (Gatys' optimisation would take minutes per position).

- :func:`alpha_widget`: the content-style trade-off ``α`` (Eq. 14);
- :func:`interpolation_widget`: 2-4 styles with a weight slider each (Eq. 15);
- :func:`spatial_widget`: two styles in the two regions of a mask (Sec. 7.3).

Every widget shows the content and the style(s) once, above the controls, and redraws the
result alone; images are shown at ``scale`` times their size in pixels (1: a 256 px result
shows 256 px wide), never stretched to the page.
"""

from __future__ import annotations

import torch

from . import adain
from .checks import check_image
from .images import png_bytes, resize
from .widgets import image_widget

__all__ = ["alpha_widget", "interpolation_widget", "spatial_widget", "default_masks"]


def _inputs_row(images: list[torch.Tensor], size: int, scale: int, caption: str):
    """A static row of the inputs (drawn once), each resized to ``size`` for display."""
    import ipywidgets as W

    row = W.Image(value=png_bytes(torch.cat([resize(x[:1], size) for x in images]), scale=scale),
                  format="png")
    return W.VBox([W.HTML(f"<i>{caption}</i>"), row])


def _one(x: torch.Tensor, who: str) -> torch.Tensor:
    x = check_image(x, who)
    if len(x) != 1:
        raise ValueError(f"{who}: expected one image 1×3×H×W, got a batch of {len(x)}")
    return x


def _framed(box, inputs, caption: str):
    import ipywidgets as W

    outer = W.VBox([_inputs_row(inputs, box.size, box.scale, caption), box])
    for name in ("image", "controls", "cache"):
        setattr(outer, name, getattr(box, name))
    outer.widget = box
    return outer


def alpha_widget(net: adain.StyleTransferNet, content: torch.Tensor, style: torch.Tensor,
                 alpha: float = 1.0, scale: int = 1,
                 title: str = "Content-style trade-off: g((1 − α) f(c) + α AdaIN(f(c), f(s)))"):
    """A slider for ``α`` in [0, 1]; the result equals ``adain.stylize(net, content, style, α)``.

    The returned box has ``image`` (the result), ``controls``, ``cache`` (``f(c)`` and ``t``)
    and ``widget`` (the :func:`~course_lib.widgets.image_widget` inside, whose
    ``last_render_ms`` is the last redraw: decode plus PNG encoding)."""
    import ipywidgets as W

    content, style = _one(content, "alpha_widget(content)"), _one(style, "alpha_widget(style)")
    content_features = adain.encode(net, content)
    cache = {"content_features": content_features,
             "target": adain.target(content_features, [adain.encode(net, style)])}
    slider = W.FloatSlider(value=adain._check_alpha(alpha, "alpha_widget"), min=0.0, max=1.0,
                           step=0.05, description="α", continuous_update=True, readout_format=".2f")

    def render(alpha):
        return adain.decode(net, adain.blend(cache["content_features"], cache["target"], alpha))

    box = image_widget(render, {"alpha": slider}, title=title, scale=scale)
    box.cache, box.size, box.scale = cache, content.shape[-1], scale
    return _framed(box, [content, style], "content, style")


def interpolation_widget(net: adain.StyleTransferNet, content: torch.Tensor, styles: list[torch.Tensor],
                         names: list[str] | None = None, scale: int = 1,
                         title: str = "Style interpolation: g(Σ w_k AdaIN(f(c), f(s_k))), weights "
                                      "normalised to sum 1"):
    """One weight slider per style (2 to 4 styles). The weights are divided by their sum (all at
    zero: equal weights), so the result equals ``adain.stylize(net, content, styles,
    weights=normalised)``; ``box.weights()`` gives the normalised weights of the sliders."""
    import ipywidgets as W

    content = _one(content, "interpolation_widget(content)")
    if not isinstance(styles, (list, tuple)) or not 2 <= len(styles) <= 4:
        raise ValueError(f"interpolation_widget: expected a list of 2 to 4 style images, got "
                         f"{len(styles) if isinstance(styles, (list, tuple)) else type(styles).__name__}")
    styles = [_one(s, f"interpolation_widget(styles[{k}])") for k, s in enumerate(styles)]
    names = list(names) if names is not None else [f"style {k + 1}" for k in range(len(styles))]
    if len(names) != len(styles):
        raise ValueError(f"interpolation_widget: expected {len(styles)} names, got {len(names)}")
    content_features = adain.encode(net, content)
    cache = {"content_features": content_features,
             "targets": [adain.adain(content_features, adain.encode(net, s)) for s in styles]}
    sliders = {f"w{k}": W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description=name,
                                      continuous_update=True, readout_format=".2f")
               for k, name in enumerate(names)}

    def normalised(values: list[float]) -> list[float]:
        total = sum(values)
        return [1 / len(values)] * len(values) if total <= 0 else [v / total for v in values]

    def render(**values):
        weights = normalised([values[f"w{k}"] for k in range(len(styles))])
        return adain.decode(net, sum(w * t for w, t in zip(weights, cache["targets"])))

    box = image_widget(render, sliders, title=title, scale=scale)
    box.cache, box.size, box.scale = cache, content.shape[-1], scale
    outer = _framed(box, [content] + styles, "content, " + ", ".join(names))
    outer.weights = lambda: normalised([s.value for s in sliders.values()])
    return outer


def default_masks(size: int) -> dict[str, torch.Tensor]:
    """A few masks ``1×1×size×size`` (1 = the first style's region) for :func:`spatial_widget`."""
    t = (torch.arange(size) + 0.5) / size
    x, y = t.view(1, -1).expand(size, size), t.view(-1, 1).expand(size, size)
    shapes = {"left half": x < 0.5, "top half": y < 0.5,
              "centre disc": (x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.09,
              "diagonal": x > y}
    return {name: m.float()[None, None] for name, m in shapes.items()}


def spatial_widget(net: adain.StyleTransferNet, content: torch.Tensor, style_a: torch.Tensor,
                   style_b: torch.Tensor, masks: dict[str, torch.Tensor] | None = None,
                   scale: int = 1,
                   title: str = "Spatial control: style A where the mask is 1, style B elsewhere"):
    """A dropdown of masks (:func:`default_masks` by default) and an ``α`` slider; the result
    equals ``adain.stylize(net, content, [style_a, style_b], alpha, mask=masks[choice])``."""
    import ipywidgets as W

    from .checks import check_mask

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
                "alpha": W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="α",
                                       continuous_update=True, readout_format=".2f")}

    def render(mask, alpha):
        return adain.decode(net, adain.blend(cache["content_features"], cache["targets"][mask], alpha))

    box = image_widget(render, controls, title=title, scale=scale)
    box.cache, box.size, box.scale = cache, content.shape[-1], scale
    return _framed(box, [content, style_a, style_b], "content, style A, style B")
