"""How long each lecture takes to run, top to bottom, in fast or full mode, on this machine.

    python benchmarks/bench_runtimes.py --mode fast [--device cpu] [LECTURE ...]
    python benchmarks/bench_runtimes.py --mode full --device cuda          # on a GPU

Executes each lecture notebook (all of ``lectures/`` by default, or the ones named, e.g.
``00_welcome``) in a fresh kernel, in the lectures' folder, with ``COURSE_FAST`` set by
``--mode`` (fast: ``COURSE_FAST=1``, every loop shrunk; full: ``COURSE_FAST=0``, the real
results) and ``COURSE_DEVICE`` by ``--device``, and times it. A notebook that raises is
recorded as failed, with no time.

Rows are merged into ``benchmarks/results/runtimes.json``: a measurement replaces the earlier one
of the same lecture, mode and kind of hardware (CPU or GPU) and keeps the others, so fast and
full mode, CPU and GPU, can be measured by separate runs on separate machines. Each row keeps
its own command, commit, machine, date and the machine's load average while it ran (the
times grow with the load of a shared machine). Lecture 00 shows the whole table; each lecture
shows its own row (``course_lib.results.runtime_note``).
"""

import argparse
import datetime as dt
import os
import shlex
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from course_lib import results
from course_lib.notebooks import notebook_client

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
NAME, KEY = "runtimes", "runtimes"


def run_one(path: Path, timeout: int) -> tuple[float | None, str]:
    """Execute ``path`` in a fresh kernel of this environment; ``(seconds, "ok")``, or ``(None, why)``
    when a cell raised, ran past ``timeout`` seconds or killed the kernel."""
    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellTimeoutError:
        return None, f"failed: a cell ran past {timeout} s"
    except DeadKernelError:
        return None, "failed: the kernel died (out of memory?)"
    except CellExecutionError as e:
        return None, f"failed: {str(e).strip().splitlines()[-1][:200]}"
    return time.perf_counter() - start, "ok"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lectures", nargs="*", help="notebook names without .ipynb (default: all lectures)")
    p.add_argument("--mode", choices=("fast", "full"), required=True)
    p.add_argument("--device", default="cpu", help="COURSE_DEVICE for the notebooks: cpu or cuda")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = p.parse_args()
    known = sorted(q.stem for q in LECTURES.glob("[0-9][0-9]_*.ipynb"))
    names = args.lectures or known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"error: no lecture {', '.join(unknown)}; the lectures are {', '.join(known)}")
    os.environ["COURSE_FAST"] = "1" if args.mode == "fast" else "0"
    os.environ["COURSE_DEVICE"] = args.device
    hardware = "GPU" if torch.device(args.device).type == "cuda" else "CPU"
    command = "python benchmarks/bench_runtimes.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    rows = results.rows(NAME, KEY) if NAME in results.available() else []
    commit = results.commit()   # before this run writes runtimes.json (which would mark it dirty)
    for name in names:
        load_before = os.getloadavg()[0]
        seconds, status = run_one(LECTURES / f"{name}.ipynb", args.timeout)
        row = {"lecture": name, "mode": args.mode, "hardware": hardware,
               "minutes": None if seconds is None else round(seconds / 60, 1), "status": status,
               "machine": results.machine(args.device),
               "load average": round((load_before + os.getloadavg()[0]) / 2, 1),
               "commit": commit,
               "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "command": command}
        print(f"{name}: {status}" + ("" if seconds is None else f", {seconds / 60:.1f} min"), flush=True)
        rows = [r for r in rows if (r["lecture"], r["mode"], r["hardware"]) != (name, args.mode, hardware)]
        rows.append(row)
        rows.sort(key=lambda r: (r["lecture"], r["mode"], r["hardware"]))
        results.write(NAME, {KEY: ("Each lecture run top to bottom in a fresh kernel (minutes of wall "
                                   "time; the machine's load average beside it)", rows)},
                      command, dev=args.device)   # after every lecture: a killed run keeps what it measured


if __name__ == "__main__":
    main()
