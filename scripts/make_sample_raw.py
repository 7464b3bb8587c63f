"""Build ``resources/sample/astronaut.dng``: the synthetic sample raw shipped with the app.

The photograph is scikit-image's ``astronaut`` (Eileen Collins, NASA photo
STS095-347-038, public domain). It is "unprocessed" into a plausible camera raw
after Brooks et al., *Unprocessing Images for Learned Raw Denoising* (CVPR 2019):

1. sRGB 8-bit -> linear sRGB (inverse of the IEC 61966-2-1 transfer curve);
2. linear sRGB -> CIE XYZ (D65) -> camera RGB with a real published XYZ->camera
   matrix: the Canon EOS 5D Mark II entry of dcraw/LibRaw's ``adobe_coeff`` table
   (Adobe's D65 matrix, stored in the DNG as ColorMatrix1, CalibrationIlluminant1 = D65);
3. inverse white balance: the scene is lit by D65, so the camera's response to the
   white point is the as-shot neutral; no gains are applied (the raw is what the sensor
   would record), and the neutral is written as AsShotNeutral;
4. exposure scaled to leave headroom, heteroscedastic shot + read noise with a fixed seed;
5. RGGB Bayer mosaic, 14-bit with a black level, written as a single-IFD CFA DNG
   (DNG 1.4) with tifffile.

The result is deterministic (fixed seed), 512 x 512 and about 512 KB (uncompressed
16-bit samples, which every DNG reader supports).

Usage: python scripts/make_sample_raw.py [-o resources/sample/astronaut.dng]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rawjpeg_gui.core.display import SRGB_TO_XYZ

#: dcraw/LibRaw adobe_coeff, "Canon EOS 5D Mark II": XYZ(D65) -> camera, x 10000.
XYZ_TO_CAMERA_5D2 = (
    np.array([[4716, 603, -830], [-7798, 15474, 2480], [-1496, 1937, 6651]], dtype=np.float64)
    / 10000.0
)
BLACK_LEVEL = 512
WHITE_LEVEL = 16383  # 14-bit
SHOT_NOISE = 2e-5  # variance per unit signal (signal in [0, 1] above black)
READ_NOISE = 2e-7  # variance
SEED = 20190601
#: Raw value of the brightest scene white, as a fraction of the usable range.
HEADROOM = 0.80


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """Inverse sRGB transfer curve, x in [0, 1]."""
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def unprocess(srgb8: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """8-bit sRGB H x W x 3 -> (noisy linear camera RGB in [0, 1], as-shot neutral)."""
    lin = srgb_to_linear(srgb8.astype(np.float64) / 255.0)
    srgb_to_cam = XYZ_TO_CAMERA_5D2 @ SRGB_TO_XYZ
    cam = lin @ srgb_to_cam.T
    white = srgb_to_cam @ np.ones(3)  # camera response to the D65 white
    neutral = white / white[1]
    cam = np.clip(cam, 0.0, None) * (HEADROOM / white.max())
    variance = SHOT_NOISE * cam + READ_NOISE
    cam = cam + rng.normal(size=cam.shape) * np.sqrt(variance)
    return np.clip(cam, 0.0, 1.0), neutral


def mosaic_rggb(cam: np.ndarray) -> np.ndarray:
    """Keep one channel per pixel in an RGGB Bayer layout (H and W even)."""
    h, w = cam.shape[:2]
    cfa = np.empty((h, w), cam.dtype)
    cfa[0::2, 0::2] = cam[0::2, 0::2, 0]
    cfa[0::2, 1::2] = cam[0::2, 1::2, 1]
    cfa[1::2, 0::2] = cam[1::2, 0::2, 1]
    cfa[1::2, 1::2] = cam[1::2, 1::2, 2]
    return cfa


def _srational(values: np.ndarray, den: int = 10000) -> list[int]:
    out: list[int] = []
    for v in np.ravel(values):
        out += [int(round(float(v) * den)), den]
    return out


def write_dng(path: Path, cfa: np.ndarray, neutral: np.ndarray) -> None:
    """Write a 16-bit CFA array as a single-IFD DNG 1.4 with tifffile."""
    import tifffile

    # (tag, TIFF type, count, value): 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 10 SRATIONAL
    extratags = [
        (254, 4, 1, 0),  # NewSubfileType: main image
        (271, 2, 0, "rawjpeg"),  # Make
        (272, 2, 0, "Synthetic sample"),  # Model
        (274, 3, 1, 1),  # Orientation
        (33421, 3, 2, (2, 2)),  # CFARepeatPatternDim
        (33422, 1, 4, (0, 1, 1, 2)),  # CFAPattern: R G / G B
        (50706, 1, 4, (1, 4, 0, 0)),  # DNGVersion
        (50707, 1, 4, (1, 1, 0, 0)),  # DNGBackwardVersion
        (50708, 2, 0, "rawjpeg Synthetic sample"),  # UniqueCameraModel
        (50710, 1, 3, (0, 1, 2)),  # CFAPlaneColor
        (50711, 3, 1, 1),  # CFALayout: rectangular
        (50713, 3, 2, (1, 1)),  # BlackLevelRepeatDim
        (50714, 4, 1, BLACK_LEVEL),  # BlackLevel
        (50717, 4, 1, WHITE_LEVEL),  # WhiteLevel
        (50721, 10, 9, _srational(XYZ_TO_CAMERA_5D2)),  # ColorMatrix1
        (50728, 5, 3, _srational(neutral, 1000000)),  # AsShotNeutral
        (50778, 3, 1, 21),  # CalibrationIlluminant1: D65
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".dng.tmp")
    with tifffile.TiffWriter(tmp, bigtiff=False, byteorder="<") as tif:
        tif.write(
            cfa,
            photometric=tifffile.PHOTOMETRIC.CFA,
            compression=None,
            rowsperstrip=cfa.shape[0],
            software="rawjpeg scripts/make_sample_raw.py",
            description=None,
            metadata=None,
            extratags=extratags,
        )
    tmp.replace(path)


def build(path: Path) -> None:
    """Unprocess the astronaut photo and write it as a DNG at ``path``."""
    from skimage import data

    rng = np.random.default_rng(SEED)
    cam, neutral = unprocess(np.asarray(data.astronaut())[..., :3], rng)
    levels = BLACK_LEVEL + cam * (WHITE_LEVEL - BLACK_LEVEL)
    cfa = np.clip(np.round(mosaic_rggb(levels)), 0, WHITE_LEVEL).astype(np.uint16)
    write_dng(path, cfa, neutral)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-o", "--output", type=Path, default=root / "resources/sample/astronaut.dng"
    )
    args = parser.parse_args(argv)
    build(args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
