"""How fast the procedural data worlds are made, on one CPU core.

The course asks for 1,000 faces at 64 px and 1,000 landscapes at 128 px in
under 10 s each on one core, so that every notebook can make its data on the
spot. Run from the repository root:

    python benchmarks/bench_data.py [--repeats 3]

Writes ``benchmarks/results/data.json`` (``course_lib.results``) and prints its table: the
median of the repeats in wall-clock seconds and in CPU seconds of this process (one thread).
On a machine shared with other jobs the wall clock also counts the time other processes held
the core; the CPU seconds are the work one core does, and the budget is judged on them.
"""

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"   # before numpy/torch are imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
from common import mark, save  # noqa: E402

from course_lib.data.faces import faces  # noqa: E402
from course_lib.data.landscapes import landscapes  # noqa: E402

BUDGET_S = 10.0
CASES = [("faces", faces, 1000, 64), ("landscapes", landscapes, 1000, 128)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = []
    for name, make, n, size in CASES:
        make(2, size=size)                       # warm up torch's kernels
        wall, cpu = [], []
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            make(n, size=size, seed=0)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        t, c = statistics.median(wall), statistics.median(cpu)
        rows.append({"world": name, "n": n, "size": size, "wall seconds (median)": round(t, 2),
                     "CPU seconds (median)": round(c, 2), "per item (ms, CPU)": round(1000 * c / n, 2),
                     f"< {BUDGET_S:.0f} s on one core": mark(c < BUDGET_S)})
    save("data", {"speed": (f"Making the data worlds on one CPU thread ({args.repeats} repeats)", rows)},
         notes={"budget_s": BUDGET_S})


if __name__ == "__main__":
    main()
