"""Lecture 04's ablation: which part of GLCIC's loss does the work, at one equal budget.

    python benchmarks/bench_glcic_ablation.py [--n 200] [--processes 1]

Four shipped completion networks, ``glcic-ablation-{mse,global,local,both}``, each trained by
``python -m course_lib.train glcic --config ablation-<which> --steps 1500`` (the commands are in
the manifest): every one starts from the same shipped phase-Tc network
(``glcic-landscapes128-mse``, 2,000 steps of the MSE at batch 8) and continues it for the same
steps at the same batch. ``mse`` keeps the MSE alone; ``global``, ``local`` and ``both`` add the
adversarial term of Eq. 3 with the global discriminator, the local one, or both (the paper). So
the rows differ in the completion loss, not in the budget. One difference in the budget remains,
and it favours the MSE alone: the adversarial three spend their first ``td_steps`` (100) training
the discriminators alone (the paper's phase Td), so their completion networks take that many
fewer updates.

Measured on the held-out scenes and holes of ``bench_glcic.py`` (seed 10000), on the network's
own output (no Poisson blending, which would hide the difference at the hole's border), inside
the holes: PSNR, SSIM, the segmenter's pixel accuracy and the high-frequency (Laplacian) energy
relative to the real image; and over the whole completed images, the Fréchet distance to the
real images in the segmenter's features (a judge no network trained against). The starting
network and biharmonic inpainting are reference rows.

Writes ``benchmarks/results/glcic_ablation.json`` (tables ``methods`` and ``budget``).
"""

import argparse

import torch
from bench_glcic import MSE_ONLY, SEGMENTER, _row, scenes
from common import save

from course_lib import data, pretrained
from course_lib.glcic import complete
from course_lib.inpainting import biharmonic_fill, compare_fillers
from course_lib.judges import segmenter_features
from course_lib.metrics import frechet_distance

VARIANTS = {"glcic-ablation-mse": "MSE only",
            "glcic-ablation-global": "MSE + global discriminator",
            "glcic-ablation-local": "MSE + local discriminator",
            "glcic-ablation-both": "MSE + global + local (GLCIC)"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--processes", type=int, default=1, help="for biharmonic inpainting")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    images, labels, masks = scenes(args.n, data.HELD_OUT_SEED)
    segmenter = pretrained.load(SEGMENTER)
    filled = {}

    def keep(name, fill):
        """``fill``, remembering its output for the Fréchet distance."""
        def run(x, m):
            filled[name] = fill(x, m)
            return filled[name]
        return run

    start = f"the start: phase Tc (MSE, {pretrained.info(MSE_ONLY)['steps']:,} steps)"
    nets = {start: pretrained.load(MSE_ONLY),
            **{title: pretrained.load(name) for name, title in VARIANTS.items()}}
    fills = {"biharmonic (scikit-image)": lambda x, m: biharmonic_fill(x, m, processes=args.processes),
             **{title: (lambda x, m, net=net: complete(net, x, m, blend=False))
                for title, net in nets.items()}}
    fillers = {name: keep(name, fill) for name, fill in fills.items()}
    rows = compare_fillers(fillers, images, labels, masks, segmenter)

    real_features = segmenter_features(segmenter, images)
    methods = []
    for r in rows:
        row = _row("method", r)
        row["Fréchet distance to real (segmenter features)"] = (
            0.0 if r["method"] == "real" else
            round(frechet_distance(segmenter_features(segmenter, filled[r["method"]]), real_features), 3))
        methods.append(row)

    base = pretrained.info(MSE_ONLY)
    budget = [{"network": "the start (phase Tc)", "checkpoint": MSE_ONLY, "steps": base["steps"],
               "batch": base["settings"]["batch_size"], "train seconds": base["train_seconds"],
               "hardware": base["hardware"]}]
    for name, title in VARIANTS.items():
        info = pretrained.info(name)
        budget.append({"network": f"{title}: + steps after the start", "checkpoint": name,
                       "steps": info["steps"], "batch": info["settings"]["batch_size"],
                       "train seconds": info["train_seconds"], "hardware": info["hardware"]})
    cover = masks.mean((1, 2, 3))
    save("glcic_ablation", {
        "methods": (f"Measured in the holes of {args.n} held-out landscapes at 128 px (seed "
                    f"{data.HELD_OUT_SEED}; 1-3 holes covering {cover.mean():.1%} on average), the "
                    "networks' own output (no Poisson blending)", methods),
        "budget": ("The budget: every ablation continues the same start for the same steps at the "
                   "same batch", budget),
    }, checkpoints=[SEGMENTER, MSE_ONLY, *VARIANTS], notes={
        "real": "the first row is the real images: their hole PSNR is infinite (left empty)"})


if __name__ == "__main__":
    main()
