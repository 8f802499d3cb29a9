"""Lecture 06's painting widget in a real browser: JupyterLab + headless Chromium, as in test_browser.py.

The test runs the lecture, drags the mouse across the label-map canvas of the painting widget,
and checks that the label map changed along the stroke (the canvas's pixels on the stroke take
the palette class's colour) and that the generated landscape beside it changed. Screenshots go
to ``test-output/browser/``.
"""

from __future__ import annotations

import time

import pytest
from test_browser import (  # noqa: F401  (jupyterlab is a fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    OUTPUT,
    ROOT,
    _copy_under_output,
    _failures,
    _run_all_cells,
    _save_and_read,
    jupyterlab,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

LECTURE = "lectures/06_spade_gaugan.ipynb"
# the pixels of a canvas, as a data URL, and the colour of one pixel (in canvas pixels)
_DATA_URL = "(c) => c.toDataURL()"
_PIXEL = "(c, [x, y]) => Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3))"


@pytest.mark.skipif(not (ROOT / LECTURE).exists(), reason="no lecture 06")
def test_painting_a_stroke_changes_the_map_and_the_landscape(jupyterlab):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from course_lib.data import LANDSCAPE_CLASSES

    url, token = jupyterlab
    path = _copy_under_output(LECTURE)
    shot = OUTPUT / f"{path.stem}-painting.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/{path.relative_to(ROOT).as_posix()}?token={token}&reset")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            _run_all_cells(page, url, token, path)
            problems = _failures(_save_and_read(page, path))
            assert not problems, "lecture 06 in the browser:\n" + "\n".join(problems[:5])

            widget = page.locator(".spade-painting").first
            widget.scroll_into_view_if_needed()
            canvases = widget.locator("canvas")
            canvases.first.wait_for(state="visible")
            label_canvas, result_canvas = canvases.nth(0), canvases.nth(1)
            box = label_canvas.bounding_box()
            result_before = result_canvas.evaluate(_DATA_URL)
            y = box["y"] + box["height"] * 0.3
            page.mouse.move(box["x"] + box["width"] * 0.1, y)
            page.mouse.down()
            for k in range(1, 21):
                page.mouse.move(box["x"] + box["width"] * (0.1 + 0.04 * k), y)
            page.mouse.up()
            deadline = time.monotonic() + 60
            while result_canvas.evaluate(_DATA_URL) == result_before and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(1.0)
            scale = label_canvas.evaluate("(c) => c.width") / box["width"]
            row = int(box["height"] * 0.3 * scale)
            along = [label_canvas.evaluate(_PIXEL, [int(box["width"] * f * scale), row])
                     for f in (0.3, 0.5, 0.7)]
            widget.screenshot(path=str(shot))
            result_after = result_canvas.evaluate(_DATA_URL)
        finally:
            browser.close()
    print(f"\nscreenshot: {shot}")
    palette = [c for _, c in LANDSCAPE_CLASSES]     # the nearest class colour (canvases round a little)
    nearest = [min(range(len(palette)), key=lambda k: sum((a - b) ** 2 for a, b in zip(px, palette[k])))
               for px in along]
    assert nearest == [4, 4, 4], f"the map along the stroke is not grass: {along}"
    assert result_after != result_before, "the generated landscape did not change after the stroke"
