"""The fast band-wise operators compute what the specification computes."""

from __future__ import annotations

import numpy as np
import pytest

from rawjpeg_gui.core import codec, fastops, operators
from rawjpeg_gui.core.params import sanitize


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (64, 64), (130, 97), (200, 333)])
@pytest.mark.parametrize("dct", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_fast_paths_match_the_specification(shape, dct, threads) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    raw = np.round(rng.random((*shape, 3)) * 65535).astype(np.float32) / 65535
    params = sanitize(
        np.sort(rng.random((3, 129)), axis=1),
        rng.uniform(0.4, 2.0, (9, 11)),
        rng.uniform(0.7, 1.4, (3, 8, 8)) if dct else None,
    )
    fast = fastops.forward_uint8(raw, params, threads)
    spec = codec.to_uint8(operators.forward(raw, params))
    diff = np.abs(fast.astype(int) - spec)
    assert diff.max() <= 1 and np.mean(diff > 0) < 1e-3  # float rounding at .5 boundaries only
    back_fast = fastops.inverse_uint8(fast, params, threads)
    back_spec = operators.inverse(fast.astype(np.float32) / 255, params)
    assert np.abs(back_fast - back_spec).max() < 1e-4


def test_real_raw_bands(small_raw) -> None:  # type: ignore[no-untyped-def]
    params = sanitize(np.tile(np.linspace(0, 1, 129) ** 0.45, (3, 1)), np.full((16, 16), 0.9))
    fast = fastops.forward_uint8(small_raw.data, params)
    spec = codec.to_uint8(operators.forward(small_raw.data, params))
    assert np.abs(fast.astype(int) - spec).max() <= 1


@pytest.mark.parametrize("dct", [False, True])
def test_a_lattice_of_tiles_computes_what_the_whole_image_does(small_raw, dct) -> None:  # type: ignore[no-untyped-def]
    """The encoder's probe (core/search.py): tiles keep the gamma map where they sit."""
    rng = np.random.default_rng(3)
    params = sanitize(
        np.tile(np.linspace(0, 1, 64) ** 0.5, (3, 1)),
        rng.uniform(0.5, 1.5, (16, 16)),
        rng.uniform(0.7, 1.4, (3, 8, 8)) if dct else None,
    )
    h, w = small_raw.data.shape[:2]
    rows = np.concatenate([np.arange(a, a + 16) for a in (0, 208, 512, h - h % 16 - 16)])
    cols = np.concatenate([np.arange(a, a + 16) for a in (0, 96, 400, w - w % 16 - 16)])
    at = fastops.Lattice(h, rows, w, cols)
    tiles = np.ix_(rows, cols)
    whole = fastops.forward_uint8(small_raw.data, params)
    part = fastops.forward_uint8(small_raw.data[tiles], params, at=at)
    assert np.array_equal(part, whole[tiles])
    back = fastops.inverse_uint8(whole, params)
    back_part = fastops.inverse_uint8(whole[tiles], params, at=at)
    assert np.array_equal(back_part, back[tiles])


def test_lut_tables_are_reused_read_only_and_change_nothing(small_raw) -> None:  # type: ignore[no-untyped-def]
    """The dense LUT tables are cached by the LUT's bytes: a second call reuses them and
    gives the same pixels; a different LUT gets its own tables."""
    from rawjpeg_gui.core import container

    params = container.quantise(
        sanitize(np.tile(np.linspace(0, 1, 64) ** 0.45, (3, 1)), np.full((16, 16), 0.9))
    )
    first = fastops._forward_table(params.lut)
    assert fastops._forward_table(params.lut.copy()) is first and not first.flags.writeable
    a = fastops.forward_uint8(small_raw.data, params)
    b = fastops.forward_uint8(small_raw.data, params)
    assert np.array_equal(a, b)
    assert np.array_equal(fastops.inverse_uint8(a, params), fastops.inverse_uint8(b, params))
    other = sanitize(np.tile(np.linspace(0, 1, 64) ** 0.5, (3, 1)), np.full((16, 16), 0.9))
    assert fastops._forward_table(other.lut) is not first
