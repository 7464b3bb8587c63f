"""``--verify``: read a written output back from disk and check what it reconstructs.

The encoder knows exactly what it wrote and what that reconstructs; the file on disk
must bring back the same. :func:`verify_output` reads the file back and checks it with
:func:`~rawjpeg_gui.core.codec.verify_written`: it fails the file when it does not
decode, or reconstructs more than
:data:`~rawjpeg_gui.core.codec.VERIFY_TOLERANCE_DB` below what the encoded bytes
reconstruct.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RawJpegError

if TYPE_CHECKING:
    from ..codec import EncodeResult


class VerifyFailed(RawJpegError):
    """A written output does not reconstruct what was encoded (the file is kept)."""


def verify_output(dest: Path, encoded: EncodeResult) -> float:
    """Decode ``dest`` from disk; return its PSNR (dB) against ``encoded.raw``.

    Raises:
        VerifyFailed: the file cannot be read, does not decode, or reconstructs worse
            than the encoded bytes (one sentence naming it).
    """
    from ..codec import read_file_bytes, verify_written

    try:
        on_disk = read_file_bytes(dest)
        return verify_written(encoded, on_disk).measured_db
    except RawJpegError as exc:
        what = str(exc).removeprefix("The written file ")
        raise VerifyFailed(f"{dest.name} was written but {what[:1].lower()}{what[1:]}") from None
