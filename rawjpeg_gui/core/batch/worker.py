"""The code that runs inside the worker processes (or inline when ``workers == 0``).

Everything here is a module-level function or a picklable value, so that a
"spawn" child or a Dask worker can import it by name. A local pool's initializer
(:func:`init_worker`) loads the model once per process and ties the process's life
to its parent; a Dask worker loads it on its first file (:func:`state_for`). Both
run :func:`export_one` per :class:`~.events.BatchJob`: it reads and hashes the
source, encodes it, publishes the output atomically (:mod:`.publish`), optionally
verifies it (:mod:`.verify`), and returns a :class:`~.events.FileResult`; it never raises.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RawJpegError
from .events import BatchJob, FileResult, FileStatus
from .publish import CURRENT_TEMP, Cancelled, publish
from .sources import is_regular_file
from .verify import VerifyFailed, verify_output

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


_STATES: dict[tuple[Path | None, bool], WorkerState] = {}


def init_worker(model_path: Path | None, verify: bool, stop: object, threads: int = 1) -> None:
    """ProcessPoolExecutor initializer: die with the parent, share out the cores, load the model.

    Parallelism comes from the processes: LibRaw's OpenMP threads in every worker
    would only fight over the same cores (measured slower on a loaded machine), and
    the image operators get ``threads`` threads (the cores divided by the workers).
    """
    watch_parent(os.getppid())
    _keep_freed_heap()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("RAWJPEG_THREADS", str(max(1, int(threads))))
    # Ctrl-C reaches the whole process group: only the parent decides, through ``stop``,
    # so a worker never dies half-way through writing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STATES[(model_path, verify)] = WorkerState.load(model_path, verify, stop.is_set)  # type: ignore[attr-defined]


def run_in_worker(job: BatchJob) -> FileResult:
    """The function the local pool runs: :func:`export_one` with this process's state."""
    return export_one(job, state_for(job.model_path, job.verify))


def state_for(
    model_path: Path | None, verify: bool, is_cancelled: Callable[[], bool] | None = None
) -> WorkerState:
    """This process's :class:`WorkerState` for these settings, loaded on first use."""
    key = (model_path, verify)
    if key not in _STATES:
        _keep_freed_heap()
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        os.environ.setdefault("RAWJPEG_THREADS", "1")
        _STATES[key] = WorkerState.load(model_path, verify, is_cancelled or (lambda: False))
    state = _STATES[key]
    if is_cancelled is not None:
        state.is_cancelled = is_cancelled
    return state


#: Seconds between the watchdog's looks at the parent process.
WATCHDOG_SECONDS = 0.5


def watch_parent(parent: int) -> None:
    """End this worker process soon after ``parent`` dies (even by SIGKILL).

    On Linux the kernel sends SIGKILL at once (``PR_SET_PDEATHSIG``); everywhere a
    daemon thread checks the parent every half second, removes the output being
    written and exits, which covers the kernel's rule that the signal follows the
    parent *thread* that started the process.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_SECONDS)
        for part in list(CURRENT_TEMP):
            part.unlink(missing_ok=True)
        os._exit(1)

    threading.Thread(target=watch, name="rawjpeg-parent-watchdog", daemon=True).start()


#: Freed heap memory a worker keeps for the next raw (glibc ``M_TOP_PAD``).
HEAP_PAD_BYTES = 256 << 20


def _keep_freed_heap() -> bool:
    """Let glibc keep freed heap memory for the next raw instead of returning it at once.

    Every raw allocates and frees the same tens of megabytes of temporaries (LibRaw,
    the thumbnail, JPEG encoding); by default glibc trims them back to the system and
    the next raw page-faults them in again. ``M_TOP_PAD`` of 256 MB per worker removes
    most of that churn (docs/BATCH.md). Elsewhere (other C libraries, other systems)
    it does nothing. Returns whether the setting took.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(-2, HEAP_PAD_BYTES))  # M_TOP_PAD
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False


def worker_name() -> str:
    """``host:pid`` of this process (a Dask worker reports its address instead)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _read_and_hash(source: Path) -> tuple[int, int, str]:
    """Size, mtime (ns) and sha256 of ``source``; refuse anything but a regular file."""
    from ..errors import RawDecodeError

    if not os.path.exists(source):
        raise RawDecodeError(f"{source.name} does not exist.")
    if not is_regular_file(source):
        raise RawDecodeError(f"{source.name} is not a regular file (a folder, FIFO or device).")
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as fh:
            info = os.fstat(fh.fileno())
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise RawDecodeError(f"{source.name} could not be read ({exc.strerror or exc}).") from None
    return info.st_size, info.st_mtime_ns, digest.hexdigest()


def export_one(job: BatchJob, state: WorkerState, worker: str = "") -> FileResult:
    """Encode one raw, write it atomically, optionally verify it; never raises.

    The cancel flag is checked before reading, after encoding and just before the
    output is given its name, so a cancel stops within the current file and leaves
    no partial file.
    """
    from ..codec import encode_file

    start, cpu_start = time.perf_counter(), time.process_time()
    size = mtime_ns = 0
    sha256 = ""
    worker = worker or worker_name()

    def result(status: FileStatus, reason: str = "", **kw: Any) -> FileResult:
        kw.setdefault("destination", None)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        return FileResult(job.index, job.source, status=status, reason=reason, input_bytes=size,
                          seconds=elapsed, sha256=sha256, mtime_ns=mtime_ns, worker=worker,
                          cpu_seconds=cpu, **kw)  # fmt: skip

    try:
        if state.is_cancelled():
            raise Cancelled
        size, mtime_ns, sha256 = _read_and_hash(job.source)
        encoded = encode_file(job.source, job.quality, state.model, job.searched)
        megapixels = encoded.raw.width * encoded.raw.height / 1e6
        if state.is_cancelled():
            raise Cancelled
        dest = publish(
            job.source, job.destination, job.index, encoded.jpeg, job.on_exists,
            state.is_cancelled,
        )  # fmt: skip
        if dest is None:
            return result(FileStatus.SKIPPED, f"{job.destination.name} appeared meanwhile.")
        quality_db = None
        if state.verify:
            try:
                quality_db = verify_output(dest, encoded)
            except VerifyFailed as exc:  # the file stays, listed, so it can be looked at
                return result(FileStatus.FAILED, str(exc), destination=dest)
    except Cancelled:
        reason = f"{job.source.name} was cancelled before it was written."
        return result(FileStatus.CANCELLED, reason)
    except RawJpegError as exc:
        return result(FileStatus.FAILED, str(exc))
    except MemoryError:
        return result(FileStatus.FAILED, f"{job.source.name} is too large for the memory left.")
    except Exception as exc:  # one bad file never stops the batch
        reason = f"{job.source.name} failed unexpectedly ({type(exc).__name__}: {exc})."
        return result(FileStatus.FAILED, reason)
    return result(
        FileStatus.WRITTEN,
        destination=dest,
        output_bytes=len(encoded.jpeg),
        psnr=quality_db,
        megapixels=megapixels,
    )
