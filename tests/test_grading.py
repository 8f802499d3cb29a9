"""The one-command grader, on a fake submissions folder, and the nbgrader route.

One folder of submissions is graded once (module fixture), through the real
command line; each test then checks one student's row.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib import notebooks as nbs

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "00_warmup.ipynb"
EXERCISE = ROOT / "exercises" / "00_warmup.ipynb"
FULL = nbs.max_points(nbs.read(SOLUTION))  # from the test cells' points metadata
TIMEOUT = 12  # seconds per cell, short so that the infinite loop is cut quickly


def _env() -> dict:
    env = dict(os.environ, COURSE_FAST="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _cell(nb, gid):
    return next(c for c in nb.cells if nbs.grade_id(c) == gid)


def _write(nb, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbs.dumps(nb), encoding="utf-8")


def _points(gid: str) -> float:
    return nbs.points(_cell(nbs.read(SOLUTION), gid))


def _score(points: float) -> str:
    return f"{points:g}"  # as the CSV writes it


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


def _fake_submissions(root: Path) -> None:
    solution, exercise = nbs.read(SOLUTION), nbs.read(EXERCISE)

    _write(solution, root / "solved" / "00_warmup.ipynb")
    _write(exercise, root / "untouched" / "00_warmup.ipynb")
    # nbgrader's collect layout: <student>/<assignment>/<notebook>.ipynb
    _write(solution, root / "collected" / "00_warmup" / "00_warmup.ipynb")

    loop = nbs.read(SOLUTION)  # task 2 never returns; tasks 1 and 3 are right
    _cell(loop, "mask").source = "while True:\n    pass"
    _write(loop, root / "looping" / "00_warmup.ipynb")

    cheat = nbs.read(SOLUTION)  # task 1 wrong, its test edited to pass anyway, task 3's test deleted
    _cell(cheat, "convert").source = _cell(exercise, "convert").source.replace(
        "raise NotImplementedError()", "return torch.zeros(1, 3, 2, 2) if arr is not None else None")
    _cell(cheat, "test-convert").source = "assert True  # trust me"
    wrong_plot = _cell(cheat, "plot")
    wrong_plot.source = "masked, fig = image, None"
    cheat.cells = [c for c in cheat.cells if nbs.grade_id(c) != "test-plot"]
    _write(cheat, root / "cheating" / "00_warmup.ipynb")

    bypass = nbs.read(EXERCISE)  # untouched, plus a cell that turns every later cell into `pass`
    bypass.cells.insert(0, nbformat.v4.new_code_cell(
        "get_ipython().input_transformers_cleanup.append(lambda l: ['pass\\n'])"))
    _write(bypass, root / "bypass" / "00_warmup.ipynb")

    (root / "corrupt").mkdir()
    (root / "corrupt" / "00_warmup.ipynb").write_text('{"cells": [', encoding="utf-8")
    (root / "not_a_notebook").mkdir()
    (root / "not_a_notebook" / "00_warmup.ipynb").write_text('{"cells": 5}', encoding="utf-8")
    # ignored: checkpoints and hidden folders
    _write(exercise, root / "solved" / ".ipynb_checkpoints" / "00_warmup-checkpoint.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    subs = base / "submissions"
    _fake_submissions(subs)
    before = _snapshot(subs)
    out = base / "grades.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.grading", "grade", str(subs), "--out", str(out),
         "--source", str(ROOT / "solutions"), "--timeout", str(TIMEOUT)],
        cwd=base, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with out.open(newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return {"rows": rows, "before": before, "after": _snapshot(subs), "log": proc.stderr}


def test_one_row_per_student_and_notebook(graded):
    assert sorted(graded["rows"]) == ["bypass", "cheating", "collected", "corrupt", "looping",
                                      "not_a_notebook", "solved", "untouched"]
    assert FULL > 0
    assert all(r["notebook"] == "00_warmup" and r["max_points"] == _score(FULL)
               for r in graded["rows"].values())


def test_solution_scores_full_marks(graded):
    for student in ("solved", "collected"):
        row = graded["rows"][student]
        assert row["points"] == _score(FULL), row
        assert row["failed_tests"] == "" and row["first_failure"] == "", row


def test_untouched_exercise_scores_zero(graded):
    row = graded["rows"]["untouched"]
    assert row["points"] == "0"
    assert row["failed_tests"].split() == ["test-convert", "test-mask", "test-plot"]
    assert "NotImplementedError" in row["first_failure"]


def test_infinite_loop_times_out_and_the_rest_is_graded(graded):
    row = graded["rows"]["looping"]
    assert row["first_failure"].startswith("mask: timed out"), row
    assert row["failed_tests"] == "test-mask"
    assert row["points"] == _score(FULL - _points("test-mask"))  # tasks 1 and 3 still count


def test_edited_or_deleted_tests_earn_nothing(graded):
    row = graded["rows"]["cheating"]
    assert row["failed_tests"].split() == ["test-convert", "test-plot"], row
    assert row["points"] == _score(_points("test-mask"))  # only task 2, which is right


def test_input_transformer_that_skips_the_tests_earns_nothing(graded):
    row = graded["rows"]["bypass"]
    assert row["points"] == "0", row
    assert row["failed_tests"].split() == ["test-convert", "test-mask", "test-plot"], row


def test_corrupt_notebooks_are_reported_not_fatal(graded):
    for student in ("corrupt", "not_a_notebook"):
        row = graded["rows"][student]
        assert row["points"] == "0"
        assert row["first_failure"].startswith(("could not read", "could not grade")), row


def test_submissions_folder_is_left_untouched(graded):
    assert graded["after"] == graded["before"]


def test_out_inside_submissions_is_refused(tmp_path):
    from course_lib.grading import main

    (tmp_path / "alice").mkdir()
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "grades.csv"),
                 "--source", str(ROOT / "solutions")]) == 2
    assert not (tmp_path / "grades.csv").exists()


def test_restore_puts_back_edited_and_deleted_tests():
    from course_lib.grading import restore_official_cells

    official, sub = nbs.read(SOLUTION), nbs.read(EXERCISE)
    _cell(sub, "test-mask").source = "pass"
    sub.cells = [c for c in sub.cells if nbs.grade_id(c) != "test-convert"]
    sub.cells.insert(0, nbformat.v4.new_code_cell("scratch = 1"))
    restored = restore_official_cells(sub, official)
    ids = [nbs.grade_id(c) for c in restored.cells]
    assert ids[0] is None and restored.cells[0].source == "scratch = 1"  # student cells stay
    assert ids[1:] == [nbs.grade_id(c) for c in official.cells]
    for gid in ("test-convert", "test-mask"):
        assert _cell(restored, gid).source == _cell(official, gid).source  # with hidden tests
    assert _cell(restored, "convert").source == _cell(sub, "convert").source  # the student's answer


@pytest.mark.timeout(300)
def test_nbgrader_route_releases_the_exercise_and_autogrades(tmp_path):
    """nbgrader with the repo's nbgrader_config.py: release == exercises/, solution scores full."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    if not nbgrader.exists():
        pytest.skip(f"nbgrader is not installed next to {sys.executable}")
    course = tmp_path / "course"
    env = _env()

    def run(*args):
        proc = subprocess.run([str(nbgrader), *args, f"--CourseDirectory.root={course}"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stdout + proc.stderr

    from course_lib.grading import stage_for_nbgrader

    stage_for_nbgrader(["00_warmup"], ROOT / "solutions", course)
    run("generate_assignment", "00_warmup")
    released = course / "release" / "00_warmup" / "00_warmup.ipynb"
    assert released.read_bytes() == EXERCISE.read_bytes()
    for student, src in (("ada", SOLUTION), ("bo", EXERCISE)):
        dst = course / "submitted" / student / "00_warmup" / "00_warmup.ipynb"
        dst.parent.mkdir(parents=True)
        shutil.copyfile(src, dst)
    run("autograde", "00_warmup", "--create")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission("00_warmup", s).score for s in ("ada", "bo")}
    assert scores == {"ada": FULL, "bo": 0}
