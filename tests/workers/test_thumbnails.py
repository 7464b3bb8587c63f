"""Thumbnails: embedded previews, reduced adapter-JPEG decodes, the disk cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rawjpeg_gui.workers import thumbnail_cache
from rawjpeg_gui.workers.pool import TaskPool
from rawjpeg_gui.workers.thumbnail_cache import ThumbnailCache
from rawjpeg_gui.workers.thumbnails import ThumbnailLoader


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("RAWJPEG_CACHE_DIR", str(tmp_path))
    assert thumbnail_cache.cache_dir() == tmp_path / "thumbnails"
    monkeypatch.delenv("RAWJPEG_CACHE_DIR")
    assert "rawjpeg" in str(thumbnail_cache.cache_dir())


def test_raw_thumbnail_is_cached(kdc: Path, tmp_path: Path, monkeypatch):
    cache = ThumbnailCache(tmp_path / "thumbs", side=128)
    first = cache.load(kdc)
    assert first.dtype == np.uint8 and max(first.shape[:2]) <= 128 and first.shape[2] == 3
    assert len(list((tmp_path / "thumbs").glob("*.jpg"))) == 1

    def fail(*_a, **_k):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(thumbnail_cache, "make_thumbnail", fail)
    again = cache.load(kdc)
    assert again.shape == first.shape


def test_adapter_jpeg_thumbnail_uses_reduced_decode(kdc: Path, tmp_path: Path):
    from rawjpeg_gui.core import codec

    path = tmp_path / "x.jpg"
    path.write_bytes(codec.encode_file(kdc, 70).jpeg)
    thumb = thumbnail_cache.make_thumbnail(path, 64)
    assert max(thumb.shape[:2]) <= 64


def test_loader_delivers_on_the_gui_thread(qtbot, kdc: Path, tmp_path: Path):
    loader = ThumbnailLoader(TaskPool("thumbs", 1), ThumbnailCache(tmp_path))
    with qtbot.waitSignal(loader.ready, timeout=30000) as blocker:
        loader.request(kdc)
    assert blocker.args[0] == str(kdc) and blocker.args[1].ndim == 3
    with qtbot.waitSignal(loader.failed, timeout=30000) as blocker:
        loader.request(tmp_path / "missing.dng")
    assert blocker.args[0].endswith("missing.dng")


def _adapter_jpeg(raw_path: Path, folder: Path) -> Path:
    from rawjpeg_gui.core import codec

    path = folder / f"{raw_path.stem}.jpg"
    path.write_bytes(codec.encode_file(raw_path, 70).jpeg)
    return path


def test_adapter_jpeg_thumbnail_is_seen_through_the_files_profile(kdc: Path, tmp_path: Path):
    from PIL import Image

    from rawjpeg_gui.core import icc

    path = _adapter_jpeg(kdc, tmp_path)
    thumb = thumbnail_cache.make_thumbnail(path, 128).reshape(-1, 3).mean(axis=0)
    viewed = icc.viewer_rgb(path.read_bytes()).reshape(-1, 3).mean(axis=0) * 255
    with Image.open(path) as im:  # the stored camera RGB, as a viewer without profiles shows it
        stored = np.asarray(im.convert("RGB")).reshape(-1, 3).mean(axis=0)
    assert np.abs(thumb - viewed).max() < 3
    assert np.abs(stored - viewed).max() > 10  # so the test tells the two apart


def test_thumbnails_made_before_profiles_were_applied_are_not_reused(
    kdc: Path, tmp_path: Path, monkeypatch
):
    path = _adapter_jpeg(kdc, tmp_path)
    cache = ThumbnailCache(tmp_path / "thumbs", side=64)
    with monkeypatch.context() as patch:
        patch.setattr(thumbnail_cache, "_CACHE_VERSION", "1")  # the green thumbnails' version
        cache.put(path, np.zeros((8, 8, 3), np.uint8))
        assert cache.get(path) is not None
    assert cache.get(path) is None
