"""Pixel fingerprint on real raws: untouched and losslessly rewritten files decode
silently, lossless rotations are undone or named, re-encoded and edited files are
refused (or decoded with a warning when forced), and ``verify_written`` holds the
written file to the encoder's own measurement."""

from __future__ import annotations

import dataclasses
import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rawjpeg_gui.core import codec, container, fingerprint, jpeg
from rawjpeg_gui.core.errors import PixelsChanged, VerificationError
from rawjpeg_gui.core.rawio import RawImage


@pytest.fixture(scope="module")
def encoded(small_raw, analytic_model):  # type: ignore[no-untyped-def]
    """The real Kodak DC120 raw (976 x 848: not whole 16-pixel MCUs) as an adapter-JPEG."""
    return codec.encode_image(small_raw, 90, analytic_model, searched=False)


@pytest.fixture(scope="module")
def encoded_whole_mcus(small_raw, analytic_model):  # type: ignore[no-untyped-def]
    """The same raw cropped to whole 16-pixel MCUs, so jpegtran's rotations are perfect."""
    h, w = (s // 16 * 16 for s in small_raw.data.shape[:2])
    raw = RawImage(np.ascontiguousarray(small_raw.data[:h, :w]), small_raw.meta)
    return codec.encode_image(raw, 90, analytic_model, searched=False)


@pytest.fixture(scope="module")
def encoded_partial(small_raw):  # type: ignore[no-untyped-def]
    """The raw with the bundled model (4:2:0), cropped so partial 16-pixel MCUs remain."""
    h, w = (s // 16 * 16 - 8 for s in small_raw.data.shape[:2])
    raw = RawImage(np.ascontiguousarray(small_raw.data[:h, :w]), small_raw.meta)
    result = codec.encode_image(raw, 80, searched=False)
    assert codec.read_record(result.jpeg).subsampling == "4:2:0"
    return result


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (.ci/run installs it)")
    return path


def _run(tmp_path: Path, data: bytes, *command: str) -> bytes:
    """Run a command on a copy of ``data`` ({in}/{out} in the arguments); the new bytes."""
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    src.write_bytes(data)
    args = [a.replace("{in}", str(src)).replace("{out}", str(dst)) for a in command]
    subprocess.run(args, check=True, capture_output=True)
    return (dst if dst.exists() else src).read_bytes()


def _pillow_resave(data: bytes, quality: int, change=None) -> bytes:  # type: ignore[no-untyped-def]
    """Decode and re-encode with Pillow, keeping the APP11 segment (as editors do)."""
    pixels = jpeg.decode_jpeg(data)
    if change is not None:
        pixels = change(pixels)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=quality, subsampling=2)
    return jpeg.insert_segment(buf.getvalue(), jpeg.find_segment(data))


def test_the_encoder_stores_a_fingerprint_of_its_pixels(encoded) -> None:  # type: ignore[no-untyped-def]
    record = codec.read_record(encoded.jpeg)
    assert record.fingerprint is not None
    stored = fingerprint.parse(record.fingerprint)
    assert stored.shape == (4, fingerprint.GRID, fingerprint.GRID)
    assert fingerprint.distance(stored, fingerprint.decode_ycbcr(encoded.jpeg)).mean == (0.0,) * 4
    result = codec.decode_bytes(encoded.jpeg)
    assert result.pixel_check == "intact" and result.warnings == []


def test_a_pillow_resave_at_the_same_quality_is_refused(encoded) -> None:  # type: ignore[no-untyped-def]
    resaved = _pillow_resave(encoded.jpeg, 90)
    with pytest.raises(PixelsChanged, match="re-encoded or edited"):
        codec.decode_bytes(resaved)
    forced = codec.decode_bytes(resaved, force=True)
    assert forced.pixel_check == "forced" and "forced" in forced.warnings[0]


def test_a_brightness_edit_is_refused(encoded) -> None:  # type: ignore[no-untyped-def]
    brighter = _pillow_resave(
        encoded.jpeg, 95, lambda p: np.clip(p.astype(np.int16) + 20, 0, 255).astype(np.uint8)
    )
    with pytest.raises(PixelsChanged):
        codec.decode_bytes(brighter)


def test_files_without_a_fingerprint_still_decode_unchecked(encoded) -> None:  # type: ignore[no-untyped-def]
    record = dataclasses.replace(codec.read_record(encoded.jpeg), fingerprint=None)
    plain = jpeg.encode_jpeg(encoded.adapted, 90)
    old = jpeg.insert_segment(plain, container.encode_segment(record))
    result = codec.decode_bytes(old)
    assert result.pixel_check == "unchecked"
    np.testing.assert_array_equal(result.adapted, jpeg.decode_jpeg(plain))


def test_a_damaged_fingerprint_record_is_refused() -> None:
    with pytest.raises(container.CorruptParameters):
        fingerprint.parse(b"\x01\x20\x20" + b"not zlib")
    with pytest.raises(container.CorruptParameters):
        fingerprint.parse(b"\x07\x20\x20")


@pytest.mark.parametrize(
    "command",
    [
        ("jpegtran", "-copy", "all", "-optimize", "-outfile", "{out}", "{in}"),
        ("jpegtran", "-copy", "all", "-progressive", "-outfile", "{out}", "{in}"),
        ("exiftool", "-q", "-overwrite_original", "-Artist=Someone", "-GPSLatitude=48.8", "{in}"),
        ("exiv2", "-M", "set Exif.Image.Copyright Someone", "{in}"),
    ],
    ids=["jpegtran-optimize", "jpegtran-progressive", "exiftool", "exiv2"],
)
def test_lossless_rewrites_decode_silently(encoded, tmp_path, command) -> None:  # type: ignore[no-untyped-def]
    _tool(command[0])
    rewritten = _run(tmp_path, encoded.jpeg, *command)
    result = codec.decode_bytes(rewritten)
    assert result.pixel_check == "intact" and result.warnings == []
    np.testing.assert_array_equal(result.raw.data, codec.decode_bytes(encoded.jpeg).raw.data)


def test_a_half_turn_of_whole_mcus_is_undone_exactly(encoded_whole_mcus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _tool("jpegtran")
    turned = _run(tmp_path, encoded_whole_mcus.jpeg, "jpegtran", "-copy", "all", "-rotate",
                  "180", "-outfile", "{out}", "{in}")  # fmt: skip
    result = codec.decode_bytes(turned)
    assert result.pixel_check == "rotated"
    assert "turned 180 degrees clockwise" in result.warnings[0]
    original = codec.decode_bytes(encoded_whole_mcus.jpeg)
    # The same coefficients, decoded upside down: a few samples round the other way.
    assert np.mean(result.adapted != original.adapted) < 1e-4
    assert np.abs(result.adapted.astype(np.int16) - original.adapted).max() <= 2


@pytest.mark.parametrize(
    ("fixture", "degrees"),
    [("encoded", 90), ("encoded", 270), ("encoded_partial", 180), ("encoded_partial", 90)],
)  # fmt: skip
def test_other_rotations_are_named_and_jpegtran_restores_them(
    request, tmp_path, fixture, degrees
) -> None:  # type: ignore[no-untyped-def]
    _tool("jpegtran")
    data = request.getfixturevalue(fixture).jpeg
    turned = _run(tmp_path, data, "jpegtran", "-copy", "all", "-rotate", str(degrees),
                  "-outfile", "{out}", "{in}")  # fmt: skip
    with pytest.raises(PixelsChanged, match=f"turned {degrees} degrees.*-rotate {360 - degrees}"):
        codec.decode_bytes(turned)
    forced = codec.decode_bytes(turned, force=True)
    assert forced.pixel_check == "forced" and forced.raw.data.shape == (
        codec.decode_bytes(data).raw.data.shape
    )
    back = _run(tmp_path, turned, "jpegtran", "-copy", "all", "-rotate", str(360 - degrees),
                "-outfile", "{out}", "{in}")  # fmt: skip
    assert codec.decode_bytes(back).pixel_check == "intact"


@pytest.mark.parametrize(
    "command",
    [("convert", "{in}", "{out}"), ("convert", "{in}", "-brightness-contrast", "15x0", "{out}")],
    ids=["imagemagick-resave", "imagemagick-brightness"],
)
def test_imagemagick_edits_are_refused(encoded, tmp_path, command) -> None:  # type: ignore[no-untyped-def]
    _tool("convert")
    edited = _run(tmp_path, encoded.jpeg, *command)
    assert jpeg.find_segment(edited) == jpeg.find_segment(encoded.jpeg)  # the segment survives
    with pytest.raises(PixelsChanged):
        codec.decode_bytes(edited)


def test_verify_passes_the_written_file_and_fails_a_worse_one(encoded) -> None:  # type: ignore[no-untyped-def]
    ok = codec.verify_written(encoded, encoded.jpeg)
    assert ok.measured_db == pytest.approx(ok.expected_db) and ok.expected_db > 30
    with pytest.raises(VerificationError, match="does not decode"):
        codec.verify_written(encoded, _pillow_resave(encoded.jpeg, 90))
    # A file whose pixels match its own fingerprint but reconstruct worse than this encode:
    # the same parameters over a coarser JPEG of the same image.
    coarse = jpeg.encode_jpeg(encoded.adapted, 20)
    record = dataclasses.replace(
        codec.read_record(encoded.jpeg),
        fingerprint=fingerprint.compute(fingerprint.decode_ycbcr(coarse)),
    )
    worse = jpeg.insert_segment(coarse, container.encode_segment(record))
    with pytest.raises(VerificationError, match="dB below"):
        codec.verify_written(encoded, worse)


def test_a_frame_of_another_size_is_refused_before_its_pixels_are_decoded(
    encoded, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A JPEG of another size carrying this file's segment: refused from its header alone."""
    record = codec.read_record(encoded.jpeg)
    other = jpeg.encode_jpeg(np.zeros((record.height + 16, record.width, 3), np.uint8), 90)
    crafted = jpeg.insert_segment(other, jpeg.find_segment(encoded.jpeg))

    def no_decoding(data: bytes) -> np.ndarray:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(jpeg, "decode_jpeg", no_decoding)
    with pytest.raises(codec.NotAJpeg, match="does not match the size"):
        codec.decode_bytes(crafted)


def test_a_finer_grid_of_an_earlier_writer_is_read() -> None:
    ycc = np.random.default_rng(3).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    stats = fingerprint.statistics(ycc, (32, 32))
    body = struct.pack("<BBB", 1, 32, 32) + zlib.compress(stats.astype("<u2").tobytes())
    stored = fingerprint.parse(body)
    assert stored.shape == (4, 32, 32) and fingerprint.distance(stored, ycc).untouched
    assert not fingerprint.distance(stored, np.roll(ycc, 1, axis=1)).untouched


def test_cell_sums_are_numpys_reduceat_sums() -> None:
    import numpy as np

    from rawjpeg_gui.core import fingerprint as fp

    rng = np.random.default_rng(0)
    for h, w, cells in [(20, 30, 32), (31, 40, 32), (1001, 999, 16), (16, 16, 16)]:
        plane = rng.integers(0, 511, (h, w)).astype(np.int16)
        ys, xs = fp._edges(h, cells), fp._edges(w, cells)
        rows = np.add.reduceat(plane, ys[:-1], axis=0, dtype=np.int64)
        want = np.add.reduceat(rows, xs[:-1], axis=1, dtype=np.int64)
        assert np.array_equal(fp._cell_sums(plane, ys, xs), want)
