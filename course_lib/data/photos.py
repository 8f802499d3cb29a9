"""Real photographs for out-of-domain tests: the images that scikit-image ships.

The procedural worlds are what the course trains on; these few real photos
show what a model does with an image from outside its world (style transfer
onto a real cat, inpainting a real astronaut, projecting a photo into a face
GAN). Only images stored inside the scikit-image wheel are used, so nothing
is downloaded and the course runs offline.
"""

from __future__ import annotations

import torch

from ..checks import check_size
from ..images import crop_resize, from_numpy

__all__ = ["photos", "PHOTO_NAMES"]

# name -> loader; all of these are bundled in the scikit-image wheel (no pooch download)
_LOADERS = {
    "astronaut": lambda d: d.astronaut(),
    "camera": lambda d: d.camera(),
    "chelsea": lambda d: d.chelsea(),
    "coffee": lambda d: d.coffee(),
    "rocket": lambda d: d.rocket(),
    "motorcycle": lambda d: d.stereo_motorcycle()[0],
    "coins": lambda d: d.coins(),
    "moon": lambda d: d.moon(),
    "hubble_deep_field": lambda d: d.hubble_deep_field(),
    "immunohistochemistry": lambda d: d.immunohistochemistry(),
}

#: the photos' names, in the order :func:`photos` returns them
PHOTO_NAMES = tuple(_LOADERS)


def photos(size: int | None = None, names=None) -> dict[str, torch.Tensor]:
    """The bundled photographs as ``{name: 1×3×H×W}`` float images in [-1, 1].

    Grey photos are repeated to three channels. ``size=None`` keeps each photo's
    own size; ``size=k`` centre-crops to a square and resizes to ``k×k`` (so the
    photos can be stacked with ``torch.cat(list(photos(64).values()))``).
    ``names`` picks a subset (default: all of :data:`PHOTO_NAMES`, in that order).
    """
    if size is not None:
        size = check_size(size, 8)
    if names is None:
        names = PHOTO_NAMES
    if isinstance(names, str):
        names = (names,)
    unknown = [n for n in names if n not in _LOADERS]
    if unknown:
        raise ValueError(f"names: unknown photo(s) {unknown}; expected some of {list(PHOTO_NAMES)}")

    import skimage.data  # imported late: the procedural worlds do not need it

    result = {}
    for name in names:
        image = from_numpy(_LOADERS[name](skimage.data))
        result[name] = image if size is None else crop_resize(image, size)
    return result
