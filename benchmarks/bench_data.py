"""How fast the procedural data worlds are made, on one CPU core.

The course asks for 1,000 faces at 64 px and 1,000 landscapes at 128 px in
under 10 s each on one core, so that every notebook can make its data on the
spot. Run from the repository root:

    python benchmarks/bench_data.py [--repeats 3]

Prints a markdown table with the median time of the repeats.
"""

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"   # before numpy/torch are imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from course_lib.data.faces import faces  # noqa: E402
from course_lib.data.landscapes import landscapes  # noqa: E402

BUDGET_S = 10.0
CASES = [("faces", faces, 1000, 64), ("landscapes", landscapes, 1000, 128)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)

    print("| world | n | size | seconds (median) | per item (ms) | budget |")
    print("|---|---|---|---|---|---|")
    for name, make, n, size in CASES:
        make(2, size=size)                       # warm up torch's kernels
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            make(n, size=size, seed=0)
            times.append(time.perf_counter() - start)
        t = statistics.median(times)
        verdict = "ok" if t < BUDGET_S else "OVER"
        print(f"| {name} | {n} | {size} | {t:.2f} | {1000 * t / n:.2f} | {verdict} (<{BUDGET_S:.0f} s) |")


if __name__ == "__main__":
    main()
