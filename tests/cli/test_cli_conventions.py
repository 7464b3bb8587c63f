"""Outputs never replace inputs or each other; the CLI's conventions (quiet, verbose, JSON, stdio)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from realdata import ROOT, SHARED_RAW, require

from rawjpeg_gui.cli import main

KDC = SHARED_RAW / "dcc_kodak_dc120_p003908.kdc"
KDC_SMALL = SHARED_RAW / "dcc_kodak_dc120_p003911.kdc"


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "rawjpeg_gui.cli", *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def test_two_inputs_never_write_one_output(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """``encode d1/x d2/x -d same`` is refused before any work: nothing is written."""
    for d in ("d1", "d2", "same"):
        (tmp_path / d).mkdir()
    a, b = tmp_path / "d1" / "x.kdc", tmp_path / "d2" / "x.kdc"
    shutil.copy(require(KDC), a)
    shutil.copy(require(KDC_SMALL), b)
    assert main(["encode", str(a), str(b), "-q", "50", "-d", str(tmp_path / "same")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and str(a) in err[0] and str(b) in err[0] and "nothing was written" in err[0]
    )
    assert list((tmp_path / "same").iterdir()) == []
    assert main(["encode", str(a), str(a), "-q", "50", "-d", str(tmp_path / "same")]) == 2
    assert list((tmp_path / "same").iterdir()) == []


def test_existing_outputs_need_overwrite(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.jpg"
    out.write_bytes(b"precious")
    src = str(require(KDC))
    assert main(["encode", src, "-q", "50", "-o", str(out)]) == 1
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"
    assert main(["encode", src, "-q", "50", "-o", str(out), "--overwrite"]) == 0
    assert out.read_bytes()[:2] == b"\xff\xd8"
    tiff = tmp_path / "x.tiff"
    tiff.write_bytes(b"precious")
    assert main(["decode", str(out), "-o", str(tiff)]) == 1
    assert tiff.read_bytes() == b"precious"
    assert main(["decode", str(out), "-o", str(tiff), "--overwrite"]) == 0
    assert tifffile.imread(tiff).dtype == np.uint16
    dng = tmp_path / "x.dng"
    dng.write_bytes(b"precious")
    assert main(["decode", str(out), "-o", str(dng)]) == 1
    assert dng.read_bytes() == b"precious"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("how", ["symlink", "hardlink"])
def test_an_output_linked_to_the_input_is_refused_even_with_overwrite(
    how: str, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in.kdc"
    shutil.copy(require(KDC), src)
    before = src.read_bytes()
    link = tmp_path / "link.jpg"
    (os.symlink if how == "symlink" else os.link)(src, link)
    assert main(["encode", str(src), "-q", "50", "-o", str(link), "--overwrite"]) == 1
    assert "overwrite the input" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_no_clobber_write_refuses_a_file_that_appears_meanwhile(tmp_path: Path) -> None:
    from rawjpeg_gui.core.errors import OutputExistsError
    from rawjpeg_gui.core.fileio import write_atomic_with

    dest = tmp_path / "a.bin"

    def writer(tmp: Path) -> None:
        tmp.write_bytes(b"new")
        dest.write_bytes(b"someone else's")  # created between the check and the move

    with pytest.raises(OutputExistsError):
        write_atomic_with(dest, writer, overwrite=False)
    assert dest.read_bytes() == b"someone else's"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_quiet_and_verbose(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = str(require(KDC))
    assert main(["encode", src, "-q", "50", "-o", str(tmp_path / "a.jpg"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["--quiet", "decode", str(tmp_path / "a.jpg"), "-o", str(tmp_path / "a.tiff")]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["encode", src, "-q", "50", "-o", str(tmp_path / "b.jpg"), "-v"]) == 0
    out, err = capsys.readouterr()
    assert "-> " in out and "timings:" in err
    assert (
        main(["--quiet", "encode", src, "-q", "50", "-o", str(tmp_path / "b.jpg")]) == 1
    )  # errors still show
    assert "already exists" in capsys.readouterr().err


def test_encode_to_stdout_and_decode_from_stdin(tmp_path: Path) -> None:
    done = _cli("encode", str(require(KDC)), "-q", "75", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout[:2] == b"\xff\xd8" and b"RAWJPEG\x00" in done.stdout[:70000]
    assert b"(standard output)" in done.stderr
    back = _cli("decode", "-", "-o", str(tmp_path / "out.tiff"), stdin=done.stdout)
    assert back.returncode == 0, back.stderr
    assert tifffile.imread(tmp_path / "out.tiff").shape == (976, 1301, 3)
    info = _cli("info", "--json", "-", stdin=done.stdout)
    doc = json.loads(info.stdout)
    assert doc["kind"] == "adapter-JPEG" and doc["quality"] == 75 and doc["width"] == 1301
    bad = _cli("decode", "-", "-o", str(tmp_path / "bad.tiff"), stdin=b"not a jpeg")
    assert (
        bad.returncode == 1
        and b"standard input" in bad.stderr
        and not (tmp_path / "bad.tiff").exists()
    )


def test_info_json_of_a_raw(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["info", "--json", str(require(SHARED_RAW / "dcc_canon_g2_0304.crw"))]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "camera raw" and doc["meta"]["model"].startswith("Canon PowerShot G2")


def test_eval_json_to_stdout_is_strict_with_progress_on_stderr(tmp_path: Path) -> None:
    """SSIM skipped is NaN internally: strict JSON writes null, and the tables move to stderr."""
    done = _cli("eval", str(require(KDC_SMALL)), "-q", "20,40,60,80", "--no-ssim", "--json", "-")
    assert done.returncode == 0, done.stderr
    assert b"NaN" not in done.stdout
    doc = json.loads(done.stdout)
    assert doc["files"][0]["points"][0]["ssim"] is None
    assert b"eval: file 1/1" in done.stderr and b"BD-rate" in done.stderr
    quiet = _cli(
        "eval", str(require(KDC_SMALL)), "-q", "20,40,60,80", "--no-ssim", "--json", "-", "--quiet"
    )
    assert quiet.stderr == b"" and json.loads(quiet.stdout)["mean_bd_rate"]


def test_json_is_strict() -> None:
    from rawjpeg_gui.cli.common import dump_json

    text = dump_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": np.float32(2.0)}).decode()
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": 2.0}
