"""Lecture 07's paint-to-edit widget in a real browser: JupyterLab + headless Chromium, as in test_browser.py.

A small notebook makes the widget as lecture 07 does (the shipped DCGAN dissected at
``ganpaint.LAYER``, a held-out render prepared by ``GANPaint``, fewer samples and steps), and a
second cell asks the kernel what the library computes for the region the widget holds. The test
runs both cells, drags the mouse across the photo's canvas, and checks that the painted region
lies along the stroke, that the edited photo on the right canvas changed, and that its pixels are
:meth:`course_lib.ganpaint.GANPaint.edit`'s image for that region (the second cell, run again after
the stroke). Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import base64
import io
import json
import time

import nbformat
import pytest
from test_browser import (  # noqa: F401  (jupyterlab is a fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    OUTPUT,
    ROOT,
    _failures,
    _kernel,
    _run_all_cells,
    _save_and_read,
    _wait_idle,
    jupyterlab,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

SCALE, BRUSH = 4, 8
# the painting widget of lecture 07, made quickly (a small dissection, a few steps of each stage)
MAKE = f"""\
from course_lib import data, dissection, ganpaint, pretrained
from course_lib.widgets.ganpaint import editing_widget

G = pretrained.load("dcgan-landscapes64")
segmenter = pretrained.load("segmenter-landscapes128")
dissected = dissection.dissect(G, segmenter, ganpaint.LAYER, samples=20, batch_size=20)
config = ganpaint.GANPaintConfig(z_steps=10, z_restarts=1, feature_steps=10, adapt_steps=10)
painter = ganpaint.GANPaint(G, dissected, config)
photo = data.landscapes(1, size=64, seed=data.HELD_OUT_SEED, style="day")[0]
prepared = painter.prepare(photo)
widget = editing_widget(painter, prepared, concept="tree", mode="add", scale={SCALE}, brush={BRUSH})
widget"""
# what the library computes for the widget's region, as the right canvas should show it
ORACLE = """\
import base64, json
from course_lib.images import png_bytes

painted = widget.region[0, 0].nonzero()
expected = (painter.edit(prepared, widget.region, widget.concept.value, widget.mode.value).image
            if len(painted) else prepared.photo)
print(json.dumps({"painted": len(painted),
                  "rows": [int(painted[:, 0].min()), int(painted[:, 0].max())] if len(painted) else [],
                  "cols": [int(painted[:, 1].min()), int(painted[:, 1].max())] if len(painted) else [],
                  "png": base64.b64encode(png_bytes(expected, scale=widget.scale)).decode()}))"""
NOTEBOOK = nbformat.v4.new_notebook(
    cells=[nbformat.v4.new_code_cell(MAKE), nbformat.v4.new_code_cell(ORACLE)],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                             "language": "python"}})

_DATA_URL = "(c) => c.toDataURL()"
# the canvas's pixels as a PNG (base64), read back from the canvas itself
_PNG = "(c) => c.toDataURL('image/png').split(',')[1]"


def _rgb(png_b64: str):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png_b64))).convert("RGB"), dtype=np.int16)


def _oracle(nb) -> dict:
    text = "".join(o.get("text", "") for o in nb.cells[1].get("outputs", []) if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_painting_a_stroke_shows_the_library_edit_of_that_region(jupyterlab):  # noqa: F811
    from playwright.sync_api import sync_playwright

    url, token = jupyterlab
    folder = OUTPUT / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ganpaint_widget.ipynb"
    path.write_text(nbformat.writes(NOTEBOOK), encoding="utf-8")
    shot = OUTPUT / "ganpaint-editing.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/{path.relative_to(ROOT).as_posix()}?token={token}&reset")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            _run_all_cells(page, url, token, path)
            nb = _save_and_read(page, path)
            problems = _failures(nb)
            for _ in range(5):   # as test_browser.py: cells still queued on a loaded machine
                if not problems or not all(p.endswith("did not run") for p in problems):
                    break
                time.sleep(5)
                _wait_idle(lambda: _kernel(url, token, path), 420)
                nb = _save_and_read(page, path)
                problems = _failures(nb)
            assert not problems, "the widget notebook in the browser:\n" + "\n".join(problems[:5])
            assert _oracle(nb)["painted"] == 0

            widget = page.locator(".ganpaint-editing").first
            widget.scroll_into_view_if_needed()
            canvases = widget.locator("canvas")
            canvases.first.wait_for(state="visible")
            photo_canvas, edited_canvas = canvases.nth(0), canvases.nth(1)
            box = photo_canvas.bounding_box()
            before = edited_canvas.evaluate(_DATA_URL)
            y = box["y"] + box["height"] * 0.7                 # across the foreground
            page.mouse.move(box["x"] + box["width"] * 0.2, y)
            page.mouse.down()
            for k in range(1, 13):
                page.mouse.move(box["x"] + box["width"] * (0.2 + 0.05 * k), y)
            page.mouse.up()
            deadline = time.monotonic() + 60
            while edited_canvas.evaluate(_DATA_URL) == before and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(1.0)
            shown = edited_canvas.evaluate(_PNG)
            changed = edited_canvas.evaluate(_DATA_URL) != before
            widget.screenshot(path=str(shot))

            # ask the kernel what the library computes for the region the mouse painted
            kernel = lambda: _kernel(url, token, path)  # noqa: E731
            last_activity = kernel().get("last_activity")
            page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-InputArea-editor").click()
            page.keyboard.press("Shift+Enter")
            deadline = time.monotonic() + 30
            while kernel().get("last_activity") == last_activity and time.monotonic() < deadline:
                time.sleep(0.3)
            _wait_idle(kernel, 120)
            oracle = _oracle(_save_and_read(page, path))
        finally:
            browser.close()
    print(f"\nscreenshot: {shot}")
    assert changed, "the edited photo did not change after the stroke"
    side = 64
    row, (x0, x1) = round(side * 0.7), (side * 0.2, side * 0.8)
    reach = BRUSH / 2 + 1
    assert oracle["painted"] > 0, "the stroke painted no region"
    assert row - reach <= oracle["rows"][0] <= oracle["rows"][1] <= row + reach, (
        f"the painted rows {oracle['rows']} are not around the stroke's row {row}")
    assert x0 - reach <= oracle["cols"][0] and oracle["cols"][1] <= x1 + reach, (
        f"the painted columns {oracle['cols']} are not along the stroke ({x0:.0f}-{x1:.0f})")
    got, expected = _rgb(shown), _rgb(oracle["png"])
    assert got.shape == expected.shape == (side * SCALE, side * SCALE, 3), (got.shape, expected.shape)
    assert abs(got - expected).max() <= 2, (
        "the right canvas does not show GANPaint.edit's image for the painted region "
        f"(max difference {abs(got - expected).max()})")
