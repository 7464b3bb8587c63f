"""Atomic writes: the whole file or nothing, no temporary left, never over an input."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
import tifffile

from rawjpeg_gui.core import fileio
from rawjpeg_gui.core.errors import OutputError
from rawjpeg_gui.core.fileio import check_not_input, write_atomic, write_atomic_with, write_image16


def test_write_atomic_writes_the_bytes_with_ordinary_permissions(tmp_path: Path) -> None:
    dest = write_atomic(tmp_path / "out.bin", b"hello")
    assert dest == tmp_path / "out.bin" and dest.read_bytes() == b"hello"
    assert dest.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_an_existing_output_is_replaced_whole(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old contents that are longer")
    write_atomic(dest, b"new")
    assert dest.read_bytes() == b"new"


def test_a_failing_writer_leaves_no_partial_file_and_no_temporary(tmp_path: Path) -> None:
    def writer(tmp: Path) -> None:
        tmp.write_bytes(b"half a file")
        raise RuntimeError("the encoder broke")

    with pytest.raises(RuntimeError, match="encoder broke"):
        write_atomic_with(tmp_path / "out.jpg", writer)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_keeps_the_previous_output_intact(tmp_path: Path) -> None:
    dest = tmp_path / "out.jpg"
    dest.write_bytes(b"the previous export")

    def writer(tmp: Path) -> None:
        tmp.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError, match="^There is not enough disk space to write out.jpg.$"):
        write_atomic_with(dest, writer)
    assert dest.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jpg"]


def test_a_cancel_mid_write_removes_the_temporary(tmp_path: Path) -> None:
    def writer(tmp: Path) -> None:
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic_with(tmp_path / "out.jpg", writer)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: object, dst: object) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(fileio.os, "replace", refuse)
    with pytest.raises(OutputError, match=f"^The folder {tmp_path} is not writable.$"):
        write_atomic(tmp_path / "out.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_the_input_is_never_replaced(tmp_path: Path) -> None:
    src = tmp_path / "photo.jpg"
    src.write_bytes(b"the original")
    with pytest.raises(OutputError, match="^Refusing to overwrite the input file photo.jpg.$"):
        write_atomic(src, b"replacement", inputs=[src])
    # ... also when reached through another name for the same file.
    link = tmp_path / "link.jpg"
    link.symlink_to(src)
    with pytest.raises(OutputError, match="input file"):
        write_atomic(link, b"replacement", inputs=[src])
    assert src.read_bytes() == b"the original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jpg", "photo.jpg"]


def test_inputs_that_do_not_exist_are_no_obstacle(tmp_path: Path) -> None:
    check_not_input(tmp_path / "new.jpg", [tmp_path / "gone.raw"])
    write_atomic(tmp_path / "new.jpg", b"x", inputs=[tmp_path / "gone.raw"])
    assert (tmp_path / "new.jpg").read_bytes() == b"x"


def test_a_missing_folder_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=f"^The folder {tmp_path / 'nope'} does not exist.$"):
        write_atomic(tmp_path / "nope" / "out.bin", b"x")


def test_an_unwritable_folder_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file cannot be created (as in a read-only folder; root ignores modes)."""

    def refuse(**_: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match=f"^The folder {tmp_path} is not writable.$"):
        write_atomic(tmp_path / "out.bin", b"x")
    assert list(tmp_path.iterdir()) == []


def test_write_image16_writes_16_bit_tiff_and_png(tmp_path: Path) -> None:
    image = np.linspace(0, 1, 4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3)
    tif = tifffile.imread(write_image16(tmp_path / "a.tiff", image))
    assert tif.dtype == np.uint16 and tif.shape == (4, 5, 3)
    assert np.array_equal(tif, fileio.to_uint16(image))
    import imagecodecs

    png = imagecodecs.png_decode((write_image16(tmp_path / "a.png", image)).read_bytes())
    assert png.dtype == np.uint16 and np.array_equal(png, tif)
    with pytest.raises(OutputError, match="must end in .tif, .tiff or .png"):
        write_image16(tmp_path / "a.bmp", image)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.tiff"]
