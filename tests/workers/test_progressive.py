"""Progressive answers and caches of the ImageSession, on real raws and real threads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rawjpeg_gui.workers import caches
from rawjpeg_gui.workers.pool import TaskPool
from rawjpeg_gui.workers.session import ImageSession, describe_error


@pytest.fixture
def g2(shared_raw: Path) -> Path:
    """A 4 MP Canon PowerShot G2 raw."""
    return shared_raw / "dcc_canon_g2_0304.crw"


@pytest.fixture
def session(qapp, tmp_path):
    pools = [TaskPool(n, 1) for n in ("load", "code", "rd", "preview")]
    s = ImageSession(
        *pools[:3], debounce_ms=50, auto_rd=False, preview_pool=pools[3],
        rd_cache=caches.RDCache(tmp_path / "rd"),
    )  # fmt: skip
    yield s
    s.cancel()
    for p in pools:
        p.wait_for_done(30000)


def test_a_quality_change_answers_proxy_then_full_then_numbers(qtbot, session, g2: Path):
    with qtbot.waitSignal(session.measured, timeout=60000):
        session.open(g2)
    order: list[tuple[str, int, bool]] = []
    sides: list[int] = []
    session.previewed.connect(lambda p: order.append(("preview", p.quality, False)))
    session.previewed.connect(lambda p: sides.append(max(p.display.shape[:2])))
    session.coded.connect(lambda c: order.append(("coded", c.quality, c.psnr is not None)))
    with qtbot.waitSignal(session.measured, timeout=60000):
        session.set_quality(30)
    assert order[0] == ("preview", 30, False)
    assert order[1] == ("coded", 30, False)  # full resolution, before the numbers
    assert order[-1] == ("coded", 30, True)
    assert sides and max(sides) <= 1024


def test_superseded_qualities_are_dropped_and_revisits_come_from_memory(qtbot, session, kdc):
    with qtbot.waitSignal(session.measured, timeout=60000):
        session.open(kdc)
    first = session.current
    shown: list[int] = []
    session.previewed.connect(lambda p: shown.append(p.quality))
    session.coded.connect(lambda c: shown.append(c.quality))
    for q in (20, 40, 60):
        session.set_quality(q, immediate=True)
    qtbot.waitUntil(lambda: session.current.quality == 60 and session.current.psnr, timeout=60000)
    qtbot.wait(200)
    assert set(shown) == {60}
    # Back to the first quality: the measured coding comes from the memory cache at once.
    t0 = time.perf_counter()
    with qtbot.waitSignal(session.measured, timeout=1000) as blocker:
        session.set_quality(first.quality)
    assert blocker.args[0] is first and time.perf_counter() - t0 < 0.2


def test_reopening_an_image_is_instant(qtbot, session, kdc, g2):
    with qtbot.waitSignal(session.measured, timeout=60000):
        session.open(kdc)
    with qtbot.waitSignal(session.measured, timeout=60000):
        session.open(g2)
    t0 = time.perf_counter()
    with qtbot.waitSignal(session.measured, timeout=1000):
        session.open(kdc)
    assert time.perf_counter() - t0 < 0.2
    assert session.image.path == kdc


def test_memory_cache_keeps_within_its_budget():
    import numpy as np

    cache = caches.MemoryCache(budget_bytes=3000)
    for i in range(5):
        cache.put(i, np.zeros(1000, np.uint8))
    assert cache.used <= 3000 and cache.get(0) is None and cache.get(4) is not None
    cache.put("huge", np.zeros(5000, np.uint8))
    assert cache.get("huge") is None


def test_rd_curve_is_on_the_full_image_kept_on_disk_and_marks_the_inspector_bpp(
    qtbot, session, kdc, tmp_path
):
    with qtbot.waitSignal(session.measured, timeout=60000):
        session.open(kdc)
    with qtbot.waitSignal(session.rd_finished, timeout=120000):
        session.compute_rd()
    points = list(session.rd_points)
    assert len(points) == 18
    adapter = {p.quality: p for p in points if p.method == "adapter"}
    # The curve's q70 point is the inspector's q70 coding: same bits per pixel.
    with qtbot.waitSignal(session.measured, timeout=60000) as blocker:
        session.set_quality(70)
    assert blocker.args[0].bpp == pytest.approx(adapter[70].bpp, rel=1e-9)
    assert blocker.args[0].psnr == pytest.approx(adapter[70].psnr, abs=1e-3)
    assert list((tmp_path / "rd").glob("*.json"))
    t0 = time.perf_counter()
    with qtbot.waitSignal(session.rd_finished, timeout=5000):
        session.compute_rd()
    assert time.perf_counter() - t0 < 1.0 and len(session.rd_points) == 18


def test_rd_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RAWJPEG_CACHE_DIR", str(tmp_path / "c"))
    assert caches.RDCache().folder == tmp_path / "c" / "rd"


def test_messages_are_one_sentence_naming_the_file(tmp_path):
    from rawjpeg_gui.core.errors import RawDecodeError

    text = describe_error(
        RawDecodeError("LibRaw could not read it: b'Input/output error'"), tmp_path / "bad.crw"
    )
    assert "b'" not in text and "bad.crw" in text and text.endswith(".")
    assert text.count(".") <= 2


def test_releasing_the_slider_starts_the_full_coding_without_waiting(qtbot, qapp, kdc, tmp_path):
    pools = [TaskPool(n, 1) for n in ("load", "code", "rd")]
    s = ImageSession(*pools, debounce_ms=60_000, auto_rd=False, rd_cache=caches.RDCache(tmp_path))
    try:
        with qtbot.waitSignal(s.measured, timeout=60000):
            s.open(kdc)
        s.set_quality(33)  # dragging: the full coding would wait a minute
        with qtbot.waitSignal(s.measured, timeout=50_000) as blocker:
            s.set_quality(33, immediate=True)  # released
        assert blocker.args[0].quality == 33
    finally:
        s.cancel()
        for p in pools:
            p.wait_for_done(30000)
