"""Accuracy of the shipped landscapes segmenter on held-out renders, in every style.

    python benchmarks/bench_segmenter.py [--n 500]

The same ``n`` held-out scenes (seed 10000; training uses seed 0) rendered in each of the
four styles. Writes ``benchmarks/results/segmenter.json`` (table ``accuracy``: style, pixel
accuracy, mean IoU, and whether both meet the course's bar, 95% pixel accuracy and 0.85 mean
IoU in every style) and prints it as markdown.
"""

import argparse
import time

from common import mark, save

from course_lib import data, pretrained
from course_lib.metrics import segmentation_scores

HELD_OUT_SEED = data.HELD_OUT_SEED  # never used for training (seed 0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=500)
    args = p.parse_args()
    net = pretrained.load("segmenter-landscapes128")
    start = time.perf_counter()
    rows = []
    for style in data.LANDSCAPE_STYLES:
        images, labels, _ = data.landscapes(args.n, size=128, seed=HELD_OUT_SEED, style=style)
        s = segmentation_scores(net.predict(images), labels, num_classes=len(data.LANDSCAPE_CLASSES))
        ok = s["pixel_accuracy"] >= 0.95 and s["mean_iou"] >= 0.85
        rows.append({"style": style, "pixel accuracy (%)": round(100 * float(s["pixel_accuracy"]), 2),
                     "mean IoU": round(float(s["mean_iou"]), 3), "bar (95%, 0.85)": mark(ok)})
    title = f"segmenter-landscapes128 on {args.n} held-out scenes per style (seed {HELD_OUT_SEED})"
    save("segmenter", {"accuracy": (title, rows)}, checkpoints=["segmenter-landscapes128"],
         notes={"seconds": round(time.perf_counter() - start, 1),
                "bar": "95% pixel accuracy and 0.85 mean IoU in every style"})


if __name__ == "__main__":
    main()
