"""``rawjpeg batch`` end to end: real raws mixed with broken files, report, exit status."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rawjpeg_gui.cli import main
from rawjpeg_gui.core import codec

ROOT = Path(__file__).resolve().parents[2]
SHARED_RAW = ROOT.parent / "shared" / "data" / "raw"
GOOD = ("dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc")


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A folder of two real raws, a truncated raw, a text file named .nef, a dangling link."""
    if not all((SHARED_RAW / n).is_file() for n in GOOD):
        pytest.skip(f"real raws absent from {SHARED_RAW}; see DATA.md")
    folder = tmp_path / "src"
    (folder / "deeper").mkdir(parents=True)
    shutil.copy(SHARED_RAW / GOOD[0], folder / GOOD[0])
    shutil.copy(SHARED_RAW / GOOD[1], folder / "deeper" / GOOD[1])
    (folder / "cut.kdc").write_bytes((SHARED_RAW / GOOD[0]).read_bytes()[:50_000])
    (folder / "readme.nef").write_text("hello\n")
    (folder / "lost.nef").symlink_to(folder / "nowhere.nef")
    return folder


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.slow
def test_batch_mixed_folder_reports_failures_and_exits_1(
    sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digests(sources)
    dest, report = tmp_path / "out", tmp_path / "report.csv"
    args = ["batch", str(sources), "-d", str(dest), "-q", "75", "-j", "2", "--recursive",
            "--verify", "--report", str(report), "--name", "{camera}-{index}"]  # fmt: skip
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert "2 written, 3 failed" in out and "PSNR" in out
    for bad in ("cut.kdc", "readme.nef", "lost.nef"):
        assert f"error: {sources / bad}: " in err
    assert "5/5" in err  # the progress bar reached the end
    outputs = sorted(dest.rglob("*.jpg"))
    names = sorted(p.name for p in outputs)
    assert len(names) == 2 and all(n.startswith("Eastman Kodak Company") for n in names)
    assert sorted(str(p.parent.relative_to(dest)) for p in outputs) == [".", "deeper"]
    for p in outputs:
        assert codec.decode_bytes(p.read_bytes()).quality == 75
    rows = list(csv.DictReader(report.open()))
    assert {r["status"] for r in rows} == {"written", "failed"} and len(rows) == 5
    assert all(float(r["psnr_db"]) > 30 for r in rows if r["status"] == "written")
    assert _digests(sources) == before
    assert not [p for p in tmp_path.rglob("*.part")]


@pytest.mark.slow
def test_batch_all_good_exits_0_and_skips_existing(
    sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "out"
    good = [str(sources / GOOD[0])]
    assert main(["batch", *good, "-d", str(dest), "-j", "1"]) == 0
    assert main(["batch", *good, "-d", str(dest)]) == 0  # the journal proves it done
    out, err = capsys.readouterr()
    assert "1 skipped" in out and "written by an earlier run (journal)" in err
    assert main(["batch", *good, "-d", str(dest), "--on-exists", "skip", "--no-journal"]) == 0
    out, err = capsys.readouterr()
    assert "1 skipped" in out and "already exists" in err
    assert sorted(p.name for p in dest.iterdir()) == [
        "dcc_kodak_dc120_p003908.jpg", "rawjpeg-journal.jsonl"
    ]  # fmt: skip


def test_batch_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(tmp_path), "-d", str(tmp_path / "o"), "--name", "{lens}"]) == 2
    err = capsys.readouterr().err
    assert "{stem}" in err and "usage" not in err and len(err.strip().splitlines()) == 1
    assert main(["batch", str(tmp_path), "-d", str(tmp_path / "o")]) == 2
    assert "no raw files" in capsys.readouterr().err


@pytest.mark.slow
def test_batch_console_script_runs_in_a_fresh_process(sources: Path, tmp_path: Path) -> None:
    """The spawn start method re-imports the main module: the real entry point must cope."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "rawjpeg_gui.cli", "batch", str(sources / GOOD[0]),
         "-d", str(tmp_path / "o"), "-j", "2"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 written" in proc.stdout
