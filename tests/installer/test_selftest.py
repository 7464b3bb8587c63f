"""``rawjpeg-gui --self-test`` passes on a good installation and fails loudly on a bad one."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rawjpeg_gui import selftest

#: Slow: whole-app runs, fresh processes or several workers (not in -m 'not slow').
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_resources_and_sample_are_found() -> None:
    folder = selftest.resource_dir()
    assert (folder / "rawjpeg.svg").is_file()
    assert selftest.sample_raw_path().is_file()
    assert selftest.check_resources().startswith(str(folder))


def test_core_self_test_passes_without_qt() -> None:
    out = io.StringIO()
    assert selftest.run_self_test(gui=False, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[-1] == "self-test passed"
    names = [line.split(":")[0].split()[-1] for line in lines[1:-1]]
    assert names == ["resources", "libraries", "model", "trip", "worker"]
    assert all(line.startswith("  ok") for line in lines[1:-1])


def test_full_self_test_passes(qapp) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    assert selftest.run_self_test(out=out) == 0, out.getvalue()
    text = out.getvalue()
    for check in ("icon", "app modules", "window", "round trip", "batch worker"):
        assert f"  ok    {check}:" in text
    psnr = float(text.split("PSNR ")[1].split(" dB")[0])
    assert psnr >= selftest.MIN_PSNR_DB


def test_low_psnr_fails(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(selftest, "MIN_PSNR_DB", 99.0)
    out = io.StringIO()
    assert selftest.run_self_test(gui=False, out=out) == 1
    assert "FAIL  round trip" in out.getvalue()
    assert "FAIL  batch worker" in out.getvalue()
    assert "self-test FAILED (2 checks)" in out.getvalue()


def test_missing_resources_fail(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(selftest, "data_dir", lambda name, holding=None: None)
    out = io.StringIO()
    assert selftest.run_self_test(gui=False, out=out) == 1
    text = out.getvalue()
    assert "FAIL  resources: FileNotFoundError" in text
    assert "FAIL  round trip" in text


def test_missing_library_fails(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(selftest, "CORE_MODULES", selftest.CORE_MODULES + ("no_such_module_x",))
    out = io.StringIO()
    assert selftest.run_self_test(gui=False, out=out) == 1
    assert "FAIL  libraries: ModuleNotFoundError" in out.getvalue()


def test_app_flag_runs_it_offscreen_in_a_fresh_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "rawjpeg_gui", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-test passed" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("argv", [["--no-gui"]])
def test_module_entry_point(argv, capsys) -> None:  # type: ignore[no-untyped-def]
    assert selftest.main(argv) == 0
    assert "self-test passed" in capsys.readouterr().out


def test_report_goes_to_the_log_file_without_stdout(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "self-test.log"
    monkeypatch.setenv("RAWJPEG_SELFTEST_LOG", str(log))
    monkeypatch.setattr(sys, "stdout", None)  # as in a windowed Windows build
    assert selftest.run_self_test(gui=False) == 0
    assert log.read_text(encoding="utf-8").splitlines()[-1] == "self-test passed"
