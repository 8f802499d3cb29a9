"""SPADE against its pix2pixHD-like baseline on held-out label maps of the landscapes world.

    python benchmarks/bench_spade.py [--n 200] [--looks 50]

Both shipped generators (``spade-landscapes128`` with its encoder, ``spade-baseline-landscapes128``)
on ``n`` held-out label maps (seed ``course_lib.data.HELD_OUT_SEED``; training used seed 0):

- **label fidelity**: the shipped segmenter's mean IoU and pixel accuracy on each network's images
  and on the real renders of the same maps (SPADE with a random code, and with the code of the real
  render);
- **realism**: the Fréchet distance to the real renders in the segmenter's features (its U-Net
  bottleneck, 128 channels, averaged over positions: a judge that neither network trained against;
  SPADE's perceptual loss used the ``perceptual-worlds64`` features, so those would favour it);
- **uniform label maps**: for every pair of classes, the mean absolute difference between the
  outputs for two uniform maps (and between the activations after the first normalisation layer
  that sees the map);
- **looks**: read by the shipped ``landscape-looks`` judge (trained on real renders; neither network
  saw it). Reported: how many looks 50 random codes give on one map, and how often the look of a
  reference (another held-out map, rendered in look L) comes out as L, beside the judge's own
  accuracy on real renders of that map;
- **painting latency**: one stroke of the headless painting widget to a new image (label map update,
  generator, canvas), median of 30, on one thread (and ``--latency-threads N``).

Writes ``benchmarks/results/spade.json`` and prints the tables.
"""

import argparse
import itertools
import os
import statistics
import time

import torch
from common import mark, save

from course_lib import data, pretrained
from course_lib.judges import segmenter_features
from course_lib.metrics import frechet_distance, segmentation_scores
from course_lib.spade import encode_style, first_normalised, synthesize

SPADE, BASELINE, SEGMENTER = "spade-landscapes128", "spade-baseline-landscapes128", "segmenter-landscapes128"
K = len(data.LANDSCAPE_CLASSES)


LOOKS = "landscape-looks"


def judged_looks(judge, images: torch.Tensor) -> list[str]:
    """The look the shipped ``landscape-looks`` judge reads in each image."""
    return [data.LANDSCAPE_STYLES[i] for i in judge.predict(images).tolist()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--looks", type=int, default=50)
    p.add_argument("--latency-threads", type=int, default=1,
                   help="also time the painting widget with this many threads (on a machine shared with "
                        "other jobs, more threads than are free only measure the contention)")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    spade, baseline = pretrained.load(SPADE), pretrained.load(BASELINE)
    segmenter = pretrained.load(SEGMENTER)
    real, labels, styles = data.landscapes(args.n, size=128, seed=data.HELD_OUT_SEED)

    start = time.perf_counter()
    made = {
        "real renders": real,
        "SPADE (random code)": synthesize(spade, labels, seed=0),
        "SPADE (code of the real render)": synthesize(spade, labels, z=encode_style(spade, real)),
        "baseline (pix2pixHD-like)": synthesize(baseline, labels),
    }
    real_features = segmenter_features(segmenter, real)
    fidelity, realism = [], []
    real_miou = None
    for name, images in made.items():
        s = segmentation_scores(segmenter.predict(images), labels, num_classes=K)
        real_miou = s["mean_iou"] if real_miou is None else real_miou
        fidelity.append(
            {
                "images": name,
                "mean IoU": round(100 * s["mean_iou"], 1),
                "pixel accuracy": round(100 * s["pixel_accuracy"], 1),
                "% of real mIoU": round(100 * s["mean_iou"] / real_miou, 1),
            }
        )
        if name != "real renders":
            fd = frechet_distance(segmenter_features(segmenter, images), real_features)
            realism.append({"images": name, "Fréchet distance to real (segmenter features)": round(fd, 2)})
    by = {r["images"]: r for r in fidelity}
    spade_miou, base_miou = by["SPADE (random code)"]["mean IoU"], by["baseline (pix2pixHD-like)"]["mean IoU"]
    fd = {r["images"]: r["Fréchet distance to real (segmenter features)"] for r in realism}
    claims = [
        {
            "claim": "SPADE mIoU ≥ baseline + 10 points",
            "measured": f"{spade_miou:.1f} vs {base_miou:.1f}",
            "bar": mark(spade_miou >= base_miou + 10),
        },
        {
            "claim": "SPADE mIoU ≥ 80% of the real renders'",
            "measured": f"{by['SPADE (random code)']['% of real mIoU']:.1f}%",
            "bar": mark(by["SPADE (random code)"]["% of real mIoU"] >= 80),
        },
        {
            "claim": "Fréchet distance: SPADE < baseline",
            "measured": f"{fd['SPADE (random code)']:.2f} vs {fd['baseline (pix2pixHD-like)']:.2f}",
            "bar": mark(fd["SPADE (random code)"] < fd["baseline (pix2pixHD-like)"]),
        },
    ]
    print(f"fidelity and realism: {time.perf_counter() - start:.0f} s")

    # ---- uniform label maps
    uniform = []
    z = torch.randn(1, spade.config.z_dim, generator=torch.Generator().manual_seed(0))
    maps = torch.stack([torch.full((128, 128), k, dtype=torch.int64) for k in range(K)])
    for name, model in (("SPADE", spade), ("baseline (pix2pixHD-like)", baseline)):
        out = synthesize(model, maps, z=z)
        first = first_normalised(model, maps, z=z)
        pairs = list(itertools.combinations(range(K), 2))
        uniform.append(
            {
                "network": name,
                "outputs: mean abs difference (in [-1, 1])": round(
                    statistics.mean(float((out[a] - out[b]).abs().mean()) for a, b in pairs), 4
                ),
                "after the first normalisation: mean abs difference": round(
                    statistics.mean(float((first[a] - first[b]).abs().mean()) for a, b in pairs), 6
                ),
                "pairs of classes": len(pairs),
            }
        )

    # ---- looks: random codes on one map, and style from a reference
    start = time.perf_counter()
    one_map = labels[:1].expand(args.looks, -1, -1)
    codes = torch.randn(args.looks, spade.config.z_dim, generator=torch.Generator().manual_seed(1))
    judge = pretrained.load(LOOKS)
    random_looks = judged_looks(judge, synthesize(spade, one_map, z=codes))
    counts = {look: random_looks.count(look) for look in data.LANDSCAPE_STYLES}
    n_ref = min(args.n - 1, 40)
    reference_looks = [data.LANDSCAPE_STYLES[i % 4] for i in range(n_ref)]
    refs = torch.cat(
        [data.render_landscape(labels[1 + i : 2 + i], look, seed=7) for i, look in enumerate(reference_looks)]
    )
    target = labels[:1].expand(n_ref, -1, -1)
    got = judged_looks(judge, synthesize(spade, target, z=encode_style(spade, refs)))
    # the instrument itself: the real renders of that map, in each look, with other textures
    check = [data.render_landscape(labels[:1], look, seed=99) for look in reference_looks]
    instrument = judged_looks(judge, torch.cat(check))
    instrument_acc = 100 * statistics.mean(a == b for a, b in zip(instrument, reference_looks))
    style_acc = 100 * statistics.mean(a == b for a, b in zip(got, reference_looks))
    distinct = sum(1 for c in counts.values() if c)
    looks = [
        {
            "measure": f"looks among {args.looks} random codes on one held-out map",
            "value": f"{distinct} ({', '.join(f'{k} {v}' for k, v in counts.items())})",
            "bar": mark(distinct >= 3),
        },
        {
            "measure": f"reference in look L -> SPADE's image read as L ({n_ref} references)",
            "value": f"{style_acc:.0f}%",
            "bar": mark(style_acc >= 90),
        },
        {
            "measure": "the landscape-looks judge on real renders of that map (its own accuracy)",
            "value": f"{instrument_acc:.0f}%",
            "bar": "—",
        },
    ]
    print(f"looks: {time.perf_counter() - start:.0f} s")

    # ---- painting latency
    from course_lib.widgets.spade import PaintingWidget

    widget = PaintingWidget(spade, labels[:1], scale=2)
    latency = []
    for threads in sorted({1, args.latency_threads}):
        torch.set_num_threads(threads)
        times, gen_ms = [], []
        for i in range(31):
            t = time.perf_counter()
            widget.stroke([(10 + i, 20), (60 + i, 90)], label=i % K, size=6)
            times.append((time.perf_counter() - t) * 1e3)
        for _ in range(11):
            t = time.perf_counter()
            synthesize(spade, widget.labels[None], z=widget.z)
            gen_ms.append((time.perf_counter() - t) * 1e3)
        stroke_ms = statistics.median(times[1:])
        latency.append(
            {
                "CPU threads": threads,
                "one stroke -> new image (ms, median of 30)": round(stroke_ms, 1),
                "the generator alone (ms, median of 10)": round(statistics.median(gen_ms[1:]), 1),
                "< 100 ms": mark(stroke_ms < 100),
            }
        )
    torch.set_num_threads(1)

    budget = []
    for name in (SPADE, BASELINE):
        entry = pretrained.info(name)
        budget.append(
            {
                "checkpoint": name,
                "steps": entry["steps"],
                "batch": entry["settings"]["batch_size"],
                "train seconds": entry["train_seconds"],
                "hardware": entry["hardware"],
                "MB": round(entry["bytes"] / 1e6, 2),
            }
        )

    save(
        "spade",
        {
            "claims": ("The issue's bars", claims),
            "fidelity": (f"Label fidelity on {args.n} held-out maps (segmenter mIoU, %)", fidelity),
            "realism": (f"Realism on {args.n} held-out maps", realism),
            "uniform": ("Uniform label maps: do two classes give different images?", uniform),
            "looks": ("Looks (read by the landscape-looks judge)", looks),
            "latency": ("Painting latency at 128 px (the widget, headless)", latency),
            "budget": ("Training budget of the two shipped generators", budget),
        },
        checkpoints=[SPADE, BASELINE, SEGMENTER, LOOKS],
        notes={"n": args.n, "looks": args.looks, "paper_ade20k_miou": {"SPADE": 38.5, "pix2pixHD": 20.3}},
    )


if __name__ == "__main__":
    main()
