"""The ICC profile that lets colour-managed viewers show an adapter-JPEG as the photograph.

An adapter-JPEG of a camera-RGB model holds the adapted camera RGB, not sRGB: shown
as sRGB it is dark, flat and green. Its embedded profile (an ICC v2 matrix/TRC display
profile, APP2 ``ICC_PROFILE``) describes those pixels instead, so a viewer that honours
embedded profiles (web browsers, photo managers, macOS and Windows viewers, darktable,
GIMP) converts them to the screen's colours:

* the tone curves (TRC) map a code value ``v`` to ``knee(wb * x)`` where
  ``x = LUT^-1(v ** (1 / g))`` is the adapter's own inverse with the image's mean
  exponent ``g`` of the gamma map (exact when the map is flat; a local tone
  difference where it is not, which the encoder keeps small by limiting the map's
  spread, :data:`search.GAMMA_SPREAD`) and ``knee`` is the white balance with the colour
  chain's highlight knee (:meth:`colour.ColourChain.balance`);
* the matrix takes balanced camera RGB to linear sRGB with the base exposure
  (:meth:`colour.ColourChain.to_srgb`), then to the profile connection space (CIE XYZ,
  D50, Bradford-adapted from D65).

What such a viewer shows is the app's display rendering (:mod:`display`) up to that
local tone difference. The decoder never reads the profile.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

from . import operators
from .colour import SRGB_TO_XYZ, ColourChain
from .params import AdapterParams

#: Entries of each tone curve (the curves are smooth; a viewer interpolates linearly).
CURVE_POINTS = 64
#: Bradford chromatic adaptation D65 -> D50 (ICC.1:2010 Annex E, as lcms computes it).
BRADFORD_D65_TO_D50 = np.array(
    [
        [1.0478112, 0.0228866, -0.0501270],
        [0.0295424, 0.9904844, -0.0170491],
        [-0.0092345, 0.0150436, 0.7521316],
    ]
)
#: The PCS illuminant (D50) as ICC stores it.
_D50 = (0.9642, 1.0, 0.8249)
_HEADER = struct.Struct(">I4sI4s4s4s6H4sI4sII8sI3i4s16s28s")


def _s15f16(value: float) -> bytes:
    return struct.pack(">i", int(round(value * 65536.0)))


def _xyz(values: tuple[float, float, float] | np.ndarray) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15f16(float(v)) for v in values)


def _curve(values: np.ndarray) -> bytes:
    table = np.round(np.clip(values, 0.0, 1.0) * 65535.0).astype(">u2")
    return b"curv\0\0\0\0" + struct.pack(">I", table.size) + bytes(table.tobytes())


def _text(text: str) -> bytes:
    return b"text\0\0\0\0" + text.encode("ascii", "replace") + b"\0"


def _description(text: str) -> bytes:
    ascii_ = text.encode("ascii", "replace") + b"\0"
    # ASCII, then empty Unicode and ScriptCode parts (ICC.1:2001 textDescriptionType).
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + bytes(8 + 3 + 67)


def build(curves: np.ndarray, to_xyz_d50: np.ndarray, description: str) -> bytes:
    """An ICC v2.1 RGB display profile from three tone curves and a 3x3 matrix.

    Args:
        curves: (3, N) linear values in [0, 1] at code values ``linspace(0, 1, N)``.
        to_xyz_d50: linear RGB -> PCS XYZ (D50); its columns are the colorants.
        description: the profile's name as viewers list it (ASCII).
    """
    tags: list[tuple[bytes, bytes]] = [
        (b"desc", _description(description)),
        (b"cprt", _text("No copyright, use freely.")),
        (b"wtpt", _xyz(_D50)),
        (b"rXYZ", _xyz(to_xyz_d50[:, 0])),
        (b"gXYZ", _xyz(to_xyz_d50[:, 1])),
        (b"bXYZ", _xyz(to_xyz_d50[:, 2])),
        (b"rTRC", _curve(curves[0])),
        (b"gTRC", _curve(curves[1])),
        (b"bTRC", _curve(curves[2])),
    ]
    offset = _HEADER.size + 4 + 12 * len(tags)
    table, body = [], b""
    for sig, data in tags:
        table.append(struct.pack(">4sII", sig, offset + len(body), len(data)))
        body += data + bytes(-len(data) % 4)
    size = offset + len(body)
    d50 = [int(round(v * 65536.0)) for v in _D50]
    header = _HEADER.pack(
        size, b"\0\0\0\0", 0x02100000, b"mntr", b"RGB ", b"XYZ ", 2026, 1, 1, 0, 0, 0,
        b"acsp", 0, b"\0\0\0\0", 0, 0, bytes(8), 0, *d50, b"\0\0\0\0", bytes(16), bytes(28),
    )  # fmt: skip
    return header + struct.pack(">I", len(tags)) + b"".join(table) + body


def camera_profile(
    params: AdapterParams, chain: ColourChain, description: str = "rawjpeg camera RGB"
) -> bytes:
    """The profile of an adapter-JPEG whose operators ``params`` act on camera RGB.

    ``chain`` gives the white balance, colour matrix and base exposure of the
    rendering the viewer should show (:func:`colour.chain_for` of the raw).
    """
    v = np.linspace(0.0, 1.0, CURVE_POINTS, dtype=np.float32)
    g = float(np.exp(np.mean(np.log(params.gamma_map.astype(np.float64)))))
    pre = np.repeat(np.power(v, np.float32(1.0 / g))[:, None], 3, axis=1)
    if params.dct_scale is not None:  # the DC gain of the block scaling, undone on average
        pre = pre / params.dct_scale[:, 0, 0].astype(np.float32)
    camera = operators.invert_lut(pre[None], params.lut)
    balanced = chain.balance(camera)[0]
    to_xyz = BRADFORD_D65_TO_D50 @ SRGB_TO_XYZ @ chain.to_srgb()
    return build(balanced.T, to_xyz, description)


def embedded_profile(data: bytes) -> bytes | None:
    """The ICC profile a JPEG's APP2 segments carry, or ``None`` (headers read only)."""
    with Image.open(io.BytesIO(data)) as im:
        profile = im.info.get("icc_profile")
    return bytes(profile) if profile else None


def to_srgb(pixels: np.ndarray, profile: bytes | None) -> np.ndarray:
    """uint8 RGB pixels described by ``profile`` as a colour-managed viewer shows them:
    uint8 sRGB (LittleCMS, relative colorimetric); without a profile, unchanged."""
    if not profile:
        return pixels
    from PIL import ImageCms  # LittleCMS: only the viewers need it, not every encode

    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    image = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    managed = ImageCms.profileToProfile(
        image, source, srgb, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
    )
    return np.asarray(managed if managed is not None else image)


def viewer_rgb(data: bytes) -> np.ndarray:
    """A JPEG as a colour-managed viewer shows it: float sRGB-encoded H x W x 3 in [0, 1]."""
    with Image.open(io.BytesIO(data)) as im:
        pixels = np.asarray(im.convert("RGB"))
        profile = im.info.get("icc_profile")
    return to_srgb(pixels, profile).astype(np.float32) / np.float32(255.0)
