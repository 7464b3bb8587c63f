"""LibRaw views of a DNG or raw file, shared by the DNG tests (import ``libraw_renders``)."""

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


def render(path: Path, wb: list[float] | None = None) -> np.ndarray:
    """LibRaw's linear sRGB rendering in [0, 1]: camera WB, or the (R, G, B) multipliers ``wb``."""
    kw: dict[str, object] = dict(
        output_color=rawpy.ColorSpace.sRGB,
        no_auto_bright=True,
        gamma=(1, 1),
        output_bps=16,
        adjust_maximum_thr=0.0,
    )
    if wb is None:
        kw["use_camera_wb"] = True
    else:
        kw["user_wb"] = [wb[0], wb[1], wb[2], wb[1]]
    with rawpy.imread(str(path)) as raw:
        return raw.postprocess(**kw).astype(np.float64) / 65535.0
