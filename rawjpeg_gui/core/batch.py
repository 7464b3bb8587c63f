"""Batch export: many raws -> adapter-JPEGs, as a generator of progress events.

The flow of one batch (:func:`run_batch`):

1. The caller collects sources (:func:`collect_sources`: files, folders, recursion,
   extension filter) and chooses :class:`BatchOptions`.
2. The generator yields :class:`BatchStarted`, then plans one source at a time: its
   output name from the naming template (:mod:`.naming`), its destination under the
   overwrite policy. A file that is skipped or refused here never reaches a worker.
3. Planned :class:`BatchJob` values go to a ``ProcessPoolExecutor`` ("spawn" context,
   safe beside Qt), submitted lazily so that never more than N images are in memory.
   Each worker process loads its own model, encodes, writes its output atomically
   itself, optionally decodes it again to measure PSNR, and returns a small
   :class:`FileResult`; one bad file never stops the batch.
4. Every finished file is a :class:`FileDone` event; :class:`BatchFinished` ends it.

Cancelling (:class:`CancelToken`) stops submitting, tells the workers through a shared
event, and each stops within the file it is on, removing its temporary file. No
threads and no Qt here: ``workers/`` runs this generator off the GUI thread.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OutputError, RawJpegError
from .naming import (
    DEFAULT_TEMPLATE,
    DestinationPlanner,
    OnExists,
    check_template,
    needs_metadata,
    numbered,
    preview_names,  # noqa: F401  (re-exported: part of the batch API)
    read_name_fields,
    render_name,
)

if TYPE_CHECKING:
    from .model import AdapterModel

__all__ = [
    "BatchEvent", "BatchFinished", "BatchJob", "BatchOptions", "BatchProgress", "BatchStarted",
    "CancelToken", "FileDone", "FileResult", "FileStarted", "FileStatus", "OnExists",
    "collect_sources", "default_workers", "preview_names", "report_rows", "run_batch",
    "write_report",
]  # fmt: skip

#: How often (seconds) the generator looks at the cancel token while workers run.
POLL_SECONDS = 0.05


def default_workers() -> int:
    """One worker process per CPU core."""
    return max(1, os.cpu_count() or 1)


class FileStatus(StrEnum):
    """What happened to one source file."""

    WRITTEN = "written"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BatchJob:
    """One file to export (what crosses into a worker process).

    Attributes:
        index: 1-based position in the batch.
        source: the raw file.
        destination: the planned output path.
        quality: JPEG quality 1-100.
        on_exists: policy when the destination exists by the time it is written.
    """

    index: int
    source: Path
    destination: Path
    quality: int
    on_exists: OnExists = OnExists.RENAME


@dataclass(frozen=True)
class FileResult:
    """The outcome of one source file (what comes back from a worker process).

    Attributes:
        index: 1-based position in the batch.
        source: the raw file.
        destination: the written file, or ``None``.
        status: written, skipped, failed or cancelled.
        reason: one sentence for people when not written; "" otherwise.
        input_bytes: size of the source.
        output_bytes: size of the written adapter-JPEG (0 if none).
        psnr: dB of the decoded output against the source's linear image (when verified).
        megapixels: image size when it was decoded, else 0.
        seconds: time the worker spent on it.
    """

    index: int
    source: Path
    destination: Path | None
    status: FileStatus
    reason: str = ""
    input_bytes: int = 0
    output_bytes: int = 0
    psnr: float | None = None
    megapixels: float = 0.0
    seconds: float = 0.0

    @property
    def ratio(self) -> float | None:
        """How many times smaller the output is than the source, or ``None``."""
        return self.input_bytes / self.output_bytes if self.output_bytes else None

    @classmethod
    def not_written(cls, index: int, source: Path, status: str, reason: str) -> FileResult:
        """A result for a file that produced no output."""
        return cls(index, Path(source), None, FileStatus(status), reason, file_size(source))


def file_size(path: Path) -> int:
    """Size in bytes, 0 when it cannot be read."""
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


class CancelToken:
    """A flag the caller sets to stop a batch; the generator checks it often.

    Setting a bool is atomic in CPython, so a GUI thread may cancel while another
    thread iterates the generator.
    """

    def __init__(self) -> None:
        self._cancelled = False

    def cancel(self) -> None:
        """Ask the batch to stop (it stops within the file each worker is on)."""
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled


@dataclass(frozen=True)
class BatchOptions:
    """How to export a batch.

    Attributes:
        destination: output folder (created if missing).
        quality: JPEG quality 1-100.
        template: naming template (see :mod:`.naming`); ``.jpg`` is added.
        on_exists: "skip", "rename" or "overwrite" for outputs that already exist.
        workers: worker processes; 0 runs everything in this process (tests, debugging).
        verify: decode each written file and report PSNR against the source.
        model_path: adapter model (.onnx); ``None`` for the bundled model.
    """

    destination: Path
    quality: int = 90
    template: str = DEFAULT_TEMPLATE
    on_exists: OnExists = OnExists.RENAME
    workers: int = 1
    verify: bool = False
    model_path: Path | None = None

    def __post_init__(self) -> None:
        if isinstance(self.quality, bool) or not 1 <= int(self.quality) <= 100:
            raise ValueError(f"The JPEG quality must be from 1 to 100, not {self.quality}.")
        check_template(self.template)
        object.__setattr__(self, "on_exists", OnExists(self.on_exists))
        if int(self.workers) < 0:
            raise ValueError(f"The number of workers must be 0 or more, not {self.workers}.")


@dataclass(frozen=True)
class BatchProgress:
    """Where the batch stands.

    Attributes:
        done: files finished (written, skipped, failed or cancelled).
        total: files in the batch.
        elapsed: seconds since the batch started.
        eta_seconds: estimated seconds left (from bytes encoded per second), or ``None``.
    """

    done: int
    total: int
    elapsed: float
    eta_seconds: float | None

    @property
    def fraction(self) -> float:
        """0.0 to 1.0."""
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class BatchStarted:
    """The batch begins. Attributes: total files, workers used, destination folder."""

    total: int
    workers: int
    destination: Path


@dataclass(frozen=True)
class FileStarted:
    """A file went to a worker. Attributes: its index (1-based), source, progress."""

    index: int
    source: Path
    progress: BatchProgress


@dataclass(frozen=True)
class FileDone:
    """A file is finished. Attributes: its result and the batch's progress."""

    result: FileResult
    progress: BatchProgress


@dataclass(frozen=True)
class BatchFinished:
    """The batch ended.

    Attributes:
        results: one result per file that was handled, in the order they finished.
        total: files in the batch (more than ``len(results)`` after a cancel).
        cancelled: True when the batch was cancelled.
        elapsed: seconds the whole batch took.
    """

    results: tuple[FileResult, ...]
    total: int
    cancelled: bool
    elapsed: float

    def count(self, status: FileStatus) -> int:
        """How many results have ``status``."""
        return sum(r.status is status for r in self.results)

    @property
    def failures(self) -> tuple[FileResult, ...]:
        """The failed files."""
        return tuple(r for r in self.results if r.status is FileStatus.FAILED)

    @property
    def not_started(self) -> int:
        """Files never handled because the batch was cancelled."""
        return self.total - len(self.results)

    def summary(self) -> str:
        """One line for people, e.g. "12 written, 1 skipped, 2 failed in 34.5 s"."""
        parts = [f"{self.count(s)} {s.value}" for s in FileStatus if self.count(s)]
        if self.not_started:
            parts.append(f"{self.not_started} not started")
        head = "Cancelled: " if self.cancelled else ""
        return f"{head}{', '.join(parts) or 'nothing to do'} in {self.elapsed:.1f} s"


BatchEvent = BatchStarted | FileStarted | FileDone | BatchFinished


def collect_sources(
    paths: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    extensions: Iterable[str] | None = None,
) -> list[Path]:
    """Expand files and folders into the list of source files, without duplicates.

    Files named directly are kept whatever their suffix (a bad one is reported by the
    batch). Folders contribute the entries whose suffix is in ``extensions`` (default:
    every camera raw format), sorted by name; hidden entries (``.name``) are ignored;
    sub-folders are searched when ``recursive``.
    """
    if extensions is None:
        from .rawio import RAW_EXTENSIONS

        extensions = RAW_EXTENSIONS
    wanted = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    out: list[Path] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            out.append(p)

    visited: set[str] = set()

    def scan(folder: Path) -> None:
        real = os.path.realpath(folder)
        if real in visited:  # a symlink loop, or a folder given twice
            return
        visited.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name.lower())
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_dir():
                if recursive:
                    scan(path)
            elif path.suffix.lower() in wanted:
                add(path)

    for item in paths:
        p = Path(item)
        scan(p) if p.is_dir() else add(p)
    return out


#: Columns of the CSV report (the GUI writes the same file).
REPORT_COLUMNS = (
    "source", "destination", "status", "reason", "input_bytes", "output_bytes", "ratio", "psnr_db",
)  # fmt: skip


def report_rows(results: tuple[FileResult, ...] | list[FileResult]) -> list[list[str]]:
    """The CSV report's rows (header first), in batch order."""
    rows = [list(REPORT_COLUMNS)]
    for r in sorted(results, key=lambda r: r.index):
        rows.append([
            str(r.source), str(r.destination or ""), r.status.value, r.reason,
            str(r.input_bytes), str(r.output_bytes) if r.output_bytes else "",
            f"{r.ratio:.2f}" if r.ratio else "", f"{r.psnr:.2f}" if r.psnr is not None else "",
        ])  # fmt: skip
    return rows


def write_report(path: Path, results: tuple[FileResult, ...] | list[FileResult]) -> None:
    """Write the CSV report atomically."""
    import csv
    import io

    from .fileio import write_atomic

    text = io.StringIO()
    csv.writer(text).writerows(report_rows(results))
    write_atomic(path, text.getvalue().encode("utf-8"))


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
            job = BatchJob(index, source, plan.destination, options.quality, options.on_exists)
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
            initargs=(self._options.model_path, self._options.verify, self._stop),
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
        try:
            future = self._pool.submit(run_in_worker, job)
        except BrokenProcessPool:
            self._restart()
            future = self._pool.submit(run_in_worker, job)
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


# --- worker side: runs in the worker processes (or inline) -------------------------------


@dataclass
class WorkerState:
    """What one worker process keeps between jobs.

    Attributes:
        model: the adapter model (an onnxruntime session: loaded per process, never pickled).
        verify: decode each output again and measure PSNR.
        is_cancelled: returns True once the batch is cancelled.
    """

    model: AdapterModel
    verify: bool
    is_cancelled: Callable[[], bool]

    @classmethod
    def load(
        cls, model_path: Path | None, verify: bool, is_cancelled: Callable[[], bool]
    ) -> WorkerState:
        """Load the model (``None``: the bundled one)."""
        from .codec import default_model
        from .model import AdapterModel

        model = AdapterModel(model_path) if model_path is not None else default_model()
        return cls(model, verify, is_cancelled)


_STATE: WorkerState | None = None


def init_worker(model_path: Path | None, verify: bool, stop: object) -> None:
    """ProcessPoolExecutor initializer: one thread per process, then load the model.

    Parallelism comes from the processes: LibRaw's OpenMP threads in every worker
    would only fight over the same cores (measured slower on a loaded machine).
    """
    global _STATE
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # Ctrl-C reaches the whole process group: only the parent decides, through ``stop``,
    # so a worker never dies half-way through writing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STATE = WorkerState.load(model_path, verify, stop.is_set)  # type: ignore[attr-defined]


def run_in_worker(job: BatchJob) -> FileResult:
    """The function the pool runs: :func:`export_one` with this process's state."""
    if _STATE is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("The batch worker was not initialised.")
    return export_one(job, _STATE)


class _Cancelled(Exception):
    """Raised inside a worker to abandon the current file."""


def export_one(job: BatchJob, state: WorkerState) -> FileResult:
    """Encode one raw, write it atomically, optionally verify it; never raises.

    The cancel flag is checked before reading, after encoding and just before the
    output is moved into place, so a cancel stops within the current file and leaves
    no partial file.
    """
    from .codec import decode_bytes, encode_file, read_file_bytes
    from .metrics import psnr

    start = time.perf_counter()
    size = file_size(job.source)

    def result(status: FileStatus, reason: str = "", **kw: Any) -> FileResult:
        kw.setdefault("destination", None)
        elapsed = time.perf_counter() - start
        return FileResult(job.index, job.source, status=status, reason=reason, input_bytes=size,
                          seconds=elapsed, **kw)  # fmt: skip

    try:
        if state.is_cancelled():
            raise _Cancelled
        encoded = encode_file(job.source, job.quality, state.model)
        megapixels = encoded.raw.width * encoded.raw.height / 1e6
        if state.is_cancelled():
            raise _Cancelled
        dest = _write_output(job, encoded.jpeg, state.is_cancelled)
        if dest is None:
            return result(FileStatus.SKIPPED, f"{job.destination.name} appeared meanwhile.")
        quality_db = None
        if state.verify:
            try:
                quality_db = psnr(encoded.raw.data, decode_bytes(read_file_bytes(dest)).raw.data)
            except RawJpegError as exc:  # the file stays, listed, so it can be looked at
                reason = f"{dest.name} was written but does not decode: {exc}"
                return result(FileStatus.FAILED, reason, destination=dest)
    except _Cancelled:
        return result(FileStatus.CANCELLED, "Cancelled before it was written.")
    except RawJpegError as exc:
        return result(FileStatus.FAILED, str(exc))
    except MemoryError:
        return result(FileStatus.FAILED, f"{job.source.name} is too large for the memory left.")
    except Exception as exc:  # one bad file never stops the batch
        return result(FileStatus.FAILED, f"{job.source.name} failed unexpectedly ({exc!r}).")
    return result(
        FileStatus.WRITTEN,
        destination=dest,
        output_bytes=len(encoded.jpeg),
        psnr=quality_db,
        megapixels=megapixels,
    )


def _write_output(job: BatchJob, data: bytes, is_cancelled: Callable[[], bool]) -> Path | None:
    """Write ``data`` for ``job`` atomically; return where it went, ``None`` if skipped.

    The bytes go to a ``.part`` file beside the destination (through the atomic
    writer) and are then hard-linked into place, which fails instead of replacing
    when another program took the name meanwhile; ``overwrite`` renames over it.
    """
    from .fileio import check_not_input, write_atomic

    dest = job.destination
    part = dest.with_name(f".{dest.name}.{os.getpid()}.{job.index}.part")
    try:
        write_atomic(part, data)
        if is_cancelled():
            raise _Cancelled
        if job.on_exists is OnExists.OVERWRITE:
            check_not_input(dest, [job.source])  # the planner kept off every other source
            os.replace(part, dest)
            return dest
        for n in range(1000):
            target = dest.with_name(numbered(dest.name, n)) if n else dest
            try:
                _link_new(part, target)
                return target
            except FileExistsError:
                if job.on_exists is OnExists.SKIP:
                    return None
        raise OutputError(f"No free name was found for {dest.name}.")
    except OSError as exc:
        raise OutputError(f"{dest.name} could not be written ({exc.strerror or exc}).") from None
    finally:
        part.unlink(missing_ok=True)


def _link_new(part: Path, target: Path) -> None:
    """Give ``part`` the name ``target`` only if that name is free (FileExistsError if not)."""
    try:
        os.link(part, target)
    except FileExistsError:
        raise
    except OSError as exc:
        # File systems without hard links (FAT, some network shares): reserve, then rename.
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        os.replace(part, target)
