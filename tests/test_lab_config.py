"""`make lab` opens a student's JupyterLab; `make lab-instructor` one with nbgrader's tools.

Both start JupyterLab with JUPYTER_CONFIG_DIR set to a folder of ``jupyter/`` (jupyter/README.md).
This test starts a server with a copy of each folder, exactly as the Makefile does, and reads what
JupyterLab tells the page (its ``jupyter-config-data``) and which of nbgrader's server pages exist.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBGRADER = "@jupyter/nbgrader"
NEWS = "@jupyterlab/apputils-extension:announcements"


def _make_target_uses(target: str) -> str:
    """The JUPYTER_CONFIG_DIR folder that ``make TARGET`` sets, read from the Makefile."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}: install\n\tJUPYTER_CONFIG_DIR=\"\$\(CURDIR\)/([\w/]+)\"", text, re.M)
    assert match, f"the Makefile's {target} target does not set JUPYTER_CONFIG_DIR"
    return match.group(1)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""
    except urllib.error.URLError:            # not listening yet
        return 0, ""


@pytest.fixture(params=["lab", "lab-instructor"])
def lab(request, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(ROOT / _make_target_uses(request.param), config)
    port, token = _port(), secrets.token_hex(8)
    env = {**__import__("os").environ, "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={ROOT}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while _get(f"{url}/api/status?token={token}")[0] != 200:
            assert server.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
            time.sleep(0.3)
        yield request.param, url, token
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.timeout(180)
def test_students_get_no_nbgrader_and_no_news_popup_instructors_get_nbgrader(lab):
    target, url, token = lab
    status, page = _get(f"{url}/lab?token={token}")
    assert status == 200
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    config = json.loads(found.group(1))
    disabled = set(config.get("disabledExtensions", []))
    assert NEWS in disabled, f"make {target}: the news pop-up is on"
    formgrader = _get(f"{url}/formgrader?token={token}")[0]
    if target == "lab":
        assert NBGRADER in disabled, "make lab shows nbgrader's menu and panels to students"
        assert formgrader == 404, "make lab serves nbgrader's formgrader to students"
    else:
        assert NBGRADER not in disabled, "make lab-instructor hides nbgrader"
        assert formgrader in (200, 302), f"make lab-instructor has no formgrader ({formgrader})"
