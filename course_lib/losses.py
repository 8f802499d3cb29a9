"""The GAN losses of the course, each written once.

Every adversarial model here trains with one of two objectives, on a discriminator's raw
scores (logits) ``D(x)``:

- ``"logistic"``: the original minimax game of Goodfellow et al. 2014, ``log D(x) +
  log(1 − D(G(z)))`` for the discriminator, with the *non-saturating* generator loss
  ``−log D(G(z))`` that the same paper recommends (Sec. 3). With ``D = sigmoid(logit)``,
  ``−log D = softplus(−logit)`` and ``−log(1 − D) = softplus(logit)``. DCGAN, StyleGAN and
  GLCIC use it.
- ``"hinge"``: ``max(0, 1 − D(x)) + max(0, 1 + D(G(z)))`` for the discriminator and
  ``−D(G(z))`` for the generator (Lim & Ye 2017; Miyato et al. 2018). SPADE uses it.

:func:`r1_penalty` is the gradient penalty on real images of Mescheder et al. 2018
(StyleGAN's regulariser). :func:`perceptual_distance` compares images by a network's feature
maps instead of pixels (Johnson et al. 2016; Image2StyleGAN's perceptual loss).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

__all__ = ["KINDS", "discriminator_loss", "generator_loss", "r1_penalty", "perceptual_distance"]

KINDS = ("logistic", "hinge")


def _kind(kind: str, who: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"{who}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       kind: str = "logistic") -> torch.Tensor:
    """The discriminator's loss on its logits for real and generated images (a scalar)."""
    if _kind(kind, "discriminator_loss") == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "logistic") -> torch.Tensor:
    """The generator's loss on the discriminator's logits for its images (a scalar):
    the non-saturating ``−log D(G(z))``, or the hinge generator loss ``−D(G(z))``."""
    if _kind(kind, "generator_loss") == "hinge":
        return -fake_logits.mean()
    return F.softplus(-fake_logits).mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """``E ||∇_x D(x)||²`` over real images (Mescheder et al. 2018); ``real_images`` must have
    required grad before ``real_logits`` were computed. Multiply by ``gamma / 2``."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return grad.pow(2).sum(dim=(1, 2, 3)).mean()


def perceptual_distance(features: Callable[[torch.Tensor], Sequence[torch.Tensor]], a: torch.Tensor,
                        b: torch.Tensor) -> torch.Tensor:
    """Image2StyleGAN's perceptual loss: the mean squared difference of feature maps, summed
    over the layers that ``features`` returns (one value per image pair)."""
    fa, fb = features(a), features(b)
    return sum(((x - y) ** 2).flatten(1).mean(1) for x, y in zip(fa, fb))
