"""Export the adapter-JPEG and save the reconstruction, on the "save" pool."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from rawjpeg_gui.workers import outputs
from rawjpeg_gui.workers.session import describe_error

from . import dialogs

if TYPE_CHECKING:
    from .main_window import MainWindow


class OutputActions(QObject):
    """File > Export / Save commands of the main window.

    Signals:
        saved(object): the Path written.
        failed(str): one sentence saying why nothing was written.
    """

    saved = Signal(object)
    failed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def _inputs(self) -> list[Path]:
        image = self._window.session.image
        if image is None:
            return []
        return [p for p in (image.path, image.original_path) if p is not None]

    def _default(self, suffix: str, tag: str = "") -> Path:
        image = self._window.session.image
        if image is None:
            base = Path.home() / "image"
        else:
            base = image.original_path or image.path
        return base.with_name(f"{base.stem}{tag}{suffix}")

    def _ask(self, title: str, default: Path, filters: str) -> Path | None:
        # The overwrite question is asked by _run, for every way a name arrives.
        name, _ = QFileDialog.getSaveFileName(
            self._window, title, str(default), filters,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )  # fmt: skip
        return Path(name) if name else None

    def _run(self, what: str, func, dest: Path) -> None:  # type: ignore[no-untyped-def]
        if dest.exists() and dest not in self._inputs():
            if not dialogs.ask_overwrite(self._window, dest):
                self._window.show_message(f"Nothing written: {dest.name} was kept as it was.")
                return
        self._window.show_progress(f"Writing {dest.name}…", -1)
        self._window.pools["save"].run_task(
            func, partial(self._on_save_returned, what), partial(self._on_save_failed, dest)
        )

    def export_adapter_jpeg(self, dest: Path | None = None) -> None:
        """Write the current adapter-JPEG (asks where unless ``dest`` is given)."""
        coded = self._window.session.current
        if coded is None:
            return
        dest = dest or self._ask(
            "Export adapter-JPEG", self._default(".jpg"), "Adapter-JPEG (*.jpg *.jpeg)"
        )
        if dest is not None:
            self._run(
                "Exported",
                partial(outputs.export_adapter_jpeg, coded.jpeg, dest, self._inputs()),
                dest,
            )

    def save_tiff(self, dest: Path | None = None) -> None:
        """Write the reconstruction as a 16-bit TIFF."""
        coded = self._window.session.current
        if coded is None:
            return
        dest = dest or self._ask(
            "Save reconstruction as 16-bit TIFF",
            self._default(".tif", ".reconstructed"),
            "16-bit TIFF (*.tif *.tiff);;16-bit PNG (*.png)",
        )
        if dest is not None:
            self._run(
                "Saved",
                partial(outputs.save_tiff, coded.reconstruction, dest, self._inputs()),
                dest,
            )

    def save_dng(self, dest: Path | None = None) -> None:
        """Write the reconstructed raw as a DNG."""
        coded = self._window.session.current
        if coded is None:
            return
        dest = dest or self._ask(
            "Save reconstructed raw as DNG", self._default(".dng", ".reconstructed"), "DNG (*.dng)"
        )
        if dest is not None:
            self._run(
                "Saved", partial(outputs.save_dng, coded.reconstruction, dest, self._inputs()), dest
            )

    def _on_save_returned(self, what: str, path: Path) -> None:
        self._window.show_progress(f"{what} {path}.", 100)
        self.saved.emit(path)

    def _on_save_failed(self, dest: Path, exc: BaseException) -> None:
        message = describe_error(exc)
        self._window.show_progress("", 100)
        self._window.show_message(message, error=True)
        self.failed.emit(message)
