"""The README's Python example runs as written, on a real raw."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from realdata import ROOT, SHARED_RAW, require

from rawjpeg_gui.core import RawImage, read_raw


def readme_python_blocks() -> list[str]:
    """Every ```python block of the README, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_readme_example_encodes_and_decodes_a_real_raw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = readme_python_blocks()
    assert len(blocks) == 1, "the README should show one Python example"
    # The example reads "photo.dng" from the working folder: a real camera DNG.
    os.symlink(require(SHARED_RAW / "tinydng_colorchart.dng"), tmp_path / "photo.dng")
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"photo\.jpg: \d+\.\d\d bits per pixel", out[0])
    assert out[1].startswith("1734 1156 Canon")
    assert out[2].startswith("photo.dng: ") and "not a JPEG" in out[2]
    assert len(out) == 3
    back = read_raw(tmp_path / "photo-back.dng")
    assert isinstance(back, RawImage) and (back.width, back.height) == (1734, 1156)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "photo-back.dng",
        "photo.dng",
        "photo.jpg",
    ]
