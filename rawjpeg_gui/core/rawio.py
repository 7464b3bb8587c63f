"""Raw input: a camera raw (or 16-bit linear TIFF/PNG) becomes a :class:`RawImage`.

Pipeline for camera raws (LibRaw through rawpy): per-channel black level
subtracted, scaled by the white level, clipped to [0, 1], demosaiced (AHD) to
three-channel linear camera RGB, float32, full resolution. No white balance, no
colour matrix, no gamma, no auto-brightness and no rotation: orientation stays
metadata. Non-square sensor pixels (some old Kodaks) are resampled square by LibRaw.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import RawDecodeError, UnsupportedFileError
from .metadata import RawMeta, read_exif_fields

#: Camera raw formats handed to LibRaw (lower-case suffixes).
RAW_EXTENSIONS = frozenset(
    ".dng .arw .srf .sr2 .cr2 .cr3 .crw .nef .nrw .raf .orf .rw2 .raw .pef .kdc .dcr .srw "
    ".mrw .mos .3fr .fff .iiq .x3f .erf .mef .rwl .k25 .dc2".split()
)
#: Linear 16-bit images accepted as raw input.
LINEAR_EXTENSIONS = frozenset({".tif", ".tiff", ".png"})
#: LibRaw flip code -> EXIF orientation.
_FLIP_TO_EXIF = {0: 1, 3: 3, 5: 8, 6: 6}


@dataclass
class RawImage:
    """A linear camera-RGB image with its metadata.

    Attributes:
        data: float32 H x W x 3 in [0, 1], linear camera RGB, sensor orientation.
        meta: camera and file metadata (see :class:`RawMeta`).
    """

    data: np.ndarray
    meta: RawMeta

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.data.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.data.shape[1])


def is_raw_path(path: str | os.PathLike[str]) -> bool:
    """True when the suffix names a camera raw format rawjpeg reads."""
    return Path(path).suffix.lower() in RAW_EXTENSIONS


def read_raw(path: str | os.PathLike[str]) -> RawImage:
    """Read a camera raw or a 16-bit linear TIFF/PNG into a :class:`RawImage`.

    Raises:
        UnsupportedFileError: the suffix is not a raw or linear image format.
        RawDecodeError: the file is missing, corrupt, truncated or not decodable.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise RawDecodeError(f"{p.name} does not exist or is not a file.")
    if suffix in LINEAR_EXTENSIONS:
        return _read_linear(p)
    if suffix not in RAW_EXTENSIONS:
        raise UnsupportedFileError(f"{p.name} is not a camera raw file rawjpeg can read.")
    return _read_camera_raw(p)


def _read_camera_raw(p: Path) -> RawImage:
    import rawpy

    try:
        with rawpy.imread(str(p)) as raw:
            if raw.raw_type != rawpy.RawType.Flat or raw.num_colors != 3:
                raise RawDecodeError(f"{p.name} uses a sensor layout rawjpeg does not support.")
            rgb = raw.postprocess(
                demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD,
                output_color=rawpy.ColorSpace.raw,
                output_bps=16,
                gamma=(1.0, 1.0),
                no_auto_bright=True,
                use_camera_wb=False,
                use_auto_wb=False,
                user_wb=[1.0, 1.0, 1.0, 1.0],
                user_flip=0,
                adjust_maximum_thr=0.0,
                highlight_mode=rawpy.HighlightMode.Clip,
            )
            meta = _camera_meta(raw, p, rgb.shape)
    except RawDecodeError:
        raise
    except Exception as exc:  # rawpy raises many LibRaw error types
        reason = str(exc).strip() or type(exc).__name__
        raise RawDecodeError(
            f"{p.name} could not be decoded as a camera raw file ({reason})."
        ) from None
    data = rgb.astype(np.float32)
    data *= np.float32(1.0 / 65535.0)
    return RawImage(data, meta)


def _finite_or_none(values: np.ndarray) -> list[float] | None:
    values = np.asarray(values, dtype=np.float64)
    return values.tolist() if np.all(np.isfinite(values)) and np.any(values != 0) else None


def _camera_meta(raw, p: Path, shape: tuple[int, ...]) -> RawMeta:  # type: ignore[no-untyped-def]
    desc = raw.color_desc.decode("ascii", "replace")
    pattern = raw.raw_pattern
    cfa = "".join(desc[int(i)] for i in pattern[:2, :2].ravel()) if pattern is not None else ""
    wb = np.asarray(raw.camera_whitebalance, dtype=np.float64)[:3]
    as_shot = None
    if np.all(np.isfinite(wb)) and np.all(wb > 0):
        as_shot = (wb / wb[1]).tolist()
    else:
        day = np.asarray(raw.daylight_whitebalance, dtype=np.float64)[:3]
        if np.all(np.isfinite(day)) and np.all(day > 0):
            as_shot = (day / day[1]).tolist()
    xyz = np.asarray(raw.rgb_xyz_matrix, dtype=np.float64)[:3]
    meta = RawMeta(
        source_name=p.name,
        source_size=p.stat().st_size,
        width=int(shape[1]),
        height=int(shape[0]),
        cfa_pattern=cfa,
        black_levels=[float(v) for v in raw.black_level_per_channel],
        white_level=float(raw.white_level),
        as_shot_wb=as_shot,
        xyz_to_camera=_finite_or_none(xyz),
        orientation=_FLIP_TO_EXIF.get(int(raw.sizes.flip), 1),
    )
    read_exif_fields(p, meta, raw.other)
    return meta


def _read_linear(p: Path) -> RawImage:
    try:
        if p.suffix.lower() == ".png":
            import imagecodecs  # Pillow reduces 16-bit RGB PNG to 8 bits

            arr = np.asarray(imagecodecs.png_decode(p.read_bytes()))
        else:
            import tifffile

            arr = tifffile.imread(p)
    except Exception as exc:
        raise RawDecodeError(f"{p.name} could not be read as an image ({exc}).") from None
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise RawDecodeError(f"{p.name} is not a three-channel RGB image.")
    if arr.dtype == np.uint16:
        data = arr.astype(np.float32) / np.float32(65535.0)
    elif arr.dtype.kind == "f":
        data = np.clip(np.nan_to_num(arr.astype(np.float32)), 0.0, 1.0)
    else:
        raise RawDecodeError(f"{p.name} is {arr.dtype} data; a linear image must be 16-bit or float.")
    meta = RawMeta(
        source_name=p.name,
        source_size=p.stat().st_size,
        width=int(data.shape[1]),
        height=int(data.shape[0]),
        white_level=65535.0,
        black_levels=[0.0, 0.0, 0.0, 0.0],
    )
    return RawImage(np.ascontiguousarray(data), meta)


def read_embedded_preview(path: str | os.PathLike[str]) -> np.ndarray | None:
    """The camera's embedded JPEG/bitmap preview as uint8 H x W x 3, or ``None`` if absent."""
    import io

    import rawpy
    from PIL import Image

    try:
        with rawpy.imread(str(path)) as raw:
            thumb = raw.extract_thumb()
    except Exception:
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            with Image.open(io.BytesIO(thumb.data)) as im:
                return np.asarray(im.convert("RGB"))
        arr = np.asarray(thumb.data)
        return arr if arr.ndim == 3 and arr.shape[2] == 3 and arr.size > 300 else None
    except Exception:
        return None
