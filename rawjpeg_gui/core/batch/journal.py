"""The batch journal: a JSON-lines record in the destination that makes a run resumable.

``DEST/rawjpeg-journal.jsonl`` gets one line per event, appended and flushed as it
happens, so it survives the batch being killed at any moment:

- ``{"event": "run", ...}`` when a run starts (time, host, rawjpeg version, settings);
- ``{"event": "started", "source", "output", "index"}`` when a file goes to a worker;
- ``{"event": "done", "source", "size", "mtime_ns", "sha256", "output", "bytes",
  "psnr", "worker", "status", "reason", "quality", "searched", "model", "seconds",
  "cpu_seconds", "megapixels"}`` when it is finished (written, skipped, failed or cancelled).

A rerun reads it back (:func:`read_journal`) and skips a source whose last record
proves it done (:func:`proven_done`: written with the same settings, the source's
size and mtime unchanged, the output present with the recorded size). A source whose
last record is ``started`` was in flight when the run died: its output, if it is
there, was published atomically by a worker whose result never arrived, so the rerun
writes that file again into the same path (``overwrite``), never a numbered second
copy. While a run writes the journal it holds an exclusive lock on it, so two
batches never write into one destination at once.

:func:`results_from_journal` turns the last record of every source into the
:class:`~.events.FileResult` values the CSV report is made from, at any time.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import OutputError
from .events import BatchOptions, FileResult, FileStatus

#: The journal's file name in the destination folder.
JOURNAL_NAME = "rawjpeg-journal.jsonl"
#: Seconds between fsyncs of the journal (every line is flushed at once).
SYNC_SECONDS = 1.0


def journal_path(destination: Path) -> Path:
    """Where the journal of ``destination`` lives."""
    return Path(destination) / JOURNAL_NAME


def source_key(path: Path) -> str:
    """How a source is named in the journal: its absolute path."""
    return os.path.abspath(path)


def model_label(options: BatchOptions) -> str:
    """The model as the journal records it (a path, or "bundled")."""
    return str(Path(options.model_path).resolve()) if options.model_path else "bundled"


@dataclass(frozen=True)
class JournalEntry:
    """The last thing the journal says about one source.

    Attributes:
        event: "started" (it never finished) or "done".
        record: the JSON object of that line.
    """

    event: str
    record: dict[str, Any]


def read_journal(destination: Path) -> dict[str, JournalEntry]:
    """The last entry per source (absolute path) in ``destination``'s journal.

    A missing journal reads as empty; a line cut short by a kill is ignored.
    """
    path = journal_path(destination)
    entries: dict[str, JournalEntry] = {}
    try:
        fh = open(path, encoding="utf-8")
    except FileNotFoundError:
        return entries
    except OSError as exc:
        raise OutputError(f"The journal {path} could not be read ({exc.strerror}).") from None
    with fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # the last line of a killed run
            if not isinstance(record, dict) or record.get("event") not in ("started", "done"):
                continue
            source = record.get("source")
            if isinstance(source, str):
                entries[source] = JournalEntry(record["event"], record)
    return entries


def proven_done(entry: JournalEntry | None, source: Path, options: BatchOptions) -> Path | None:
    """The output the journal proves ``source`` has with these settings, or ``None``."""
    if entry is None or entry.event != "done":
        return None
    r = entry.record
    if r.get("status") != FileStatus.WRITTEN.value or not r.get("output"):
        return None
    if (r.get("quality"), r.get("searched"), r.get("model")) != (
        options.quality, options.searched, model_label(options)
    ):  # fmt: skip
        return None
    if options.verify and r.get("psnr") is None:
        return None
    try:
        info = os.stat(source)
        out = os.stat(r["output"])
    except OSError:
        return None
    if (info.st_size, info.st_mtime_ns) != (r.get("size"), r.get("mtime_ns")):
        return None
    return Path(r["output"]) if out.st_size == r.get("bytes") else None


class Journal:
    """The journal of one run, open for appending and locked against other batches.

    Raises:
        OutputError: another batch holds the journal, or it cannot be written.
    """

    def __init__(self, destination: Path, options: BatchOptions, cluster: str = "") -> None:
        self.path = journal_path(destination)
        self._options = options
        try:
            self._fh: TextIO = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise OutputError(
                f"The journal {self.path} could not be written ({exc.strerror})."
            ) from None
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            raise OutputError(
                f"Another rawjpeg batch is writing into {destination} (its journal is locked)."
            ) from None
        self._synced = time.monotonic()
        from ... import __version__

        self._write({
            "event": "run", "time": _now(), "host": socket.gethostname(), "pid": os.getpid(),
            "rawjpeg": __version__, "quality": options.quality, "searched": options.searched,
            "model": model_label(options), "template": options.template,
            "on_exists": options.on_exists.value, "verify": options.verify,
            "cluster": cluster or "local",
        })  # fmt: skip

    def started(self, index: int, source: Path, output: Path) -> None:
        """A file went to a worker, planned to become ``output``."""
        self._write({"event": "started", "source": source_key(source), "output": str(output),
                     "index": index})  # fmt: skip

    def done(self, result: FileResult) -> None:
        """A file is finished."""
        o = self._options
        self._write({
            "event": "done", "time": _now(), "source": source_key(result.source),
            "size": result.input_bytes, "mtime_ns": result.mtime_ns, "sha256": result.sha256,
            "output": str(result.destination) if result.destination else None,
            "bytes": result.output_bytes, "psnr": _finite(result.psnr), "worker": result.worker,
            "status": result.status.value, "reason": result.reason, "quality": o.quality,
            "searched": o.searched, "model": model_label(o), "seconds": round(result.seconds, 3),
            "cpu_seconds": round(result.cpu_seconds, 3),
            "megapixels": round(result.megapixels, 3), "index": result.index,
        })  # fmt: skip

    def _write(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        self._fh.flush()
        if time.monotonic() - self._synced > SYNC_SECONDS:
            os.fsync(self._fh.fileno())
            self._synced = time.monotonic()

    def close(self) -> None:
        """Flush to disk and release the lock."""
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()  # closing releases the lock


def results_from_journal(destination: Path) -> list[FileResult]:
    """One :class:`FileResult` per source, from the last journal entry of each.

    Sources that were in flight when a run stopped read as cancelled.

    Raises:
        OutputError: there is no journal in ``destination``.
    """
    path = journal_path(destination)
    if not path.is_file():
        raise OutputError(f"There is no batch journal in {destination} ({JOURNAL_NAME}).")
    out = []
    for i, (source, entry) in enumerate(read_journal(destination).items(), 1):
        r = entry.record
        if entry.event == "started":
            out.append(FileResult(i, Path(source), None, FileStatus.CANCELLED,
                                  "The batch stopped before this file was finished."))  # fmt: skip
            continue
        try:
            status = FileStatus(str(r.get("status")))
        except ValueError:
            continue
        out.append(FileResult(
            i, Path(source), Path(r["output"]) if r.get("output") else None, status,
            str(r.get("reason") or ""), int(r.get("size") or 0), int(r.get("bytes") or 0),
            r.get("psnr"), float(r.get("megapixels") or 0), float(r.get("seconds") or 0),
            str(r.get("sha256") or ""), int(r.get("mtime_ns") or 0), str(r.get("worker") or ""),
            float(r.get("cpu_seconds") or 0),
        ))  # fmt: skip
    return out


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
