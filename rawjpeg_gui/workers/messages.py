"""One clear sentence for a person, whatever went wrong (no Qt)."""

from __future__ import annotations

import re
from pathlib import Path

from rawjpeg_gui.core.errors import RawJpegError

_BYTES_LITERAL = re.compile(r"""b['"]([^'"]*)['"]""")


def describe_error(exc: BaseException, path: Path | None = None) -> str:
    """One clear sentence for a person, whatever went wrong, naming ``path`` when given.

    Library details that mean nothing to a person (LibRaw's ``b'...'`` byte strings)
    are shown as plain words.
    """
    if isinstance(exc, RawJpegError):
        text = str(exc)
    elif isinstance(exc, MemoryError):
        text = "There is not enough memory to process this image."
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"It could not be read ({exc.strerror.lower()})."
    else:
        text = f"Unexpected error: {exc}"
    text = _BYTES_LITERAL.sub(lambda m: m.group(1), text).strip() or "It could not be opened"
    if path is not None and path.name not in text:
        text = f"{path.name} could not be opened: {text[0].lower()}{text[1:]}"
    elif not text.startswith(path.name if path is not None else "\0"):
        text = text[0].upper() + text[1:]
    return text.rstrip(".") + "."
