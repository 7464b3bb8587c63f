"""Batch export: many raws -> adapter-JPEGs, as a generator of progress events.

The flow of one batch (:func:`run_batch`):

1. The caller collects sources (:func:`collect_sources` in :mod:`.sources`: files,
   folders, recursion, extension filter) and chooses :class:`BatchOptions`.
2. The generator (:mod:`.runner`) yields :class:`BatchStarted`, then plans one source
   at a time: its output name from the naming template (:mod:`..naming`), its
   destination under the overwrite policy. A file that is skipped or refused here
   never reaches a worker.
3. Planned :class:`BatchJob` values go to a ``ProcessPoolExecutor`` ("spawn" context,
   safe beside Qt), submitted lazily so that never more than N images are in memory.
   Each worker process (:mod:`.worker`) loads its own model, encodes, writes its
   output atomically itself, optionally decodes it again to measure PSNR, and returns
   a small :class:`FileResult`; one bad file never stops the batch.
4. Every finished file is a :class:`FileDone` event; :class:`BatchFinished` ends it.
   :func:`write_report` (:mod:`.report`) turns the results into a CSV file.

Cancelling (:class:`CancelToken`) stops submitting, tells the workers through a shared
event, and each stops within the file it is on, removing its temporary file. No
threads and no Qt here: ``workers/`` runs this generator off the GUI thread.

The values that cross these steps (options, jobs, results, events) live in
:mod:`.events`. Everything is importable from this package as it was when the batch
was one module; :func:`run_in_worker` is looked up here each time a job is submitted,
so replacing it on this package reaches the pool.
"""

from __future__ import annotations

from ..naming import OnExists, preview_names
from . import worker as _worker
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
    default_workers,
)
from .events import file_size as file_size
from .report import REPORT_COLUMNS as REPORT_COLUMNS
from .report import report_rows, write_report
from .runner import POLL_SECONDS as POLL_SECONDS
from .runner import run_batch
from .sources import collect_sources
from .worker import WorkerState as WorkerState
from .worker import export_one as export_one
from .worker import init_worker as init_worker
from .worker import run_in_worker as run_in_worker

__all__ = [
    "BatchEvent", "BatchFinished", "BatchJob", "BatchOptions", "BatchProgress", "BatchStarted",
    "CancelToken", "FileDone", "FileResult", "FileStarted", "FileStatus", "OnExists",
    "collect_sources", "default_workers", "preview_names", "report_rows", "run_batch",
    "write_report",
]  # fmt: skip


def __getattr__(name: str) -> object:
    """Forward ``_STATE`` (this worker process's :class:`WorkerState`) to :mod:`.worker`.

    The initializer sets it after import, so a plain re-export would stay ``None``.
    """
    if name == "_STATE":
        return _worker._STATE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
