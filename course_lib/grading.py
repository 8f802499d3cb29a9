"""Grade students' notebooks with one command, without running an nbgrader course.

    python -m course_lib.grading grade SUBMISSIONS_DIR --out grades.csv [--source solutions] [--timeout 600]
    python -m course_lib.grading generate [--check]       # exercises/ from solutions/ (make exercises)
    python -m course_lib.grading nbgrader-source [NAME ...] # stage solutions for the nbgrader route

Submissions folder layout, one folder per student, holding the notebooks under
their course names::

    SUBMISSIONS_DIR/<student>/00_warmup.ipynb
    SUBMISSIONS_DIR/<student>/<anything>/00_warmup.ipynb   # e.g. nbgrader's collect
                                                          # layout: submitted/<student>/<assignment>/

A notebook is matched to the official one in ``--source`` by file name.
Checkpoints (``.ipynb_checkpoints``) and hidden files are skipped.

For each submitted notebook the grader

1. puts the official test cells and read-only cells back (matched by nbgrader's
   ``grade_id``; a deleted test cell is re-inserted after the cell before it),
   with the hidden tests, so editing a test earns nothing;
2. runs it top to bottom in a fresh kernel of the grader's own Python
   (``sys.executable``), whose working folder is a new temporary folder, with a
   per-cell timeout: a cell that runs too long is interrupted and the next
   cells still run;
3. scores each autograded test cell (nbgrader's rule: its points if it ran
   without an error, else 0) and writes one CSV row per student and notebook:
   ``student, notebook, points, max_points, failed_tests, first_failure``.
   A test cell counts as run only if it printed a random line that the grader
   appends to it for this run, so student code that rewrites or skips the
   test cells (an IPython input transformer, say) earns nothing.

Restoring the tests and the sentinel line defeat simple tampering; they are not
a sandbox. Student code runs in the same kernel as the tests, with the
instructor's permissions, as it does under nbgrader: it can read the tests,
patch what they call, or touch files. Grade untrusted submissions in a
container or a throwaway account.

It reads the submissions and writes only ``--out``: nothing is written into
the submissions folder. A file that is not a readable notebook gets a row with
its error and zero points; the other notebooks are still graded. Set
``COURSE_FAST=1`` in the environment to grade with the shortened loops.
Manually graded cells (nbgrader's "manually graded answer") are not scored here.
"""

from __future__ import annotations

import argparse
import csv
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import notebooks as nbs

__all__ = ["GradeResult", "restore_official_cells", "grade_notebook", "find_submissions",
           "grade_folder", "main"]

DEFAULT_TIMEOUT = 600  # seconds per cell: GAN cells train for minutes on a laptop CPU
CSV_FIELDS = ["student", "notebook", "points", "max_points", "failed_tests", "first_failure"]
_TIMEOUT_ENAME = "CellTimeoutError"


@dataclass
class GradeResult:
    student: str
    notebook: str
    points: float = 0.0
    max_points: float = 0.0
    failed_tests: list[str] = field(default_factory=list)
    first_failure: str = ""

    def row(self) -> dict:
        return {"student": self.student, "notebook": self.notebook,
                "points": f"{self.points:g}", "max_points": f"{self.max_points:g}",
                "failed_tests": " ".join(self.failed_tests), "first_failure": self.first_failure}


# ----------------------------------------------------------------------------- restoring tests

def restore_official_cells(submission: nbformat.NotebookNode,
                           official: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The submission with every official test / read-only cell as the instructor wrote it.

    Cells are matched by ``grade_id``. Student cells (solutions, scratch cells)
    are kept as they are. A missing official cell is inserted after the cell
    that precedes it in the official notebook. A second cell claiming an
    official ``grade_id`` loses its nbgrader metadata (it runs, but scores nothing).
    """
    locked = {nbs.grade_id(c): c for c in official.cells if nbs.grade_id(c) and nbs.is_locked(c)}
    order = [nbs.grade_id(c) for c in official.cells if nbs.grade_id(c)]
    out, seen = [], set()
    for cell in submission.cells:
        gid = nbs.grade_id(cell)
        if gid in seen or (gid is not None and gid not in order):
            cell = nbformat.from_dict(cell)
            cell.metadata.pop("nbgrader", None)
            gid = None
        elif gid in locked:
            cell = _fresh_copy(locked[gid])
        if gid:
            seen.add(gid)
        out.append(cell)
    for k, gid in enumerate(order):  # put back deleted official cells
        if gid in seen or gid not in locked:
            continue
        before = next((g for g in reversed(order[:k]) if g in seen), None)
        at = 0 if before is None else 1 + next(i for i, c in enumerate(out) if nbs.grade_id(c) == before)
        out.insert(at, _fresh_copy(locked[gid]))
        seen.add(gid)
    nb = nbformat.from_dict(submission)
    nb.cells = out
    return nb


def _fresh_copy(cell):
    cell = nbformat.from_dict(cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


# ----------------------------------------------------------------------------- running one notebook

def _execute(nb: nbformat.NotebookNode, timeout: int) -> dict[int, dict]:
    """Run ``nb`` in a fresh kernel of this Python; return {cell index: error} for failed cells."""
    from nbclient.exceptions import DeadKernelError

    errors: dict[int, dict] = {}
    finished: set[int] = set()

    def on_executed(cell, cell_index, execute_reply):
        finished.add(cell_index)
        c = execute_reply["content"]
        if c.get("status") == "error":
            errors[cell_index] = {"ename": c.get("ename", "Error"), "evalue": c.get("evalue", "")}

    workdir = tempfile.mkdtemp(prefix="course-grade-")
    client = nbs.notebook_client(
        nb, timeout=timeout, allow_errors=True,
        interrupt_on_timeout=True, raise_on_iopub_timeout=False,
        error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": f"cell ran longer than {timeout} s",
                          "traceback": []},
        on_cell_executed=on_executed, resources={"metadata": {"path": workdir}},
    )
    missed = {"ename": "NotRun", "evalue": "the cell did not run"}
    try:
        client.execute()
    except DeadKernelError:  # the cell that killed the kernel and all later ones fail
        missed = {"ename": "DeadKernelError", "evalue": "the kernel died"}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for i, cell in enumerate(nb.cells):  # a test only counts if it ran
        if cell.cell_type == "code" and i not in finished:
            errors.setdefault(i, missed)
    return errors


def _add_sentinels(nb: nbformat.NotebookNode, tests) -> dict[str, str]:
    """Append to each test cell a line printing a fresh random sentinel; return {grade_id: sentinel}.

    A test cell that a student's code skipped or rewrote (e.g. with an IPython
    input transformer) runs without error but does not print its sentinel.
    """
    sentinels = {}
    for cell in nb.cells:
        gid = nbs.grade_id(cell)
        if gid in tests:
            sentinels[gid] = f"<grader-sentinel-{secrets.token_hex(8)}-{gid}>"
            cell.source = f"{cell.source.rstrip()}\nprint({sentinels[gid]!r})\n"
    return sentinels


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def grade_notebook(submission: nbformat.NotebookNode, official: nbformat.NotebookNode,
                   student: str, notebook: str, timeout: int = DEFAULT_TIMEOUT) -> GradeResult:
    """Restore the official tests in ``submission``, run it, and score its test cells."""
    nb = restore_official_cells(submission, official)
    tests = {nbs.grade_id(c): nbs.points(c) for c in official.cells if nbs.is_test(c)}
    sentinels = _add_sentinels(nb, tests)
    result = GradeResult(student, notebook, max_points=nbs.max_points(official))
    errors = _execute(nb, timeout)
    for i, cell in enumerate(nb.cells):
        err = errors.get(i)
        gid = nbs.grade_id(cell)
        if not err and gid in sentinels and sentinels[gid] not in _stdout(cell):
            err = {"ename": "TestNotRun", "evalue": "the test cell did not run as written"}
        if err and not result.first_failure:
            where = nbs.grade_id(cell) or f"cell {i}"
            what = "timed out" if err["ename"] == _TIMEOUT_ENAME else err["ename"]
            detail = f": {err['evalue']}" if err["evalue"] else ""
            result.first_failure = _one_line(f"{where}: {what}{detail}")
        if gid in tests:
            if err:
                result.failed_tests.append(gid)
            else:
                result.points += tests[gid]
    return result


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


# ----------------------------------------------------------------------------- a whole folder

def find_submissions(submissions_dir: str | Path) -> list[tuple[str, Path]]:
    """``(student, notebook path)`` pairs under ``SUBMISSIONS_DIR/<student>/``, sorted."""
    root = Path(submissions_dir)
    if not root.is_dir():
        raise ValueError(f"submissions folder {str(root)!r} does not exist")
    found = []
    for student in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(student.rglob("*.ipynb")):
            rel = path.relative_to(student).parts
            if not any(part.startswith(".") for part in rel):
                found.append((student.name, path))
    return found


def grade_folder(submissions_dir: str | Path, source_dir: str | Path = "solutions",
                 timeout: int = DEFAULT_TIMEOUT, log=print) -> list[GradeResult]:
    """Grade every submitted notebook; a broken one is reported in its row, never fatal."""
    official = {p.stem: p for p in Path(source_dir).glob("*.ipynb")}
    if not official:
        raise ValueError(f"no official notebooks (*.ipynb) in {str(source_dir)!r}")
    results = []
    for student, path in find_submissions(submissions_dir):
        name = path.stem
        if name not in official:
            results.append(GradeResult(student, name, first_failure=(
                f"no official notebook {name}.ipynb in {source_dir}")))
            continue
        source = nbs.read(official[name])
        try:
            submission = nbs.read(path)
        except Exception as err:  # noqa: BLE001 - any unreadable file is the student's problem
            results.append(GradeResult(student, name, max_points=nbs.max_points(source), first_failure=(
                _one_line(f"could not read the notebook: {type(err).__name__}: {err}"))))
        else:
            try:
                results.append(grade_notebook(submission, source, student, name, timeout))
            except Exception as err:  # noqa: BLE001 - keep grading the others
                results.append(GradeResult(student, name, max_points=nbs.max_points(source), first_failure=(
                    _one_line(f"could not grade the notebook: {type(err).__name__}: {err}"))))
        r = results[-1]
        log(f"{student}/{name}: {r.points:g}/{r.max_points:g}"
            + (f"  ({r.first_failure})" if r.first_failure else ""))
    return results


def write_csv(results: list[GradeResult], out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        w.writerows(r.row() for r in results)
    return out


# ----------------------------------------------------------------------------- nbgrader route

def stage_for_nbgrader(names: list[str] | None = None, source_dir: str | Path = "solutions",
                       course_root: str | Path = "nbgrader-course") -> list[Path]:
    """Copy ``solutions/NAME.ipynb`` to nbgrader's ``source/NAME/NAME.ipynb`` (one assignment each)."""
    paths = sorted(Path(source_dir).glob("*.ipynb"))
    if names:
        wanted = {n.removesuffix(".ipynb") for n in names}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            raise ValueError(f"no solution notebook for {sorted(unknown)} in {source_dir}")
        paths = [p for p in paths if p.stem in wanted]
    staged = []
    for p in paths:
        dst = Path(course_root) / "source" / p.stem / p.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst)
        staged.append(dst)
    return staged


# ----------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade SUBMISSIONS_DIR/<student>/<notebook>.ipynb into a CSV")
    g.add_argument("submissions", type=Path)
    g.add_argument("--out", type=Path, required=True, help="the CSV to write")
    g.add_argument("--source", type=Path, default=Path("solutions"), help="official notebooks")
    g.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell")
    e = sub.add_parser("generate", help="write exercises/ from solutions/")
    e.add_argument("--source", type=Path, default=Path("solutions"))
    e.add_argument("--out", type=Path, default=Path("exercises"))
    e.add_argument("--check", action="store_true", help="only report exercises that are out of date")
    s = sub.add_parser("nbgrader-source", help="copy solutions into an nbgrader course's source/")
    s.add_argument("names", nargs="*", help="notebooks to stage (default: all)")
    s.add_argument("--source", type=Path, default=Path("solutions"))
    s.add_argument("--course", type=Path, default=Path("nbgrader-course"))
    args = parser.parse_args(argv)

    try:
        if args.command == "grade":
            out = args.out.resolve()
            if out.is_relative_to(args.submissions.resolve()):
                raise ValueError("--out must not be inside the submissions folder")
            results = grade_folder(args.submissions, args.source, args.timeout,
                                   log=lambda s: print(s, file=sys.stderr))
            print(f"wrote {len(results)} rows to {write_csv(results, out)}")
        elif args.command == "generate":
            if args.check:
                problems = nbs.stale_exercises(args.source, args.out)
                print("\n".join(problems) or "exercises are up to date")
                return 1 if problems else 0
            updated, extras = nbs.generate(args.source, args.out)
            for path in updated:
                print(f"updated {path}")
            if not updated:
                print(f"{args.out} was already up to date")
            for path in extras:
                print(f"left alone {path}: no solution generates it (delete it by hand if it is stale)")
        else:
            for path in stage_for_nbgrader(args.names, args.source, args.course):
                print(f"staged {path}")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
