"""Every measurement the course reports, written once.

Images are compared on the [0, 1] scale of the tensor convention's [-1, 1]:

- reconstruction: :func:`psnr`; inside holes: :func:`hole_psnr`, :func:`hole_ssim`,
  :func:`hf_energy_ratio` (fine detail, from :func:`laplacian_energy`) and
  :func:`hole_label_accuracy` (does a segmenter read the right classes there?);
- label maps: :func:`segmentation_scores` (pixel accuracy and mean IoU);
- distributions of features: :func:`frechet_distance` (FID's formula, Heusel et al. 2017, on
  the course's own judges' features);
- representations: :func:`linear_probe`, a linear classifier on frozen features (DCGAN, Sec. 5.1);
- memorisation: :func:`nearest_neighbours` in pixel space (DCGAN, Sec. 6.1);
- latent codes: :func:`distance_from_w`, how far a W+ code lies from a StyleGAN's W.

The networks that measure (a judge, a segmenter) are passed in: this module knows no model.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_count, check_image, check_labels, check_mask, describe

__all__ = ["psnr", "hole_psnr", "hole_ssim", "hole_label_accuracy", "laplacian_energy", "hf_energy_ratio",
           "segmentation_scores", "frechet_distance", "linear_probe", "nearest_neighbours",
           "distance_from_w"]


def _pair(real: torch.Tensor, filled: torch.Tensor, mask: torch.Tensor, who: str):
    real, filled = check_image(real, f"{who}(real)"), check_image(filled, f"{who}(filled)")
    if real.shape != filled.shape:
        raise ValueError(f"{who}: real {tuple(real.shape)} and filled {describe(filled)} differ in shape")
    mask = check_mask(mask, f"{who}(mask)", like=real).expand(len(real), -1, -1, -1)
    return real.float().cpu(), filled.float().cpu(), (mask > 0.5).float().cpu()


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image pair, on the [0, 1] scale: ``N`` values
    (:func:`hole_psnr` with the whole image as the hole)."""
    return hole_psnr(a, b, torch.ones_like(a[:, :1]))


def hole_psnr(real: torch.Tensor, filled: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PSNR in dB inside each image's hole, on the [0, 1] scale: ``N`` values."""
    real, filled, mask = _pair(real, filled, mask, "hole_psnr")
    se = (((real - filled) / 2) ** 2 * mask).sum((1, 2, 3))
    mse = se / (3 * mask.sum((1, 2, 3))).clamp_min(1)
    return 10 * torch.log10(1 / mse.clamp_min(1e-10))


def hole_ssim(real: torch.Tensor, filled: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """SSIM (Wang et al. 2004, scikit-image's 7×7 window) averaged over each hole's pixels: ``N``."""
    from skimage.metrics import structural_similarity

    real, filled, mask = _pair(real, filled, mask, "hole_ssim")
    out = []
    for a, b, m in zip(real, filled, mask):
        _, full = structural_similarity(a.permute(1, 2, 0).numpy(), b.permute(1, 2, 0).numpy(),
                                        channel_axis=-1, data_range=2.0, full=True)
        hole = m[0].numpy() > 0.5
        out.append(float(full[hole].mean()) if hole.any() else float("nan"))
    return torch.tensor(out)


def hole_label_accuracy(segmenter, filled: torch.Tensor, labels: torch.Tensor,
                        mask: torch.Tensor) -> float:
    """The fraction of hole pixels where ``segmenter.predict(filled)`` gives the true label."""
    filled = check_image(filled, "hole_label_accuracy(filled)")
    labels = check_labels(labels, "hole_label_accuracy(labels)")
    mask = check_mask(mask, "hole_label_accuracy(mask)", like=filled).expand(len(filled), -1, -1, -1)
    hole = mask[:, 0].cpu() > 0.5
    predicted = segmenter.predict(filled).cpu()
    return float((predicted == labels.cpu())[hole].float().mean())


def laplacian_energy(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum of the squared 5-point Laplacian over the hole's pixels whose four neighbours are
    also in the hole (so the seam at the border is not counted), per image: ``N``."""
    images, _, mask = _pair(images, images, mask, "laplacian_energy")
    lap = (4 * images[..., 1:-1, 1:-1] - images[..., :-2, 1:-1] - images[..., 2:, 1:-1]
           - images[..., 1:-1, :-2] - images[..., 1:-1, 2:])
    m = mask[..., 1:-1, 1:-1] * mask[..., :-2, 1:-1] * mask[..., 2:, 1:-1] * mask[..., 1:-1, :-2] \
        * mask[..., 1:-1, 2:]
    return (lap ** 2 * m).sum((1, 2, 3))


def hf_energy_ratio(real: torch.Tensor, filled: torch.Tensor, mask: torch.Tensor) -> float:
    """The high-frequency (Laplacian) energy inside the holes of ``filled`` over that of ``real``,
    summed over the batch: 1 means as much fine detail as the real image, 0 a flat fill."""
    real, filled, mask = _pair(real, filled, mask, "hf_energy_ratio")
    return float(laplacian_energy(filled, mask).sum() / laplacian_energy(real, mask).sum().clamp_min(1e-12))


def segmentation_scores(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int = 8,
                        where: torch.Tensor | None = None) -> dict[str, float]:
    """Pixel accuracy and mean IoU (over the classes present in ``labels`` or ``predicted``).

    ``where`` (``N×H×W`` or a mask ``N×1×H×W``, nonzero = counted) restricts both to some pixels.
    """
    predicted = check_labels(predicted, "predicted", num_classes)
    labels = check_labels(labels, "labels", num_classes)
    if predicted.shape != labels.shape:
        raise ValueError(f"segmentation_scores: predicted {tuple(predicted.shape)} and labels "
                         f"{tuple(labels.shape)} differ in shape")
    keep = torch.ones_like(labels, dtype=torch.bool) if where is None else \
        (where.reshape(labels.shape) > 0)
    p, t = predicted[keep], labels[keep]
    if t.numel() == 0:
        raise ValueError("segmentation_scores: no pixels selected")
    confusion = torch.bincount(t * num_classes + p, minlength=num_classes ** 2).view(num_classes, num_classes)
    inter = confusion.diag().double()
    union = confusion.sum(0).double() + confusion.sum(1).double() - inter
    present = union > 0
    return {"pixel_accuracy": float(inter.sum() / confusion.sum()),
            "mean_iou": float((inter[present] / union[present]).mean())}


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017):

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``

    FID computes it on Inception features; the course uses a judge's features.
    """
    a, b = (np.asarray(f.detach().double().cpu() if isinstance(f, torch.Tensor) else f, dtype=np.float64)
            for f in (features_a, features_b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance: expected two N×D feature matrices with the same D and "
                         f"N >= 2, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues of S_a^(1/2) S_b S_a^(1/2)), which is symmetric
    vals, vecs = np.linalg.eigh(s_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    cross = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_root)


def linear_probe(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                 test_labels: torch.Tensor, weight_decay: float = 1e-3, steps: int = 200) -> float:
    """Test accuracy of a linear classifier trained on frozen features: how much of a label a
    representation makes linearly readable (DCGAN, Sec. 5.1, with an L2-SVM; here an
    L2-regularised logistic regression, fitted by L-BFGS on the standardised features).

    ``*_features``: ``N×D``; ``*_labels``: ``N`` class indices (two or more classes)."""
    for name, f, y in (("train", train_features, train_labels), ("test", test_features, test_labels)):
        if not isinstance(f, torch.Tensor) or f.dim() != 2 or not isinstance(y, torch.Tensor) \
                or y.shape != (len(f),):
            raise ValueError(f"linear_probe: expected {name} features N×D and labels N, got "
                             f"{describe(f)} and {describe(y)}")
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(f"linear_probe: train and test features differ in width: "
                         f"{train_features.shape[1]} and {test_features.shape[1]}")
    x, xt = train_features.double(), test_features.double()
    mu, sd = x.mean(0), x.std(0).clamp_min(1e-6)
    x, xt = (x - mu) / sd, (xt - mu) / sd
    y, yt = train_labels.long(), test_labels.long()
    classes = int(max(y.max(), yt.max())) + 1
    w = torch.zeros(x.shape[1], classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, y) + weight_decay * (w ** 2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        return float(((xt @ w + b).argmax(1) == yt).double().mean())


def nearest_neighbours(queries: torch.Tensor, pool: torch.Tensor,
                       k: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query image, the ``k`` pool images closest in pixel space (root mean square).

    Returns ``(indices N×k, distances N×k)``. If generated samples were copies of
    training images, their nearest training images would be at distance ~0.
    """
    queries, pool = check_image(queries, "queries"), check_image(pool, "pool")
    if queries.shape[1:] != pool.shape[1:]:
        raise ValueError(f"nearest_neighbours: queries are {tuple(queries.shape[1:])}, "
                         f"the pool {tuple(pool.shape[1:])}")
    k = check_count(k, "nearest_neighbours(k)")
    d = torch.cdist(queries.flatten(1), pool.flatten(1)) / queries[0].numel() ** 0.5
    dist, idx = d.topk(min(k, len(pool)), dim=1, largest=False)
    return idx, dist


@torch.no_grad()
def distance_from_w(generator: nn.Module, w_plus: torch.Tensor, n: int = 4096,
                    seed: int = 0) -> dict[str, torch.Tensor]:
    """How far a W+ code lies from the codes a StyleGAN's mapping network produces, per image (``N``).

    - ``"to_mean"``: the mean over layers of ``|w_i - w̄|``, divided by the typical ``|f(z) - w̄|``
      of ``n`` sampled ``w`` (about 1 for a sampled face, 0 for the mean face);
    - ``"spread"``: the mean over layers of ``|w_i - mean_i w_i|`` on the same scale: 0 for a code in
      W (every layer the same ``w``), large when the layers disagree as no generated face does.

    An inversion in W+ can fit an image with codes far from both; edits learned on W (attribute
    vectors, morphs) then act on a part of the space the generator was never trained on.
    """
    code = generator.as_w_plus(w_plus, "distance_from_w")
    w = generator.sample_w(n, seed).to(code)
    mean = w.mean(dim=0, keepdim=True)            # generator.mean_w(n, seed), without mapping twice
    typical = (w - mean).norm(dim=1).mean()
    to_mean = (code - mean[:, None]).norm(dim=2).mean(1) / typical
    spread = (code - code.mean(1, keepdim=True)).norm(dim=2).mean(1) / typical
    return {"to_mean": to_mean, "spread": spread}
