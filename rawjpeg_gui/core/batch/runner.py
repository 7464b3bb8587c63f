"""The batch generator (:func:`run_batch`): one engine, whichever executor runs the files.

:func:`run_batch` plans each source (:mod:`.plan`), hands the planned jobs to an
executor (:class:`~.local.LocalPool`, or :class:`~.cluster.DaskExecutor` for
``options.cluster``) never faster than it has room for, records every step in the
journal (:mod:`.journal`) and turns the results into progress events; :class:`_Clock`
keeps the counts and a remaining-time estimate.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path

from ..errors import OutputError
from .events import (
    BatchEvent,
    BatchFinished,
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
from .journal import Journal, read_journal
from .local import BatchExecutor, ExecutorFactory, LocalPool
from .plan import BatchPlanner, as_source_files
from .sources import SourceFile


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


def default_executor(options: BatchOptions, cancel: CancelToken) -> BatchExecutor:
    """The local process pool, or a Dask cluster when ``options.cluster`` names one."""
    if options.cluster:
        from .cluster import DaskExecutor

        return DaskExecutor(options, cancel)
    return LocalPool(options, cancel)


def prepare_destination(destination: Path) -> Path:
    """Create the destination folder; raise OutputError (one sentence) if it cannot be one."""
    dest = Path(destination)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise OutputError(f"The destination {dest} is not a folder that can be written.") from None
    if not dest.is_dir():
        raise OutputError(f"The destination {dest} is not a folder.")
    return dest


def run_batch(
    sources: Sequence[str | os.PathLike[str] | SourceFile],
    options: BatchOptions,
    cancel: CancelToken | None = None,
    executor: ExecutorFactory | None = None,
) -> Generator[BatchEvent, None, None]:
    """Export ``sources`` as adapter-JPEGs, yielding progress events.

    Args:
        sources: source files (see :func:`~.sources.walk_sources`), in output-index
            order; a :class:`~.sources.SourceFile` keeps its sub-folder under the
            destination (``options.mirror``).
        options: destination, quality, naming, policy, workers or cluster, verification.
        cancel: set it to stop; the last event is then ``BatchFinished(cancelled=True)``.
        executor: makes the executor from the options and the cancel token (default:
            :func:`default_executor`; tests pass their own).

    Raises:
        OutputError: the destination cannot be a folder, another batch is writing
            into it, or a cluster's workers cannot see the files (before any event).
        ModelError: the adapter model cannot be loaded.
    """
    cancel = cancel or CancelToken()
    items = as_source_files(sources)
    dest = prepare_destination(options.destination)
    journal = Journal(dest, options, options.cluster or "") if options.journal else None
    try:
        prior = read_journal(dest) if journal else {}
        runner = (executor or default_executor)(options, cancel)
    except BaseException:
        if journal:
            journal.close()
        raise
    try:
        if items:
            runner.check_access(dest, [items[0].path])
    except BaseException:
        runner.close()
        if journal:
            journal.close()
        raise
    planner = BatchPlanner(items, options, dest, prior, clean_temps=journal is not None)
    clock = _Clock([file_size(s.path) for s in items])
    results: list[FileResult] = []
    yield BatchStarted(len(items), runner.workers, dest)
    try:
        for index, item in enumerate(items, 1):
            while runner.busy() and not cancel.cancelled:
                yield from _finished(runner.collect(), clock, results, journal)
            if cancel.cancelled:
                break
            planned, new = planner.plan(index, item)
            if isinstance(planned, FileResult):
                yield from _finished([planned], clock, results, journal if new else None)
                continue
            if journal:
                journal.started(index, item.path, planned.destination)
            yield FileStarted(index, item.path, clock.progress())
            runner.submit(planned)
        while runner.pending():
            yield from _finished(runner.collect(), clock, results, journal)
    finally:
        runner.close()
        planner.cleanup()
        if journal:
            journal.close()
    yield BatchFinished(tuple(results), len(items), cancel.cancelled, clock.progress().elapsed)


def _finished(
    done: Iterable[FileResult], clock: _Clock, results: list[FileResult], journal: Journal | None
) -> Iterator[FileDone]:
    for result in done:
        if journal:
            journal.done(result)
        clock.finish(result)
        results.append(result)
        yield FileDone(result, clock.progress())
