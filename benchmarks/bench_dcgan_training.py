"""Does the DCGAN's sample fidelity improve with training? The judge's attribute rates over a run.

    python benchmarks/bench_dcgan_training.py RUN_DIR [--n 1000] [--average-from STEP ...]
                                              [--first STEP] [--name dcgan_training] [--validation]

For every generator snapshot a run kept (``train --keep-every N``; RUN_DIR trained with the
command of the shipped ``dcgan-faces64``) and for the shipped ``dcgan-faces64`` itself (10,000
steps of the same command and preset, another run): the faces judge's rate of every binary
attribute on ``n`` generated faces against ``n`` held-out real faces, the largest gap of any
attribute (categorical ones: the largest gap of any class) and the Fréchet distance in the
judge's features. Issue 19's fidelity bar asks for every gap within 10 points; the table says
whether the gaps shrink with the budget, or stay where they appeared early (then more steps of
the same recipe would not meet the bar). Each row says the learning rate the snapshot was trained
at, as a share of the preset's (``train --lr-decay`` lets it fall to zero); ``--average-from
STEP`` adds a row for the mean of the snapshots from STEP on, which ``train --average-from STEP``
would ship.

Writes ``benchmarks/results/NAME.json`` (``dcgan_training``, the table lecture 01 shows; another
name for another run), with the snapshots from ``--first`` on. ``--validation`` measures on other
codes and other held-out real faces than ``bench_dcgan.py`` (``VALIDATION_SEEDS``): the table to
pick a snapshot by, so that the benchmark's own faces stay unseen by the choice.
"""

import argparse
import copy
import json
from pathlib import Path

import torch
from bench_dcgan import FIDELITY_SEED, HELD_OUT_SEED, JUDGE, largest_gaps
from common import save
from safetensors.torch import load_file

from course_lib import data, pretrained
from course_lib.checkpoints import SNAPSHOTS, average_states, kept_snapshots, load_weights, stepped_files
from course_lib.recipes import TrainSettings
from course_lib.judges import attribute_rates, judge_features
from course_lib.latent import generate, sample_z
from course_lib.metrics import frechet_distance

SHIPPED = "dcgan-faces64"
#: --validation: (codes, real faces) seeds that bench_dcgan.py does not use
VALIDATION_SEEDS = (1234, HELD_OUT_SEED + 7)


def lr_share(settings: dict, step: int) -> float:
    """The learning rate of the last update before ``step``, as a share of the preset's, from a
    snapshot's or checkpoint's recorded settings."""
    return TrainSettings(lr_decay=settings.get("lr_decay")).lr_factor(step - 1)


def row(label: str, lr: str, G, judge, rates_real: dict, f_real: torch.Tensor, n: int,
        codes_seed: int = FIDELITY_SEED) -> dict:
    fake = generate(G, sample_z(n, G.latent_dim, codes_seed))
    rates_fake = attribute_rates(judge, fake)
    gaps = largest_gaps(rates_real, rates_fake)
    worst = max(gaps, key=gaps.get)
    out = {"generator": label, "learning rate (× preset)": lr}
    for name in data.FACE_BINARY:
        out[f"{name} (%)"] = round(100 * float(rates_fake[name][1]), 1)
    out.update({"largest gap (points)": round(gaps[worst], 1), "in": worst,
                "attributes within 10 points": f"{sum(g <= 10 for g in gaps.values())} of {len(gaps)}",
                "Fréchet distance": round(frechet_distance(judge_features(judge, fake), f_real), 2)})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="a dcgan run folder with generator snapshots")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--first", type=int, default=0, metavar="STEP", help="only the snapshots from STEP on")
    p.add_argument("--name", default="dcgan_training", help="the results file's name")
    p.add_argument("--validation", action="store_true",
                   help="measure on the validation seeds (to choose a snapshot by), not the benchmark's")
    p.add_argument("--average-from", type=int, nargs="*", default=[], metavar="STEP",
                   help="also the mean of the snapshots from each STEP on")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    snapshots = {s: p for s, p in kept_snapshots(args.run).items() if s >= args.first}
    if not snapshots:
        raise SystemExit(f"error: no snapshots in {args.run}/snapshots; train with --keep-every N")
    shipped_entry = pretrained.info(SHIPPED)
    lr = {}   # step -> the learning rate it was trained at, as a share of the preset's
    for step, meta in stepped_files(args.run / SNAPSHOTS, ".json").items():   # the snapshots' records
        recorded = json.loads(meta.read_text())
        if recorded["recipe"] != shipped_entry["recipe"] or recorded["config"] != shipped_entry["config"]:
            raise SystemExit(f"error: {meta} was trained with recipe {recorded['recipe']!r} and another "
                             f"config than {SHIPPED}; this table compares runs of the same command")
        lr[step] = lr_share(recorded["settings"], step)
    unrecorded = [s for s in snapshots if s not in lr]
    if unrecorded:   # without its record a snapshot's config and schedule are unknown: left out
        print(f"snapshots without a record, left out: {unrecorded}")
        snapshots = {s: p for s, p in snapshots.items() if s in lr}
    bad = [s for s in args.average_from if s not in snapshots]
    if bad:
        raise SystemExit(f"error: --average-from {bad}: the run kept snapshots at steps {list(snapshots)}")
    judge = pretrained.load(JUDGE)
    codes_seed, real_seed = VALIDATION_SEEDS if args.validation else (FIDELITY_SEED, HELD_OUT_SEED)
    real, _ = data.faces(args.n, seed=real_seed)
    rates_real = attribute_rates(judge, real)
    f_real = judge_features(judge, real)
    reference = {"generator": f"held-out real faces (n = {args.n})", "learning rate (× preset)": "—"}
    for name in data.FACE_BINARY:
        reference[f"{name} (%)"] = round(100 * float(rates_real[name][1]), 1)
    reference.update({"largest gap (points)": 0.0, "in": "—", "attributes within 10 points": "—",
                      "Fréchet distance": 0.0})
    shipped = pretrained.load(SHIPPED).eval()
    rows = [reference]
    for step, path in snapshots.items():
        G = load_weights(copy.deepcopy(shipped), load_file(str(path))).eval()
        rows.append(row(f"run snapshot, step {step:,}", f"{lr[step]:.2f}", G, judge, rates_real,
                        f_real, args.n, codes_seed))
        print(rows[-1], flush=True)
    last = max(snapshots)
    for first in args.average_from:
        steps = [s for s in snapshots if s >= first]
        mean = average_states([load_file(str(snapshots[s])) for s in steps])
        G = load_weights(copy.deepcopy(shipped), mean)
        label = f"run, mean of the {len(steps)} snapshots from step {first:,} to {last:,}"
        shares = f"{min(lr[s] for s in steps):.2f}–{max(lr[s] for s in steps):.2f}"
        rows.append(row(label, shares, G.eval(), judge, rates_real, f_real, args.n, codes_seed))
        print(rows[-1], flush=True)
    rows.append(row(f"{SHIPPED} (shipped), step {shipped_entry['steps']:,}",
                    f"{lr_share(shipped_entry['settings'], shipped_entry['steps']):.2f}",
                    shipped, judge, rates_real, f_real, args.n, codes_seed))
    which = (f"validation seeds: codes {codes_seed}, real faces {real_seed}" if args.validation
             else "the seeds of bench_dcgan.py")
    save(args.name, {
        "fidelity": (f"The faces judge on {args.n} generated faces at each step against {args.n} held-out "
                     f"real faces (binary attributes: rate of 'yes'; {which})", rows),
    }, checkpoints=[SHIPPED, JUDGE], notes={
        "run": str(args.run), "snapshots": list(snapshots), "averaged from": args.average_from,
        "shipped command": shipped_entry["command"]})


if __name__ == "__main__":
    main()
