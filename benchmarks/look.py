"""How an adapter-JPEG looks in other viewers, on a split's cameras (models/split.toml).

For each file and quality: CIEDE2000 between the app's display rendering of the raw and
the adapter-JPEG as a colour-managed viewer shows it (through its embedded ICC profile,
LittleCMS), mean and 95th percentile of pixels; the same for a viewer that ignores the
profile (the raw pixels taken as sRGB); the coding error alone (the app's rendering of
the raw against its rendering of the file's reconstruction: what coding at that rate
costs whatever the viewer); the colour management alone (the viewer's picture against
the app's rendering of the reconstruction); and the profile's bytes. Issue 13's look target:
mean <= 5 (aim 3), 95th percentile <= 12 on every test file.

    python benchmarks/look.py --split validation [--curve-points N] [--pictures DIR]

``--pictures`` writes, per file, the app's rendering, the colour-managed view and the
unmanaged view side by side (q75, JPEG). Choose on ``--split validation``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.core import codec, colour, display, icc  # noqa: E402
from rawjpeg_gui.core.metadata import RawMeta  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402
from rawjpeg_gui.training import split  # noqa: E402

STEP = 2  # every other pixel each way: the statistics, at a quarter of the work


def de_stats(reference: np.ndarray, shown: np.ndarray) -> tuple[float, float]:
    """Mean and 95th percentile CIEDE2000 between two sRGB-encoded images."""
    de = deltaE_ciede2000(rgb2lab(reference), rgb2lab(shown))
    return float(de.mean()), float(np.percentile(de, 95))


def app_rendering(linear: np.ndarray, meta: RawMeta, gain: float) -> np.ndarray:
    """The app's display rendering of ``linear`` (float sRGB, sensor orientation)."""
    return colour.srgb_encode(display.to_srgb_linear(linear, meta, gain))


def picture(path: Path, panes: list[np.ndarray], width: int = 480) -> None:
    """Panes side by side, each ``width`` pixels wide, as a JPEG."""
    out = []
    for pane in panes:
        im = Image.fromarray((np.clip(pane, 0, 1) * 255 + 0.5).astype(np.uint8))
        out.append(np.asarray(im.resize((width, round(im.height * width / im.width)))))
    gap = np.full((out[0].shape[0], 8, 3), 255, np.uint8)
    row = np.concatenate([x for pane in out for x in (pane, gap)][:-1], axis=1)
    Image.fromarray(row).save(path, quality=88, optimize=True)


def main() -> None:
    """Measure and print."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--split", default="validation", choices=split.SPLITS[1:])
    ap.add_argument("-q", "--qualities", default="25,50,75,90")
    ap.add_argument("--curve-points", type=int, default=icc.CURVE_POINTS)
    ap.add_argument("--pictures", type=Path, default=None)
    args = ap.parse_args()
    icc.CURVE_POINTS = args.curve_points
    qs = [int(q) for q in args.qualities.split(",")]
    print(f"split {args.split}, curve points {icc.CURVE_POINTS}, q {qs}")
    print(
        f"{'file':32} {'q':>4} {'managed mean':>13} {'p95':>6} {'unmanaged':>10} "
        f"{'coding alone':>13} {'p95':>6} {'viewer vs recon':>16} {'p95':>6} {'ICC bytes':>10}"
    )
    worst: list[tuple[float, float]] = []
    for path in split.load().paths(args.split):
        raw = read_raw(path)
        gain = display.auto_gain(raw.data, raw.meta)
        app = app_rendering(raw.data, raw.meta, gain)
        for q in qs:
            enc = codec.encode_image(raw, q)
            managed = icc.viewer_rgb(enc.jpeg)
            with Image.open(io.BytesIO(enc.jpeg)) as im:  # a viewer that ignores the profile
                plain = np.asarray(im.convert("RGB"), np.float32) / 255.0
            m, p95 = de_stats(app[::STEP, ::STEP], managed[::STEP, ::STEP])
            u, _ = de_stats(app[::STEP, ::STEP], plain[::STEP, ::STEP])
            back = codec.decode_bytes(enc.jpeg).raw.data
            coded = app_rendering(back, raw.meta, gain)
            c, c95 = de_stats(app[::STEP, ::STEP], coded[::STEP, ::STEP])
            v, v95 = de_stats(coded[::STEP, ::STEP], managed[::STEP, ::STEP])
            size = len(codec.viewer_profile(raw, enc.params))
            print(
                f"{path.name:32} {q:>4} {m:>13.2f} {p95:>6.2f} {u:>10.2f} {c:>13.2f} {c95:>6.2f} "
                f"{v:>16.2f} {v95:>6.2f} {size:>10}"
            )
            worst.append((m, p95))
            if args.pictures and q == 75:
                args.pictures.mkdir(parents=True, exist_ok=True)
                picture(args.pictures / f"{path.stem}.jpg", [app, managed, plain])
    means = [w[0] for w in worst]
    print(
        f"managed: mean of means {np.mean(means):.2f}, worst mean {max(means):.2f} (<= 5), "
        f"worst p95 {max(w[1] for w in worst):.2f} (<= 12)"
    )


if __name__ == "__main__":
    main()
