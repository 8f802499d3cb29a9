"""Issue 5's numbers for embedding images in the shipped StyleGAN (``stylegan-faces64``).

    python benchmarks/bench_inversion.py [--faces 20] [--generated 20] [--steps 1000] [--threads 2]
                                         [--hybrid-only] [--weights DIR]

Image2StyleGAN (Abdal, Qin and Wonka 2019) in miniature. Writes ``benchmarks/results/inversion.json``
and prints its tables as markdown:

1. ``reconstruction``: median PSNR of inversions into Z, W and W+ (the preset below) of held-out
   faces (seed 10,000; the generator trained on seed 0) and of the photographs that
   scikit-image ships, centre-cropped to 64 px (bars: W+ > W > Z on both sets, W+ at least
   28 dB on the faces). W+ is searched from the mean w̄, as the paper does, and from the code
   of the shipped encoder ``stylegan-faces64-encoder`` (hybrid inversion, Zhu et al. 2016),
   by Adam with the same loss and steps, and by L-BFGS with as many generator evaluations
   (``InversionConfig.optimizer``); the 28 dB bar is judged on each. As a yardstick, faces the
   generator drew itself (``--generated``, noise maps fixed): they lie in its range, so what
   W+ misses there is the search's error, and the rest of the gap to the held-out faces is
   the generator's (its range does not hold every face); ``runs``: each run's mean, min and max
   PSNR and its time;
2. ``distance``: how far the codes lie from what the mapping network produces
   (:func:`course_lib.metrics.distance_from_w`);
3. ``hybrid``, hybrid inversion: the step at which each W+ search (mean PSNR of the batch, from
   ``Inversion.history``) first reaches the final PSNR of the search from w̄ (bar: hybrid
   within a third of the steps). Skipped, with a message, while the encoder is not shipped;
4. ``speed``: one W+ inversion of one 64 px image with the preset's steps, each of the three
   ways (bar: under 30 s), with ``--threads`` torch threads (2 by default) on this
   CPU; by default 100 steps are timed and scaled to the preset's (every step costs the same),
   ``--timed-steps 0`` times a whole run.

``--weights DIR`` measures the ``stylegan-faces64`` (and encoder) of another weights folder,
for instance a candidate that :func:`course_lib.pretrained.publish` put there with ``root=DIR``.
``--hybrid-only`` embeds only the held-out faces in W+, the three ways (table ``w_plus`` instead of
tables 1 and 2), then tables 3 and 4.

The batched inversions run on ``--work-threads`` torch threads (1 by default: on a shared
2-core machine two threads were slower than one).

Every set is inverted as one batch (``invert`` takes N images); the inversion of each image is
independent of the others (Adam's steps are per coordinate), so batching only saves time.
"""

import argparse
import dataclasses
import time

import torch

from common import mark, save

from course_lib import data, pretrained, results
from course_lib.inversion import PRESETS, InversionConfig, hybrid_invert, invert
from course_lib.metrics import distance_from_w, psnr

HELD_OUT_SEED = data.HELD_OUT_SEED  # never used for training (seed 0)
GENERATOR = "stylegan-faces64"
ENCODER = "stylegan-faces64-encoder"
FEATURES = "perceptual-worlds64"

#: The preset this benchmark measures (lecture 03 uses it too); inversion.PRESETS says why.
PRESET = PRESETS["stylegan-faces64"]


def _db(x) -> float:
    """A PSNR in dB, rounded as the tables show it."""
    return round(float(x), 2)


def targets(G, n_faces: int, n_generated: int = 0) -> dict[str, torch.Tensor]:
    faces, _ = data.faces(n_faces, seed=HELD_OUT_SEED)
    sets = {f"held-out faces ({n_faces})": faces,
            f"photographs ({len(data.PHOTO_NAMES)}, 64 px)": torch.cat(list(data.photos(64).values()))}
    if n_generated:
        with torch.no_grad():
            drawn = G.sample_w(n_generated, seed=HELD_OUT_SEED)
            sets[f"faces G drew ({n_generated})"] = G.synthesize(drawn, "w")
    return sets


NOISE_ROW = "w+ & noise"   # W+ plus the noise maps, without the noise regulariser (for reference)
HYBRID = "w+ from E(x)"    # W+, the same search started at the encoder's code (hybrid inversion)
HYBRID_LBFGS = "w+ from E(x), L-BFGS"   # the hybrid, searched by L-BFGS with as many evaluations
W_PLUS = ("w+", HYBRID, HYBRID_LBFGS)
#: the reconstruction table's column for each W+ search
W_PLUS_COLUMNS = {"w+": "W+ from w̄", HYBRID: "W+ from E(x)", HYBRID_LBFGS: "W+ from E(x), L-BFGS"}


def load_encoder(weights: str | None):
    """The shipped encoder, or None (with a message) while it is not shipped."""
    if ENCODER in pretrained.available(weights):
        return pretrained.load(ENCODER, root=weights)
    shipped = ", ".join(pretrained.available(weights))
    print(f"The encoder `{ENCODER}` is not shipped yet (available: {shipped}): no hybrid inversion.")
    return None


def embed(G, features, images: torch.Tensor, config: InversionConfig, space: str, encoder=None):
    """One set embedded one way: ``(Inversion, PSNR per image, seconds)``."""
    start = time.perf_counter()
    if space in (HYBRID, HYBRID_LBFGS):
        optimizer = "lbfgs" if space == HYBRID_LBFGS else config.optimizer
        r = hybrid_invert(G, encoder, images, dataclasses.replace(config, space="w+", optimizer=optimizer),
                          features=features)
    elif space == NOISE_ROW:
        r = invert(G, images, dataclasses.replace(config, space="w+", optimize_noise=True, noise_weight=0.0),
                   features=features)
    else:
        r = invert(G, images, dataclasses.replace(config, space=space), features=features)
    return r, psnr(r.image, images), time.perf_counter() - start


def embed_logged(runs: dict, G, features, name: str, images: torch.Tensor, config: InversionConfig,
                 space: str, encoder=None) -> None:
    """:func:`embed` into ``runs[name, space]``, printing how long it took."""
    runs[name, space] = embed(G, features, images, config, space, encoder)
    print(f"  ({name}, {space}: {runs[name, space][2]:.0f} s)", flush=True)


def reconstruction_tables(G, features, sets: dict, config: InversionConfig, noise_row: bool,
                          encoder=None) -> tuple[dict, dict]:
    """Every set in Z, W and W+ from w̄; the two sets of real images (not the yardstick) also
    in W+ from the encoder's code when ``encoder`` is given. Returns the runs and the tables
    ``reconstruction``, ``runs`` and ``distance``."""
    runs = {}
    for i, (name, images) in enumerate(sets.items()):
        spaces = ["z", "w", "w+"] + ([HYBRID, HYBRID_LBFGS] if encoder is not None and i < 2 else []) \
            + ([NOISE_ROW] if noise_row and i == 0 else [])
        for space in spaces:
            embed_logged(runs, G, features, name, images, config, space, encoder)
    rows = []
    for i, name in enumerate(sets):
        med = {s: float(runs[name, s][1].median()) for s in ("z", "w") + W_PLUS if (name, s) in runs}
        row = {"targets": name, "Z": _db(med["z"]), "W": _db(med["w"])}
        row.update({column: _db(med[s]) if s in med else None for s, column in W_PLUS_COLUMNS.items()})
        row["W+ > W > Z"] = mark(med["w+"] > med["w"] > med["z"])
        row["W+ >= 28 dB (from w̄ / E(x) / E(x), L-BFGS)"] = \
            " / ".join(mark(med[s] >= 28) if s in med else "—" for s in W_PLUS) if i == 0 else "—"
        if noise_row:
            row["for reference: W+ and free noise maps"] = \
                _db(runs[name, NOISE_ROW][1].median()) if (name, NOISE_ROW) in runs else None
        rows.append(row)
    detail = [{"targets": name, "space": space.upper(), "mean PSNR": _db(p.mean()), "min": _db(p.min()),
               "max": _db(p.max()), "seconds (whole batch)": round(secs)}
              for (name, space), (_, p, secs) in runs.items()]
    distance = []
    for (name, space), (r, _, _) in runs.items():
        if space not in ("w",) + W_PLUS:
            continue
        d = distance_from_w(G, r.latent)
        distance.append({"targets": name, "space": space.upper(),
                         "to mean w̄ (median)": _db(d["to_mean"].median()),
                         "spread across layers (median)": _db(d["spread"].median())})
    tables = {
        "reconstruction": (f"Reconstruction: median PSNR (dB) after {config.steps} steps (lr {config.lr}, "
                           f"perceptual weight {config.perceptual_weight}, noise maps fixed)", rows),
        "runs": ("Each inversion run: PSNR (dB) over the batch and the batch's time", detail),
        "distance": ("How far the codes lie from W (distance_from_w; a sampled w: to mean about 1, "
                     "spread 0)", distance),
    }
    return runs, tables


def _first_reaching(history, level: float):
    return next((h["step"] + 1 for h in history if h["psnr"] >= level), None)


def hybrid_table(faces: torch.Tensor, optimisation_only, hybrids: dict, config: InversionConfig) -> tuple:
    """When each W+ search (``Inversion`` from w̄, and each of ``hybrids``, from E(x), on
    ``faces``) first reaches the final mean PSNR of the search from w̄: ``(title, rows)``. A
    search that never reaches it has None there."""
    target = optimisation_only.history[-1]["psnr"]
    steps = config.steps
    only = optimisation_only
    rows = [{"start": "mean w̄ (optimisation only)", "PSNR at step 0": _db(only.history[0]["psnr"]),
             "final PSNR": _db(target), "final median PSNR": _db(psnr(only.image, faces).median()),
             "first step at the level": _first_reaching(only.history, target), "bar": "—"}]
    for name, hybrid in hybrids.items():
        hyb_step = _first_reaching(hybrid.history, target)
        ok = hyb_step is not None and hyb_step <= steps / 3
        rows.append({"start": name, "PSNR at step 0": _db(hybrid.history[0]["psnr"]),
                     "final PSNR": _db(hybrid.history[-1]["psnr"]),
                     "final median PSNR": _db(psnr(hybrid.image, faces).median()),
                     "first step at the level": hyb_step, "bar": mark(ok)})
    title = (f"Hybrid inversion (encoder start) vs optimisation only, W+, {len(faces)} held-out faces: "
             f"the step (L-BFGS: generator evaluation, counted from 1) at which each first reaches the "
             f"optimisation-only final mean PSNR, {target:.2f} dB; bar: within {steps // 3} steps "
             f"(a third of {steps})")
    return title, rows


def speed_table(G, features, image: torch.Tensor, config: InversionConfig, threads: int,
                timed_steps: int | None, encoder=None) -> tuple:
    """Seconds for one W+ inversion of one image, each way (the hybrids' encoder pass included);
    every step costs about the same, so with ``timed_steps`` a run of that many steps is timed
    and scaled to ``config.steps`` (the encoder's one pass scaled with them)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    n = min(timed_steps or config.steps, config.steps)
    spaces = W_PLUS if encoder is not None else ("w+",)
    times = {}
    try:
        for space in spaces:
            embed(G, features, image, dataclasses.replace(config, steps=5), space, encoder)   # warm-up
            times[space] = [embed(G, features, image, dataclasses.replace(config, steps=n), space, encoder)[2]
                            * config.steps / n for _ in range(2)]
    finally:
        torch.set_num_threads(before)
    how = "timed whole" if n == config.steps else f"timed over {n} steps, scaled to {config.steps}"
    rows = [{"search": space.upper(), "run": i, "seconds": round(t, 1),
             "per step (ms)": round(t / config.steps * 1e3, 1), "bar 30 s": mark(t < 30)}
            for space, runs in times.items() for i, t in enumerate(runs, 1)]
    return (f"Speed: one W+ inversion of one 64 px image ({config.steps} steps, {threads} torch threads, "
            f"{results.cpu_name()}, {how})", rows)


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
    G = pretrained.load(GENERATOR, root=args.weights)
    features = pretrained.load(FEATURES)
    sets = targets(G, args.faces, 0 if args.hybrid_only else args.generated)
    print(f"{GENERATOR}: {G.num_ws} layers of w ({G.config.w_dim} numbers each); "
          f"{torch.get_num_threads()} torch threads; {config}", flush=True)
    faces_name = next(iter(sets))
    faces = sets[faces_name]
    encoder = load_encoder(args.weights)
    if args.hybrid_only:
        runs = {}
        for s in W_PLUS if encoder is not None else ("w+",):
            embed_logged(runs, G, features, faces_name, faces, config, s, encoder)
        rows = [{"search": s.upper(), "median": _db(p.median()), "mean": _db(p.mean()),
                 "bar 28 dB": mark(float(p.median()) >= 28)} for (_, s), (_, p, _) in runs.items()]
        tables = {"w_plus": (f"W+ on the {faces_name}: PSNR (dB) after {config.steps} steps "
                             "(bar: median 28 dB)", rows)}
    else:
        runs, tables = reconstruction_tables(G, features, sets, config, noise_row=args.noise_row,
                                             encoder=encoder)
    if encoder is not None:
        tables["hybrid"] = hybrid_table(faces, runs[faces_name, "w+"][0],
                                        {"encoder E(x) (hybrid)": runs[faces_name, HYBRID][0],
                                         "encoder E(x) (hybrid), L-BFGS": runs[faces_name, HYBRID_LBFGS][0]},
                                        config)
    tables["speed"] = speed_table(G, features, faces[:1], config, args.threads, args.timed_steps, encoder)
    notes = {
        "seconds": round(time.perf_counter() - start),
        "config": dataclasses.asdict(config),
        "W+ searches": "W+ is searched three ways: from the mean w̄ (Image2StyleGAN), and from the encoder's "
                       "code E(x) (hybrid, lecture 02), with the same loss and steps, by Adam and by L-BFGS "
                       "(as many generator evaluations). The 28 dB bar is judged on each.",
    }
    if encoder is None:
        notes["encoder"] = f"{ENCODER} is not shipped: no hybrid inversion"
    if args.noise_row:
        notes["noise row"] = ("The last column optimises the per-layer noise maps too, without StyleGAN "
                              "2's noise regulariser: the maps then carry the image's detail themselves "
                              "(what the regulariser prevents), so it shows what the latent code alone "
                              "cannot reach, not a better embedding.")
    if args.weights:
        notes["weights"] = f"{GENERATOR} and its encoder from {args.weights}, not the shipped ones"
    shipped = [] if args.weights else [GENERATOR] + ([ENCODER] if encoder is not None else [])
    save("inversion", tables, checkpoints=shipped + [FEATURES], notes=notes)


if __name__ == "__main__":
    main()
