"""``--verify``: read a written output back from disk and check what it reconstructs.

The encoder knows exactly what it wrote and what that reconstructs; the file on disk
must bring back the same. :func:`verify_output` reads the file back, decodes it, and
measures its PSNR against the source's linear image; it fails the file when the
bytes on disk differ from the encoded bytes and what they reconstruct is more than
:data:`TOLERANCE_DB` below what the encoded bytes reconstruct, or when the file does
not decode at all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RawJpegError

if TYPE_CHECKING:
    from ..codec import EncodeResult

#: How far (dB) a verified file may fall below what the encoder produced.
TOLERANCE_DB = 1.0


class VerifyFailed(RawJpegError):
    """A written output does not reconstruct what was encoded (the file is kept)."""


def check_psnr(name: str, measured_db: float, expected_db: float) -> None:
    """Raise :class:`VerifyFailed` when ``measured_db`` is more than 1 dB below ``expected_db``."""
    if not measured_db >= expected_db - TOLERANCE_DB:
        raise VerifyFailed(
            f"{name} was written but reconstructs at {measured_db:.1f} dB, more than "
            f"{TOLERANCE_DB:g} dB below the {expected_db:.1f} dB the encoder produced."
        )


def verify_output(dest: Path, encoded: EncodeResult) -> float:
    """Decode ``dest`` from disk; return its PSNR (dB) against ``encoded.raw``.

    Raises:
        VerifyFailed: the file does not decode, or reconstructs worse than the
            encoded bytes by more than :data:`TOLERANCE_DB` (one sentence naming it).
    """
    from ..codec import decode_bytes, read_file_bytes
    from ..metrics import psnr

    try:
        on_disk = read_file_bytes(dest)
        measured = psnr(encoded.raw.data, decode_bytes(on_disk).raw.data)
    except RawJpegError as exc:
        raise VerifyFailed(f"{dest.name} was written but does not decode: {exc}") from None
    if hashlib.sha256(on_disk).digest() != hashlib.sha256(encoded.jpeg).digest():
        # Identical bytes decode identically; other bytes are measured against the original.
        expected = psnr(encoded.raw.data, decode_bytes(encoded.jpeg).raw.data)
        check_psnr(dest.name, measured, expected)
    return measured
