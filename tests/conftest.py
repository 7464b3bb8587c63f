"""Shared fixtures: where the real raw test files live.

Real raws come from ``../shared/data/raw/`` (beside the repository) and from
``.test-data/`` (``python scripts/fetch_test_data.py``). Tests that need them skip
with a clear reason only when those folders are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Fuzz tests draw the same examples on every run, so a CI result can be reproduced;
# RAWJPEG_FUZZ_RANDOM=1 draws fresh ones (and keeps failures in .hypothesis/).
settings.register_profile("reproducible", derandomize=True, database=None)
if not os.environ.get("RAWJPEG_FUZZ_RANDOM"):
    settings.load_profile("reproducible")

# Qt tests run headless unless a test asks for a real platform (tests/e2e/test_gui_xvfb.py).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from realdata import ROOT, SHARED_RAW, real_raw_files, require  # noqa: E402, F401 (re-exported)


@pytest.fixture(scope="session")
def small_raw_path() -> Path:
    """A small real raw (Kodak DC120, 1.3 MP)."""
    return require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc")


@pytest.fixture(scope="session")
def small_raw(small_raw_path: Path):  # type: ignore[no-untyped-def]
    """The small real raw, decoded once per session."""
    from rawjpeg_gui.core.rawio import read_raw

    return read_raw(small_raw_path)


@pytest.fixture(scope="session")
def analytic_model():  # type: ignore[no-untyped-def]
    """The analytic gamma-1/2.2 model (always present in models/)."""
    from rawjpeg_gui.core.model import AdapterModel

    return AdapterModel(ROOT / "models" / "analytic-gamma22.onnx")


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Thumbnails go to a per-session temporary folder, never the user's cache."""
    monkeypatch.setenv("RAWJPEG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def shared_raw() -> Path:
    """Folder of real camera raws (skips when absent)."""
    return require(SHARED_RAW).resolve()


@pytest.fixture
def kdc(shared_raw: Path) -> Path:
    """A small real raw (Kodak DC120, 1.3 MP)."""
    return require(shared_raw / "dcc_kodak_dc120_p003908.kdc")
