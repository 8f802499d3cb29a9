"""Image2StyleGAN's energy with and without its perceptual term, on the shipped StyleGAN.

    python benchmarks/bench_inversion_perceptual.py [--faces 8] [--steps 1000] [--weights 0 0.001 0.01]

Abdal, Qin and Wonka 2019 embed an image by minimising pixels plus a perceptual term (their
Eq. 1, with λ = 1 on VGG-16's conv1_1, conv1_2, conv3_2 and conv4_2). The course's preset for
``stylegan-faces64`` (``inversion.PRESETS``) sets the perceptual weight to 0. This benchmark
embeds the same held-out faces in W+ (the lecture's eight: seed 10,000, the generator trained
on seed 0) with the preset, once for each perceptual weight in ``--weights`` (the features are
the course's ``perceptual-worlds64``, :func:`course_lib.losses.perceptual_distance`), and writes
``benchmarks/results/inversion_perceptual.json``, table ``perceptual``: per weight, the median
PSNR, the median perceptual distance to the target, the perceptual term's share of the final
energy, how often the attribute judge (``faces-attributes``) reads the same attributes off the
embedding as off the target, and the time of the batch.

Every run starts at w̄ with the same steps and learning rate; only the perceptual weight
changes. One torch thread (``--threads``), the whole batch at once.
"""

import argparse
import dataclasses
import statistics
import time

import torch

from common import save

from course_lib import data, pretrained
from course_lib.inversion import PRESETS, initial_latent, invert
from course_lib.losses import perceptual_distance
from course_lib.metrics import psnr

GENERATOR = "stylegan-faces64"
FEATURES = "perceptual-worlds64"
JUDGE = "faces-attributes"
PRESET = PRESETS[GENERATOR]


def judge_agreement(judge, embedded: torch.Tensor, targets: torch.Tensor) -> float:
    """The share of (image, attribute) pairs on which ``judge`` reads the same class off the
    embedding as off its target (the judge's own mistakes on the targets do not count)."""
    a, b = judge.predict(embedded), judge.predict(targets)
    return float(torch.stack([(a[k] == b[k]).float() for k in a]).mean())


def measure(G, features, judge, faces: torch.Tensor, weight: float, steps: int) -> dict:
    """Embed ``faces`` in W+ with the preset and perceptual weight ``weight``; one table row."""
    config = dataclasses.replace(PRESET, steps=steps, perceptual_weight=weight)
    start = time.perf_counter()
    r = invert(G, faces, config, features=features)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        p = psnr(r.image, faces)
        d = perceptual_distance(features, r.image, faces)
    last = r.history[-1]
    share = weight * last["perceptual"] / last["loss"] if last["loss"] > 0 else 0.0
    return {"perceptual weight λp": weight, "median PSNR (dB)": round(float(p.median()), 2),
            "mean PSNR (dB)": round(float(p.mean()), 2),
            "median perceptual distance": round(float(d.median()), 4),
            "perceptual share of the final energy": round(share, 3),
            "judge agrees with the target (%)": round(100 * judge_agreement(judge, r.image, faces), 1),
            "seconds (whole batch)": round(seconds)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--faces", type=int, default=8)
    p.add_argument("--steps", type=int, default=PRESET.steps)
    p.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.001, 0.01],
                   help="the perceptual weights to compare (0: the preset's pixels only)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    G, features, judge = pretrained.load(GENERATOR), pretrained.load(FEATURES), pretrained.load(JUDGE)
    faces, _ = data.faces(args.faces, seed=data.HELD_OUT_SEED)
    rows = []
    for weight in args.weights:
        rows.append(measure(G, features, judge, faces, weight, args.steps))
        print(rows[-1], flush=True)
    with torch.no_grad():   # the scale of the two terms where the search starts, at w̄
        start_image = G.synthesize(initial_latent(G, "w+", len(faces)), "w+")
        ratio = statistics.median((perceptual_distance(features, start_image, faces)
                                   / ((start_image - faces) ** 2).flatten(1).mean(1)).tolist())
    title = (f"W+ embedding of {args.faces} held-out faces (seed {data.HELD_OUT_SEED}) from w̄, "
             f"{args.steps} Adam steps (lr {PRESET.lr}), with and without the perceptual term "
             f"({FEATURES}); judge: {JUDGE}")
    notes = {
        "seconds": round(time.perf_counter() - start),
        "config": dataclasses.asdict(PRESET) | {"steps": args.steps},
        "scale": f"at the start (w̄) the perceptual distance is {ratio:.0f}x the pixel MSE (median "
                 "over the faces), so a weight of 1/that puts the two terms on an equal footing",
        "paper": "Image2StyleGAN: λ = 1 on VGG-16 conv1_1, conv1_2, conv3_2, conv4_2; the course's "
                 "features are its own network, whose distances have another scale",
    }
    save("inversion_perceptual", {"perceptual": (title, rows)},
         checkpoints=[GENERATOR, FEATURES, JUDGE], notes=notes)


if __name__ == "__main__":
    main()
