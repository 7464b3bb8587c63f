"""Batch export off the GUI thread: :func:`rawjpeg_gui.core.batch.run_batch` as Qt signals.

The core generator already runs the heavy work in worker processes; this thread only
iterates it (submitting files, waiting for results) so the window never blocks. Every
event becomes one typed signal on the GUI thread. Cancelling sets the core's
:class:`~rawjpeg_gui.core.batch.CancelToken`: the generator then stops its processes
within the file each is on and still ends with ``finished(BatchFinished)``, so the
report is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from rawjpeg_gui.core.batch import (
    BatchFinished,
    BatchOptions,
    BatchStarted,
    CancelToken,
    FileDone,
    FileStarted,
    run_batch,
)

from .pool import GeneratorWorker, TaskPool


class BatchWorker(QObject):
    """Runs one batch export on a :class:`TaskPool` and reports it with signals.

    Signals:
        started(BatchStarted): the batch began (total files, workers).
        file_started(FileStarted): a file went to a worker process.
        file_done(FileDone): a file is finished (its result and the progress).
        finished(BatchFinished): the batch ended, normally or after a cancel.
        failed(str): the batch could not run at all (one sentence), e.g. no destination.

    Attributes:
        sources: the source files, in batch order.
        options: how to export them.
        running: True from :meth:`start` until ``finished`` or ``failed``.
    """

    started = Signal(object)
    file_started = Signal(object)
    file_done = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        sources: Sequence[Path],
        options: BatchOptions,
        pool: TaskPool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.sources = list(sources)
        self.options = options
        self.running = False
        self._token = CancelToken()
        self._pool = pool or TaskPool("batch", 1, self)
        self._job: GeneratorWorker | None = None

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._token.cancelled

    def start(self) -> None:
        """Start the batch on the pool (returns at once)."""
        if self._job is not None:
            raise RuntimeError("A BatchWorker runs one batch; make a new one for the next.")
        self.running = True
        self._job = GeneratorWorker(run_batch, self.sources, self.options, self._token)
        self._job.signals.yielded.connect(self._on_job_yielded)
        self._job.signals.errored.connect(self._on_job_errored)
        self._pool.start(self._job)

    def cancel(self) -> None:
        """Stop within the current file of each process; ``finished`` still follows."""
        self._token.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until the batch thread is idle (shutdown and tests only)."""
        return self._pool.wait_for_done(msecs)

    @Slot(object)
    def _on_job_yielded(self, event: object) -> None:
        if isinstance(event, FileDone):
            self.file_done.emit(event)
        elif isinstance(event, FileStarted):
            self.file_started.emit(event)
        elif isinstance(event, BatchStarted):
            self.started.emit(event)
        elif isinstance(event, BatchFinished):
            self.running = False
            self.finished.emit(event)

    @Slot(object)
    def _on_job_errored(self, exc: object) -> None:
        self.running = False
        self.failed.emit(str(exc) or type(exc).__name__)
