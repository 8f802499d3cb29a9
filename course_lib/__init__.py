"""course_lib: the reference implementation of the GAN image-manipulation course.

One module per paper, shared pieces once:

- :mod:`course_lib.runtime`: ``device()``, ``seed_everything()``, fast mode (``steps()``)
- :mod:`course_lib.checks`: the tensor convention, checked
- :mod:`course_lib.images`: conversions, loading, masks, figures
- :mod:`course_lib.data`: the embedded worlds and folder loaders
- :mod:`course_lib.trainer` / :mod:`course_lib.train`: the training loop and its command
- :mod:`course_lib.pretrained`: the shipped checkpoints
- :mod:`course_lib.widgets`: interactive image widgets
- :mod:`course_lib.judges`: networks that measure what a model makes
- :mod:`course_lib.inpainting`: classical hole fillers and the measures that compare fillers
"""

from .runtime import FAST, device, fast_mode, seed_everything, steps

__version__ = "0.1.0"
__all__ = ["FAST", "device", "fast_mode", "seed_everything", "steps", "__version__"]
