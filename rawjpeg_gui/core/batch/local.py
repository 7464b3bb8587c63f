"""The local executor: a process pool on this machine (or inline when ``workers == 0``).

An executor takes planned :class:`~.events.BatchJob` values from the batch generator
and gives back :class:`~.events.FileResult` values; the generator decides when to
submit (never while :meth:`busy`), so never more than N images are in memory.
:mod:`.cluster` is the other executor, with the same methods.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Protocol

from .events import BatchJob, BatchOptions, CancelToken, FileResult
from .worker import WorkerState, export_one, init_worker, run_in_worker

#: How often (seconds) the generator looks at the cancel token while workers run.
POLL_SECONDS = 0.05

#: The function a worker process runs per job (module level, so "spawn" can import it).
Task = Callable[[BatchJob], FileResult]


class BatchExecutor(Protocol):
    """What the batch generator needs from an executor.

    Attributes:
        workers: how many files it works on at once (reported in ``BatchStarted``).
        label: where the work runs, for the journal ("local", a scheduler address).
    """

    workers: int
    label: str

    def check_access(self, destination: Path, sample: list[Path]) -> None:
        """Raise OutputError (one sentence) when the workers cannot see the files."""

    def busy(self) -> bool:
        """True when no more jobs should be submitted until some finish."""

    def pending(self) -> bool:
        """True while results are outstanding."""

    def submit(self, job: BatchJob) -> None:
        """Start ``job``."""

    def collect(self) -> list[FileResult]:
        """Results finished since the last call (waits up to :data:`POLL_SECONDS`)."""

    def close(self) -> None:
        """Stop the workers; after a cancel, without waiting for more files."""


#: Makes the executor for a batch (a test seam: tests pass their own).
ExecutorFactory = Callable[[BatchOptions, CancelToken], BatchExecutor]


class LocalPool:
    """Runs jobs in worker processes (or inline when ``workers == 0``), N at a time.

    A worker that dies (a crash inside LibRaw, the out-of-memory killer) breaks the
    whole pool and every job in flight with it. Those jobs become suspects: each is
    tried once more, alone on a new pool, so a second crash is its own and an
    innocent file that was merely beside it is written after all.

    Args:
        options: the batch's options (workers, model, verification).
        cancel: the batch's cancel token.
        task: the function the worker processes run per job (tests replace it).
    """

    label = "local"

    def __init__(self, options: BatchOptions, cancel: CancelToken, task: Task = run_in_worker):
        self._options = options
        self._cancel = cancel
        self._task = task
        self._futures: dict[Future[FileResult], BatchJob] = {}
        self._inline: list[FileResult] = []
        self._retried: set[int] = set()
        self._suspects: deque[BatchJob] = deque()
        self.workers = int(options.workers)
        self._pool: ProcessPoolExecutor | None = None
        if self.workers == 0:
            self._state = WorkerState.load(
                options.model_path, options.verify, lambda: cancel.cancelled
            )
        else:
            self._context = multiprocessing.get_context("spawn")
            self._stop = self._context.Event()
            if options.model_path is not None:  # a bad model fails here, once, clearly
                WorkerState.load(options.model_path, False, lambda: False)
            self._start_pool()

    def _start_pool(self) -> None:
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=self._context,  # "spawn": no forked Qt or OpenMP state
            initializer=init_worker,
            initargs=(
                self._options.model_path,
                self._options.verify,
                self._stop,
                # The cores are shared out between the processes: operator threads per worker.
                max(1, (os.cpu_count() or 1) // max(1, self.workers)),
            ),
        )

    def check_access(self, destination: Path, sample: list[Path]) -> None:
        """Nothing to check: the worker processes share this machine's files."""

    def busy(self) -> bool:
        """True when N jobs are in flight (the next must wait)."""
        isolating = any(job.index in self._retried for job in self._futures.values())
        full = len(self._futures) >= max(1, self.workers)
        return full or isolating or bool(self._inline or self._suspects)

    def pending(self) -> bool:
        """True while results are outstanding."""
        return bool(self._futures or self._inline or self._suspects)

    def submit(self, job: BatchJob) -> None:
        """Start ``job`` (inline: run it now; its result comes from :meth:`collect`)."""
        if self._pool is None:
            self._inline.append(export_one(job, self._state))
            return
        try:
            future = self._pool.submit(self._task, job)
        except BrokenProcessPool:
            self._restart()
            assert self._pool is not None
            future = self._pool.submit(self._task, job)
        self._futures[future] = job

    def _restart(self) -> None:
        assert self._pool is not None
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._start_pool()

    def collect(self) -> list[FileResult]:
        """Wait briefly for finished jobs; pass a cancel on to the workers."""
        if self._inline:
            done, self._inline = self._inline, []
            return done
        finished, _ = wait(self._futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        if self._cancel.cancelled:
            self._stop.set()
        out = []
        for future in finished:
            job = self._futures.pop(future)
            try:
                out.append(future.result())
            except BrokenProcessPool:
                if job.index in self._retried or self._cancel.cancelled:
                    reason = f"The worker stopped unexpectedly on {job.source.name}."
                    out.append(FileResult.not_written(job.index, job.source, "failed", reason))
                else:
                    self._retried.add(job.index)
                    self._suspects.append(job)
            except Exception as exc:  # export_one reports its errors; this is a pool error
                reason = (
                    f"{job.source.name} could not be handed to a worker ({type(exc).__name__})."
                )
                out.append(FileResult.not_written(job.index, job.source, "failed", reason))
        while self._suspects and not self._futures:
            job = self._suspects.popleft()
            if self._cancel.cancelled:
                reason = f"{job.source.name} was cancelled before it was written."
                out.append(FileResult.not_written(job.index, job.source, "cancelled", reason))
            else:
                self.submit(job)  # alone: nothing else is submitted while it runs
        return out

    def close(self) -> None:
        """Stop the workers (after a cancel or an error, without waiting for more files)."""
        if self._pool is not None:
            if self._futures:
                self._stop.set()
            self._pool.shutdown(wait=True, cancel_futures=True)
