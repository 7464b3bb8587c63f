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


def test_the_display_matrix_shows_a_cached_patch_as_the_app_does() -> None:
    import torch

    from rawjpeg_gui.core import colour
    from rawjpeg_gui.training.data import sample_batch
    from rawjpeg_gui.training.loss import displayed

    path = str(require(SHARED_RAW / "dcc_canon_s40_0119.crw"))
    photos = [("synthetic", synthetic_photo(160, 200))]
    kw = dict(patch=64, thumb=16, per_raw=4, per_photo=3, photo_variants=1, photos=photos)
    cache = build_cache([path], seed=3, balance_power=0.5, display=True, **kw)  # type: ignore[arg-type]
    assert cache.display is not None and cache.display.shape == (2, 3, 3)
    raw = read_raw(path)
    chain = colour.chain_for(raw.data, raw.meta)
    k = search.balance(raw.meta, 0.5)
    patch = cache.patches[0].astype(np.float32) / 65535.0  # balanced camera RGB
    ours = displayed(torch.from_numpy(patch[None]), torch.from_numpy(cache.display[:1]))[0]
    # The app's chain (below its highlight knee, where it is linear) on camera RGB.
    app = colour.srgb_encode(chain.forward(patch.transpose(1, 2, 0) / k)).transpose(2, 0, 1)
    below = (patch.transpose(1, 2, 0) / k * np.asarray(chain.wb)).max(axis=-1) < colour.KNEE
    assert below.mean() > 0.5
    np.testing.assert_allclose(ours.numpy()[:, below], app[:, below], atol=2e-3)
    # An exposure or balance augmentation (and a flip) changes the values, not how they
    # are shown: the batch's matrices undo the gains (patches the gain clipped aside).
    batch = sample_batch(cache, 16, np.random.default_rng(0))
    plain = sample_batch(cache, 16, np.random.default_rng(0), augment=False)
    assert not np.allclose(batch["raw"], plain["raw"])

    def shown(b: dict[str, np.ndarray]) -> np.ndarray:
        return displayed(torch.from_numpy(b["raw"]), torch.from_numpy(b["display"])).numpy()

    kept = (batch["raw"] < 0.999).all(axis=(1, 2, 3))
    assert kept.sum() >= 4
    np.testing.assert_allclose(
        shown(batch)[kept].mean(axis=(2, 3)), shown(plain)[kept].mean(axis=(2, 3)), atol=2e-3
    )
