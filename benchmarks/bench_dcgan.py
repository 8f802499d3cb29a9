"""Issue 4's numbers for the shipped DCGAN (``dcgan-faces64``), measured by the faces judge.

    python benchmarks/bench_dcgan.py [--checkpoint dcgan-faces64] [--n-vector 200]

Prints markdown tables:

1. attribute transfer: add the attribute vector (strength 1) to 200 generated
   faces that lack the attribute; how often the judge then sees it, and how
   often every other binary attribute keeps its value (bars: 90% and 85%), beside the
   ceiling a perfectly linear generator would reach (``latent.transfer_ceiling``) at this
   generator's prevalence of the attribute and at the real faces' prevalence + 10 points
   (the most the fidelity bar allows);
2. why the paper averages: the same, with vectors built from n = 1, 3, 10, ... faces;
3. sample fidelity: the judge's attribute rates on 1,000 generated vs 1,000
   held-out real faces (bar: within 10 points), and the Fréchet distance in the
   judge's features for the trained and an untrained generator (bar: a quarter);
4. slider latency: setting a slider's value until the new PNG is in the widget
   (bar: median under 30 ms), on this CPU;
5. how the checkpoint was trained.
"""

import argparse
import platform
import statistics
import time

import torch

from course_lib import data, pretrained
from course_lib.dcgan import Generator
from course_lib.judges import attribute_rates, frechet_distance, judge_features
from course_lib.latent import (attribute_transfer, attribute_vector, attribute_widget, generate,
                               interpolation_widget, sample_z, transfer_ceiling)

HELD_OUT_SEED = data.HELD_OUT_SEED  # never used for training (seed 0)
VECTOR_SEED = 0          # latent samples the attribute vectors are built from
TRANSFER_SEED = 1        # other latent samples the vectors are applied to
FIDELITY_SEED = 2


def faces_and_rates(G, judge) -> dict:
    """1,000 held-out real and 1,000 generated faces, and the judge's attribute rates on each."""
    real, _ = data.faces(1000, seed=HELD_OUT_SEED)
    fake = generate(G, sample_z(1000, G.config.nz, FIDELITY_SEED))
    return {"real": real, "fake": fake, "rates_real": attribute_rates(judge, real),
            "rates_fake": attribute_rates(judge, fake)}


def transfer_table(G, judge, n_vector: int, faces: dict) -> None:
    rates_real, rates_fake = faces["rates_real"], faces["rates_fake"]
    print(f"\n### Attribute transfer (strength 1, vectors from {n_vector} faces per side, 200 faces)\n")
    print("Ceilings: `latent.transfer_ceiling(p)`, what the mean-difference vector gains when the "
          "attribute is a half-space of z, at the generated prevalence p, and at the real "
          "prevalence + 10 points (the highest p the fidelity bar allows).\n")
    print("| attribute | gained | bar 90% | ceiling at generated p | ceiling at real p + 10 | "
          "others unchanged (min) | bar 85% | each other attribute |")
    print("|---|---|---|---|---|---|---|---|")
    for name in data.FACE_BINARY:
        p_fake, p_real = float(rates_fake[name][1]), float(rates_real[name][1])
        ceilings = (f"{transfer_ceiling(p_fake):.1%} (p {p_fake:.0%}) | "
                    f"{transfer_ceiling(min(p_real + 0.10, 0.999)):.1%} (p {p_real + 0.10:.0%})")
        v = attribute_vector(G, judge, name, n=n_vector, pool=25 * n_vector, seed=VECTOR_SEED)
        r = attribute_transfer(G, judge, v, name, strength=1.0, n=200, seed=TRANSFER_SEED)
        others = {k: x for k, x in r.items() if k != "gained"}
        bars = name in ("glasses", "smile", "hat")
        print(f"| {name} | {r['gained']:.1%} | {_bar(r['gained'] >= 0.9, bars)} | {ceilings} | "
              f"{min(others.values()):.1%} | {_bar(min(others.values()) >= 0.85, bars)} | "
              + ", ".join(f"{k} {x:.0%}" for k, x in others.items()) + " |")


def averaging_table(G, judge) -> None:
    print("\n### Why the paper averages: glasses vector from n faces per side (5 draws each)\n")
    print("| n | gained (mean of 5) | others unchanged (mean min) |")
    print("|---|---|---|")
    for n in (1, 3, 10, 50, 200):
        gained, kept = [], []
        for draw in range(5):
            v = attribute_vector(G, judge, "glasses", n=n, pool=max(2000, 25 * n), seed=100 + draw)
            r = attribute_transfer(G, judge, v, "glasses", n=200, seed=TRANSFER_SEED)
            gained.append(r.pop("gained"))
            kept.append(min(r.values()))
        print(f"| {n} | {statistics.mean(gained):.1%} | {statistics.mean(kept):.1%} |")


def fidelity_table(G, judge, faces: dict) -> None:
    real, fake, rates_real, rates_fake = (faces[k] for k in ("real", "fake", "rates_real", "rates_fake"))
    print("\n### Sample fidelity: judge's rates on 1,000 generated vs 1,000 held-out real faces\n")
    print("| attribute | real | generated | largest gap (points) | bar 10 |")
    print("|---|---|---|---|---|")
    for name, values in data.FACE_ATTRIBUTES.items():
        r, f = rates_real[name], rates_fake[name]
        gap = float((r - f).abs().max()) * 100
        show = (lambda t: f"{float(t[1]):.1%}") if len(values) == 2 else \
            (lambda t: " / ".join(f"{float(x):.0%}" for x in t))
        print(f"| {name} | {show(r)} | {show(f)} | {gap:.1f} | {_bar(gap <= 10)} |")
    torch.manual_seed(0)
    untrained = Generator(G.config).eval()
    f_real = judge_features(judge, real)
    fd_trained = frechet_distance(judge_features(judge, fake), f_real)
    untrained_faces = generate(untrained, sample_z(1000, G.config.nz, FIDELITY_SEED))
    fd_untrained = frechet_distance(judge_features(judge, untrained_faces), f_real)
    real2, _ = data.faces(1000, seed=HELD_OUT_SEED + 1)
    fd_real = frechet_distance(judge_features(judge, real2), f_real)
    print("\n| Fréchet distance in the judge's features (to 1,000 held-out real faces) | value |")
    print("|---|---|")
    print(f"| 1,000 other real faces (the floor) | {fd_real:.2f} |")
    print(f"| trained generator | {fd_trained:.2f} |")
    print(f"| untrained generator | {fd_untrained:.2f} |")
    print(f"| ratio trained / untrained (bar: at most 0.25) | {fd_trained / fd_untrained:.3f} "
          f"{_bar(fd_trained <= 0.25 * fd_untrained)} |")


def latency_table(G, judge) -> None:
    where = platform.processor() or "cpu"
    print(f"\n### Slider latency ({torch.get_num_threads()} torch threads, {where})\n")
    print("| widget | median ms | 90th percentile ms | bar 30 ms |")
    print("|---|---|---|---|")
    vectors = {name: attribute_vector(G, judge, name, n=50, pool=1200, seed=VECTOR_SEED)
               for name in ("glasses", "smile", "hat")}
    widgets = {"interpolation (16 frames)": (interpolation_widget(G, 0, 1, frames=16), "step",
                                             lambda i: i % 16),
               "attribute strengths (3 sliders)": (attribute_widget(G, vectors, sample_z(1, G.config.nz, 5)),
                                                   "smile", lambda i: round(-2 + 0.1 * (i % 41), 1))}
    for label, (box, name, value_of) in widgets.items():
        times = []
        for i in range(1, 101):
            slider, before = box.controls[name], box.image.value
            start = time.perf_counter()
            slider.value = value_of(i)                 # observers redraw synchronously
            elapsed = (time.perf_counter() - start) * 1e3
            if box.image.value is not before:
                times.append(elapsed)
        times.sort()
        med, p90 = statistics.median(times), times[int(0.9 * len(times))]
        print(f"| {label} | {med:.1f} | {p90:.1f} | {_bar(med < 30)} |")


def _bar(ok: bool, applies: bool = True) -> str:
    return ("pass" if ok else "FAIL") if applies else "—"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", default="dcgan-faces64")
    p.add_argument("--n-vector", type=int, default=200)
    p.add_argument("--skip-averaging", action="store_true")
    args = p.parse_args()
    start = time.perf_counter()
    G, judge = pretrained.load(args.checkpoint), pretrained.load("faces-attributes")
    faces = faces_and_rates(G, judge)
    transfer_table(G, judge, args.n_vector, faces)
    if not args.skip_averaging:
        averaging_table(G, judge)
    fidelity_table(G, judge, faces)
    latency_table(G, judge)
    entry = pretrained.info(args.checkpoint)
    print(f"\n### Training\n\n{args.checkpoint}: {entry['steps']} steps, {entry['train_seconds']:.0f} s on "
          f"{entry['hardware']}\n\n    {entry['command']}\n")
    print(f"(benchmark took {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
