"""Camera metadata that travels with the image, from raw file to adapter-JPEG to DNG.

:class:`RawMeta` is filled from LibRaw (levels, white balance, colour matrix, CFA)
and from the file's EXIF via exifread (camera, lens, exposure, date). It is
serialised to JSON inside the adapter-JPEG's parameter segment.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import CorruptParameters


@dataclass
class RawMeta:
    """Metadata of one raw frame.

    Attributes:
        source_name: original file name (no folder).
        source_size: original file size in bytes.
        width, height: size of the linear image in pixels (sensor orientation).
        make, model, lens: camera maker, camera model and lens, or "".
        iso: ISO speed, exposure_time: seconds, f_number, focal_length: millimetres.
        datetime: capture time as EXIF "YYYY:MM:DD HH:MM:SS", or "".
        orientation: EXIF orientation code 1-8 (how to display sensor-oriented pixels).
        cfa_pattern: colour filter layout of the top-left 2x2 block, e.g. "RGGB".
        cfa_aligned: the linear image maps one to one onto a regular 2x2 RGB Bayer
            sensor: pixel (y, x) is photosite (y, x), whose colour is
            ``cfa_pattern[2 * (y % 2) + x % 2]`` (no stretch, no crop offset). False
            when unknown (files written before this field existed).
        cfa_pixel_aspect: LibRaw's pixel aspect (photosite width / height) when the
            linear image is a regular 2x2 RGB Bayer sensor with non-square photosites,
            demosaiced and then stretched to square pixels by LibRaw (``core.stretch``:
            the sensor grid is the image unstretched, photosite colours as for
            ``cfa_aligned``); 0.0 otherwise. ``cfa_aligned`` stays false for such an
            image, so a reader that does not know this field treats it as resampled.
        black_levels: per-CFA-channel black levels (raw units).
        white_level: raw saturation level (raw units).
        as_shot_wb: camera white-balance multipliers (R, G, B) normalised to G = 1.
        wb_source: where ``as_shot_wb`` came from: "camera" (recorded in the raw), "auto"
            (estimated as LibRaw's automatic balance: the camera recorded none usable), or ""
            (unknown: files written before this field existed).
        xyz_to_camera: 3x3 XYZ -> camera matrix (DNG ColorMatrix, D65), row-major.
        full_metadata: every tag of the raw (EXIF with maker notes, GPS, XMP, IPTC) as
            :func:`fullmeta.read_full` stores it, or b"". Not part of the JSON record: it
            travels in the adapter-JPEG's metadata segments.
    """

    source_name: str = ""
    source_size: int = 0
    width: int = 0
    height: int = 0
    make: str = ""
    model: str = ""
    lens: str = ""
    iso: float | None = None
    exposure_time: float | None = None
    f_number: float | None = None
    focal_length: float | None = None
    datetime: str = ""
    orientation: int = 1
    cfa_pattern: str = ""
    cfa_aligned: bool = False
    cfa_pixel_aspect: float = 0.0
    black_levels: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    white_level: float = 1.0
    as_shot_wb: list[float] | None = None
    wb_source: str = ""
    xyz_to_camera: list[list[float]] | None = None
    full_metadata: bytes = field(default=b"", repr=False)

    @property
    def wb_text(self) -> str:
        """The balance for people: "2.28, 1.00, 1.13", with "(auto: none recorded)" if estimated."""
        if not self.as_shot_wb:
            return ""
        text = ", ".join(f"{v:.2f}" for v in self.as_shot_wb)
        return f"{text} (auto: none recorded)" if self.wb_source == "auto" else text

    @property
    def camera(self) -> str:
        """ "Make Model" without the make repeated (e.g. "Canon PowerShot G2")."""
        if self.model.lower().startswith(self.make.lower()):
            return self.model
        return f"{self.make} {self.model}".strip()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (omits empty values to keep the file small)."""
        return {
            f.name: v
            for f in dataclasses.fields(self)
            if f.name != "full_metadata" and (v := getattr(self, f.name)) not in ("", None)
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RawMeta:
        """Rebuild from :meth:`to_dict` output, validating types; unknown keys are ignored."""
        if not isinstance(d, dict):
            raise CorruptParameters("The stored camera metadata is not a record.")
        meta = cls()
        for f in dataclasses.fields(cls):
            if f.name not in d or f.name == "full_metadata":
                continue
            value = d[f.name]
            default = getattr(meta, f.name)
            ok = (
                isinstance(value, bool)
                if isinstance(default, bool)
                else isinstance(value, str)
                if isinstance(default, str)
                else isinstance(value, int)
                if isinstance(default, int) and f.name != "white_level"
                else value is None or isinstance(value, (int, float, list))
            )
            if not ok:
                raise CorruptParameters(f"The stored camera metadata field {f.name} is malformed.")
            setattr(meta, f.name, value)
        aspect = meta.cfa_pixel_aspect
        if (
            isinstance(aspect, bool)
            or not isinstance(aspect, (int, float))
            or not (aspect == 0 or 0.01 <= aspect <= 100.0)  # NaN fails too
        ):
            raise CorruptParameters(
                "The stored camera metadata field cfa_pixel_aspect is malformed."
            )
        meta.cfa_pixel_aspect = float(aspect)
        if meta.wb_source not in ("", "camera", "auto"):
            meta.wb_source = ""  # a later version's value: shown as unknown
        if not 1 <= meta.orientation <= 8:
            raise CorruptParameters("The stored orientation is not an EXIF orientation (1-8).")
        return meta


def _ratio(value: Any) -> float | None:
    try:
        v = value.values[0]
        f = float(Fraction(v.num, v.den)) if hasattr(v, "num") else float(v)
    except (AttributeError, IndexError, ValueError, ZeroDivisionError, TypeError):
        return None
    return f if f > 0 else None


def read_exif_fields(path: Path, meta: RawMeta, libraw_other: Any = None) -> None:
    """Fill camera, lens, exposure and date fields of ``meta`` (best effort, never raises).

    EXIF is read with exifread; what it cannot find (CRW files have no EXIF) comes
    from LibRaw's shot info (``libraw_other``, rawpy's ``raw.other``) and, for the
    make and model of Canon CRW files, from the CIFF make/model record.
    """
    import logging

    import exifread

    logging.getLogger("exifread").setLevel(logging.ERROR)
    try:
        with open(path, "rb") as fh:
            tags = exifread.process_file(fh, details=False)
    except Exception:
        tags = {}

    def find(name: str) -> Any:
        for prefix in ("EXIF", "Image", "MakerNote"):
            if f"{prefix} {name}" in tags:
                return tags[f"{prefix} {name}"]
        return None

    def text(name: str) -> str:
        value = find(name)
        return str(value).strip().strip("\x00").strip() if value is not None else ""

    meta.make = text("Make") or meta.make
    meta.model = text("Model") or meta.model
    meta.lens = text("LensModel") or meta.lens
    meta.datetime = text("DateTimeOriginal") or text("DateTime") or meta.datetime
    for attr, key in (
        ("exposure_time", "ExposureTime"),
        ("f_number", "FNumber"),
        ("focal_length", "FocalLength"),
        ("iso", "ISOSpeedRatings"),
    ):
        value = find(key)
        if value is not None and (v := _ratio(value)) is not None:
            setattr(meta, attr, v)
    if libraw_other is not None:
        _fill_from_libraw(libraw_other, meta)
    if not meta.make or not meta.model:
        _fill_from_ciff(path, meta)
    from .fullmeta import read_full

    meta.full_metadata = read_full(path)


def _fill_from_libraw(other: Any, meta: RawMeta) -> None:
    for attr, key in (
        ("iso", "iso_speed"),
        ("exposure_time", "shutter_speed"),
        ("f_number", "aperture"),
        ("focal_length", "focal_length"),
    ):
        value = getattr(other, key, None)
        if getattr(meta, attr) is None and isinstance(value, (int, float)) and value > 0:
            setattr(meta, attr, float(value))
    stamp = getattr(other, "timestamp", None)
    if not meta.datetime and stamp is not None and getattr(stamp, "year", 1970) > 1970:
        meta.datetime = stamp.strftime("%Y:%m:%d %H:%M:%S")


def _fill_from_ciff(path: Path, meta: RawMeta) -> None:
    """Canon CRW (CIFF) keeps "Make\\0Model\\0" in one record near the file's end."""
    if path.suffix.lower() != ".crw":
        return
    try:
        data = path.read_bytes()
    except OSError:
        return
    i = data.find(b"Canon\x00Canon ")
    if i < 0:
        return
    end = data.find(b"\x00", i + 6)
    model = data[i + 6 : end].decode("ascii", "replace") if 0 < end - i < 80 else ""
    if model.isprintable():
        meta.make = meta.make or "Canon"
        meta.model = meta.model or model
