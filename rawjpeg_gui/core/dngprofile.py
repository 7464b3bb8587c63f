"""A DNG raw's own colour profile, carried into the DNG decoded from its adapter-JPEG.

The DNG writer (:mod:`dng`) sets one colour matrix (``ColorMatrix1``, D65) and the
as-shot neutral from the metadata LibRaw read, which is the raw's camera space as LibRaw
understands it: LibRaw folds a DNG's AnalogBalance and CameraCalibration into its matrix
and takes the matrix of the D65 illuminant. When the writer's matrix *is* the raw's own
D65 matrix (to the writer's four decimals), the samples are in the raw's camera space, so
the raw's profile holds for them as it stands and replaces the writer's
(:func:`merge_profile`): both matrices and their illuminants, forward matrices, camera
calibrations and their signatures, AnalogBalance, profile name, embed policy, copyright
and tone curve, and its AsShotNeutral when it is the writer's white balance (the same
direction; DNG readers scale the neutral). A BaselineExposure is kept when it is a valid
number (not ``0/0``).

Left out: a profile's hue/saturation and look tables (they can pass the stored
metadata's 64 KB EXIF; a profile that has them is not carried at all, so no profile
name is written without its tables), opcode lists (they address the raw's pixel grid,
which LibRaw crops) and NoiseProfile (the reconstruction carries the JPEG's coding error).
"""

from __future__ import annotations

from typing import Any

from .colour import ILLUMINANT_D65

#: Colour-profile tags of IFD0 that :func:`merge_profile` carries as one set.
PROFILE_TAGS = frozenset(
    """ColorMatrix1 ColorMatrix2 CalibrationIlluminant1 CalibrationIlluminant2 ForwardMatrix1
    ForwardMatrix2 CameraCalibration1 CameraCalibration2 CameraCalibrationSignature
    ProfileCalibrationSignature AnalogBalance AsShotProfileName ProfileName
    ProfileEmbedPolicy ProfileCopyright ProfileToneCurve AsShotNeutral BaselineExposure""".split()
)
#: Tags whose presence means the profile has tables that are not carried.
TABLE_TAGS = frozenset(("ProfileHueSatMapDims", "ProfileLookTableDims"))
#: ColorMatrix entries agree when they differ by less than the writer's rounding.
_MATRIX_TOLERANCE = 6e-5
#: Neutrals agree when their directions differ by less than this (relative).
_NEUTRAL_TOLERANCE = 1e-5


def stored(datum: Any) -> bool:
    """Whether the stored metadata keeps this IFD0 tag of a DNG raw for the profile."""
    return bool(datum.groupName() == "Image" and datum.tagName() in PROFILE_TAGS | TABLE_TAGS)


def _numbers(value: Any) -> list[float]:
    out = []
    for i in range(value.count()):
        r = value.toRational(i)
        if r[1] == 0:
            return []
        out.append(r[0] / r[1])
    return out


def _d65_matrix(raw: dict[str, Any]) -> list[float]:
    """The raw's matrix for D65: the one whose illuminant is D65, else its only one."""
    for n in ("1", "2"):
        illuminant = raw.get(f"CalibrationIlluminant{n}")
        if (
            f"ColorMatrix{n}" in raw
            and illuminant is not None
            and illuminant.toInt64(0) == ILLUMINANT_D65
        ):
            return _numbers(raw[f"ColorMatrix{n}"])
    if "ColorMatrix1" in raw and "ColorMatrix2" not in raw:
        return _numbers(raw["ColorMatrix1"])
    return []


def _close(a: list[float], b: list[float], tolerance: float) -> bool:
    return len(a) == len(b) > 0 and all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _same_direction(a: list[float], b: list[float]) -> bool:
    if len(a) != len(b) or not a or min(a + b) <= 0:
        return False
    return _close([x / max(a) for x in a], [y / max(b) for y in b], _NEUTRAL_TOLERANCE)


def merge_profile(exif: Any, stored_exif: Any) -> int:
    """Put the raw's profile (``stored_exif``'s IFD0 tags) into the DNG's ``exif`` when
    it describes the DNG's samples (see the module docstring); the number of tags set."""
    raw = {
        d.tagName(): d.value()
        for d in stored_exif
        if d.groupName() == "Image" and d.tagName() in PROFILE_TAGS | TABLE_TAGS
    }
    ours = {d.tagName(): d.value() for d in exif if d.groupName() == "Image"}
    if TABLE_TAGS & raw.keys() or "ColorMatrix1" not in ours:
        return 0
    if not _close(_d65_matrix(raw), _numbers(ours["ColorMatrix1"]), _MATRIX_TOLERANCE):
        return 0
    neutral = raw.pop("AsShotNeutral", None)
    if neutral is not None and "AsShotNeutral" in ours:
        if _same_direction(_numbers(neutral), _numbers(ours["AsShotNeutral"])):
            raw["AsShotNeutral"] = neutral
    exposure = raw.get("BaselineExposure")
    if exposure is not None and not _numbers(exposure):
        del raw["BaselineExposure"]  # 0/0: no valid value
    if "ColorMatrix2" not in raw:  # a single matrix keeps the writer's illuminant (D65)
        raw.pop("CalibrationIlluminant1", None)
    elif not {"CalibrationIlluminant1", "CalibrationIlluminant2"} <= raw.keys():
        return 0  # two matrices without their illuminants: not a usable profile
    for name, value in raw.items():
        exif[f"Exif.Image.{name}"] = value
    return len(raw)
