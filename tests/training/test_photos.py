"""The photograph manifest (rawjpeg_gui/training/photos.toml) and, where fetched, its files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rawjpeg_gui.training.data import (
    ALLOWED_LICENCES,
    _load_photo,
    photo_count,
    photo_paths,
    photo_sources,
)

KEYS = {"name", "registry", "package", "version", "count", "licence", "evidence_file", "evidence"}


def test_manifest_is_well_formed():
    sources = photo_sources()
    assert sources
    names = [s["name"] for s in sources]
    assert len(set(names)) == len(names)
    listed = []
    for s in sources:
        assert KEYS <= set(s), s["name"]
        assert s["registry"] in ("pypi", "debian", "npm"), s["name"]
        assert all(isinstance(s[k], str) and s[k].strip() for k in KEYS - {"count"}), s["name"]
        assert ("skimage" in s) != ("files" in s), f"{s['name']}: skimage or dir+files"
        items = s.get("skimage") or s["files"]
        assert s["count"] == len(items) == len(set(items)), s["name"]
        if "files" in s:
            assert Path(s["dir"]).is_absolute(), s["name"]
            listed += [str(Path(s["dir"]) / f) for f in s["files"]]
        else:
            listed += [f"skimage:{n}" for n in s["skimage"]]
    assert len(set(listed)) == len(listed) == photo_count()


def test_every_licence_is_allowed():
    for s in photo_sources():
        assert s["licence"] in ALLOWED_LICENCES, f"{s['name']}: {s['licence']}"


def _fetched() -> list[tuple[str, object]]:
    found = photo_paths()
    if len(found) < photo_count():
        pytest.skip(
            f"{len(found)} of {photo_count()} photographs here: "
            "run scripts/fetch_training_photos.sh (.ci/run does)"
        )
    return found


def test_fetched_photos_exist_and_are_distinct():
    found = _fetched()
    names = [n for n, _ in found]
    assert len(set(names)) == len(names)
    thumbs = []
    for name, src in found:
        img = _load_photo(src)
        assert img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= 128, name
        # The luma shrunk to 32x32 and standardised: the same photo at another size, JPEG
        # quality or crop of a few pixels differs by a mean of under 0.19 (checked on
        # every listed photo), different ones by over 0.3. (A 16x16 average hash, used
        # before, takes the horizon panoramas of @pmndrs/assets for one photo.)
        y = Image.fromarray(img @ np.array([0.299, 0.587, 0.114], np.float32), "F")
        small = np.asarray(y.resize((32, 32), Image.Resampling.BOX))
        thumbs.append((name, (small - small.mean()) / (small.std() + 1e-6)))
    for i, (a, ta) in enumerate(thumbs):
        for b, tb in thumbs[i + 1 :]:
            assert np.abs(ta - tb).mean() > 0.25, f"{a} and {b} look like the same photo"
