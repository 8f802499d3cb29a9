"""Widgets in a real browser: JupyterLab + headless Chromium (Debian's package) via Playwright.

nbval cannot move a slider, so this test does what a student does: it starts
JupyterLab on a free local port, opens a notebook in a laptop-sized window (1366 × 768), runs
all cells from the Run menu, and looks at the first of the course's image widgets:

- the image is shown at its own size (the PNG's pixels, at most 640 × 420), never stretched;
- scrolled to, the slider and the image it drives are both inside the window at once;
- after the right arrow key moves the slider, the picture changes, and where the test knows
  what the library computes for the new value (``ORACLES``), it is that picture.

Screenshots of the page and of the widget go to ``test-output/browser/``.

The browser is Debian's ``chromium`` (``apt-get install chromium``), never one
that Playwright downloads. Without it, or without the playwright package, the
test is skipped with the reason. Nothing outside a temporary folder is
written: Jupyter's config, data, runtime, settings and workspace folders are
all temporary, autosave is off, and the notebook run is a copy under
``test-output/browser/``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "test-output" / "browser"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
RUN_TIMEOUT_S = int(os.environ.get("COURSE_BROWSER_TIMEOUT", "420"))  # running all cells
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", "--disable-default-apps", "--disable-extensions"]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

# A notebook that shows only the course's image widget: tests the browser path without a lecture.
DEMO = nbformat.v4.new_notebook(
    cells=[nbformat.v4.new_code_cell(
        "import ipywidgets as W\n"
        "import torch\n"
        "from course_lib.widgets import image_widget\n"
        "\n"
        "def render(level):\n"
        "    return torch.full((1, 3, 16, 16), level / 10 * 2 - 1)\n"
        "\n"
        "demo = image_widget(render, {'level': W.IntSlider(value=2, min=0, max=10, description='level')},\n"
        "                    title='grey level')\n"
        "demo")],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                             "language": "python"}})


VIEWPORT = {"width": 1366, "height": 768}


def _lecture00(seed: float):
    """Lecture 00's explorer: a face, a landscape and its label map for ``seed``, in the style
    "night" that the lecture's next cell chooses when it drives the widget from Python."""
    import torch

    from course_lib import data, images

    seed = int(seed)
    face, _ = data.faces(1, size=128, seed=seed)
    scene, labels, _ = data.landscapes(1, size=128, seed=seed, style="night")
    palette = [colour for _, colour in data.LANDSCAPE_CLASSES]
    return torch.cat([face, scene, images.colorize_labels(labels, palette)])


def _lecture01(step: float):
    """Lecture 01's first widget: the walk from the face of seed 3 to seed 11 in 24 frames."""
    from course_lib import pretrained, widgets

    step = int(step)
    return widgets.interpolation_walk(pretrained.load("dcgan-faces64"), 3, 11, 24)[step:step + 1]


def _lecture05(alpha: float):
    """Lecture 05's first widget, the content-style trade-off: the held-out day landscape in the
    strokes style at ``alpha`` (``adain.stylize``, which the widget draws)."""
    from course_lib import adain, data, pretrained

    content = data.landscapes(1, size=256, seed=data.HELD_OUT_SEED + 9, style="day")[0]
    style = data.styles(1, size=256, seed=data.HELD_OUT_SEED + 9, families="strokes")[0]
    return adain.stylize(pretrained.load("adain-worlds128"), content, style, alpha=alpha)


def _demo(level: float):
    import torch

    return torch.full((1, 3, 16, 16), int(level) / 10 * 2 - 1)


#: notebook -> the images the library computes for its first widget at a slider value (the
#: slider's readout, as a float)
ORACLES = {"widget_demo": _demo, "00_welcome": _lecture00, "01_dcgan_latent_arithmetic": _lecture01,
           "05_adain_style_transfer": _lecture05}


def _expected_png(images):
    """The PNG the course's image widget shows for ``images`` (one row, magnified to fit)."""
    from course_lib.images import png_bytes, tile
    from course_lib.widgets import display_scale

    return png_bytes(images, scale=display_scale(*tile(images).shape[:2]))


def _pixels(png: bytes):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


_SRC_BYTES = """async (sel) => {
    const im = document.querySelector(sel);
    const buf = new Uint8Array(await (await fetch(im.src)).arrayBuffer());
    let s = ''; for (const b of buf) s += String.fromCharCode(b); return btoa(s);
}"""
_INSIDE = """(el) => { const r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom, window.innerWidth, window.innerHeight]; }"""


def _notebooks():
    found = [pytest.param("demo", id="widget-demo")]
    # lectures 00-05 (02: the descent slider, 03: the morphing slider, 04: the hole, 05: α)
    for pattern in ("00_*.ipynb", "01_*.ipynb", "02_*.ipynb", "03_*.ipynb", "04_*.ipynb", "05_*.ipynb"):
        for path in sorted((ROOT / "lectures").glob(pattern)):
            found.append(pytest.param(str(path.relative_to(ROOT)), id=path.stem))
    return found


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does this)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on a free port, with every Jupyter folder temporary; yields (url, token)."""
    reason = _browser_missing()
    if reason and "COURSE_CHROMIUM" in os.environ:  # CI names the browser: it must run, not skip
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("jupyter")
    settings = home / "settings"
    lab = settings / "@jupyterlab"
    _write_json(lab / "docmanager-extension/plugin.jupyterlab-settings", {"autosave": False})
    _write_json(lab / "notebook-extension/tracker.jupyterlab-settings", {"windowingMode": "none"})
    _write_json(lab / "apputils-extension/notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, COURSE_FAST="1", JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               IPYTHONDIR=str(home / "ipython"), MPLCONFIGDIR=str(home / "matplotlib"),
               JUPYTER_PLATFORM_DIRS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log = (home / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--allow-root",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={ROOT}", f"--LabServerApp.user_settings_dir={settings}",
         f"--LabServerApp.workspaces_dir={home / 'workspaces'}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (home / "jupyterlab.log").read_text())
                time.sleep(0.3)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _copy_under_output(notebook: str) -> Path:
    """The notebook to open: a copy under test-output/browser/, so the committed one stays clean."""
    folder = OUTPUT / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    if notebook == "demo":
        dst = folder / "widget_demo.ipynb"
        dst.write_text(nbformat.writes(DEMO), encoding="utf-8")
    else:
        dst = folder / Path(notebook).name
        shutil.copyfile(ROOT / notebook, dst)
    return dst


_IMAGE_CHANGED = "([sel, old]) => { const im = document.querySelector(sel); return im && im.src !== old; }"


def _kernel(url: str, token: str, path: Path) -> dict | None:
    """The kernel of the notebook's session, from the server's REST API ({} before it starts)."""
    rel = path.relative_to(ROOT).as_posix()
    with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=5) as r:
        sessions = json.load(r)
    return next((s["kernel"] for s in sessions if s.get("path") == rel and s.get("kernel")), {})


def _wait(condition, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)


def _run_all_cells(page, url: str, token: str, path: Path) -> None:
    """Run > Run All Cells, then wait until the kernel has been idle for 3 s."""
    kernel = lambda: _kernel(url, token, path)  # noqa: E731
    _wait(lambda: kernel().get("execution_state") == "idle", 120, "the kernel to start")
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']:visible").first.wait_for(timeout=60_000)
    for _ in range(3):  # a click while the page is still connecting to the kernel is lost
        before = kernel().get("last_activity")
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            _wait(lambda old=before: kernel().get("last_activity") != old, 20, "the kernel to get busy")
            break
        except TimeoutError:
            page.keyboard.press("Escape")
    else:
        pytest.fail("Run All Cells did not reach the kernel (3 tries)")
    _wait_idle(kernel, RUN_TIMEOUT_S)


def _wait_idle(kernel, timeout: float) -> None:
    """Wait until the kernel has been idle for 3 s."""
    idle_since = [None]

    def settled():
        if kernel().get("execution_state") != "idle":
            idle_since[0] = None
            return False
        idle_since[0] = idle_since[0] or time.monotonic()
        return time.monotonic() - idle_since[0] > 3

    _wait(settled, timeout, "all cells to run")


def _save_and_read(page, path: Path) -> nbformat.NotebookNode:
    """Save the notebook from the browser (it is the copy) and read what ran and what failed."""
    before = path.stat().st_mtime_ns
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    _wait(lambda: path.stat().st_mtime_ns != before, 30, "JupyterLab to save the notebook")
    time.sleep(0.5)
    return nbformat.read(path, as_version=4)


def _failures(nb: nbformat.NotebookNode) -> list[str]:
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"cell {i}: {out.ename}: {out.evalue}")
        if cell.get("execution_count") is None:
            problems.append(f"cell {i}: did not run")
    return problems


@pytest.mark.parametrize("notebook", _notebooks())
def test_slider_redraws_the_image_in_chromium(jupyterlab, notebook):
    from playwright.sync_api import sync_playwright

    url, token = jupyterlab
    path = _copy_under_output(notebook)
    shot, widget_shot = OUTPUT / f"{path.stem}.png", OUTPUT / f"{path.stem}-widget.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/{path.relative_to(ROOT).as_posix()}?token={token}&reset")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            try:
                _run_all_cells(page, url, token, path)
            except TimeoutError as err:
                page.screenshot(path=str(OUTPUT / f"{path.stem}-timeout.png"))
                pytest.fail(f"{notebook}: {err}")
            problems = _failures(_save_and_read(page, path))
            # On a loaded machine the kernel can sit idle for 3 s between two queued cells; cells
            # still queued (none failed) get up to 5 more waits before they count as not run.
            for _ in range(5):
                if not problems or not all(p.endswith("did not run") for p in problems):
                    break
                time.sleep(5)
                _wait_idle(lambda: _kernel(url, token, path), RUN_TIMEOUT_S)
                problems = _failures(_save_and_read(page, path))
            assert not problems, f"{notebook} in the browser:\n" + "\n".join(problems[:5])

            image = page.locator("img.course-image").first
            image.wait_for(state="visible")
            widget = page.locator(".widget-vbox", has=page.locator("img.course-image")).last
            widget.scroll_into_view_if_needed()
            image.scroll_into_view_if_needed()
            before = image.get_attribute("src")
            assert before, "the course image has no src"
            natural = image.evaluate("im => [im.naturalWidth, im.naturalHeight]")
            box = image.bounding_box()
            handle = page.locator(".course-slider .noUi-handle").first
            inside = {"image": image.evaluate(_INSIDE), "slider": handle.evaluate(_INSIDE)}

            readout = page.locator(".course-slider .widget-readout").first
            value_before = readout.inner_text()
            handle.focus()
            for _ in range(3):
                handle.press("ArrowRight")
            page.wait_for_function(_IMAGE_CHANGED, arg=["img.course-image", before], timeout=60_000)
            after, settled = image.get_attribute("src"), time.monotonic()
            while time.monotonic() - settled < 2.0:   # each key press redraws: wait for the last one
                time.sleep(0.25)
                if image.get_attribute("src") != after:
                    after, settled = image.get_attribute("src"), time.monotonic()
            value_after = readout.inner_text()
            shown = page.evaluate(_SRC_BYTES, "img.course-image")
            page.screenshot(path=str(shot))
            widget.screenshot(path=str(widget_shot))
        finally:
            browser.close()
    print(f"\nscreenshots: {shot} {widget_shot}")
    width, height = natural
    assert width <= 640 and height <= 420, f"the image is {width}×{height} px, more than a laptop shows"
    assert abs(box["width"] - width) <= 1 and abs(box["height"] - height) <= 1, (
        f"the {width}×{height} px image is drawn at {box['width']:.0f}×{box['height']:.0f} px: stretched")
    for what, (left, top, right, bottom, vw, vh) in inside.items():
        assert left >= 0 and top >= 0 and right <= vw and bottom <= vh, (
            f"the {what} is not inside the {vw}×{vh} window together with the other: {inside}")
    assert value_after != value_before, f"the slider did not move (readout stayed {value_before})"
    assert after != before, "the image did not change after the slider moved"
    if path.stem in ORACLES:
        import base64

        import torch

        with torch.no_grad():
            expected = _pixels(_expected_png(ORACLES[path.stem](float(value_after))))
        got = _pixels(base64.b64decode(shown))
        assert got.shape == expected.shape and abs(got - expected).max() <= 2, (
            f"the widget does not show what the library computes for the value {value_after}")
