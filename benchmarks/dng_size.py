"""DNG size against the raw file, and what the DNG's sample scale costs: docs/DNG.md "Size".

For every real raw (``../shared/data/raw`` and ``.test-data``) it writes the DNG of the
raw itself (``rawjpeg decode RAW -o X.dng``) and of a reconstruction from an adapter-JPEG
at quality ``-q`` (``write_dng(..., reconstructed=True)``, as ``rawjpeg decode X.jpg``
does), and prints both sizes over the raw's, the layout each takes (CFA for a raw
that maps one to one onto a Bayer sensor, LinearRaw otherwise: ``cfa_geometry``) and the
bytes of the DNG's IFD0 preview (its JPEG strip). With ``--psnr`` it also prints, per
quality, how much the reconstruction's PSNR against the raw's linear image drops when
rounded to the reconstruction's sample scale (``SampleScale.encode`` then ``decode``,
what every reader gets back).

With ``--entropy`` it prints, for each raw with a CFA mosaic, the zeroth-order entropy
of the camera's samples and of their prediction residuals (the left neighbour of the
same colour, as the DNG's lossless JPEG predicts; and LOCO-I's median predictor on each
colour plane), with the size in bytes a coder reaching that entropy would need for the
mosaic: the floor for any DNG storing those samples losslessly with such a predictor.

Usage: ``python benchmarks/dng_size.py [-q 90] [--psnr 50,75,90,100] [--entropy] [FILES...]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # realdata: where the real raws live

from realdata import real_raw_files  # noqa: E402

from rawjpeg_gui.core import codec  # noqa: E402
from rawjpeg_gui.core.dng import cfa_geometry, sample_scale, write_dng  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402


def entropy_bits(values: np.ndarray) -> float:
    """Zeroth-order entropy of integer ``values`` in bits per value."""
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def loco_residuals(plane: np.ndarray) -> np.ndarray:
    """Residuals of LOCO-I's median edge detector on one colour plane (first row and
    column left out)."""
    x = plane.astype(np.int64)
    a, b, c = x[1:, :-1], x[:-1, 1:], x[:-1, :-1]  # left, above, above-left
    pred = np.where(
        c >= np.maximum(a, b),
        np.minimum(a, b),
        np.where(c <= np.minimum(a, b), np.maximum(a, b), a + b - c),
    )
    return np.asarray(x[1:, 1:] - pred)


def entropy_line(name: str, mosaic: np.ndarray, size: int) -> str:
    """Entropies of a mosaic (bits per photosite) and the byte floors they imply."""
    m = mosaic.astype(np.int64)
    left = (m[:, 2:] - m[:, :-2]).ravel()  # same colour, two columns back
    planes = [m[dy::2, dx::2] for dy in (0, 1) for dx in (0, 1)]
    loco = np.concatenate([loco_residuals(p).ravel() for p in planes])
    n = m.size
    parts = []
    for label, values in (("samples", m.ravel()), ("left", left), ("LOCO-I", loco)):
        bits = entropy_bits(values)
        parts.append(
            f"{label} {bits:.2f} bit = {bits * n / 8:.0f} B ({bits * n / 8 / size:.2f} x raw)"
        )
    return f"{name}: {n} photosites, 2 x raw = {2 * size * 8 / n:.2f} bit each; " + ", ".join(parts)


def preview_bytes(dng: Path) -> int:
    """Bytes of the image data of ``dng``'s IFD0 preview."""
    with tifffile.TiffFile(dng) as tif:
        return int(sum(tif.pages[0].databytecounts))


def main() -> int:
    """Print the size table (Markdown), and the PSNR drops when asked."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-q", "--quality", type=int, default=90)
    ap.add_argument("--psnr", default="", help="qualities to measure the PSNR drop at")
    ap.add_argument("--entropy", action="store_true", help="entropy of the CFA samples")
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    qualities = [int(q) for q in args.psnr.split(",") if q]
    print(
        f"| raw | layout | raw bytes | DNG of raw | / raw | DNG from q{args.quality} | / raw "
        "| preview bytes |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    drops: list[str] = []
    entropies: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.files or real_raw_files():
            ref = read_raw(path)
            direct_dng = write_dng(Path(tmp) / "direct.dng", ref)
            direct, preview = direct_dng.stat().st_size, preview_bytes(direct_dng)
            rec = codec.decode_bytes(codec.encode_image(ref, args.quality).jpeg).raw
            via = write_dng(Path(tmp) / "via.dng", rec, reconstructed=True).stat().st_size
            size = path.stat().st_size
            layout = "CFA" if cfa_geometry(rec) is not None else "LinearRaw"
            print(
                f"| {path.name} | {layout} | {size} | {direct} | {direct / size:.2f} "
                f"| {via} | {via / size:.2f} | {preview} |",
                flush=True,
            )
            if args.entropy and ref.mosaic is not None:
                entropies.append(entropy_line(path.name, ref.mosaic, size))
            scale = sample_scale(ref.meta, reconstructed=True)
            row = []
            for q in qualities:
                data = rec.data if q == args.quality else None
                if data is None:
                    data = codec.decode_bytes(codec.encode_image(ref, q).jpeg).raw.data
                exact = codec.reconstruction_psnr(ref.data, data)
                stored = codec.reconstruction_psnr(ref.data, scale.decode(scale.encode(data)))
                row.append(f"q{q} {exact:.2f} {stored - exact:+.3f}")
            if row:
                drops.append(f"{path.name}: " + ", ".join(row))
    for line in drops + entropies:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
