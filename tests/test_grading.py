"""The one-command grader, on a fake submissions folder, and the nbgrader route.

One folder of submissions is graded once (module fixture), through the real
command line with two jobs; each test then checks one student's row. A fake
class of tiny notebooks (a kernel runs one in about a second) checks parallel,
resumed and sharded runs of a whole class against one sequential run.
"""

from __future__ import annotations

import csv
import hashlib
import json
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
         "--source", str(ROOT / "solutions"), "--timeout", str(TIMEOUT), "--jobs", "2"],
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
    # exercise 00 has no written answers: nothing is left to grade by hand
    assert all((r["manual_points"], r["manual_cells"]) == ("0", "") for r in graded["rows"].values())


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


# ----------------------------------------------------------------------------- a whole class
# A fake class of tiny notebooks (no torch: a kernel runs one in under a second), for the
# parallel, resumable and sharded runs.

TINY_STUDENTS = [f"student{i:02d}" for i in range(6)]
TINY_ANSWERS = {  # by student index % 3: right, wrong, not done
    0: "def double(x):\n    return 2 * x",
    1: "def double(x):\n    return x + 1",
    2: "def double(x):\n    raise NotImplementedError()",
}


def _nbgrader(cell, gid, **meta):
    cell.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, "locked": False,
                                 "solution": False, "grade": False, **meta}
    return cell


def _tiny_official(version: int = 1, written: bool = False) -> nbformat.NotebookNode:
    """Two autograded tests (2 + 1 points); with ``written``, also two answers graded by hand,
    nbgrader's "manually graded answer" (a markdown cell, 2 points) and "manually graded task"
    (0.5 points)."""
    new = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _nbgrader(new("import math"), "setup", locked=True),
        _nbgrader(new("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
                  "double", solution=True),
        _nbgrader(new("assert double(3) == 6"), "test-double", grade=True, locked=True, points=2),
        _nbgrader(new(f"assert double(0) == 0\nassert {version} == 1, 'a stricter official test'"),
                  "test-zero", grade=True, locked=True, points=1),
    ]
    if written:
        md = nbformat.v4.new_markdown_cell
        nb.cells += [
            _nbgrader(md("Why is doubling linear? YOUR ANSWER HERE"), "why", solution=True, grade=True,
                      points=2),
            _nbgrader(md("Plot `double` and comment on it."), "plot-task", task=True, locked=True,
                      points=0.5),
        ]
    return nb


def _tiny_class(root: Path, students=TINY_STUDENTS) -> tuple[Path, Path]:
    """``(submissions, source)``: one tiny notebook per student, answered right, wrong or not."""
    source, subs = root / "source", root / "submissions"
    _write(_tiny_official(), source / "tiny.ipynb")
    for i, student in enumerate(students):
        nb = _tiny_official()
        _cell(nb, "double").source = TINY_ANSWERS[i % 3]
        _write(nb, subs / student / "tiny.ipynb")
    return subs, source


def _summary(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """The counts of the grader's summary line: {"graded": 3, "skipped as unchanged": 5, ...}."""
    line = next(s for s in proc.stdout.splitlines() if s.startswith("summary: "))
    counts = line.removeprefix("summary: ").split(" (")[0].split(", ")
    return {what: int(n) for n, what in (c.split(" ", 1) for c in counts)}


def _grade_in_process(subs: Path, source: Path, out: Path, *extra: str) -> dict:
    """Run ``grade`` in this process (no interpreter start-up to pay); its summary counts and log."""
    import contextlib
    import io

    from course_lib.grading import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = main(["grade", str(subs), "--out", str(out), "--source", str(source), "--timeout", "30",
                   *extra])
    assert rc == 0, stdout.getvalue() + stderr.getvalue()
    proc = subprocess.CompletedProcess([], rc, stdout.getvalue(), stderr.getvalue())
    return {**_summary(proc), "log": proc.stderr}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny class, graded once with one job: the reference every other run must equal."""
    base = tmp_path_factory.mktemp("tiny")
    subs, source = _tiny_class(base)
    before = _snapshot(subs)
    out = base / "reference" / "grades.csv"
    out.parent.mkdir()
    counts = _grade_in_process(subs, source, out, "--jobs", "1")
    assert _snapshot(subs) == before  # results folder and sidecar are written beside the CSV
    return {"base": base, "subs": subs, "source": source, "csv": out.read_text(encoding="utf-8"),
            "summary": counts}


def test_tiny_reference_grades_every_student(tiny):
    rows = list(csv.DictReader(tiny["csv"].splitlines()))
    assert [r["student"] for r in rows] == TINY_STUDENTS
    expected = {0: "3", 1: "0", 2: "0"}  # right: 2 + 1 points; x + 1 fails both tests; not done
    assert [r["points"] for r in rows] == [expected[i % 3] for i in range(len(rows))]
    counts = {k: v for k, v in tiny["summary"].items() if k != "log"}
    assert counts == {"graded": len(rows), "timed out": 0, "failed to run": 0, "skipped as unchanged": 0}


def test_two_jobs_give_the_same_rows_as_one(tiny, tmp_path):
    out = tmp_path / "grades.csv"
    counts = _grade_in_process(tiny["subs"], tiny["source"], out, "--jobs", "2")
    assert "2 at a time" in counts["log"], counts["log"]
    assert out.read_text(encoding="utf-8") == tiny["csv"]  # row for row, in the same order
    assert counts["graded"] == len(TINY_STUDENTS)


def test_killed_run_resumes_and_regrades_nothing_finished(tiny, tmp_path):
    """SIGKILL the grader once some results are saved; the rerun grades only the rest."""
    import signal
    import time

    out = tmp_path / "grades.csv"
    results = tmp_path / "grades.results"
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_lib.grading", "grade", str(tiny["subs"]), "--out", str(out),
         "--source", str(tiny["source"]), "--timeout", "30", "--jobs", "1"],
        cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(results.rglob("*.ipynb.json"))) < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "the grader saved no results within 120 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in results.rglob("*.ipynb.json")}
    assert 2 <= len(finished) < len(TINY_STUDENTS), "the kill should land halfway through"
    assert not out.exists()  # the CSV is written at the end

    counts = _grade_in_process(tiny["subs"], tiny["source"], out, "--jobs", "2")
    assert out.read_text(encoding="utf-8") == tiny["csv"]
    assert counts["skipped as unchanged"] == len(finished), counts
    assert counts["graded"] == len(TINY_STUDENTS) - len(finished), counts
    for path, (mtime, data) in finished.items():  # not rewritten: not regraded
        assert (path.stat().st_mtime_ns, path.read_bytes()) == (mtime, data), path
    assert not list(results.rglob(".*.tmp"))

    # A changed submission is graded again, and only it; --force grades all.
    changed = tiny["base"] / "changed"
    shutil.copytree(tiny["subs"], changed)
    nb = nbs.read(changed / "student02" / "tiny.ipynb")
    _cell(nb, "double").source = TINY_ANSWERS[0]
    _write(nb, changed / "student02" / "tiny.ipynb")
    counts = _grade_in_process(changed, tiny["source"], out, "--jobs", "2")
    assert (counts["graded"], counts["skipped as unchanged"]) == (1, len(TINY_STUDENTS) - 1), counts
    row = next(r for r in csv.DictReader(out.read_text(encoding="utf-8").splitlines())
               if r["student"] == "student02")
    assert row["points"] == "3"


def test_two_shards_merged_equal_one_unsharded_run(tiny, tmp_path, capsys):
    from course_lib.grading import Shard, main

    shards = []
    for k in (1, 2):
        out = tmp_path / f"grades-{k}.csv"
        counts = _grade_in_process(tiny["subs"], tiny["source"], out, "--shard", f"{k}/2", "--jobs", "2")
        rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
        assert [r["student"] for r in rows] == Shard(k, 2).students(TINY_STUDENTS)
        assert counts["graded"] == len(rows) == len(TINY_STUDENTS) // 2
        shards.append(out)
    merged = tmp_path / "grades.csv"
    assert main(["merge", str(shards[1]), str(shards[0]), "--out", str(merged)]) == 0
    assert merged.read_text(encoding="utf-8") == tiny["csv"]

    # Refused: a shard given twice, a missing shard, a CSV without its sidecar.
    capsys.readouterr()
    assert main(["merge", str(shards[0]), str(shards[0]), "--out", str(tmp_path / "x.csv")]) == 2
    assert "are both shard 1/2" in capsys.readouterr().err
    assert main(["merge", str(shards[0]), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "shard 2/2 is missing" in err and "student01" in err, err
    shutil.copyfile(shards[1], tmp_path / "bare.csv")
    assert main(["merge", str(shards[0]), str(tmp_path / "bare.csv"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "no sidecar 'bare.json'" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_shards_deal_the_sorted_class_round_robin():
    from course_lib.grading import Shard

    class_ = ["eve", "ada", "dan", "bo", "cy"]
    assert Shard(1, 2).students(class_) == ["ada", "cy", "eve"]
    assert Shard(2, 2).students(class_) == ["bo", "dan"]
    assert sorted(s for k in (1, 2, 3) for s in Shard(k, 3).students(class_)) == sorted(class_)
    assert Shard.parse(" 3/4 ") == Shard(3, 4) and str(Shard(3, 4)) == "3/4"


def test_changed_official_notebook_is_regraded_and_merge_refuses_mixed_officials(tmp_path, capsys):
    from course_lib.grading import main

    subs, source = _tiny_class(tmp_path, students=["ada", "bo"])
    stricter = tmp_path / "stricter"
    _write(_tiny_official(version=2), stricter / "tiny.ipynb")
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert _grade_in_process(subs, source, one, "--shard", "1/2")["graded"] == 1
    assert _grade_in_process(subs, stricter, two, "--shard", "2/2")["graded"] == 1
    assert main(["merge", str(one), str(two), "--out", str(tmp_path / "all.csv")]) == 2
    err = capsys.readouterr().err
    assert "different official notebooks: tiny.ipynb" in err, err
    assert not (tmp_path / "all.csv").exists()

    # Unchanged: skipped; --force: graded again; a changed official notebook: graded again.
    assert _grade_in_process(subs, source, one, "--shard", "1/2")["skipped as unchanged"] == 1
    assert _grade_in_process(subs, source, one, "--shard", "1/2", "--force")["graded"] == 1
    assert _grade_in_process(subs, stricter, one, "--shard", "1/2")["graded"] == 1
    row = next(csv.DictReader(one.read_text(encoding="utf-8").splitlines()))
    assert (row["student"], row["points"], row["failed_tests"]) == ("ada", "2", "test-zero")
    assert main(["merge", str(one), str(two), "--out", str(tmp_path / "all.csv")]) == 0


@pytest.mark.parametrize("option, value, expected", [
    ("--jobs", "0", "at least 1"), ("--jobs", "-2", "at least 1"), ("--jobs", "two", "at least 1"),
    ("--shard", "3/2", "1 <= K <= N"), ("--shard", "0/2", "numbered from 1"),
    ("--shard", "a/b", "expected K/N"), ("--shard", "2", "expected K/N"), ("--shard", "1/0", "1 <= K <= N"),
])
def test_bad_jobs_and_shard_are_refused_with_what_was_expected(tmp_path, capsys, option, value, expected):
    from course_lib.grading import main

    (tmp_path / "subs" / "alice").mkdir(parents=True)
    with pytest.raises(SystemExit) as exit_:
        main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "grades.csv"), option, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and expected in err, err
    assert not (tmp_path / "grades.csv").exists()


def test_results_folder_inside_submissions_is_refused(tmp_path, capsys):
    from course_lib.grading import main

    subs, source = _tiny_class(tmp_path, students=["ada"])
    before = _snapshot(subs)
    assert main(["grade", str(subs), "--out", str(tmp_path / "grades.csv"), "--source", str(source),
                 "--results", str(subs / "ada" / "results")]) == 2
    assert "inside the submissions folder" in capsys.readouterr().err
    assert _snapshot(subs) == before and not (tmp_path / "grades.csv").exists()


# ----------------------------------------------------------------------------- the lectures' exercises

@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", ["01_dcgan_latent_arithmetic", "02_gan_inversion", "03_image2stylegan",
                                  "04_glcic_image_completion", "05_adain_style_transfer", "06_spade_gaugan",
                                  "07_ganpaint"])
def test_exercise_solved_scores_full_marks_and_handed_out_scores_zero(tmp_path, name):
    """A lecture's exercise through the grading command: its solution earns every autograded
    point, the exercise as handed out earns none, each test failing on NotImplementedError."""
    official = nbs.read(ROOT / "solutions" / f"{name}.ipynb")
    tests = [nbs.grade_id(c) for c in official.cells if nbs.is_test(c)]
    subs, out = tmp_path / "submissions", tmp_path / "grades.csv"
    _write(official, subs / "solved" / f"{name}.ipynb")
    _write(nbs.read(ROOT / "exercises" / f"{name}.ipynb"), subs / "untouched" / f"{name}.ipynb")
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.grading", "grade", str(subs), "--out", str(out),
         "--source", str(ROOT / "solutions"), "--timeout", "240", "--jobs", "1"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=580)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with out.open(newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    full = nbs.max_points(official)
    assert full > 0 and tests
    solved, untouched = rows["solved"], rows["untouched"]
    assert (solved["points"], solved["max_points"]) == (_score(full), _score(full)), solved
    assert solved["failed_tests"] == "" and solved["first_failure"] == "", solved
    assert untouched["points"] == "0" and untouched["failed_tests"].split() == tests, untouched
    assert "NotImplementedError" in untouched["first_failure"], untouched
    # The written answers (nbgrader's "manually graded answer": graded, written by the student) are
    # graded by hand: listed with their points in each row and in the report, outside max_points.
    written = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in official.cells
               if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")}
    assert written, f"{name} has no written answer graded by hand"
    assert full == sum(c.metadata["nbgrader"]["points"] for c in official.cells
                       if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
                       and not c.metadata["nbgrader"].get("solution"))   # the tests' points, no more
    for row in (solved, untouched):
        assert row["manual_points"] == _score(sum(written.values())), row
        assert row["manual_cells"].split() == [f"{gid}:{_score(p)}" for gid, p in written.items()], row
    listed = ", ".join(f"{gid} ({_score(p)} point{'' if p == 1 else 's'})" for gid, p in written.items())
    assert f"{name}: {listed}" in proc.stdout, proc.stdout


def test_cells_graded_by_hand_are_reported_apart_from_the_automatic_score(tmp_path):
    """The written answers are in neither points nor max_points; every row, the printed report,
    the sidecar and a merge of shards name each of them with its points, graded by hand."""
    from course_lib.grading import main

    source, subs = tmp_path / "source", tmp_path / "submissions"
    _write(_tiny_official(written=True), source / "tiny.ipynb")
    for student, answer in (("ada", 0), ("bo", 2)):   # right and not done
        nb = _tiny_official(written=True)
        _cell(nb, "double").source = TINY_ANSWERS[answer]
        _write(nb, subs / student / "tiny.ipynb")
    expected_sidecar = {"tiny": [{"cell": "why", "points": 2, "grading": "graded by hand"},
                                 {"cell": "plot-task", "points": 0.5, "grading": "graded by hand"}]}
    outs = []
    for k in (1, 2):
        out = tmp_path / f"grades-{k}.csv"
        counts = _grade_in_process(subs, source, out, "--shard", f"{k}/2")
        assert counts["graded"] == 1
        outs.append(out)
        assert json.loads(out.with_suffix(".json").read_text())["manually_graded"] == expected_sidecar
    merged = tmp_path / "grades.csv"
    assert main(["merge", str(outs[0]), str(outs[1]), "--out", str(merged)]) == 0
    assert json.loads(merged.with_suffix(".json").read_text())["manually_graded"] == expected_sidecar
    rows = {r["student"]: r for r in csv.DictReader(merged.read_text(encoding="utf-8").splitlines())}
    scores = {s: (r["points"], r["max_points"]) for s, r in rows.items()}
    assert scores == {"ada": ("3", "3"), "bo": ("0", "3")}   # the 2.5 points by hand in neither
    for row in rows.values():
        assert (row["manual_points"], row["manual_cells"]) == ("2.5", "why:2 plot-task:0.5"), row

    # The printed report: the automatic score per notebook, then the cells left to grade by hand.
    import contextlib
    import io

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert main(["grade", str(subs), "--out", str(tmp_path / "again.csv"), "--source", str(source),
                     "--force"]) == 0
    assert "ada/tiny: 3/3 + 2.5 graded by hand" in stderr.getvalue(), stderr.getvalue()
    report = stdout.getvalue()
    assert "graded by hand (not in points or max_points" in report, report
    assert "tiny: why (2 points), plot-task (0.5 points); 2.5 points in all" in report, report
