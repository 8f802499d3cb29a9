"""What the benchmarks share: a pass/fail mark, a median timer, and the results file.

Every benchmark ends with :func:`save`, which writes its tables through
:func:`course_lib.results.write` (with the command that was run, the commit and the machine)
and prints them as markdown, so the closing note of an issue can quote them.
"""

from __future__ import annotations

import shlex
import statistics
import sys
import time
from typing import Callable, Mapping, Sequence

from course_lib import pretrained, results

__all__ = ["mark", "median_ms", "command", "save", "markdown"]


def mark(ok: bool, applies: bool = True) -> str:
    """``pass`` / ``FAIL`` against a bar, ``—`` where the bar does not apply."""
    return ("pass" if ok else "FAIL") if applies else "—"


def median_ms(fn: Callable[[], object], repeat: int = 20, warmup: int = 1) -> float:
    """The median wall time of ``fn()`` in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def command() -> str:
    """The command line that ran this benchmark, as one could type it again."""
    return "python " + shlex.join(sys.argv)


def markdown(title: str, rows: Sequence[Mapping[str, object]]) -> str:
    columns = list(rows[0])

    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def save(name: str, tables: Mapping[str, tuple[str, Sequence[Mapping[str, object]]]],
         checkpoints: Sequence[str] = (), notes: Mapping[str, object] | None = None, dev="cpu"):
    """Write ``benchmarks/results/NAME.json`` and print each table as markdown."""
    hashes = {n: pretrained.info(n)["sha256"] for n in checkpoints}
    path = results.write(name, tables, command(), checkpoints=hashes, notes=notes, dev=dev)
    for title, rows in tables.values():
        print("\n" + markdown(title, rows))
    print(f"\n(written to {path})")
    return path
