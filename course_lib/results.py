"""The benchmarks' measured tables, written once and read by the lectures.

A benchmark script (``benchmarks/``) measures a claim and calls :func:`write`; the file it
writes, ``benchmarks/results/NAME.json``, is committed with the command that measured it,
the commit it measured and the machine it ran on. A lecture never types a measured number:
it shows :func:`table` (a pandas DataFrame, rendered as HTML in Jupyter) and :func:`provenance`.

File format::

    {"name": ..., "command": ..., "commit": ..., "machine": ..., "date": ...,
     "checkpoints": {name: sha256 of each shipped checkpoint it measured},
     "tables": {table name: {"title": ..., "columns": [...], "rows": [[...], ...]}},
     "notes": {...}}
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

from .checks import describe

import torch

__all__ = ["RESULTS_DIR", "cpu_name", "machine", "commit", "write", "load", "rows", "table", "provenance",
           "available", "runtime_note"]

#: The committed results files (the repository's ``benchmarks/results``).
RESULTS_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def cpu_name() -> str:
    """This CPU's model name (``/proc/cpuinfo``), or what ``platform`` knows of it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} CPU"


def machine(dev: torch.device | str = "cpu", world: int = 1) -> str:
    """What a measurement or a training run ran on: the GPU's name, or the CPU's with its
    core and torch-thread counts; ``world`` > 1 for several processes."""
    dev = torch.device(dev)
    if dev.type == "cuda":
        what = torch.cuda.get_device_name(dev)
    elif dev.type == "mps":
        what = "Apple GPU (MPS)"
    else:
        what = f"{cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    return f"{world} × {what}" if world > 1 else what


def _commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        # the results files themselves do not count: a benchmark writing one is not a code change
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)benchmarks/results"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode != 0:
        return "unknown"
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def commit() -> str:
    """The course's commit now (short hash, marked when the tree has uncommitted changes)."""
    return _commit(RESULTS_DIR.parent.parent)


def _table(title: str, rows: Sequence[Mapping[str, object]]) -> dict:
    if not isinstance(rows, Sequence) or not rows or not all(isinstance(r, Mapping) for r in rows):
        raise ValueError(f"results table {title!r}: expected a non-empty list of row dicts, "
                         f"got {describe(rows)}")
    columns = list(rows[0])
    for row in rows:
        if list(row) != columns:
            raise ValueError(f"results table {title!r}: every row needs the columns {columns}, "
                             f"got {list(row)}")
    return {"title": title, "columns": columns, "rows": [[row[c] for c in columns] for row in rows]}


def write(name: str, tables: Mapping[str, tuple[str, Sequence[Mapping[str, object]]]], command: str,
          checkpoints: Mapping[str, str] | None = None, notes: Mapping[str, object] | None = None,
          dev: torch.device | str = "cpu", root: str | Path | None = None) -> Path:
    """Write ``RESULTS_DIR/NAME.json``: ``tables`` maps a key to ``(title, rows)``, each row a
    dict of column -> value (the same columns in every row). ``checkpoints``: the sha256 of each
    shipped checkpoint measured (from the manifest), so that a test can tell when the weights
    changed after the measurement. Replaces the file atomically."""
    root = Path(root) if root else RESULTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    doc = {
        "name": name,
        "command": command,
        "commit": commit(),
        "machine": machine(dev),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "checkpoints": dict(checkpoints or {}),
        "tables": {key: _table(title, rows) for key, (title, rows) in tables.items()},
        "notes": dict(notes or {}),
    }
    path = root / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=float) + "\n")
    os.replace(tmp, path)
    return path


def available(root: str | Path | None = None) -> list[str]:
    """Names of the results files there are."""
    root = Path(root) if root else RESULTS_DIR
    return sorted(p.stem for p in root.glob("*.json"))


def load(name: str, root: str | Path | None = None) -> dict:
    """The results file ``NAME`` as a dict (see the module's docstring for its keys)."""
    root = Path(root) if root else RESULTS_DIR
    path = root / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"no results file {str(path)!r}; run the benchmark that writes it "
                         f"(available: {', '.join(available(root)) or 'none'})")
    return json.loads(path.read_text())


def _stored_table(name: str, key: str, root: str | Path | None) -> dict:
    doc = load(name, root)
    if key not in doc["tables"]:
        raise ValueError(f"results {name!r} has the tables {', '.join(doc['tables'])}, not {key!r}")
    return doc["tables"][key]


def rows(name: str, key: str, root: str | Path | None = None) -> list[dict]:
    """One measured table as a list of row dicts (column -> value), as :func:`write` took it."""
    t = _stored_table(name, key, root)
    return [dict(zip(t["columns"], row)) for row in t["rows"]]


def table(name: str, key: str, root: str | Path | None = None):
    """One measured table as a pandas DataFrame (``key`` as in the file's ``tables``)."""
    import pandas as pd

    t = _stored_table(name, key, root)
    frame = pd.DataFrame(t["rows"], columns=t["columns"])
    frame.attrs["title"] = t["title"]
    return frame


def provenance(name: str, root: str | Path | None = None) -> str:
    """One line saying how the results ``NAME`` were measured: command, commit, machine, date."""
    doc = load(name, root)
    return (f"Measured by `{doc['command']}` at commit {doc['commit']} on {doc['machine']}, "
            f"{doc['date']}.")


def runtime_note(lecture: str, root: str | Path | None = None) -> str:
    """One markdown line: how long notebook ``lecture`` (e.g. ``"01_dcgan_latent_arithmetic"``)
    took top to bottom, in fast and in full mode, on a CPU and on a GPU, as measured by
    ``benchmarks/bench_runtimes.py`` (``runtimes.json``); "not measured yet" where it has no row."""
    mine = [r for r in rows("runtimes", "runtimes", root) if r["lecture"] == lecture]
    parts = []
    for mode in ("fast", "full"):
        for hardware in ("CPU", "GPU"):
            row = next((r for r in mine if (r["mode"], r["hardware"]) == (mode, hardware)), None)
            if row is None:
                parts.append(f"{mode} mode on a {hardware}: not measured yet")
            elif row["minutes"] is None:
                parts.append(f"{mode} mode on a {hardware}: {row['status']}")
            else:
                parts.append(f"{mode} mode on a {hardware}: **{row['minutes']:g} min** ({row['machine']}, "
                             f"load {row['load average']:g})")
    return (f"**Runtime** of this notebook, top to bottom: {'; '.join(parts)}. "
            "(Measured by `benchmarks/bench_runtimes.py`; lecture 00 has the table for every lecture.)")
