"""Walking and doing arithmetic in a GAN's latent space (Radford et al. 2015, Sections 6.1 and 6.3).

The DCGAN paper shows that a trained generator's ``z`` space is organised:

- walking from one ``z`` to another changes the image smoothly, which argues
  against memorisation (:func:`interpolate`; :func:`course_lib.metrics.nearest_neighbours`);
- concepts are directions: the mean ``z`` of faces *with* an attribute minus
  the mean ``z`` of faces *without* it is an "attribute vector"
  (:func:`attribute_vector`) that adds the attribute to another face
  (:func:`apply`);
- vector arithmetic on such means works like word2vec's: "smiling woman -
  neutral woman + neutral man = smiling man" (:func:`arithmetic`). Single
  samples are noisy, so the paper averages ``z`` over 3 samples per concept.

Symbols -> code: ``z`` -> ``z`` (``N×nz``, :func:`sample_z`), ``G`` -> ``generator``, the
attribute vector ``v = mean(z | a) - mean(z | not a)`` -> :func:`attribute_vector`,
``z + s v`` -> :func:`apply` with ``strength=s``; how many faces ``z + s v`` can carry across
at best, were the attribute a half-space of ``z`` -> :func:`transfer_ceiling`.

A StyleGAN (:mod:`course_lib.stylegan`) is edited in its intermediate space ``W``, which
Karras et al. 2019 (Sec. 4) find less entangled than ``Z``: with ``space="w"``,
:func:`find_latents` and :func:`attribute_vector` return ``w = f(z)`` instead of ``z``, and
:func:`apply` moves a ``w`` or a whole W+ code (``N×num_ws×w_dim``, e.g. an inverted real
face, :mod:`course_lib.inversion`) along such a vector, every layer alike. Image2StyleGAN's edits of
embedded images (Abdal et al. 2019, Sec. 6) are arithmetic on W+ codes too: :func:`morph`, the line
between two codes, and :func:`expression_transfer`, a per-layer difference added to a third code.
The widgets that show all of this are in :mod:`course_lib.widgets`.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import check_count, check_image, check_seed, describe
from .data import FACE_BINARY
from .layers import LatentGenerator, sample_z
from .runtime import eval_mode

__all__ = ["sample_z", "generate", "lerp", "slerp", "interpolate", "find_latents", "attribute_vector",
           "apply", "arithmetic", "attribute_transfer", "transfer_ceiling", "morph", "expression_transfer"]


@torch.no_grad()
def generate(generator: LatentGenerator, z: torch.Tensor, batch_size: int = 256,
             space: str = "z") -> torch.Tensor:
    """``G(z)`` (``generator.synthesize``; a StyleGAN with its fixed noise) in eval mode and in
    batches, on the generator's device; the images come back on the CPU. ``space``: the codes'
    space, ``"z"`` or one the generator also takes (``"w"``, ``"w+"`` for a StyleGAN)."""
    if not isinstance(generator, LatentGenerator):
        raise ValueError(f"generate: expected one of the course's generators (a layers.LatentGenerator), "
                         f"got {type(generator).__name__}")
    generator.check_space(space, "generate")
    dev = next(generator.parameters()).device
    with eval_mode(generator):
        out = [generator.synthesize(z[i:i + batch_size].to(dev), space).float().cpu()
               for i in range(0, len(z), batch_size)]
    return check_image(torch.cat(out), "generated images")


def _latent(z: torch.Tensor, who: str, plus: bool = False) -> torch.Tensor:
    """``z`` as a batch ``N×nz``; with ``plus``, a W+ code ``N×num_ws×w_dim`` is also accepted."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise ValueError(f"{who}: expected a float tensor of latent vectors, got {type(z).__name__}")
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 and not (plus and z.ndim == 3):
        also = " or a W+ code (N×num_ws×w_dim)" if plus else ""
        raise ValueError(f"{who}: expected a latent vector (nz) or a batch (N×nz){also}, "
                         f"got {tuple(z.shape)}")
    return z


def _fractions(t, like: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    return t.reshape(-1, 1) if t.ndim else t.reshape(1, 1)


def lerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """The straight line ``(1 - t) z0 + t z1``; ``t`` a number or a vector of fractions."""
    z0, z1 = _latent(z0, "lerp(z0)"), _latent(z1, "lerp(z1)")
    t = _fractions(t, z0)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """Spherical interpolation: along the great circle from ``z0`` to ``z1`` (White 2016).

    In high dimensions a Gaussian ``z`` lies near a sphere of radius ``sqrt(nz)``;
    the straight line cuts through its inside, where the generator saw no
    training samples, while slerp stays at the typical radius.
    """
    z0, z1 = _latent(z0, "slerp(z0)"), _latent(z1, "slerp(z1)")
    t = _fractions(t, z0)
    cos = (z0 * z1).sum(1, keepdim=True) / (z0.norm(dim=1, keepdim=True) * z1.norm(dim=1, keepdim=True))
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    sin = torch.sin(omega)
    if bool((sin.abs() < 1e-6).any()):            # (anti)parallel vectors: fall back to the line
        return lerp(z0, z1, t)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / sin


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int = 8, mode: str = "slerp") -> torch.Tensor:
    """``steps`` latent vectors from ``z0`` to ``z1`` (both ends included): ``steps×nz``."""
    steps = check_count(steps, "interpolate(steps)")
    if steps < 2:
        raise ValueError(f"interpolate(steps): expected at least 2 steps (both ends), got {steps}")
    if mode not in ("slerp", "lerp"):
        raise ValueError(f"interpolate(mode): expected 'slerp' or 'lerp', got {mode!r}")
    z0, z1 = _latent(z0, "interpolate(z0)"), _latent(z1, "interpolate(z1)")
    if len(z0) != 1 or len(z1) != 1 or z0.shape != z1.shape:
        raise ValueError(f"interpolate: expected two single latent vectors of the same length, got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}")
    t = torch.linspace(0, 1, steps)
    return (slerp if mode == "slerp" else lerp)(z0, z1, t)


def _binary_attribute(attribute: str, judge: nn.Module) -> str:
    if attribute not in getattr(judge, "heads", {}):
        raise ValueError(f"unknown attribute {attribute!r}; the judge reads {', '.join(judge.heads)}")
    return attribute


def _edit_space(generator: nn.Module, space: str, who: str) -> str:
    """``space``, if attribute vectors can be found there: ``"z"``, or ``"w"`` for a generator
    that has a W space (a StyleGAN)."""
    if not isinstance(generator, LatentGenerator):
        raise ValueError(f"{who}: expected one of the course's generators (a layers.LatentGenerator), "
                         f"got {type(generator).__name__}")
    if space not in ("z", "w") or space not in generator.spaces:
        raise ValueError(f"{who}: space must be 'z', or 'w' for a StyleGAN; got {space!r} for a "
                         f"{type(generator).__name__}")
    return space


@torch.no_grad()
def _to_space(generator: nn.Module, z: torch.Tensor, space: str) -> torch.Tensor:
    """``z`` itself, or (``space="w"``) the StyleGAN's ``w = f(z)``, on the CPU."""
    if space == "z":
        return z
    return generator.mapping(z.to(next(generator.parameters()).device)).float().cpu()


def _judged_pool(generator: nn.Module, judge: nn.Module, pool: int, seed: int, space: str = "z"):
    """``pool`` latent vectors drawn from ``seed`` (in ``space``) and what ``judge`` reads in their faces."""
    pool = check_count(pool, "pool")
    z = sample_z(pool, generator.latent_dim, check_seed(seed, "seed"))
    predicted = {k: v.cpu() for k, v in judge.predict(generate(generator, z)).items()}
    return _to_space(generator, z, space), predicted


def _select(z: torch.Tensor, predicted: dict, n: int, wanted: dict) -> torch.Tensor:
    keep = torch.ones(len(z), dtype=torch.bool)
    for name, value in wanted.items():
        keep &= predicted[name] == value
    if int(keep.sum()) < n:
        raise ValueError(f"find_latents: only {int(keep.sum())} of {len(z)} faces show {wanted}; "
                         f"need {n} (raise pool or lower n)")
    return z[keep][:n]


def find_latents(generator: nn.Module, judge: nn.Module, n: int, pool: int = 1000, seed: int = 0,
                 space: str = "z", **wanted: int) -> torch.Tensor:
    """The first ``n`` of ``pool`` latent vectors (drawn from ``seed``) whose faces ``judge``
    reads with the ``wanted`` attribute values, e.g. ``glasses=1, hat=0``: ``n×nz``, or with
    ``space="w"`` (a StyleGAN) their ``w``, ``n×w_dim``."""
    n = check_count(n, "find_latents(n)")
    _edit_space(generator, space, "find_latents")
    for name in wanted:
        _binary_attribute(name, judge)
    return _select(*_judged_pool(generator, judge, pool, seed, space), n, wanted)


def attribute_vector(generator: nn.Module, judge: nn.Module, attribute: str, n: int = 3,
                     pool: int = 1000, seed: int = 0, space: str = "z") -> torch.Tensor:
    """The paper's concept vector: ``mean(z with attribute) - mean(z without)``, length ``nz``.

    Averages ``n`` latent vectors whose faces ``judge`` reads with ``attribute``
    and ``n`` whose faces it reads without (both from the same ``pool``, judged
    once). The paper uses ``n = 3``; a larger ``n`` averages away everything the
    chosen faces share by chance. With ``space="w"`` (a StyleGAN) the means are of
    ``w = f(z)``: a vector of length ``w_dim`` that :func:`apply` adds to a ``w`` or W+ code.
    """
    n = check_count(n, "attribute_vector(n)")
    _edit_space(generator, space, "attribute_vector")
    _binary_attribute(attribute, judge)
    z, predicted = _judged_pool(generator, judge, pool, seed, space)
    with_ = _select(z, predicted, n, {attribute: 1})
    without = _select(z, predicted, n, {attribute: 0})
    return with_.mean(0) - without.mean(0)


def apply(z: torch.Tensor, vector: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Move ``z`` along ``vector``: ``z + strength * vector``.

    ``z`` is ``nz``, ``N×nz``, or a W+ code ``N×num_ws×w_dim``, which a W vector (``w_dim``)
    moves at every layer alike.
    """
    z = _latent(z, "apply(z)", plus=True)
    if not isinstance(vector, torch.Tensor) or vector.ndim == 0 or vector.numel() != vector.shape[-1]:
        raise ValueError(f"apply: expected one vector of length {z.shape[-1]}, got {describe(vector)}")
    if vector.shape[-1] != z.shape[-1]:
        raise ValueError(f"apply: z has length {z.shape[-1]} but the vector {vector.shape[-1]}")
    return z + float(strength) * vector.reshape(-1).to(z)


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """"A - B + C" on latent vectors. Each argument is one ``z`` or a few (``k×nz``),
    which are averaged first, as the paper does with 3 samples per concept."""
    a, b, c = (_latent(v, f"arithmetic({name})").mean(0) for v, name in ((a, "a"), (b, "b"), (c, "c")))
    if not a.shape == b.shape == c.shape:
        raise ValueError(f"arithmetic: latent lengths differ: {a.shape[0]}, {b.shape[0]}, {c.shape[0]}")
    return (a - b + c)[None]


@torch.no_grad()
def attribute_transfer(generator: nn.Module, judge: nn.Module, vector: torch.Tensor, attribute: str,
                       strength: float = 1.0, n: int = 200, seed: int = 1) -> dict[str, float]:
    """Add ``vector`` to ``n`` generated faces that lack ``attribute``; measure with ``judge``.

    Returns ``{"gained": rate of faces that now show the attribute, "<other>":
    rate at which each other binary attribute kept its value}``. The faces are
    drawn from ``seed``; use a seed the vector was not built from.
    """
    attribute = _binary_attribute(attribute, judge)
    n = check_count(n, "attribute_transfer(n)")
    z = sample_z(20 * n, generator.latent_dim, check_seed(seed, "attribute_transfer(seed)"))
    before = judge.predict(generate(generator, z))
    lacking = (before[attribute] == 0).nonzero().flatten()[:n]
    if len(lacking) < n:
        raise ValueError(f"attribute_transfer: only {len(lacking)} of {len(z)} faces lack {attribute}")
    after = judge.predict(generate(generator, apply(z[lacking], vector, strength)))
    result = {"gained": float((after[attribute] == 1).float().mean())}
    for other in FACE_BINARY:
        if other != attribute and other in after:
            result[other] = float((after[other] == before[other][lacking]).float().mean())
    return result


def transfer_ceiling(prevalence: float, strength: float = 1.0) -> float:
    """The best :func:`attribute_transfer` can do when the attribute is a half-space of ``z``.

    The linear picture behind the paper's arithmetic: a face shows the attribute when the
    projection ``u`` of its ``z ~ N(0, I)`` on some unit direction exceeds a threshold
    ``t = Φ⁻¹(1 - p)``, ``p`` the attribute's ``prevalence`` among generated faces. The mean
    difference :func:`attribute_vector` then points along that direction with length
    ``Δ = φ(t) / (p (1 - p))`` (about 1.6 at ``p = 0.5``), and a face that lacks the attribute
    (``u < t``) gains it when ``u + strength·Δ > t``::

        ceiling = (Φ(t) - Φ(t - strength·Δ)) / Φ(t)

    It is below 1 because ``u`` has a Gaussian tail: faces far from the boundary do not cross
    it. At ``p = 0.5`` and strength 1 it is 88.9%; a generator whose attributes are perfectly
    linear in ``z`` reaches it (tests/test_latent.py), one whose attributes are not stays below.
    """
    p = float(prevalence)
    if not 0.0 < p < 1.0:
        raise ValueError(f"transfer_ceiling: prevalence must be strictly between 0 and 1, got {p}")
    normal = torch.distributions.Normal(0.0, 1.0)
    t = normal.icdf(torch.tensor(1.0 - p, dtype=torch.float64))
    delta = normal.log_prob(t).exp() / (p * (1.0 - p))
    below = normal.cdf(t)
    return float((below - normal.cdf(t - float(strength) * delta)) / below)


# ----------------------------------------------------------------- W+ codes (Image2StyleGAN, Sec. 6)

def _check_codes(generator: nn.Module, codes: dict[str, torch.Tensor], who: str) -> list[torch.Tensor]:
    """Each code as ``N×num_ws×w_dim`` (a ``w`` is broadcast, a single code repeated N times)."""
    out = [generator.as_w_plus(c, f"{who}({name})") for name, c in codes.items()]
    sizes = {c.shape[0] for c in out} - {1}
    if len(sizes) > 1:
        raise ValueError(f"{who}: the codes need the same N (or 1), got "
                         + ", ".join(f"{name} {describe(c)}" for name, c in codes.items()))
    n = sizes.pop() if sizes else 1
    return [c.expand(n, -1, -1) for c in out]


def morph(generator: nn.Module, w_a: torch.Tensor, w_b: torch.Tensor, t: float) -> torch.Tensor:
    """Image2StyleGAN's morphing (Abdal et al. 2019, Sec. 6.1): the straight line
    ``(1 - t) w_a + t w_b`` between two codes, at every layer (:func:`lerp` on W+ codes)."""
    a, b = _check_codes(generator, {"w_a": w_a, "w_b": w_b}, "morph")
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise ValueError(f"morph: t must be a number (0: w_a, 1: w_b), got {t!r}")
    return lerp(a.flatten(1), b.flatten(1), t).view_as(a)


def expression_transfer(generator: nn.Module, w_plus: torch.Tensor, neutral: torch.Tensor,
                        expressive: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Image2StyleGAN's expression transfer (Sec. 6.3): ``w_plus + strength (expressive - neutral)``.

    ``expressive`` and ``neutral`` are the embeddings of two images of one face that differ in the
    expression (smiling, not smiling); their W+ difference, one vector *per layer*, is added to a
    third embedding. (:func:`apply` adds one W vector to every layer alike.)
    """
    code, a, b = _check_codes(generator, {"w_plus": w_plus, "neutral": neutral,
                                          "expressive": expressive}, "expression_transfer")
    if isinstance(strength, bool) or not isinstance(strength, (int, float)):
        raise ValueError(f"expression_transfer: strength must be a number, got {strength!r}")
    return code + float(strength) * (b - a)
