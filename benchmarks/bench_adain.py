"""Issue 16's numbers for AdaIN (lecture 05), with the shipped checkpoints.

    python benchmarks/bench_adain.py [--pairs 20] [--gatys-runs 5] [--looks 200] [--threads 2]

1. **Speed against Gatys** at 256 px: AdaIN's feed-forward transfer (encode content and style,
   AdaIN, decode) on ``--pairs`` content-style pairs, against Gatys' pixel optimisation run to
   convergence (the loss improves by less than 1% over 20 iterations) on the first
   ``--gatys-runs`` of them (each takes minutes on a CPU).
2. **Figure 3 in miniature**: Gatys' content and style losses against iterations (mean over its
   runs), AdaIN's losses on the same pairs as constants; AdaIN's style loss against Gatys'
   converged value.
3. **Unseen styles**: the mean style loss on held-out style families against trained ones.
4. **Looks**: held-out landscapes restyled by a reference landscape in another look; how often
   ``landscape-looks`` reads the reference's look, and the segmenter's mIoU on the results
   against the contents' label maps, relative to its mIoU on the contents themselves.
5. **Widget latency**: the α slider's redraw at 256 px (decode plus PNG), median.

Writes ``benchmarks/results/adain.json`` (:func:`common.save`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from common import mark, median_ms, save

from course_lib import adain, data, pretrained
from course_lib.metrics import psnr, segmentation_scores
from course_lib.widgets import alpha_widget

#: the shipped checkpoints measured: the network (its decoder trained against the encoder, whose
#: weights it carries), and the two judges of the looks experiment
NET, ENCODER = "adain-worlds128", "adain-encoder"
LOOKS_JUDGE, SEGMENTER = "landscape-looks", "segmenter-landscapes128"
#: Huang and Belongie 2017, Table 1 (a Pascal Titan X GPU; Gatys et al. 500 iterations;
#: in brackets there, with the style image's encoding included)
PAPER_SECONDS = {256: {"gatys": 14.17, "adain": 0.018}, 512: {"gatys": 46.75, "adain": 0.065}}
FIG3_AT = (0, 5, 10, 20, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000)


def contents(n: int, size: int, seed: int) -> torch.Tensor:
    """Held-out contents: landscapes, faces and photographs in turn."""
    lands, _, _ = data.landscapes(n, size=size, seed=seed)
    faces, _ = data.faces(n, size=size, seed=seed)
    photos = torch.cat(list(data.photos(size=size).values()))
    pool = [lands, faces, photos]
    return torch.stack([pool[i % 3][(i // 3) % len(pool[i % 3])] for i in range(n)])


def style_images(n: int, size: int, seed: int, families) -> tuple[torch.Tensor, list[str]]:
    return data.styles(n, size=size, seed=seed, families=families)


def speed_and_figure3(net, args):
    size = args.size
    c = contents(args.pairs, size, data.HELD_OUT_SEED)
    s, fams = style_images(args.pairs, size, data.HELD_OUT_SEED, data.TRAINED_FAMILIES)
    adain_ms = [median_ms(lambda i=i: adain.stylize(net, c[i:i + 1], s[i:i + 1]), repeat=5)
                for i in range(args.pairs)]
    out = adain.stylize(net, c, s)
    ada = adain.losses(net, c, s, out)
    runs = []
    for i in range(args.gatys_runs):
        run = adain.gatys(net, c[i:i + 1], s[i:i + 1], max_steps=args.gatys_max_steps, lr=args.gatys_lr)
        runs.append(run)
        print(f"gatys {i}: {run.iterations} iterations, {run.seconds:.1f} s, converged {run.converged}, "
              f"style {run.style_losses[-1]:.4g} (AdaIN {float(ada['style'][i]):.4g})", flush=True)
    gatys_s = statistics.median(r.seconds for r in runs)
    adain_s = statistics.median(adain_ms) / 1e3
    ratio = gatys_s / adain_s
    speed = [
        {"method": f"AdaIN (feed-forward), {args.pairs} pairs", "where": f"this CPU, {args.threads} threads",
         "size_px": size, "seconds": round(adain_s, 4), "gatys_over_adain": "", "bar": "", "pass": ""},
        {"method": f"Gatys (Adam to convergence), {len(runs)} pairs",
         "where": f"this CPU, {args.threads} threads",
         "size_px": size, "seconds": round(gatys_s, 2), "gatys_over_adain": round(ratio, 1),
         "bar": "≥ 100×", "pass": mark(ratio >= 100)},
    ]
    for px, paper in PAPER_SECONDS.items():
        speed.append({"method": "paper: AdaIN / Gatys (500 iterations)", "where": "Pascal Titan X GPU",
                      "size_px": px, "seconds": f"{paper['adain']} / {paper['gatys']}",
                      "gatys_over_adain": round(paper["gatys"] / paper["adain"], 1), "bar": "", "pass": ""})

    def at(curve, k):
        return curve[min(k, len(curve) - 1)]

    ada_c = float(ada["content"][:len(runs)].mean())
    ada_s = float(ada["style"][:len(runs)].mean())
    longest = max(r.iterations for r in runs)
    fig3 = [{"iteration": k,
             "gatys_content": statistics.mean(at(r.content_losses, k) for r in runs),
             "gatys_style": statistics.mean(at(r.style_losses, k) for r in runs),
             "adain_content": ada_c, "adain_style": ada_s}
            for k in FIG3_AT if k < longest] + [
            {"iteration": longest - 1,
             "gatys_content": statistics.mean(r.content_losses[-1] for r in runs),
             "gatys_style": statistics.mean(r.style_losses[-1] for r in runs),
             "adain_content": ada_c, "adain_style": ada_s}]
    converged_style = statistics.mean(r.style_losses[-1] for r in runs)
    summary = [{"measure": "style loss, AdaIN / converged Gatys (same pairs)",
                "adain": ada_s, "gatys": converged_style, "ratio": ada_s / converged_style,
                "bar": "≤ 2", "pass": mark(ada_s / converged_style <= 2)},
               {"measure": "content loss, AdaIN / converged Gatys (same pairs)",
                "adain": ada_c, "gatys": statistics.mean(r.content_losses[-1] for r in runs),
                "ratio": ada_c / statistics.mean(r.content_losses[-1] for r in runs), "bar": "", "pass": ""},
               {"measure": "Gatys iterations to convergence (median)", "adain": "",
                "gatys": statistics.median(r.iterations for r in runs), "ratio": "", "bar": "",
                "pass": "converged" if all(r.converged for r in runs) else "not all converged"}]
    return speed, fig3, summary


def unseen(net, args):
    size, n = 128, args.unseen
    c = contents(n, size, data.HELD_OUT_SEED + 2)
    rows, means = [], {}
    for group, fams in (("trained", data.TRAINED_FAMILIES), ("held out", data.HELD_OUT_FAMILIES)):
        s, names = style_images(n, size, data.HELD_OUT_SEED + 2, fams)
        loss = adain.losses(net, c, s, adain.stylize(net, c, s))["style"]
        means[group] = float(loss.mean())
        for fam in fams:
            pick = torch.tensor([name == fam for name in names])
            rows.append({"family": fam, "group": group, "pairs": int(pick.sum()),
                         "style_loss": float(loss[pick].mean())})
    ratio = means["held out"] / means["trained"]
    rows.append({"family": "all held-out / all trained", "group": "ratio", "pairs": n,
                 "style_loss": ratio})
    summary = {"measure": "mean style loss, held-out families / trained families", "value": ratio,
               "bar": "≤ 1.5", "pass": mark(ratio <= 1.5)}
    return rows, summary


def looks(net, args):
    n, looks_ = args.looks, data.LANDSCAPE_STYLES
    judge = pretrained.load(LOOKS_JUDGE)
    segmenter = pretrained.load(SEGMENTER)
    content, labels, content_looks = data.landscapes(n, size=128, seed=data.HELD_OUT_SEED)
    layouts = data.landscapes(n, size=128, seed=data.HELD_OUT_SEED + 1)[1]
    # the reference: another held-out scene, in a look other than the content's
    ref_looks = [looks_[(looks_.index(lk) + 1 + i % 3) % 4] for i, lk in enumerate(content_looks)]
    reference = data.render_landscape(layouts, ref_looks, seed=data.HELD_OUT_SEED + 1)
    out = torch.cat([adain.stylize(net, content[i:i + 50], reference[i:i + 50]) for i in range(0, n, 50)])
    said = judge.predict(out)
    hit = float((said == torch.tensor([looks_.index(lk) for lk in ref_looks])).float().mean())
    judge_content = float((judge.predict(content) == torch.tensor([looks_.index(lk) for lk in content_looks]))
                          .float().mean())
    miou_out = segmentation_scores(segmenter.predict(out), labels)["mean_iou"]
    miou_in = segmentation_scores(segmenter.predict(content), labels)["mean_iou"]
    per_look = []
    for lk in looks_:
        pick = torch.tensor([r == lk for r in ref_looks])
        right = float((said[pick] == looks_.index(lk)).float().mean())
        counts = ", ".join(f"{looks_[k]} {int((said[pick] == k).sum())}" for k in range(4))
        per_look.append({"reference look": lk, "pairs": int(pick.sum()),
                         "judged as the reference's look": right, "judged as": counts})
    rows = [{"measure": "judge reads the reference's look on the result", "value": hit, "bar": "≥ 0.90",
             "pass": mark(hit >= 0.9)},
            {"measure": "judge reads the content's own look on the content (sanity)", "value": judge_content,
             "bar": "", "pass": ""},
            {"measure": "segmenter mIoU on the results", "value": miou_out, "bar": "", "pass": ""},
            {"measure": "segmenter mIoU on the contents", "value": miou_in, "bar": "", "pass": ""},
            {"measure": "mIoU ratio, results / contents", "value": miou_out / miou_in, "bar": "≥ 0.80",
             "pass": mark(miou_out / miou_in >= 0.8)}]
    return rows, per_look


def widget_latency(net, args):
    c = contents(3, 256, data.HELD_OUT_SEED + 3)[:1]
    s, _ = style_images(1, 256, data.HELD_OUT_SEED + 3, data.TRAINED_FAMILIES)
    box = alpha_widget(net, c, s)
    times = []
    for k in range(args.slider_moves):
        box.controls["alpha"].value = round(0.05 * ((k % 20) + 1), 2) if k % 20 != 19 else 0.0
        times.append(box.last_render_ms)
    med = statistics.median(times)
    return [{"measure": "α slider redraw at 256 px (decode + PNG), median", "ms": med,
             "moves": len(times), "bar": "< 100 ms", "pass": mark(med < 100)},
            {"measure": "full transfer at 256 px without the cache (encode both + decode)",
             "ms": median_ms(lambda: adain.stylize(net, c, s), repeat=10), "moves": "", "bar": "",
             "pass": ""}]


@torch.no_grad()
def diagnosis(net, args):
    """Why the quality bars are where they are: how much of the encoder is alive, and how well the
    decoder inverts it (``g(f(c))``, α = 0: the best any transfer can keep of the content)."""
    c = contents(48, 128, data.HELD_OUT_SEED + 3)
    feats = net.encoder(c)
    rows = []
    for name, f in zip(adain.STYLE_LAYERS, feats):
        dead = float((f.amax((0, 2, 3)) <= 0).float().mean())
        rows.append({"measure": f"{name}: channels never active on 48 held-out contents",
                     "value": f"{round(100 * dead)}% of {f.shape[1]}"})
    recon = adain.decode(net, adain.encode(net, c))
    scores = psnr(recon, c)
    seg = pretrained.load(SEGMENTER)
    lands, labels, _ = data.landscapes(16, size=128, seed=data.HELD_OUT_SEED + 3)
    own = segmentation_scores(seg.predict(lands), labels, num_classes=len(data.LANDSCAPE_CLASSES))
    back = segmentation_scores(seg.predict(adain.decode(net, adain.encode(net, lands))), labels,
                               num_classes=len(data.LANDSCAPE_CLASSES))
    rows += [{"measure": "decoder's reconstruction g(f(c)) of 48 held-out contents, median PSNR (dB)",
              "value": round(float(scores.median()), 2)},
             {"measure": "segmenter mIoU on 16 landscapes' reconstructions g(f(c)), relative to the "
                         "landscapes themselves", "value": round(back["mean_iou"] / own["mean_iou"], 3)}]
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--gatys-runs", type=int, default=5)
    p.add_argument("--gatys-max-steps", type=int, default=2000)
    p.add_argument("--gatys-lr", type=float, default=0.02)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--unseen", type=int, default=96)
    p.add_argument("--looks", type=int, default=200)
    p.add_argument("--slider-moves", type=int, default=40)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    net = pretrained.load(NET)
    started = time.perf_counter()
    latency = widget_latency(net, args)
    looks_rows, per_look = looks(net, args)
    unseen_rows, unseen_summary = unseen(net, args)
    speed, fig3, fig3_summary = speed_and_figure3(net, args)
    why = diagnosis(net, args)
    save("adain", {
        "speed": ("Speed: AdaIN's feed-forward transfer against Gatys' optimisation", speed),
        "figure3": ("Figure 3 in miniature: losses against Gatys' iterations (AdaIN constant)", fig3),
        "figure3_summary": ("AdaIN's losses against Gatys' converged values", fig3_summary),
        "unseen": ("Style loss by family: trained against held-out families (128 px)", unseen_rows),
        "unseen_summary": ("Unseen styles", [unseen_summary]),
        "looks": ("Looks: held-out landscapes restyled by a landscape in another look (128 px)", looks_rows),
        "looks_by_reference": ("What the judge reads, by the reference's look", per_look),
        "widget": ("Widget latency", latency),
        "diagnosis": ("Why: the encoder's live channels and the decoder's reconstruction (α = 0)", why),
    }, checkpoints=[NET, ENCODER, LOOKS_JUDGE, SEGMENTER],
        notes={"threads": args.threads, "gatys": f"Adam, lr {args.gatys_lr}, from the content image, "
               "stopped when the loss improved by < 1% over 20 iterations",
               "seconds": round(time.perf_counter() - started)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
