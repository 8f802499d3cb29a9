"""Accuracy of the shipped judges on held-out data (seeds never used for training).

    python benchmarks/bench_judges.py [--n 2000]

Prints a markdown table: attribute, accuracy, and whether it meets the course's
bar (97% on every binary attribute of the faces world).
"""

import argparse
import time

import torch

from course_lib import data, pretrained

HELD_OUT_SEED = data.HELD_OUT_SEED  # never used for training (seed 0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=2000)
    args = p.parse_args()
    judge = pretrained.load("faces-attributes")
    start = time.perf_counter()
    faces, truth = data.faces(args.n, seed=HELD_OUT_SEED)
    with torch.no_grad():
        predicted = judge.predict(faces)
    print(f"faces-attributes on {args.n} held-out faces (seed {HELD_OUT_SEED}), "
          f"{time.perf_counter() - start:.1f} s\n")
    print("| attribute | kind | accuracy | bar |")
    print("|---|---|---|---|")
    for name, values in data.FACE_ATTRIBUTES.items():
        acc = (predicted[name] == truth[name]).float().mean().item()
        binary = name in data.FACE_BINARY
        bar = ("pass" if acc >= 0.97 else "FAIL") if binary else "—"
        print(f"| {name} | {'binary' if binary else f'{len(values)} classes'} | {acc:.2%} | {bar} |")


if __name__ == "__main__":
    main()
