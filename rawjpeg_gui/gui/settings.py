"""The app's settings: meaningful values (a quality, a folder, EV) kept in QSettings."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from rawjpeg_gui.core.quality import clamp_quality

#: How many recent folders the File menu lists.
MAX_RECENT = 8
#: Environment variable naming a folder for the settings file (portable installs, tests).
CONFIG_DIR_ENV = "RAWJPEG_CONFIG_DIR"


def open_store() -> QSettings:
    """The app's QSettings: ``$RAWJPEG_CONFIG_DIR/rawjpeg-gui.ini`` when that is set,
    else the platform's place for organisation "rawjpeg", application "rawjpeg-gui"."""
    folder = os.environ.get(CONFIG_DIR_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "rawjpeg-gui.ini"), QSettings.Format.IniFormat)
    return QSettings("rawjpeg", "rawjpeg-gui")


class AppSettings:
    """Typed access to QSettings.

    Attributes:
        store: the underlying QSettings (organisation "rawjpeg", application "rawjpeg-gui").
    """

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or open_store()

    def _get(self, key: str, default, kind):  # type: ignore[no-untyped-def]
        value = self.store.value(key, default)
        try:
            return kind(value) if value is not None else default
        except (TypeError, ValueError):
            return default

    @property
    def quality(self) -> int:
        """JPEG quality 1-100 (default 75)."""
        return clamp_quality(self._get("coding/quality", 75, int))

    @quality.setter
    def quality(self, value: int) -> None:
        self.store.setValue("coding/quality", int(value))

    @property
    def exposure_ev(self) -> float:
        """Display exposure in EV (default 0)."""
        return min(max(self._get("display/exposure_ev", 0.0, float), -5.0), 5.0)

    @exposure_ev.setter
    def exposure_ev(self, value: float) -> None:
        self.store.setValue("display/exposure_ev", float(value))

    @property
    def compare_mode(self) -> str:
        """ "side", "split" or "difference"."""
        return str(self._get("display/compare_mode", "side", str))

    @compare_mode.setter
    def compare_mode(self, value: str) -> None:
        self.store.setValue("display/compare_mode", str(value))

    @property
    def last_folder(self) -> Path | None:
        """The folder browsed last, if it still exists."""
        value = self._get("files/last_folder", "", str)
        return Path(value) if value and Path(value).is_dir() else None

    @last_folder.setter
    def last_folder(self, folder: Path) -> None:
        self.store.setValue("files/last_folder", str(folder))

    @property
    def recent_folders(self) -> list[Path]:
        """Recently opened folders, newest first (missing ones dropped)."""
        value = self.store.value("files/recent_folders", [])
        # QSettings' INI backend returns one stored string as a plain str, not a list.
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [Path(v) for v in items if v and Path(str(v)).is_dir()][:MAX_RECENT]

    def add_recent_folder(self, folder: Path) -> None:
        """Put ``folder`` first in the recent folders."""
        folders = [folder] + [f for f in self.recent_folders if f != folder]
        self.store.setValue("files/recent_folders", [str(f) for f in folders[:MAX_RECENT]])
        self.last_folder = folder

    def geometry(self) -> QByteArray | None:
        """Saved window geometry."""
        value = self.store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def state(self) -> QByteArray | None:
        """Saved dock and toolbar layout."""
        value = self.store.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember the window's geometry and layout."""
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    def sync(self) -> None:
        """Write to disk."""
        self.store.sync()
