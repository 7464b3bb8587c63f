"""How fast the app answers, measured on the real window with real thread pools.

For each raw: open it (time to the first view of the original), move the quality
slider three times (time to the first updated reconstruction - the screen-sized
proxy or the full image, whichever comes first -, to the full-resolution
reconstruction, and to the measured numbers), then open another image and come back
(time to the full, measured view of an image seen this session). A 5 ms timer on the
GUI thread records the longest event-loop gap throughout. Prints one table; targets
in the last column.

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_latency.py [RAW ...]

Without arguments: the Canon G2 and S40 CRWs (4 MP) and the Sony ARW (18 MP).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RAWS = (
    ROOT.parent / "shared" / "data" / "raw" / "dcc_canon_g2_0304.crw",
    ROOT.parent / "shared" / "data" / "raw" / "dcc_canon_s40_0119.crw",
    ROOT / ".test-data" / "_DSC2164.ARW",
)
#: Targets (seconds) for 4 MP and 18 MP raws: first view, full view, reopen, open.
TARGETS = {
    "slider -> first view": (0.3, 0.6),
    "slider -> full resolution": (1.2, 2.5),
    "reopen -> full view": (0.2, 0.2),
    "open -> first view": (1.0, 2.0),
}
QUALITIES = (40, 55, 70)


def _wait(app, done, timeout: float = 300.0) -> None:  # type: ignore[no-untyped-def]
    end = time.perf_counter() + timeout
    while not done():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() > end:
            raise TimeoutError("the window did not answer in time")


def record(window) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """A dict that the session's signals fill with the time each first arrived."""
    s = window.session
    events: dict[str, float] = {}
    s.loaded.connect(lambda *_: events.setdefault("loaded", time.perf_counter()))
    s.previewed.connect(lambda *_: events.setdefault("first", time.perf_counter()))
    s.coded.connect(lambda c: events.setdefault("first", time.perf_counter()))
    s.coded.connect(lambda c: events.setdefault("full", time.perf_counter()))
    s.measured.connect(lambda c: events.setdefault("measured", time.perf_counter()))
    return events


def measure(app, window, events: dict[str, float], raw: Path, other: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds for each step on ``raw`` (``other`` is opened in between for the reopen)."""
    out: dict[str, list[float]] = {k: [] for k in TARGETS}
    out["slider -> numbers"] = []

    events.clear()
    t0 = time.perf_counter()
    window.open_file(raw)
    _wait(app, lambda: "measured" in events)
    out["open -> first view"].append(events["loaded"] - t0)
    for q in QUALITIES:
        events.clear()
        t0 = time.perf_counter()
        window.quality.slider.setValue(q)
        _wait(app, lambda: "measured" in events)
        out["slider -> first view"].append(events["first"] - t0)
        out["slider -> full resolution"].append(events["full"] - t0)
        out["slider -> numbers"].append(events["measured"] - t0)
    events.clear()
    window.open_file(other)
    _wait(app, lambda: "measured" in events)
    events.clear()
    t0 = time.perf_counter()
    window.open_file(raw)
    _wait(app, lambda: "measured" in events)
    out["reopen -> full view"].append(events["measured"] - t0)
    return {k: statistics.median(v) for k, v in out.items()}


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = tempfile.mkdtemp(prefix="rawjpeg-bench-")
    os.environ["RAWJPEG_CONFIG_DIR"] = tmp
    os.environ["RAWJPEG_CACHE_DIR"] = tmp
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from rawjpeg_gui.gui.main_window import MainWindow

    raws = [Path(a) for a in argv] or [p for p in DEFAULT_RAWS if p.is_file()]
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.session.auto_rd = False  # the curve is background work; measure the answers
    window.resize(1400, 900)
    window.show()
    events = record(window)
    gap = {"max": 0.0, "last": time.perf_counter()}

    def tick() -> None:
        now = time.perf_counter()
        gap["max"] = max(gap["max"], now - gap["last"])
        gap["last"] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.2f} on {os.cpu_count()} CPUs")
    print(f"{'raw':28s} {'MP':>5s} {'step':28s} {'seconds':>8s} {'target':>7s}")
    for raw in raws:
        other = next(p for p in DEFAULT_RAWS if p != raw and p.is_file())
        window.open_file(other)  # warm the model and the pools outside the measurement
        _wait(
            app,
            lambda: window.session.current is not None and window.session.current.psnr is not None,
        )
        window.session.memory.clear()  # nothing measured comes from an earlier round
        window.session.images.clear()
        gap["max"], gap["last"] = 0.0, time.perf_counter()
        timer.start()
        result = measure(app, window, events, raw, other)
        timer.stop()
        w, h = window.session.image.size
        mp = w * h / 1e6
        big = mp > 8
        for step, seconds in result.items():
            target = TARGETS.get(step, (None, None))[big]
            mark = "" if target is None else f"{target:.1f}" + ("" if seconds <= target else " !")
            print(f"{raw.name:28s} {mp:5.1f} {step:28s} {seconds:8.3f} {mark:>7s}")
        print(
            f"{raw.name:28s} {mp:5.1f} {'event-loop max gap (ms)':28s} {gap['max'] * 1000:8.1f} {'50':>7s}"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at end: {load:.2f}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
