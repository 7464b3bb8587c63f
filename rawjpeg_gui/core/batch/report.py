"""The CSV report of a finished batch (the CLI and the GUI write the same file)."""

from __future__ import annotations

from pathlib import Path

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


def write_report(path: Path, results: tuple[FileResult, ...] | list[FileResult]) -> None:
    """Write the CSV report atomically."""
    import csv
    import io

    from ..fileio import write_atomic

    text = io.StringIO()
    csv.writer(text).writerows(report_rows(results))
    write_atomic(path, text.getvalue().encode("utf-8"))
