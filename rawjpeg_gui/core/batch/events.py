"""The values that cross the batch's boundaries, and the cancel token.

Options come in (:class:`BatchOptions`), jobs go to worker processes and results
come back (:class:`BatchJob`, :class:`FileResult`: small, picklable), and progress
events go out to the caller (:class:`BatchStarted`, :class:`FileStarted`,
:class:`FileDone`, :class:`BatchFinished`). The caller stops a batch with a
:class:`CancelToken`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..naming import DEFAULT_TEMPLATE, OnExists, check_template
from ..quality import check_quality


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
        searched: let the encoder search the model's operating points (core/search.py).
        verify: decode the written file again and measure it.
        model_path: adapter model (.onnx), ``None`` for the bundled one.
    """

    index: int
    source: Path
    destination: Path
    quality: int
    on_exists: OnExists = OnExists.RENAME
    searched: bool = True
    verify: bool = False
    model_path: Path | None = None


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
        sha256: hex digest of the source as the worker read it ("" if not read).
        mtime_ns: the source's modification time as the worker saw it (0 if unknown).
        worker: which worker process made it ("host:pid", or the Dask worker's address).
        cpu_seconds: CPU time the worker process spent on it (all its threads).
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
    sha256: str = ""
    mtime_ns: int = 0
    worker: str = ""
    cpu_seconds: float = 0.0

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
        searched: the encoder searches the model's operating points per file
            (core/search.py: smaller files at equal quality, about 0.2 s of CPU per file);
            ``False`` uses the operators predicted for the quality.
        cluster: ``None`` for the local process pool; ``"tcp://HOST:8786"`` for an
            existing Dask scheduler; ``"local:N"`` for a Dask LocalCluster of N processes.
        mirror: put each file found in a sub-folder into the same sub-folder of the
            destination (``False``: every output directly in the destination).
        journal: keep the JSON-lines journal in the destination (:mod:`.journal`) and
            skip the files it proves done (unless ``on_exists`` is overwrite).
        reserved: paths no output may take (e.g. the report the caller writes).
        in_flight: files in flight per worker (the bounded window).
    """

    destination: Path
    quality: int = 90
    template: str = DEFAULT_TEMPLATE
    on_exists: OnExists = OnExists.RENAME
    workers: int = 1
    verify: bool = False
    model_path: Path | None = None
    searched: bool = True
    cluster: str | None = None
    mirror: bool = True
    journal: bool = False
    reserved: tuple[Path, ...] = ()
    in_flight: int = 2

    def __post_init__(self) -> None:
        check_quality(self.quality)
        check_template(self.template)
        object.__setattr__(self, "on_exists", OnExists(self.on_exists))
        if int(self.workers) < 0:
            raise ValueError(f"The number of workers must be 0 or more, not {self.workers}.")
        if int(self.in_flight) < 1:
            raise ValueError(f"Files in flight per worker must be 1 or more, not {self.in_flight}.")
        object.__setattr__(self, "reserved", tuple(Path(p) for p in self.reserved))


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
