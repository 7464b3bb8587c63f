"""``rawjpeg info FILE``: what the file is, model, quality, parameter sizes, camera metadata."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core import jpeg
from ..core.codec import read_file_bytes, read_record
from ..core.container import parameter_payload_size
from ..core.errors import NotAnAdapterJpeg, RawJpegError
from ..core.metadata import RawMeta
from ..core.rawio import RAW_EXTENSIONS, read_raw
from .common import human_bytes


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sub-command."""
    p = sub.add_parser("info", help="describe a raw file or adapter-JPEG")
    p.add_argument("file", type=Path, metavar="FILE")
    p.set_defaults(run=run)


def _meta_lines(meta: RawMeta) -> list[str]:
    rows = [
        ("camera", meta.camera),
        ("lens", meta.lens),
        ("date", meta.datetime),
        ("ISO", f"{meta.iso:g}" if meta.iso else ""),
        ("exposure", f"1/{1 / meta.exposure_time:.0f} s" if meta.exposure_time and meta.exposure_time < 1
         else f"{meta.exposure_time:g} s" if meta.exposure_time else ""),
        ("aperture", f"f/{meta.f_number:.1f}" if meta.f_number else ""),
        ("focal length", f"{meta.focal_length:g} mm" if meta.focal_length else ""),
        ("orientation", str(meta.orientation)),
        ("CFA", meta.cfa_pattern),
        ("black / white", f"{'/'.join(f'{b:g}' for b in meta.black_levels)} / {meta.white_level:g}"),
        ("as-shot WB", meta.wb_text),
        ("original", f"{meta.source_name} ({human_bytes(meta.source_size)})" if meta.source_name else ""),
    ]
    return [f"  {k:<14}{v}" for k, v in rows if v]


def run(args: argparse.Namespace) -> int:
    """Print the description."""
    path: Path = args.file
    if path.suffix.lower() in RAW_EXTENSIONS:
        try:
            raw = read_raw(path)
        except RawJpegError as exc:
            raise type(exc)(f"{path}: {exc}") from None
        print(f"{path}: camera raw, {raw.width}x{raw.height}, {human_bytes(path.stat().st_size)}")
        print("\n".join(_meta_lines(raw.meta)))
        return 0
    try:
        data = read_file_bytes(path)
        record = read_record(data)
    except NotAnAdapterJpeg:
        w, h = jpeg.jpeg_info(data)
        raise NotAnAdapterJpeg(
            f"{path}: an ordinary {w}x{h} JPEG without rawjpeg parameters; no raw to bring back."
        ) from None
    except RawJpegError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    p = record.params
    bpp = 8.0 * len(data) / (record.width * record.height)
    print(f"{path}: adapter-JPEG (format v{record.version}), {record.width}x{record.height}")
    print(f"  {'model':<14}{record.model_name}")
    print(f"  {'quality':<14}{record.quality} ({record.subsampling})")
    print(f"  {'file size':<14}{human_bytes(len(data))} ({bpp:.3f} bpp)")
    print(
        f"  {'parameters':<14}{parameter_payload_size(record)} bytes: gamma map "
        f"{p.gamma_map.shape[0]}x{p.gamma_map.shape[1]} "
        f"[{p.gamma_map.min():.3f}, {p.gamma_map.max():.3f}], LUT 3x{p.lut_bins}"
        + (", DCT scale 3x8x8" if p.dct_scale is not None else "")
    )
    print(
        f"  {'pixel check':<14}"
        + ("fingerprint stored: re-encoded or edited pixels are refused on decoding"
           if record.fingerprint is not None
           else "none (written before rawjpeg stored a fingerprint): edits cannot be detected")
    )  # fmt: skip
    print("\n".join(_meta_lines(record.meta)))
    return 0
