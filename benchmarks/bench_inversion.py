"""Issue 5's numbers for embedding images in the shipped StyleGAN (``stylegan-faces64``).

    python benchmarks/bench_inversion.py [--faces 20] [--generated 20] [--steps 500] [--threads 2]
                                         [--hybrid-only] [--weights DIR]

Image2StyleGAN (Abdal, Qin and Wonka 2019) in miniature. Prints markdown tables:

1. reconstruction: median PSNR of inversions into Z, W and W+ (MSE + perceptual loss with
   ``perceptual-worlds64``, the preset below) of held-out faces (seed 10,000; the generator
   trained on seed 0) and of the photographs that scikit-image ships, centre-cropped to 64 px
   (bars: W+ > W > Z on both sets, W+ at least 28 dB on the faces); and, as a yardstick,
   faces the generator drew itself (``--generated``, noise maps fixed): they lie in its range,
   so what W+ misses there is the search's error, and the rest of the gap to the held-out
   faces is the generator's (its range does not hold every face);
2. how far the codes lie from what the mapping network produces
   (:func:`course_lib.stylegan.distance_from_w`);
3. hybrid inversion: the encoder's guess, then the same optimisation in W+; the step at which
   each curve (mean PSNR of the batch, from ``Inversion.history``) first reaches the
   optimisation-only final PSNR (bar: hybrid within a third of the steps). Skipped, with a
   message, while ``stylegan-faces64-encoder`` is not shipped;
4. speed: one W+ inversion of one 64 px image with the preset's steps (bar: under 30 s), with
   ``--threads`` torch threads (2 by default) on this CPU; by default 100 steps are timed and
   scaled to the preset's (every step costs the same), ``--timed-steps 0`` times a whole run.

``--weights DIR`` measures the ``stylegan-faces64`` (and encoder) of another weights folder,
for instance a candidate that :func:`course_lib.pretrained.publish` put there with ``root=DIR``.

The batched inversions run on ``--work-threads`` torch threads (1 by default: on a shared
2-core machine two threads were slower than one).

Every set is inverted as one batch (``invert`` takes N images); the inversion of each image is
independent of the others (Adam's steps are per coordinate), so batching only saves time.
"""

import argparse
import dataclasses
import platform
import time
from pathlib import Path

import torch

from course_lib import data, pretrained
from course_lib.inversion import PRESETS, InversionConfig, hybrid_invert, invert, psnr, synthesize
from course_lib.stylegan import distance_from_w

HELD_OUT_SEED = data.HELD_OUT_SEED  # never used for training (seed 0)
ENCODER = "stylegan-faces64-encoder"

#: The preset this benchmark measures (lecture 03 uses it too); inversion.PRESETS says why.
PRESET = PRESETS["stylegan-faces64"]


def _bar(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def targets(G, n_faces: int, n_generated: int = 0) -> dict[str, torch.Tensor]:
    faces, _ = data.faces(n_faces, seed=HELD_OUT_SEED)
    sets = {f"held-out faces ({n_faces})": faces,
            f"photographs ({len(data.PHOTO_NAMES)}, 64 px)": torch.cat(list(data.photos(64).values()))}
    if n_generated:
        with torch.no_grad():
            drawn = G.sample_w(n_generated, seed=HELD_OUT_SEED)
            sets[f"faces G drew ({n_generated})"] = synthesize(G, drawn, "w")
    return sets


NOISE_ROW = "w+ & noise"   # W+ plus the noise maps, without the noise regulariser (for reference)


def reconstruction_tables(G, features, sets: dict, config: InversionConfig, noise_row: bool) -> dict:
    runs = {}
    for i, (name, images) in enumerate(sets.items()):
        spaces = {s: dataclasses.replace(config, space=s) for s in ("z", "w", "w+")}
        if noise_row and i == 0:
            spaces[NOISE_ROW] = dataclasses.replace(config, space="w+", optimize_noise=True, noise_weight=0.0)
        for space, cfg in spaces.items():
            start = time.perf_counter()
            r = invert(G, images, cfg, features=features)
            runs[name, space] = (r, psnr(r.image, images), time.perf_counter() - start)
            print(f"  ({name}, {space}: {time.perf_counter() - start:.0f} s)", flush=True)
    print(f"\n### Reconstruction: median PSNR (dB) after {config.steps} steps "
          f"(lr {config.lr}, perceptual weight {config.perceptual_weight}, noise maps fixed)\n")
    extra = " for reference: W+ and free noise maps |" if noise_row else ""
    print("| targets | Z | W | W+ | W+ > W > Z | W+ >= 28 dB |" + extra)
    print("|---|---|---|---|---|---|" + ("---|" if noise_row else ""))
    for i, name in enumerate(sets):
        med = {s: float(runs[name, s][1].median()) for s in ("z", "w", "w+")}
        order = _bar(med["w+"] > med["w"] > med["z"])
        floor = _bar(med["w+"] >= 28) if i == 0 else "—"
        ref = (f" {runs[name, NOISE_ROW][1].median():.2f} |" if (name, NOISE_ROW) in runs else " — |") \
            if noise_row else ""
        print(f"| {name} | {med['z']:.2f} | {med['w']:.2f} | {med['w+']:.2f} | {order} | {floor} |" + ref)
    if noise_row:
        print("\nThe last column optimises the per-layer noise maps too, without StyleGAN 2's noise "
              "regulariser: the maps then carry the image's detail themselves (what the regulariser "
              "prevents), so it shows what the latent code alone cannot reach, not a better embedding.")
    print("\n| targets | space | mean PSNR | min | max | seconds (whole batch) |")
    print("|---|---|---|---|---|---|")
    for (name, space), (_, p, secs) in runs.items():
        print(f"| {name} | {space.upper()} | {p.mean():.2f} | {p.min():.2f} | {p.max():.2f} | {secs:.0f} |")
    return runs


def distance_table(G, runs: dict) -> None:
    print("\n### How far the codes lie from W (distance_from_w; a sampled w: to mean about 1, spread 0)\n")
    print("| targets | space | to mean w̄ (median) | spread across layers (median) |")
    print("|---|---|---|---|")
    for (name, space), (r, _, _) in runs.items():
        if space not in ("w", "w+"):
            continue
        d = distance_from_w(G, r.latent)
        print(f"| {name} | {space.upper()} | {d['to_mean'].median():.2f} | {d['spread'].median():.2f} |")


def _first_reaching(history, level: float):
    return next((h["step"] + 1 for h in history if h["psnr"] >= level), None)


def hybrid_table(G, features, faces: torch.Tensor, optimisation_only, config: InversionConfig,
                 weights: str | None = None) -> None:
    print(f"\n### Hybrid inversion (encoder start) vs optimisation only, W+, {len(faces)} held-out faces\n")
    if ENCODER not in pretrained.available(weights):
        print(f"Skipped: the encoder `{ENCODER}` is not shipped yet "
              f"(available: {', '.join(pretrained.available(weights))}).")
        return
    encoder = pretrained.load(ENCODER, root=weights)
    hybrid = hybrid_invert(G, encoder, faces, dataclasses.replace(config, space="w+"), features=features)
    target = optimisation_only.history[-1]["psnr"]
    steps = config.steps
    opt_step = _first_reaching(optimisation_only.history, target)
    hyb_step = _first_reaching(hybrid.history, target)
    print(f"Level: the optimisation-only final mean PSNR, {target:.2f} dB. Steps counted from 1; "
          f"bar: hybrid within {steps // 3} steps (a third of {steps}).\n")
    print("| start | PSNR at step 0 | final PSNR | final median PSNR | first step at the level | bar |")
    print("|---|---|---|---|---|---|")
    print(f"| mean w̄ (optimisation only) | {optimisation_only.history[0]['psnr']:.2f} | {target:.2f} | "
          f"{psnr(optimisation_only.image, faces).median():.2f} | {opt_step} | — |")
    ok = hyb_step is not None and hyb_step <= steps / 3
    print(f"| encoder E(x) (hybrid) | {hybrid.history[0]['psnr']:.2f} | {hybrid.history[-1]['psnr']:.2f} | "
          f"{psnr(hybrid.image, faces).median():.2f} | {hyb_step if hyb_step is not None else 'never'} | "
          f"{_bar(ok)} |")


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def speed_table(G, features, image: torch.Tensor, config: InversionConfig, threads: int,
                timed_steps: int | None) -> None:
    """Seconds for one W+ inversion of one image; every step costs the same, so with
    ``timed_steps`` a run of that many steps is timed and scaled to ``config.steps``."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    n = min(timed_steps or config.steps, config.steps)
    try:
        invert(G, image, dataclasses.replace(config, steps=5), features=features)   # warm-up
        times = []
        for _ in range(2):
            start = time.perf_counter()
            invert(G, image, dataclasses.replace(config, steps=n), features=features)
            times.append((time.perf_counter() - start) * config.steps / n)
    finally:
        torch.set_num_threads(before)
    where = _cpu_name()
    how = "timed whole" if n == config.steps else f"timed over {n} steps, scaled to {config.steps}"
    print(f"\n### Speed: one W+ inversion of one 64 px image ({config.steps} steps, {threads} torch threads, "
          f"{where}, {how})\n")
    print("| run | seconds | per step (ms) | bar 30 s |")
    print("|---|---|---|---|")
    for i, t in enumerate(times, 1):
        print(f"| {i} | {t:.1f} | {t / config.steps * 1e3:.1f} | {_bar(t < 30)} |")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--faces", type=int, default=20)
    p.add_argument("--generated", type=int, default=20,
                   help="also embed this many faces the generator drew (0: none)")
    p.add_argument("--weights", help="a weights folder to take stylegan-faces64 and its encoder from")
    p.add_argument("--steps", type=int, default=PRESET.steps)
    p.add_argument("--lr", type=float, default=PRESET.lr)
    p.add_argument("--perceptual-weight", type=float, default=PRESET.perceptual_weight)
    p.add_argument("--threads", type=int, default=2, help="torch threads for the speed measurement")
    p.add_argument("--timed-steps", type=int, default=100,
                   help="time this many steps and scale to --steps (0: time a whole inversion)")
    p.add_argument("--work-threads", type=int, default=1, help="torch threads for the batched inversions")
    p.add_argument("--noise-row", action="store_true",
                   help="add a reference run on the faces: W+ and free noise maps (no noise regulariser)")
    p.add_argument("--hybrid-only", action="store_true",
                   help="only the hybrid table (W+ with and without the encoder's start, on the faces)")
    args = p.parse_args()
    torch.set_num_threads(args.work_threads)
    start = time.perf_counter()
    config = dataclasses.replace(PRESET, steps=args.steps, lr=args.lr,
                                 perceptual_weight=args.perceptual_weight)
    G = pretrained.load("stylegan-faces64", root=args.weights)
    features = pretrained.load("perceptual-worlds64")
    sets = targets(G, args.faces, 0 if args.hybrid_only else args.generated)
    print(f"stylegan-faces64: {G.num_ws} layers of w ({G.config.w_dim} numbers each); "
          f"{torch.get_num_threads()} torch threads; {config}")
    faces_name = next(iter(sets))
    if args.hybrid_only:
        w_plus = invert(G, sets[faces_name], dataclasses.replace(config, space="w+"), features=features)
        hybrid_table(G, features, sets[faces_name], w_plus, config, args.weights)
    else:
        runs = reconstruction_tables(G, features, sets, config, noise_row=args.noise_row)
        distance_table(G, runs)
        hybrid_table(G, features, sets[faces_name], runs[faces_name, "w+"][0], config, args.weights)
        speed_table(G, features, sets[faces_name][:1], config, args.threads, args.timed_steps)
    print(f"\n(benchmark took {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
