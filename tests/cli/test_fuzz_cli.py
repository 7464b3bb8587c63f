"""Fuzzing the CLI through the parsers: no traceback, no hang, no output file on refusal.

Adapter-JPEG mutations are re-signed (the CRC recomputed, scripts/make_bad_inputs.py),
so the record and metadata parsers behind the checksum are what the fuzzer reaches.
Each case runs ``info`` and ``decode`` (or ``encode`` for raws) in-process; an
unexpected exception would surface as the CLI's exit status 70 ("internal error").
The whole bad-input corpus runs under the ``slow`` marker.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realdata import ROOT, SHARED_RAW, require

from rawjpeg_gui.cli import main

sys.path.insert(0, str(ROOT / "scripts"))
import make_bad_inputs as mbi  # noqa: E402

FIELDS = (
    "source_name",
    "source_size",
    "width",
    "height",
    "make",
    "model",
    "lens",
    "iso",
    "exposure_time",
    "f_number",
    "focal_length",
    "datetime",
    "orientation",
    "cfa_pattern",
    "cfa_aligned",
    "cfa_pixel_aspect",
    "black_levels",
    "white_level",
    "as_shot_wb",
    "wb_source",
    "xyz_to_camera",
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def good_jpeg() -> bytes:
    """A real adapter-JPEG (Kodak DC120 at q50)."""
    from rawjpeg_gui.core.codec import encode_file

    return encode_file(require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc"), 50).jpeg


def check_case(path: Path, kind: str, out_dir: Path, capfd) -> int:  # type: ignore[no-untyped-def]
    """Run the commands for one input; assert the safety properties; the exit status of
    the first command (the encode or decode: what must refuse a bad file)."""
    if kind == "raw":
        cmds = [
            ["encode", str(path), "-q", "50", "-o", str(out_dir / "x.jpg")],
            ["info", str(path)],
        ]
    else:
        cmds = [["decode", str(path), "-o", str(out_dir / "x.tiff")], ["info", str(path)]]
    if kind == "jpeg+dng":  # the metadata reaches the DNG writer too
        cmds.append(["decode", str(path), "-o", str(out_dir / "x.dng")])
    codes = []
    for argv in cmds:
        capfd.readouterr()
        rc = main(argv)
        codes.append(rc)
        err = capfd.readouterr().err
        assert rc in (0, 1, 2), f"{argv}: exit {rc}: {err}"
        assert "Traceback" not in err
        if rc:
            lines = err.strip().splitlines()
            assert (
                len(lines) == 1
                and lines[0].startswith("rawjpeg: error: ")
                and path.name in lines[0]
            ), err
            assert list(out_dir.iterdir()) == [], argv
        for p in out_dir.iterdir():
            p.unlink()
    return codes[0]


@pytest.mark.timeout(600)
@FUZZ
@given(changes=st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=5))
def test_fuzzed_metadata_json(changes: dict, good_jpeg: bytes, tmp_path_factory, capfd) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("meta")
    path = tmp / "m.jpg"
    path.write_bytes(mbi.with_meta(good_jpeg, lambda m: m.update(changes)))
    out = tmp / "out"
    out.mkdir()
    check_case(path, "jpeg+dng", out, capfd)


@pytest.mark.timeout(600)
@FUZZ
@given(doc=json_values, depth=st.integers(min_value=0, max_value=3000))
def test_fuzzed_metadata_documents(
    doc: object, depth: int, good_jpeg: bytes, tmp_path_factory, capfd
) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("doc")
    path = tmp / "d.jpg"
    text = "[" * depth + json.dumps(doc) + "]" * depth
    path.write_bytes(mbi.with_meta(good_jpeg, raw_json=text.encode()))
    out = tmp / "out"
    out.mkdir()
    check_case(path, "jpeg", out, capfd)


@pytest.mark.timeout(600)
@FUZZ
@given(data=st.data())
def test_fuzzed_records_resigned(
    data: st.DataObject, good_jpeg: bytes, tmp_path_factory, capfd
) -> None:  # type: ignore[no-untyped-def]
    """Bytes of the binary records flipped, cut or extended; the CRC re-signed."""
    _s, _e, _v, _f, recs = mbi.split_segment(good_jpeg)
    index = data.draw(st.integers(0, len(recs) - 1), label="record")
    tag, body = recs[index]
    if tag == 5:  # metadata: mutate the JSON text, not the zlib stream only
        body = zlib.compress(bytes(data.draw(st.binary(max_size=200), label="json")))
    else:
        b = bytearray(body)
        for _ in range(data.draw(st.integers(1, 6), label="flips")):
            if b:
                b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(0, len(b)), label="cut")
        body = bytes(b[:cut]) + data.draw(st.binary(max_size=8), label="tail")
    recs[index] = (tag, body)
    tmp = tmp_path_factory.mktemp("rec")
    path = tmp / "r.jpg"
    path.write_bytes(mbi.resign(good_jpeg, lambda _r: recs))
    out = tmp / "out"
    out.mkdir()
    check_case(path, "jpeg", out, capfd)


@pytest.mark.timeout(600)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_raw_bytes(data: st.DataObject, tmp_path_factory, capfd) -> None:  # type: ignore[no-untyped-def]
    """A compressed Kodak raw with bytes changed and its end cut: refused or decoded, cleanly."""
    src = bytearray(require(SHARED_RAW / "dcc_kodak_dc120_p003911.kdc").read_bytes())
    for _ in range(data.draw(st.integers(1, 16), label="changes")):
        src[data.draw(st.integers(0, len(src) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(src) // 2, len(src)), label="cut")
    tmp = tmp_path_factory.mktemp("raw")
    path = tmp / "f.kdc"
    path.write_bytes(bytes(src[:cut]))
    out = tmp / "out"
    out.mkdir()
    check_case(path, "raw", out, capfd)
    if cut < len(src):  # a cut file is never encoded, by the command a user runs
        done = subprocess.run(
            [sys.executable, "-m", "rawjpeg_gui.cli", "encode", str(path), "-q", "50",
             "-o", str(out / "x.jpg")],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 1 and not (out / "x.jpg").exists(), done.stderr


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_whole_bad_input_corpus(tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    """Every case of scripts/make_bad_inputs.py: clean refusals, inputs untouched."""
    manifest = json.loads(mbi.build(tmp_path / "corpus").read_text())
    out = tmp_path / "out"
    out.mkdir()
    for case in manifest["cases"]:
        path = tmp_path / "corpus" / case["path"]
        before = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        rc = check_case(path, "raw" if case["poses_as"] == "raw" else "jpeg", out, capfd)
        must_refuse = case["class"] in (
            "raw-truncated",
            "raw-crafted",
            "special-file",
            "segment-crafted",
        )
        # Control characters are valid text (info escapes them); unknown records are a newer
        # writer's, ignored by design.
        if must_refuse and path.name not in ("meta_control_chars.jpg", "record_unknown_tag.jpg"):
            assert rc != 0, case["path"]
        if case["poses_as"] == "jpeg-good":
            assert rc == 0
        if before is not None:
            assert path.read_bytes() == before
