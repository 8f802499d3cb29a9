"""Data for the course, made on the spot: nothing is downloaded.

- :func:`faces`: procedural cartoon faces with known attributes (glasses, smile, hat, ...).
- :func:`landscapes`: label maps of outdoor scenes and their renders in several styles.
- :func:`photos`: the real photographs that scikit-image ships, for out-of-domain tests.
- :class:`ImageFolder`, :class:`PairedFolder`: loaders for real datasets on disk.
"""

from .datasets import IMAGE_EXTENSIONS, ImageFolder, PairedFolder, WorldDataset, open_dataset
from .faces import FACE_ATTRIBUTES, FACE_BINARY, faces
from .landscapes import LANDSCAPE_CLASSES, LANDSCAPE_STYLES, landscapes, render_landscape
from .photos import photos

__all__ = [
    "faces", "FACE_ATTRIBUTES", "FACE_BINARY",
    "landscapes", "render_landscape", "LANDSCAPE_CLASSES", "LANDSCAPE_STYLES",
    "photos",
    "WorldDataset", "ImageFolder", "PairedFolder", "IMAGE_EXTENSIONS", "open_dataset",
]
