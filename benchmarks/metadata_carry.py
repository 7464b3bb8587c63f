"""Metadata carried from each real raw into its adapter-JPEG and the DNG decoded from it.

For every raw, exiftool lists the raw's tags (``-a -G1 -n``; its own File, System,
ExifTool and Composite groups left out); the raw is encoded (q75), the adapter-JPEG
decoded to a DNG, and exiftool lists both outputs. A raw tag is *carried* by an output
when a tag of the same name has the same value there (any group: a CRW's CIFF records
become EXIF and Canon maker-note tags): the same string, the same bytes (exiftool prints a
block as base64 in one file and as byte values in another) or the same numbers
(:func:`same_value`); a tag absent from the output is missing whatever its value. Tags that describe the raw's own image data
(sizes, strips, CFA layout, embedded previews: :data:`IMAGE_DATA_TAGS`) are counted
apart: an adapter-JPEG has its own image data.

The JPEG is also scored on the tags that have a home in a JPEG's standard metadata
(:func:`jpeg_home`): the issue asks for every tag "where a standard tag exists" in the
adapter-JPEG and for everything in the DNG. Without one are the raw's private structures
outside EXIF and maker notes (Sony's SR2 data, Kodak's private IFD), the DNG
specification's own tags (they describe a DNG's raw data and camera space), the raw's
image IFDs' encoding tags (a maker's raw-encoding tags, the colour encoding of the raw's
embedded preview) and the tags whose value is the JPEG's own (its pixel size, its
interoperability index, its compression). Those are counted, and carried by the DNG.

Also: GPS is written into a copy of the DNG test raw with exiftool and must come back
exactly in both outputs.

Usage: ``python benchmarks/metadata_carry.py [RAW ...]`` (default: the shared raws and
the fetched CR2/ARW). Needs exiftool (Debian: libimage-exiftool-perl).
"""

from __future__ import annotations

import base64
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from realdata import real_raw_files  # noqa: E402

from rawjpeg_gui.core import codec  # noqa: E402
from rawjpeg_gui.core.dng import write_dng  # noqa: E402

#: exiftool's own groups (about the file on disk, or computed), not metadata the raw carries.
SKIP_GROUPS = {"System", "File", "ExifTool", "Composite"}
#: Tags that describe the raw's own image data or embedded previews.
IMAGE_DATA_TAGS = frozenset(
    """ImageWidth ImageHeight BitsPerSample Compression PhotometricInterpretation StripOffsets
    StripByteCounts RowsPerStrip SamplesPerPixel PlanarConfiguration TileWidth TileLength
    TileOffsets TileByteCounts SubfileType NewSubfileType SubIFD SubIFDs CFARepeatPatternDim
    CFAPattern CFAPattern2 CFAPlaneColor CFALayout ThumbnailImage ThumbnailOffset
    ThumbnailLength PreviewImage PreviewImageStart PreviewImageLength JpgFromRaw
    JpgFromRawStart JpgFromRawLength RawData RawImageSegmentation ImageFileFormat SensorWidth
    SensorHeight XResolution YResolution ResolutionUnit DefaultCropOrigin DefaultCropSize
    BlackLevel WhiteLevel BlackLevelRepeatDim ActiveArea RawDataOffset RawDataLength
    ImageSize ThumbnailImageValidArea SR2SubIFDOffset SR2SubIFDLength SR2SubIFDKey
    StripOffsets2 ImageByteCount RawImageWidth RawImageHeight ThumbnailTIFF""".split()
)
#: Groups of private raw structures with no standard home in a JPEG (prefixes).
NO_JPEG_HOME_GROUPS = ("SR2", "KodakIFD")
#: Tag IDs whose value in a JPEG is the JPEG's own: ExifImageWidth/Height,
#: CompressedBitsPerPixel, InteropIndex/InteropVersion (interop IFD ids 1 and 2).
JPEG_OWN_TAGS = {40962, 40963, 37122}
JPEG_OWN_INTEROP = {1, 2}
#: TIFF tags that in a raw describe its embedded preview's colour encoding.
PREVIEW_ENCODING_TAGS = {318, 319, 529, 531}
#: The DNG specification's tag range (DNGVersion 50706 ... DNG 1.7's last tags).
DNG_TAG_IDS = range(50706, 52600)
#: Sony's raw-encoding tags in an ARW's raw SubIFD (SonyRawFileType 0x7000 ...
#: SonyCropSize 0x74c8) and Canon's CR2CFAPattern (0xc5e0) in a CR2's raw IFD.
RAW_ENCODING_TAGS = set(range(0x7000, 0x7500)) | {0xC5E0}
GPS_TAGS = {
    "GPSLatitude": "48.8583701",
    "GPSLatitudeRef": "N",
    "GPSLongitude": "2.2944813",
    "GPSLongitudeRef": "E",
    "GPSAltitude": "35.5",
    "GPSAltitudeRef": "0",
}


def _exiftool_json(path: Path, *flags: str) -> dict[str, object]:
    """exiftool's JSON record of ``path`` (numeric values, duplicates kept per group)."""
    out = subprocess.run(
        ["exiftool", "-json", "-a", "-G1", "-n", "-b", *flags, "-api", "LargeFileSupport=1",
         str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    record: dict[str, object] = json.loads(out)[0]
    return record


def _metadata(key: str) -> bool:
    return ":" in key and key.split(":")[0] not in SKIP_GROUPS


def exiftool(path: Path) -> dict[str, object]:
    """{"Group:Tag": value} of ``path`` (numeric values, duplicates kept per group)."""
    return {k: v for k, v in _exiftool_json(path).items() if _metadata(k)}


def exiftool_with_ids(path: Path) -> tuple[dict[str, object], dict[str, int]]:
    """:func:`exiftool`'s tags of ``path`` and, from the same run, each one's numeric tag
    ID (where exiftool gives one)."""
    tags: dict[str, object] = {}
    ids: dict[str, int] = {}
    for key, entry in _exiftool_json(path, "-D").items():
        if _metadata(key) and isinstance(entry, dict):
            tags[key] = entry["val"]
            if isinstance(entry.get("id"), int):
                ids[key] = entry["id"]
    return tags, ids


def jpeg_home(key: str, tag_id: int | None) -> bool:
    """Whether a raw's tag (``Group:Name``, exiftool's numeric ID) has a home in a JPEG's
    standard metadata (see the module docstring)."""
    group = key.split(":", 1)[0]
    if group.startswith(NO_JPEG_HOME_GROUPS):
        return False
    if tag_id is None:
        return True
    if group == "InteropIFD":
        return tag_id not in JPEG_OWN_INTEROP
    if tag_id in JPEG_OWN_TAGS or tag_id in DNG_TAG_IDS:
        return False
    if group.startswith(("IFD", "SubIFD")):
        return tag_id not in RAW_ENCODING_TAGS | PREVIEW_ENCODING_TAGS
    return True


def by_name(tags: dict[str, object]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in tags.items():
        out.setdefault(key.split(":", 1)[1], []).append(str(value))
    return out


def _canonical(value: str) -> bytes | tuple[float, ...] | str:
    """A value as bytes (exiftool's ``base64:`` form), as numbers (one or a list), or as
    the string itself."""
    if value.startswith("base64:"):
        try:
            return base64.b64decode(value[7:], validate=True)
        except ValueError:
            return value
    try:
        numbers = tuple(float(part) for part in value.split())
    except ValueError:
        return value
    return numbers if numbers and all(map(math.isfinite, numbers)) else value


def same_value(a: str, b: str) -> bool:
    """Whether two of exiftool's ``-n`` values are the same: the same string, the same
    bytes (exiftool prints a block as base64 in one file and as a list of byte values in
    another), or the same numbers to exiftool's printed precision."""
    if a == b:
        return True
    x, y = _canonical(a), _canonical(b)
    if isinstance(x, tuple) and isinstance(y, bytes):
        x, y = y, x
    if isinstance(x, bytes) and isinstance(y, tuple):
        return (
            len(x) == len(y)
            and all(v == int(v) and 0 <= v <= 255 for v in y)
            and x == bytes(int(v) for v in y)
        )
    if isinstance(x, tuple) and isinstance(y, tuple):
        return len(x) == len(y) and all(
            math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12) for u, v in zip(x, y, strict=True)
        )
    return isinstance(x, bytes) and x == y


def carried(raw: dict[str, object], other: dict[str, object]) -> tuple[int, int, list[str]]:
    """(photo tags carried, photo tags in the raw, names of the missing photo tags)."""
    names = by_name(other)
    total = done = 0
    missing = []
    for key, value in raw.items():
        name = key.split(":", 1)[1]
        if name in IMAGE_DATA_TAGS:
            continue
        total += 1
        if any(same_value(str(value), other_value) for other_value in names.get(name, [])):
            done += 1
        else:
            missing.append(key)
    return done, total, missing


def measure(path: Path, work: Path, verbose: bool = False) -> tuple[int, int, int, int, int]:
    encoded = codec.encode_file(path, 75)
    jpg = work / f"{path.stem}.jpg"
    jpg.write_bytes(encoded.jpeg)
    dng = work / f"{path.stem}.dng"
    write_dng(dng, codec.decode_file(jpg).raw, reconstructed=True)
    raw_tags, ids = exiftool_with_ids(path)
    image_data = sum(1 for k in raw_tags if k.split(":", 1)[1] in IMAGE_DATA_TAGS)
    j_done, total, j_missing = carried(raw_tags, exiftool(jpg))
    d_done, _, d_missing = carried(raw_tags, exiftool(dng))
    photo = [k for k in raw_tags if k.split(":", 1)[1] not in IMAGE_DATA_TAGS]
    homed = [k for k in photo if jpeg_home(k, ids.get(k))]
    h_done = len(homed) - len(set(homed) & set(j_missing))
    print(
        f"{path.name:30s} {len(raw_tags):5d} {image_data:5d} {total:6d} "
        f"{j_done:5d} {100 * j_done / total:6.1f} % {d_done:5d} {100 * d_done / total:6.1f} %"
        f" {len(homed):6d} {h_done:5d} {100 * h_done / len(homed):6.1f} %"
    )
    if verbose:
        print("   missing in the JPEG:", ", ".join(j_missing))
        print("   missing in the DNG: ", ", ".join(d_missing))
        print("   no JPEG home:       ", ", ".join(k for k in photo if k not in homed))
    return total, j_done, d_done, len(homed), h_done


def gps_check(work: Path) -> bool:
    src = next(p for p in real_raw_files() if p.suffix.lower() == ".dng")
    copy = work / "gps.dng"
    shutil.copyfile(src, copy)
    args = [f"-{k}={v}" for k, v in GPS_TAGS.items()]
    subprocess.run(["exiftool", "-q", "-overwrite_original", *args, str(copy)], check=True)
    jpg = work / "gps.jpg"
    jpg.write_bytes(codec.encode_file(copy, 75).jpeg)
    dng = work / "gps_out.dng"
    write_dng(dng, codec.decode_file(jpg).raw, reconstructed=True)
    want = {k: v for k, v in by_name(exiftool(copy)).items() if k.startswith("GPS")}
    ok = True
    for out in (jpg, dng):
        got = {k: v for k, v in by_name(exiftool(out)).items() if k.startswith("GPS")}
        same = all(got.get(k, [None])[0] == v[0] for k, v in want.items())
        ok &= same
        print(f"GPS in {out.name}: {len(want)} tags written into the raw, "
              f"{'all exact' if same else 'DIFFERENT'}: "
              + ", ".join(f"{k}={got.get(k, ['-'])[0]}" for k in ("GPSLatitude", "GPSLongitude", "GPSAltitude")))  # fmt: skip
    return ok


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    paths = [Path(a) for a in argv if a != "-v"] or real_raw_files()
    if shutil.which("exiftool") is None:
        print("exiftool is not installed (Debian: libimage-exiftool-perl)")
        return 2
    print(
        f"{'raw':30s} {'tags':>5s} {'image':>5s} {'photo':>6s} {'in JPEG':>13s} {'in DNG':>13s}"
        f" {'with a JPEG home, in JPEG':>26s}"
    )
    totals = [0, 0, 0, 0, 0]
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            for i, v in enumerate(measure(path, Path(tmp), verbose)):
                totals[i] += v
        print(f"{'all':30s} {'':5s} {'':5s} {totals[0]:6d} {totals[1]:5d} "
              f"{100 * totals[1] / totals[0]:6.1f} % {totals[2]:5d} {100 * totals[2] / totals[0]:6.1f} %"
              f" {totals[3]:6d} {totals[4]:5d} {100 * totals[4] / totals[3]:6.1f} %")  # fmt: skip
        ok = gps_check(Path(tmp))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
