"""The first answer to a quality change: a screen-sized proxy, coded in a blink (no Qt).

Coding an 18 MP raw and decoding it again takes seconds on a busy machine; the view,
fitted to a window, shows about a megapixel of it. So the image is first coded as a
proxy of at most :data:`PROXY_SIDE` pixels a side (area-averaged from the original,
made once per image) with the same encoder and model; its reconstruction fills the
view while the full-resolution coding runs. Both are the adapter at the same quality:
the proxy shows the same tone and colour, with compression artefacts at the proxy's
scale until the full-resolution reconstruction replaces it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from rawjpeg_gui.core import codec, display
from rawjpeg_gui.core.rawio import RawImage

from .jobs import LoadedImage, screen_levels, screen_pixels

#: Largest side of the proxy coded first.
PROXY_SIDE = 1024

_proxy_lock = threading.Lock()


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


def proxy_of(image: LoadedImage) -> RawImage | None:
    """The image's proxy (made on first use and kept on ``image``), or ``None`` without a raw."""
    original = image.original
    if original is None:
        return None
    with _proxy_lock:
        if image.proxy is None:
            small = display.downsample(original.data, PROXY_SIDE)
            image.proxy = RawImage(np.ascontiguousarray(small, np.float32), original.meta)
        return image.proxy


def code_preview(image: LoadedImage, quality: int, exposure_ev: float = 0.0) -> PreviewImage | None:
    """Code the proxy of ``image`` at ``quality`` and render its reconstruction."""
    t0 = time.perf_counter()
    proxy = proxy_of(image)
    if proxy is None:
        return None
    data = codec.encode_image(proxy, quality).jpeg
    recon = codec.decode_bytes(data)
    pixels = display.render(recon.raw.data, proxy.meta, exposure_ev, None, image.base_gain)
    bpp = 8.0 * len(data) / float(proxy.width * proxy.height)
    shown = screen_pixels(pixels)
    return PreviewImage(quality, shown, bpp, time.perf_counter() - t0, screen_levels(shown))
