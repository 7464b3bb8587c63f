"""``rawjpeg info FILE [--json]``: what the file is, model, quality, parameter sizes, camera metadata.

``FILE`` may be ``-`` (an adapter-JPEG on standard input). Strings stored in a file
are printed with control characters escaped, so a crafted file cannot drive the
terminal; ``--json`` prints the same facts as strict JSON.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ..core import jpeg
from ..core.codec import read_record
from ..core.container import AdapterRecord, parameter_payload_size
from ..core.errors import CorruptParameters, NotAnAdapterJpeg, RawJpegError
from ..core.fileio import MAX_INPUT_BYTES, read_input
from ..core.metadata import RawMeta
from ..core.rawio import RAW_EXTENSIONS, read_raw
from .common import STDIO, add_verbosity_args, dump_json, escape_text, human_bytes, read_stdin


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sub-command."""
    p = sub.add_parser("info", help="describe a raw file or adapter-JPEG")
    p.add_argument(
        "file", type=Path, metavar="FILE", help="raw file or adapter-JPEG; - reads standard input"
    )
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    add_verbosity_args(p)
    p.set_defaults(run=run)


def _num(value: object) -> float | None:
    """A stored number as a finite float, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _exposure(t: float | None) -> str:
    if not t or t <= 0:
        return ""
    return f"1/{1 / t:.0f} s" if t < 1 else f"{t:g} s"


def _meta_lines(meta: RawMeta) -> list[str]:
    iso, f_number, focal = _num(meta.iso), _num(meta.f_number), _num(meta.focal_length)
    levels = meta.black_levels if isinstance(meta.black_levels, list) else []
    black = "/".join(f"{v:g}" for v in (_num(b) for b in levels) if v is not None)
    white = _num(meta.white_level)
    rows = [
        ("camera", meta.camera),
        ("lens", meta.lens),
        ("date", meta.datetime),
        ("ISO", f"{iso:g}" if iso else ""),
        ("exposure", _exposure(_num(meta.exposure_time))),
        ("aperture", f"f/{f_number:.1f}" if f_number else ""),
        ("focal length", f"{focal:g} mm" if focal else ""),
        ("orientation", str(meta.orientation)),
        ("CFA", meta.cfa_pattern),
        ("black / white", f"{black} / {white:g}" if black and white is not None else ""),
        ("as-shot WB", meta.wb_text),
        (
            "original",
            f"{meta.source_name} ({human_bytes(_num(meta.source_size) or 0)})"
            if meta.source_name
            else "",
        ),
    ]
    return [f"  {k:<14}{escape_text(v)}" for k, v in rows if v]


def _record_doc(name: str, record: AdapterRecord, size: int) -> dict[str, Any]:
    p = record.params
    return {
        "file": name,
        "kind": "adapter-JPEG",
        "format_version": record.version,
        "width": record.width,
        "height": record.height,
        "model": record.model_name,
        "quality": record.quality,
        "subsampling": record.subsampling,
        "file_bytes": size,
        "bpp": 8.0 * size / (record.width * record.height),
        "parameter_bytes": parameter_payload_size(record),
        "gamma_map": {
            "rows": int(p.gamma_map.shape[0]),
            "columns": int(p.gamma_map.shape[1]),
            "min": float(p.gamma_map.min()),
            "max": float(p.gamma_map.max()),
        },
        "lut_bins": p.lut_bins,
        "dct_scale": p.dct_scale is not None,
        "meta": record.meta.to_dict(),
    }


def _read(path: Path) -> bytes:
    if str(path) == STDIO:
        return read_stdin(MAX_INPUT_BYTES)
    return read_input(
        path, MAX_INPUT_BYTES, f"{path.name} is larger than any adapter-JPEG rawjpeg writes."
    )


def run(args: argparse.Namespace) -> int:
    """Print the description."""
    path: Path = args.file
    name = "standard input" if str(path) == STDIO else str(path)
    if str(path) != STDIO and path.suffix.lower() in RAW_EXTENSIONS:
        try:
            raw = read_raw(path)
        except RawJpegError as exc:
            raise type(exc)(f"{path}: {exc}") from None
        if args.json:
            print(
                dump_json(
                    {
                        "file": name,
                        "kind": "camera raw",
                        "width": raw.width,
                        "height": raw.height,
                        "file_bytes": path.stat().st_size,
                        "meta": raw.meta.to_dict(),
                    }
                ).decode(),
                end="",
            )
            return 0
        print(
            f"{escape_text(path)}: camera raw, {raw.width}x{raw.height}, {human_bytes(path.stat().st_size)}"
        )
        print("\n".join(_meta_lines(raw.meta)))
        return 0
    try:
        data = _read(path)
        record = read_record(data)
        frame = jpeg.check_decodable(data)
        if (frame.width, frame.height) != (record.width, record.height):
            raise CorruptParameters(
                f"The JPEG is {frame.width}x{frame.height} but its parameters were made for "
                f"{record.width}x{record.height}: the image was replaced or resized."
            )
    except NotAnAdapterJpeg:
        w, h = jpeg.jpeg_info(data)
        raise NotAnAdapterJpeg(
            f"{name}: an ordinary {w}x{h} JPEG without rawjpeg parameters; no raw to bring back."
        ) from None
    except RawJpegError as exc:
        raise type(exc)(f"{name}: {exc}") from None
    doc = _record_doc(name, record, len(data))
    if args.json:
        print(dump_json(doc).decode(), end="")
        return 0
    gm = doc["gamma_map"]
    print(
        f"{escape_text(name)}: adapter-JPEG (format v{record.version}), {record.width}x{record.height}"
    )
    print(f"  {'model':<14}{escape_text(record.model_name)}")
    print(f"  {'quality':<14}{record.quality} ({record.subsampling})")
    print(f"  {'file size':<14}{human_bytes(len(data))} ({doc['bpp']:.3f} bpp)")
    print(
        f"  {'parameters':<14}{doc['parameter_bytes']} bytes: gamma map {gm['rows']}x{gm['columns']} "
        f"[{gm['min']:.3f}, {gm['max']:.3f}], LUT 3x{doc['lut_bins']}"
        + (", DCT scale 3x8x8" if doc["dct_scale"] else "")
    )
    print(
        f"  {'pixel check':<14}"
        + ("fingerprint stored: re-encoded or edited pixels are refused on decoding"
           if record.fingerprint is not None
           else "none (written before rawjpeg stored a fingerprint): edits cannot be detected")
    )  # fmt: skip
    print("\n".join(_meta_lines(record.meta)))
    return 0
