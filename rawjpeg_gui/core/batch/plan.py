"""Planning: where each source goes, decided before any worker sees it.

:class:`BatchPlanner` turns one :class:`~.sources.SourceFile` into either a
:class:`~.events.BatchJob` (a file to encode, with its destination) or a
:class:`~.events.FileResult` that needs no worker: a FIFO or device refused, a file
the journal proves done, an existing output skipped or a source protected under
the overwrite policy. :func:`plan_batch` runs it over a whole batch without writing
anything (``--dry-run``); :func:`~.runner.run_batch` runs it file by file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePath

from ..naming import DestinationPlanner, OnExists, needs_metadata, read_name_fields, render_name
from .events import BatchJob, BatchOptions, FileResult, FileStatus
from .journal import JournalEntry, proven_done, read_journal, source_key
from .publish import remove_stale_temps
from .sources import SourceFile, is_regular_file


def as_source_files(sources: Sequence[str | os.PathLike[str] | SourceFile]) -> list[SourceFile]:
    """Plain paths become :class:`SourceFile` values found at the top of the destination."""
    return [s if isinstance(s, SourceFile) else SourceFile(Path(s)) for s in sources]


class BatchPlanner:
    """Plans the sources of one batch in order (names claimed as they are given out).

    Args:
        sources: every source of the batch (none of them is ever a destination).
        options: the batch's options.
        destination: the destination folder.
        journal: the last journal entry per source (:func:`~.journal.read_journal`).
        clean_temps: remove stale temporary files from each destination folder the
            first time a file is planned into it (only while holding the journal lock).
    """

    def __init__(
        self,
        sources: Sequence[SourceFile],
        options: BatchOptions,
        destination: Path,
        journal: dict[str, JournalEntry] | None = None,
        clean_temps: bool = False,
    ) -> None:
        self._options = options
        self._dest = Path(destination)
        self._total = len(sources)
        self._journal = journal or {}
        self._names = DestinationPlanner(
            self._dest, options.on_exists, [s.path for s in sources], options.reserved
        )
        self._meta = needs_metadata(options.template)
        self._clean = clean_temps
        self.folders: set[Path] = set()

    def plan(self, index: int, source: SourceFile) -> tuple[BatchJob | FileResult, bool]:
        """The job for ``source`` (1-based ``index``), or its result when no worker is needed.

        Returns:
            ``(job_or_result, new)``: ``new`` is False for a file the journal already
            records as done (nothing to add to the journal).
        """
        o = self._options
        path = source.path
        if os.path.exists(path) and not is_regular_file(path):
            reason = f"{path.name} is not a regular file (a folder, FIFO or device)."
            return FileResult.not_written(index, path, "failed", reason), True
        entry = self._journal.get(source_key(path))
        if o.on_exists is not OnExists.OVERWRITE:
            done = proven_done(entry, path, o)
            if done is not None:
                self._names.claim(done)
                reason = f"{done.name} was written by an earlier run (journal)."
                size = os.stat(done).st_size
                result = FileResult(index, path, done, FileStatus.SKIPPED, reason,
                                    os.stat(path).st_size, size)  # fmt: skip
                return result, False
        subfolder = source.folder if o.mirror else PurePath()
        folder = self._dest / subfolder
        if folder not in self.folders:
            self.folders.add(folder)
            if self._clean:
                remove_stale_temps(folder)
        unfinished = self._unfinished_output(entry)
        if unfinished is not None:
            # In flight when an earlier run died: that worker may have published it.
            return self._job(index, path, unfinished, OnExists.OVERWRITE), True
        fields = read_name_fields(path, o.quality, index, self._total, self._meta)
        planned = self._names.plan(render_name(o.template, fields), subfolder)
        if planned.destination is None:
            return FileResult.not_written(index, path, planned.status, planned.reason), True
        return self._job(index, path, planned.destination, o.on_exists), True

    def _job(self, index: int, path: Path, dest: Path, on_exists: OnExists) -> BatchJob:
        o = self._options
        return BatchJob(index, path, dest, o.quality, on_exists, o.searched, o.verify, o.model_path)

    def _unfinished_output(self, entry: JournalEntry | None) -> Path | None:
        """The output an unfinished earlier attempt planned, if it is a safe target."""
        if entry is None or entry.event != "started" or not entry.record.get("output"):
            return None
        out = Path(entry.record["output"])
        try:
            inside = os.path.commonpath([os.path.abspath(out), os.path.abspath(self._dest)])
        except ValueError:
            return None
        if inside != os.path.abspath(self._dest) or not os.path.isfile(out):
            return None
        return out if self._names.take(out) else None

    def cleanup(self) -> None:
        """Remove stale temporary files from every folder planned into (end of a run)."""
        if self._clean:
            for folder in self.folders:
                remove_stale_temps(folder)


def plan_batch(
    sources: Sequence[str | os.PathLike[str] | SourceFile], options: BatchOptions
) -> Iterator[BatchJob | FileResult]:
    """What a batch would do, without writing anything (``--dry-run``).

    Yields a :class:`~.events.BatchJob` per file that would be encoded (its planned
    destination) and a :class:`~.events.FileResult` per file that would not.
    """
    items = as_source_files(sources)
    dest = Path(options.destination)
    journal = read_journal(dest) if options.journal and dest.is_dir() else {}
    planner = BatchPlanner(items, options, dest, journal)
    for index, item in enumerate(items, 1):
        yield planner.plan(index, item)[0]
