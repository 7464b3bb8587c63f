"""The image being looked at, and the background jobs that keep its views current."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from rawjpeg_gui.core.errors import CancelledError
from rawjpeg_gui.core.rawio import RawImage

from . import caches, jobs, preview
from .caches import MemoryCache, RDCache
from .coder import LocalCoder
from .messages import describe_error
from .pool import GeneratorWorker, TaskPool

log = logging.getLogger(__name__)


class ImageSession(QObject):
    """Opens one image at a time and re-codes it when the quality changes.

    A quality change is answered in three steps: the reconstruction of a screen-sized
    proxy (``previewed``), the full-resolution reconstruction (``coded``, unmeasured),
    then PSNR, SSIM and the error map (``coded`` again and ``measured``). Work for a
    superseded request (a newer file, a newer quality) is aborted at once and its
    results are dropped. Opened images and their codings are kept in a memory-bounded
    cache and rate-distortion curves on disk, so revisiting is instant. The curve is
    computed on the full image, one point at a time, only while nothing else runs.

    Attributes:
        image: the current :class:`~rawjpeg_gui.workers.jobs.LoadedImage` or ``None``.
        current: the current :class:`~rawjpeg_gui.workers.jobs.CodedImage` or ``None``.
        quality: the working JPEG quality (the user's; opening a file never changes it).
        exposure_ev: the display exposure in EV.
        rd_points: rate-distortion points received for the current image.
        encoder: the :class:`~rawjpeg_gui.workers.jobs.Coder` that makes the proxy's
            preview, the coding and its numbers (default: a
            :class:`~rawjpeg_gui.workers.coder.LocalCoder`, on the pools' threads).
        rd_coder: optional ``(raw, method, quality) -> RDPoint`` for the curve's points.
        images, memory: the :class:`~rawjpeg_gui.workers.caches.MemoryCache` of opened
            images and the one of their codings.
        rd_cache: the :class:`~rawjpeg_gui.workers.caches.RDCache` of curves.

    Signals:
        loading(object): a path started loading.
        loaded(object): a LoadedImage is ready.
        previewed(object): a PreviewImage (proxy reconstruction) for the current quality.
        coded(object): a CodedImage for the current quality (first unmeasured, then measured).
        measured(object): the measured CodedImage for the current quality.
        rendered(object): RenderedViews after an exposure change or for 1:1.
        rd_started(): a new rate-distortion curve is being computed.
        rd_point(object): one RDPoint of the current image's curve.
        rd_finished(): the curve is complete.
        failed(str, str): a path (or "") and a one-sentence message.
        progress(str, int): a status message and percent (-1 busy, 100 done).
    """

    loading = Signal(object)
    loaded = Signal(object)
    previewed = Signal(object)
    coded = Signal(object)
    measured = Signal(object)
    rendered = Signal(object)
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
        debounce_ms: int = 150,
        parent: QObject | None = None,
        auto_rd: bool = True,
        encoder: jobs.Coder | None = None,
        preview_pool: TaskPool | None = None,
        rd_coder: Callable[[RawImage, str, int], Any] | None = None,
        memory: MemoryCache | None = None,
        rd_cache: RDCache | None = None,
    ) -> None:
        super().__init__(parent)
        self.encoder: jobs.Coder = encoder if encoder is not None else LocalCoder()
        self.rd_coder = rd_coder
        self.memory = memory if memory is not None else MemoryCache()
        self.images = MemoryCache(self.memory.budget)
        self.rd_cache = rd_cache if rd_cache is not None else RDCache()
        self.image: jobs.LoadedImage | None = None
        self.current: jobs.CodedImage | None = None
        self.quality = 75
        self.exposure_ev = 0.0
        self.rd_points: list[Any] = []
        self.auto_rd = auto_rd
        self._load_pool, self._code_pool = load_pool, code_pool
        self._rd_pool = rd_pool or code_pool
        self._preview_pool = preview_pool or load_pool
        self._token = 0
        self._code_token = 0
        self._render_token = 0
        self._generation = 0  # the coder's generation of the current requests
        self._full_wanted = False
        self._original_stale = False
        self._jobs: dict[str, GeneratorWorker] = {}
        self._rd_stop = threading.Event()
        self._idle = threading.Event()  # set while no preview or coding job runs
        self._idle.set()
        self._quality_timer = self._timer(debounce_ms, self._start_code)
        self._preview_timer = self._timer(min(debounce_ms, 30), self._start_preview)
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
        self._generation = self.encoder.supersede()
        self._token += 1
        self.image, self.current, self.rd_points = None, None, []
        self._full_wanted = self._original_stale = False
        p = Path(path)
        self.loading.emit(p)
        key = caches.file_key(p)
        cached = self.images.get(("load", key)) if key is not None else None
        if cached is not None:
            self._on_load_returned(self._token, cached)
            return
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
        """Ask for the image coded at ``quality``; the proxy answers first, then full size.

        Work for the previous quality is aborted at once; the full-resolution coding is
        debounced unless ``immediate`` (a slider being dragged asks for many).
        """
        quality = int(min(max(int(quality), 1), 100))
        if quality == self.quality and immediate and self._busy():
            # Already asked for (a slider released where it was dragged): start what waits.
            for timer, start in ((self._preview_timer, self._start_preview),
                                 (self._quality_timer, self._start_code)):  # fmt: skip
                if timer.isActive():
                    timer.stop()
                    start()
            return
        if quality == self.quality and self.current is not None and self.current.quality == quality:
            self._quality_timer.stop()
            self._preview_timer.stop()
            return
        self.quality = quality
        if self.image is None or self.image.original is None:
            return
        self._code_token += 1  # results of the previous quality are stale from now on
        self._abort("preview")
        self._abort("code")
        self._generation = self.encoder.supersede()  # and the coder stops making them
        if self._use_cached_coding():
            return
        self._idle.clear()  # the curve waits while the answer is being made
        if immediate:
            self._quality_timer.stop()
            self._preview_timer.stop()
            self._start_preview()
            self._start_code()
        else:
            self._preview_timer.start()
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

    def compute_rd(self, force: bool = False) -> None:
        """(Re)compute the rate-distortion curve of the current original (on the full image).

        A curve kept on disk for this file and model is used unless ``force``.
        """
        self._abort("rd")
        image = self.image
        if image is None or image.original is None:
            return
        self.rd_points = []
        self.rd_started.emit()
        token = self._token
        self._rd_stop = stop = threading.Event()
        idle = self._idle

        def paused() -> bool:
            if threading.current_thread() is threading.main_thread():
                return stop.is_set()  # a synchronous pool (tests): never block the GUI
            while not idle.wait(0.05):
                if stop.is_set():
                    return True
            return stop.is_set()

        self._run(
            "rd",
            self._rd_pool,
            partial(
                caches.cached_rd_points, image.original, image.original_path or image.path, image.model,
                self.rd_cache, None if force else self.rd_cache, paused, self.rd_coder,
            ),
            partial(self._on_rd_returned, token),
            partial(self._on_job_failed, token, None),
            partial(self._on_rd_yielded, token),
        )  # fmt: skip

    def cancel(self) -> None:
        """Abort every running job of this session and drop pending requests."""
        for timer in (self._quality_timer, self._preview_timer, self._exposure_timer):
            timer.stop()
        for name in list(self._jobs):
            self._abort(name)
        self._idle.set()

    # -- jobs -------------------------------------------------------------------------------

    def _run(self, name: str, pool: TaskPool, func: Any, done: Any, error: Any, step: Any = None):
        self._abort(name)
        box: dict[str, GeneratorWorker] = {}

        def release() -> None:
            if name in box and self._jobs.get(name) is box[name]:
                del self._jobs[name]
            if name in ("preview", "code") and not self._busy():
                self._idle.set()

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

    def _busy(self) -> bool:
        timers = self._quality_timer.isActive() or self._preview_timer.isActive()
        return timers or "code" in self._jobs or "preview" in self._jobs

    def _abort(self, name: str) -> None:
        worker = self._jobs.pop(name, None)
        if worker is not None:
            if name == "rd":
                self._rd_stop.set()  # also wakes a curve waiting for the app to be idle
            worker.abort()
        if name in ("preview", "code") and not self._busy():
            self._idle.set()

    def _coding_key(self, quality: int) -> tuple | None:
        image = self.image
        key = caches.file_key(image.path) if image is not None else None
        return None if key is None or image is None else ("code", key, quality, image.model)

    def _use_cached_coding(self) -> bool:
        """Show the current quality's coding from the cache; True when it was there."""
        key = self._coding_key(self.quality)
        coded = self.memory.get(key) if key is not None else None
        if coded is None:
            return False
        self._quality_timer.stop()
        self._preview_timer.stop()
        self._show_measured(coded, cached=True)
        return True

    def _start_preview(self) -> None:
        image = self.image
        if image is None or image.original is None:
            return
        token, code_token = self._token, self._code_token
        self._run(
            "preview",
            self._preview_pool,
            partial(
                preview.code_preview,
                image,
                self.quality,
                self.exposure_ev,
                self.encoder,
                self._generation,
            ),  # fmt: skip
            partial(self._on_preview_returned, token, code_token),
            partial(self._on_code_failed, token, code_token),
        )

    def _start_code(self) -> None:
        if self.image is None or self.image.original is None:
            return
        self._idle.clear()
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
                self._generation,
            ),
            partial(self._on_code_returned, token, code_token),
            partial(self._on_code_failed, token, code_token),
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
        if (key := caches.file_key(loaded.path)) is not None:
            self.images.put(("load", key), loaded)
        self.progress.emit(f"Opened {loaded.path.name} in {loaded.seconds:.1f} s.", 100)
        self.loaded.emit(loaded)
        if loaded.stored is not None:  # an adapter-JPEG: its own coding, at its own quality
            self.current = loaded.stored
            self.coded.emit(loaded.stored)
            self.measured.emit(loaded.stored)
            if self.auto_rd and loaded.original is not None:
                self.compute_rd()
        elif loaded.original is not None:
            self._code_token += 1
            if not self._use_cached_coding():
                self._quality_timer.stop()
                self._preview_timer.stop()
                self._idle.clear()
                self._start_preview()
                self._start_code()

    def _on_preview_returned(self, token: int, code_token: int, shown: Any) -> None:
        if token != self._token or code_token != self._code_token or shown is None:
            return
        if self.current is not None and self.current.quality == shown.quality:
            return  # the full-resolution answer came first
        self.previewed.emit(shown)

    def _on_code_yielded(self, token: int, code_token: int, step: Any) -> None:
        if token != self._token or code_token != self._code_token:
            return
        if isinstance(step, jobs.CodedImage):
            self.current = step
            self.coded.emit(step)
            if self._full_wanted:
                self._start_render(original=False)  # only the reconstruction changed
        else:
            self.progress.emit(str(step), -1)

    def _on_code_returned(self, token: int, code_token: int, coded: jobs.CodedImage) -> None:
        if token != self._token or code_token != self._code_token or coded is None:
            return
        if (key := self._coding_key(coded.quality)) is not None:
            self.memory.put(key, coded)
        self._show_measured(coded, cached=False)

    def _show_measured(self, coded: jobs.CodedImage, cached: bool) -> None:
        first = not self.rd_points and not self._rd_running()
        unchanged = self.current is not None and self.current.quality == coded.quality
        self.current = coded
        how = "from this session" if cached else f"in {coded.seconds:.1f} s"
        self.progress.emit(
            f"Quality {coded.quality}: {coded.file_bytes / 1e6:.2f} MB, {coded.bpp:.2f} bpp ({how}).",
            100,
        )
        self.coded.emit(coded)
        self.measured.emit(coded)
        if self._full_wanted and not unchanged:
            self._start_render(original=False)
        if first and self.auto_rd:
            self.compute_rd()

    def _rd_running(self) -> bool:
        return "rd" in self._jobs

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

    def _on_code_failed(self, token: int, code_token: int, exc: BaseException) -> None:
        if code_token == self._code_token and not isinstance(exc, CancelledError):
            self._on_job_failed(token, None, exc)

    def _on_job_failed(self, token: int, path: Path | None, exc: BaseException) -> None:
        if token != self._token:
            return
        message = describe_error(exc, path)
        log.info("%s: %s", path or "job", message)
        self.progress.emit(message, 100)
        self.failed.emit(str(path) if path else "", message)
