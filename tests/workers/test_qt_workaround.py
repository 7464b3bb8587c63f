"""Many signals to Python slots do not exhaust True/None (PySide6 6.12.0 leak guard)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

import rawjpeg_gui.workers  # noqa: F401  (applies the guard)


class _Emitter(QObject):
    ping = Signal()
    value = Signal(object)


def test_twenty_thousand_signals_leave_the_singletons_alive(qapp):
    emitter = _Emitter()
    emitter.ping.connect(lambda: None)
    emitter.value.connect(lambda _v: None)
    for _ in range(10000):
        emitter.ping.emit()
        emitter.value.emit(None)
    assert sys.getrefcount(True) > 100 and sys.getrefcount(None) > 100
