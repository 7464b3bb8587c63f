"""The raw's complete metadata on real raws: into the adapter-JPEG's own EXIF/XMP/IPTC,
kept compressed in its metadata segments, and restored into the decoded DNG."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import exiv2
import numpy as np
import pytest
import rawpy
import tifffile
from realdata import FETCHED_RAW, ROOT, SHARED_RAW, require

from rawjpeg_gui.core import codec, container, fullmeta, jpeg, rawprivate
from rawjpeg_gui.core.dng import write_dng
from rawjpeg_gui.core.errors import CorruptParameters
from rawjpeg_gui.core.rawio import read_raw

GPS = {
    "Exif.GPSInfo.GPSLatitudeRef": "N",
    "Exif.GPSInfo.GPSLatitude": "48/1 51/1 3013332/100000",
    "Exif.GPSInfo.GPSLongitudeRef": "E",
    "Exif.GPSInfo.GPSLongitude": "2/1 17/1 4009268/100000",
    "Exif.GPSInfo.GPSAltitude": "71/2",
}


def _exif(source: Path | bytes) -> dict[str, str]:
    image = exiv2.ImageFactory.open(source if isinstance(source, bytes) else str(source))
    image.readMetadata()
    return {d.key(): d.toString() for d in image.exifData()}


def _xmp(source: Path | bytes) -> dict[str, str]:
    image = exiv2.ImageFactory.open(source if isinstance(source, bytes) else str(source))
    image.readMetadata()
    return {d.key(): d.toString() for d in image.xmpData()}


@pytest.fixture(scope="module")
def gps_dng(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the real DNG with GPS, an XMP rating and an IPTC keyword written by exiv2."""
    copy = tmp_path_factory.mktemp("gps") / "gps.dng"
    shutil.copyfile(require(SHARED_RAW / "tinydng_colorchart.dng"), copy)
    image = exiv2.ImageFactory.open(str(copy))
    image.readMetadata()
    exif = image.exifData()
    for key, value in GPS.items():
        exif[key] = value
    xmp = image.xmpData()
    xmp["Xmp.xmp.Rating"] = "4"
    iptc = image.iptcData()
    iptc["Iptc.Application2.Keywords"] = "colour chart"
    image.writeMetadata()
    return copy


def test_gps_xmp_and_iptc_come_back_exactly(gps_dng: Path, tmp_path: Path) -> None:
    encoded = codec.encode_file(gps_dng, 75)
    in_jpeg = _exif(encoded.jpeg)
    written = _exif(gps_dng)
    for key in GPS:
        assert in_jpeg[key] == written[key], key
    assert _xmp(encoded.jpeg)["Xmp.xmp.Rating"] == "4"
    back = codec.decode_bytes(encoded.jpeg)
    assert back.raw.meta.full_metadata == encoded.raw.meta.full_metadata != b""
    dng = write_dng(tmp_path / "x.dng", back.raw, reconstructed=True)
    in_dng = _exif(dng)
    for key in GPS:
        assert in_dng[key] == written[key], key
    assert _xmp(dng)["Xmp.xmp.Rating"] == "4"
    image = exiv2.ImageFactory.open(str(dng))
    image.readMetadata()
    assert [d.toString() for d in image.iptcData()] == ["colour chart"]
    # The merged metadata leaves the image as LibRaw and tifffile read it (LibRaw
    # through the reconstruction's LinearizationTable; the chart's DNG is a CFA one).
    with rawpy.imread(str(dng)) as raw, tifffile.TiffFile(dng) as tif:
        page = tif.pages[0].pages[0]
        assert page.photometric == 32803
        table = np.asarray(page.tags["LinearizationTable"].value, np.uint16)
        np.testing.assert_array_equal(raw.raw_image_visible, table[page.asarray()])


def test_canon_maker_notes_lens_and_serial_travel(tmp_path: Path) -> None:
    src = require(FETCHED_RAW / "IMG_5952.CR2")
    raw_tags = _exif(src)
    encoded = codec.encode_file(src, 75)
    in_jpeg = _exif(encoded.jpeg)
    wanted = ("Exif.Canon.SerialNumber", "Exif.Canon.OwnerName", "Exif.CanonCs.LensType",
              "Exif.Canon.ModelID", "Exif.Photo.ExposureTime", "Exif.Image.Software")  # fmt: skip
    present = [key for key in wanted if key in raw_tags]
    assert len(present) >= 5
    for key in present:
        assert in_jpeg[key] == raw_tags[key], key
    assert in_jpeg["Exif.Image.ProcessingSoftware"] == "rawjpeg"
    dng = write_dng(tmp_path / "x.dng", codec.decode_bytes(encoded.jpeg).raw, reconstructed=True)
    in_dng = _exif(dng)
    assert in_dng["Exif.Canon.SerialNumber"] == raw_tags["Exif.Canon.SerialNumber"]
    assert in_dng["Exif.Image.ProcessingSoftware"] == "rawjpeg"


def test_a_crw_s_ciff_records_become_exif(tmp_path: Path) -> None:
    src = require(SHARED_RAW / "dcc_canon_g2_0304.crw")
    raw_tags = _exif(src)
    in_jpeg = _exif(codec.encode_file(src, 75).jpeg)
    canon = [k for k in raw_tags if k.startswith("Exif.Canon")]
    assert len(canon) > 50
    assert all(in_jpeg.get(k) == raw_tags[k] for k in canon)


def test_the_blob_stays_out_of_the_json_record() -> None:
    meta = read_raw(require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc")).meta
    assert meta.full_metadata and "full_metadata" not in meta.to_dict()


def test_metadata_segments_split_join_and_refuse_damage() -> None:
    blob = np.random.default_rng(0).bytes(150_000)  # three segments
    bodies = container.metadata_segments(blob)
    assert len(bodies) == 3 and all(len(b) <= 65533 for b in bodies)
    assert container.join_metadata_segments(bodies) == blob
    data = jpeg.encode_jpeg(np.zeros((16, 16, 3), np.uint8), 90)
    for body in bodies:
        data = jpeg.insert_segment(data, body)
    assert (
        container.join_metadata_segments(jpeg.find_segments(data, container.METADATA_IDENTIFIER))
        == blob
    )
    with pytest.raises(CorruptParameters):
        container.join_metadata_segments(bodies[:2])
    with pytest.raises(CorruptParameters):
        container.join_metadata_segments([bodies[1], bodies[0], bodies[2]])
    damaged = bodies[1][:-1] + bytes([bodies[1][-1] ^ 1])
    with pytest.raises(CorruptParameters, match="damaged"):
        container.join_metadata_segments([bodies[0], damaged, bodies[2]])
    assert container.metadata_segments(b"") == []


def test_unreadable_metadata_is_skipped_not_fatal(tmp_path: Path) -> None:
    junk = tmp_path / "x.crw"
    junk.write_bytes(b"not a raw")
    assert fullmeta.read_full(junk) == b""
    plain = jpeg.encode_jpeg(np.zeros((16, 16, 3), np.uint8), 90)
    assert fullmeta.embed_in_jpeg(plain, b"garbage", 1) == plain


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_benchmark_counts_tags_against_exiftool(tmp_path: Path) -> None:
    """benchmarks/metadata_carry.py on the CR2: >= 95 % of its tags in JPEG and DNG."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import metadata_carry

    total, in_jpeg, in_dng, _, _ = metadata_carry.measure(
        require(FETCHED_RAW / "IMG_5952.CR2"), tmp_path
    )
    assert in_jpeg >= 0.95 * total and in_dng >= 0.95 * total
    assert metadata_carry.gps_check(tmp_path)
    done = subprocess.run(["exiftool", "-GPSLatitude", "-n", str(tmp_path / "gps.jpg")],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert "48.85837" in done.stdout


def test_metadata_too_large_for_the_segment_travels_in_its_own_segments(small_raw) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    blob = np.random.default_rng(1).bytes(100_000)  # incompressible: cannot fit in one segment
    raw = dataclasses.replace(
        small_raw, meta=dataclasses.replace(small_raw.meta, full_metadata=blob)
    )
    encoded = codec.encode_image(raw, 80, searched=False)
    assert len(jpeg.find_segments(encoded.jpeg, container.METADATA_IDENTIFIER)) == 2
    assert codec.decode_bytes(encoded.jpeg).raw.meta.full_metadata == blob
    small = codec.encode_image(small_raw, 80, searched=False)  # the usual case: one segment
    assert jpeg.find_segments(small.jpeg, container.METADATA_IDENTIFIER) == []
    assert codec.read_record(small.jpeg).meta.full_metadata == small_raw.meta.full_metadata != b""


def _exiftool(path: Path, *tags: str) -> dict[str, str]:
    """exiftool's ``-n`` values of ``tags`` ("Group:Name") in ``path``, by that key."""
    out = subprocess.run(["exiftool", "-j", "-a", "-G1", "-n", *(f"-{t}" for t in tags), str(path)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    import json

    return {k: str(v) for k, v in json.loads(out)[0].items() if k != "SourceFile"}


def _with_metadata_of(raw, source: Path):  # type: ignore[no-untyped-def]
    """``raw`` carrying the complete metadata of the raw file ``source``."""
    import dataclasses

    meta = dataclasses.replace(raw.meta, full_metadata=fullmeta.read_full(source))
    return dataclasses.replace(raw, meta=meta)


@pytest.mark.parametrize(
    ("name", "tags"),
    [
        ("imagemeta_canon.crw", ["CanonRaw:OriginalFileName", "CanonRaw:TimeZoneCode",
                                 "CanonRaw:WhiteSampleWidth", "Canon:SensorLeftBorder"]),
        ("_DSC2164.ARW", ["SR2SubIFD:WB_RGGBLevels", "SR2SubIFD:ColorMatrix",
                          "SR2SubIFD:WB_RGBLevelsTungsten", "SR2DataIFD:ColorMode"]),
        ("dcc_kodak_dc120_p003908.kdc", ["KodakIFD:KodakVersion", "KodakIFD:ExposureValue"]),
    ],
)  # fmt: skip
def test_private_structures_reach_the_dng_as_the_camera_s_tags(
    small_raw, name: str, tags: list[str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """CIFF records, SR2 data and Kodak's IFD (which exiv2 does not expose) travel in the
    stored metadata and become the DNG's Adobe DNGPrivateData; LibRaw still reads it."""
    src = require((FETCHED_RAW if name.endswith("ARW") else SHARED_RAW) / name)
    raw = _with_metadata_of(small_raw, src)
    _, private = fullmeta._load(raw.meta.full_metadata)
    assert private == rawprivate.adobe_private_data(src.read_bytes()) != b""
    dng = write_dng(tmp_path / "x.dng", raw)
    image = exiv2.ImageFactory.open(str(dng))
    image.readMetadata()
    assert fullmeta._private_value(image, "Exif.Image.DNGPrivateData") == private
    grid = small_raw.mosaic.shape if small_raw.mosaic is not None else small_raw.data.shape[:2]
    with rawpy.imread(str(dng)) as back:
        assert back.raw_image_visible.shape[:2] == grid  # the CFA sensor grid
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed")
    want = _exiftool(src, *tags)
    assert len(want) == len(tags) and _exiftool(dng, *tags) == want


def test_old_blobs_without_private_structures_still_load() -> None:
    """A blob written before the private structures existed is one zlib stream."""
    blob = fullmeta.read_full(require(SHARED_RAW / "imagemeta_canon.crw"))
    d = zlib.decompressobj()
    exv = d.decompress(blob)
    assert d.unused_data  # the private structures' stream follows the EXV's
    image, private = fullmeta._load(zlib.compress(exv))
    assert private == b"" and len(image.exifData()) > 50
    _, damaged = fullmeta._load(blob[: len(blob) - len(d.unused_data) + 5])
    assert damaged == b""


def test_private_structures_give_way_when_the_blob_would_be_too_large(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    src = require(SHARED_RAW / "imagemeta_canon.crw")
    whole = fullmeta.read_full(src)
    d = zlib.decompressobj()
    d.decompress(whole)
    monkeypatch.setattr(fullmeta, "MAX_BLOB_BYTES", len(whole) - 1)
    alone = fullmeta.read_full(src)
    assert alone == whole[: len(whole) - len(d.unused_data)]
    assert fullmeta._load(alone)[1] == b""


def test_the_jpeg_exif_keeps_the_raw_s_byte_order(small_raw, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Sony maker notes hold binary blocks in the raw's byte order: in a big-endian EXIF
    readers decode them to wrong values (ISO 6361288 for 3200)."""
    src = require(FETCHED_RAW / "_DSC2164.ARW")
    raw = _with_metadata_of(small_raw, src)
    plain = jpeg.encode_jpeg(np.zeros((16, 16, 3), np.uint8), 90, meta=raw.meta)
    out = fullmeta.embed_in_jpeg(plain, raw.meta.full_metadata, 1)
    image = exiv2.ImageFactory.open(out)
    image.readMetadata()
    assert image.byteOrder() == exiv2.ByteOrder.littleEndian
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed")
    (tmp_path / "x.jpg").write_bytes(out)
    tags = ["Sony:SonyISO", "Sony:WB_RGBLevels", "Sony:MinFocalLength", "Sony:SonyExposureTime2"]
    want = _exiftool(src, *tags)
    assert len(want) == len(tags) and _exiftool(tmp_path / "x.jpg", *tags) == want


def test_tiff_ep_ifd0_tags_and_software_of_a_kdc_reach_jpeg_and_dng(
    small_raw_path: Path, tmp_path: Path
) -> None:
    raw_tags = _exif(small_raw_path)
    encoded = codec.encode_file(small_raw_path, 75)
    dng = write_dng(tmp_path / "x.dng", codec.decode_bytes(encoded.jpeg).raw, reconstructed=True)
    keys = ["Exif.Image.BatteryLevel", "Exif.Image.SelfTimerMode", "Exif.Image.ImageNumber",
            "Exif.Image.TIFFEPStandardID", "Exif.Image.Software"]  # fmt: skip
    for tags in (_exif(encoded.jpeg), _exif(dng)):
        assert all(tags[k] == raw_tags[k] for k in keys)
        assert tags["Exif.Image.ProcessingSoftware"] == "rawjpeg"


def test_a_crw_s_ciff_records_ride_in_the_jpeg_as_canon_s_app0_heap(tmp_path: Path) -> None:
    """Canon's cameras wrote CIFF records into their JPEGs' APP0; exiftool reads them there."""
    src = require(SHARED_RAW / "imagemeta_canon.crw")
    out = codec.encode_file(src, 75).jpeg
    heap = rawprivate.ciff_jpeg_heap(
        rawprivate.private_blocks(rawprivate.adobe_private_data(src.read_bytes()))[b"CRW "]
    )
    assert out[20:24] == b"\xff\xe0" + (len(heap) + 2).to_bytes(2, "big")  # after JFIF
    assert out[24 : 24 + len(heap)] == heap
    assert codec.decode_bytes(out).raw.width > 0
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed")
    (tmp_path / "x.jpg").write_bytes(out)
    names = ["OriginalFileName", "TimeZoneCode", "WhiteSampleWidth", "CanonFileDescription",
             "UserComment", "SerialNumber", "SensorLeftBorder"]  # fmt: skip
    want = _exiftool(src, *(f"CanonRaw:{n}" for n in names[:-1]), "Canon:SensorLeftBorder")
    got = _exiftool(tmp_path / "x.jpg", *(f"CIFF:{n}" for n in names))  # exiftool's group
    assert len(want) == len(names)
    assert {k.split(":")[1]: v for k, v in got.items()} == {
        k.split(":")[1]: v for k, v in want.items()
    }


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
@pytest.mark.parametrize("name", ["dcc_kodak_dc120_p003908.kdc", "dcc_canon_g2_0304.crw"])
def test_benchmark_dng_carries_95_percent_of_a_kdc_and_a_crw(name: str, tmp_path: Path) -> None:
    """The DNG keeps >= 95 % of both raws' tags; the JPEG all the CRW's (CIFF in APP0)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import metadata_carry

    total, in_jpeg, in_dng, _, _ = metadata_carry.measure(require(SHARED_RAW / name), tmp_path)
    assert in_dng >= 0.95 * total
    assert name.endswith(".kdc") or in_jpeg >= 0.95 * total


#: Tags carried per real raw (benchmarks/metadata_carry.py, exiftool's view): the JPEG's
#: and the DNG's counts may grow, never shrink; every tag with a standard JPEG home is
#: in the JPEG. (photo tags, in the JPEG, in the DNG)
CARRIED = {
    "dcc_canon_g2_0304.crw": (102, 102, 102),
    "dcc_kodak_dc120_p003908.kdc": (23, 20, 22),
    "tinydng_colorchart.dng": (34, 24, 32),
    "_DSC2164.ARW": (235, 184, 224),
    "IMG_5952.CR2": (198, 193, 197),
}


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
@pytest.mark.parametrize("name", sorted(CARRIED))
def test_carried_tags_do_not_regress(name: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import metadata_carry

    src = require((FETCHED_RAW if name[-3:].isupper() else SHARED_RAW) / name)
    total, in_jpeg, in_dng, homed, homed_in_jpeg = metadata_carry.measure(src, tmp_path)
    want_total, want_jpeg, want_dng = CARRIED[name]
    assert total == want_total and in_jpeg >= want_jpeg and in_dng >= want_dng
    assert homed_in_jpeg == homed > 0.6 * total
    if name.endswith(".ARW"):  # the SR2 data exiv2 does not expose, back in the DNG
        tags = [
            "SR2SubIFD:WB_RGGBLevels",
            "SR2SubIFD:ColorMatrix",
            "SR2SubIFD:DistortionCorrParams",
        ]
        want = _exiftool(src, *tags)
        assert len(want) == len(tags) and _exiftool(tmp_path / "_DSC2164.dng", *tags) == want


def test_the_benchmark_compares_values_not_exiftool_s_print_form() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import metadata_carry

    same = metadata_carry.same_value
    assert same("base64:AH0D", "0 125 3") and same("1 2.477", "1.0 2.477") and same("7", "7")
    assert not same("base64:AH0D", "0 125 4") and not same("1 2.477", "1 2.4770001")
    assert not same("Canon", "Canon ") and not same("0 125 3", "0 125")
    raw = {"IFD0:Make": "Canon", "CanonRaw:Info": "base64:AH0D", "IFD0:Gone": "1"}
    done, total, missing = metadata_carry.carried(raw, {"IFD0:Make": "Canon", "X:Info": "0 125 3"})
    assert (done, total, missing) == (2, 3, ["IFD0:Gone"])  # absent is missing, always


def _with_profile(tmp_path: Path, tags: dict[str, str | bytes]) -> Path:
    copy = tmp_path / "profile.dng"
    shutil.copyfile(require(SHARED_RAW / "tinydng_colorchart.dng"), copy)
    copy.chmod(0o644)
    image = exiv2.ImageFactory.open(str(copy))
    image.readMetadata()
    exif = image.exifData()
    for key, value in tags.items():
        exif[f"Exif.Image.{key}"] = (
            exiv2.DataValue(value, exiv2.ByteOrder.invalidByteOrder, exiv2.TypeId.unsignedByte)
            if isinstance(value, bytes)
            else value
        )
    image.writeMetadata()
    return copy


def test_a_dng_raw_s_dual_illuminant_profile_reaches_the_dng(tmp_path: Path) -> None:
    """LibRaw takes the D65 matrix; the writer's ColorMatrix1 is that matrix, so the raw's
    whole profile describes the samples and replaces the writer's single matrix."""
    d65 = _exif(require(SHARED_RAW / "tinydng_colorchart.dng"))["Exif.Image.ColorMatrix1"]
    profile: dict[str, str | bytes] = {
        "ColorMatrix1": "7/10 -2/10 -1/10 -4/10 12/10 3/10 -5/100 2/10 7/10",
        "ColorMatrix2": d65,
        "CalibrationIlluminant1": "17",
        "CalibrationIlluminant2": "21",
        "ForwardMatrix1": "6/10 3/10 1/10 2/10 7/10 1/10 0/1 1/10 8/10",
        "ForwardMatrix2": "61/100 29/100 1/10 21/100 69/100 1/10 0/1 11/100 79/100",
        "ProfileName": b"Test Profile\0",
        "BaselineExposure": "35/100",
    }
    src = _with_profile(tmp_path, profile)
    encoded = codec.encode_file(src, 75)
    dng = write_dng(tmp_path / "x.dng", codec.decode_bytes(encoded.jpeg).raw, reconstructed=True)
    raw_tags, out = _exif(src), _exif(dng)
    for key in [f"Exif.Image.{k}" for k in profile] + ["Exif.Image.AsShotNeutral",
                                                       "Exif.Image.AnalogBalance"]:  # fmt: skip
        assert out[key] == raw_tags[key], key
    assert not {k for k in _exif(encoded.jpeg) if "Matrix" in k or "Profile" in k}
    with rawpy.imread(str(dng)) as back:
        assert back.raw_image_visible.shape[0] > 0


def test_a_profile_that_does_not_describe_the_samples_stays_out(tmp_path: Path) -> None:
    """LibRaw folds a DNG's AnalogBalance into its matrix: the writer's ColorMatrix1 is
    then not the raw's, the raw's profile does not describe the samples and stays out."""
    src = _with_profile(tmp_path, {"AnalogBalance": "3/2 1/1 1/1", "ProfileName": b"Test\0"})
    raw = codec.decode_bytes(codec.encode_file(src, 75).jpeg).raw
    out = _exif(write_dng(tmp_path / "x.dng", raw, reconstructed=True))
    assert "Exif.Image.ProfileName" not in out and "Exif.Image.AnalogBalance" not in out
    assert out["Exif.Image.CalibrationIlluminant1"] == "21"
    assert out["Exif.Image.ColorMatrix1"] != _exif(src)["Exif.Image.ColorMatrix1"]
