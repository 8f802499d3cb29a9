"""GLCIC: Iizuka, Simo-Serra and Ishikawa 2017, "Globally and Locally Consistent Image
Completion" (ACM Transactions on Graphics 36(4), SIGGRAPH 2017).

A completion network fills a hole; two discriminators judge the result, one the whole
image (global consistency), one a patch around the hole (local detail):

- :class:`CompletionNetwork`: the image with its hole filled by the mean colour, plus the
  mask channel (:func:`network_input`) -> two stride-2 downsamplings (``encoder``) ->
  dilated 3×3 convolutions with rates 2, 4, 8, 16 (:func:`dilated_block`, the paper's
  way to see far without losing resolution) -> deconvolutions back to full size
  (``decoder``), output in [-1, 1];
- :class:`ContextDiscriminator`: :class:`GlobalDiscriminator` on the image and
  :class:`LocalDiscriminator` on the patch (:func:`crop_local`); their feature vectors
  are concatenated and one fully connected layer gives the logit of "real";
- :func:`random_holes`: one to several rectangles per image;
- training in the paper's three phases (:func:`phase`): ``Tc`` the completion network
  alone with the MSE inside the hole, ``Td`` the discriminators alone, ``Ttrain`` both,
  with the joint loss of :func:`joint_loss` (weight ``alpha = 0.0004``);
- :func:`poisson_blend`: the post-processing, a sparse Poisson solve;
- :func:`complete`: the public entry point.

The tables of the paper (Tables 1 and 2) are data here: :func:`completion_table` and
:func:`discriminator_table` list every layer, and the networks are built from them.
Presets: ``paper`` (the paper's widths, 256-px images, 128-px local patches) and
``course`` (about a fifth of the widths, 128-px images, 64-px patches, sized for a CPU);
``course-mse`` stops after ``Tc`` (the blurry ablation, ``glcic-landscapes128-mse``) and
``course-gan`` runs ``Td`` and ``Ttrain`` from that shipped network. The ``ablation-*`` presets
continue that network for one equal budget with the MSE alone, or with the global, the local or
both discriminators (``config.discriminators``): the paper's title claim, measured fairly. The shipped
``glcic-landscapes128`` ran all three phases of ``course`` (batches of 64, on a GPU; the
manifest records the command).

Paper symbols -> code:

- ``x`` -> ``real`` (``N×3×H×W``); ``M_c`` -> ``mask`` (1 = hole); ``C(x, M_c)`` ->
  ``completion_net(network_input(real, mask))``;
- ``D(x, M_d)`` -> ``discriminator(images, crop_local(images, centres, local_size))``
  (a logit; the paper's ``D`` is its sigmoid);
- ``L(x, M_c) = ||M_c ⊙ (C(x, M_c) − x)||²`` (Eq. 1) -> :func:`hole_mse` (a mean over the
  hole's pixels);
- ``alpha`` -> ``config.alpha``; Eq. 2-3 -> :func:`joint_loss` and
  :meth:`GLCICRecipe.training_step`;
- ``T_C``, ``T_D``, ``T_train`` -> ``config.tc_steps``, ``config.td_steps``, the rest.

Two deviations: Adam instead of Adadelta (for speed on a CPU), and the hole is filled with the
mean colour of each image's known pixels instead of the data set's mean pixel (so the network
needs no statistic of its training set at inference).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from torch import nn

from .checks import check_count, check_image, check_int, check_mask, describe
from .images import mean_fill
from .losses import discriminator_loss, generator_loss
from .recipes import Recipe, TrainSettings, register
from .runtime import eval_mode

__all__ = ["GLCICConfig", "GLCICRecipe", "CompletionNetwork", "GlobalDiscriminator",
           "LocalDiscriminator", "ContextDiscriminator", "completion_table", "discriminator_table",
           "dilated_block", "conv_block", "receptive_field", "network_input", "random_holes",
           "crop_local", "DISCRIMINATORS", "hole_mse", "joint_loss", "phase", "poisson_blend", "complete"]


@dataclasses.dataclass
class GLCICConfig:
    image_size: int = 256
    local_size: int = 128        # side of the local discriminator's patch
    width: int = 64              # the completion network's first width (64, 128, 256 in the paper)
    disc_width: int = 64         # the discriminators' first width (doubling up to 8×)
    feature_dim: int = 1024      # each discriminator's feature vector
    dilations: tuple = (2, 4, 8, 16)
    holes_min: int = 1           # holes per training image
    holes_max: int = 1
    hole_min: int = 96           # hole side range in pixels
    hole_max: int = 128
    tc_steps: int = 90_000       # phase Tc: completion network alone (MSE)
    td_steps: int = 10_000       # phase Td: discriminators alone; Ttrain after that
    alpha: float = 0.0004        # weight of the adversarial loss (Eq. 3)
    lr: float = 2e-4
    data_size: int = 10_000
    #: a shipped checkpoint whose completion network this run starts from ("": from scratch);
    #: set with tc_steps=0, it is phase Tc done by an earlier run
    init_completion: str = ""
    #: which discriminators judge the completion: "both" (the paper), or "global" / "local"
    #: alone (the ablations of the paper's title claim, lecture 04 section 7)
    discriminators: str = "both"


# ----------------------------------------------------------------------------- the layer tables

def completion_table(config: GLCICConfig) -> list[tuple[str, int, int, int, int]]:
    """Table 1 of the paper: ``(type, kernel, dilation, stride, outputs)`` for every layer.

    ``stride`` 2 on a ``deconv`` row means upsampling by 2 (the paper writes 1/2).
    """
    w = config.width
    return ([("conv", 5, 1, 1, w), ("conv", 3, 1, 2, 2 * w), ("conv", 3, 1, 1, 2 * w),
             ("conv", 3, 1, 2, 4 * w), ("conv", 3, 1, 1, 4 * w), ("conv", 3, 1, 1, 4 * w)]
            + [("dilated", 3, int(r), 1, 4 * w) for r in config.dilations]
            + [("conv", 3, 1, 1, 4 * w), ("conv", 3, 1, 1, 4 * w),
               ("deconv", 4, 1, 2, 2 * w), ("conv", 3, 1, 1, 2 * w),
               ("deconv", 4, 1, 2, w), ("conv", 3, 1, 1, w // 2), ("output", 3, 1, 1, 3)])


def discriminator_table(config: GLCICConfig, which: str) -> list[tuple[str, int, int, int, int]]:
    """Table 2 of the paper: ``which`` is ``"local"`` or ``"global"``.

    5×5 convolutions with stride 2 down to a 4×4 map (5 for a 128-px patch, 6 for a 256-px
    image), then a fully connected layer to ``feature_dim`` outputs.
    """
    size = {"local": config.local_size, "global": config.image_size}.get(which)
    if size is None:
        raise ValueError(f"discriminator_table: which must be 'local' or 'global', got {which!r}")
    n = int(round(math.log2(size / 4)))
    if n < 1 or 4 * 2 ** n != size:
        raise ValueError(f"discriminator_table: the {which} input side must be 4 × a power of two, "
                         f"got {size}")
    d = config.disc_width
    return ([("conv", 5, 1, 2, d * min(2 ** i, 8)) for i in range(n)]
            + [("fc", 4, 1, 1, config.feature_dim)])


def receptive_field(table) -> list[int]:
    """The receptive field (in input pixels) after each ``conv``/``dilated`` row of a table,
    up to the first deconvolution: ``r += (kernel − 1) · dilation · jump``, ``jump *= stride``."""
    r, jump, out = 1, 1, []
    for kind, k, d, s, _ in table:
        if kind not in ("conv", "dilated"):
            break
        r += (k - 1) * d * jump
        jump *= s
        out.append(r)
    return out


# ----------------------------------------------------------------------------- building blocks

def conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """Convolution (padding keeps the size, or halves it with stride 2), batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=dilation * (kernel - 1) // 2,
                  dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def deconv_block(c_in: int, c_out: int) -> nn.Sequential:
    """4×4 transposed convolution that doubles the size, batch norm, ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def dilated_block(channels: int, rates=(2, 4, 8, 16)) -> nn.Sequential:
    """The middle of the completion network: 3×3 convolutions with growing dilation.

    Each keeps the size (padding = rate) and the width. Together the four rates widen the
    receptive field by ``2·(2 + 4 + 8 + 16) = 60`` pixels at quarter resolution, 240 input
    pixels, where four plain 3×3 convolutions would add 32.
    """
    return nn.Sequential(*[conv_block(channels, channels, 3, dilation=int(r)) for r in rates])


class CompletionNetwork(nn.Module):
    """``network_input(image, mask)`` (``N×4×H×W``) -> the filled image ``N×3×H×W`` in [-1, 1].

    ``H`` and ``W`` must be multiples of 4. Only the hole's pixels of the output are used.
    """

    def __init__(self, config: GLCICConfig):
        super().__init__()
        self.config = config
        rows = completion_table(config)
        n_enc, n_mid = 6, len(config.dilations)
        layers, c = [], 4
        for _, k, d, s, c_out in rows[:n_enc]:
            layers.append(conv_block(c, c_out, k, stride=s, dilation=d))
            c = c_out
        self.encoder = nn.Sequential(*layers)
        self.middle = dilated_block(c, [d for _, _, d, _, _ in rows[n_enc:n_enc + n_mid]])
        layers = []
        for kind, k, d, s, c_out in rows[n_enc + n_mid:-1]:
            layers.append(deconv_block(c, c_out) if kind == "deconv" else conv_block(c, c_out, k, s, d))
            c = c_out
        self.decoder = nn.Sequential(*layers)
        self.to_rgb = nn.Sequential(nn.Conv2d(c, 3, 3, padding=1), nn.Tanh())  # the paper: sigmoid on [0, 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 4 or x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError("CompletionNetwork: expected network_input(image, mask), N×4×H×W with H "
                             f"and W multiples of 4, got {describe(x)}")
        return self.to_rgb(self.decoder(self.middle(self.encoder(x))))


class _Discriminator(nn.Module):
    which = ""

    def __init__(self, config: GLCICConfig):
        super().__init__()
        self.config = config
        rows = discriminator_table(config, self.which)
        layers, c = [], 3
        for _, k, _, s, c_out in rows[:-1]:
            layers.append(conv_block(c, c_out, k, stride=s))
            c = c_out
        self.convs = nn.Sequential(*layers)
        self.to_features = nn.Sequential(nn.Flatten(), nn.Linear(c * 16, rows[-1][-1]), nn.ReLU(inplace=True))
        self.input_size = config.local_size if self.which == "local" else config.image_size

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1:] != (3, self.input_size, self.input_size):
            raise ValueError(f"{type(self).__name__}: expected N×3×{self.input_size}×{self.input_size}, "
                             f"got {describe(images)}")
        return self.to_features(self.convs(images))


class GlobalDiscriminator(_Discriminator):
    """The whole image -> a feature vector (Table 2b)."""
    which = "global"


class LocalDiscriminator(_Discriminator):
    """The patch around the hole -> a feature vector (Table 2a)."""
    which = "local"


DISCRIMINATORS = ("both", "global", "local")


class ContextDiscriminator(nn.Module):
    """``(images, local patches)`` -> the logit of "real": both feature vectors, concatenated,
    through one fully connected layer (Table 2c).

    ``config.discriminators`` = ``"global"`` or ``"local"`` keeps one of the two (the ablations);
    the other input is then ignored."""

    def __init__(self, config: GLCICConfig):
        super().__init__()
        if config.discriminators not in DISCRIMINATORS:
            raise ValueError(f"ContextDiscriminator: discriminators must be one of {DISCRIMINATORS}, "
                             f"got {config.discriminators!r}")
        self.uses = ("global", "local") if config.discriminators == "both" else (config.discriminators,)
        self.global_discriminator = GlobalDiscriminator(config) if "global" in self.uses else None
        self.local_discriminator = LocalDiscriminator(config) if "local" in self.uses else None
        self.to_logit = nn.Linear(len(self.uses) * config.feature_dim, 1)

    def forward(self, images: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
        features = {"global": lambda: self.global_discriminator(images),
                    "local": lambda: self.local_discriminator(patches)}
        return self.to_logit(torch.cat([features[k]() for k in self.uses], 1)).flatten()


# ----------------------------------------------------------------------------- holes and patches

def network_input(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The completion network's input: the hole filled with the mean colour, plus the mask, ``N×4×H×W``."""
    image = check_image(image, "image")
    mask = check_mask(mask, "mask", like=image).expand(len(image), -1, -1, -1)
    return torch.cat([mean_fill(image, mask), mask], 1)


def random_holes(n: int, size: int, count=(1, 3), hole_size=(16, 64), coverage=None,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` masks ``N×1×size×size`` of ``count[0]``..``count[1]`` rectangles each, with sides
    drawn from ``hole_size`` (inclusive), and the centre ``(row, col)`` of each mask's largest
    rectangle, ``N×2`` int64 (where :func:`crop_local` centres the local patch).

    ``coverage=(lo, hi)``: draw again until the holes cover a fraction in ``[lo, hi]`` of the
    image. ``generator`` makes it reproducible (default: torch's global generator).
    """
    n = check_count(n, "random_holes(n)")
    size = check_int(size, "random_holes(size)", 2, "an int (image side in pixels)")
    c_lo, c_hi = (check_int(v, "random_holes(count)", 1) for v in count)
    s_lo, s_hi = (check_int(v, "random_holes(hole_size)", 1) for v in hole_size)
    if c_lo > c_hi or s_lo > s_hi or s_hi > size:
        raise ValueError(f"random_holes: expected count=(lo, hi) and hole_size=(lo, hi) with lo ≤ hi "
                         f"and hi ≤ size={size}, got count={count}, hole_size={hole_size}")
    if coverage is not None and not 0 <= coverage[0] <= coverage[1] <= 1:
        raise ValueError(f"random_holes: coverage must be (lo, hi) within [0, 1], got {coverage}")

    def draw(k: int) -> torch.Tensor:
        return torch.randint(k, (1,), generator=generator).item() if k > 1 else 0

    masks = torch.zeros(n, 1, size, size)
    centres = torch.zeros(n, 2, dtype=torch.int64)
    for i in range(n):
        for _ in range(1000):
            m = torch.zeros(size, size)
            best = -1
            for _ in range(c_lo + draw(c_hi - c_lo + 1)):
                h, w = s_lo + draw(s_hi - s_lo + 1), s_lo + draw(s_hi - s_lo + 1)
                top, left = draw(size - h + 1), draw(size - w + 1)
                m[top:top + h, left:left + w] = 1
                if h * w > best:
                    best, centre = h * w, (top + h // 2, left + w // 2)
            if coverage is None or coverage[0] <= float(m.mean()) <= coverage[1]:
                break
        else:
            raise ValueError(f"random_holes: could not reach coverage {coverage} with {count} holes of "
                             f"sides {hole_size} in {size}×{size}")
        masks[i, 0], centres[i] = m, torch.tensor(centre)
    return masks, centres


def crop_local(images: torch.Tensor, centres: torch.Tensor, size: int) -> torch.Tensor:
    """The ``size×size`` patch of each image centred on ``centres[i] = (row, col)``, moved inside
    the image where it would stick out: ``N×C×size×size``."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"crop_local: expected images N×C×H×W, got {describe(images)}")
    n, _, h, w = images.shape
    size = check_int(size, "crop_local(size)", 1, "an int (patch side in pixels)")
    if size > min(h, w):
        raise ValueError(f"crop_local: a {size}-px patch does not fit in {h}×{w} images")
    centres = torch.as_tensor(centres)
    if centres.shape != (n, 2):
        raise ValueError(f"crop_local: expected centres N×2 (row, col) with N={n}, got {describe(centres)}")
    tops = (centres[:, 0] - size // 2).clamp(0, h - size).tolist()
    lefts = (centres[:, 1] - size // 2).clamp(0, w - size).tolist()
    return torch.stack([images[i, :, top:top + size, left:left + size]
                        for i, (top, left) in enumerate(zip(tops, lefts))])


# ----------------------------------------------------------------------------- losses and phases

def hole_mse(output: torch.Tensor, real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. 1: the squared error inside the hole, ``||M_c ⊙ (C(x, M_c) − x)||²``, divided by the
    number of values in the batch (``N·3·H·W``, as the paper's Torch ``MSECriterion`` does)."""
    return ((output - real) ** 2 * mask).mean()


def joint_loss(output: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, fake_logits: torch.Tensor,
               alpha: float = 0.0004) -> torch.Tensor:
    """The completion network's loss in phase Ttrain (Eq. 3 of Iizuka et al. 2017):

    ``L(x, M_c) + alpha · log(1 − D(C(x, M_c), M_c))``

    in its non-saturating form: ``hole_mse + alpha · BCE(D(completed), "real")``, where
    ``fake_logits`` are the discriminator's logits for the completed images.
    """
    return hole_mse(output, real, mask) + alpha * generator_loss(fake_logits, "logistic")


def phase(step: int, config: GLCICConfig) -> str:
    """The paper's training phase of ``step``: ``"Tc"``, then ``"Td"``, then ``"Ttrain"``."""
    if step < config.tc_steps:
        return "Tc"
    return "Td" if step < config.tc_steps + config.td_steps else "Ttrain"


# ----------------------------------------------------------------------------- post-processing

def _poisson_one(target: np.ndarray, source: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Solve ``Δf = Δsource`` inside ``hole`` with ``f = target`` around it (one H×W×C image)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    k = len(ys)
    if k == 0:
        return target.copy()
    index = -np.ones((h, w), dtype=np.int64)
    index[ys, xs] = np.arange(k)
    rows, cols, vals = [np.arange(k)], [np.arange(k)], [np.zeros(k)]
    rhs = np.zeros((k, target.shape[2]))
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)   # at the image border: fewer neighbours
        p, qy, qx = np.nonzero(inside)[0], ny[inside], nx[inside]
        vals[0][p] += 1
        rhs[p] += source[ys[p], xs[p]] - source[qy, qx]           # the guidance: source's gradients
        q = index[qy, qx]
        unknown = q >= 0
        rows.append(p[unknown])
        cols.append(q[unknown])
        vals.append(-np.ones(unknown.sum()))
        rhs[p[~unknown]] += target[qy[~unknown], qx[~unknown]]    # Dirichlet: the known pixels
    a = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(k, k))
    out = target.copy()
    out[ys, xs] = splu(a).solve(rhs)
    return out


def poisson_blend(image: torch.Tensor, completed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Blend the hole of ``completed`` into ``image`` (Pérez, Gangnet and Blake 2003).

    Inside the hole the result ``f`` has the same discrete Laplacian as ``completed``
    (``Δf = Δcompleted``, the 5-point stencil, with the guidance ``completed_p − completed_q``
    on every edge, also the edges that cross the hole's border); outside it equals ``image``.
    So pass the network's own output, not its composite with ``image``: a composite's
    gradients across the border are the very seam that blending removes. One sparse LU solve
    per image, for all channels. Returns ``N×3×H×W`` clamped to [-1, 1].
    """
    image = check_image(image, "poisson_blend(image)")
    completed = check_image(completed, "poisson_blend(completed)")
    if completed.shape != image.shape:
        raise ValueError(f"poisson_blend: completed must match image {tuple(image.shape)}, "
                         f"got {describe(completed)}")
    mask = check_mask(mask, "poisson_blend(mask)", like=image).expand(len(image), -1, -1, -1)
    out = []
    for t, s, m in zip(image.double().cpu().numpy(), completed.double().cpu().numpy(), mask.cpu().numpy()):
        f = _poisson_one(t.transpose(1, 2, 0), s.transpose(1, 2, 0), m[0] > 0.5)
        out.append(torch.from_numpy(f.transpose(2, 0, 1).copy()))
    return torch.stack(out).to(image.dtype).to(image.device).clamp(-1, 1)


@torch.no_grad()
def complete(model: CompletionNetwork, image: torch.Tensor, mask: torch.Tensor,
             blend: bool = True) -> torch.Tensor:
    """Fill the holes of ``image`` (``N×3×H×W`` in [-1, 1]) where ``mask`` (``N×1×H×W`` or
    ``1×1×H×W``, 1 = hole) is set: the known pixels are kept, the network's output fills the
    hole, and ``blend=True`` Poisson-blends the fill into its surroundings."""
    if not isinstance(model, CompletionNetwork):
        raise ValueError(f"complete: expected a CompletionNetwork (course_lib.pretrained.load("
                         f"'glcic-landscapes128')), got {type(model).__name__}")
    image = check_image(image, "complete(image)")
    mask = check_mask(mask, "complete(mask)", like=image).expand(len(image), -1, -1, -1)
    if image.shape[-2] % 4 or image.shape[-1] % 4:
        raise ValueError(f"complete: image sides must be multiples of 4, got {tuple(image.shape[-2:])}")
    mask = (mask > 0.5).float()
    dev = next(model.parameters()).device
    with eval_mode(model):
        output = model(network_input(image, mask).to(dev)).float().cpu()
    if blend:   # the raw output: its gradients across the hole's border carry no seam
        return poisson_blend(image, output.clamp(-1, 1), mask)
    return image * (1 - mask) + output * mask


# ----------------------------------------------------------------------------- training

@register
class GLCICRecipe(Recipe):
    """The three phases as step ranges of one run: ``Tc`` for ``config.tc_steps``, ``Td`` for
    ``config.td_steps``, then ``Ttrain`` to the end."""

    name = "glcic"
    config_class = GLCICConfig
    _course = GLCICConfig(image_size=128, local_size=64, width=12, disc_width=16, feature_dim=256,
                          holes_min=1, holes_max=3, hole_min=16, hole_max=56, tc_steps=2000,
                          td_steps=100, lr=5e-4, data_size=3000)
    #: Td and Ttrain from the shipped Tc result (glcic-landscapes128-mse): the CPU route to a GLCIC
    _gan = dataclasses.replace(_course, tc_steps=0, init_completion="glcic-landscapes128-mse")
    presets = {
        "paper": GLCICConfig(),
        # all three phases from scratch (glcic-landscapes128, with --batch-size 64 on a GPU)
        "course": _course,
        # Tc alone: the blurry ablation, and the start of course-gan (glcic-landscapes128-mse)
        "course-mse": dataclasses.replace(_course, td_steps=0, tc_steps=10 ** 9),
        "course-gan": _gan,
        # the ablations of lecture 04 section 7: each continues the same shipped Tc network for the
        # same steps at the same batch; only the completion loss differs (the adversarial three
        # spend their first td_steps training the discriminators alone, as the paper's Td does)
        "ablation-mse": dataclasses.replace(_gan, tc_steps=10 ** 9, td_steps=0),
        "ablation-both": _gan,
        "ablation-global": dataclasses.replace(_gan, discriminators="global"),
        "ablation-local": dataclasses.replace(_gan, discriminators="local"),
    }
    settings = {"paper": TrainSettings(steps=500_000, batch_size=96, sample_every=5000, save_every=5000),
                # course = course-mse then course-gan: 2000 steps of Tc, 100 of Td, 3900 of Ttrain
                "course": TrainSettings(steps=6000, batch_size=8, sample_every=250, save_every=50),
                "course-mse": TrainSettings(steps=2000, batch_size=8, sample_every=250, save_every=50),
                "course-gan": TrainSettings(steps=4000, batch_size=8, sample_every=250, save_every=50),
                **dict.fromkeys(("ablation-mse", "ablation-both", "ablation-global", "ablation-local"),
                                TrainSettings(steps=1500, batch_size=8, sample_every=100, save_every=50))}
    accepts = ("landscapes", "folder")
    betas = (0.5, 0.999)
    export_module = "completion_net"

    def starts_from(self, config):
        """``course-gan`` starts from the shipped completion network of phase Tc."""
        return {"completion_net": config.init_completion} if config.init_completion else {}

    def build(self, config, completion_net: CompletionNetwork | None = None):
        modules = {"completion_net": CompletionNetwork(config), "discriminator": ContextDiscriminator(config)}
        if completion_net is not None:
            modules["completion_net"].load_state_dict(completion_net.state_dict())
        return modules

    def build_export(self, config):
        return CompletionNetwork(config)

    def training_step(self, modules, optimizers, batch, step, config):
        completion_net, discriminator = modules["completion_net"], modules["discriminator"]
        real = batch["image"]
        mask, centres = random_holes(len(real), real.shape[-1], (config.holes_min, config.holes_max),
                                     (config.hole_min, config.hole_max))
        mask = mask.to(real.device)
        now = phase(step, config)
        if now == "Td":
            with torch.no_grad():
                output = completion_net(network_input(real, mask))
        else:
            output = completion_net(network_input(real, mask))
        completed = real * (1 - mask) + output * mask
        losses = {}
        if now != "Tc":   # the discriminators' step
            fake_logits = discriminator(completed.detach(), crop_local(completed.detach(), centres,
                                                                      config.local_size))
            real_logits = discriminator(real, crop_local(real, centres, config.local_size))
            d_loss = discriminator_loss(real_logits, fake_logits, "logistic")
            optimizers["discriminator"].zero_grad(set_to_none=True)
            d_loss.backward()
            optimizers["discriminator"].step()
            losses["d"] = d_loss.detach()
            losses["d_real"] = torch.sigmoid(real_logits).mean().detach()
        if now == "Tc":
            loss = hole_mse(output, real, mask)
        elif now == "Ttrain":
            fake_logits = discriminator(completed, crop_local(completed, centres, config.local_size))
            loss = joint_loss(output, real, mask, fake_logits, config.alpha)
        if now != "Td":   # the completion network's step
            optimizers["completion_net"].zero_grad(set_to_none=True)
            loss.backward()
            optimizers["completion_net"].step()
            losses["mse"] = hole_mse(output.detach(), real, mask)
        return losses

    def samples(self, modules, config, batch):
        real = batch["image"][:8]
        g = torch.Generator().manual_seed(0)
        mask, _ = random_holes(len(real), real.shape[-1], (config.holes_min, config.holes_max),
                               (config.hole_min, config.hole_max), generator=g)
        mask = mask.to(real.device)
        output = modules["completion_net"](network_input(real, mask))
        holed = real * (1 - mask) + mask
        return torch.cat([holed, real * (1 - mask) + output * mask, real])
