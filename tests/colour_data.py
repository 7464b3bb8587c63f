"""Synthetic test images for the colour chains (import as ``from colour_data import ...``)."""

from __future__ import annotations

import numpy as np

#: A strongly non-diagonal camera matrix (XYZ -> camera) like a real sensor's.
XYZ_TO_CAM = [[0.7, -0.1, -0.05], [-0.4, 1.2, 0.2], [-0.05, 0.15, 0.6]]


def random_image(seed: int = 0, shape: tuple[int, int] = (64, 48)) -> np.ndarray:
    """Random linear camera RGB with clipped rows, black rows and a row of pure camera red."""
    rng = np.random.default_rng(seed)
    img = rng.random(shape + (3,), dtype=np.float32) ** 2
    img[:4] = 1.0  # clipped rows
    img[4:8] = 0.0  # black rows
    img[8, :, 0] = 1.0  # pure camera red, far outside sRGB after the matrix
    img[8, :, 1:] = 0.0
    return img
