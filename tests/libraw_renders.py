"""LibRaw's reference renders of a DNG or raw file: the one copy, shared by the tests and
``benchmarks/dng_render_check.py`` (import ``libraw_renders``; the benchmark puts
``tests/`` on its path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rawpy


def linear_back(path: Path) -> np.ndarray:
    """LibRaw's 16-bit linear data: no WB, no matrix, no gamma, no scaling, no flip."""
    with rawpy.imread(str(path)) as raw:
        return raw.postprocess(
            output_color=rawpy.ColorSpace.raw,
            gamma=(1, 1),
            no_auto_bright=True,
            user_wb=[1.0, 1.0, 1.0, 1.0],
            output_bps=16,
            user_flip=0,
            adjust_maximum_thr=0.0,
        )


def render(
    path: Path, wb: list[float] | None = None, gamma: tuple[float, float] = (1, 1)
) -> np.ndarray:
    """LibRaw's sRGB rendering in [0, 1]: camera WB, or the (R, G, B) multipliers ``wb``.

    ``gamma``: LibRaw's (power, slope) tone curve; (1, 1) is linear, (2.4, 12.92) sRGB.
    """
    kw: dict[str, object] = dict(
        output_color=rawpy.ColorSpace.sRGB,
        no_auto_bright=True,
        gamma=gamma,
        output_bps=16,
        adjust_maximum_thr=0.0,
    )
    if wb is None:
        kw["use_camera_wb"] = True
    else:
        kw["user_wb"] = [wb[0], wb[1], wb[2], wb[1]]
    with rawpy.imread(str(path)) as raw:
        return raw.postprocess(**kw).astype(np.float64) / 65535.0


def white_balanced_first(path: Path, wb: np.ndarray) -> np.ndarray:
    """Linear camera RGB as LibRaw demosaics it for a WB render, the WB divided back out."""
    with rawpy.imread(str(path)) as raw:
        rgb = raw.postprocess(
            user_wb=[wb[0], wb[1], wb[2], wb[1]],
            output_color=rawpy.ColorSpace.raw,
            gamma=(1, 1),
            no_auto_bright=True,
            output_bps=16,
            user_flip=0,
            adjust_maximum_thr=0.0,
            highlight_mode=rawpy.HighlightMode.Clip,
        )
    return (rgb.astype(np.float32) / np.float32(65535.0) / (wb / wb.min())).astype(np.float32)
