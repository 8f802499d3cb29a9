"""GLCIC against the baselines on held-out landscapes, measured inside the holes.

    python benchmarks/bench_glcic.py [--n 200] [--processes 1] [--threads 0] [--weights DIR]
    python benchmarks/bench_glcic.py --snapshots RUN_DIR [--window 1] [--n 100] [--seed 20000]

Writes ``benchmarks/results/glcic.json`` (tables ``methods``, ``speed`` and ``bars``) and prints
them as markdown. ``n`` held-out scenes (seed 10000; training uses seed 0) at 128 px, each with 1 to 3
rectangular holes covering 10-25% of the image (mask seed 10000). For each method: PSNR
and SSIM in the holes, the pixel accuracy of ``segmenter-landscapes128`` in the holes
against the true label map, and the Laplacian (high-frequency) energy in the holes relative
to the real image. Then the time to complete one 128-px image and to Poisson-blend one,
and the issue's bars.

``--weights DIR`` measures the ``glcic-landscapes128`` of another weights folder (a candidate
that :func:`course_lib.pretrained.publish` put there with ``root=DIR``) against the shipped baselines.

``--snapshots RUN_DIR`` measures every snapshot a run kept (``train --keep-every``), with
Poisson blending (the paper's full method), on validation scenes and masks of another seed
(20000 by default: neither training's nor the held-out set's), against biharmonic
inpainting. With ``--window K`` it measures, at each snapshot, the mean weights of the K
snapshots ending there (what ``train --average-from`` ships). It prints its table (it writes no
results file: it chooses a candidate, it does not measure what is shipped) and names the one whose worst
margin over the label, PSNR and HF bars is largest (label and HF margins in percentage
points, PSNR in dB). GAN training swings from one snapshot to the next; choosing on
validation scenes keeps the held-out measurement honest.
"""

import argparse
import copy
from pathlib import Path

import torch
from safetensors.torch import load_file

from common import mark, markdown, median_ms, save

from course_lib import data, pretrained
from course_lib.checkpoints import average_states, kept_snapshots, load_weights
from course_lib.glcic import complete, poisson_blend, random_holes
from course_lib.inpainting import biharmonic_fill, compare_fillers, mean_fill

HELD_OUT_SEED = data.HELD_OUT_SEED  # never used for training (seed 0)
SEGMENTER, GLCIC, MSE_ONLY = "segmenter-landscapes128", "glcic-landscapes128", "glcic-landscapes128-mse"


def scenes(n: int, seed: int):
    """``n`` landscapes at 128 px with the benchmark's holes, all drawn from ``seed``."""
    images, labels, _ = data.landscapes(n, size=128, seed=seed)
    masks, _ = random_holes(n, 128, count=(1, 3), hole_size=(16, 64), coverage=(0.10, 0.25),
                            generator=torch.Generator().manual_seed(seed))
    return images, labels, masks


def _completer(net):
    return lambda x, m: complete(net, x, m, blend=True)


def _row(name_column: str, r: dict) -> dict:
    """One method's measurements (``compare_fillers``), as the tables show them. The real images'
    PSNR is infinite; it is left empty (None), which JSON can hold."""
    finite = r["psnr"] != float("inf")
    return {name_column: r["method"], "hole PSNR (dB)": round(r["psnr"], 2) if finite else None,
            "hole SSIM": round(r["ssim"], 3),
            "segmenter accuracy in holes (%)": round(100 * r["label_acc"], 1),
            "HF energy ratio": round(r["hf_ratio"], 2)}


def snapshot_table(run: Path, n: int, seed: int, processes: int, window: int = 1) -> str:
    """Measure each snapshot of ``run`` (or the mean of the ``window`` snapshots ending at it) on
    validation scenes; print the table and return the chosen one's name."""
    snapshots = kept_snapshots(run)
    if len(snapshots) < max(window, 1):
        raise SystemExit(f"error: {len(snapshots)} snapshots in {run}, fewer than "
                         f"--window {window}; train with --keep-every N")
    images, labels, masks = scenes(n, seed)
    segmenter = pretrained.load(SEGMENTER)
    fillers = {"biharmonic (scikit-image)": lambda x, m: biharmonic_fill(x, m, processes=processes)}
    steps, states = list(snapshots), [load_file(str(p)) for p in snapshots.values()]
    shipped = pretrained.load(GLCIC)  # the architecture; the weights are replaced
    for i in range(window - 1, len(steps)):
        first, last = steps[i - window + 1], steps[i]
        name = f"step {last}" if window == 1 else f"mean of steps {first}-{last}"
        mean = average_states(states[i - window + 1:i + 1])
        fp16 = {k: v.half() if v.is_floating_point() else v for k, v in mean.items()}  # as shipped
        fillers[name] = _completer(load_weights(copy.deepcopy(shipped), fp16).eval())
    rows = {r["method"]: r for r in compare_fillers(fillers, images, labels, masks, segmenter)}
    bih = rows.pop("biharmonic (scikit-image)")
    rows.pop("real", None)
    table, margins = [], {}
    for name, r in rows.items():
        margins[name] = min(100 * (r["label_acc"] - bih["label_acc"] - 0.10),  # points
                            r["psnr"] - (bih["psnr"] - 1),                     # dB
                            100 * (r["hf_ratio"] - 0.70))                      # points
        table.append({**_row("snapshot", r), "worst margin": round(margins[name], 1)})
    print(markdown(f"{n} validation landscapes (seed {seed}); biharmonic: {bih['psnr']:.2f} dB, "
                   f"{bih['label_acc']:.1%} labels, HF {bih['hf_ratio']:.2f}", table))
    best = max(margins, key=margins.get)
    print(f"\nchosen (the largest worst margin over the label, PSNR and HF bars): {best}")
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--processes", type=int, default=1, help="for biharmonic inpainting")
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads (0: torch's default); 1 on a CPU shared with other jobs")
    p.add_argument("--weights", help="a weights folder to take glcic-landscapes128 from")
    p.add_argument("--snapshots", type=Path, metavar="RUN_DIR",
                   help="instead: measure the run's snapshots on validation scenes and pick one")
    p.add_argument("--seed", type=int, default=20000, help="validation seed for --snapshots")
    p.add_argument("--window", type=int, default=1,
                   help="with --snapshots: measure the mean of this many consecutive snapshots")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.snapshots:
        if args.seed == HELD_OUT_SEED:
            raise SystemExit(f"error: --seed {HELD_OUT_SEED} is the held-out set; pick snapshots on another")
        snapshot_table(args.snapshots, args.n, args.seed, args.processes, args.window)
        return
    images, labels, masks = scenes(args.n, HELD_OUT_SEED)
    segmenter = pretrained.load(SEGMENTER)
    mse_net = pretrained.load(MSE_ONLY)
    glcic_net = pretrained.load(GLCIC, root=args.weights)
    fillers = {
        "mean fill": mean_fill,
        "biharmonic (scikit-image)": lambda x, m: biharmonic_fill(x, m, processes=args.processes),
        "MSE-only network (Tc)": lambda x, m: complete(mse_net, x, m, blend=False),
        "GLCIC": lambda x, m: complete(glcic_net, x, m, blend=False),
        "GLCIC + Poisson blending": lambda x, m: complete(glcic_net, x, m, blend=True),
    }
    rows = {r["method"]: r for r in compare_fillers(fillers, images, labels, masks, segmenter)}
    cover = masks.mean((1, 2, 3))
    methods = [{**_row("method", r), "seconds (all images)": round(r["seconds"], 1)} for r in rows.values()]

    one, one_mask = images[:1], masks[:1]
    completed = complete(glcic_net, one, one_mask, blend=False)
    t_complete = median_ms(lambda: complete(glcic_net, one, one_mask, blend=False))
    t_blend = median_ms(lambda: poisson_blend(one, completed, one_mask))
    speed = [{"operation": "complete one 128-px image (blend=False)", "median ms": round(t_complete, 1)},
             {"operation": "Poisson blending of one 128-px image", "median ms": round(t_blend, 1)}]

    bih, full, blend, mse = (rows[k] for k in ("biharmonic (scikit-image)", "GLCIC",
                                               "GLCIC + Poisson blending", "MSE-only network (Tc)"))
    # (bar, measured, threshold, passes): label accuracy in %, PSNR in dB, time in ms
    bars = [
        ("GLCIC label accuracy (%) >= biharmonic + 10 points", 100 * full["label_acc"],
         100 * (bih["label_acc"] + 0.10), full["label_acc"] >= bih["label_acc"] + 0.10),
        ("GLCIC + Poisson label accuracy (%) >= biharmonic + 10 points", 100 * blend["label_acc"],
         100 * (bih["label_acc"] + 0.10), blend["label_acc"] >= bih["label_acc"] + 0.10),
        ("GLCIC hole PSNR (dB) >= biharmonic - 1 dB", full["psnr"], bih["psnr"] - 1,
         full["psnr"] >= bih["psnr"] - 1),
        ("GLCIC + Poisson hole PSNR (dB) >= biharmonic - 1 dB", blend["psnr"], bih["psnr"] - 1,
         blend["psnr"] >= bih["psnr"] - 1),
        ("GLCIC keeps >= 70% of the real HF energy (ratio)", full["hf_ratio"], 0.70,
         full["hf_ratio"] >= 0.70),
        ("MSE-only keeps less HF energy than GLCIC (ratio < GLCIC's)", mse["hf_ratio"], full["hf_ratio"],
         mse["hf_ratio"] < full["hf_ratio"]),
        ("completion of one image < 50 ms", t_complete, 50.0, t_complete < 50),
        ("Poisson blending < 200 ms", t_blend, 200.0, t_blend < 200),
    ]
    bars = [{"bar": name, "measured": round(measured, 2), "threshold": round(threshold, 2), "pass": mark(ok)}
            for name, measured, threshold, ok in bars]

    title = (f"{args.n} held-out landscapes at 128 px (seed {HELD_OUT_SEED}), 1-3 holes covering "
             f"{cover.min():.1%}-{cover.max():.1%} (mean {cover.mean():.1%}); {torch.get_num_threads()} "
             "torch threads")
    checkpoints = [SEGMENTER, MSE_ONLY] + ([] if args.weights else [GLCIC])
    save("glcic", {
        "methods": (f"Measured inside the holes: {title}", methods),
        "speed": (f"Speed on one image, median of 20 ({torch.get_num_threads()} torch threads)", speed),
        "bars": ("The issue's bars", bars),
    }, checkpoints=checkpoints, notes={
        "real": "the first row is the real images themselves: their hole PSNR is infinite (left empty)",
        "hole coverage (%)": {k: round(100 * float(getattr(cover, k)()), 1) for k in ("min", "max", "mean")},
        **({"weights": f"{GLCIC} from {args.weights}, not the shipped one"} if args.weights else {}),
    })


if __name__ == "__main__":
    main()
