"""``rawjpeg pack`` / ``unpack`` end to end on an adapter-JPEG made from a real raw."""

from __future__ import annotations

from pathlib import Path

import pytest
from realdata import SHARED_RAW, require

from rawjpeg_gui.cli import main


@pytest.fixture
def adapter_jpeg(tmp_path: Path) -> Path:
    src = require(SHARED_RAW / "dcc_kodak_dc120_p003911.kdc")
    out = tmp_path / "a.jpg"
    assert main(["encode", str(src), "-q", "80", "-o", str(out), "--no-search"]) == 0
    return out


def test_pack_unpack_decode(
    adapter_jpeg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = adapter_jpeg.read_bytes()
    assert main(["pack", str(adapter_jpeg)]) == 0
    packed = tmp_path / "a.jxl"
    assert packed.is_file() and packed.stat().st_size < len(original)
    assert "%" in capsys.readouterr().out
    assert adapter_jpeg.read_bytes() == original  # the input is untouched
    out = tmp_path / "back"
    out.mkdir()
    assert main(["unpack", str(packed), "-d", str(out)]) == 0
    assert (out / "a.jpg").read_bytes() == original
    assert main(["decode", str(packed), "-o", str(tmp_path / "x.tiff")]) == 0
    assert main(["decode", str(adapter_jpeg), "-o", str(tmp_path / "y.tiff")]) == 0
    assert (tmp_path / "x.tiff").read_bytes() == (tmp_path / "y.tiff").read_bytes()


def test_existing_outputs_and_wrong_inputs_are_refused(
    adapter_jpeg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", str(adapter_jpeg)]) == 0
    packed = tmp_path / "a.jxl"
    before = packed.read_bytes()
    capsys.readouterr()
    assert main(["pack", str(adapter_jpeg)]) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main(["unpack", str(packed)]) == 1  # a.jpg is there
    assert main(["pack", str(adapter_jpeg), "--overwrite"]) == 0
    assert packed.read_bytes() == before
    assert main(["unpack", str(adapter_jpeg), "-d", str(tmp_path / "nowhere")]) == 2
    sub = tmp_path / "sub"
    sub.mkdir()
    assert main(["unpack", str(adapter_jpeg), "-d", str(sub)]) == 1
    assert "not a JPEG XL file" in capsys.readouterr().err
    assert list(sub.iterdir()) == []
