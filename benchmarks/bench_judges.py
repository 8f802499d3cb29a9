"""Accuracy of the shipped judges on held-out data (seeds never used for training).

    python benchmarks/bench_judges.py [--n 2000]

Writes ``benchmarks/results/judges.json`` (table ``accuracy``: attribute, kind, accuracy, and
whether it meets the course's bar, 97% on every binary attribute of the faces world) and prints
it as markdown.
"""

import argparse
import time

import torch

from common import mark, save

from course_lib import data, pretrained

HELD_OUT_SEED = data.HELD_OUT_SEED  # never used for training (seed 0)
BAR = 0.97


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    args = p.parse_args()
    judge = pretrained.load("faces-attributes")
    start = time.perf_counter()
    faces, truth = data.faces(args.n, seed=HELD_OUT_SEED)
    with torch.no_grad():
        predicted = judge.predict(faces)
    rows = []
    for name, values in data.FACE_ATTRIBUTES.items():
        acc = (predicted[name] == truth[name]).float().mean().item()
        binary = name in data.FACE_BINARY
        rows.append({"attribute": name, "kind": "binary" if binary else f"{len(values)} classes",
                     "accuracy (%)": round(100 * acc, 2), "bar 97%": mark(acc >= BAR, binary)})
    title = f"faces-attributes on {args.n} held-out faces (seed {HELD_OUT_SEED})"
    save("judges", {"accuracy": (title, rows)},
         checkpoints=["faces-attributes"],
         notes={"seconds": round(time.perf_counter() - start, 1),
                "bar": "97% accuracy on every binary attribute; none on the categorical ones"})


if __name__ == "__main__":
    main()
