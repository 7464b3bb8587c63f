"""The main window: browser, compare view, inspector, plots, quality bar, status bar."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStackedWidget, QToolBar, QWidget

from rawjpeg_gui.workers import jobs
from rawjpeg_gui.workers.encoder_process import EncoderProcess
from rawjpeg_gui.workers.pool import TaskPool
from rawjpeg_gui.workers.session import ImageSession, describe_error
from rawjpeg_gui.workers.thumbnails import ThumbnailLoader

from . import dialogs
from .browser_panel import BrowserPanel
from .compare_view import CompareView
from .failed_panel import FailedPanel
from .inspector_panel import InspectorPanel
from .output_actions import OutputActions
from .plots_panel import PlotsPanel
from .quality_panel import QualityPanel
from .resources import sample_raw
from .settings import AppSettings
from .status_panel import StatusPanel
from .welcome_panel import WelcomePanel
from .window_actions import PANEL_SHORTCUTS, WindowActions
from .window_layout import WindowLayout

log = logging.getLogger(__name__)

#: One single-threaded pool per kind of work, so a slow one never queues behind another.
POOL_NAMES = ("load", "preview", "code", "rd", "thumbnails", "save", "scan")


class MainWindow(QMainWindow):
    """rawjpeg's window. Pools are passed in so tests can make them synchronous.

    Attributes:
        session: the :class:`ImageSession` of the image shown.
        settings: the :class:`AppSettings`.
        browser, compare, inspector, plots, quality: the panels.
        acts: the :class:`WindowActions` (menus, shortcuts).
        outputs: export and save commands.

    Signals:
        ready(): the current image, its reconstruction and all plots are shown.
        files_listed(object): the files found by the last open/drop (list of Paths).
    """

    ready = Signal()
    files_listed = Signal(object)

    def __init__(
        self,
        settings: AppSettings | None = None,
        pools: dict[str, TaskPool] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("rawjpeg")
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        pools = pools or {}
        self.pools = {name: pools.get(name) or TaskPool(name, 1, self) for name in POOL_NAMES}
        # Every raw encodes in a child: the encoder's operating-point search is Python
        # that holds the GIL for most of an encode, stalling the GUI thread at any size.
        self.encoder = EncoderProcess(min_pixels=0)
        self.rd_encoder = EncoderProcess(min_pixels=0)  # the curve's own: never queues the slider
        p = self.pools
        self.session = ImageSession(
            p["load"], p["code"], p["rd"], parent=self, encoder=self.encoder,
            preview_pool=p["preview"], rd_coder=self.rd_encoder.code_point,
        )  # fmt: skip
        self.thumbnails = ThumbnailLoader(self.pools["thumbnails"], parent=self)
        self.current_path: Path | None = None
        self._rd_done = False

        self.compare = CompareView()
        self.welcome = WelcomePanel(sample_raw() is not None)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.compare)
        self.failed_view = FailedPanel()
        self.stack.addWidget(self.failed_view)
        self.setCentralWidget(self.stack)
        self.browser = BrowserPanel()
        self.inspector = InspectorPanel()
        self.plots = PlotsPanel()
        self.quality = QualityPanel()
        self.docks = [
            self._dock("Browser", "browser", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
            self._dock(
                "Inspector", "inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
            ),
            self._dock("Plots", "plots", self.plots, Qt.DockWidgetArea.BottomDockWidgetArea),
        ]
        toolbar = QToolBar("Quality", objectName="quality_toolbar")
        toolbar.addWidget(self.quality)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.status = StatusPanel(self.statusBar())
        self.status_label, self.skipped_label = self.status.message, self.status.skipped

        self.acts = WindowActions(self)
        bars: list[QDockWidget | QToolBar] = [*self.docks, toolbar]
        for dock_or_bar, shortcut in zip(bars, PANEL_SHORTCUTS, strict=True):
            toggle = dock_or_bar.toggleViewAction()
            toggle.setShortcut(QKeySequence(shortcut))
            self.acts.panels_menu.addAction(toggle)
        self.outputs = OutputActions(self)
        self.layout_ = WindowLayout(self)
        self._connect()
        self._restore()

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=f"{name}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        a, s = self.acts, self.session
        # Views accept drops by default; turn them off so a drop anywhere reaches the window.
        views = (self.compare.left, self.compare.right, self.browser.tree, self.browser.grid)
        for view in (*views, self.plots.canvas):
            view.setAcceptDrops(False)
            view.viewport().setAcceptDrops(False)
        s.loading.connect(self._on_session_loading)
        s.loaded.connect(self._on_session_loaded)
        s.previewed.connect(self._on_session_previewed)
        s.coded.connect(self._on_session_coded)
        s.measured.connect(self._on_session_measured)
        s.rendered.connect(self._on_session_rendered)
        s.rd_started.connect(self._on_session_rd_started)
        s.rd_point.connect(self.plots.add_rd_point)
        s.rd_finished.connect(self._on_session_rd_finished)
        s.failed.connect(self._on_session_failed)
        s.progress.connect(self.show_progress)
        self.quality.quality_changed.connect(self._on_quality_quality_changed)
        self.quality.slider.sliderReleased.connect(self._on_quality_slider_released)
        self.quality.exposure_changed.connect(self._on_quality_exposure_changed)
        self.compare.mode_changed.connect(self.set_compare_mode)
        self.compare.full_resolution_wanted.connect(s.request_full_resolution)
        self.browser.folder_selected.connect(self.open_folder)
        self.browser.file_activated.connect(self.open_file)
        self.browser.thumbnails_wanted.connect(self._on_browser_thumbnails_wanted)
        self.thumbnails.ready.connect(self.browser.set_thumbnail)
        self.welcome.open_folder_requested.connect(a.open_folder.trigger)
        self.welcome.sample_requested.connect(self.open_sample)
        # fmt: off
        q, c = self.quality, self.compare
        handlers = {
            "open_file": self._on_open_file_triggered, "open_folder": self._on_open_folder_triggered,
            "export_jpeg": self.outputs.export_adapter_jpeg, "save_tiff": self.outputs.save_tiff,
            "save_dng": self.outputs.save_dng, "batch": self.open_batch_dialog, "quit": self.close,
            "previous": lambda: self._step_image(-1), "next": lambda: self._step_image(1),
            "quality_up": lambda: q.step_quality(1), "quality_down": lambda: q.step_quality(-1),
            "quality_up10": lambda: q.step_quality(10),
            "quality_down10": lambda: q.step_quality(-10),
            "rd_curve": lambda: s.compute_rd(force=True), "fit": c.fit, "actual": c.actual_size,
            "reset_layout": self.layout_.reset,
            "zoom_in": lambda: c.zoom_by(1.25), "zoom_out": lambda: c.zoom_by(0.8),
            "mode_side": lambda: self.set_compare_mode("side"),
            "mode_split": lambda: self.set_compare_mode("split"),
            "mode_difference": lambda: self.set_compare_mode("difference"),
            "exposure_up": lambda: q.exposure.stepBy(1),
            "exposure_down": lambda: q.exposure.stepBy(-1),
            "exposure_reset": lambda: q.exposure.setValue(0.0),
            "full_screen": self._on_full_screen_triggered,
            "shortcuts": lambda: dialogs.show_shortcuts(self, self.acts.shortcut_table()),
            "about": lambda: dialogs.show_about(self),
        }
        # fmt: on
        for name, handler in handlers.items():
            a.actions[name].triggered.connect(handler)
        self._update_output_actions()

    def _restore(self) -> None:
        st = self.settings
        self.quality.set_quality(st.quality)
        self.session.quality = st.quality
        self.quality.set_exposure(st.exposure_ev)
        self.session.exposure_ev = st.exposure_ev
        self.set_compare_mode(st.compare_mode)
        self.resize(1400, 900)
        self.browser.setMinimumWidth(140)
        self.inspector.setMinimumWidth(200)
        self.layout_.arrange(wide=True)
        if (geometry := st.geometry()) is not None:
            self.restoreGeometry(geometry)
        if (state := st.state()) is not None and self.restoreState(state):
            QTimer.singleShot(0, self.layout_.after_restore)
        else:
            self.layout_.reset()
        self.acts.fill_recent(self.settings.recent_folders, self.open_folder)
        if st.last_folder is not None:
            self.browser.show_folder_in_tree(st.last_folder)

    # -- opening ----------------------------------------------------------------------------

    def open_paths(self, paths: Sequence[str | Path], recursive: bool = True) -> None:
        """Open files and folders (from the command line or a drop); folders are scanned
        on a worker, recursively unless ``recursive`` is False."""
        as_paths = [Path(p) for p in paths]
        self.show_progress("Looking for raws…", -1)
        self.pools["scan"].run_task(
            partial(jobs.collect_paths, as_paths, recursive),
            partial(self._on_scan_returned, as_paths),
            lambda exc: self.show_message(describe_error(exc), error=True),
        )

    def _on_scan_returned(self, paths: list[Path], result: tuple[list[Path], list[Path]]) -> None:
        found, rejected = result
        self.show_progress(f"Found {len(found)} file(s).", 100)
        self.status.show_skipped(rejected)
        folders = [Path(p) for p in paths if Path(p).is_dir()]
        if folders:
            self.settings.add_recent_folder(folders[0])
            self.acts.fill_recent(self.settings.recent_folders, self.open_folder)
        if len(paths) == 1 and not folders and found:
            # One file opened: list its folder around it, as a photo viewer does.
            self.pools["scan"].run_task(
                partial(jobs.collect_paths, [found[0].parent], False),
                partial(self._on_folder_of_file_listed, found[0]),
                lambda exc: self.show_message(describe_error(exc), error=True),
            )
            self.open_file(found[0])
        elif found:
            self.browser.show_folder_in_tree(folders[0] if folders else found[0].parent)
            self.browser.set_files(found)
            self.open_file(found[0])
        elif not rejected:
            self.show_message("No camera raws or adapter-JPEGs there.")
        self.files_listed.emit(found)

    def _on_folder_of_file_listed(self, path: Path, result: tuple[list[Path], list[Path]]) -> None:
        siblings = result[0] if path in result[0] else [path, *result[0]]
        self.browser.show_folder_in_tree(path.parent)
        self.browser.set_files(siblings)
        self.browser.select(self.current_path or path)
        self.settings.last_folder = path.parent
        self.files_listed.emit(siblings)

    def open_folder(self, folder: Path) -> None:
        """List the raws and adapter-JPEGs directly in ``folder`` and open the first."""
        self.open_paths([folder], recursive=False)

    def open_file(self, path: Path) -> None:
        """Show ``path`` (a camera raw or an adapter-JPEG)."""
        path = Path(path)
        if path == self.current_path and self.session.image is not None:
            return
        self.current_path = path
        self.browser.select(path)
        # The encoder's child starts (and loads the model) while the file is read.
        self.encoder.start()
        self.session.open(path)

    def open_sample(self) -> None:
        """Open the bundled sample raw."""
        sample = sample_raw()
        if sample is not None:
            self.open_paths([sample])

    def open_batch_dialog(self) -> None:
        """Open the batch export dialog on the listed files."""
        from rawjpeg_gui.gui.batch_dialog import BatchExportDialog  # loaded on first use

        sources = list(self.browser.paths) or ([self.current_path] if self.current_path else [])
        self._batch_dialog = BatchExportDialog(self, sources, quality=self.session.quality)
        self._batch_dialog.show()

    def _step_image(self, step: int) -> None:
        target = self.browser.neighbour(self.current_path, step)
        if target is not None:
            self.open_file(target)

    # -- session results --------------------------------------------------------------------

    def _on_session_loading(self, path: Path) -> None:
        self._rd_done = False
        self.setWindowTitle(f"{path.name} — rawjpeg")
        self.stack.setCurrentWidget(self.compare)
        self.browser.select(path)
        self._update_output_actions()

    def _on_session_loaded(self, image: jobs.LoadedImage) -> None:
        self.inspector.show_image(image)
        self.plots.clear()
        caption = (
            "Original raw" if image.original is not None else "Adapter-JPEG as viewers show it"
        )
        if image.original_path is not None and image.kind == "adapter":
            caption += f" ({image.original_path.name})"
        self.compare.set_original(image.display, image.size, caption, image.display_levels)
        self.compare.set_reconstruction(
            None, f"Reconstruction (coding at quality {self.session.quality}…)"
        )
        self.compare.set_error(None)
        if image.original is None:
            self.plots.clear_rd("(needs the original raw)")
            self._rd_done = True
        for control in (self.quality.slider, self.quality.spin):  # nothing to re-encode
            control.setEnabled(image.original is not None)

    def _on_session_previewed(self, shown) -> None:  # type: ignore[no-untyped-def]
        self.compare.set_reconstruction(
            shown.display,
            f"Reconstruction, quality {shown.quality} (screen-sized preview; full size coming…)",
            shown.display_levels,
        )

    def _on_session_coded(self, coded: jobs.CodedImage) -> None:
        image = self.session.image
        stored = image is not None and image.stored is coded
        origin = "stored in the file" if stored else "re-encoded"
        self.compare.set_reconstruction(
            coded.display,
            f"Reconstruction from adapter-JPEG, quality {coded.quality} ({origin})",
            coded.display_levels,
        )
        self.compare.set_error(coded.error_display, coded.error_levels)
        measuring = coded.psnr is None and image is not None and image.original is not None
        source_size = image.meta.source_size if image is not None else 0
        self.inspector.show_coded(coded, source_size, measuring)
        self.plots.show_coded(coded, measuring)
        self._update_output_actions()

    def _on_session_measured(self, _coded: jobs.CodedImage) -> None:
        self._check_ready()

    def _on_session_rendered(self, views: jobs.RenderedViews) -> None:
        if views.original is not None:
            self.compare.set_full_original(views.original, views.original_levels)
        if views.reconstruction is not None:
            self.compare.set_reconstruction_pixels(
                views.reconstruction, views.reconstruction_levels
            )

    def _on_session_rd_started(self) -> None:
        self._rd_done = False
        self.plots.clear_rd("(computing on the full image…)")

    def _on_session_rd_finished(self) -> None:
        self._rd_done = True
        self.plots.clear_rd_note()
        self.plots.show_current(self.session.current)
        self._check_ready()

    def _on_session_failed(self, path: str, message: str) -> None:
        if path:
            name = Path(path).name
            self.setWindowTitle(f"{name} (could not open) — rawjpeg")
            self.inspector.show_error(name, message)
            self.compare.clear()
            self.plots.clear()
            self.plots.clear_rd()
            self.failed_view.show_failure(name, message)
            self.stack.setCurrentWidget(self.failed_view)
            self._rd_done = True
        self.show_message(message, error=True)
        self._update_output_actions()
        self.ready.emit()

    def _check_ready(self) -> None:
        current = self.session.current
        if (
            current is not None
            and self._rd_done
            and (current.psnr is not None or not self._measurable())
        ):
            self.ready.emit()

    def _measurable(self) -> bool:
        image = self.session.image
        return image is not None and image.original is not None

    # -- controls ---------------------------------------------------------------------------

    def _on_quality_quality_changed(self, quality: int) -> None:
        self.settings.quality = quality
        self.session.set_quality(quality)
        current, image = self.session.current, self.session.image
        if current is not None and current.quality != quality and image and image.original:
            # Until the new coding arrives, the numbers shown are the previous quality's.
            self.inspector.fields["quality"].setText(f"{current.quality} (coding {quality}…)")
            caption = self.compare.right_caption.text().split(" — coding")[0]
            self.compare.right_caption.setText(f"{caption} — coding quality {quality}…")

    def _on_quality_slider_released(self) -> None:
        self.session.set_quality(self.quality.quality(), immediate=True)  # no debounce wait

    def _on_quality_exposure_changed(self, ev: float) -> None:
        self.settings.exposure_ev = ev
        self.session.set_exposure(ev)

    def set_compare_mode(self, mode: str) -> None:
        """Switch the compare view's mode and remember it."""
        self.compare.set_mode(mode)
        self.settings.compare_mode = self.compare.mode
        for name in ("side", "split", "difference"):
            self.acts.actions[f"mode_{name}"].setChecked(name == self.compare.mode)

    def _on_browser_thumbnails_wanted(self, paths: list[Path]) -> None:
        self.thumbnails.clear()
        for path in paths:
            self.thumbnails.request(path)

    def _on_open_file_triggered(self) -> None:
        path = dialogs.ask_open_file(self, self.settings.last_folder or Path.home())
        if path is not None:
            self.open_paths([path])

    def _on_open_folder_triggered(self) -> None:
        folder = dialogs.ask_open_folder(self, self.settings.last_folder or Path.home())
        if folder is not None:
            self.open_folder(folder)

    def _on_full_screen_triggered(self, checked: bool) -> None:
        self.showFullScreen() if checked else self.showNormal()

    def _update_output_actions(self) -> None:
        coded = self.session.current is not None
        for name in ("export_jpeg", "save_tiff", "save_dng"):
            self.acts.actions[name].setEnabled(coded)

    # -- status ---------------------------------------------------------------------------

    def show_message(self, message: str, error: bool = False) -> None:
        """Show ``message`` in the status bar (errors in red)."""
        log.info("status%s: %s", " (error)" if error else "", message)
        self.status.show_message(message, error)

    def show_progress(self, message: str, percent: int) -> None:
        """Status message with a progress bar (-1 busy, 100 done)."""
        log.debug("progress %d: %s", percent, message)
        self.status.show_progress(message, percent)

    # -- drag and drop, closing -------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        """Accept drops of local files and folders."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        """Open the dropped files and folders (recursively)."""
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        if paths:
            QTimer.singleShot(0, lambda: self.open_paths(paths))
        else:
            self.show_message("Only local files and folders can be dropped here.", error=True)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        """Re-colour the plots when the palette changes (light/dark scheme)."""
        if event.type() == QEvent.Type.PaletteChange:
            self.plots.apply_palette(self.palette())
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        """Switch between the wide and the compact arrangement of the panels."""
        super().resizeEvent(event)
        if self.layout_.wide is not None:
            self.layout_.follow_size()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        """Remember the layout, stop background work."""
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.session.cancel()
        for pool in self.pools.values():
            pool.abort_all()
        self.encoder.close()
        self.rd_encoder.close()
        super().closeEvent(event)
