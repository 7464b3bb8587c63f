"""Workers tests run headless, with the thumbnail cache in a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path_factory) -> None:
    """Thumbnails go to a per-session temporary folder, never the user's cache."""
    monkeypatch.setenv("RAWJPEG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


#: The shared real raws, next to the repository.
SHARED_RAW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "raw"


@pytest.fixture
def shared_raw() -> Path:
    """Folder of real camera raws (skips when absent)."""
    if not SHARED_RAW.is_dir():
        pytest.skip(f"the shared raw folder {SHARED_RAW} is absent")
    return SHARED_RAW.resolve()


@pytest.fixture
def kdc(shared_raw: Path) -> Path:
    """A small real raw (Kodak DC120, 1.3 MP)."""
    path = shared_raw / "dcc_kodak_dc120_p003908.kdc"
    if not path.is_file():
        pytest.skip(f"{path.name} is absent from the shared raws")
    return path
