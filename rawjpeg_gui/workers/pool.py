"""Thread pools and workers: run a function or a generator off the GUI thread.

Two shapes, after Picard and napari:

* :meth:`TaskPool.run_task` - ``func()`` runs on the pool; ``next_func(result)`` or
  ``error_func(exc)`` is then called on the GUI thread.
* :meth:`TaskPool.start` - a :class:`GeneratorWorker` whose signals the caller
  connected runs on the pool; every value its generator yields is emitted with
  :attr:`WorkerSignals.yielded`; :meth:`GeneratorWorker.abort` stops it at the next yield.

:class:`SynchronousPool` runs everything at once in the calling thread so tests
are deterministic.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """Signals of one background job; lives on the GUI thread so slots run there.

    Signals:
        yielded(object): a value the generator yielded.
        returned(object): the function's (or generator's) return value.
        errored(object): the exception that ended the job.
        finished(): the job ended, whichever way (also after an abort).
    """

    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    finished = Signal()


class GeneratorWorker(QRunnable):
    """Runs ``func(*args)``; if it returns a generator, iterates it with abort checks.

    Attributes:
        signals: the job's :class:`WorkerSignals`.
        aborted: True once :meth:`abort` was called.
    """

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self.aborted = False
        self._func, self._args, self._kwargs = func, args, kwargs

    def abort(self) -> None:
        """Ask the job to stop at its next step; no more signals but ``finished``."""
        self.aborted = True

    def run(self) -> None:
        """Run the job (called by the pool); a job aborted while queued does nothing."""
        try:
            if self.aborted:
                return
            result = self._func(*self._args, **self._kwargs)
            if isinstance(result, Generator):
                result = self._iterate(result)
            if not self.aborted:
                self._emit(self.signals.returned, result)
        except Exception as exc:  # reported, never raised into Qt
            if not self.aborted:
                log.debug("worker failed: %s", "".join(traceback.format_exception(exc)))
                self._emit(self.signals.errored, exc)
        finally:
            self._emit(self.signals.finished)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        """Emit, unless Qt already destroyed the signals' object (the app is closing
        while this job unwinds: nobody is left to tell)."""
        try:
            signal.emit(*args)
        except RuntimeError:
            log.debug("a background job ended after its receiver was destroyed")

    def _iterate(self, gen: Generator[Any, None, Any]) -> Any:
        while True:
            if self.aborted:
                gen.close()
                return None
            try:
                value = next(gen)
            except StopIteration as stop:
                return stop.value
            if not self.aborted:
                self._emit(self.signals.yielded, value)


def _ignore(_exc: BaseException) -> None:
    """Error callback for workers whose owner connected ``errored`` itself."""


class _Callbacks(QObject):
    """Calls plain Python callbacks on the thread this object lives on (the GUI)."""

    def __init__(
        self,
        worker: GeneratorWorker,
        next_func: Callable[[Any], None] | None,
        error_func: Callable[[BaseException], None] | None,
        pool: TaskPool,
        progress_func: Callable[[Any], None] | None = None,
    ) -> None:
        super().__init__()
        self._next, self._error, self._pool, self._worker = next_func, error_func, pool, worker
        self._progress = progress_func
        worker.signals.yielded.connect(self._on_worker_yielded)
        worker.signals.returned.connect(self._on_worker_returned)
        worker.signals.errored.connect(self._on_worker_errored)
        worker.signals.finished.connect(self._on_worker_finished)

    @Slot(object)
    def _on_worker_yielded(self, value: Any) -> None:
        if self._progress is not None:
            self._progress(value)

    @Slot(object)
    def _on_worker_returned(self, result: Any) -> None:
        if self._next is not None:
            self._next(result)

    @Slot(object)
    def _on_worker_errored(self, exc: Any) -> None:
        if self._error is not None:
            self._error(exc)
        else:
            log.error("background task failed: %s", exc)

    @Slot()
    def _on_worker_finished(self) -> None:
        self._pool._forget(self._worker)


class TaskPool(QObject):
    """A bounded pool of threads for one kind of work ("load", "code", "thumbnails").

    Attributes:
        name: what the pool is for (shown in logs).
        active: the workers started and not yet finished.
    """

    def __init__(self, name: str, max_threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.active: list[GeneratorWorker] = []
        self._keep: dict[int, _Callbacks] = {}
        self._graveyard: list[GeneratorWorker] = []
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, max_threads))

    def start(self, worker: GeneratorWorker) -> GeneratorWorker:
        """Start a worker whose signals the caller has connected."""
        self._keep[id(worker)] = _Callbacks(worker, None, _ignore, self)
        self.active.append(worker)
        self._dispatch(worker)
        return worker

    def run_task(
        self,
        func: Callable[[], Any],
        next_func: Callable[[Any], None] | None = None,
        error_func: Callable[[BaseException], None] | None = None,
        progress_func: Callable[[Any], None] | None = None,
    ) -> GeneratorWorker:
        """Run ``func()`` on the pool; call ``next_func(result)`` / ``error_func(exc)`` on the GUI.

        When ``func`` returns a generator, each yielded value goes to ``progress_func``
        and the generator's return value to ``next_func``.
        """
        worker = GeneratorWorker(func)
        self._keep[id(worker)] = _Callbacks(worker, next_func, error_func, self, progress_func)
        self.active.append(worker)
        self._dispatch(worker)
        return worker

    def _dispatch(self, worker: GeneratorWorker) -> None:
        self._pool.start(worker)

    def _forget(self, worker: GeneratorWorker) -> None:
        if worker in self.active:
            self.active.remove(worker)
        self._keep.pop(id(worker), None)
        # The runnable may still be unwinding its run() on the pool thread: keep the
        # last few alive a little longer instead of freeing them under its feet.
        self._graveyard.append(worker)
        del self._graveyard[:-8]

    def abort_all(self) -> None:
        """Ask every running job to stop."""
        for worker in list(self.active):
            worker.abort()

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until the pool's threads are idle (tests and shutdown only)."""
        return self._pool.waitForDone(msecs)


class SynchronousPool(TaskPool):
    """A pool that runs each job immediately in the calling thread (for tests)."""

    def _dispatch(self, worker: GeneratorWorker) -> None:
        worker.run()
