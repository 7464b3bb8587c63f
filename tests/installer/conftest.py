"""Installer tests: the self-test, desktop integration, the sample raw and the frozen build.

The frozen-build test is marked ``installer`` and runs only when asked for, because it
builds the PyInstaller bundle (about a minute) into ``dist/``:
``pytest -m installer`` or ``RAWJPEG_TEST_FROZEN=1 pytest``.
"""

from __future__ import annotations

import os
import tempfile

import pytest

# Like tests/gui and tests/workers: headless, caches in a temporary folder.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RAWJPEG_CACHE_DIR", tempfile.mkdtemp(prefix="rawjpeg-test-cache-"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "installer: builds and smoke-tests the frozen app (run with -m installer "
        "or RAWJPEG_TEST_FROZEN=1)",
    )


def frozen_tests_requested(config: pytest.Config) -> bool:
    """True when the run asked for the frozen-build tests."""
    return os.environ.get("RAWJPEG_TEST_FROZEN") == "1" or "installer" in (
        config.getoption("markexpr", "") or ""
    )


@pytest.fixture
def frozen_requested(request: pytest.FixtureRequest) -> bool:
    """Whether this run asked for the frozen-build tests."""
    return frozen_tests_requested(request.config)


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A scratch HOME with the XDG variables unset, so ~/.local/share is inside it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    return home
