"""The GUI thread never blocks: an event-loop probe while an 18 MP raw is coded.

A QTimer ticks every 5 ms on the GUI thread; the longest gap between two ticks while
the Sony ARW (18 MP) is opened and re-encoded on the workers is the GUI's worst
stall. Frames at 60 Hz are 17 ms apart; on a loaded 2-core CI machine we assert a
bound of 100 ms (median of three re-encodes) and print the measured values. Large raws
are encoded in a child process (``workers/encoder_process.py``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

REPO = Path(__file__).resolve().parents[2]
ARW = REPO / ".test-data" / "_DSC2164.ARW"
MAX_GAP_MS = 100.0


class EventLoopProbe:
    """Records the largest gap between ticks of a 5 ms timer."""

    def __init__(self) -> None:
        self.max_gap = 0.0
        self.ticks = 0
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self._last)
        self._last = now
        self.ticks += 1


@pytest.mark.skipif(
    not ARW.is_file(), reason=f"{ARW} is absent (run python scripts/fetch_test_data.py)"
)
@pytest.mark.slow
def test_gui_stays_responsive_while_an_18mp_raw_is_coded(qtbot, settings):
    from rawjpeg_gui.gui.main_window import MainWindow

    win = MainWindow(settings=settings)  # real thread pools
    win.session.auto_rd = False  # measure the coding path alone
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(300)  # first paint of the empty window is not part of the measurement
    probe = EventLoopProbe()
    probe.start()
    gaps = []
    try:
        with qtbot.waitSignal(win.session.measured, timeout=180000):
            win.open_paths([ARW])
        open_gap = probe.max_gap
        # Three re-encodes; the median of their worst gaps is the GUI's stall. A task
        # that blocks the GUI thread shows in every run, while the OS scheduling the
        # GUI thread late on a busy 2-core machine (encoder threads and the encoder
        # process compete for the cores) rarely repeats.
        for quality in (40, 55, 70):
            probe.max_gap = 0.0
            with qtbot.waitSignal(win.session.measured, timeout=180000) as blocker:
                win.quality.slider.setValue(quality)
            assert blocker.args[0].quality == quality
            gaps.append(probe.max_gap * 1000)
    finally:
        probe.stop()
        win.session.cancel()
        for pool in win.pools.values():
            pool.wait_for_done(60000)
    gap_ms, open_ms = sorted(gaps)[1], open_gap * 1000
    print(
        f"\nevent-loop max gap: open {open_ms:.1f} ms, re-encodes "
        f"{', '.join(f'{g:.1f}' for g in gaps)} ms ({probe.ticks} ticks)"
    )
    assert open_ms < MAX_GAP_MS * 2, f"opening stalled the GUI {open_ms:.0f} ms"
    assert gap_ms < MAX_GAP_MS, f"re-encoding stalled the GUI {gap_ms:.0f} ms (median of 3)"
