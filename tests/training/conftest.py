"""Shared fixtures for the training tests: a tiny patch cache and config."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_TOML = """
[data]
cache = "{cache}"
batch = 2
crop = 32

[model]
thumbnail_size = 16
lut_bins = 33
shape_bins = 8
widths = [8, 8, 8, 8]
hidden = 8

[loss]
subsampling = "4:4:4"

[train]
steps = {steps}
lr = 1e-3
warmup = 1
threads = 1
log_every = 1
ckpt_every = 100
bf16 = {bf16}

[export]
name = "tiny-test"
description = "a test model"
"""


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few 48x48 patches of one unprocessed procedural picture."""
    pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")
    from rawjpeg_gui.training.data import build_cache, synthetic_photo

    photos = [("synthetic", synthetic_photo())]
    cache = build_cache([], patch=48, thumb=16, per_photo=6, photo_variants=1, photos=photos)
    path = tmp_path_factory.mktemp("cache") / "tiny.npz"
    cache.save(path)
    return path


@pytest.fixture
def make_config():  # type: ignore[no-untyped-def]
    """A function that writes a tiny training config: ``make_config(tmp, cache, steps, bf16)``."""
    return write_config


def write_config(tmp: Path, cache: Path, steps: int = 3, bf16: bool = False) -> Path:
    """Write a tiny training config into ``tmp``."""
    path = tmp / "tiny.toml"
    path.write_text(TINY_TOML.format(cache=cache.as_posix(), steps=steps, bf16=str(bf16).lower()))
    return path
