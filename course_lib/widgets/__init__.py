"""The course's interactive widgets: what a student looks at and plays with.

One module per lecture, all built on :func:`image_widget` (:mod:`.core`), which decides once how
an image is shown (crisp, at a chosen size, the controls beside it):

- :mod:`.latent` (lecture 01): :func:`interpolation_widget`, :func:`attribute_widget`,
  :func:`arithmetic_widget`;
- :mod:`.inversion` (lecture 02): :func:`descent_widget`;
- :mod:`.image2stylegan` (lecture 03): :func:`morph_widget`, :func:`mixing_widget`,
  :func:`transfer_widget`;
- :mod:`.glcic` (lecture 04): :func:`hole_widget`;
- :mod:`.adain` (lecture 05): :func:`alpha_widget`, :func:`style_interpolation_widget`,
  :func:`spatial_widget`;
- :mod:`.spade` (lecture 06): :func:`painting_widget`, a canvas to paint a label map on;
- :mod:`.ganpaint` (lecture 07): :func:`editing_widget`, a canvas to paint an edit on a photo.

The two canvas widgets need ``ipycanvas`` and are imported from their modules
(``from course_lib.widgets.spade import painting_widget``), not from here.

Widgets sit at the top of the library: they import the models and methods below them, and
nothing below imports them.
"""

from .adain import alpha_widget, spatial_widget, style_interpolation_widget
from .core import display_scale, image_widget, slider
from .glcic import hole_widget, holed_and_completed
from .image2stylegan import mixing_widget, morph_widget, transfer_widget
from .inversion import descent_widget
from .latent import arithmetic_widget, attribute_widget, interpolation_walk, interpolation_widget

__all__ = ["image_widget", "slider", "display_scale", "interpolation_walk", "interpolation_widget",
           "attribute_widget", "arithmetic_widget", "descent_widget", "morph_widget", "mixing_widget",
           "transfer_widget", "hole_widget", "holed_and_completed", "alpha_widget",
           "style_interpolation_widget", "spatial_widget"]
