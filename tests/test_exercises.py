"""exercises/ is generated from solutions/ (make exercises) and each one stops at its first task."""

from __future__ import annotations

import os
from pathlib import Path

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


def test_generating_twice_gives_the_same_files(tmp_path):
    first = [p.read_bytes() for p in nbs.generate(ROOT / "solutions", tmp_path / "a")]
    second = [p.read_bytes() for p in nbs.generate(ROOT / "solutions", tmp_path / "b")]
    assert first == second


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
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbs.read(path)
    first_task = next(i for i, c in enumerate(nb.cells) if nbs.is_solution(c))
    first_test_after = next(i for i, c in enumerate(nb.cells) if i > first_task and nbs.is_test(c))
    client = NotebookClient(nb, kernel_name="python3", timeout=240,
                            resources={"metadata": {"path": str(path.parent)}})
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    assert err.value.ename == "NotImplementedError", (
        f"{path.name} should first fail with NotImplementedError, got {err.value.ename}: {err.value.evalue}")
    failed = [i for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and any(o.output_type == "error" for o in c.get("outputs", []))]
    assert failed and first_task <= failed[0] <= first_test_after, (
        f"{path.name}: the first error is in cell {failed[0] if failed else None}, expected the first "
        f"task (cell {first_task}) or its test (cell {first_test_after})")
