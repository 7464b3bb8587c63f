"""The training cache scaled by the encoder's balance, as the encoder feeds the model."""

from __future__ import annotations

import numpy as np
from realdata import SHARED_RAW, require

from rawjpeg_gui.core import search
from rawjpeg_gui.core.model import make_thumbnail
from rawjpeg_gui.core.rawio import read_raw
from rawjpeg_gui.training.data import build_cache, synthetic_photo


def test_a_balanced_cache_holds_each_image_scaled_by_its_balance() -> None:
    path = str(require(SHARED_RAW / "dcc_canon_s40_0119.crw"))
    photos = [("synthetic", synthetic_photo(160, 200))]
    kw = dict(patch=64, thumb=16, per_raw=3, per_photo=3, photo_variants=1, photos=photos)
    plain = build_cache([path], seed=3, **kw)  # type: ignore[arg-type]
    balanced = build_cache([path], seed=3, balance_power=0.5, **kw)  # type: ignore[arg-type]
    raw = read_raw(path)
    k = search.balance(raw.meta, 0.5)
    assert k.max() == 1.0 and k.min() < 0.9  # the S40's balance is far from neutral
    want = make_thumbnail(raw.data * k, 16).transpose(2, 0, 1)
    np.testing.assert_allclose(balanced.thumbs[0], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(plain.thumbs[0], want / k[:, None, None], rtol=1e-4, atol=1e-6)
    # The raw's patches (same cuts, same seed) are its camera-RGB patches times k.
    first = plain.image_of == 0
    scaled = plain.patches[first].astype(np.float64) * k[None, :, None, None]
    # The cache stores patches as 16-bit integers: equal within one step.
    np.testing.assert_allclose(balanced.patches[first], scaled, rtol=0, atol=1.0)
    # An unprocessed photo is balanced by the balance it was unprocessed with: its
    # greens, scaled down, are no longer the brightest channel on average.
    photo = balanced.thumbs[1].reshape(3, -1).mean(axis=1)
    camera = plain.thumbs[1].reshape(3, -1).mean(axis=1)
    assert camera[1] == camera.max() and photo[1] < camera[1]
