"""How numbers read in the app: one format each for sizes, ratios, exposures and EV."""

from __future__ import annotations

from fractions import Fraction

_THIRDS = {0: "", 1: "⅓", 2: "⅔"}


def size(num_bytes: int | None) -> str:
    """``1.23 MB`` / ``456.7 kB``, or a dash for nothing."""
    if not num_bytes:
        return "–"
    return f"{num_bytes / 1e6:.2f} MB" if num_bytes >= 1e6 else f"{num_bytes / 1e3:.1f} kB"


def ratio(value: float | None) -> str:
    """A compression ratio: ``3.5×`` (the app's one way of writing it), or a dash."""
    return f"{value:.1f}×" if value else "–"


def shutter_and_aperture(seconds: float | None, f_number: float | None) -> str:
    """``1/125 s, f/5.6``; a part the camera did not record reads "unknown".

    LibRaw reports an unrecorded aperture as f/1 and, with it, an unrecorded shutter
    time as 1 s; those placeholders are shown as unknown, not as values.
    """
    placeholder = f_number in (None, 0, 1.0)
    if placeholder and seconds == 1.0:
        seconds = None
    shutter = "unknown shutter time"
    if seconds and seconds > 0:
        shutter = f"1/{round(1 / seconds)} s" if seconds < 0.5 else f"{seconds:.3g} s"
    aperture = "unknown aperture" if placeholder else f"f/{f_number:.2g}"
    if not seconds and placeholder:
        return "unknown"
    return f"{shutter}, {aperture}"


def ev(value: float) -> str:
    """An exposure in EV, in thirds: ``+1⅓ EV``, ``−⅔ EV``, ``0 EV``."""
    thirds = Fraction(round(value * 3), 3)
    if thirds == 0:
        return "0 EV"
    sign = "+" if thirds > 0 else "−"
    whole, rest = divmod(abs(thirds.numerator) * 3 // thirds.denominator, 3)
    text = (str(whole) if whole else "") + _THIRDS[rest]
    return f"{sign}{text} EV"
