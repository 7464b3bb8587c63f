"""The image being looked at, and the background jobs that keep its views current."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from rawjpeg_gui.core.errors import RawJpegError
from rawjpeg_gui.core.rawio import RawImage

from . import jobs
from .pool import GeneratorWorker, TaskPool

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """One clear sentence for a person, whatever went wrong."""
    if isinstance(exc, RawJpegError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "There is not enough memory to process this image."
    return f"Unexpected error: {exc}".rstrip(".") + "."


class ImageSession(QObject):
    """Opens one image at a time and re-codes it when the quality changes.

    Results of a request that was superseded (a newer file, a newer quality) are
    dropped, and the superseded job is asked to abort.

    Attributes:
        image: the current :class:`~rawjpeg_gui.workers.jobs.LoadedImage` or ``None``.
        current: the current :class:`~rawjpeg_gui.workers.jobs.CodedImage` or ``None``.
        quality: the JPEG quality asked for.
        exposure_ev: the display exposure in EV.
        rd_points: rate-distortion points received for the current image.
        encoder: optional ``(raw, quality) -> bytes`` used instead of encoding in-thread.

    Signals:
        loading(object): a path started loading.
        loaded(object): a LoadedImage is ready.
        coded(object): a CodedImage for the current quality is ready.
        rendered(object): RenderedViews after an exposure change or for 1:1.
        quality_changed(int): the session's quality changed by itself (adapter-JPEG opened).
        rd_started(): a new rate-distortion curve is being computed.
        rd_point(object): one RDPoint of the current image's curve.
        rd_finished(): the curve is complete.
        failed(str, str): a path (or "") and a one-sentence message.
        progress(str, int): a status message and percent (-1 busy, 100 done).
    """

    loading = Signal(object)
    loaded = Signal(object)
    coded = Signal(object)
    rendered = Signal(object)
    quality_changed = Signal(int)
    rd_started = Signal()
    rd_point = Signal(object)
    rd_finished = Signal()
    failed = Signal(str, str)
    progress = Signal(str, int)

    def __init__(
        self,
        load_pool: TaskPool,
        code_pool: TaskPool,
        rd_pool: TaskPool | None = None,
        debounce_ms: int = 250,
        parent: QObject | None = None,
        auto_rd: bool = True,
        encoder: Callable[[RawImage, int], bytes] | None = None,
    ) -> None:
        super().__init__(parent)
        self.encoder = encoder
        self.image: jobs.LoadedImage | None = None
        self.current: jobs.CodedImage | None = None
        self.quality = 75
        self.exposure_ev = 0.0
        self.rd_points: list[Any] = []
        self.auto_rd = auto_rd
        self._load_pool, self._code_pool = load_pool, code_pool
        self._rd_pool = rd_pool or code_pool
        self._token = 0
        self._code_token = 0
        self._render_token = 0
        self._full_wanted = False
        self._original_stale = False
        self._jobs: dict[str, GeneratorWorker] = {}
        self._quality_timer = self._timer(debounce_ms, self._start_code)
        self._exposure_timer = self._timer(min(debounce_ms, 100), self._start_render)

    def _timer(self, msecs: int, slot: Any) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(msecs)
        timer.timeout.connect(slot)
        return timer

    # -- requests ---------------------------------------------------------------------------

    def open(self, path: str | Path) -> None:
        """Load ``path`` (camera raw or adapter-JPEG), replacing the current image."""
        self.cancel()
        self._token += 1
        self.image, self.current, self.rd_points = None, None, []
        self._full_wanted = self._original_stale = False
        p = Path(path)
        self.loading.emit(p)
        self.progress.emit(f"Opening {p.name}…", -1)
        token = self._token
        self._run(
            "load",
            self._load_pool,
            partial(jobs.load_image, p, self.exposure_ev),
            partial(self._on_load_returned, token),
            partial(self._on_job_failed, token, p),
        )

    def set_quality(self, quality: int, immediate: bool = False) -> None:
        """Ask for the image coded at ``quality``; debounced unless ``immediate``."""
        quality = int(min(max(int(quality), 1), 100))
        if quality == self.quality and self.current is not None and self.current.quality == quality:
            self._quality_timer.stop()
            return
        self.quality = quality
        if immediate:
            self._quality_timer.stop()
            self._start_code()
        else:
            self._quality_timer.start()

    def set_exposure(self, ev: float) -> None:
        """Change the display exposure (re-renders both sides, debounced)."""
        self.exposure_ev = float(ev)
        if self.image is not None:
            self._exposure_timer.start()

    def request_full_resolution(self) -> None:
        """Render both sides at full size (for 1:1 and closer zooms), once per state."""
        if self._full_wanted or self.image is None:
            return
        self._full_wanted = True
        self._start_render()

    def compute_rd(self) -> None:
        """(Re)compute the rate-distortion curve of the current original."""
        self._abort("rd")
        if self.image is None or self.image.original is None:
            return
        self.rd_points = []
        self.rd_started.emit()
        token = self._token
        original = self.image.original
        self._run(
            "rd",
            self._rd_pool,
            partial(jobs.rd_points, original),
            partial(self._on_rd_returned, token),
            partial(self._on_job_failed, token, None),
            partial(self._on_rd_yielded, token),
        )

    def cancel(self) -> None:
        """Abort every running job of this session and drop pending requests."""
        self._quality_timer.stop()
        self._exposure_timer.stop()
        for name in list(self._jobs):
            self._abort(name)

    # -- jobs -------------------------------------------------------------------------------

    def _run(self, name: str, pool: TaskPool, func: Any, done: Any, error: Any, step: Any = None):
        self._abort(name)
        box: dict[str, GeneratorWorker] = {}

        def release() -> None:
            if name in box and self._jobs.get(name) is box[name]:
                del self._jobs[name]

        def finished(result: Any) -> None:
            release()
            done(result)

        def failed(exc: BaseException) -> None:
            release()
            error(exc)

        worker = pool.run_task(func, finished, failed, step)
        box[name] = worker
        if worker in pool.active:  # a synchronous pool has already finished it
            self._jobs[name] = worker
        return worker

    def _abort(self, name: str) -> None:
        worker = self._jobs.pop(name, None)
        if worker is not None:
            worker.abort()

    def _start_code(self) -> None:
        if self.image is None or self.image.original is None:
            return
        self._code_token += 1
        token, code_token = self._token, self._code_token
        self.progress.emit(f"Encoding at quality {self.quality}…", -1)
        self._run(
            "code",
            self._code_pool,
            partial(
                jobs.code_image,
                self.image.original,
                self.quality,
                self.exposure_ev,
                self.image.base_gain,
                self.encoder,
            ),
            partial(self._on_code_returned, token, code_token),
            partial(self._on_job_failed, token, None),
            partial(self._on_code_yielded, token, code_token),
        )

    def _start_render(self, original: bool = True) -> None:
        """Re-render the reconstruction, and the original too when asked or still stale."""
        if self.image is None:
            return
        self._original_stale = self._original_stale or original
        self._render_token += 1
        token, render_token = self._token, self._render_token
        recon = self.current.reconstruction if self.current is not None else None
        self._run(
            "render",
            self._load_pool,
            partial(
                jobs.render_views,
                self.image.original if self._original_stale else None,
                recon,
                self.exposure_ev,
                self.image.base_gain,
                self._full_wanted,
            ),
            partial(self._on_render_returned, token, render_token),
            partial(self._on_job_failed, token, None),
        )

    # -- results (GUI thread) ---------------------------------------------------------------

    def _on_load_returned(self, token: int, loaded: jobs.LoadedImage) -> None:
        if token != self._token:
            return
        self.image = loaded
        self.progress.emit(f"Opened {loaded.path.name} in {loaded.seconds:.1f} s.", 100)
        self.loaded.emit(loaded)
        if loaded.stored is not None:
            self.current = loaded.stored
            if loaded.stored.quality != self.quality:
                self.quality = loaded.stored.quality
                self.quality_changed.emit(self.quality)
            self.coded.emit(loaded.stored)
            if self.auto_rd:
                self.compute_rd()
        elif loaded.original is not None:
            self._quality_timer.stop()
            self._start_code()

    def _on_code_yielded(self, token: int, code_token: int, message: str) -> None:
        if token == self._token and code_token == self._code_token:
            self.progress.emit(message, -1)

    def _on_code_returned(self, token: int, code_token: int, coded: jobs.CodedImage) -> None:
        if token != self._token or code_token != self._code_token or coded is None:
            return
        first = self.current is None
        self.current = coded
        self.progress.emit(
            f"Quality {coded.quality}: {coded.file_bytes / 1e6:.2f} MB, {coded.bpp:.2f} bpp "
            f"({coded.seconds:.1f} s).",
            100,
        )
        self.coded.emit(coded)
        if self._full_wanted:
            self._start_render(original=False)  # only the reconstruction changed
        if first and self.auto_rd and not self.rd_points:
            self.compute_rd()

    def _on_render_returned(self, token: int, render_token: int, views: jobs.RenderedViews) -> None:
        if token == self._token and render_token == self._render_token and views is not None:
            if views.original is not None:
                self._original_stale = False
            self.rendered.emit(views)

    def _on_rd_yielded(self, token: int, point: Any) -> None:
        if token == self._token:
            self.rd_points.append(point)
            self.rd_point.emit(point)

    def _on_rd_returned(self, token: int, _result: Any) -> None:
        if token == self._token:
            self.rd_finished.emit()

    def _on_job_failed(self, token: int, path: Path | None, exc: BaseException) -> None:
        if token != self._token:
            return
        message = describe_error(exc)
        log.info("%s: %s", path or "job", message)
        self.progress.emit(message, 100)
        self.failed.emit(str(path) if path else "", message)
