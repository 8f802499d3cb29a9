"""exercises/ is generated from solutions/ (make exercises) and each one stops at its first task."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import nbformat

import pytest

from course_lib import notebooks as nbs

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def test_every_solution_has_an_exercise_and_back():
    assert SOLUTIONS, "no notebooks in solutions/"
    assert [p.name for p in SOLUTIONS] == [p.name for p in EXERCISES]


def test_committed_exercises_are_what_make_exercises_generates():
    problems = nbs.stale_exercises(ROOT / "solutions", ROOT / "exercises")
    assert not problems, "\n".join(problems)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_generating_twice_gives_the_same_files(tmp_path):
    nbs.generate(ROOT / "solutions", tmp_path / "a")
    nbs.generate(ROOT / "solutions", tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_regenerating_in_place_leaves_the_committed_exercises_byte_identical(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    updated, extras = nbs.generate(ROOT / "solutions", tmp_path / "exercises")
    assert (updated, extras) == ([], [])
    assert _files(tmp_path / "exercises") == _files(ROOT / "exercises")


def test_generate_keeps_files_it_did_not_write_and_check_reports_them(tmp_path):
    out = tmp_path / "exercises"
    out.mkdir()
    copy = out / "00_warmup-Copy1.ipynb"  # what Jupyter's "Duplicate" makes: maybe a student's work
    copy.write_bytes(EXERCISES[0].read_bytes())
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    updated, extras = nbs.generate(ROOT / "solutions", out)
    assert [p.name for p in updated] == [p.name for p in SOLUTIONS]
    assert extras == [copy]
    assert copy.read_bytes() == EXERCISES[0].read_bytes()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert nbs.stale_exercises(ROOT / "solutions", out) == [
        f"{copy}: has no solution notebook in {ROOT / 'solutions'}"]


@pytest.mark.parametrize("folder", ["solutions", "lectures"])
def test_generate_refuses_to_write_into_hand_written_notebooks(tmp_path, folder, capsys):
    from course_lib.grading import main

    (tmp_path / folder).mkdir()
    assert main(["generate", "--source", str(ROOT / "solutions"), "--out", str(tmp_path / folder)]) == 2
    assert "will not write exercises into" in capsys.readouterr().err
    assert not any((tmp_path / folder).iterdir())
    with pytest.raises(ValueError):
        nbs.generate(ROOT / "solutions", ROOT / "solutions")


@pytest.mark.timeout(120)
def test_notebooks_run_in_this_python_not_a_user_kernelspec(tmp_path, monkeypatch):
    """A user-level "python3" kernelspec (another Python, say) must not be picked up."""
    spec = tmp_path / "kernels" / "python3" / "kernel.json"
    spec.parent.mkdir(parents=True)
    spec.write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "another Python", "language": "python", "env": {"COURSE_OTHER_KERNEL": "1"},
    }), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))  # searched before the environment's kernels
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys\nprint(sys.executable, os.environ.get('COURSE_OTHER_KERNEL'))")])
    nbs.notebook_client(nb, timeout=60).execute()
    assert nb.cells[0].outputs[0].text.split() == [sys.executable, "None"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_is_an_nbgrader_assignment(path):
    nb = nbs.read(path)
    solutions = [c for c in nb.cells if nbs.is_solution(c)]
    tests = [c for c in nb.cells if nbs.is_test(c)]
    assert solutions, f"{path.name}: no solution cells (nbgrader metadata solution: true)"
    assert tests and all(nbs.points(c) > 0 for c in tests), f"{path.name}: test cells need points"
    ids = [nbs.grade_id(c) for c in nb.cells if nbs.grade_id(c)]
    assert len(ids) == len(set(ids)), f"{path.name}: grade_ids must be unique"
    for c in solutions:
        assert "### BEGIN SOLUTION" in c.source, f"{path.name}: {nbs.grade_id(c)} has no solution markers"
    for c in nb.cells:
        if "### BEGIN SOLUTION" in c.source:
            assert nbs.is_solution(c), f"{path.name}: solution markers outside a solution cell"
        if "### BEGIN HIDDEN TESTS" in c.source:
            assert nbs.is_test(c), f"{path.name}: hidden tests outside a test cell"


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercise_hides_solutions_and_hidden_tests(path):
    text = path.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{path.name} still contains {marker!r}"
    assert "raise NotImplementedError()" in text


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercise_stops_at_the_first_task_with_not_implemented(path, monkeypatch):
    """Run as handed out, the first error is the NotImplementedError of the first task."""
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbs.read(path)
    first_task = next(i for i, c in enumerate(nb.cells) if nbs.is_solution(c))
    first_test_after = next(i for i, c in enumerate(nb.cells) if i > first_task and nbs.is_test(c))
    client = nbs.notebook_client(nb, timeout=240, resources={"metadata": {"path": str(path.parent)}})
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    assert err.value.ename == "NotImplementedError", (
        f"{path.name} should first fail with NotImplementedError, got {err.value.ename}: {err.value.evalue}")
    failed = [i for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and any(o.output_type == "error" for o in c.get("outputs", []))]
    assert failed and first_task <= failed[0] <= first_test_after, (
        f"{path.name}: the first error is in cell {failed[0] if failed else None}, expected the first "
        f"task (cell {first_task}) or its test (cell {first_test_after})")
