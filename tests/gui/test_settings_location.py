"""RAWJPEG_CONFIG_DIR moves the settings file (portable installs, docs/INSTALL.md)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from rawjpeg_gui.gui.settings import AppSettings  # noqa: E402


def test_config_dir_override(tmp_path: Path, monkeypatch, qapp) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RAWJPEG_CONFIG_DIR", str(tmp_path / "cfg"))
    settings = AppSettings()
    settings.quality = 42
    settings.store.sync()
    ini = tmp_path / "cfg" / "rawjpeg-gui.ini"
    assert ini.is_file() and "42" in ini.read_text()
    assert AppSettings().quality == 42
