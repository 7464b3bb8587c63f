"""Where the real raw test files live (import as ``from realdata import ...``).

Real raws come from ``../shared/data/raw/`` (beside the repository) and from
``.test-data/`` (``python scripts/fetch_test_data.py``). A plain module rather than
``conftest``: several conftest.py files share that module name, so importing from it
depends on collection order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_RAW = ROOT.parent / "shared" / "data" / "raw"
MORE_RAW = SHARED_RAW.parent / "raw-more"
FETCHED_RAW = ROOT / ".test-data"


def real_raw_files() -> list[Path]:
    """Every real camera raw available to the tests (shared files first)."""
    files = sorted(SHARED_RAW.glob("*")) if SHARED_RAW.is_dir() else []
    files += sorted(FETCHED_RAW.glob("*.ARW")) + sorted(FETCHED_RAW.glob("*.CR2"))
    return [f for f in files if f.is_file()]


def require(path: Path) -> Path:
    """Skip the calling test (with the reason) when ``path`` is missing."""
    if not path.exists():
        pytest.skip(f"{path} is absent (run scripts/fetch_test_data.py; see ../shared/DATA.md)")
    return path
