"""The first answer to a quality change: a screen-sized proxy, coded in a blink (no Qt).

Coding an 18 MP raw and decoding it again takes seconds; the view, fitted to a window,
shows about a megapixel of it. So a proxy of at most :data:`PROXY_SIDE` pixels a side
(area-averaged from the original, made once per image) is coded first at the same
quality with the operators of the full image (:mod:`~rawjpeg_gui.workers.coder`); its
reconstruction fills the view while the full-resolution coding runs. The proxy shows
the same tone and colour, with compression artefacts at the proxy's scale until the
full-resolution reconstruction replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .jobs import Coder, LoadedImage

#: Largest side of the proxy coded first.
PROXY_SIDE = 1024


@dataclass
class PreviewImage:
    """The reconstruction of a proxy of the image at one quality.

    Attributes:
        quality: JPEG quality 1-100.
        display: upright preview pixels (:func:`~rawjpeg_gui.workers.jobs.screen_pixels`).
        bpp: bits per pixel of the proxy's adapter-JPEG (an estimate of the full file's).
        seconds: time the job took.
        display_levels: :func:`~rawjpeg_gui.workers.jobs.screen_levels` of ``display``.
    """

    quality: int
    display: np.ndarray
    bpp: float
    seconds: float
    display_levels: list[np.ndarray] = field(default_factory=list)


def code_preview(
    image: LoadedImage,
    quality: int,
    exposure_ev: float,
    coder: Coder,
    generation: int | None = None,
) -> PreviewImage | None:
    """The reconstruction of ``image``'s proxy at ``quality``, made by ``coder`` with the
    operators the full image is coded with (:mod:`~rawjpeg_gui.workers.coder`);
    ``None`` without a raw."""
    if image.original is None:
        return None
    return coder.preview(image.original, quality, exposure_ev, image.base_gain, generation)
