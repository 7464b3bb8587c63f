"""Build a corpus of bad inputs from the real raws: the cases rawjpeg must refuse cleanly.

Every case is a file (or a FIFO, a device symlink, a folder) in the corpus folder and
one entry of ``manifest.json``: its attack class, its path and what it poses as
("raw" for ``encode``/``info``, "jpeg" for ``decode``/``info``). Adapter-JPEGs are
made with the real encoder from real raws; every crafted parameter segment is
re-signed (CRC-32 recomputed) so the parsers behind the checksum are reached.

Attack classes:
    raw-truncated   real raws cut at 10, 30, 50, 70, 90 and 99 %
    raw-bitflip     real raws with bytes flipped in the header and in the data
    raw-crafted     headers claiming huge sizes (DNG 12000x12000, a float DNG, PNG
                    and TIFF linear images), empty, text and zero-filled "raws"
    special-file    FIFOs, symlinks to /dev/zero and /dev/urandom, folders, dangling links
    jpeg-truncated  adapter-JPEGs cut at 10-99 %, with or without an end marker
    jpeg-bitflip    flips in the entropy data; flips inside the records (re-signed)
    segment-crafted metadata JSON attacks (deep nesting, tiny or huge numbers, odd
                    types, control characters), two segments, CMYK and grayscale
                    JPEGs with a segment, a 9000x9000 frame, a zip bomb, bad records

Usage: python scripts/make_bad_inputs.py OUT_DIR [--raw-dir DIR ...] [--seed 1]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import struct
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The real raws the corpus is cut from (file names looked up in the raw folders).
SOURCES = (
    "dcc_canon_g2_0304.crw",
    "dcc_canon_s40_0119.crw",
    "dcc_kodak_dc120_p003908.kdc",
    "dcc_kodak_dc120_p003911.kdc",
    "tinydng_colorchart.dng",
    "IMG_5952.CR2",
    "_DSC2164.ARW",
)
DEFAULT_RAW_DIRS = (ROOT.parent / "shared" / "data" / "raw", ROOT / ".test-data")
TRUNCATIONS = (0.10, 0.30, 0.50, 0.70, 0.90, 0.99)

_IDENT = b"RAWJPEG\x00"


class Corpus:
    """The corpus folder and its manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[dict[str, str]] = []
        root.mkdir(parents=True, exist_ok=True)

    def add(self, cls: str, name: str, poses_as: str, data: bytes | None = None) -> Path:
        """Record a case (writing ``data`` to it when given)."""
        folder = self.root / cls
        folder.mkdir(exist_ok=True)
        path = folder / name
        if data is not None:
            path.write_bytes(data)
        self.cases.append(
            {"class": cls, "path": str(path.relative_to(self.root)), "poses_as": poses_as}
        )
        return path

    def save(self) -> Path:
        """Write ``manifest.json``."""
        out = self.root / "manifest.json"
        out.write_text(json.dumps({"cases": self.cases}, indent=1))
        return out


# ---------------------------------------------------------------- segment surgery (re-signed)


def split_segment(jpeg: bytes) -> tuple[int, int, int, int, list[tuple[int, bytes]]]:
    """(segment start, segment end, version, flags, records) of an adapter-JPEG."""
    i = jpeg.index(b"\xff\xeb")
    while jpeg[i + 4 : i + 4 + len(_IDENT)] != _IDENT:
        i = jpeg.index(b"\xff\xeb", i + 2)
    (length,) = struct.unpack_from(">H", jpeg, i + 2)
    body = jpeg[i + 4 : i + 2 + length]
    version, flags, _size, _crc = struct.unpack_from("<BBII", body, len(_IDENT))
    recs, pos, blob = [], 0, body[len(_IDENT) + 10 :]
    while pos < len(blob):
        tag, n = struct.unpack_from("<BI", blob, pos)
        recs.append((tag, blob[pos + 5 : pos + 5 + n]))
        pos += 5 + n
    return i, i + 2 + length, version, flags, recs


def build_segment(version: int, flags: int, recs: Iterable[tuple[int, bytes]]) -> bytes:
    """A complete APP11 segment (marker and length included) with a valid CRC."""
    blob = b"".join(struct.pack("<BI", t, len(b)) + b for t, b in recs)
    body = _IDENT + struct.pack("<BBII", version, flags, len(blob), zlib.crc32(blob)) + blob
    if len(body) + 2 > 0xFFFF:
        body = body[: 0xFFFF - 2]
    return b"\xff\xeb" + struct.pack(">H", len(body) + 2) + body


def resign(
    jpeg: bytes, edit: Callable[[list[tuple[int, bytes]]], list[tuple[int, bytes]]]
) -> bytes:
    """``jpeg`` with its records replaced by ``edit(records)``, CRC re-signed."""
    start, end, version, flags, recs = split_segment(jpeg)
    return jpeg[:start] + build_segment(version, flags, edit(list(recs))) + jpeg[end:]


def with_meta(
    jpeg: bytes, change: Callable[[dict], object] | None = None, raw_json: bytes | None = None
) -> bytes:
    """Re-signed ``jpeg`` whose metadata JSON is ``change(meta)`` (or the bytes ``raw_json``)."""

    def edit(recs: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        out = []
        for tag, body in recs:
            if tag == 5:
                if raw_json is None:
                    meta = json.loads(zlib.decompress(body))
                    result = change(meta) if change else None
                    meta = meta if result is None else result
                    body = zlib.compress(json.dumps(meta).encode(), 9)
                else:
                    body = zlib.compress(raw_json, 9)
            out.append((tag, body))
        return out

    return resign(jpeg, edit)


def sof_offset(jpeg: bytes) -> int:
    """Offset of the frame header's payload (after marker and length)."""
    pos = 2
    while True:
        marker = jpeg[pos + 1]
        (length,) = struct.unpack_from(">H", jpeg, pos + 2)
        if marker in (0xC0, 0xC1, 0xC2):
            return pos + 4
        pos += 2 + length


# ---------------------------------------------------------------- raw attacks


def find_sources(raw_dirs: Iterable[Path]) -> dict[str, Path]:
    """Name -> path of every source raw present."""
    found: dict[str, Path] = {}
    for name in SOURCES:
        for d in raw_dirs:
            if (d / name).is_file():
                found[name] = d / name
                break
    return found


def raw_attacks(c: Corpus, sources: dict[str, Path], rng: random.Random) -> None:
    """Truncated and bit-flipped real raws."""
    for name, path in sources.items():
        data = path.read_bytes()
        stem, suffix = os.path.splitext(name)
        for frac in TRUNCATIONS:
            c.add(
                "raw-truncated",
                f"{stem}_cut{int(frac * 100)}{suffix}",
                "raw",
                data[: int(len(data) * frac)],
            )
        for k in range(3):
            b = bytearray(data)
            if k == 0:  # the header: the first 4 KB
                spots = [rng.randrange(min(4096, len(b))) for _ in range(8)]
            elif k == 1:  # the whole file, lightly
                spots = [rng.randrange(len(b)) for _ in range(32)]
            else:  # a zeroed block in the middle
                mid = len(b) // 2
                b[mid : mid + 65536] = bytes(min(65536, len(b) - mid))
                spots = []
            for s in spots:
                b[s] ^= 1 << rng.randrange(8)
            c.add("raw-bitflip", f"{stem}_flip{k}{suffix}", "raw", bytes(b))


def _patch_tiff_dims(data: bytes, width: int, height: int) -> bytes:
    """Every ImageWidth/ImageLength tag of a little-endian TIFF set to width/height."""
    b = bytearray(data)
    (ifd,) = struct.unpack_from("<I", b, 4)
    seen = set()
    todo = [ifd]
    while todo:
        off = todo.pop()
        if off == 0 or off in seen or off + 2 > len(b):
            continue
        seen.add(off)
        (n,) = struct.unpack_from("<H", b, off)
        for i in range(n):
            e = off + 2 + 12 * i
            if e + 12 > len(b):
                break
            tag, typ, _count = struct.unpack_from("<HHI", b, e)
            if tag in (256, 257):
                value = width if tag == 256 else height
                if typ == 3:
                    struct.pack_into("<H", b, e + 8, value)
                else:
                    struct.pack_into("<I", b, e + 8, value)
            if tag == 330:  # SubIFDs
                (count,) = struct.unpack_from("<I", b, e + 4)
                if count == 1:
                    todo.append(struct.unpack_from("<I", b, e + 8)[0])
        nxt = off + 2 + 12 * n
        if nxt + 4 <= len(b):
            todo.append(struct.unpack_from("<I", b, nxt)[0])
    return bytes(b)


def _float_dng(width: int, height: int) -> bytes:
    """A small deflate-compressed float CFA DNG, its size tags then claiming width x height."""
    import numpy as np
    import tifffile

    buf = io.BytesIO()
    data = np.full((256, 256), 0.25, np.float32)
    extratags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern RGGB
        (50717, "f", 1, (1.0,), True),  # WhiteLevel
    ]
    tifffile.imwrite(buf, data, photometric=32803, compression="zlib", extratags=extratags)
    return _patch_tiff_dims(buf.getvalue(), width, height)


def crafted_raws(c: Corpus, sources: dict[str, Path]) -> None:
    """Headers claiming huge sizes, and files that are not raws at all."""
    import numpy as np
    import tifffile

    if "tinydng_colorchart.dng" in sources:
        dng = sources["tinydng_colorchart.dng"].read_bytes()
        c.add("raw-crafted", "dng_12000x12000.dng", "raw", _patch_tiff_dims(dng, 12000, 12000))
        c.add(
            "raw-crafted",
            "dng_12000x12000_683k.dng",
            "raw",
            _patch_tiff_dims(dng, 12000, 12000)[: 683 * 1024],
        )
        c.add("raw-crafted", "dng_65535x1.dng", "raw", _patch_tiff_dims(dng, 65535, 1))
    c.add("raw-crafted", "float_dng_12000x12000.dng", "raw", _float_dng(12000, 12000))
    c.add("raw-crafted", "empty.cr2", "raw", b"")
    c.add("raw-crafted", "text.nef", "raw", b"hello, this is not a raw file\n" * 10)
    c.add("raw-crafted", "zeros.arw", "raw", bytes(1 << 20))
    c.add("raw-crafted", "jpeg_as.dng", "raw", _plain_jpeg())
    # Linear 16-bit inputs whose headers claim huge sizes.
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.zeros((64, 64, 3), np.uint16), photometric="rgb", compression="zlib")
    c.add(
        "raw-crafted",
        "tiff_60000x60000.tiff",
        "raw",
        _patch_tiff_dims(buf.getvalue(), 60000, 60000),
    )
    import imagecodecs

    png = bytearray(imagecodecs.png_encode(np.zeros((64, 64, 3), np.uint16)))
    struct.pack_into(">II", png, 16, 60000, 60000)
    struct.pack_into(">I", png, 29, zlib.crc32(bytes(png[12:29])))
    c.add("raw-crafted", "png_60000x60000.png", "raw", bytes(png))


def _plain_jpeg(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(
        mode, size, (120, 80, 40) if mode == "RGB" else 100 if mode == "L" else (10, 20, 30, 40)
    ).save(out, "JPEG", quality=80)
    return out.getvalue()


def special_files(c: Corpus) -> None:
    """FIFOs, device symlinks, folders and dangling links posing as inputs."""
    for name, kind in (("fifo.jpg", "jpeg"), ("fifo.dng", "raw"), ("fifo.tiff", "raw")):
        path = c.add("special-file", name, kind)
        if not path.exists():
            os.mkfifo(path)
    for name, target, kind in (
        ("zero.jpg", "/dev/zero", "jpeg"),
        ("zero.dng", "/dev/zero", "raw"),
        ("zero.png", "/dev/zero", "raw"),
        ("urandom.jpg", "/dev/urandom", "jpeg"),
        ("urandom.cr2", "/dev/urandom", "raw"),
        ("dangling.jpg", "/nonexistent/rawjpeg-target", "jpeg"),
    ):
        path = c.add("special-file", name, kind)
        if not path.is_symlink():
            os.symlink(target, path)
    for name, kind in (("folder.jpg", "jpeg"), ("folder.crw", "raw")):
        c.add("special-file", name, kind).mkdir(exist_ok=True)


# ---------------------------------------------------------------- adapter-JPEG attacks


def adapter_jpegs(sources: dict[str, Path]) -> dict[str, bytes]:
    """Real adapter-JPEGs made by the encoder (a Kodak and a Canon CRW)."""
    from rawjpeg_gui.core.codec import encode_file

    out = {}
    for name in ("dcc_kodak_dc120_p003908.kdc", "dcc_canon_g2_0304.crw"):
        if name in sources:
            out[os.path.splitext(name)[0]] = encode_file(sources[name], 50).jpeg
    return out


def jpeg_attacks(c: Corpus, jpegs: dict[str, bytes], rng: random.Random) -> None:
    """Truncated and bit-flipped adapter-JPEGs."""
    for stem, data in jpegs.items():
        c.add("jpeg-truncated", f"{stem}_good_control.jpg", "jpeg-good", data)
        for frac in TRUNCATIONS:
            cut = data[: int(len(data) * frac)]
            c.add("jpeg-truncated", f"{stem}_cut{int(frac * 100)}.jpg", "jpeg", cut)
            c.add(
                "jpeg-truncated", f"{stem}_cut{int(frac * 100)}_eoi.jpg", "jpeg", cut + b"\xff\xd9"
            )
        start, end, *_ = split_segment(data)
        for k in range(4):  # flips in the entropy-coded data
            b = bytearray(data)
            for _ in range(4 + 8 * k):
                s = rng.randrange(end + 2048, len(b) - 2)
                b[s] ^= 1 << rng.randrange(8)
            c.add("jpeg-bitflip", f"{stem}_entropy{k}.jpg", "jpeg", bytes(b))
        for k in range(8):  # flips inside the records, CRC re-signed

            def flip(recs: list[tuple[int, bytes]], k: int = k) -> list[tuple[int, bytes]]:
                i = k % len(recs)
                tag, body = recs[i]
                b = bytearray(body)
                for _ in range(1 + k):
                    if b:
                        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
                recs[i] = (tag, bytes(b))
                return recs

            c.add("jpeg-bitflip", f"{stem}_records{k}.jpg", "jpeg", resign(data, flip))


def _nested(depth: int) -> bytes:
    return b'{"source_name":"x","black_levels":' + b"[" * depth + b"]" * depth + b"}"


def segment_attacks(c: Corpus, jpegs: dict[str, bytes]) -> None:
    """Crafted parameter segments (all re-signed) and crafted frames."""
    from PIL import Image

    from rawjpeg_gui.core import jpeg as jp

    stem, data = next(iter(jpegs.items()))
    add = lambda name, blob: c.add("segment-crafted", name, "jpeg", blob)  # noqa: E731
    meta_cases: dict[str, Callable[[dict], object]] = {
        "exposure_tiny": lambda m: m.update(exposure_time=1e-320),
        "exposure_huge": lambda m: m.update(exposure_time=1e308),
        "exposure_negative": lambda m: m.update(exposure_time=-1.0),
        "iso_list": lambda m: m.update(iso=[1, 2]),
        "iso_string": lambda m: m.update(iso="800"),
        "iso_huge": lambda m: m.update(iso=1e300),
        "black_levels_string": lambda m: m.update(black_levels="0 0 0 0"),
        "black_levels_dict": lambda m: m.update(black_levels={"r": 0}),
        "black_levels_nested": lambda m: m.update(black_levels=[[0], [0], [0], [0]]),
        "black_levels_empty": lambda m: m.update(black_levels=[]),
        "black_levels_long": lambda m: m.update(black_levels=[0.0] * 1000),
        "wb_short": lambda m: m.update(as_shot_wb=[1.0]),
        "wb_zero": lambda m: m.update(as_shot_wb=[0.0, 0.0, 0.0]),
        "wb_strings": lambda m: m.update(as_shot_wb=["a", "b", "c"]),
        "wb_number": lambda m: m.update(as_shot_wb=2.0),
        "source_size_huge": lambda m: m.update(source_size=10**400),
        "source_size_negative": lambda m: m.update(source_size=-5),
        "source_size_float": lambda m: m.update(source_size=1.5e300),
        "white_level_zero": lambda m: m.update(white_level=0),
        "white_level_bool": lambda m: m.update(white_level=True),
        "xyz_ragged": lambda m: m.update(xyz_to_camera=[[1, 0], [0, 1, 0], [0]]),
        "xyz_strings": lambda m: m.update(xyz_to_camera=[["a"] * 3] * 3),
        "orientation_zero": lambda m: m.update(orientation=0),
        "orientation_float": lambda m: m.update(orientation=1.5),
        "width_negative": lambda m: m.update(width=-1),
        "control_chars": lambda m: m.update(
            model="Evil\x1b]0;pwned\x07\x1b[2J camera",
            lens="\x1b[31mred\x1b[0m",
            source_name="a\rb\x08c.dng",
        ),
        "long_strings": lambda m: m.update(model="M" * 100000),
        "not_a_dict": lambda m: [1, 2, 3],
        "null_everything": lambda m: {k: None for k in m},
    }
    for name, change in meta_cases.items():
        add(f"meta_{name}.jpg", with_meta(data, change))
    add("meta_nested_1000.jpg", with_meta(data, raw_json=_nested(1000)))
    add("meta_nested_100000.jpg", with_meta(data, raw_json=_nested(100000)))
    add(
        "meta_nan_literal.jpg", with_meta(data, raw_json=b'{"iso": NaN, "exposure_time": Infinity}')
    )
    add("meta_not_json.jpg", with_meta(data, raw_json=b"\xff\xfe not json"))
    add("meta_zip_bomb.jpg", with_meta(data, raw_json=b'{"model":"' + b" " * (8 << 20) + b'"}'))

    def image_record(
        width: int, height: int, quality: int = 50
    ) -> Callable[[list[tuple[int, bytes]]], list]:
        def edit(recs: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
            return [
                (t, struct.pack("<IIB", width, height, quality) + b[9:]) if t == 1 else (t, b)
                for t, b in recs
            ]

        return edit

    add("record_size_mismatch.jpg", resign(data, image_record(640, 480)))
    add("record_quality_0.jpg", resign(data, image_record(*_size(data), quality=0)))
    add("record_missing_lut.jpg", resign(data, lambda r: [x for x in r if x[0] != 3]))
    add("record_duplicate.jpg", resign(data, lambda r: r + r[:1]))
    add("record_unknown_tag.jpg", resign(data, lambda r: r + [(99, b"\x00" * 10)]))
    add(
        "record_gamma_nan.jpg",
        resign(
            data,
            lambda r: [
                (t, b[:4] + struct.pack("<ff", float("nan"), 1.0) + b[12:]) if t == 2 else (t, b)
                for t, b in r
            ],
        ),
    )
    add(
        "record_gamma_huge.jpg",
        resign(
            data,
            lambda r: [
                (t, struct.pack("<HH", 60000, 60000) + b[4:]) if t == 2 else (t, b) for t, b in r
            ],
        ),
    )
    add(
        "record_lut_bins_huge.jpg",
        resign(
            data,
            lambda r: [
                (t, b[:1] + struct.pack("<H", 65535) + b[3:]) if t == 3 else (t, b) for t, b in r
            ],
        ),
    )
    start, end, version, flags, recs = split_segment(data)
    add("version_99.jpg", data[:start] + build_segment(99, flags, recs) + data[end:])
    segment = data[start:end]
    add("two_segments.jpg", data[:end] + segment + data[end:])
    other = jpegs.get(list(jpegs)[-1], data)
    o_start, o_end, *_ = split_segment(other)
    add("two_different_segments.jpg", data[:end] + other[o_start:o_end] + data[end:])
    # 9000x9000: the frame alone, and the frame and the record together.
    sof = sof_offset(data)
    big = bytearray(data)
    struct.pack_into(">HH", big, sof + 1, 9000, 9000)
    add("frame_9000x9000.jpg", bytes(big))
    add("frame_and_record_9000x9000.jpg", resign(bytes(big), image_record(9000, 9000)))
    # Grayscale and CMYK JPEGs carrying a valid segment of the same size.
    w, h = _size(data)
    body = segment[4:]
    for mode in ("L", "CMYK"):
        add(f"{mode.lower()}_with_segment.jpg", jp.insert_segment(_plain_jpeg(mode, (w, h)), body))
    add("plain_with_segment_wrong_size.jpg", jp.insert_segment(_plain_jpeg("RGB", (64, 48)), body))
    add("plain_jpeg.jpg", _plain_jpeg())
    add("not_a_jpeg.jpg", b"GIF89a" + bytes(100))
    im = io.BytesIO()
    Image.new("RGB", (w, h), (90, 90, 90)).save(im, "PNG")
    add("png_named_jpg.jpg", im.getvalue())


def _size(jpeg: bytes) -> tuple[int, int]:
    sof = sof_offset(jpeg)
    height, width = struct.unpack_from(">HH", jpeg, sof + 1)
    return width, height


def build(root: Path, raw_dirs: Iterable[Path] = DEFAULT_RAW_DIRS, seed: int = 1) -> Path:
    """Write the whole corpus under ``root``; the path of its manifest."""
    rng = random.Random(seed)
    c = Corpus(root)
    sources = find_sources(list(raw_dirs))
    if not sources:
        raise SystemExit("no source raws found; see ../shared/DATA.md")
    raw_attacks(c, sources, rng)
    crafted_raws(c, sources)
    special_files(c)
    jpegs = adapter_jpegs(sources)
    jpeg_attacks(c, jpegs, rng)
    segment_attacks(c, jpegs)
    return c.save()


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument(
        "--raw-dir", type=Path, action="append", help="folder with the source raws (repeatable)"
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    manifest = build(args.out, args.raw_dir or DEFAULT_RAW_DIRS, args.seed)
    cases = json.loads(manifest.read_text())["cases"]
    print(f"{len(cases)} cases in {args.out} ({manifest.name})")


if __name__ == "__main__":
    main()
