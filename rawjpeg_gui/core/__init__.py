"""rawjpeg's Qt-free engine: camera raw <-> adapter-JPEG, as a library.

Data flow::

    raw file -> read_raw -> RawImage (linear camera RGB + RawMeta)
             -> AdapterModel (thumbnail + quality -> AdapterParams)
             -> invertible operators -> baseline JPEG + parameter segment   (encode_file)
    adapter-JPEG -> parameter segment + JPEG pixels -> inverse operators
             -> RawImage                                                     (decode_file)

Example::

    from rawjpeg_gui.core import decode_file, encode_file, write_dng

    result = encode_file("photo.dng", quality=75)
    Path("photo.jpg").write_bytes(result.jpeg)
    write_dng("photo-back.dng", decode_file("photo.jpg").raw, reconstructed=True)

Every error the engine raises on purpose is a :class:`RawJpegError` whose message is
one sentence for a person.
"""

from .codec import EncodeResult, Reconstruction, decode_file, encode_file
from .dng import write_dng
from .errors import (
    CancelledError,
    CorruptParameters,
    ModelError,
    NotAJpeg,
    NotAnAdapterJpeg,
    OutputError,
    ParameterSizeError,
    RawDecodeError,
    RawJpegError,
    UnsupportedFileError,
    UnsupportedVersion,
)
from .fileio import write_image16
from .metadata import RawMeta
from .model import AdapterModel
from .params import AdapterParams
from .quality import check_quality
from .rawio import RawImage, read_raw

__all__ = [
    "encode_file", "decode_file", "read_raw", "write_dng", "write_image16", "check_quality",
    "EncodeResult", "Reconstruction", "RawImage", "RawMeta", "AdapterParams", "AdapterModel",
    "RawJpegError", "RawDecodeError", "UnsupportedFileError", "NotAJpeg", "NotAnAdapterJpeg",
    "CorruptParameters", "ParameterSizeError", "UnsupportedVersion", "ModelError",
    "OutputError", "CancelledError",
]  # fmt: skip
