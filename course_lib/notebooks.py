"""Students' exercise notebooks, generated from the instructors' solutions.

``solutions/NN_topic.ipynb`` is the only hand-written version of an exercise.
Solution code sits between ``### BEGIN SOLUTION`` / ``### END SOLUTION``,
tests students must not see between ``### BEGIN HIDDEN TESTS`` /
``### END HIDDEN TESTS``, and cells carry nbgrader's cell metadata
(``metadata.nbgrader``: solution cells, autograded test cells with ``points``,
read-only cells with ``locked``).

:func:`make_exercise` turns a solution into the student's version with the
same nbgrader preprocessors, in the same order, that ``nbgrader
generate_assignment`` runs, minus the two that need nbgrader's database
(``SaveCells``) or a course template (``IncludeHeaderFooter``). So
``exercises/`` and nbgrader's ``release/`` folder agree.

``python -m course_lib.grading generate`` (``make exercises``) rewrites
``exercises/``; ``--check`` only reports the notebooks that differ.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

__all__ = [
    "read", "dumps", "make_exercise", "generate", "stale_exercises",
    "is_solution", "is_test", "is_locked", "grade_id", "points",
]

NBFORMAT = 4


# ----------------------------------------------------------------------------- nbgrader metadata

def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_solution(cell) -> bool:
    """A cell the student writes in (``### BEGIN SOLUTION`` lives here)."""
    return bool(_meta(cell).get("solution", False))


def is_test(cell) -> bool:
    """An autograded test cell: graded, with points, not written by the student."""
    m = _meta(cell)
    return bool(m.get("grade", False)) and not m.get("solution", False) and cell.get("cell_type") == "code"


def is_locked(cell) -> bool:
    """A cell students may not change: read-only cells and test cells."""
    m = _meta(cell)
    return bool(m.get("locked", False)) or is_test(cell)


def grade_id(cell) -> str | None:
    return _meta(cell).get("grade_id")


def points(cell) -> float:
    return float(_meta(cell).get("points", 0) or 0)


# ----------------------------------------------------------------------------- read / write

def read(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4 (raises on a file that is not a notebook)."""
    return nbformat.read(str(path), as_version=NBFORMAT)


def dumps(nb: nbformat.NotebookNode) -> str:
    """The notebook as the JSON we commit: Jupyter's own layout plus a final newline."""
    return nbformat.writes(nb) + "\n"


# ----------------------------------------------------------------------------- generation

def _preprocessors():
    try:
        from nbgrader.preprocessors import (
            CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
            ClearSolutions, ComputeChecksums, LockCells,
        )
    except ImportError as err:  # nbgrader is a dev dependency
        raise ImportError("generating exercises needs nbgrader: pip install -e '.[dev]'") from err
    # nbgrader.converters.GenerateAssignment.preprocessors, without the database/template steps.
    return [
        LockCells(),
        ClearSolutions(),
        ClearOutput(),
        CheckCellMetadata(),
        ComputeChecksums(),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
        CheckCellMetadata(),
    ]


def make_exercise(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student's version of a solution notebook (the input is not modified)."""
    nb = nbformat.from_dict(solution)  # a deep copy
    resources: dict = {}
    for pre in _preprocessors():
        nb, resources = pre.preprocess(nb, resources)
    nb.metadata.pop("widgets", None)  # widget state is output too
    return nb


def _pairs(solutions_dir: Path, exercises_dir: Path):
    sources = sorted(p for p in Path(solutions_dir).glob("*.ipynb"))
    if not sources:
        raise ValueError(f"no solution notebooks (*.ipynb) in {str(solutions_dir)!r}")
    for src in sources:
        yield src, Path(exercises_dir) / src.name


def generate(solutions_dir: str | Path = "solutions", exercises_dir: str | Path = "exercises") -> list[Path]:
    """Write the exercise version of every solution notebook; return the paths written.

    Exercises whose solution no longer exists are deleted, so the folder mirrors ``solutions/``.
    """
    exercises_dir = Path(exercises_dir)
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src, dst in _pairs(Path(solutions_dir), exercises_dir):
        text = dumps(make_exercise(read(src)))
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            dst.write_text(text, encoding="utf-8")
        written.append(dst)
    for orphan in set(exercises_dir.glob("*.ipynb")) - set(written):
        orphan.unlink()
    return written


def stale_exercises(solutions_dir: str | Path = "solutions",
                    exercises_dir: str | Path = "exercises") -> list[str]:
    """Why ``exercises/`` differs from what :func:`generate` would write (empty if it does not)."""
    problems = []
    expected = set()
    for src, dst in _pairs(Path(solutions_dir), Path(exercises_dir)):
        expected.add(dst.name)
        if not dst.exists():
            problems.append(f"{dst}: missing (run `make exercises`)")
        elif dst.read_text(encoding="utf-8") != dumps(make_exercise(read(src))):
            problems.append(f"{dst}: differs from what {src} generates (run `make exercises`)")
    for extra in sorted(Path(exercises_dir).glob("*.ipynb")):
        if extra.name not in expected:
            problems.append(f"{extra}: has no solution notebook in {solutions_dir}")
    return problems
