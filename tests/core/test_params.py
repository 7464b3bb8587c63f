"""Parameter validation and sanitising."""

from __future__ import annotations

import numpy as np
import pytest

from rawjpeg_gui.core.errors import CorruptParameters
from rawjpeg_gui.core.params import GAMMA_MAX, GAMMA_MIN, AdapterParams, sanitize


def test_sanitize_makes_any_output_invertible() -> None:
    rng = np.random.default_rng(0)
    raw_lut = rng.normal(size=(3, 65)) * 5  # not monotonic, out of range
    raw_gamma = rng.normal(size=(8, 8)) * 50
    p = sanitize(raw_lut, raw_gamma, rng.normal(size=(3, 8, 8)) * 100)
    assert np.all(np.diff(p.lut, axis=1) > 0)
    assert p.lut.min() >= 0 and p.lut.max() <= 1
    assert p.gamma_map.min() >= GAMMA_MIN and p.gamma_map.max() <= GAMMA_MAX


def test_sanitize_handles_nan() -> None:
    p = sanitize(np.full((3, 9), np.nan), np.full((2, 2), np.nan))
    assert np.all(np.isfinite(p.lut)) and np.all(np.isfinite(p.gamma_map))


@pytest.mark.parametrize(
    "lut, gamma, message",
    [
        (np.zeros((2, 9)), np.ones((2, 2)), "shape"),
        (np.tile(np.linspace(0, 1, 9), (3, 1))[:, ::-1], np.ones((2, 2)), "increasing"),
        (np.tile(np.linspace(0, 2, 9), (3, 1)), np.ones((2, 2)), "outside"),
        (np.tile(np.linspace(0, 1, 9), (3, 1)), np.full((2, 2), 100.0), "gamma"),
        (np.tile(np.linspace(0, 1, 9), (3, 1)), np.ones((600, 2)), "larger"),
    ],
)
def test_invalid_params_are_refused(lut: np.ndarray, gamma: np.ndarray, message: str) -> None:
    with pytest.raises(CorruptParameters, match=message):
        AdapterParams(lut.astype(np.float32), gamma.astype(np.float32))
