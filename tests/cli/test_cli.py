"""The ``rawjpeg`` command end to end on every real raw, and on a corpus of bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from realdata import ROOT, SHARED_RAW, real_raw_files, require

from rawjpeg_gui.cli import main
from rawjpeg_gui.core.metrics import psnr
from rawjpeg_gui.core.rawio import read_raw

RAWS = real_raw_files()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("path", RAWS, ids=[p.name for p in RAWS])
def test_encode_then_decode_round_trips_every_real_raw(path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = _digest(path)
    out = tmp_path / "a.jpg"
    assert main(["encode", str(path), "-q", "85", "-o", str(out)]) == 0
    raw_pixels = read_raw(path).data.shape[0] * read_raw(path).data.shape[1]
    assert out.stat().st_size < raw_pixels  # under 8 bits per pixel
    tiff = tmp_path / "back.tiff"
    assert main(["decode", str(out), "-o", str(tiff)]) == 0
    back = tifffile.imread(tiff)
    assert back.dtype == np.uint16 and back.ndim == 3
    ref = tmp_path / "ref.tiff"
    assert main(["decode", str(path), "-o", str(ref)]) == 0
    reference = tifffile.imread(ref)
    assert back.shape == reference.shape == read_raw(path).data.shape
    assert psnr(reference / 65535.0, back / 65535.0) > 35.0
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "adapter-JPEG" in text and "quality" in text
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "back.tiff", "ref.tiff"]


@pytest.mark.slow
def test_encode_many_into_a_folder_and_png_output(tmp_path: Path) -> None:
    srcs = [
        require(SHARED_RAW / n)
        for n in ("dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc")
    ]
    assert main(["encode", *map(str, srcs), "-q", "40", "-d", str(tmp_path)]) == 0
    jpgs = sorted(tmp_path.glob("*.jpg"))
    assert [p.stem for p in jpgs] == [s.stem for s in srcs]
    assert main(["decode", str(jpgs[0]), "-o", str(tmp_path / "x.png")]) == 0
    import imagecodecs

    png = imagecodecs.png_decode((tmp_path / "x.png").read_bytes())
    assert png.dtype == np.uint16 and png.shape[2] == 3
    assert read_raw(tmp_path / "x.png").data.shape == png.shape


@pytest.mark.slow
def test_encode_reports_the_searched_operators_and_no_search_turns_it_off(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """On the CR2 at q95 the search borrows another quality's operators (core/search.py)."""
    src = require(ROOT / ".test-data" / "IMG_5952.CR2")
    assert main(["encode", str(src), "-q", "95", "-o", str(tmp_path / "s.jpg")]) == 0
    searched = capsys.readouterr().out
    assert "(operators of q" in searched and "(operators of q95," not in searched
    assert main(["encode", str(src), "-q", "95", "-o", str(tmp_path / "n.jpg"), "--no-search"]) == 0
    assert "(operators of q95, gamma map 16x16)" in capsys.readouterr().out
    assert (tmp_path / "s.jpg").read_bytes() != (tmp_path / "n.jpg").read_bytes()


@pytest.mark.slow
def test_eval_prints_table_and_writes_json(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = require(SHARED_RAW / "dcc_kodak_dc120_p003911.kdc")
    out = tmp_path / "eval.json"
    assert main(["eval", str(src), "-q", "20,40,60,80", "--json", str(out), "--no-ssim"]) == 0
    text = capsys.readouterr().out
    assert "BD-rate" in text and "gamma22" in text
    doc = json.loads(out.read_text())
    assert len(doc["files"][0]["points"]) == 12
    assert set(doc["mean_bd_rate"]) == {"gamma22", "linear"}
    assert doc["searched"] is True
    # An existing report is kept unless --overwrite, and refused before any work is done.
    out.write_text("keep")
    assert main(["eval", str(src), "-q", "20,40,60,80", "--json", str(out), "--no-ssim"]) == 1
    assert out.read_text() == "keep" and "already exists" in capsys.readouterr().err
    assert (
        main(
            ["eval", str(src), "-q", "30,50,70,90", "--json", str(out), "--no-ssim", "--overwrite"]
        )
        == 0
    )
    assert json.loads(out.read_text())["qualities"] == [30, 50, 70, 90]


def test_info_of_a_raw(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["info", str(require(SHARED_RAW / "dcc_canon_g2_0304.crw"))]) == 0
    assert "Canon PowerShot G2" in capsys.readouterr().out


def _bad_corpus(tmp: Path) -> dict[str, Path]:
    src = require(SHARED_RAW / "dcc_canon_s40_0119.crw")
    corpus = {
        "truncated": tmp / "cut.crw",
        "text-as-nef": tmp / "notes.nef",
        "empty": tmp / "empty.arw",
        "unsupported": tmp / "letter.docx",
        "missing": tmp / "missing.cr2",
        "folder": tmp / "folder.nef",
    }
    corpus["truncated"].write_bytes(src.read_bytes()[:20000])
    corpus["text-as-nef"].write_text("hello\n")
    corpus["empty"].write_bytes(b"")
    corpus["unsupported"].write_bytes(b"PK\x03\x04")
    corpus["folder"].mkdir()
    return corpus


@pytest.mark.parametrize(
    "case", ["truncated", "text-as-nef", "empty", "unsupported", "missing", "folder"]
)
def test_bad_raw_input_gives_one_line_and_no_output(case: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = _bad_corpus(tmp_path)[case]
    out = tmp_path / "out" / "x.jpg"
    out.parent.mkdir()
    assert main(["encode", str(bad), "-q", "50", "-o", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and bad.name in err[0], err
    assert not any(out.parent.iterdir())


def _adapter_jpeg(tmp: Path) -> Path:
    out = tmp / "good.jpg"
    assert (
        main(
            [
                "encode",
                str(require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc")),
                "-q",
                "50",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    return out


@pytest.mark.parametrize("case", ["plain-jpeg", "truncated-jpeg", "crc", "garbage"])
def test_bad_jpeg_input_to_decode(case: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    good = _adapter_jpeg(tmp_path).read_bytes()
    bad = tmp_path / f"{case}.jpg"
    if case == "plain-jpeg":
        from PIL import Image

        Image.new("RGB", (32, 32), "red").save(bad, quality=80)
    elif case == "truncated-jpeg":
        bad.write_bytes(good[: len(good) // 2])
    elif case == "crc":
        i = good.index(b"RAWJPEG\x00") + 40
        bad.write_bytes(good[:i] + bytes([good[i] ^ 1]) + good[i + 1 :])
    else:
        bad.write_bytes(b"\xff\xd8\xff" + b"\x00" * 50)
    before = _digest(bad)
    capsys.readouterr()
    out = tmp_path / "back.tiff"
    assert main(["decode", str(bad), "-o", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and bad.name in err[0], err
    assert not out.exists() and _digest(bad) == before
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.slow
def test_unwritable_destination_and_overwriting_input(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc")
    assert (
        main(["encode", str(src), "-q", "50", "-o", str(tmp_path / "no" / "such" / "x.jpg")]) != 0
    )
    assert "does not exist" in capsys.readouterr().err
    good = _adapter_jpeg(tmp_path)
    before = _digest(good)
    assert main(["decode", str(good), "-o", str(tmp_path / "x.webp")]) != 0
    # Writing the decode over its own input is refused and leaves it intact.
    twin = tmp_path / "twin.tiff"
    assert main(["decode", str(good), "-o", str(twin)]) == 0
    assert main(["encode", str(twin), "-q", "50", "-o", str(twin)]) != 0
    assert _digest(good) == before and twin.exists()


def test_full_disk_leaves_no_partial_file(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import errno
    import os

    real_write = os.write

    def full(fd: int, data: bytes) -> int:  # noqa: ARG001
        raise OSError(errno.ENOSPC, "No space left on device")

    src = require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc")
    import builtins

    real_open = builtins.open

    class FullFile:
        def __init__(self, *a, **k):  # type: ignore[no-untyped-def]
            self._f = real_open(*a, **k)

        def write(self, data):  # type: ignore[no-untyped-def]
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *a):  # type: ignore[no-untyped-def]
            self._f.close()

    def fake_open(path, mode="r", *a, **k):  # type: ignore[no-untyped-def]
        if "w" in mode and str(path).endswith(".part"):
            return FullFile(path, mode, *a, **k)
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", fake_open)
    assert main(["encode", str(src), "-q", "50", "-o", str(tmp_path / "x.jpg")]) != 0
    monkeypatch.undo()
    del real_write
    assert "not enough disk space" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_console_script_is_installed() -> None:
    exe = shutil.which("rawjpeg")
    assert exe is not None, "rawjpeg is not on PATH: the package is not installed (pip install .)"
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "encode" in done.stdout


def test_module_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rawjpeg_gui.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0 and "rawjpeg" in done.stdout
