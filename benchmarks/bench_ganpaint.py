"""GAN Dissection and GANPaint (lecture 07) on the shipped landscapes DCGAN.

    python benchmarks/bench_ganpaint.py [--samples 1000] [--scenes 100] [--photos 20]

With ``dcgan-landscapes64`` dissected at ``course_lib.ganpaint.LAYER`` by the shipped segmenter:

- **generator**: the Fréchet distance of 1,000 generated landscapes to held-out real renders at
  the same size, in the segmenter's bottleneck features (:func:`course_lib.judges.segmenter_features`),
  beside the distance between two sets of real renders (the floor);
- **dissection**: for each class, its best unit's IoU (Eq. 1) on ``samples`` generated images
  (bar: at least four classes with a unit ≥ 0.15);
- **insertion / removal** on ``scenes`` generated scenes: the segmenter's fraction of the concept
  inside the painted region before and after switching the concept's top units on there (bar:
  +30 points on average), and, in scenes where the concept covers ≥ 5% of the image, the fraction
  inside the concept's own (grown) mask after switching them off there (bar: ≤ half of before);
- **locality**: before pasting, the mean absolute change of the pixels outside the region
  against inside (bar: < 1/4);
- **adaptation** on ``photos`` held-out real renders (seed ``HELD_OUT_SEED``): reconstruction PSNR
  of the code alone, of the optimised features (inversion alone) and after adapting ``G_B`` (bar:
  +3 dB over inversion alone);
- **speed** on this CPU: preparing one photo (inversion + adaptation; bar for the adaptation
  < 60 s) and one edit (bar < 1 s).

Writes ``benchmarks/results/ganpaint.json`` and prints the tables.
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from common import mark, median_ms, save

from course_lib import pretrained
from course_lib.data import HELD_OUT_SEED, landscapes
from course_lib.dissection import CLASS_NAMES, class_fraction, dissect, intervene, segment, split
from course_lib.ganpaint import LAYER, GANPaint, GANPaintConfig
from course_lib.judges import segmenter_features
from course_lib.layers import sample_z
from course_lib.metrics import frechet_distance
from course_lib.runtime import eval_mode

GENERATOR, SEGMENTER = "dcgan-landscapes64", "segmenter-landscapes128"
SIZE = 64


def box(top: int, left: int, h: int, w: int) -> torch.Tensor:
    m = torch.zeros(1, 1, SIZE, SIZE)
    m[..., top : top + h, left : left + w] = 1
    return m


#: where each concept is painted in: ground things low, sky things high
REGIONS = {
    "tree": box(36, 12, 20, 32),
    "grass": box(40, 8, 20, 40),
    "water": box(44, 8, 16, 40),
    "sand": box(44, 8, 16, 40),
    "rock": box(44, 16, 14, 24),
    "mountain": box(22, 8, 14, 48),
    "cloud": box(4, 12, 16, 36),
    "sky": box(2, 8, 16, 48),
}


def grown(mask: torch.Tensor, px: int) -> torch.Tensor:
    return F.max_pool2d(mask.float(), 2 * px + 1, stride=1, padding=px)


@torch.no_grad()
def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=1000, help="generated images dissected")
    p.add_argument("--scenes", type=int, default=100, help="generated scenes edited per concept")
    p.add_argument("--photos", type=int, default=20, help="held-out renders inverted and adapted")
    p.add_argument("--concepts", default="tree,grass,water,cloud", help="concepts edited")
    args = p.parse_args()

    G = pretrained.load(GENERATOR).eval()
    S = pretrained.load(SEGMENTER).eval()
    config = GANPaintConfig()

    # ------------------------------------------------------------------ the generator
    n_fd = 1000
    fakes = torch.cat([G(sample_z(100, G.latent_dim, seed=s)) for s in range(n_fd // 100)])
    real_a = landscapes(n_fd, size=SIZE, seed=HELD_OUT_SEED)[0]
    real_b = landscapes(n_fd, size=SIZE, seed=HELD_OUT_SEED + 1)[0]
    up = lambda x: F.interpolate(x, size=128, mode="bilinear", align_corners=False)  # noqa: E731
    f_fake, f_a, f_b = (segmenter_features(S, up(x)) for x in (fakes, real_a, real_b))
    fd, floor = frechet_distance(f_fake, f_a), frechet_distance(f_b, f_a)
    generator_rows = [
        {
            "images": f"{n_fd} generated (seeds 0-{n_fd // 100 - 1}×100)",
            "Fréchet distance to held-out renders": round(fd, 3),
        },
        {
            "images": f"{n_fd} other held-out renders (floor)",
            "Fréchet distance to held-out renders": round(floor, 3),
        },
    ]

    # ------------------------------------------------------------------ dissection
    start = time.perf_counter()
    d = dissect(G, S, LAYER, samples=args.samples)
    dissect_s = time.perf_counter() - start
    best = d.best_per_class()
    dissection_rows = [
        {
            "class": r["class"],
            "best unit": int(r["best unit"]),
            "IoU": round(float(r["iou"]), 3),
            "units matching it": int(r["units matching it"]),
            "≥ 0.15": mark(r["iou"] >= 0.15),
        }
        for _, r in best.iterrows()
    ]
    n_classes = int((best["iou"] >= 0.15).sum())
    dissection_summary = [
        {
            "measure": f"classes with a unit of IoU ≥ 0.15 ({args.samples} samples, layer {LAYER})",
            "value": n_classes,
            "bar": "≥ 4",
            "pass": mark(n_classes >= 4),
        }
    ]

    # ------------------------------------------------------------------ insertion, removal, locality
    g_f, g_b = split(G, LAYER)
    concepts = args.concepts.split(",")
    z = sample_z(args.scenes, G.latent_dim, seed=HELD_OUT_SEED)
    edit_rows, locality_rows = [], []
    with eval_mode(G):
        r = g_f(z)
        x = g_b(r)
        labels = segment(S, x)
        for concept in concepts:
            c = CLASS_NAMES.index(concept)
            units = d.top_units(concept, config.units)
            region = REGIONS[concept]
            x_add = g_b(intervene(r, units, "add", region, d.on_values, config.strength))
            before = class_fraction(labels, c, region)
            after = class_fraction(segment(S, x_add), c, region)
            gain = 100 * float((after - before).mean())
            change = (x_add - x).abs().mean(1, keepdim=True)  # N×1×H×W
            inside = float((change * region).sum() / (region.sum() * len(x)))
            outside = float((change * (1 - region)).sum() / ((1 - region).sum() * len(x)))
            locality_rows.append(
                {
                    "concept": concept,
                    "mean |change| inside": round(inside, 4),
                    "outside": round(outside, 4),
                    "outside / inside": round(outside / inside, 3),
                    "bar": "< 0.25",
                    "pass": mark(outside / inside < 0.25),
                }
            )
            # removal: scenes where the concept covers ≥ 5%, in its own mask grown by 2 px
            present = (labels == c).float().mean((1, 2)) >= 0.05
            if present.sum() >= 1:
                own = grown((labels[present] == c)[:, None], 2)
                x_rm = g_b(intervene(r[present], units, "remove", own, d.on_values, config.strength))
                was = class_fraction(labels[present], c, own)
                now = class_fraction(segment(S, x_rm), c, own)
                kept = float(now.mean() / was.mean().clamp_min(1e-6))
                removal = (
                    int(present.sum()),
                    round(100 * float(was.mean()), 1),
                    round(100 * float(now.mean()), 1),
                    round(kept, 3),
                )
            else:
                removal = (0, "", "", float("nan"))
            edit_rows.append(
                {
                    "concept": concept,
                    "units": len(units),
                    "in region before (%)": round(100 * float(before.mean()), 1),
                    "after adding (%)": round(100 * float(after.mean()), 1),
                    "gain (points)": round(gain, 1),
                    "add bar": "≥ +30",
                    "add": mark(gain >= 30),
                    "scenes with it": removal[0],
                    "in own mask before (%)": removal[1],
                    "after removing (%)": removal[2],
                    "kept": removal[3],
                    "remove bar": "≤ 0.5",
                    "remove": mark(removal[3] <= 0.5, removal[0] > 0),
                }
            )

    # ------------------------------------------------------------------ adaptation and speed
    painter = GANPaint(G, d, config)
    photos = landscapes(args.photos, size=SIZE, seed=HELD_OUT_SEED + 7)[0]
    psnrs = {"z": [], "features": [], "adapted": []}
    seconds = {"invert": [], "adapt": []}
    prepared = None
    with torch.enable_grad():
        for i in range(args.photos):
            prepared = painter.prepare(photos[i : i + 1])
            for k in psnrs:
                psnrs[k].append(prepared.psnr[k])
            for k in seconds:
                seconds[k].append(prepared.seconds[k])
    med = {k: statistics.median(v) for k, v in psnrs.items()}
    gains = [a - f for a, f in zip(psnrs["adapted"], psnrs["features"])]
    adaptation_rows = [
        {
            "reconstruction": "z alone (optimised, 4 starts)",
            "median PSNR (dB)": round(med["z"], 2),
            "bar": "",
            "pass": "",
        },
        {
            "reconstruction": "z, then the features r (inversion alone)",
            "median PSNR (dB)": round(med["features"], 2),
            "bar": "",
            "pass": "",
        },
        {
            "reconstruction": "inversion + adapted G_B",
            "median PSNR (dB)": round(med["adapted"], 2),
            "bar": "≥ inversion alone + 3 dB",
            "pass": mark(statistics.median(gains) >= 3),
        },
        {
            "reconstruction": "gain of adaptation, median (min) over photos",
            "median PSNR (dB)": f"{statistics.median(gains):.2f} ({min(gains):.2f})",
            "bar": "",
            "pass": "",
        },
    ]
    region = REGIONS["tree"]
    edit_ms = median_ms(lambda: painter.edit(prepared, region, "tree", "add"), repeat=20)
    speed_rows = [
        {"step": f"dissect {args.samples} samples", "seconds": round(dissect_s, 1), "bar": "", "pass": ""},
        {
            "step": "invert one photo (z, then r), median",
            "seconds": round(statistics.median(seconds["invert"]), 2),
            "bar": "",
            "pass": "",
        },
        {
            "step": "adapt G_B to one photo, median",
            "seconds": round(statistics.median(seconds["adapt"]), 2),
            "bar": "< 60 s",
            "pass": mark(max(seconds["adapt"]) < 60),
        },
        {
            "step": "one edit (intervene + G_B + paste), median of 20",
            "seconds": round(edit_ms / 1e3, 4),
            "bar": "< 1 s",
            "pass": mark(edit_ms < 1000),
        },
    ]
    save(
        "ganpaint",
        {
            "generator": (
                "The landscapes DCGAN: Fréchet distance in the segmenter's features",
                generator_rows,
            ),
            "dissection": (f"Dissection of {LAYER}: each class's best unit (Eq. 1)", dissection_rows),
            "dissection_summary": ("Dissection: the bar", dissection_summary),
            "edits": (f"Insertion and removal on {args.scenes} generated scenes", edit_rows),
            "locality": ("Locality of insertion, before pasting", locality_rows),
            "adaptation": (f"Reconstruction of {args.photos} held-out renders", adaptation_rows),
            "speed": ("Speed on this CPU", speed_rows),
        },
        checkpoints=[GENERATOR, SEGMENTER],
        notes={"layer": LAYER, "units": config.units, "quantile": d.quantile},
    )


if __name__ == "__main__":
    main()
