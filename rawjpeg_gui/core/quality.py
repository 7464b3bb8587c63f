"""The JPEG quality: one check, one message, for every caller (CLI, GUI, batch, codec)."""

from __future__ import annotations

#: The range of JPEG qualities (IJG scale).
QUALITY_MIN, QUALITY_MAX = 1, 100


def check_quality(quality: object) -> int:
    """``quality`` as an int if it is a whole number from 1 to 100, else raise ValueError.

    Accepts ints, integral floats and strings of digits (command-line text); refuses bools.
    """
    message = f"The JPEG quality must be a whole number from 1 to 100, not {quality!r}."
    if isinstance(quality, bool):
        raise ValueError(message)
    try:
        value = int(quality.strip()) if isinstance(quality, str) else int(quality)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise ValueError(message) from None
    if value != quality and not isinstance(quality, str):
        raise ValueError(message)
    if not QUALITY_MIN <= value <= QUALITY_MAX:
        raise ValueError(message)
    return value


def clamp_quality(value: int) -> int:
    """The nearest valid quality (for values restored from settings)."""
    return min(max(int(value), QUALITY_MIN), QUALITY_MAX)
