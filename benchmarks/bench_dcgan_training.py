"""Does the DCGAN's sample fidelity improve with training? The judge's attribute rates over a run.

    python benchmarks/bench_dcgan_training.py RUN_DIR [--n 1000]

For every generator snapshot a run kept (``train --keep-every N``; RUN_DIR trained with the
command of the shipped ``dcgan-faces64``) and for the shipped ``dcgan-faces64`` itself (10,000
steps of the same command and preset, another run): the faces judge's rate of every binary
attribute on ``n`` generated faces against ``n`` held-out real faces, the largest gap of any
attribute (categorical ones: the largest gap of any class) and the Fréchet distance in the
judge's features. Issue 19's fidelity bar asks for every gap within 10 points; the table says
whether the gaps shrink with the budget, or stay where they appeared early (then more steps of
the same recipe would not meet the bar).

Writes ``benchmarks/results/dcgan_training.json``.
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
from course_lib.checkpoints import SNAPSHOTS, kept_snapshots, load_weights, stepped_files
from course_lib.judges import attribute_rates, judge_features
from course_lib.latent import generate, sample_z
from course_lib.metrics import frechet_distance

SHIPPED = "dcgan-faces64"


def row(label: str, G, judge, rates_real: dict, f_real: torch.Tensor, n: int) -> dict:
    fake = generate(G, sample_z(n, G.latent_dim, FIDELITY_SEED))
    rates_fake = attribute_rates(judge, fake)
    gaps = largest_gaps(rates_real, rates_fake)
    worst = max(gaps, key=gaps.get)
    out = {"generator": label}
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
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    snapshots = kept_snapshots(args.run)
    if not snapshots:
        raise SystemExit(f"error: no snapshots in {args.run}/snapshots; train with --keep-every N")
    shipped_entry = pretrained.info(SHIPPED)
    for meta in stepped_files(args.run / SNAPSHOTS, ".json").values():   # the snapshots' own records
        recorded = json.loads(meta.read_text())
        if recorded["recipe"] != shipped_entry["recipe"] or recorded["config"] != shipped_entry["config"]:
            raise SystemExit(f"error: {meta} was trained with recipe {recorded['recipe']!r} and another "
                             f"config than {SHIPPED}; this table compares runs of the same command")
    judge = pretrained.load(JUDGE)
    real, _ = data.faces(args.n, seed=HELD_OUT_SEED)
    rates_real = attribute_rates(judge, real)
    f_real = judge_features(judge, real)
    reference = {"generator": f"held-out real faces (n = {args.n})"}
    for name in data.FACE_BINARY:
        reference[f"{name} (%)"] = round(100 * float(rates_real[name][1]), 1)
    reference.update({"largest gap (points)": 0.0, "in": "—", "attributes within 10 points": "—",
                      "Fréchet distance": 0.0})
    shipped = pretrained.load(SHIPPED).eval()
    rows = [reference]
    for step, path in snapshots.items():
        G = load_weights(copy.deepcopy(shipped), load_file(str(path))).eval()
        rows.append(row(f"{args.run.name}, step {step:,}", G, judge, rates_real, f_real, args.n))
        print(rows[-1], flush=True)
    rows.append(row(f"{SHIPPED} (shipped), step {pretrained.info(SHIPPED)['steps']:,}", shipped, judge,
                    rates_real, f_real, args.n))
    save("dcgan_training", {
        "fidelity": (f"The faces judge on {args.n} generated faces at each step against {args.n} held-out "
                     "real faces (binary attributes: rate of 'yes')", rows),
    }, checkpoints=[SHIPPED, JUDGE], notes={
        "run": str(args.run), "snapshots": list(snapshots),
        "shipped command": pretrained.info(SHIPPED)["command"]})


if __name__ == "__main__":
    main()
