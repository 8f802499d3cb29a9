"""Grade students' notebooks with one command, without running an nbgrader course.

    python -m course_lib.grading grade SUBMISSIONS_DIR --out grades.csv [--source solutions] [--timeout 600]
                                       [--jobs N] [--shard K/N] [--results DIR] [--force]
    python -m course_lib.grading merge grades-1.csv grades-2.csv ... --out grades.csv
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
   ``student, notebook, points, max_points, failed_tests, first_failure,
   manual_points, manual_cells``.
   A test cell counts as run only if it printed a random line that the grader
   appends to it for this run, so student code that rewrites or skips the
   test cells (an IPython input transformer, say) earns nothing.

``points`` and ``max_points`` are the automatic score: the autograded test cells
only. The cells graded by hand (nbgrader's "manually graded answer" and "manually
graded task", :func:`course_lib.notebooks.manual_cells`: the written answers) are
not scored here and never counted in ``max_points``; each row lists them instead,
``manual_points`` (their total) and ``manual_cells`` (``grade_id:points`` each), and
so do the printed report and the sidecar (``manually_graded``), so that a notebook's
full mark is ``max_points + manual_points``, the second part to be given by hand.

Restoring the tests and the sentinel line defeat simple tampering; they are not
a sandbox. Student code runs in the same kernel as the tests, with the
instructor's permissions, as it does under nbgrader: it can read the tests,
patch what they call, or touch files. Grade untrusted submissions in a
container or a throwaway account.

It reads the submissions and writes only ``--out``, its sidecar and its
results folder: nothing is written into the submissions folder. A file that is
not a readable notebook gets a row with its error and zero points; the other
notebooks are still graded. Set ``COURSE_FAST=1`` in the environment to grade
with the shortened loops.

A whole class, because 1,400 notebooks at ~13 s each is five hours:

- ``--jobs N`` grades N notebooks at once, each in its own kernel, and gives each
  kernel ``cores // N`` threads (``OMP_NUM_THREADS`` and friends) so the jobs do not
  fight over the cores. The rows are the same, in the same order, as with one job.
- Resumable: each notebook's result is written, atomically, as soon as it is known,
  into a results folder beside the CSV (``grades.csv`` -> ``grades.results/``), keyed
  by the sha256 of the submission and of the official notebook. Run the same
  command again and only what is missing or changed is graded (``--force``: all).
  A kill loses at most the notebooks being graded at that moment.
- ``--shard K/N`` grades the students at positions K, K+N, K+2N, ... of the sorted
  class list, so N machines (a Slurm job array, a CI matrix) share a class.
  Each CSV gets a sidecar, ``grades.json``, that says which shard of which class
  it covers and against which official notebooks; ``merge`` uses it to refuse
  overlapping or missing students and shards graded against different notebooks.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import nbformat

from . import notebooks as nbs

__all__ = ["GradeResult", "Shard", "Submission", "GradingPlan", "restore_official_cells",
           "grade_notebook", "find_submissions", "plan_grading", "run_plan", "grade_folder",
           "grade_class", "summary", "manual_report", "write_csv", "merge_grades", "kernel_threads",
           "results_folder", "sidecar_path", "main"]

DEFAULT_TIMEOUT = 600  # seconds per cell: GAN cells train for minutes on a laptop CPU
CSV_FIELDS = ["student", "notebook", "points", "max_points", "failed_tests", "first_failure",
              "manual_points", "manual_cells"]
MANUAL = "graded by hand"   # what the report says of the cells this command does not score
_TIMEOUT_ENAME = "CellTimeoutError"
# Bump when a change to the grader can change a score: results saved by an older grader are
# then graded again instead of being reused.
RESULTS_FORMAT = 2
SIDECAR_FORMAT = "course-grades/2"
# The thread pools a kernel's libraries size from the environment (torch reads OMP/MKL).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")

# What happened to a notebook, for the summary (not a CSV column: the row says the rest).
GRADED, TIMED_OUT, FAILED = "graded", "timed out", "failed to run"


@dataclass
class GradeResult:
    student: str
    notebook: str
    points: float = 0.0
    max_points: float = 0.0
    failed_tests: list[str] = field(default_factory=list)
    first_failure: str = ""
    status: str = GRADED    # GRADED, TIMED_OUT (a cell was cut) or FAILED (no score could be earned)
    reused: bool = False    # taken from the results folder: the same files were graded before
    # The official notebook's cells graded by hand, {grade_id: points}: in neither points nor
    # max_points (see the module docstring).
    manual_cells: dict[str, float] = field(default_factory=dict)

    @classmethod
    def against(cls, official: nbformat.NotebookNode, student: str, notebook: str, **fields) -> "GradeResult":
        """A result for ``student``'s ``notebook`` graded against ``official``: its ``max_points``
        and ``manual_cells`` are the official notebook's, the other ``fields`` as given."""
        return cls(student, notebook, max_points=nbs.max_points(official),
                   manual_cells=nbs.manual_cells(official), **fields)

    @property
    def manual_points(self) -> float:
        return sum(self.manual_cells.values())

    def row(self) -> dict:
        return {"student": self.student, "notebook": self.notebook,
                "points": f"{self.points:g}", "max_points": f"{self.max_points:g}",
                "failed_tests": " ".join(self.failed_tests), "first_failure": self.first_failure,
                "manual_points": f"{self.manual_points:g}",
                "manual_cells": " ".join(f"{gid}:{p:g}" for gid, p in self.manual_cells.items())}


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

def _execute(nb: nbformat.NotebookNode, timeout: int, env: dict | None = None) -> dict[int, dict]:
    """Run ``nb`` in a fresh kernel of this Python; return {cell index: error} for failed cells.

    ``env`` is the kernel's environment (default: this process's), where the
    grader sets the kernel's thread counts.
    """
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
        client.execute(**({"env": env} if env is not None else {}))
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
                   student: str, notebook: str, timeout: int = DEFAULT_TIMEOUT,
                   env: dict | None = None) -> GradeResult:
    """Restore the official tests in ``submission``, run it, and score its test cells."""
    nb = restore_official_cells(submission, official)
    tests = {nbs.grade_id(c): nbs.points(c) for c in official.cells if nbs.is_test(c)}
    sentinels = _add_sentinels(nb, tests)
    result = GradeResult.against(official, student, notebook)
    errors = _execute(nb, timeout, env)
    enames = {e["ename"] for e in errors.values()}
    if "DeadKernelError" in enames:
        result.status = FAILED
    elif _TIMEOUT_ENAME in enames:
        result.status = TIMED_OUT
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


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (numbered from 1, as Slurm's ``--array=1-N`` and a CI
    matrix count): the students at positions index, index + count, ... of the sorted class.

    Dealing students round-robin from the sorted list gives every shard the same number of
    students, give or take one, and the same split on every machine that sees the same
    submissions folder. A student's notebooks all go to one shard.
    """
    index: int = 1
    count: int = 1

    def __post_init__(self):
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count}: expected K/N with 1 <= K <= N "
                             "(shards are numbered from 1: 1/4, 2/4, 3/4, 4/4)")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` -> ``Shard(2, 4)``, with an error that shows the expected form otherwise."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if not match:
            raise ValueError(f"shard {text!r}: expected K/N, two whole numbers with 1 <= K <= N, "
                             "such as 1/4 (the first of four shards)")
        return cls(int(match[1]), int(match[2]))

    def students(self, everyone: Sequence[str]) -> list[str]:
        """This shard's students out of the whole class ``everyone``."""
        return sorted(everyone)[self.index - 1::self.count]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass
class Submission:
    """One submitted notebook, and what a saved result must match to be reused for it."""
    student: str
    path: Path
    key: str               # its path under the submissions folder, which names its result file
    notebook: str          # the official notebook it answers (its file name, without .ipynb)
    fingerprint: dict      # the content hashes and settings it would be graded with now


@dataclass
class GradingPlan:
    """What one run grades: the shard's submissions in the CSV's order, and what they cover."""
    submissions_dir: Path
    source_dir: Path
    timeout: int
    shard: Shard
    everyone: list[str]                  # the whole class: every student with a notebook, sorted
    submissions: list[Submission]        # this shard's, in the order of the CSV's rows
    official: dict[str, Path]            # notebook name -> the official notebook
    official_sha256: dict[str, str]      # notebook name -> sha256 of its file


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fingerprint(submission_sha256: str | None, official_sha256: str | None, timeout: int) -> dict:
    """What a grade depends on: both notebooks' bytes, the cell timeout and fast mode."""
    return {"format": RESULTS_FORMAT, "submission_sha256": submission_sha256,
            "official_sha256": official_sha256, "timeout": timeout,
            "course_fast": os.environ.get("COURSE_FAST", "")}


def plan_grading(submissions_dir: str | Path, source_dir: str | Path = "solutions",
                 timeout: int = DEFAULT_TIMEOUT, shard: Shard | None = None) -> GradingPlan:
    """Find the submissions of ``shard``'s students and hash them and the official notebooks."""
    source_dir, shard = Path(source_dir), shard or Shard()
    official = {p.stem: p for p in sorted(source_dir.glob("*.ipynb"))}
    if not official:
        raise ValueError(f"no official notebooks (*.ipynb) in {str(source_dir)!r}")
    official_sha256 = {name: _sha256(path.read_bytes()) for name, path in official.items()}
    found = find_submissions(submissions_dir)
    everyone = sorted({student for student, _ in found})
    mine = set(shard.students(everyone))
    submissions = []
    for student, path in found:
        if student not in mine:
            continue
        try:
            sha = _sha256(path.read_bytes())
        except OSError:
            sha = None  # graded (and reported) every run: there is nothing to recognise it by
        submissions.append(Submission(
            student, path, path.relative_to(submissions_dir).as_posix(), path.stem,
            _fingerprint(sha, official_sha256.get(path.stem), timeout)))
    return GradingPlan(Path(submissions_dir), source_dir, timeout, shard, everyone, submissions,
                       official, official_sha256)


def kernel_threads(jobs: int, cores: int | None = None) -> int:
    """Threads for each of ``jobs`` kernels, so that together they use the cores once.

    ``cores`` defaults to the CPUs this process may run on (a Slurm allocation or a
    container limits them), not all the machine's.
    """
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # macOS, Windows
            cores = os.cpu_count() or 1
    return max(1, cores // jobs)


def _kernel_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    return env


def results_folder(out: str | Path) -> Path:
    """Where the results of the run writing ``out`` are kept: ``grades.csv`` -> ``grades.results/``."""
    return Path(out).with_suffix(".results")


def sidecar_path(out: str | Path) -> Path:
    """The file that says what ``out`` covers: ``grades.csv`` -> ``grades.json``."""
    return Path(out).with_suffix(".json")


def _check_results_dir(results_dir: Path, submissions_dir: Path) -> None:
    results, subs = results_dir.resolve(), submissions_dir.resolve()
    if results.is_relative_to(subs) or subs.is_relative_to(results):
        raise ValueError(f"results folder {str(results_dir)!r} is inside the submissions folder "
                         f"{str(submissions_dir)!r} (or holds it): the grader never writes into the "
                         "submissions; put --out (or --results) outside it")
    if results.exists() and not results.is_dir():
        raise ValueError(f"results folder {str(results_dir)!r} is a file: expected a folder "
                         "(or nothing) there")


def _result_path(results_dir: Path, sub: Submission) -> Path:
    return results_dir / f"{sub.key}.json"


def _write_atomic(path: Path, text: str) -> None:
    """Write ``path`` so that a reader (or a kill) sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _saved_result(results_dir: Path, sub: Submission) -> GradeResult | None:
    """The saved result of ``sub`` if it was graded from the same files and settings."""
    try:
        saved = json.loads(_result_path(results_dir, sub).read_text(encoding="utf-8"))
        if saved["fingerprint"] != sub.fingerprint or not saved["final"]:
            return None
        return GradeResult(**saved["result"], reused=True)
    except (OSError, ValueError, KeyError, TypeError):  # missing, torn by hand, or an old layout
        return None


def _save_result(results_dir: Path, sub: Submission, result: GradeResult, fingerprint: dict,
                 final: bool, seconds: float) -> None:
    fields = {k: v for k, v in vars(result).items() if k != "reused"}
    _write_atomic(_result_path(results_dir, sub), json.dumps({
        "submission": sub.key, "fingerprint": fingerprint, "final": final,
        "seconds": round(seconds, 2), "result": fields}, indent=1) + "\n")


@contextlib.contextmanager
def _lock(results_dir: Path):
    """Hold ``results_dir/.lock`` so that two runs never write one results folder at once.

    The lock dies with its process, so a killed run never leaves a stale one.
    """
    results_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    with open(results_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ValueError(f"results folder {str(results_dir)!r} is in use by another grading run; "
                             "wait for it, or give this run its own --out") from None
        for stale in results_dir.rglob(".*.tmp"):  # left by a killed run: never a finished result
            stale.unlink(missing_ok=True)
        yield


def _grade_one(plan: GradingPlan, officials: dict, sub: Submission,
               env: dict | None) -> tuple[GradeResult, dict, bool]:
    """Grade one submission: ``(result, the fingerprint it was graded with, final)``.

    ``final`` is False when the grader, not the notebook, failed (a kernel that would not
    start, say): such a result is reported but graded again on the next run. The
    fingerprint is taken from the bytes actually graded, so a file replaced during the run
    is graded again next time.
    """
    name, student = sub.notebook, sub.student
    if name not in officials:
        return (GradeResult(student, name, status=FAILED, first_failure=(
            f"no official notebook {name}.ipynb in {plan.source_dir}")), sub.fingerprint, True)
    official, official_sha = officials[name]
    try:
        data = sub.path.read_bytes()
    except OSError as err:
        return (GradeResult.against(official, student, name, status=FAILED,
                                    first_failure=_one_line(f"could not read the notebook: {err}")),
                sub.fingerprint, False)
    fingerprint = _fingerprint(_sha256(data), official_sha, plan.timeout)
    try:
        submission = nbs.reads(data)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the student's problem
        return (GradeResult.against(official, student, name, status=FAILED, first_failure=_one_line(
                    f"could not read the notebook: {type(err).__name__}: {err}")),
                fingerprint, True)
    try:
        return grade_notebook(submission, official, student, name, plan.timeout, env), fingerprint, True
    except Exception as err:  # noqa: BLE001 - keep grading the others
        return (GradeResult.against(official, student, name, status=FAILED, first_failure=_one_line(
                    f"could not grade the notebook: {type(err).__name__}: {err}")),
                fingerprint, False)


def _describe(r: GradeResult) -> str:
    return (f"{r.student}/{r.notebook}: {r.points:g}/{r.max_points:g}"
            + (f" + {r.manual_points:g} {MANUAL}" if r.manual_cells else "")
            + (f"  ({r.first_failure})" if r.first_failure else ""))


def _plural(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def manual_report(manual: dict[str, dict[str, float]]) -> str:
    """The cells graded by hand, notebook by notebook (``{notebook: {grade_id: points}}``), as
    the grade command prints them, apart from the automatic score."""
    lines = [f"{MANUAL} (not in points or max_points; give these by hand):"]
    for name, cells in sorted(manual.items()):
        if cells:
            listed = ", ".join(f"{gid} ({_plural(p)})" for gid, p in cells.items())
            lines.append(f"  {name}: {listed}; {_plural(sum(cells.values()))} in all")
    return "\n".join(lines) if len(lines) > 1 else f"no cells are {MANUAL}"


def run_plan(plan: GradingPlan, jobs: int = 1, results_dir: str | Path | None = None,
             force: bool = False, log: Callable[[str], object] = print,
             progress: bool = False) -> list[GradeResult]:
    """Grade ``plan``'s submissions, ``jobs`` at a time; the results in the plan's order.

    With ``results_dir``, a submission whose saved result matches its fingerprint is not
    graded again (unless ``force``), and each new result is saved there the moment it is
    known, from the worker that graded it.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected a whole number of notebooks to grade at once, at least 1; "
                         f"got {jobs!r}")
    officials = {}
    for name, path in plan.official.items():
        try:
            officials[name] = (nbs.read(path), plan.official_sha256[name])
        except Exception as err:  # noqa: BLE001 - the instructor's file: stop and say which
            raise ValueError(f"official notebook {str(path)!r} is not a readable notebook: "
                             f"{type(err).__name__}: {err}") from err
    results: list[GradeResult | None] = [None] * len(plan.submissions)
    if results_dir is not None:
        results_dir = Path(results_dir)
        _check_results_dir(results_dir, plan.submissions_dir)
    with _lock(results_dir) if results_dir is not None else contextlib.nullcontext():
        todo = []
        for i, sub in enumerate(plan.submissions):
            saved = None if force or results_dir is None else _saved_result(results_dir, sub)
            if saved is None:
                todo.append(i)
            else:
                results[i] = saved
        threads = kernel_threads(jobs)
        log(f"grading {len(todo)} of {len(plan.submissions)} notebooks (shard {plan.shard}: "
            f"{len(plan.shard.students(plan.everyone))} of {len(plan.everyone)} students), "
            f"{min(jobs, max(1, len(todo)))} at a time, {threads} thread(s) per kernel"
            + (f"; {len(plan.submissions) - len(todo)} unchanged since they were graded "
               f"(--force grades them again)" if len(todo) < len(plan.submissions) else ""))
        env = _kernel_env(threads)

        def work(i: int) -> GradeResult:
            sub, start = plan.submissions[i], time.monotonic()
            result, fingerprint, final = _grade_one(plan, officials, sub, env)
            if results_dir is not None:
                _save_result(results_dir, sub, result, fingerprint, final, time.monotonic() - start)
            return result

        from tqdm import tqdm

        # The bar (count, rate, time left) on a terminal; in a batch job's log, a line every 30 s.
        bar = tqdm(total=len(todo), desc="grading", unit="notebook", file=sys.stderr,
                   disable=not progress or not todo, mininterval=1 if sys.stderr.isatty() else 30)
        say = (lambda s: bar.write(s, file=sys.stderr)) if progress else log
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grader")
        try:
            futures = {pool.submit(work, i): i for i in todo}  # in order: the first rows go first
            for future in as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                say(_describe(results[i]))
                bar.update()
        except BaseException:
            # Ctrl-C: drop the notebooks not started, without waiting for those in flight (a
            # cell may run for minutes); they are saved if they finish before the process ends.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        else:
            pool.shutdown()
        finally:
            bar.close()
    return results


def grade_folder(submissions_dir: str | Path, source_dir: str | Path = "solutions",
                 timeout: int = DEFAULT_TIMEOUT, log=print, *, jobs: int = 1,
                 shard: Shard | None = None, results_dir: str | Path | None = None,
                 force: bool = False, progress: bool = False) -> list[GradeResult]:
    """Grade every submitted notebook; a broken one is reported in its row, never fatal.

    See :func:`run_plan` for ``jobs``, ``results_dir`` and ``force``; ``shard`` grades only
    that shard's students.
    """
    plan = plan_grading(submissions_dir, source_dir, timeout, shard)
    return run_plan(plan, jobs, results_dir, force, log, progress)


def summary(results: Sequence[GradeResult]) -> dict[str, int]:
    """How many notebooks were graded, timed out, failed to run, or skipped as unchanged."""
    counts = {GRADED: 0, TIMED_OUT: 0, FAILED: 0, "skipped as unchanged": 0}
    for r in results:
        counts["skipped as unchanged" if r.reused else r.status] += 1
    return counts


def _rows_text(rows: Sequence[dict]) -> str:
    buffer = io.StringIO()
    w = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buffer.getvalue()


def write_csv(results: list[GradeResult], out: str | Path) -> Path:
    """Write the grades CSV (atomically: an interrupted write leaves the previous file)."""
    out = Path(out)
    _write_atomic(out, _rows_text([r.row() for r in results]))
    return out


def _write_sidecar(out: Path, shard: Shard, everyone: list[str], official_sha256: dict,
                   source: str, timeout, manual: dict[str, dict[str, float]]) -> Path:
    path = sidecar_path(out)
    _write_atomic(path, json.dumps({
        "format": SIDECAR_FORMAT,
        "csv": out.name,
        "shard": str(shard),
        "class_size": len(everyone),
        "class_sha256": _sha256("\n".join(everyone).encode()),
        "class": everyone,
        "students": shard.students(everyone),
        "official_sha256": official_sha256,
        "source": source,
        "timeout": timeout,
        "course_fast": os.environ.get("COURSE_FAST", ""),
        "manually_graded": {name: [{"cell": gid, "points": p, "grading": MANUAL} for gid, p in cells.items()]
                            for name, cells in sorted(manual.items()) if cells},
    }, indent=1) + "\n")
    return path


def _manual_from_sidecar(meta: dict) -> dict[str, dict[str, float]]:
    return {name: {c["cell"]: float(c["points"]) for c in cells}
            for name, cells in meta.get("manually_graded", {}).items()}


def _check_out(out: Path) -> None:
    if out.suffix.lower() == ".json" or out.suffix.lower() == ".results":
        raise ValueError(f"--out {str(out)!r}: expected a CSV file name such as grades.csv "
                         f"(its sidecar is {sidecar_path(out).name}, its results folder "
                         f"{results_folder(out).name})")


def grade_class(submissions_dir: str | Path, out: str | Path, source_dir: str | Path = "solutions",
                timeout: int = DEFAULT_TIMEOUT, *, jobs: int = 1, shard: Shard | None = None,
                results_dir: str | Path | None = None, force: bool = False,
                log: Callable[[str], object] = print, progress: bool = False
                ) -> tuple[list[GradeResult], dict[str, int]]:
    """The ``grade`` command: grade, then write ``out`` and its sidecar; ``(results, summary)``.

    The results folder defaults to :func:`results_folder` of ``out``; the sidecar
    (:func:`sidecar_path`) records the shard, the class and the official notebooks'
    hashes, which :func:`merge_grades` checks.
    """
    out, submissions_dir = Path(out), Path(submissions_dir)
    _check_out(out)
    if out.resolve().is_relative_to(submissions_dir.resolve()):
        raise ValueError(f"--out {str(out)!r} must not be inside the submissions folder "
                         f"{str(submissions_dir)!r}: the grader never writes there")
    results_dir = Path(results_dir) if results_dir is not None else results_folder(out)
    _check_results_dir(results_dir, submissions_dir)
    plan = plan_grading(submissions_dir, source_dir, timeout, shard)
    results = run_plan(plan, jobs, results_dir, force, log, progress)
    write_csv(results, out)
    manual = {name: nbs.manual_cells(nbs.read(path)) for name, path in plan.official.items()}
    _write_sidecar(out, plan.shard, plan.everyone, plan.official_sha256, str(source_dir), timeout, manual)
    return results, summary(results)


# ----------------------------------------------------------------------------- merging shards

def _read_shard(path: Path) -> tuple[dict, list[dict]]:
    """A shard's sidecar and rows, checked against each other."""
    if not path.is_file():
        raise ValueError(f"{str(path)!r} does not exist: expected a grades CSV written by "
                         "`grade --out`")
    side = sidecar_path(path)
    if not side.is_file():
        raise ValueError(f"{str(path)!r} has no sidecar {side.name!r} beside it: `grade` writes one "
                         "with every CSV, and merge needs it to check that the shards cover the class "
                         "exactly once; copy it along with the CSV")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        if meta.get("format") != SIDECAR_FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {SIDECAR_FORMAT!r}")
        meta["shard"] = Shard.parse(meta["shard"])
        meta["class"], meta["students"] = list(meta["class"]), list(meta["students"])
        meta["official_sha256"] = dict(meta["official_sha256"])
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{str(side)!r} is not a grades sidecar written by `grade`: {err}") from err
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != CSV_FIELDS:
            raise ValueError(f"{str(path)!r}: expected the columns {', '.join(CSV_FIELDS)}; "
                             f"got {', '.join(reader.fieldnames or ['none'])}")
        rows = list(reader)
    expected = meta["shard"].students(meta["class"])
    if sorted(meta["students"]) != expected:
        raise ValueError(f"{str(side)!r} lists students that are not those of shard {meta['shard']} "
                         "of its class: was it edited by hand?")
    have = {r["student"] for r in rows}
    if have != set(expected):
        raise ValueError(f"{str(path)!r} does not match its sidecar: "
                         + _names("rows for students outside its shard", have - set(expected))
                         + _names("no rows for its students", set(expected) - have))
    return meta, rows


def _names(what: str, names, limit: int = 8) -> str:
    names = sorted(names)
    if not names:
        return ""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{what}: {', '.join(names[:limit])}{more}. "


def merge_grades(csv_paths: Sequence[str | Path], out: str | Path) -> list[dict]:
    """Combine the shards' CSVs into one, in the unsharded run's order; the merged rows.

    Refuses (with a ValueError that says what to do) shards of different classes or splits,
    a shard given twice or overlapping another, a missing shard, and shards graded against
    different official notebooks. ``out`` gets a sidecar too, as one whole (1/1) shard.
    """
    paths = [Path(p) for p in csv_paths]
    if not paths:
        raise ValueError("merge: expected at least one grades CSV")
    out = Path(out)
    _check_out(out)
    if any(out.resolve() == p.resolve() for p in paths):
        raise ValueError(f"--out {str(out)!r} is one of the CSVs being merged: write the merge elsewhere")
    shards = [(p, *_read_shard(p)) for p in paths]
    first, meta0, _ = shards[0]
    for path, meta, _ in shards[1:]:
        if meta["class"] != meta0["class"]:
            raise ValueError(
                f"{str(first)!r} and {str(path)!r} were graded from different submissions folders "
                f"({meta0['class_size']} and {meta['class_size']} students; "
                + _names("only in one", set(meta0["class"]) ^ set(meta["class"])).rstrip(". ")
                + "): grade every shard from the same copy of the submissions")
        if meta["shard"].count != meta0["shard"].count:
            raise ValueError(f"{str(first)!r} is shard {meta0['shard']} but {str(path)!r} is shard "
                             f"{meta['shard']}: merge the shards of one split (the same N)")
    official: dict[str, tuple[str, Path]] = {}
    for path, meta, _ in shards:
        for name, sha in sorted(meta["official_sha256"].items()):
            if name in official and official[name][0] != sha:
                raise ValueError(
                    f"{str(official[name][1])!r} and {str(path)!r} were graded against different "
                    f"official notebooks: {name}.ipynb has sha256 {official[name][0][:12]}... in one "
                    f"and {sha[:12]}... in the other; grade every shard with the same --source")
            official.setdefault(name, (sha, path))
    owner: dict[int, Path] = {}
    for path, meta, _ in shards:
        k = meta["shard"].index
        if k in owner:
            raise ValueError(f"{str(owner[k])!r} and {str(path)!r} are both shard {meta['shard']}: "
                             "they overlap; merge each shard once")
        owner[k] = path
    count = meta0["shard"].count
    missing = [k for k in range(1, count + 1) if k not in owner]
    if missing:
        lost = [s for k in missing for s in Shard(k, count).students(meta0["class"])]
        raise ValueError(f"shard {', '.join(f'{k}/{count}' for k in missing)} is missing: "
                         + _names(f"no grades for {len(lost)} students", lost)
                         + f"grade it with --shard {missing[0]}/{count} and merge again")
    rows = [row for _, _, shard_rows in shards for row in shard_rows]
    rows.sort(key=lambda r: r["student"])  # stable: a student's rows keep their order
    _write_atomic(out, _rows_text(rows))
    manual = {}  # the shards were graded against the same official notebooks (checked above)
    for _, meta, _ in shards:
        manual.update(_manual_from_sidecar(meta))
    _write_sidecar(out, Shard(), meta0["class"], {n: sha for n, (sha, _) in official.items()},
                   ", ".join(sorted({str(m["source"]) for _, m, _ in shards})),
                   meta0.get("timeout"), manual)
    return rows


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

def _jobs_arg(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(
            f"expected how many notebooks to grade at once, a whole number of at least 1; got {text!r}")
    return jobs


def _shard_arg(text: str) -> Shard:
    try:
        return Shard.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade SUBMISSIONS_DIR/<student>/<notebook>.ipynb into a CSV")
    g.add_argument("submissions", type=Path)
    g.add_argument("--out", type=Path, required=True, help="the CSV to write")
    g.add_argument("--source", type=Path, default=Path("solutions"), help="official notebooks")
    g.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell")
    g.add_argument("--jobs", type=_jobs_arg, default=1, metavar="N",
                   help="notebooks graded at once, each kernel with cores/N threads (default 1; "
                        "each kernel needs its own memory, so memory bounds N too)")
    g.add_argument("--shard", type=_shard_arg, default=Shard(), metavar="K/N",
                   help="grade only shard K of N of the students (1/N ... N/N), then `merge` the CSVs")
    g.add_argument("--results", type=Path, default=None, metavar="DIR",
                   help="where each notebook's result is kept for resuming (default: beside --out, "
                        "grades.csv -> grades.results/)")
    g.add_argument("--force", action="store_true",
                   help="grade every notebook again, even those whose saved result is up to date")
    m = sub.add_parser("merge", help="combine the CSVs of `grade --shard K/N` runs into one")
    m.add_argument("csvs", nargs="+", type=Path, help="the shards' CSVs (each with its .json sidecar)")
    m.add_argument("--out", type=Path, required=True, help="the merged CSV to write")
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
            start = time.monotonic()
            results, counts = grade_class(
                args.submissions, args.out, args.source, args.timeout, jobs=args.jobs,
                shard=args.shard, results_dir=args.results, force=args.force,
                log=lambda s: print(s, file=sys.stderr), progress=True)
            print(f"summary: {', '.join(f'{n} {what}' for what, n in counts.items())} "
                  f"({len(results)} notebooks, {time.monotonic() - start:.0f} s)")
            print(manual_report({r.notebook: r.manual_cells for r in results}))
            print(f"wrote {len(results)} rows to {args.out} (and {sidecar_path(args.out).name})")
        elif args.command == "merge":
            rows = merge_grades(args.csvs, args.out)
            print(f"merged {len(args.csvs)} CSVs: wrote {len(rows)} rows to {args.out}")
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
    except KeyboardInterrupt:
        print("interrupted: the notebooks graded so far are saved; run the same command again "
              "to grade the rest", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    code = main()
    if code == 130:  # Ctrl-C: do not wait for the notebooks in flight; their kernels exit with us
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
