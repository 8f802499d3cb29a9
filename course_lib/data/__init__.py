"""Data for the course, made on the spot: nothing is downloaded.

- :func:`faces`: procedural cartoon faces with known attributes (glasses, smile, hat, ...).
- :func:`landscapes`: label maps of outdoor scenes and their renders in several styles.
- :func:`photos`: the real photographs that scikit-image ships, for out-of-domain tests.
- :func:`styles`: painterly and graphic textures in named families, for style transfer;
  :func:`textures`: scikit-image's bundled textures.
- :class:`ImageFolder`, :class:`PairedFolder`: loaders for real datasets on disk.
"""

from .datasets import IMAGE_EXTENSIONS, ImageFolder, PairedFolder, WorldDataset, open_dataset
from .faces import FACE_ATTRIBUTES, FACE_BINARY, FACE_CATEGORICAL, faces
from .landscapes import (LANDSCAPE_CLASSES, LANDSCAPE_STYLES, colour_labels, landscapes,
                         render_landscape)
from .photos import PHOTO_NAMES, photos
from .styles import HELD_OUT_FAMILIES, STYLE_FAMILIES, TEXTURE_NAMES, TRAINED_FAMILIES, styles, textures

#: Worlds drawn from this seed are held out: every shipped model trained on seed 0 (the
#: datasets' default), so the benchmarks measure on faces and scenes that no model has seen.
HELD_OUT_SEED = 10_000

__all__ = [
    "faces", "FACE_ATTRIBUTES", "FACE_BINARY", "FACE_CATEGORICAL",
    "landscapes", "render_landscape", "colour_labels", "LANDSCAPE_CLASSES", "LANDSCAPE_STYLES",
    "photos", "PHOTO_NAMES", "HELD_OUT_SEED",
    "styles", "textures", "STYLE_FAMILIES", "TRAINED_FAMILIES", "HELD_OUT_FAMILIES", "TEXTURE_NAMES",
    "WorldDataset", "ImageFolder", "PairedFolder", "IMAGE_EXTENSIONS", "open_dataset",
]
