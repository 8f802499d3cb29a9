"""course_lib: the reference implementation of the GAN image-manipulation course.

One module per paper, shared pieces once, in layers that import only downwards (the
``[tool.importlinter]`` contract in ``pyproject.toml`` checks it), from the bottom up:

1. basics: :mod:`.checks` (the tensor convention), :mod:`.runtime` (device, seeds, fast mode,
   eval mode), :mod:`.images`, :mod:`.data` (the embedded worlds);
2. shared pieces: :mod:`.layers` (blocks, and what a generator declares), :mod:`.losses`,
   :mod:`.metrics`, :mod:`.results` (the benchmarks' measured tables);
3. training and checkpoints: :mod:`.recipes` (the registry), :mod:`.checkpoints`,
   :mod:`.curves` (a run's training curves), :mod:`.pretrained` (the shipped weights),
   :mod:`.trainer` (the loop);
4. instruments: :mod:`.judges`, :mod:`.features`;
5. models, one per paper: :mod:`.dcgan`, :mod:`.stylegan`, :mod:`.glcic`, :mod:`.adain`, :mod:`.spade`,
   then :mod:`.encoder`
   (it mirrors the StyleGAN);
6. methods that use trained models: :mod:`.latent`, :mod:`.inversion`, :mod:`.inpainting`;
7. the top: :mod:`.widgets` (one module per lecture), :mod:`.train` (the training command),
   :mod:`.grading` and :mod:`.notebooks` (for instructors).
"""

from .runtime import FAST, device, fast_mode, seed_everything, steps

# Every model module registers its recipe when imported (course_lib.recipes.register): importing
# them here makes the registry complete for pretrained.load and the training command.
from . import adain, dcgan, encoder, features, glcic, judges, spade, stylegan  # noqa: E402,F401  (registration)

__version__ = "0.1.0"
__all__ = ["FAST", "device", "fast_mode", "seed_everything", "steps", "__version__"]
