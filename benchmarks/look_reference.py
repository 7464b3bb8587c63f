"""The adapter's displayed coding error against two plain JPEGs of the same size.

For each file of a split (models/split.toml) and quality: the adapter-JPEG's size (the
camera's metadata not counted, as ``rawjpeg eval``), and CIEDE2000 (mean, 95th
percentile; every other pixel each way) between the app's display rendering of the raw
and the app's rendering of

* the adapter-JPEG's reconstruction (the "coding alone" column of ``benchmarks/look.py``);
* a gamma-1/2.2 JPEG of the camera data (``rawjpeg eval``'s baseline) at the highest
  quality whose file is no larger, decoded and linearised again;
* and, for comparison, the JPEG of the display rendering itself at the highest quality
  no larger: what any JPEG of that size that shows the photograph costs, although it
  cannot give the raw back.

    python benchmarks/look_reference.py [--split validation] [-q 50,75,90]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from look import STEP, app_rendering, de_stats  # noqa: E402

from rawjpeg_gui.core import codec, display, evaluate, jpeg  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402
from rawjpeg_gui.training import split  # noqa: E402

Coder = Callable[[int], tuple[int, np.ndarray]]


def at_most(encode: Coder, size: int) -> tuple[int, np.ndarray]:
    """The highest quality whose file is at most ``size`` bytes (quality 1 if none is),
    and its decoded image."""
    lo, hi, best = 1, 100, 1
    while lo <= hi:
        q = (lo + hi) // 2
        if encode(q)[0] <= size:
            best, lo = q, q + 1
        else:
            hi = q - 1
    return best, encode(best)[1]


def measure(path: Path, qs: list[int]) -> None:
    """Print one file's rows."""
    raw = read_raw(path)
    gain = display.auto_gain(raw.data, raw.meta)
    rendering = app_rendering(raw.data, raw.meta, gain)
    app, app8 = rendering[::STEP, ::STEP], codec.to_uint8(rendering)

    def shown(linear: np.ndarray) -> tuple[float, float]:
        return de_stats(app, app_rendering(linear, raw.meta, gain)[::STEP, ::STEP])

    def gamma22(q: int) -> tuple[int, np.ndarray]:
        return evaluate._baseline(raw, q, 2.2)

    def photo(q: int) -> tuple[int, np.ndarray]:
        data = jpeg.encode_jpeg(app8, q, evaluate.BASELINE_SUBSAMPLING)
        return len(data), jpeg.decode_jpeg(data).astype(np.float32) / np.float32(255.0)

    for q in qs:
        enc = codec.encode_image(raw, q)
        size = len(enc.jpeg) - evaluate.metadata_bytes(enc.jpeg)
        a = shown(codec.decode_bytes(enc.jpeg).raw.data)
        gq, gback = at_most(gamma22, size)
        g = shown(gback)
        dq, dback = at_most(photo, size)
        d = de_stats(app, dback[::STEP, ::STEP])
        print(
            f"{path.name:28} q{q:3d} {size:8d} B  adapter {a[0]:5.2f} ({a[1]:5.2f})  "
            f"gamma-1/2.2 JPEG q{gq:3d} {g[0]:5.2f} ({g[1]:5.2f})  "
            f"JPEG of the rendering q{dq:3d} {d[0]:5.2f} ({d[1]:5.2f})",
            flush=True,
        )


def main() -> None:
    """Measure and print."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--split", default="validation", choices=split.SPLITS[1:])
    ap.add_argument("-q", "--qualities", default="50,75,90")
    args = ap.parse_args()
    qs = [int(q) for q in args.qualities.split(",")]
    print(f"split {args.split}: CIEDE2000 mean (p95) against the app's rendering of the raw")
    for path in split.load().paths(args.split):
        measure(path, qs)


if __name__ == "__main__":
    main()
