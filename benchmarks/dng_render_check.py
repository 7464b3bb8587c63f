"""How faithfully raw developers render rawjpeg's DNGs: the table in docs/DNG.md.

For every real raw (``../shared/data/raw`` and ``.test-data``) it writes three DNGs
and compares LibRaw's renderings with LibRaw's rendering of the original file:

- ``direct``: ``rawjpeg decode RAW -o X.dng`` (the reference linear image),
- ``via JPEG qQ``: ``rawjpeg encode -q Q`` then ``rawjpeg decode X.jpg -o X.dng``,
- ``writer only``: LibRaw's own demosaic of the original (white balance applied
  before demosaicing, then divided out) written with ``write_dng``: isolates the
  DNG writer from rawjpeg's demosaic order.

Columns: ``linear`` is PSNR of LibRaw's linear read-back of the DNG against the image
written (16-bit rounding only); the render columns are PSNR (dB, linear sRGB in [0, 1])
between ``postprocess`` of the DNG and of the original, both with ``use_camera_wb`` (cam
WB), or with the original forced to the white balance rawjpeg stored (same WB).

Usage: ``python benchmarks/dng_render_check.py [-q 95] [--json out.json] [FILES...]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the LibRaw reference renders the tests use

from libraw_renders import linear_back, render, white_balanced_first  # noqa: E402
from realdata import real_raw_files  # noqa: E402

from rawjpeg_gui.cli import main as rawjpeg  # noqa: E402
from rawjpeg_gui.core.codec import decode_file  # noqa: E402
from rawjpeg_gui.core.dng import write_dng  # noqa: E402
from rawjpeg_gui.core.metrics import psnr  # noqa: E402
from rawjpeg_gui.core.rawio import RawImage, read_raw  # noqa: E402


def _quiet(argv: list[str]) -> int:
    """Run a ``rawjpeg`` sub-command without its progress lines."""
    with contextlib.redirect_stdout(io.StringIO()):
        return rawjpeg(argv)


def _cell(value: float) -> str:
    return "exact" if value > 120 else f"{value:.1f}"


def check(path: Path, quality: int, tmp: Path) -> dict[str, object]:
    """All numbers for one raw file."""
    t0 = time.perf_counter()
    reference = read_raw(path)
    meta = reference.meta
    wb = list(meta.as_shot_wb or [1.0, 1.0, 1.0])
    cam, same = render(path), render(path, wb)
    row: dict[str, object] = {"file": path.name, "matrix": meta.xyz_to_camera is not None}

    direct = tmp / "direct.dng"
    assert _quiet(["decode", str(path), "-o", str(direct)]) == 0
    row["direct_linear"] = psnr(
        linear_back(direct) / 65535.0, np.round(reference.data * 65535) / 65535
    )
    got = render(direct)
    row["direct_cam"], row["direct_same"] = psnr(got, cam), psnr(got, same)

    jpg, via = tmp / "x.jpg", tmp / "via.dng"
    assert _quiet(["encode", str(path), "-q", str(quality), "-o", str(jpg)]) == 0
    assert _quiet(["decode", str(jpg), "-o", str(via)]) == 0
    rec = decode_file(jpg).raw.data
    row["via_linear"] = psnr(
        linear_back(via) / 65535.0, np.round(np.clip(rec, 0, 1) * 65535) / 65535
    )
    got = render(via)
    row["via_cam"], row["via_same"] = psnr(got, cam), psnr(got, same)

    exact = tmp / "exact.dng"
    write_dng(exact, RawImage(white_balanced_first(path, np.asarray(wb)), meta))
    row["writer_same"] = psnr(render(exact), same)
    row["seconds"] = time.perf_counter() - t0
    for f in tmp.iterdir():
        f.unlink()
    return row


def main(argv: list[str] | None = None) -> int:
    """Print the table (and optionally write it as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("-q", "--quality", type=int, default=95)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    files = args.files or real_raw_files()
    q = args.quality
    head = (
        f"| file | matrix | direct: linear | direct: cam WB | direct: same WB | "
        f"via JPEG q{q}: linear | via JPEG q{q}: cam WB | via JPEG q{q}: same WB | "
        f"writer only: same WB |"
    )
    print(head)
    print("|" + " --- |" * 9)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            row = check(path, q, Path(tmp))
            rows.append(row)
            nums = [
                row[k]
                for k in (
                    "direct_linear",
                    "direct_cam",
                    "direct_same",
                    "via_linear",
                    "via_cam",
                    "via_same",
                    "writer_same",
                )
            ]
            cells = " | ".join(_cell(float(v)) for v in nums)
            print(f"| {row['file']} | {'yes' if row['matrix'] else 'no'} | {cells} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
