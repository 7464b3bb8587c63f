"""Batch export: many raws -> adapter-JPEGs, as a generator of progress events.

The flow of one batch (:func:`run_batch`):

1. The caller collects sources (:func:`walk_sources` in :mod:`.sources`, the one
   folder walker: files, folders, recursion, extension filter, each file with its
   sub-folder) and chooses :class:`BatchOptions`.
2. The generator (:mod:`.runner`) opens and locks the journal in the destination
   (:mod:`.journal`), yields :class:`BatchStarted`, then plans one source at a time
   (:mod:`.plan`): its output name from the naming template (:mod:`..naming`), its
   sub-folder, its destination under the overwrite policy. A file that is refused,
   skipped or already proven done by the journal never reaches a worker.
3. Planned :class:`BatchJob` values go to an executor, submitted only when it has
   room, so a bounded number of images is in flight: :class:`~.local.LocalPool`
   (a "spawn" process pool on this machine) or :class:`~.cluster.DaskExecutor` (a
   Dask cluster, ``options.cluster``). Every worker (:mod:`.worker`) runs the same
   task: load its model once, hash and encode the source, publish the output
   atomically (:mod:`.publish`), optionally verify it (:mod:`.verify`), and return
   a small :class:`FileResult`; one bad file never stops the batch.
4. Every finished file is a :class:`FileDone` event and a journal line;
   :class:`BatchFinished` ends it. :func:`write_report` (:mod:`.report`) turns the
   results, or the journal (:func:`results_from_journal`), into a CSV file.

Cancelling (:class:`CancelToken`) stops submitting, tells the workers, and each stops
within the file it is on, removing its temporary file. No threads and no Qt here:
``workers/`` runs this generator off the GUI thread.
"""

from __future__ import annotations

from ..naming import OnExists, preview_names
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
from .journal import JOURNAL_NAME, read_journal, results_from_journal
from .local import BatchExecutor, ExecutorFactory, LocalPool
from .plan import plan_batch
from .report import REPORT_COLUMNS as REPORT_COLUMNS
from .report import check_report_path, report_rows, write_report
from .runner import run_batch
from .sources import ANY_SUFFIX, SourceFile, collect_sources, walk_sources

__all__ = [
    "ANY_SUFFIX", "JOURNAL_NAME", "BatchEvent", "BatchExecutor", "BatchFinished", "BatchJob",
    "BatchOptions", "BatchProgress", "BatchStarted", "CancelToken", "ExecutorFactory",
    "FileDone", "FileResult", "FileStarted", "FileStatus", "LocalPool", "OnExists", "SourceFile",
    "check_report_path", "collect_sources", "default_workers", "plan_batch", "preview_names",
    "read_journal", "report_rows", "results_from_journal", "run_batch", "walk_sources",
    "write_report",
]  # fmt: skip
