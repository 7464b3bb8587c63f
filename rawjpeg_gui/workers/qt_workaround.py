"""Guard against a PySide6 6.12.0 reference-counting bug.

PySide6/shiboken6 6.12.0 drops one reference to ``True`` every time a signal calls a
Python slot, and references to ``None``/``False`` on other paths (6.11.3 does not).
They start with a few hundred references, so an app dies with "Fatal Python error:
bool_dealloc" (or ``none_dealloc``) after some hundred signals. Until the dependency
excludes 6.12.0, give these singletons a reference count so large the leak can never
reach zero (they are static objects: never freed anyway).
"""

from __future__ import annotations

import ctypes
import sys

#: Versions known to have the bug.
AFFECTED = ("6.12.0",)
_MARGIN = 1 << 40


def apply() -> bool:
    """Apply the guard when the installed PySide6 is affected; True when applied."""
    try:
        import PySide6
    except ImportError:
        return False
    if PySide6.__version__ not in AFFECTED or sys.implementation.name != "cpython":
        return False
    if sys.version_info >= (3, 12):  # the singletons are immortal: the extra decrefs are no-ops
        return False
    for singleton in (True, False, None):
        refcnt = ctypes.c_ssize_t.from_address(id(singleton))
        if refcnt.value < _MARGIN // 2:
            refcnt.value += _MARGIN
    return True
