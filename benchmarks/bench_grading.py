"""Grading a whole class: speed with several jobs, kill and resume, shards merged (issue 22).

Three measurements, on fake classes made in a temporary folder:

1. **Speed.** Copies of the course's solution notebooks (default: exercises 00 and
   01, the second loads the shipped DCGAN and its judge) under several student
   names, graded in fast mode (``COURSE_FAST=1``, as the tests grade) with each
   ``--jobs`` of ``--jobs-list``: notebooks per minute, the speed-up over one job,
   and whether the rows equal one job's. Bars: 2 jobs >= 1.5x on 2 cores, 8 jobs >=
   5x on 16 cores (a bar applies only on a machine with that many cores).
2. **Kill and resume.** A class of ``--kill-notebooks`` tiny notebooks (one function
   and two tests; grading one is mostly a kernel's start) is graded by the command
   line with 2 jobs, SIGKILLed once half the results are saved, and run again: the
   final CSV must equal an uninterrupted run's, and no result saved before the kill
   may be rewritten (its file's mtime and bytes) or counted as graded again.
3. **Shards.** The same tiny class graded as shards 1/2 and 2/2 and merged must equal
   the unsharded run, byte for byte.

Run from the repository root (a few minutes of CPU on a 2-core laptop)::

    python benchmarks/bench_grading.py                      # 1 and 2 jobs
    python benchmarks/bench_grading.py --jobs-list 1,2,8     # on a 16-core machine

It writes ``benchmarks/results/grading.json`` and prints the tables as markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from common import mark, save

from course_lib import notebooks as nbs
from course_lib.grading import Shard, grade_class, kernel_threads, main as grading_main

ROOT = Path(__file__).resolve().parents[1]
# (jobs, cores at least, speed-up at least): the bars
BARS = [(2, 2, 1.5), (8, 16, 5.0)]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _write(nb, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbs.dumps(nb), encoding="utf-8")


def _quiet(fn, *args, **kwargs):
    """Call ``fn`` with its log and progress bar swallowed (the tables are what we print)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- speed

def realistic_class(root: Path, names: list[str], students: int) -> tuple[Path, Path]:
    """``students`` copies of each solution in ``names``, and the official notebooks."""
    subs = root / "submissions"
    for name in names:
        solution = nbs.read(ROOT / "solutions" / f"{name}.ipynb")
        for i in range(students):
            _write(solution, subs / f"student{i:02d}" / f"{name}.ipynb")
    return subs, ROOT / "solutions"


def speed(root: Path, names: list[str], students: int, jobs_list: list[int]) -> list[dict]:
    subs, source = realistic_class(root / "speed", names, students)
    rows, reference, base_rate = [], None, None
    for jobs in jobs_list:
        out = root / "speed" / f"grades-jobs{jobs}.csv"
        start = time.perf_counter()
        results, counts = _quiet(grade_class, subs, out, source, timeout=600, jobs=jobs, force=True)
        seconds = time.perf_counter() - start
        csv_text = out.read_text(encoding="utf-8")
        reference = reference or csv_text
        rate = 60 * len(results) / seconds
        base_rate = base_rate or rate
        bar = next(((c, b) for j, c, b in BARS if j == jobs), None)
        applies = bar is not None and _cores() >= bar[0]
        rows.append({
            "jobs": jobs,
            "threads per kernel": kernel_threads(jobs),
            "notebooks": len(results),
            "seconds": round(seconds, 1),
            "notebooks per minute": round(rate, 2),
            "speed-up": round(rate / base_rate, 2),
            "bar": f">= {bar[1]}x on {bar[0]} cores" if bar else "—",
            "rows equal to the first": csv_text == reference,
            "full marks": sum(r.points == r.max_points for r in results),
            "pass": mark(rate / base_rate >= bar[1] and csv_text == reference, applies) if bar else "—",
        })
        print(f"  {jobs} job(s): {len(results)} notebooks in {seconds:.1f} s "
              f"({rate:.2f}/min, {rate / base_rate:.2f}x); {counts}", flush=True)
    return rows


# ----------------------------------------------------------------------------- tiny class

def tiny_class(root: Path, students: int) -> tuple[Path, Path]:
    """A class of tiny notebooks: right, wrong or unanswered, by student."""
    def cell(source, gid, **meta):
        c = nbformat.v4.new_code_cell(source)
        c.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, "locked": False,
                                  "solution": False, "grade": False, **meta}
        return c

    def notebook(answer: str):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [cell(answer, "double", solution=True),
                    cell("assert double(3) == 6", "test-double", grade=True, locked=True, points=2),
                    cell("assert double(0) == 0", "test-zero", grade=True, locked=True, points=1)]
        return nb

    answers = ["def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
               "def double(x):\n    return x + 1", "def double(x):\n    raise NotImplementedError()"]
    source, subs = root / "source", root / "submissions"
    _write(notebook(answers[0]), source / "tiny.ipynb")
    for i in range(students):
        _write(notebook(answers[i % 3]), subs / f"student{i:03d}" / "tiny.ipynb")
    return subs, source


def _grade_command(subs: Path, source: Path, out: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "course_lib.grading", "grade", str(subs), "--out", str(out),
            "--source", str(source), "--jobs", str(jobs), "--timeout", "60"]


def _summary(stdout: str) -> dict[str, int]:
    line = next(s for s in stdout.splitlines() if s.startswith("summary: "))
    parts = line.removeprefix("summary: ").split(" (")[0].split(", ")
    return {what: int(n) for n, what in (p.split(" ", 1) for p in parts)}


def kill_and_resume(root: Path, subs: Path, source: Path, reference: str, total: int) -> dict:
    out = root / "killed" / "grades.csv"
    out.parent.mkdir(parents=True)
    results = out.with_suffix(".results")
    proc = subprocess.Popen(_grade_command(subs, source, out, 2), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while len(list(results.rglob("*.ipynb.json"))) < total // 2 and proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the grader saved fewer than half the results in 600 s")
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in results.rglob("*.ipynb.json")}
    rerun = subprocess.run(_grade_command(subs, source, out, 2), capture_output=True, text=True)
    if rerun.returncode != 0:
        raise RuntimeError(f"the rerun failed:\n{rerun.stdout}\n{rerun.stderr}")
    counts = _summary(rerun.stdout)
    rewritten = sum((p.stat().st_mtime_ns, p.read_bytes()) != saved for p, saved in finished.items())
    equal = out.read_text(encoding="utf-8") == reference
    graded_again = counts["graded"] + counts["timed out"] + counts["failed to run"]
    ok = (equal and rewritten == 0 and counts["skipped as unchanged"] == len(finished)
          and graded_again == total - len(finished) and 0 < len(finished) < total)
    return {"notebooks": total, "jobs": 2, "finished before the kill": len(finished),
            "graded by the rerun": graded_again, "skipped as unchanged": counts["skipped as unchanged"],
            "finished results rewritten": rewritten, "CSV equals an uninterrupted run": equal,
            "pass": mark(ok)}


def shards(root: Path, subs: Path, source: Path, reference: str, total: int) -> dict:
    outs = []
    start = time.perf_counter()
    for k in (1, 2):
        out = root / "shards" / f"grades-{k}.csv"
        _quiet(grade_class, subs, out, source, timeout=60, jobs=2, shard=Shard(k, 2))
        outs.append(out)
    merged = root / "shards" / "grades.csv"
    rc = _quiet(grading_main, ["merge", *map(str, outs), "--out", str(merged)])
    equal = rc == 0 and merged.read_text(encoding="utf-8") == reference
    sizes = [len(out.read_text(encoding="utf-8").splitlines()) - 1 for out in outs]
    return {"notebooks": total, "shards": 2, "rows per shard": " + ".join(map(str, sizes)),
            "seconds": round(time.perf_counter() - start, 1), "merged equals unsharded": equal,
            "pass": mark(equal and sum(sizes) == total)}


# ----------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs-list", default="1,2", help="jobs to time, the first is the baseline")
    parser.add_argument("--notebooks", default="00_warmup,01_dcgan_latent_arithmetic",
                        help="solutions copied into the speed class")
    parser.add_argument("--students", type=int, default=4, help="students in the speed class")
    parser.add_argument("--kill-notebooks", type=int, default=40, help="tiny notebooks in the kill check")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    jobs_list = [int(j) for j in args.jobs_list.split(",")]
    if any(j < 1 for j in jobs_list):
        parser.error(f"--jobs-list: expected whole numbers of at least 1, got {args.jobs_list!r}")
    names = args.notebooks.split(",")
    os.environ["COURSE_FAST"] = "1"  # the kernels inherit it: graded as the tests grade
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    load_before = os.getloadavg()

    tables = {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        if not args.skip_speed:
            print(f"speed: {args.students} students x {names}, jobs {jobs_list}", flush=True)
            tables["speed"] = ("Grading throughput, fast mode (COURSE_FAST=1)",
                               speed(root, names, args.students, jobs_list))
        total = args.kill_notebooks
        subs, source = tiny_class(root / "tiny", total)
        print(f"kill and resume: {total} tiny notebooks", flush=True)
        reference_out = root / "tiny" / "reference" / "grades.csv"
        _quiet(grade_class, subs, reference_out, source, timeout=60, jobs=2)
        reference = reference_out.read_text(encoding="utf-8")
        tables["resume"] = ("SIGKILL halfway, then run again",
                            [kill_and_resume(root, subs, source, reference, total)])
        print("shards", flush=True)
        tables["shards"] = ("Two shards merged vs one run", [shards(root, subs, source, reference, total)])

    load_after = os.getloadavg()
    checkpoints = ["dcgan-faces64", "faces-attributes"] if "01_dcgan_latent_arithmetic" in names else []
    save("grading", tables, checkpoints=checkpoints,
         notes={
             "cores": _cores(),
             "speed class": f"{args.students} students x {', '.join(names)} (copies of the solutions), "
                            "graded with COURSE_FAST=1",
             "kill and shard class": f"{total} tiny notebooks (a function and two tests; grading one is "
                                     "mostly starting a kernel)",
             "load average (1 min) before / after": f"{load_before[0]:.2f} / {load_after[0]:.2f}",
             "not measured": "8 jobs on 16 cores: no 16-core machine was available; run "
                             "`python benchmarks/bench_grading.py --jobs-list 1,2,8` there",
         })


if __name__ == "__main__":
    main()
