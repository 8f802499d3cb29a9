"""How fast one StyleGAN training step is on this CPU, and how big the networks are.

    OMP_NUM_THREADS=1 python benchmarks/bench_stylegan_speed.py [--preset course] [--batch-size 32]
        [--steps 6] [--threads 1]

Times :meth:`StyleGANRecipe.training_step` (G forward, D on real and fake, both backward
passes, both Adam steps, the EMA update) on random images, separately for plain steps and for
lazy-R1 steps. Writes ``benchmarks/results/stylegan_speed.json`` and prints its tables:
``size`` (the parameter counts of the modules) and ``step`` (the median seconds per step; the
average over a run is ``plain + (r1 - plain) / r1_every``).
"""

import argparse
import dataclasses
import statistics
import time

import torch

from common import save

from course_lib.stylegan import StyleGANRecipe, channels_at


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="course")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=6, help="timed steps of each kind (after 1 warm-up)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    recipe = StyleGANRecipe()
    config = recipe.presets[args.preset]
    torch.manual_seed(0)
    modules = recipe.build(config)
    optimizers = recipe.optimizers(modules, config)
    G = modules["generator"]
    res = [2 ** k for k in range(2, config.image_size.bit_length())]
    architecture = (f"{config.image_size} px, z/w {config.z_dim}/{config.w_dim}, num_ws {G.num_ws}, "
                    "channels " + ", ".join(f"{r}:{channels_at(config, r)}" for r in res))
    size = [{"module": name, "parameters": sum(p.numel() for p in m.parameters())}
            for name, m in modules.items()]
    size.append({"module": "generator's mapping network",
                 "parameters": sum(p.numel() for p in G.mapping.parameters())})

    g = torch.Generator().manual_seed(0)
    px = config.image_size
    batch = {"image": torch.rand(args.batch_size, 3, px, px, generator=g) * 2 - 1}

    def timed(step: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        recipe.training_step(modules, optimizers, batch, step, config)
        return time.perf_counter() - wall, time.process_time() - cpu

    every = config.r1_every
    timed(1)                                                # warm-up
    plain = [timed(1 + i % (every - 1)) for i in range(args.steps)]
    r1 = [timed(every * (i + 1)) for i in range(max(1, args.steps // 3))]
    # wall-clock time is what a run takes here and now; the process's CPU time is what it would
    # take on an otherwise idle core (with one thread, wall >> CPU means other jobs share the core)
    step = []
    for k, what in enumerate(("wall-clock", "CPU time")):
        p_med, r_med = statistics.median(t[k] for t in plain), statistics.median(t[k] for t in r1)
        step.append({"clock": what, "plain step (s)": round(p_med, 3), "R1 step (s)": round(r_med, 3),
                     "mean over a run (s/step)": round(p_med + (r_med - p_med) / every, 3)})
    save("stylegan_speed", {
        "size": (f"StyleGAN preset {args.preset!r}: parameters ({architecture})", size),
        "step": (f"One training step, preset {args.preset!r}: medians of {len(plain)} plain and {len(r1)} "
                 f"R1 steps (batch {args.batch_size}, {torch.get_num_threads()} torch threads, "
                 f"R1 every {every} steps)", step),
    }, notes={
        "architecture": architecture,
        "settings": dataclasses.asdict(recipe.settings.get(args.preset, recipe.settings["course"])),
        "clocks": "wall-clock: what a run takes here and now; CPU time: what it would take on an "
                  "otherwise idle core (with one thread, wall >> CPU means other jobs share the core)",
    })


if __name__ == "__main__":
    main()
