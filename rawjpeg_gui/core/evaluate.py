"""Rate-distortion evaluation of the adapter against plain-JPEG baselines.

Three methods code the same linear image at the same JPEG qualities:

* ``adapter``  - our adapter-JPEG (its size counts the parameters and the ICC profile,
  not the camera's metadata, which the baselines do not carry: :func:`metadata_bytes`);
* ``gamma22``  - JPEG of the gamma-1/2.2 image, decoded and linearised again;
* ``linear``   - JPEG of the linear image itself (the paper's own baseline).

Baselines use the IJG tables and 4:2:0 chroma subsampling (:data:`BASELINE_SUBSAMPLING`).

Distortion is measured on the linear image (PSNR, SSIM); rate is bits per pixel.
BD-rates compare the curves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from . import codec, container, jpeg, metrics, rawprivate
from .model import AdapterModel
from .rawio import RawImage

METHODS = ("adapter", "gamma22", "linear")
DEFAULT_QUALITIES = (15, 25, 50, 75, 90)
#: Chroma subsampling of the plain-JPEG baselines: libjpeg's and Pillow's default,
#: and on our real raws the stronger choice for them (``benchmarks/subsampling_rd.py``).
BASELINE_SUBSAMPLING = "4:2:0"


@dataclass(frozen=True)
class RDPoint:
    """One coded version of an image.

    Attributes:
        method: "adapter", "gamma22" or "linear".
        quality: JPEG quality.
        bpp: bits per pixel (for the adapter: without the camera metadata, see
            :func:`code_point`).
        psnr: dB on the linear image.
        ssim: mean SSIM on the linear image.
    """

    method: str
    quality: int
    bpp: float
    psnr: float
    ssim: float

    def to_dict(self) -> dict[str, float | int | str]:
        """JSON-ready dict."""
        return asdict(self)


def _baseline(raw: RawImage, quality: int, gamma: float) -> tuple[int, np.ndarray]:
    img = np.power(np.clip(raw.data, 0.0, 1.0), np.float32(1.0 / gamma)) if gamma != 1 else raw.data
    data = jpeg.encode_jpeg(codec.to_uint8(img), quality, BASELINE_SUBSAMPLING)
    back = jpeg.decode_jpeg(data).astype(np.float32) / np.float32(255.0)
    if gamma != 1:
        back = np.power(back, np.float32(gamma))
    return len(data), back


def metadata_bytes(data: bytes) -> int:
    """Bytes of the camera's metadata in an adapter-JPEG, which any JPEG made from the raw
    would carry: the EXIF/XMP (APP1) and IPTC (APP13) segments, a Canon CIFF heap (APP0
    ``HEAPJPGM``) and the raw's complete metadata (RAWJMETA segments, or record 9 inside
    the parameter segment)."""
    total = 0
    for marker, start, length in jpeg._segments(data):
        body = data[start : start + length]
        if (
            marker in (0xE1, 0xED)
            or (marker == 0xE0 and rawprivate.is_ciff_jpeg_heap(body))
            or (marker == container.APP_MARKER and body.startswith(container.METADATA_IDENTIFIER))
        ):
            total += 4 + length
    blob = container.decode_segment(jpeg.find_segment(data)).meta.full_metadata
    return total + (len(blob) + 5 if blob else 0)  # a record: tag u8, length u32, body


def code_point(
    raw: RawImage,
    method: str,
    quality: int,
    model: AdapterModel | None = None,
    with_ssim: bool = True,
    searched: bool = True,
    whole_file: bool = False,
) -> tuple[RDPoint, np.ndarray]:
    """Code ``raw`` with ``method`` at ``quality``; returns the point and the reconstruction.

    ``searched``: the adapter's encoder searches its operating points (:mod:`search`).
    The adapter's rate counts the JPEG, its parameters and its ICC profile, not the
    camera's metadata (:func:`metadata_bytes`), which the baselines do not carry;
    ``whole_file`` counts every byte of the file instead.
    """
    if method == "adapter":
        enc = codec.encode_image(raw, quality, model, searched)
        size = len(enc.jpeg) - (0 if whole_file else metadata_bytes(enc.jpeg))
        back = codec.decode_bytes(enc.jpeg).raw.data
    elif method == "gamma22":
        size, back = _baseline(raw, quality, 2.2)
    elif method == "linear":
        size, back = _baseline(raw, quality, 1.0)
    else:
        raise ValueError(f"Unknown method {method!r}; choose from {', '.join(METHODS)}.")
    point = RDPoint(
        method,
        quality,
        metrics.bits_per_pixel(size, raw.width, raw.height),
        metrics.psnr(raw.data, back),
        metrics.ssim(raw.data, back) if with_ssim else float("nan"),
    )
    return point, back


def rd_curve(
    raw: RawImage,
    qualities: Sequence[int] = DEFAULT_QUALITIES,
    methods: Sequence[str] = METHODS,
    model: AdapterModel | None = None,
    with_ssim: bool = True,
    cancelled: Callable[[], bool] = lambda: False,
    searched: bool = True,
) -> Iterator[RDPoint]:
    """Yield an :class:`RDPoint` per method and quality (a generator: cancellable between points)."""
    for method in methods:
        for q in qualities:
            if cancelled():
                return
            yield code_point(raw, method, q, model, with_ssim, searched)[0]


def bd_rates(points: Sequence[RDPoint], test: str = "adapter") -> dict[str, float]:
    """BD-rate (%) of ``test`` against each other method present in ``points``."""
    by: dict[str, list[RDPoint]] = {}
    for p in points:
        by.setdefault(p.method, []).append(p)
    out: dict[str, float] = {}
    if test not in by:
        return out
    t = sorted(by[test], key=lambda p: p.quality)
    for ref, pts in by.items():
        if ref == test:
            continue
        r = sorted(pts, key=lambda p: p.quality)
        try:
            out[ref] = metrics.bd_rate(
                [p.bpp for p in r], [p.psnr for p in r], [p.bpp for p in t], [p.psnr for p in t]
            )
        except ValueError:
            out[ref] = float("nan")
    return out
