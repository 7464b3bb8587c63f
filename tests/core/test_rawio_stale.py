"""A damaged raw decodes the same after other raws as in a fresh process, or is refused.

LibRaw's lossless JPEG decoder returns without a word when a stream has no Huffman
tables, leaving its part of the raw buffer unwritten: in a long-lived process that
memory held an earlier image. Each test runs a fresh interpreter that decodes good
raws first, as the app or a batch worker does, then the damaged file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from realdata import FETCHED_RAW, SHARED_RAW, require

from rawjpeg_gui.core.dng import write_dng
from rawjpeg_gui.core.rawio import read_raw

_DECODE = (
    "import hashlib, sys\n"
    "from rawjpeg_gui.core.rawio import read_raw\n"
    "for good in sys.argv[2:]:\n"
    "    read_raw(good)\n"
    "print(hashlib.sha256(read_raw(sys.argv[1]).data.tobytes()).hexdigest())\n"
)


def _decode_after(path: Path, *goods: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _DECODE, str(path), *map(str, goods)],
        capture_output=True,
        text=True,
    )


def _lossless_jpegs(data: bytes) -> list[int]:
    """Where the lossless JPEG streams start: an SOI whose header holds an SOF3."""
    starts, at = [], data.find(b"\xff\xd8\xff")
    while at >= 0:
        if b"\xff\xc3" in data[at : at + 256]:
            starts.append(at)
        at = data.find(b"\xff\xd8\xff", at + 1)
    return starts


def _without_huffman_tables(data: bytes, stream: int) -> bytes:
    """``data`` with the Huffman table marker (DHT) of the lossless JPEG stream at
    ``stream`` renamed to an application marker, which decoders skip."""
    dht = data.index(b"\xff\xc4", stream, stream + 256)
    return data[: dht + 1] + b"\xe4" + data[dht + 2 :]


@pytest.fixture(scope="module")
def g2_dng(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CFA DNG (tiles of lossless JPEG) of the Canon G2 raw."""
    path = tmp_path_factory.mktemp("dng") / "g2.dng"
    return write_dng(path, read_raw(require(SHARED_RAW / "dcc_canon_g2_0304.crw")))


def test_dng_whose_first_tile_has_no_tables_is_refused_after_other_raws(g2_dng, tmp_path):
    """Nothing of the image is decoded: zeros, refused, not the earlier raw's samples."""
    path = tmp_path / "first.dng"
    data = g2_dng.read_bytes()
    path.write_bytes(_without_huffman_tables(data, _lossless_jpegs(data)[0]))
    done = _decode_after(path, SHARED_RAW / "dcc_canon_g2_0304.crw")
    assert done.returncode != 0
    assert "first.dng holds no image data (every sample is 0)" in done.stderr


def test_dng_with_one_tile_undecodable_reads_as_in_a_fresh_process(g2_dng, tmp_path):
    """The tiles after the damaged one stay unwritten: zeros in every process."""
    data = g2_dng.read_bytes()
    tiles = _lossless_jpegs(data)
    path = tmp_path / "mid.dng"
    path.write_bytes(_without_huffman_tables(data, tiles[len(tiles) // 2]))
    fresh = _decode_after(path)
    assert fresh.returncode == 0, fresh.stderr
    for good in ("dcc_canon_g2_0304.crw", "imagemeta_canon.crw"):
        after = _decode_after(path, require(SHARED_RAW / good))
        assert after.returncode == 0, after.stderr
        assert after.stdout == fresh.stdout, f"decoded differently after {good}"


def test_cr2_without_huffman_tables_is_refused_after_other_raws(tmp_path):
    """A Canon CR2 (one lossless JPEG stream) decoded after another CR2."""
    cr2 = require(FETCHED_RAW / "IMG_5952.CR2")
    path = tmp_path / "tables.cr2"
    data = cr2.read_bytes()
    path.write_bytes(_without_huffman_tables(data, _lossless_jpegs(data)[0]))
    done = _decode_after(path, cr2)
    assert done.returncode != 0
    assert "tables.cr2 holds no image data (every sample is 0)" in done.stderr
