"""The batch generator (:func:`run_batch`) and the process pool it drives.

:func:`run_batch` plans each source (output name, overwrite policy), hands the
planned jobs to :class:`_Runner` N at a time and turns the results into progress
events; :class:`_Clock` keeps the counts and a remaining-time estimate.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..errors import OutputError
from ..naming import DestinationPlanner, needs_metadata, read_name_fields, render_name
from .events import (
    BatchEvent,
    BatchFinished,
    BatchJob,
    BatchOptions,
    BatchProgress,
    BatchStarted,
    CancelToken,
    FileDone,
    FileResult,
    FileStarted,
    FileStatus,
    file_size,
)
from .worker import WorkerState, export_one, init_worker

#: How often (seconds) the generator looks at the cancel token while workers run.
POLL_SECONDS = 0.05


class _Clock:
    """Progress and a remaining-time estimate weighted by input bytes."""

    def __init__(self, sizes: Sequence[int]) -> None:
        self.start = time.monotonic()
        self.total = len(sizes)
        self.done = 0
        self.bytes_left = sum(sizes)
        self.bytes_encoded = 0

    def finish(self, result: FileResult) -> None:
        self.done += 1
        self.bytes_left -= result.input_bytes
        if result.status in (FileStatus.WRITTEN, FileStatus.FAILED):
            self.bytes_encoded += result.input_bytes

    def progress(self) -> BatchProgress:
        elapsed = time.monotonic() - self.start
        eta = None
        if self.bytes_encoded > 0:
            eta = max(0.0, elapsed * self.bytes_left / self.bytes_encoded)
        return BatchProgress(self.done, self.total, elapsed, eta)


def run_batch(
    sources: Sequence[str | os.PathLike[str]],
    options: BatchOptions,
    cancel: CancelToken | None = None,
) -> Generator[BatchEvent, None, None]:
    """Export ``sources`` as adapter-JPEGs, yielding progress events.

    Args:
        sources: source files (see :func:`collect_sources`), in output-index order.
        options: destination, quality, naming, policy, workers, verification, model.
        cancel: set it to stop; the last event is then ``BatchFinished(cancelled=True)``.

    Raises:
        OutputError: the destination cannot be a folder (before any event).
        ModelError: the adapter model cannot be loaded.
    """
    cancel = cancel or CancelToken()
    paths = [Path(s) for s in sources]
    dest = Path(options.destination)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise OutputError(f"The destination {dest} is not a folder that can be written.") from None
    if not dest.is_dir():
        raise OutputError(f"The destination {dest} is not a folder.")
    planner = DestinationPlanner(dest, options.on_exists, paths)
    want_meta = needs_metadata(options.template)
    clock = _Clock([file_size(p) for p in paths])
    results: list[FileResult] = []
    runner = _Runner(options, cancel)
    yield BatchStarted(len(paths), runner.workers, dest)
    try:
        for index, source in enumerate(paths, 1):
            while runner.busy() and not cancel.cancelled:
                yield from _finished(runner.collect(), clock, results)
            if cancel.cancelled:
                break
            name = render_name(
                options.template,
                read_name_fields(source, options.quality, index, len(paths), want_meta),
            )
            plan = planner.plan(name)
            if plan.destination is None:
                result = FileResult.not_written(index, source, plan.status, plan.reason)
                yield from _finished([result], clock, results)
                continue
            job = BatchJob(
                index, source, plan.destination, options.quality, options.on_exists, options.searched
            )
            yield FileStarted(index, source, clock.progress())
            runner.submit(job)
        while runner.pending():
            yield from _finished(runner.collect(), clock, results)
    finally:
        runner.close()
    yield BatchFinished(tuple(results), len(paths), cancel.cancelled, clock.progress().elapsed)


def _finished(
    done: Iterable[FileResult], clock: _Clock, results: list[FileResult]
) -> Iterator[FileDone]:
    for result in done:
        clock.finish(result)
        results.append(result)
        yield FileDone(result, clock.progress())


class _Runner:
    """Runs jobs in worker processes (or inline when ``workers == 0``), N at a time.

    A worker that dies (a crash inside LibRaw, the out-of-memory killer) breaks the
    whole pool and every job in flight with it. Those jobs become suspects: each is
    tried once more, alone on a new pool, so a second crash is its own and an
    innocent file that was merely beside it is written after all.
    """

    def __init__(self, options: BatchOptions, cancel: CancelToken) -> None:
        self._options = options
        self._cancel = cancel
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
        task = _pool_task()
        try:
            future = self._pool.submit(task, job)
        except BrokenProcessPool:
            self._restart()
            future = self._pool.submit(task, job)
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
                reason = f"{job.source.name} could not be handed to a worker ({exc!r})."
                out.append(FileResult.not_written(job.index, job.source, "failed", reason))
        while self._suspects and not self._futures:
            job = self._suspects.popleft()
            if self._cancel.cancelled:
                reason = "Cancelled before it was written."
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


def _pool_task() -> Callable[[BatchJob], FileResult]:
    """The function the pool runs for each job: ``rawjpeg_gui.core.batch.run_in_worker``.

    It is read from the package at submit time, not bound at import, so that replacing
    the package's ``run_in_worker`` (as the crash test does) still reaches the pool,
    as it did when the batch was a single module.
    """
    from . import run_in_worker

    return run_in_worker
