"""The benchmarks' results files: written once, read by the lectures, and never stale.

A lecture renders measured tables from ``benchmarks/results/NAME.json``; each file records the
sha256 of every shipped checkpoint it measured. When a checkpoint is retrained (its sha256 in the
manifest changes), the measurement no longer describes it, and the test below fails until the
benchmark is run again.
"""

import json
import re
from pathlib import Path

import pytest

from course_lib import pretrained, results

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(results.RESULTS_DIR.glob("*.json"))
LECTURES = sorted((ROOT / "lectures").glob("*.ipynb"))


def _lecture_text(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_results_file_names_its_provenance_and_current_weights(path):
    doc = json.loads(path.read_text())
    assert doc["name"] == path.stem and doc["command"].startswith("python ")
    assert doc["commit"] and doc["machine"] and doc["date"]
    assert doc["tables"], f"{path.name} holds no table"
    stale = {name: sha[:12] for name, sha in doc["checkpoints"].items()
             if name not in pretrained.available() or pretrained.info(name)["sha256"] != sha}
    assert not stale, (f"{path.name} measured checkpoints whose weights have changed since ({stale}); "
                       f"run `{doc['command']}` again")


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_lectures_render_only_results_that_exist_and_measured_their_checkpoints(path):
    text = _lecture_text(path)
    for name in set(re.findall(r"results\.(?:table|provenance|load)\(\s*[\"']([\w-]+)[\"']", text)):
        assert name in results.available(), f"{path.name} renders results {name!r}, which no benchmark wrote"
    loaded = set(re.findall(r"pretrained\.load\(\s*[\"']([\w.-]+)[\"']", text))
    for doc in (results.load(n) for n in results.available()):
        for name in loaded & set(doc["checkpoints"]):
            assert pretrained.info(name)["sha256"] == doc["checkpoints"][name], (
                f"{path.name} loads {name}, whose weights are newer than the results {doc['name']!r}")


def test_write_then_read_a_table(tmp_path):
    rows = [{"method": "a", "psnr": 21.5}, {"method": "b", "psnr": 23.0}]
    path = results.write("demo", {"psnr": ("PSNR of two methods", rows)}, "python bench_demo.py",
                         checkpoints={"x": "0" * 64}, root=tmp_path)
    assert path == tmp_path / "demo.json" and results.available(tmp_path) == ["demo"]
    frame = results.table("demo", "psnr", root=tmp_path)
    assert list(frame.columns) == ["method", "psnr"] and frame["psnr"].tolist() == [21.5, 23.0]
    assert frame.attrs["title"] == "PSNR of two methods"
    assert "python bench_demo.py" in results.provenance("demo", root=tmp_path)


def test_bad_results_are_refused_with_what_was_expected(tmp_path):
    with pytest.raises(ValueError, match="the columns"):
        results.write("demo", {"t": ("T", [{"a": 1}, {"b": 2}])}, "python x.py", root=tmp_path)
    with pytest.raises(ValueError, match="non-empty list of row dicts"):
        results.write("demo", {"t": ("T", [])}, "python x.py", root=tmp_path)
    with pytest.raises(ValueError, match="no results file"):
        results.load("missing", root=tmp_path)
    results.write("demo", {"t": ("T", [{"a": 1}])}, "python x.py", root=tmp_path)
    with pytest.raises(ValueError, match="has the tables t, not 'u'"):
        results.table("demo", "u", root=tmp_path)


def test_runtime_note_reads_each_mode_and_hardware_from_the_runtimes_file(tmp_path):
    rows = [{"lecture": "01_x", "mode": "fast", "hardware": "CPU", "minutes": 2.5, "status": "ok",
             "machine": "a CPU", "load average": 1.0},
            {"lecture": "01_x", "mode": "full", "hardware": "GPU", "minutes": None,
             "status": "failed: boom", "machine": "a GPU", "load average": 0.5},
            {"lecture": "02_y", "mode": "full", "hardware": "CPU", "minutes": 9.0, "status": "ok",
             "machine": "a CPU", "load average": 1.0}]
    results.write("runtimes", {"runtimes": ("t", rows)}, "python x", root=tmp_path)
    note = results.runtime_note("01_x", root=tmp_path)
    assert "fast mode on a CPU: **2.5 min** (a CPU" in note
    assert "full mode on a GPU: failed: boom" in note
    assert "full mode on a CPU: not measured yet" in note   # 02_y's row is not 01_x's
    assert "9 min" not in note
