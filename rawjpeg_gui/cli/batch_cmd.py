"""``rawjpeg batch SRC ... -d DEST``: export many raws in parallel, with a progress bar.

A thin layer over :func:`rawjpeg_gui.core.batch.run_batch`: it draws the events as a
text progress bar on stderr, prints a summary, writes an optional CSV report and
exits non-zero (listing them) when any file failed. ``--dry-run`` prints the plan
instead; ``--cluster`` runs the files on a Dask cluster. ``rawjpeg journal DEST``
summarises a destination's journal and writes its CSV report at any time.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from ..core.batch import (
    JOURNAL_NAME,
    BatchFinished,
    BatchJob,
    BatchOptions,
    FileDone,
    FileResult,
    FileStarted,
    FileStatus,
    OnExists,
    check_report_path,
    default_workers,
    plan_batch,
    results_from_journal,
    run_batch,
    walk_sources,
    write_report,
)
from ..core.errors import RawJpegError
from ..core.naming import DEFAULT_TEMPLATE, check_template
from .common import add_model_arg, add_search_arg, human_bytes, quality_arg


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sub-command."""
    p = sub.add_parser(
        "batch",
        help="many raw files or folders -> adapter-JPEGs, in parallel",
        description="Export raw files (and the raws in folders) as adapter-JPEGs.",
    )
    p.add_argument("sources", nargs="+", type=Path, metavar="SRC", help="raw files or folders")
    p.add_argument("-d", "--dest", type=Path, required=True, help="output folder (created)")
    p.add_argument("-q", "--quality", type=quality_arg, default=90, help="JPEG quality (90)")
    p.add_argument(
        "-j", "--jobs", type=_workers_arg, default=default_workers(),
        help=f"worker processes (default: one per CPU core, {default_workers()} here)",
    )  # fmt: skip
    p.add_argument(
        "-r", "--recursive", action="store_true",
        help="also search sub-folders (their structure is kept under DEST unless --flat)",
    )  # fmt: skip
    p.add_argument(
        "--flat", action="store_true", help="put every output directly in DEST, not in sub-folders"
    )
    p.add_argument(
        "--ext", default=None, metavar="EXT,EXT",
        help="suffixes to take from folders, e.g. nef,cr2 (default: every raw format)",
    )  # fmt: skip
    p.add_argument(
        "--name", default=DEFAULT_TEMPLATE, metavar="TEMPLATE",
        help="output name from {stem} {camera} {date} {quality} {index}; default {stem}",
    )  # fmt: skip
    p.add_argument(
        "--on-exists", choices=[e.value for e in OnExists], default=OnExists.RENAME.value,
        help="when an output exists: skip it, rename the new one 'name (1).jpg' (default), "
        "or overwrite it (source files are never overwritten)",
    )  # fmt: skip
    p.add_argument("--verify", action="store_true", help="decode each output, report its PSNR")
    p.add_argument("--report", type=Path, metavar="FILE.csv", help="write a per-file CSV report")
    p.add_argument(
        "--dry-run", action="store_true", help="list what would be written; write nothing"
    )
    p.add_argument(
        "--cluster", metavar="tcp://HOST:8786|local:N",
        help="run on a Dask scheduler, or on a local Dask cluster of N processes "
        "(needs rawjpeg[cluster]; workers must see SRC and DEST at the same paths)",
    )  # fmt: skip
    p.add_argument(
        "--no-journal", action="store_true",
        help=f"keep no {JOURNAL_NAME} in DEST (a rerun then cannot skip finished files)",
    )  # fmt: skip
    add_model_arg(p)
    add_search_arg(p)
    p.set_defaults(run=run)
    j = sub.add_parser(
        "journal",
        help="summarise a batch destination's journal; write its CSV report",
        description=f"Read DEST/{JOURNAL_NAME} (written by rawjpeg batch) at any time.",
    )
    j.add_argument("dest", type=Path, metavar="DEST", help="a batch's output folder")
    j.add_argument("--report", type=Path, metavar="FILE.csv", help="write the per-file CSV report")
    j.set_defaults(run=run_journal)


def _workers_arg(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"jobs must be a whole number, not {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"jobs must be 1 or more, not {n}")
    return n


def _error(message: str) -> None:
    print(f"rawjpeg: error: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run the batch; 0 when every file was written or skipped, 1 when any failed."""
    try:
        check_template(args.name)
        if args.cluster:
            from ..core.batch.cluster import parse_cluster

            parse_cluster(args.cluster)
    except ValueError as exc:
        _error(str(exc))
        return 2
    missing = [s for s in args.sources if not os.path.lexists(s)]
    for s in missing:
        _error(f"{s} does not exist.")
    extensions = None if args.ext is None else [e.strip() for e in args.ext.split(",") if e.strip()]
    sources = walk_sources(
        [s for s in args.sources if s not in missing], args.recursive, extensions
    )
    if not sources:
        _error("no raw files were found in the sources.")
        return 2
    if args.report is not None:
        try:
            check_report_path(args.report, [s.path for s in sources])
        except RawJpegError as exc:
            _error(str(exc))
            return 2
    options = BatchOptions(
        destination=args.dest,
        quality=args.quality,
        template=args.name,
        on_exists=OnExists(args.on_exists),
        workers=min(args.jobs, len(sources)),
        verify=args.verify,
        model_path=args.model,
        searched=not args.no_search,
        cluster=args.cluster,
        mirror=not args.flat,
        journal=not args.no_journal,
        reserved=(args.report,) if args.report is not None else (),
    )
    if args.dry_run:
        return _dry_run(sources, options)
    bar = ProgressBar(sys.stderr)
    finished: BatchFinished | None = None
    events = run_batch(sources, options)
    try:
        for event in events:
            if isinstance(event, FileStarted):
                bar.draw(event.progress.done, event.progress.total, event.source.name, None)
            elif isinstance(event, FileDone):
                p = event.progress
                bar.draw(p.done, p.total, event.result.source.name, p.eta_seconds)
            elif isinstance(event, BatchFinished):
                finished = event
    except KeyboardInterrupt:
        # Closing the generator stops the workers within their file and removes their
        # temporary files; rawjpeg's main() then reports the interruption.
        events.close()
        bar.clear()
        raise
    bar.clear()
    assert finished is not None
    _print_summary(finished)
    status = 1 if finished.failures or missing else 0
    if args.report is not None:
        status = max(status, _write_report(args.report, finished.results))
    return status


def _write_report(path: Path, results: tuple[FileResult, ...] | list[FileResult]) -> int:
    """Write the CSV report after the summary: a failure is one more error line, exit 1."""
    try:
        write_report(path, results)
    except RawJpegError as exc:
        _error(f"the report {path} was not written: {exc}")
        return 1
    print(f"Report: {path}")
    return 0


def _dry_run(sources: list, options: BatchOptions) -> int:  # type: ignore[type-arg]
    """Print where each file would go; write nothing."""
    counts = {"write": 0, "skip": 0, "refuse": 0}
    for planned in plan_batch(sources, options):
        if isinstance(planned, BatchJob):
            counts["write"] += 1
            print(f"{planned.source} -> {planned.destination}")
        elif planned.status is FileStatus.SKIPPED:
            counts["skip"] += 1
            print(f"{planned.source}: skip: {planned.reason}")
        else:
            counts["refuse"] += 1
            print(f"{planned.source}: refuse: {planned.reason}")
    print(
        f"Dry run: {counts['write']} would be written, {counts['skip']} skipped, "
        f"{counts['refuse']} refused; nothing was written."
    )
    return 0


def run_journal(args: argparse.Namespace) -> int:
    """Summarise DEST's journal (one line per status) and optionally write its CSV report."""
    results = results_from_journal(args.dest)
    if args.report is not None:
        check_report_path(args.report, [r.source for r in results])
    finished = BatchFinished(tuple(results), len(results), False, 0.0)
    line = finished.summary().rsplit(" in ", 1)[0]
    print(f"{args.dest / JOURNAL_NAME}: {len(results)} files: {line}")
    for r in finished.failures:
        print(f"failed: {r.source}: {r.reason}", file=sys.stderr)
    if args.report is not None:
        return _write_report(args.report, results)
    return 0


def _print_summary(finished: BatchFinished) -> None:
    written = [r for r in finished.results if r.status.value == "written"]
    size_in = sum(r.input_bytes for r in written)
    size_out = sum(r.output_bytes for r in written)
    line = finished.summary()
    if size_out:
        line += f"; {human_bytes(size_in)} -> {human_bytes(size_out)} ({size_in / size_out:.1f}x)"
    psnrs = [r.psnr for r in written if r.psnr is not None]
    if psnrs:
        line += f"; PSNR {min(psnrs):.1f}-{max(psnrs):.1f} dB"
    print(line)
    for r in finished.results:
        if r.status.value == "skipped":
            print(f"skipped: {r.source}: {r.reason}", file=sys.stderr)
    for r in finished.failures:
        print(f"rawjpeg: error: {r.source}: {r.reason}", file=sys.stderr)


class ProgressBar:
    """A one-line text progress bar (redrawn in place on a terminal, sparse otherwise)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self._last = -1

    def draw(self, done: int, total: int, name: str, eta: float | None) -> None:
        """Show ``done`` of ``total`` files, the current file and the time left."""
        filled = int(self.width * done / total) if total else self.width
        left = f"  {_duration(eta)} left" if eta is not None and done < total else ""
        text = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}{left}  {name}"
        if self.tty:
            self.stream.write("\r\x1b[K" + text[:200])
        elif done != self._last:  # a log file gets one line per finished file
            self.stream.write(text + "\n")
        self._last = done
        self.stream.flush()

    def clear(self) -> None:
        """Remove the bar (terminal) before the summary is printed."""
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
