"""DCGAN's title claim, unsupervised representation learning, measured on the faces world.

    python benchmarks/bench_dcgan_probe.py [--train 2000] [--test 1000] [--pixels]

Radford et al. 2015 (Sec. 5.1) train a linear L2-SVM on the features of a DCGAN's discriminator
trained on ImageNet-1k, and classify CIFAR-10 with it. Here, in miniature: a linear classifier
(:func:`course_lib.metrics.linear_probe`) on ``Discriminator.features`` (every layer max-pooled
to 4×4, as the paper does) for every attribute of the faces world, trained on ``--train``
held-out faces and tested on ``--test`` others, for

- the shipped ``dcgan-faces64-discriminator`` (the discriminator of a DCGAN trained on the faces
  world without any labels; its command is in the manifest);
- the same architecture untrained (the paper's initialisation, seed 0): what the architecture
  gives without learning;
- with ``--pixels``, the pixels themselves (a linear classifier on the 64×64×3 image; slow).

Three more tables say where the gain is and what bounds it: the probe on each layer's features
alone; the probe with fewer labelled faces (100, 250, 1000 and ``--train``); and the headroom,
``100 − untrained``, the most any representation could add over the untrained one.

Bar (issue 19): the trained discriminator's probe beats the untrained one's by ≥ 10 points of
mean accuracy over the binary attributes. Writes ``benchmarks/results/dcgan_probe.json``.
"""

import argparse
import statistics

import torch
from common import mark, save

from course_lib import pretrained
from course_lib.data import FACE_ATTRIBUTES, FACE_BINARY, HELD_OUT_SEED, faces
from course_lib.dcgan import Discriminator
from course_lib.metrics import linear_probe

DISCRIMINATOR = "dcgan-faces64-discriminator"


@torch.no_grad()
def features(D: Discriminator, images: torch.Tensor, batch: int = 250) -> torch.Tensor:
    D.eval()
    return torch.cat([D.features(images[i : i + batch]) for i in range(0, len(images), batch)])


def binary_mean(f_train, y_train, f_test, y_test) -> float:
    """The probe's mean test accuracy (%) over the world's binary attributes."""
    return statistics.mean(100 * linear_probe(f_train, y_train[a], f_test, y_test[a]) for a in FACE_BINARY)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--train", type=int, default=2000, help="held-out faces the probes train on")
    p.add_argument("--test", type=int, default=1000, help="other held-out faces they are tested on")
    p.add_argument("--pixels", action="store_true", help="also a probe on the raw pixels (slow on a CPU)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    trained = pretrained.load(DISCRIMINATOR)
    torch.manual_seed(0)
    untrained = Discriminator(trained.config)  # the paper's initialisation (init_weights), seed 0
    x_train, y_train = faces(args.train, size=64, seed=HELD_OUT_SEED)
    x_test, y_test = faces(args.test, size=64, seed=HELD_OUT_SEED + 1)
    reps = {
        "trained discriminator": (features(trained, x_train), features(trained, x_test)),
        "untrained discriminator": (features(untrained, x_train), features(untrained, x_test)),
    }
    if args.pixels:
        reps["pixels"] = (x_train.flatten(1), x_test.flatten(1))
    rows, binary = [], {k: [] for k in reps}
    for attribute in FACE_ATTRIBUTES:
        row = {"attribute": attribute, "classes": len(FACE_ATTRIBUTES[attribute])}
        majority = float((y_test[attribute] == y_train[attribute].mode().values).float().mean())
        row["majority class (%)"] = round(100 * majority, 1)
        for name, (f_train, f_test) in reps.items():
            acc = 100 * linear_probe(f_train, y_train[attribute], f_test, y_test[attribute])
            row[f"{name} (%)"] = round(acc, 1)
            if attribute in FACE_BINARY:
                binary[name].append(acc)
        rows.append(row)
        print(row, flush=True)
    means = {k: statistics.mean(v) for k, v in binary.items()}
    gain = means["trained discriminator"] - means["untrained discriminator"]
    headroom = 100 - means["untrained discriminator"]

    # where the gain is: each layer's features alone (the slices Discriminator.features concatenates)
    layers, start, side = [], 0, x_train.shape[-1]
    for i, block in enumerate(trained.blocks):
        width = 16 * block[0].out_channels
        cut = slice(start, start + width)
        t, u = (binary_mean(reps[name][0][:, cut], y_train, reps[name][1][:, cut], y_test)
                for name in ("trained discriminator", "untrained discriminator"))
        layers.append({"layer": f"{i + 1} ({block[0].out_channels} channels, "
                                f"{side >> (i + 1)}×{side >> (i + 1)} pooled to 4×4)",
                       "features": width,
                       "trained (%)": round(t, 1), "untrained (%)": round(u, 1),
                       "gain (points)": round(t - u, 1)})
        print(layers[-1], flush=True)
        start += width

    # what bounds it: fewer labels, and the headroom above the untrained network
    labels = []
    for n in sorted({n for n in (100, 250, 1000) if n < args.train} | {args.train}):
        fewer = {a: y[:n] for a, y in y_train.items()}
        acc = means if n == args.train else {   # all the labels: the probe table's means
            name: binary_mean(reps[name][0][:n], fewer, reps[name][1], y_test)
            for name in ("trained discriminator", "untrained discriminator")}
        room = 100 - acc["untrained discriminator"]
        won = acc["trained discriminator"] - acc["untrained discriminator"]
        labels.append({"labelled faces": n, "trained (%)": round(acc["trained discriminator"], 1),
                       "untrained (%)": round(acc["untrained discriminator"], 1),
                       "gain (points)": round(won, 1), "headroom 100 − untrained (points)": round(room, 1),
                       "share of the headroom gained (%)": round(100 * won / room, 1)})
        print(labels[-1], flush=True)

    summary = [
        {
            "measure": f"mean accuracy over the {len(FACE_BINARY)} binary attributes: {name}",
            "value (%)": round(v, 1),
            "bar": "",
            "pass": "",
        }
        for name, v in means.items()
    ] + [
        {
            "measure": "trained minus untrained discriminator",
            "value (%)": round(gain, 1),
            "bar": "≥ +10 points",
            "pass": mark(gain >= 10),
        },
        {
            "measure": "headroom: 100 minus the untrained discriminator (the largest gain possible)",
            "value (%)": round(headroom, 1),
            "bar": "",
            "pass": "",
        },
    ]
    width = reps["trained discriminator"][0].shape[1]
    save(
        "dcgan_probe",
        {
            "probe": (f"Linear probes on {args.train} held-out faces, tested on {args.test} others", rows),
            "summary": ("The representation claim, in miniature", summary),
            "layers": (f"Mean accuracy over the binary attributes, each layer's features alone "
                       f"({args.train} faces to fit)", layers),
            "labels": ("Mean accuracy over the binary attributes with fewer labelled faces "
                       f"(tested on the same {args.test})", labels),
        },
        checkpoints=[DISCRIMINATOR],
        notes={
            "feature width": width,
            "paper": "CIFAR-10, 82.8% with an L2-SVM on an ImageNet-1k DCGAN's discriminator",
        },
    )


if __name__ == "__main__":
    main()
