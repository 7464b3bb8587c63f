"""The CSV report of a batch (the CLI and the GUI write the same file).

:func:`check_report_path` refuses, before the batch starts, a report path that would
replace a source, an output or any file that is not an earlier report; the batch then
keeps every output off that path (``BatchOptions.reserved``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import OutputError
from .events import FileResult

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


def check_report_path(path: Path, sources: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse a report path that would replace anything but an earlier report.

    Raises:
        OutputError: it is not a ``.csv`` name, it is one of ``sources``, or it is an
            existing file that is not a rawjpeg report (one sentence naming it).
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise OutputError(f"The report {path.name} must be a .csv file.")
    target = os.path.realpath(path)
    for src in sources:
        if os.path.realpath(src) == target:
            raise OutputError(f"The report {path.name} would replace a source file.")
    if os.path.lexists(path):
        if not os.path.isfile(path):
            raise OutputError(f"The report {path} is not a regular file.")
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                head = fh.readline()
        except OSError as exc:
            raise OutputError(f"The report {path} cannot be read ({exc.strerror}).") from None
        if head.strip() != ",".join(REPORT_COLUMNS):
            raise OutputError(
                f"{path} exists and is not a rawjpeg report; it is never replaced by one."
            )


def write_report(path: Path, results: tuple[FileResult, ...] | list[FileResult]) -> None:
    """Write the CSV report atomically."""
    import csv
    import io

    from ..fileio import write_atomic

    text = io.StringIO()
    csv.writer(text).writerows(report_rows(results))
    write_atomic(path, text.getvalue().encode("utf-8"))
