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
``exercises/``; ``--check`` only reports the notebooks that differ. Both
work from :func:`plan_exercises`, so they cannot disagree. Notebooks in
``exercises/`` that no solution generates are reported, never deleted.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

__all__ = [
    "read", "reads", "dumps", "make_exercise", "plan_exercises", "generate", "stale_exercises",
    "notebook_client", "is_solution", "is_test", "is_locked", "is_manual", "grade_id", "points",
    "max_points", "manual_cells",
]

NBFORMAT = 4
HAND_WRITTEN_FOLDERS = {"solutions", "lectures"}  # generate never writes into these


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


def is_manual(cell) -> bool:
    """A cell graded by hand: nbgrader's "manually graded answer" (graded and written by the
    student, a written answer, say) or "manually graded task" (graded, locked, no code to run)."""
    m = _meta(cell)
    return (bool(m.get("grade", False)) and bool(m.get("solution", False))) or bool(m.get("task", False))


def is_locked(cell) -> bool:
    """A cell students may not change: read-only cells and test cells."""
    m = _meta(cell)
    return bool(m.get("locked", False)) or is_test(cell)


def grade_id(cell) -> str | None:
    return _meta(cell).get("grade_id")


def points(cell) -> float:
    return float(_meta(cell).get("points", 0) or 0)


def max_points(nb) -> float:
    """The notebook's full automatic score: the points of all its autograded test cells. The
    points of the cells graded by hand (:func:`manual_cells`) are not in it."""
    return sum(points(c) for c in nb.cells if is_test(c))


def manual_cells(nb) -> dict[str, float]:
    """The cells graded by hand (:func:`is_manual`), in notebook order: ``{grade_id: points}``."""
    return {grade_id(c) or f"cell {i}": points(c) for i, c in enumerate(nb.cells) if is_manual(c)}


# ----------------------------------------------------------------------------- read / write

def read(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4 (raises on a file that is not a notebook)."""
    return nbformat.read(str(path), as_version=NBFORMAT)


def reads(data: str | bytes) -> nbformat.NotebookNode:
    """A notebook from its file's text or bytes, as :func:`read` gives it (so a caller that has
    already read the bytes, to hash them, parses exactly what it hashed)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return nbformat.reads(data, as_version=NBFORMAT)


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


def plan_exercises(solutions_dir: str | Path = "solutions",
                   exercises_dir: str | Path = "exercises") -> tuple[dict[Path, str], list[Path]]:
    """What ``exercises_dir`` should hold, for :func:`generate` and :func:`stale_exercises` alike.

    Returns ``({exercise path: its text}, extras)``, where ``extras`` are the
    notebooks already in ``exercises_dir`` that no solution generates (a
    Jupyter "Duplicate" copy, a student's renamed work, an exercise whose
    solution was removed). Refuses an ``exercises_dir`` that is a folder of
    hand-written notebooks (``solutions/``, ``lectures/``).
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    if (exercises_dir.resolve() == solutions_dir.resolve()
            or exercises_dir.resolve().name in HAND_WRITTEN_FOLDERS):
        raise ValueError(f"will not write exercises into {str(exercises_dir)!r}: "
                         "it holds hand-written notebooks")
    sources = sorted(solutions_dir.glob("*.ipynb"))
    if not sources:
        raise ValueError(f"no solution notebooks (*.ipynb) in {str(solutions_dir)!r}")
    planned = {exercises_dir / src.name: dumps(make_exercise(read(src))) for src in sources}
    extras = sorted(set(exercises_dir.glob("*.ipynb")) - set(planned))
    return planned, extras


def generate(solutions_dir: str | Path = "solutions",
             exercises_dir: str | Path = "exercises") -> tuple[list[Path], list[Path]]:
    """Write the exercise version of every solution notebook.

    Returns ``(updated, extras)``: the exercises whose file changed, and the
    notebooks in ``exercises_dir`` that no solution generates. Those extras are
    never deleted (they may be someone's work); delete a stale one by hand.
    """
    planned, extras = plan_exercises(solutions_dir, exercises_dir)
    Path(exercises_dir).mkdir(parents=True, exist_ok=True)
    updated = []
    for dst, text in planned.items():
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            dst.write_text(text, encoding="utf-8")
            updated.append(dst)
    return updated, extras


def stale_exercises(solutions_dir: str | Path = "solutions",
                    exercises_dir: str | Path = "exercises") -> list[str]:
    """Why ``exercises/`` differs from what :func:`generate` would write (empty if it does not)."""
    planned, extras = plan_exercises(solutions_dir, exercises_dir)
    problems = []
    for dst, text in planned.items():
        if not dst.exists():
            problems.append(f"{dst}: missing (run `make exercises`)")
        elif dst.read_text(encoding="utf-8") != text:
            problems.append(f"{dst}: differs from what its solution generates (run `make exercises`)")
    problems += [f"{extra}: has no solution notebook in {solutions_dir}" for extra in extras]
    return problems


# ----------------------------------------------------------------------------- running

class _CurrentEnvKernelManager(AsyncKernelManager):
    """An ipykernel in this very Python (``sys.executable``), as nbval's ``--nbval-current-env``.

    Asking for the kernel "python3" instead can start a user-level kernelspec
    (``~/.local/share/jupyter/kernels/python3``) of another Python.
    """

    @property
    def kernel_spec(self) -> KernelSpec:
        # argv: [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())


def notebook_client(nb: nbformat.NotebookNode, **kwargs):
    """An ``nbclient.NotebookClient`` for ``nb`` whose kernel runs in the current environment."""
    from nbclient import NotebookClient

    return NotebookClient(nb, kernel_name="python3", kernel_manager_class=_CurrentEnvKernelManager, **kwargs)
