"""CFA DNG against the LinearRaw DNG of the same raw, rendered by RawTherapee and darktable.

For every raw given it writes the DNG ``write_dng`` writes (CFA for a Bayer raw) and the
LinearRaw DNG of the same image and tags (``cfa_aligned`` and ``cfa_pixel_aspect``
cleared), renders both with ``rawtherapee-cli`` (neutral profile) and ``darktable-cli``
(workflow none), and prints
the per-channel mean ratio CFA / LinearRaw and the PSNR over the common centre (8 pixels
in from the smaller image's edges): a colour cast shows as a ratio away from 1.
docs/DNG.md "Other developers".

Usage: ``python benchmarks/dng_cfa_developers.py RAW...``
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.core.dng import write_dng  # noqa: E402
from rawjpeg_gui.core.metrics import psnr  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402


def develop(tool: str, src: Path, out: Path, home: Path) -> np.ndarray:
    """``tool``'s 16-bit sRGB render of ``src`` in [0, 1], isolated from user settings."""
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
    if tool == "rawtherapee-cli":
        cmd = [tool, "-q", "-Y", "-t", "-b16", "-o", str(out), "-c", str(src)]
    else:
        cmd = [
            tool, str(src), str(out), "--core", "--configdir", str(home / "dt"),
            "--library", ":memory:", "--conf", "plugins/imageio/format/tiff/bpp=16",
            "--conf", "plugins/darkroom/workflow=none",
        ]  # fmt: skip
    subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=600)
    return np.asarray(tifffile.imread(out), np.float64) / 65535.0


def centre(img: np.ndarray, h: int, w: int) -> np.ndarray:
    y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[y : y + h, x : x + w]


def main() -> int:
    """Print one line per raw and developer."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for path in map(Path, sys.argv[1:]):
            raw = read_raw(path)
            cfa = write_dng(work / f"{path.stem}_cfa.dng", raw)
            linear = dataclasses.replace(
                raw,
                meta=dataclasses.replace(raw.meta, cfa_aligned=False, cfa_pixel_aspect=0.0),
                mosaic=None,
            )
            lin = write_dng(work / f"{path.stem}_lin.dng", linear)
            for tool in ("rawtherapee-cli", "darktable-cli"):
                a = develop(tool, cfa, work / f"{path.stem}_{tool}_cfa.tif", work)
                b = develop(tool, lin, work / f"{path.stem}_{tool}_lin.tif", work)
                h, w = (min(x, y) - 16 for x, y in zip(a.shape[:2], b.shape[:2], strict=True))
                a, b = centre(a, h, w), centre(b, h, w)
                ratio = a.reshape(-1, 3).mean(0) / b.reshape(-1, 3).mean(0)
                print(
                    f"{path.name} {tool}: means CFA / LinearRaw "
                    f"{'/'.join(f'{v:.3f}' for v in ratio)}, {psnr(a, b):.1f} dB",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
