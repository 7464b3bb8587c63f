"""The code that runs inside the worker processes (or inline when ``workers == 0``).

Everything here is a module-level function or a picklable value, so that a
"spawn" child can import it by name: the pool's initializer (:func:`init_worker`)
loads the model once per process into :class:`WorkerState`, and the task
(:func:`run_in_worker`) exports one :class:`~.events.BatchJob` with
:func:`export_one`, which writes the output atomically and never raises.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError, RawJpegError
from ..naming import OnExists, numbered
from .events import BatchJob, FileResult, FileStatus, file_size

if TYPE_CHECKING:
    from ..model import AdapterModel


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
        from ..codec import default_model
        from ..model import AdapterModel

        model = AdapterModel(model_path) if model_path is not None else default_model()
        return cls(model, verify, is_cancelled)


_STATE: WorkerState | None = None


def init_worker(model_path: Path | None, verify: bool, stop: object, threads: int = 1) -> None:
    """ProcessPoolExecutor initializer: share out the cores, then load the model.

    Parallelism comes from the processes: LibRaw's OpenMP threads in every worker
    would only fight over the same cores (measured slower on a loaded machine), and
    the image operators get ``threads`` threads (the cores divided by the workers).
    """
    global _STATE
    _keep_freed_heap()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("RAWJPEG_THREADS", str(max(1, int(threads))))
    # Ctrl-C reaches the whole process group: only the parent decides, through ``stop``,
    # so a worker never dies half-way through writing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STATE = WorkerState.load(model_path, verify, stop.is_set)  # type: ignore[attr-defined]


#: Freed heap memory a worker keeps for the next raw (glibc ``M_TOP_PAD``).
HEAP_PAD_BYTES = 256 << 20


def _keep_freed_heap() -> bool:
    """Let glibc keep freed heap memory for the next raw instead of returning it at once.

    Every raw allocates and frees the same tens of megabytes of temporaries (LibRaw,
    the thumbnail, JPEG encoding); by default glibc trims them back to the system and
    the next raw page-faults them in again. ``M_TOP_PAD`` of 256 MB per worker removes
    most of that churn (measured in docs/BATCH.md: about +16 % raws/min with one worker
    and with two). Elsewhere (other C libraries, other systems) it does nothing.
    Returns whether the setting took.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(-2, HEAP_PAD_BYTES))  # M_TOP_PAD
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False


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
    from ..codec import decode_bytes, encode_file, read_file_bytes
    from ..metrics import psnr

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
        encoded = encode_file(job.source, job.quality, state.model, job.searched)
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
    from ..fileio import check_not_input, write_atomic

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
