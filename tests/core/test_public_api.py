"""The library's public API: what ``rawjpeg_gui.core`` exports, and the format it refuses."""

from __future__ import annotations

import inspect
import struct
import zlib
from pathlib import Path

import pytest

import rawjpeg_gui
import rawjpeg_gui.core as core
from rawjpeg_gui.core import codec, container, jpeg


def test_every_exported_name_exists_and_is_documented() -> None:
    assert sorted(core.__all__) == sorted(set(core.__all__))
    for name in core.__all__:
        obj = getattr(core, name)
        assert inspect.getdoc(obj), f"{name} has no docstring"
    for name in ("encode_file", "decode_file", "read_raw", "write_dng"):
        assert name in core.__all__
    errors = [
        getattr(core, n)
        for n in core.__all__
        if n.endswith(("Error", "Version", "Jpeg", "Parameters"))
    ]
    assert errors and all(issubclass(e, core.RawJpegError) for e in errors)


def test_the_package_is_typed() -> None:
    assert (Path(rawjpeg_gui.__file__).parent / "py.typed").is_file()


def test_a_version_2_file_is_refused_with_one_sentence_naming_it(
    small_raw,
    analytic_model,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    data = codec.encode_image(small_raw, 50, analytic_model).jpeg
    body = jpeg.find_segment(data)
    head = len(container.IDENTIFIER)
    records = body[head + 10 :]
    v2 = (
        container.IDENTIFIER
        + struct.pack("<BBII", 2, 0, len(records), zlib.crc32(records))
        + records
    )
    start = data.index(body)
    path = tmp_path / "future.jpg"
    path.write_bytes(data[:start] + v2 + data[start + len(body) :])
    with pytest.raises(core.UnsupportedVersion) as err:
        core.decode_file(path)
    assert str(err.value) == (
        "future.jpg holds rawjpeg parameters of format version 2, and this rawjpeg reads only version 1."
    )
