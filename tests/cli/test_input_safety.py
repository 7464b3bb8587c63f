"""Bad input through the CLI: one sentence naming the file, no output, bounded work.

Crafted adapter-JPEGs are re-signed (CRC recomputed, scripts/make_bad_inputs.py) so the
parsers behind the checksum are reached; raws are cut and crafted from the real ones.
``capfd`` sees file-descriptor output, so a line LibRaw prints itself would show.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path

import pytest
from realdata import ROOT, SHARED_RAW, require

from rawjpeg_gui.cli import main

sys.path.insert(0, str(ROOT / "scripts"))
import make_bad_inputs as mbi  # noqa: E402

KDC = SHARED_RAW / "dcc_kodak_dc120_p003908.kdc"
KDC_COMPRESSED = SHARED_RAW / "dcc_kodak_dc120_p003911.kdc"


@pytest.fixture(scope="module")
def good_jpeg() -> bytes:
    """A real adapter-JPEG (Kodak DC120 at q50)."""
    from rawjpeg_gui.core.codec import encode_file

    return encode_file(require(KDC), 50).jpeg


def refuse(argv: list[str], capfd, name: str, out_dir: Path | None = None) -> str:  # type: ignore[no-untyped-def]
    """Run the CLI, assert one clean refusal naming ``name``; the sentence."""
    capfd.readouterr()
    rc = main(argv)
    out, err = capfd.readouterr()
    lines = err.strip().splitlines()
    assert rc in (1, 2), (rc, err)
    assert len(lines) == 1 and lines[0].startswith("rawjpeg: error: ") and name in lines[0], err
    assert "Errno" not in err and "Traceback" not in err and ".part" not in err
    if out_dir is not None:
        assert list(out_dir.iterdir()) == []
    return lines[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["x.jpg", "x.dng", "x.tiff"])
def test_a_fifo_is_refused_without_blocking(name: str, tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / name
    os.mkfifo(fifo)
    out = tmp_path / "out"
    out.mkdir()
    line = refuse(["info", str(fifo)], capfd, name)
    assert "not a regular file" in line
    if name.endswith(".jpg"):
        refuse(["decode", str(fifo), "-o", str(out / "a.tiff")], capfd, name, out)
    else:
        refuse(["encode", str(fifo), "-q", "50", "-o", str(out / "a.jpg")], capfd, name, out)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["z.jpg", "z.dng", "z.png"])
def test_a_symlink_to_dev_zero_is_refused(name: str, tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    link = tmp_path / name
    os.symlink("/dev/zero", link)
    assert "not a regular file" in refuse(["info", str(link)], capfd, name)
    out = tmp_path / "out"
    out.mkdir()
    cmd = (
        ["decode", str(link), "-o", str(out / "a.tiff")]
        if name.endswith(".jpg")
        else ["encode", str(link), "-q", "50", "-o", str(out / "a.jpg")]
    )
    refuse(cmd, capfd, name, out)


def test_fileio_reads_only_regular_files_up_to_the_cap(tmp_path: Path) -> None:
    from rawjpeg_gui.core.errors import InputFileError
    from rawjpeg_gui.core.fileio import read_input

    f = tmp_path / "a.bin"
    f.write_bytes(b"x" * 1000)
    assert read_input(f) == b"x" * 1000
    with pytest.raises(InputFileError, match="larger"):
        read_input(f, limit=999)
    with pytest.raises(InputFileError, match="folder"):
        read_input(tmp_path)
    with pytest.raises(InputFileError, match="does not exist"):
        read_input(tmp_path / "missing.jpg")


@pytest.mark.parametrize("frac", mbi.TRUNCATIONS)
def test_truncated_kodak_kdc_never_encodes(frac: float, tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    """Both DC120 modes: uncompressed (LibRaw says so) and compressed (its libjpeg says so)."""
    out = tmp_path / "out"
    out.mkdir()
    for src in (require(KDC), require(KDC_COMPRESSED)):
        cut = tmp_path / f"cut_{src.name}"
        cut.write_bytes(src.read_bytes()[: int(src.stat().st_size * frac)])
        line = refuse(
            ["encode", str(cut), "-q", "50", "-o", str(out / "a.jpg")], capfd, cut.name, out
        )
        assert "truncated" in line


@pytest.mark.parametrize("name", ["_DSC2164.ARW", "IMG_5952.CR2", "tinydng_colorchart.dng"])
def test_truncated_tiff_raws_are_refused(name: str, tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    """LibRaw decodes a cut ARW silently; the strip offsets tell it is cut."""
    src = require(ROOT / ".test-data" / name if name[0] in "_I" else SHARED_RAW / name)
    cut = tmp_path / f"cut.{name.rsplit('.', 1)[1]}"
    cut.write_bytes(src.read_bytes()[: int(src.stat().st_size * 0.99)])
    assert "truncated" in refuse(["info", str(cut)], capfd, cut.name)


@pytest.mark.timeout(60)
def test_huge_declared_raw_sizes_are_refused_quickly(tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    dng = require(SHARED_RAW / "tinydng_colorchart.dng").read_bytes()
    cases = {
        "big.dng": mbi._patch_tiff_dims(dng, 12000, 12000)[: 683 * 1024],
        "float.dng": mbi._float_dng(12000, 12000),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        refuse(["info", str(tmp_path / name)], capfd, name)


def _write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


def test_crafted_segments_are_refused(good_jpeg: bytes, tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    start, end, *_ = mbi.split_segment(good_jpeg)
    segment = good_jpeg[start:end]
    cases = {
        "nested.jpg": mbi.with_meta(good_jpeg, raw_json=mbi._nested(100000)),
        "tiny_exposure.jpg": mbi.with_meta(good_jpeg, lambda m: m.update(exposure_time=1e-320)),
        "black_str.jpg": mbi.with_meta(good_jpeg, lambda m: m.update(black_levels="0 0 0 0")),
        "wb_dict.jpg": mbi.with_meta(good_jpeg, lambda m: m.update(as_shot_wb={"r": 1})),
        "iso_list.jpg": mbi.with_meta(good_jpeg, lambda m: m.update(iso=[1, 2])),
        "size_huge.jpg": mbi.with_meta(good_jpeg, lambda m: m.update(source_size=10**400)),
        "nan.jpg": mbi.with_meta(good_jpeg, raw_json=b'{"iso": NaN}'),
        "two_segments.jpg": good_jpeg[:end] + segment + good_jpeg[end:],
    }
    out = tmp_path / "out"
    out.mkdir()
    for name, data in cases.items():
        path = _write(tmp_path, name, data)
        refuse(["info", str(path)], capfd, name)
        refuse(["decode", str(path), "-o", str(out / "a.dng")], capfd, name, out)
    assert "two rawjpeg parameter segments" in refuse(
        ["info", str(tmp_path / "two_segments.jpg")], capfd, "two"
    )


def test_frames_that_cannot_be_adapter_jpegs_are_refused_before_decoding(
    good_jpeg: bytes, tmp_path: Path, capfd
) -> None:  # type: ignore[no-untyped-def]
    from rawjpeg_gui.core import jpeg

    body = good_jpeg[mbi.split_segment(good_jpeg)[0] + 4 : mbi.split_segment(good_jpeg)[1]]
    w, h = mbi._size(good_jpeg)
    big = bytearray(good_jpeg)
    struct.pack_into(">HH", big, mbi.sof_offset(good_jpeg) + 1, 9000, 9000)
    cases = {
        "gray.jpg": (jpeg.insert_segment(mbi._plain_jpeg("L", (w, h)), body), "grayscale"),
        "cmyk.jpg": (jpeg.insert_segment(mbi._plain_jpeg("CMYK", (w, h)), body), "CMYK"),
        "frame9000.jpg": (bytes(big), "9000x9000"),
        "both9000.jpg": (
            mbi.resign(
                bytes(big),
                lambda r: [
                    (t, struct.pack("<II", 9000, 9000) + b[8:]) if t == 1 else (t, b) for t, b in r
                ],
            ),
            "9000x9000",
        ),
        "cut.jpg": (good_jpeg[: len(good_jpeg) // 2], "truncated"),
    }
    out = tmp_path / "out"
    out.mkdir()
    for name, (data, words) in cases.items():
        path = _write(tmp_path, name, data)
        line = refuse(["decode", str(path), "-o", str(out / "a.tiff")], capfd, name, out)
        assert words in line, line


def test_info_escapes_control_characters(good_jpeg: bytes, tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    evil = mbi.with_meta(
        good_jpeg, lambda m: m.update(model="Evil\x1b]0;pwned\x07\x1b[2J", lens="a\rb")
    )
    path = _write(tmp_path, "evil.jpg", evil)
    capfd.readouterr()
    assert main(["info", str(path)]) == 0
    out = capfd.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert "\\x1b]0;pwned\\x07" in out
    assert main(["info", "--json", str(path)]) == 0
    assert json.loads(capfd.readouterr().out)["meta"]["model"].startswith("Evil\x1b")


def test_libraw_output_is_captured_and_judged(tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    """What a C library writes to descriptor 2 is captured, and damage words refuse the file."""
    from rawjpeg_gui.core.capture import captured_stderr
    from rawjpeg_gui.core.errors import RawDecodeError
    from rawjpeg_gui.core.rawcheck import judge_libraw_output

    capfd.readouterr()
    with captured_stderr() as outer:
        os.write(2, b"one\n")
        with captured_stderr() as inner:
            os.write(2, b"Premature end of JPEG file\n")
    assert (
        outer.text == "one\nPremature end of JPEG file\n"
        and inner.text == "Premature end of JPEG file\n"
    )
    assert capfd.readouterr().err == ""
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"  # descriptor 2 is restored
    with pytest.raises(RawDecodeError, match="truncated or damaged"):
        judge_libraw_output(Path("x.kdc"), inner.text)
    judge_libraw_output(Path("x.kdc"), "some harmless note")


def test_only_libraw_and_libjpeg_lines_refuse_a_file() -> None:
    """Another thread's log record caught by the capture never refuses a good raw."""
    from rawjpeg_gui.core.errors import RawDecodeError
    from rawjpeg_gui.core.rawcheck import judge_libraw_output

    p = Path("/photos/good.kdc")
    for foreign in (
        "DEBUG rawjpeg_gui.workers.pool: worker failed: Traceback (most recent call last):",
        "rawjpeg_gui.core.errors.RawDecodeError: bad.crw is truncated or damaged: corrupt.",
        "/photos/other.kdc: Unexpected end of file",
    ):
        judge_libraw_output(p, foreign)
    for own in ("/photos/good.kdc: Unexpected end of file", "good.kdc: data corrupted at 1234",
                "Corrupt JPEG data: 12 extraneous bytes before marker 0xd9"):  # fmt: skip
        with pytest.raises(RawDecodeError, match="good.kdc is truncated or damaged"):
            judge_libraw_output(p, "note\n" + own)


def test_captures_are_exclusive_across_threads() -> None:
    """A second thread's capture waits for the first: one file's messages stay its own."""
    import threading

    from rawjpeg_gui.core.capture import captured_stderr

    texts: dict[str, str] = {}
    inside = threading.Event()
    release = threading.Event()

    def first() -> None:
        with captured_stderr() as cap:
            inside.set()
            release.wait(5)
            os.write(2, b"first\n")
        texts["first"] = cap.text

    def second() -> None:
        inside.wait(5)
        with captured_stderr() as cap:
            os.write(2, b"second\n")
        texts["second"] = cap.text

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    inside.wait(5)
    release.set()
    for t in threads:
        t.join(10)
    assert texts == {"first": "first\n", "second": "second\n"}


def test_truncated_crw_gives_one_line(tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    cut = tmp_path / "cut.crw"
    cut.write_bytes(require(SHARED_RAW / "dcc_canon_g2_0304.crw").read_bytes()[:1_000_000])
    out = tmp_path / "out"
    out.mkdir()
    refuse(["encode", str(cut), "-q", "50", "-o", str(out / "a.jpg")], capfd, cut.name, out)


def test_every_real_raw_still_reads(capfd) -> None:  # type: ignore[no-untyped-def]
    """No false alarm from the new checks on any real raw (cheap: info only)."""
    from realdata import real_raw_files

    more = sorted((SHARED_RAW.parent / "raw-more").glob("*"))
    for path in real_raw_files() + more:
        assert main(["info", str(path)]) == 0, capfd.readouterr().err
