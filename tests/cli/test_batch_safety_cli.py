"""``rawjpeg batch`` never writes over its inputs, never hangs, and cleans up after a kill.

Real raws from ``<repo>/../shared/data/raw`` and ``raw-more`` (DATA.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rawjpeg_gui.cli import main

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
KDC = SHARED / "raw" / "dcc_kodak_dc120_p003908.kdc"
CRWS = ("dcc_canon_s40_0101.crw", "dcc_canon_s40_0104.crw", "dcc_canon_s40_0105.crw",
        "dcc_canon_s40_0113.crw", "dcc_canon_s40_0117.crw", "dcc_canon_s40_0118.crw")  # fmt: skip


@pytest.fixture
def kdc(tmp_path: Path) -> Path:
    if not KDC.is_file():
        pytest.skip(f"{KDC} is absent; see DATA.md")
    (tmp_path / "src").mkdir()
    return Path(shutil.copy(KDC, tmp_path / "src" / KDC.name))


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "rawjpeg_gui.cli", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip


def test_report_over_a_source_or_an_output_is_refused(
    kdc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = hashlib.sha256(kdc.read_bytes()).hexdigest()
    out = tmp_path / "out"
    assert main(["batch", str(kdc), "-d", str(out), "--report", str(kdc)]) == 2
    assert "must be a .csv file" in capsys.readouterr().err
    twin = kdc.with_suffix(".csv")  # a source with a .csv name, named as the report
    shutil.copy(kdc, twin)
    assert main(["batch", str(kdc), str(twin), "-d", str(out), "--report", str(twin)]) == 2
    assert "would replace a source file" in capsys.readouterr().err
    assert main(["batch", str(kdc), "-d", str(out), "--report", str(out / "a.jpg")]) == 2
    assert hashlib.sha256(kdc.read_bytes()).hexdigest() == before and not out.exists()
    assert main(["batch", str(kdc), "-d", str(out)]) == 0
    jpg = out / "dcc_kodak_dc120_p003908.jpg"
    data = jpg.read_bytes()
    assert main(["batch", str(kdc), "-d", str(out), "--report", str(jpg.with_suffix(".CSV"))]) == 0
    capsys.readouterr()
    (out / "notes.csv").write_text("my own spreadsheet\n")
    assert main(["batch", str(kdc), "-d", str(out), "--report", str(out / "notes.csv")]) == 2
    assert "not a rawjpeg report" in capsys.readouterr().err
    assert jpg.read_bytes() == data and (out / "notes.csv").read_text() == "my own spreadsheet\n"


def test_a_failed_report_write_keeps_the_summary(
    kdc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "no-such-folder" / "r.csv"
    assert main(["batch", str(kdc), "-d", str(tmp_path / "out"), "--report", str(report)]) == 1
    out, err = capsys.readouterr()
    assert "1 written" in out
    lines = [x for x in err.splitlines() if x.startswith("rawjpeg: error:")]
    assert len(lines) == 1 and "r.csv was not written" in lines[0]


def test_huge_template_widths_are_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.monotonic()
    code = main(
        ["batch", str(tmp_path), "-d", str(tmp_path / "o"), "--name", "{index:2000000000d}"]
    )
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - start < 5
    assert err.strip().splitlines() == [
        "rawjpeg: error: The naming template asks for {index} 2000000000 characters wide; "
        "at most 64 are allowed."
    ]


def test_a_fifo_in_a_source_folder_never_blocks(kdc: Path, tmp_path: Path) -> None:
    os.mkfifo(kdc.parent / "pipe.kdc")
    proc = _cli("batch", str(kdc.parent), "-d", str(tmp_path / "o"), "--name", "{date}_{stem}",
                timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 written" in proc.stdout
    os.mkfifo(tmp_path / "named.kdc")
    proc = _cli("batch", str(tmp_path / "named.kdc"), "-d", str(tmp_path / "o"), timeout=60)
    assert proc.returncode == 1 and "named.kdc is not a regular file" in proc.stderr


def test_dry_run_lists_the_mirrored_plan_and_writes_nothing(
    kdc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kdc.parent / "a").mkdir()
    shutil.copy(kdc, kdc.parent / "a" / kdc.name)
    dest = tmp_path / "out"
    assert main(["batch", str(kdc.parent), "-r", "-d", str(dest), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(f"-> {dest / 'a' / 'dcc_kodak_dc120_p003908.jpg'}")
    assert out[1].endswith(f"-> {dest / 'dcc_kodak_dc120_p003908.jpg'}")
    assert out[-1] == "Dry run: 2 would be written, 0 skipped, 0 refused; nothing was written."
    assert not dest.exists()


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pids: list[int]) -> list[int]:
    import psutil

    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def test_killing_the_parent_ends_the_workers_and_a_rerun_finishes_the_set(
    tmp_path: Path,
) -> None:
    missing = [n for n in CRWS if not (SHARED / "raw-more" / n).is_file()]
    if missing:
        pytest.skip(f"real raws absent from {SHARED / 'raw-more'}; see DATA.md")
    src, dest = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for n in CRWS:
        shutil.copy(SHARED / "raw-more" / n, src / n)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [sys.executable, "-m", "rawjpeg_gui.cli", "batch", str(src), "-d", str(dest), "-j", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = _descendants(parent.pid)
        assert len(workers) >= 2, "the batch never started its workers"
        time.sleep(3.0)  # both workers inside a file
        workers = _descendants(parent.pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 5
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive(workers) == [], "workers outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
    proc = _cli("batch", str(src), "-d", str(dest), "-j", "2", "--on-exists", "skip", timeout=300)
    assert proc.returncode == 0, proc.stderr
    jpgs = sorted(p.name for p in dest.glob("*.jpg"))
    assert jpgs == sorted(n.replace(".crw", ".jpg") for n in CRWS)  # all there, no "(1)"
    assert [p for p in tmp_path.rglob("*") if p.name.endswith(".part")] == []


def test_journal_command_and_cluster_argument(
    kdc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "out"
    assert main(["batch", str(kdc), "-d", str(dest), "--cluster", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "rawjpeg: error: --cluster takes tcp://HOST:PORT or local:N, not 'nowhere'."
    ]
    assert main(["journal", str(dest)]) == 1
    assert "There is no batch journal in" in capsys.readouterr().err
    assert main(["batch", str(kdc), "-d", str(dest), "--verify"]) == 0
    capsys.readouterr()
    report = dest / "report.csv"
    assert main(["journal", str(dest), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "1 files: 1 written" in out and f"Report: {report}" in out
    rows = report.read_text().splitlines()
    assert rows[0].startswith("source,destination,status") and len(rows) == 2
    assert str(kdc) in rows[1] and ",written," in rows[1]
    assert main(["journal", str(dest), "--report", str(kdc)]) == 1  # never over a source
    assert "must be a .csv file" in capsys.readouterr().err
