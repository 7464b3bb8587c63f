"""One exception hierarchy for everything the core can refuse.

Every exception carries one clear sentence meant for a person; the CLI prints it
after the file name and the GUI shows it in the status bar and inspector.
"""

from __future__ import annotations


class RawJpegError(Exception):
    """Base class of every error the core raises on purpose."""


class RawDecodeError(RawJpegError):
    """A raw (or 16-bit TIFF/PNG) file could not be read: corrupt, truncated or unsupported."""


class InputFileError(RawDecodeError):
    """An input path is missing, a folder, not a regular file (a pipe, device or socket) or unreadable."""


class UnsupportedFileError(RawJpegError):
    """The file is of a kind rawjpeg does not handle at all."""


class NotAJpeg(RawJpegError):
    """The bytes are not a JPEG file."""


class NotAnAdapterJpeg(RawJpegError):
    """A valid JPEG that carries no rawjpeg parameter segment."""


class CorruptParameters(RawJpegError):
    """The parameter segment is damaged: CRC mismatch, truncation, wrong shapes or bad values."""


class UnsupportedVersion(RawJpegError):
    """The parameter segment was written by a newer, unknown format version."""


class ParameterSizeError(CorruptParameters):
    """A declared or decompressed size is beyond the fixed safety cap."""


class ModelError(RawJpegError):
    """An adapter model file is missing, unreadable or of a kind the runtime does not understand."""


class OutputError(RawJpegError):
    """An output could not be written (unwritable folder, full disk, would overwrite an input)."""


class OutputExistsError(OutputError):
    """The output file already exists and replacing it was not asked for."""


class CancelledError(RawJpegError):
    """A long job was cancelled by the user."""


class PixelsChanged(RawJpegError):
    """The adapter-JPEG's pixels no longer match its fingerprint: re-encoded, edited or rotated."""


class VerificationError(RawJpegError):
    """A written adapter-JPEG reconstructs worse than the encoder measured (``--verify``)."""
