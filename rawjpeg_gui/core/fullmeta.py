"""The raw's complete metadata (EXIF, maker notes, GPS, XMP, IPTC) through exiv2.

Camera metadata is a zoo of formats (TIFF/EXIF IFDs, Canon's CIFF, a dozen maker-note
dialects, XMP, IPTC); writing tags by hand would drop or damage what it does not know.
exiv2 (the library behind darktable, digiKam, GIMP, gThumb and Photini; Python bindings
``exiv2`` on PyPI, self-contained wheels) reads all of them, maps CIFF records to their
EXIF equivalents and re-encodes maker notes when it writes a JPEG or a DNG.

Three steps:

1. :func:`read_full` (encoding): every tag exiv2 reads from the raw, except those that
   describe the raw's own image data (strip and tile offsets, CFA layout, thumbnails and
   previews: :func:`_structural`), stored as an in-memory EXV file (exiv2's
   metadata-only container, in the raw's byte order) and zlib-compressed; then, as a
   second zlib stream, the camera-private structures exiv2 does not expose (Canon CIFF
   records, Sony SR2 data, Kodak's IFD) as Adobe DNGPrivateData (:mod:`rawprivate`).
   It travels in the adapter-JPEG's metadata segments
   (:func:`container.metadata_segments`), not in its JSON record.
2. :func:`embed_in_jpeg` (encoding): the same tags as the adapter-JPEG's own EXIF, XMP
   and IPTC, so any photo tool sees them; DNG colour tags stay out of the JPEG. The
   EXIF is written in the raw's byte order (maker notes keep binary blocks that readers
   decode in the file's order). Orientation is rawjpeg's (the pixels are in sensor
   orientation), and ProcessingSoftware names rawjpeg. If the EXIF would overflow a
   JPEG's 64 KB APP1 segment, maker notes are left out of the JPEG (they remain in the
   segment). A CRW's CIFF records (most have no EXIF equivalent) go into an APP0 CIFF
   heap, the segment Canon's cameras wrote into their own JPEGs.
3. :func:`embed_in_dng` (``decode -o x.dng``): the stored tags merged into the DNG the
   writer made; its IFD0 tags (image, DNG colour, orientation) win, except Software,
   which is the camera's as in the JPEG (ProcessingSoftware names rawjpeg). The raw's
   EXIF, GPS and maker-note values replace the writer's rounded ones, a DNG raw's
   camera-describing DNG tags (:data:`_DNG_CAMERA_TAGS`) are kept, so is its colour
   profile where it describes the DNG's samples (:mod:`dngprofile`), and the private
   structures become the DNG's DNGPrivateData, where exiftool reads them as the
   camera's own tags.
"""

from __future__ import annotations

import mmap
import zlib
from pathlib import Path
from typing import Any

from . import dngprofile, rawprivate
from .jpeg import COLOUR_SPACE_ICC, COLOUR_SPACE_SRGB

#: Compressed metadata blobs larger than this are not stored (the segments' limit).
MAX_BLOB_BYTES = 1 << 20
#: Exif groups that describe image data, not the photograph.
_STRUCTURAL_GROUPS = ("Thumbnail", "SubImage", "Image2", "Image3", "Image4", "Image5", "SubThumb")
#: Exif.Image tags that describe the stored image (kept out of the JPEG and the DNG).
_STRUCTURAL_TAGS = frozenset(
    """NewSubfileType SubfileType ImageWidth ImageLength BitsPerSample Compression
    PhotometricInterpretation StripOffsets SamplesPerPixel RowsPerStrip StripByteCounts
    PlanarConfiguration TileWidth TileLength TileOffsets TileByteCounts SubIFDs
    JPEGInterchangeFormat JPEGInterchangeFormatLength YCbCrCoefficients YCbCrSubSampling
    YCbCrPositioning CFARepeatPatternDim CFAPattern SampleFormat Predictor ExifTag GPSTag
    InteroperabilityTag XMLPacket IPTCNAA""".split()
)
#: DNG tags that only make sense on a DNG's raw data (kept out of the JPEG and
#: replaced by the writer's own in the DNG).
_DNG_TAGS = frozenset(
    """DNGVersion DNGBackwardVersion UniqueCameraModel LocalizedCameraModel CFAPlaneColor
    CFALayout LinearizationTable BlackLevelRepeatDim BlackLevel BlackLevelDeltaH
    BlackLevelDeltaV WhiteLevel DefaultScale DefaultCropOrigin DefaultCropSize ColorMatrix1
    ColorMatrix2 CameraCalibration1 CameraCalibration2 ReductionMatrix1 ReductionMatrix2
    AnalogBalance AsShotNeutral AsShotWhiteXY BaselineExposure BaselineNoise
    BaselineSharpness BayerGreenSplit LinearResponseLimit LensInfo ChromaBlurRadius
    AntiAliasStrength ShadowScale DNGPrivateData MakerNoteSafety CalibrationIlluminant1
    CalibrationIlluminant2 BestQualityScale RawDataUniqueID OriginalRawFileName
    ActiveArea MaskedAreas AsShotICCProfile AsShotPreProfileMatrix CurrentICCProfile
    CurrentPreProfileMatrix ColorimetricReference CameraCalibrationSignature
    ProfileCalibrationSignature AsShotProfileName NoiseReductionApplied ProfileName
    ProfileHueSatMapDims ProfileHueSatMapData1 ProfileHueSatMapData2 ProfileToneCurve
    ProfileEmbedPolicy ProfileCopyright ForwardMatrix1 ForwardMatrix2 PreviewApplicationName
    PreviewApplicationVersion PreviewSettingsName PreviewSettingsDigest PreviewColorSpace
    PreviewDateTime RawImageDigest OriginalRawFileDigest SubTileBlockSize RowInterleaveFactor
    ProfileLookTableDims ProfileLookTableData OpcodeList1 OpcodeList2 OpcodeList3
    NoiseProfile DefaultUserCrop DefaultBlackRender BaselineExposureOffset
    ProfileLookTableEncoding ProfileHueSatMapEncoding OriginalDefaultFinalSize
    OriginalBestQualityFinalSize OriginalDefaultCropSize NewRawImageDigest RawToPreviewGain
    DefaultCropOrigin""".split()
)


#: IFD0 tags that describe the photograph and belong in IFD0 of any TIFF/EXIF file
#: (TIFF/EP's BatteryLevel, SelfTimerMode, ImageNumber and TIFFEPStandardID among them).
_IFD0_TAGS = frozenset(
    """ImageDescription Make Model Software DateTime Artist HostComputer Copyright DocumentName
    PageName Rating RatingPercent XPTitle XPComment XPAuthor XPKeywords XPSubject
    ProcessingSoftware ImageID BatteryLevel SelfTimerMode ImageNumber TIFFEPStandardID
    PrintImageMatching""".split()
)
#: DNG tags of a DNG raw that describe the camera, not the stored data, so they hold for
#: the DNG written back too (the colour tags are the writer's: docs/DNG.md).
_DNG_CAMERA_TAGS = frozenset(("BaselineNoise", "BaselineSharpness", "LinearResponseLimit"))
#: A DNG's DNGPrivateData, where :func:`embed_in_dng` puts the raw's private structures.
_PRIVATE_KEY = "Exif.Image.DNGPrivateData"


def _target_key(datum: Any) -> str | None:
    """Where a stored tag goes in a JPEG's or DNG's EXIF, or ``None`` to leave it out.

    IFD0 tags of raws (Kodak and other TIFF/EP files keep exposure tags there, beside
    private pointers) go to the EXIF IFD when EXIF defines them; IFD0 keeps only its
    descriptive tags; private or unknown IFD0 tags (offsets into the raw) are left out.
    """
    if _structural(datum):
        return None
    if datum.groupName() != "Image":
        return str(datum.key())
    name = datum.tagName()
    if name.startswith("0x"):  # exiv2 does not know it: a private entry (e.g. KodakIFD)
        return None
    if name in _IFD0_TAGS:
        return str(datum.key())
    exiv2 = _exiv2()
    try:
        return str(exiv2.ExifKey(f"Exif.Photo.{name}").key())
    except Exception:  # not an EXIF tag: a camera's private IFD0 entry
        return None


def _exiv2() -> Any:
    import exiv2

    exiv2.LogMsg.setLevel(exiv2.LogMsg.Level.mute)
    return exiv2


def _structural(datum: Any) -> bool:
    """True for tags that describe a file's image data rather than the photograph."""
    group = datum.groupName()
    if group.startswith(_STRUCTURAL_GROUPS):
        return True
    if datum.familyName() == "Exif" and group == "Image":
        name = datum.tagName()
        return name in _STRUCTURAL_TAGS or name in _DNG_TAGS
    return False


def _dng_camera_tag(datum: Any) -> bool:
    return bool(datum.groupName() == "Image" and datum.tagName() in _DNG_CAMERA_TAGS)


def _image_bytes(image: Any) -> bytes:
    io = image.io()
    io.open()
    try:
        return bytes(io.mmap())
    finally:
        io.munmap()
        io.close()


def _private_data(path: str | Path, src: Any) -> bytes:
    """The raw's private structures as Adobe DNGPrivateData (:mod:`rawprivate`); a DNG's
    own Adobe record as it is."""
    own = _private_value(src, _PRIVATE_KEY)
    if own.startswith(rawprivate.ADOBE):
        return own
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return rawprivate.adobe_private_data(data)
    except (OSError, ValueError):  # unreadable, or empty (mmap refuses 0 bytes)
        return b""


def _private_value(image: Any, key: str) -> bytes:
    """The bytes of an image's tag ``key``, or b"" (an ARW's DNGPrivateData is a pointer)."""
    for datum in image.exifData():
        if datum.key() == key:
            return bytes(datum.value().data())
    return b""


def read_full(path: str | Path) -> bytes:
    """The raw's metadata (see the module docstring) as a zlib-compressed EXV file,
    followed by its private structures, or b"".

    The EXV keeps the raw's byte order (maker notes hold binary blocks in it). The raw's
    private structures (:func:`_private_data`) follow as a second zlib stream: an EXV
    holds at most 64 KB of EXIF (exiv2 drops tags beyond), an ARW's SR2 data is about
    100 KB, and readers that predate the second stream stop after the first. They are
    left out when the whole would pass :data:`MAX_BLOB_BYTES`.
    Never raises: a file exiv2 cannot read gives b"" (the basic metadata still travels).
    """
    try:
        exiv2 = _exiv2()
        src = exiv2.ImageFactory.open(str(path))
        src.readMetadata()
        exif = exiv2.ExifData()
        for datum in src.exifData():
            if not _structural(datum) or _dng_camera_tag(datum) or dngprofile.stored(datum):
                exif.add(datum)
        out = exiv2.ImageFactory.create(exiv2.ImageType.exv)
        if src.byteOrder() != exiv2.ByteOrder.invalidByteOrder:
            out.setByteOrder(src.byteOrder())
        out.setExifData(exif)
        out.setXmpData(src.xmpData())
        out.setIptcData(src.iptcData())
        out.writeMetadata()
        blob = zlib.compress(_image_bytes(out), 9)
        private = _private_data(path, src)
    except Exception:  # exiv2 raises its own error types for unknown or damaged files
        return b""
    if private and len(whole := blob + zlib.compress(private, 9)) <= MAX_BLOB_BYTES:
        return whole
    return blob if len(blob) <= MAX_BLOB_BYTES else b""


def _inflate(blob: bytes) -> tuple[bytes, bytes]:
    """The first zlib stream of ``blob`` inflated, and the bytes after it."""
    d = zlib.decompressobj()
    out = d.decompress(blob, 16 * MAX_BLOB_BYTES)
    if d.unconsumed_tail or not d.eof:
        raise ValueError("the stored metadata inflates beyond the cap")
    return out, d.unused_data


def _load(blob: bytes) -> tuple[Any, bytes]:
    """The exiv2 image of a stored blob (metadata read) and the raw's private
    structures (b"" if none, or if they are damaged)."""
    exiv2 = _exiv2()
    exv, rest = _inflate(blob)
    image = exiv2.ImageFactory.open(exv)
    image.readMetadata()
    image._rawjpeg_keepalive = exv  # exiv2 reads from this buffer
    try:
        private = _inflate(rest)[0] if rest else b""
    except (ValueError, zlib.error):
        private = b""
    return image, private if private.startswith(rawprivate.ADOBE) else b""


def embed_in_jpeg(data: bytes, blob: bytes, orientation: int) -> bytes:
    """JPEG ``data`` with the stored metadata as its own EXIF/XMP/IPTC (``data`` if none)."""
    if not blob:
        return data
    exiv2 = _exiv2()
    try:
        stored, private = _load(blob)
        bare, own = _without_exif(data)
    except Exception:
        return data
    ciff = rawprivate.private_blocks(private).get(b"CRW ")
    if ciff:
        bare = _with_ciff(bare, rawprivate.ciff_jpeg_heap(ciff))
    for keep_makernote in (True, False):
        target = exiv2.ImageFactory.open(bare)
        target.readMetadata()
        if stored.byteOrder() != exiv2.ByteOrder.invalidByteOrder:
            target.setByteOrder(stored.byteOrder())  # maker notes' binary blocks need it
        exif = target.exifData()
        for datum in own:
            exif.add(datum)
        for datum in stored.exifData():
            key = _target_key(datum)
            if key is None:
                continue
            if not keep_makernote and datum.ifdName() not in ("IFD0", "Exif", "GPSInfo", "Iop"):
                continue
            exif[key] = datum.value()
        exif["Exif.Image.Orientation"] = exiv2.UShortValue(orientation)
        exif["Exif.Image.ProcessingSoftware"] = "rawjpeg"  # Software stays the camera's
        _jpeg_required(exif, target.pixelWidth(), target.pixelHeight())
        _colour_space(exif, bool(target.iccProfileDefined()))
        target.setXmpData(stored.xmpData())
        target.setIptcData(stored.iptcData())
        try:
            target.writeMetadata()
            return _image_bytes(target)
        except Exception:
            continue
    return data


def _with_ciff(data: bytes, heap: bytes) -> bytes:
    """JPEG ``data`` with a CRW's CIFF heap in an APP0 segment after SOI and JFIF, where
    Canon cameras put it in their JPEGs (``data`` if it does not fit one segment)."""
    if not heap or len(heap) > 65533 or data[:2] != b"\xff\xd8":
        return data
    at = 2
    if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
        at = 4 + int.from_bytes(data[4:6], "big")
    return data[:at] + b"\xff\xe0" + (len(heap) + 2).to_bytes(2, "big") + heap + data[at:]


def _without_exif(data: bytes) -> tuple[bytes, Any]:
    """JPEG ``data`` without its EXIF segment, and that EXIF. exiv2 rewrites an existing
    EXIF segment in that segment's byte order; a new one takes the byte order asked for."""
    exiv2 = _exiv2()
    image = exiv2.ImageFactory.open(data)
    image.readMetadata()
    own = exiv2.ExifData()
    for datum in image.exifData():
        own.add(datum)
    image.clearExifData()
    image.writeMetadata()
    return _image_bytes(image), own


def _jpeg_required(exif: Any, width: int, height: int) -> None:
    """The tags EXIF requires of a JPEG that the raw did not supply (values of this JPEG)."""
    defaults = {
        "Exif.Image.XResolution": "72/1",
        "Exif.Image.YResolution": "72/1",
        "Exif.Image.ResolutionUnit": "2",
        "Exif.Image.YCbCrPositioning": "1",
        "Exif.Photo.ExifVersion": "48 50 51 50",
        "Exif.Photo.ComponentsConfiguration": "1 2 3 0",
        "Exif.Photo.FlashpixVersion": "48 49 48 48",
    }
    present = {datum.key() for datum in exif}
    for key, value in defaults.items():
        if key not in present:
            exif[key] = value
    exif["Exif.Photo.PixelXDimension"] = str(width)
    exif["Exif.Photo.PixelYDimension"] = str(height)


def _colour_space(exif: Any, icc: bool) -> None:
    """Say what this JPEG's pixels are: sRGB, or "uncalibrated" when its ICC profile says
    (the raw's own sRGB claims and the sRGB interoperability index go)."""
    space = COLOUR_SPACE_ICC if icc else COLOUR_SPACE_SRGB
    exif["Exif.Photo.ColorSpace"] = _exiv2().UShortValue(space)
    if icc:
        for key in ("Exif.Iop.InteroperabilityIndex", "Exif.Iop.InteroperabilityVersion"):
            if key in exif:
                del exif[key]


def embed_in_dng(path: Path, blob: bytes) -> bool:
    """Merge the stored metadata into the DNG at ``path`` (in place, before it is renamed
    into place); its own image, colour and orientation tags win (see the module
    docstring). False if nothing merged."""
    if not blob:
        return False
    exiv2 = _exiv2()
    try:
        stored, private = _load(blob)
        target = exiv2.ImageFactory.open(str(path))
        target.readMetadata()
        exif = target.exifData()
        own = {datum.key() for datum in exif if datum.groupName() == "Image"}
        own.discard("Exif.Image.Software")  # the camera's, as in the JPEG
        for datum in stored.exifData():
            # IFD0's own tags (camera identity as written, DNG colour, orientation) win;
            # EXIF, GPS and maker-note tags are the raw's exact values.
            key = datum.key() if _dng_camera_tag(datum) else _target_key(datum)
            if key is None or key in own:
                continue
            exif[key] = datum.value()
        dngprofile.merge_profile(exif, stored.exifData())
        exif["Exif.Image.ProcessingSoftware"] = "rawjpeg"
        if private:  # the raw's private structures, where Adobe's DNG Converter puts them
            exif[_PRIVATE_KEY] = exiv2.DataValue(
                private, exiv2.ByteOrder.invalidByteOrder, exiv2.TypeId.unsignedByte
            )
        target.setXmpData(stored.xmpData())
        target.setIptcData(stored.iptcData())
        target.writeMetadata()
    except Exception:
        return False
    return True
