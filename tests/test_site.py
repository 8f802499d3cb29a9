"""The course website: `make site` builds it with Jupyter Book from site/_config.yml and site/_toc.yml.

The compromise, for time. `make site` executes all eight lectures; `make test` already executes each of
them through nbval and must stay under 20 minutes, so this test executes lecture 00 only (fast mode)
and renders lectures 01-07 from the table of contents as committed (outputs cleared, execution off
through `execute.exclude_patterns`). What it still catches is the site's own: the configuration and
the table of contents parse, every lecture gets a page, execution runs in lectures/ and its output
reaches the page, and a cell that raises fails the build (the second test, on a one-cell notebook).
What it leaves to nbval: that lectures 01-07 run.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
LECTURES = sorted(p.stem for p in (ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    found = str(exe) if exe.exists() else shutil.which("jupyter-book")
    assert found, "jupyter-book is not installed: `make install` brings it (pyproject.toml's dev extras)"
    return found


def build(source: Path, config: dict, out: Path, toc: Path) -> subprocess.CompletedProcess:
    """`make site`'s command, with a configuration written next to the output."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "COURSE_FAST": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    return subprocess.run(
        [jupyter_book(), "build", str(source), "--all", "--path-output", str(out),
         "--config", str(out / "_config.yml"), "--toc", str(toc)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=540,
    )


def site_config() -> dict:
    return yaml.safe_load((SITE / "_config.yml").read_text())


def test_make_site_builds_from_site_folder():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^site:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "the Makefile has no `site` target"
    assert "site/_config.yml" in recipe.group(1) and "site/_toc.yml" in recipe.group(1)
    execute = site_config()["execute"]
    assert execute["execute_notebooks"] == "force" and execute["run_in_temp"] is False
    assert execute["allow_errors"] is False and execute["raise_on_error"] is True
    assert execute["timeout"] >= 3600, "a full-mode cell may take an hour"
    toc = yaml.safe_load((SITE / "_toc.yml").read_text())
    listed = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert listed == LECTURES, "site/_toc.yml lists exactly the lectures, in order"


def test_site_builds_every_lecture_with_lecture_00_executed(tmp_path):
    config = site_config()
    config["execute"]["exclude_patterns"] = [f"{name}.ipynb" for name in LECTURES[1:]]
    result = build(ROOT / "lectures", config, tmp_path, SITE / "_toc.yml")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert not re.search(r"\b(ERROR|CRITICAL|SEVERE)\b", log), log[-6000:]
    html = tmp_path / "_build" / "html"
    assert not (html / "reports").exists(), "a notebook failed to execute: see " + str(html / "reports")
    assert (html / "index.html").is_file()
    for name in LECTURES:
        assert (html / f"{name}.html").is_file(), f"no page for {name}"
    welcome = (html / "00_welcome.html").read_text()
    # printed by lecture 00's first code cell; its source spells it differently (`fast_mode()`)
    assert "fast mode: True" in welcome, "lecture 00's outputs did not reach its page"
    assert not (html / "solutions").exists() and not list(html.glob("*warmup*"))


def test_a_cell_that_raises_fails_the_build(tmp_path):
    source = tmp_path / "book"
    source.mkdir()
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": 'raise ValueError("this cell fails on purpose")'}
    notebook = {"cells": [cell], "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                            "language": "python"}}}
    (source / "broken.ipynb").write_text(json.dumps(notebook))
    (source / "_toc.yml").write_text("format: jb-book\nroot: broken\n")
    result = build(source, site_config(), tmp_path / "out", source / "_toc.yml")
    assert result.returncode != 0
    assert "this cell fails on purpose" in result.stdout + result.stderr
