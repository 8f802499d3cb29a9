"""A run's training curves: its losses over the steps, and its samples over the steps.

The :class:`~course_lib.trainer.Trainer` keeps every step's losses (``history``) and writes a
sample grid every ``sample_every`` steps (``samples/step_NNNNNN.png``). A step's loss of a GAN
is too noisy to read and a run's grids are megabytes, so at export :func:`record` condenses
both into two small files beside the weights ``NAME.safetensors``:

- ``NAME.curves.json`` (:func:`window_means`): each loss averaged over consecutive windows of
  steps, at most :data:`MAX_POINTS` points, with the step each window ends at::

      {"steps": 5000, "window": 25, "step": [25, 50, ..., 5000],
       "losses": {"d": [...], "g": [...]}, "sample_steps": [500, 1500, ...]}

  (a loss that a window never reports, such as a discriminator's before it starts, is ``null``);
- ``NAME.samples.png`` (:func:`samples_strip`): up to :data:`MAX_PANELS` of the grids at evenly
  spaced steps, downsized, each labelled with its step, under :data:`STRIP_BYTES`.

:func:`companions` names the two files of a weights file; publishing
(:func:`course_lib.pretrained.publish`) ships them with the checkpoint, and
:func:`course_lib.pretrained.show_training` shows them in a lecture with :func:`plot`.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

from .checkpoints import atomic_write, stepped_files

__all__ = ["MAX_POINTS", "MAX_PANELS", "STRIP_BYTES", "SAMPLES", "SUFFIXES", "companions",
           "window_means", "sample_grids", "samples_strip", "record", "load", "plot"]

MAX_POINTS = 200          # points per loss curve
MAX_PANELS = 6            # sample grids in the strip
STRIP_BYTES = 300_000     # the strip's PNG stays under this
PANEL_WIDTH = 320         # pixels of one downsized grid (shrunk further if the strip is too big)
PANELS_PER_ROW = 3
SAMPLES = "samples"       # the folder of a run that the trainer writes its grids to
#: the files beside ``NAME.safetensors``, by the key that names them in a manifest entry
SUFFIXES = {"curves": ".curves.json", "samples": ".samples.png"}


def companions(weights: str | Path) -> dict[str, Path]:
    """The curves and samples files that belong beside ``weights`` (``NAME.safetensors``)."""
    weights = Path(weights)
    if weights.suffix != ".safetensors":
        raise ValueError(f"companions: expected a NAME.safetensors path, got {str(weights)!r}")
    return {kind: weights.with_suffix(suffix) for kind, suffix in SUFFIXES.items()}


def _checked_history(history: Sequence[Mapping[str, float]], steps: int | None) -> list:
    if not isinstance(history, Sequence) or not all(isinstance(h, Mapping) for h in history):
        raise ValueError("window_means: expected the history as a list of {loss name: value} dicts, "
                         f"one per step, got {type(history).__name__}")
    if steps is None:
        return list(history)
    if not isinstance(steps, int) or not 1 <= steps <= len(history):
        raise ValueError(f"window_means: steps must be from 1 to the {len(history)} steps the history "
                         f"covers, got {steps!r}")
    return list(history[:steps])


def window_means(history: Sequence[Mapping[str, float]], steps: int | None = None,
                 max_points: int = MAX_POINTS) -> dict:
    """Each loss of ``history`` (``history[i]``: step ``i + 1``'s losses) averaged over consecutive
    windows of ``ceil(steps / max_points)`` steps, the last window possibly shorter; ``steps``
    (default: all) keeps only the first steps, as far as a shipped snapshot went."""
    history = _checked_history(history, steps)
    if not history:
        raise ValueError("window_means: the history is empty (no step trained)")
    if not isinstance(max_points, int) or max_points < 1:
        raise ValueError(f"window_means: max_points must be a positive int, got {max_points!r}")
    window = math.ceil(len(history) / max_points)
    names = list(dict.fromkeys(k for h in history for k in h))     # in the order they first appear
    ends, losses = [], {k: [] for k in names}
    for start in range(0, len(history), window):
        chunk = history[start:start + window]
        ends.append(start + len(chunk))
        for k in names:
            values = [float(h[k]) for h in chunk if k in h]
            mean = math.fsum(values) / len(values) if values else math.nan
            losses[k].append(float(f"{mean:.6g}") if math.isfinite(mean) else None)
    return {"steps": len(history), "window": window, "step": ends, "losses": losses}


def sample_grids(samples_dir: str | Path, steps: int) -> dict[int, Path]:
    """The sample grids a run wrote (``samples/step_NNNNNN.png``) up to step ``steps``, by step."""
    return {s: p for s, p in stepped_files(samples_dir, ".png").items() if s <= steps}


def _evenly_spaced(items: Sequence[int], k: int) -> list[int]:
    if len(items) <= k:
        return list(items)
    if k == 1:
        return [items[-1]]
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def _label(text: str, width: int, height: int) -> Image.Image:
    """A mask of ``text`` in PIL's default font drawn at half size and enlarged 2×, to be legible
    when the strip is shown shrunk (Pillow < 10.1 has no default font at a chosen size)."""
    small = Image.new("L", (max(1, width // 2), height // 2), 0)
    ImageDraw.Draw(small).text((1, 0), text, fill=255, font=ImageFont.load_default())
    return small.resize((width, height), Image.BICUBIC)


def _render(panels: Mapping[int, Image.Image], width: int) -> bytes:
    band, pad = 24, 6                                              # label band above a panel, gap
    shrunk = {s: im.resize((width, max(1, round(im.height * width / im.width))), Image.LANCZOS)
              for s, im in panels.items()}
    cols = min(PANELS_PER_ROW, len(shrunk))
    rows = math.ceil(len(shrunk) / cols)
    cell = band + max(im.height for im in shrunk.values())
    sheet = Image.new("RGB", (cols * width + (cols - 1) * pad, rows * cell + (rows - 1) * pad), "white")
    for k, (step, im) in enumerate(shrunk.items()):
        x, y = (k % cols) * (width + pad), (k // cols) * (cell + pad)
        sheet.paste(im, (x, y + band))
        sheet.paste((0, 0, 0), (x, y, x + width, y + band), _label(f"step {step:,}", width, band))
    buf = io.BytesIO()
    sheet.quantize(256).save(buf, format="PNG", optimize=True)   # an adaptive palette: a third the bytes
    return buf.getvalue()


def samples_strip(grids: Mapping[int, str | Path], panels: int = MAX_PANELS,
                  max_bytes: int = STRIP_BYTES) -> tuple[bytes, list[int]]:
    """PNG bytes of up to ``panels`` of ``grids`` (step -> PNG file) at evenly spaced steps, the
    first and the last among them, ``PANELS_PER_ROW`` to a row, each labelled with its step and
    downsized until the PNG is under ``max_bytes``; and the steps shown."""
    if not grids:
        raise ValueError("samples_strip: no sample grids to show")
    chosen = _evenly_spaced(sorted(grids), panels)
    images = {}
    for step in chosen:
        with Image.open(grids[step]) as im:
            images[step] = im.convert("RGB")
    width = PANEL_WIDTH
    while True:
        png = _render(images, width)
        if len(png) < max_bytes:
            return png, chosen
        if width <= 48:
            raise ValueError(f"samples_strip: the strip stays over {max_bytes} bytes even at {width} px "
                             "a grid")
        width = int(width * 0.8)


def record(history: Sequence[Mapping[str, float]], samples_dir: str | Path | None,
           weights: str | Path, steps: int | None = None) -> dict[str, Path]:
    """Write ``weights``' curves file (the first ``steps`` of ``history``, default all) and, if the
    run wrote sample grids up to that step into ``samples_dir``, its samples strip; returns the
    files written ({} for an empty history: nothing was trained) and removes an earlier export's
    files that these weights have none of."""
    files = companions(weights)
    written = {}
    if history:
        curves = window_means(history, steps)
        grids = sample_grids(samples_dir, curves["steps"]) if samples_dir is not None else {}
        if grids:
            png, curves["sample_steps"] = samples_strip(grids)
            written["samples"] = atomic_write(files["samples"], lambda tmp: tmp.write_bytes(png))
        text = json.dumps(curves, separators=(",", ":")) + "\n"
        written["curves"] = atomic_write(files["curves"], lambda tmp: tmp.write_text(text))
    for kind, path in files.items():        # an earlier export's, which would not match these weights
        if kind not in written:
            path.unlink(missing_ok=True)
    return dict(sorted(written.items()))


def load(path: str | Path) -> dict:
    """A curves file written by :func:`record`, checked."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"curves: no curves file at {str(path)!r}")
    try:
        curves = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"curves: {str(path)!r} is not valid JSON: {err}") from err
    if (not isinstance(curves, dict) or not {"steps", "window", "step", "losses"} <= set(curves)
            or not isinstance(curves["losses"], dict) or not isinstance(curves["step"], list)
            or any(not isinstance(v, list) or len(v) != len(curves["step"])
                   for v in curves["losses"].values())):
        raise ValueError(f"curves: {str(path)!r} is not a curves file (expected steps, window, step "
                         "and losses, one value per step)")
    return curves


def plot(curves: Mapping, samples_png: str | Path | None = None, title: str = "training"):
    """A figure of ``curves`` (:func:`load`): one panel per loss against the step, and below them
    the samples strip ``samples_png`` if given. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    names = list(curves["losses"])
    cols = min(len(names), 3)
    rows = math.ceil(len(names) / cols)
    width = 9.0                                                    # inches, whatever the losses
    strip = None
    if samples_png is not None:
        with Image.open(samples_png) as im:
            strip = im.convert("RGB")
    strip_height = 0.0 if strip is None else width * strip.height / strip.width
    fig = plt.figure(figsize=(width, 2.4 * rows + strip_height + 0.5))
    grid = fig.add_gridspec(rows + (strip is not None), cols,
                            height_ratios=[2.4] * rows + ([strip_height] if strip is not None else []))
    for k, name in enumerate(names):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        values = [math.nan if v is None else v for v in curves["losses"][name]]
        ax.plot(curves["step"], values, lw=1.2)
        ax.set(xlabel="step", ylabel=name, title=name)
        ax.grid(alpha=0.3)
    if strip is not None:
        ax = fig.add_subplot(grid[rows, :])
        ax.imshow(strip, interpolation="lanczos")
        ax.set_title("samples over the steps (each grid labelled with its step)", fontsize=9)
        ax.axis("off")
    each = "every step" if curves["window"] == 1 else f"each point the mean of {curves['window']} steps"
    fig.suptitle(f"{title}: {curves['steps']:,} steps, {each}")
    fig.tight_layout()
    return fig
