"""ImageSession on real threads: open, debounced re-coding, stale results, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rawjpeg_gui.core.errors import CancelledError
from rawjpeg_gui.workers.pool import TaskPool
from rawjpeg_gui.workers.session import ImageSession


@pytest.fixture
def session(qapp):
    pools = [TaskPool(n, 1) for n in ("load", "code", "rd")]
    s = ImageSession(*pools, debounce_ms=50, auto_rd=False)
    yield s
    s.cancel()
    for p in pools:
        p.wait_for_done(20000)


@pytest.mark.slow
def test_open_codes_at_the_current_quality(qtbot, session, kdc: Path):
    session.quality = 40
    with qtbot.waitSignal(session.loaded, timeout=30000):
        session.open(kdc)
    with qtbot.waitSignal(session.coded, timeout=30000) as blocker:
        pass
    coded = blocker.args[0]
    assert coded.quality == 40 and session.current is coded


@pytest.mark.slow
def test_quality_changes_are_debounced_and_only_the_last_is_shown(qtbot, session, kdc: Path):
    with qtbot.waitSignal(session.coded, timeout=30000):
        session.open(kdc)
    shown: list[int] = []
    session.measured.connect(lambda c: shown.append(c.quality))
    for q in (10, 20, 30, 40, 55):
        session.set_quality(q)
    qtbot.waitUntil(lambda: 55 in shown, timeout=30000)
    qtbot.wait(300)
    assert shown == [55]


@pytest.mark.slow
def test_a_newer_quality_supersedes_a_running_job(qtbot, session, kdc: Path):
    with qtbot.waitSignal(session.coded, timeout=30000):
        session.open(kdc)
    shown: list[int] = []
    session.measured.connect(lambda c: shown.append(c.quality))
    session.set_quality(15, immediate=True)
    session.set_quality(85, immediate=True)
    qtbot.waitUntil(lambda: 85 in shown, timeout=30000)
    qtbot.wait(300)
    assert shown == [85]


@pytest.mark.slow
def test_rd_curve_streams_points(qtbot, session, kdc: Path):
    with qtbot.waitSignal(session.coded, timeout=30000):
        session.open(kdc)
    points: list[object] = []
    session.rd_point.connect(points.append)
    with qtbot.waitSignal(session.rd_finished, timeout=60000):
        session.compute_rd()
    assert len(points) == 18 and {p.method for p in points} == {"adapter", "gamma22", "linear"}


def test_a_corrupt_file_fails_with_one_sentence(qtbot, session, tmp_path: Path):
    bad = tmp_path / "broken.nef"
    bad.write_bytes(b"\x00" * 2048)
    with qtbot.waitSignal(session.failed, timeout=30000) as blocker:
        session.open(bad)
    path, message = blocker.args
    assert path == str(bad) and "broken.nef" in message and message.endswith(".")
    assert session.image is None


@pytest.mark.slow
def test_exposure_and_full_resolution_rerender(qtbot, session, kdc: Path):
    with qtbot.waitSignal(session.coded, timeout=30000):
        session.open(kdc)
    preview = session.image.display
    with qtbot.waitSignal(session.rendered, timeout=30000) as blocker:
        session.set_exposure(1.0)
    views = blocker.args[0]
    assert not views.full and views.original.mean() > preview.mean()
    with qtbot.waitSignal(session.rendered, timeout=30000) as blocker:
        session.request_full_resolution()
    views = blocker.args[0]
    assert views.full and views.original.shape[:2] == (kdc_height(session), kdc_width(session))
    assert views.reconstruction.shape == views.original.shape


def kdc_width(session) -> int:
    return session.image.size[0]


def kdc_height(session) -> int:
    return session.image.size[1]


def test_each_new_quality_supersedes_the_coders_requests(qtbot, qapp, kdc: Path):
    from rawjpeg_gui.workers.coder import LocalCoder
    from rawjpeg_gui.workers.pool import SynchronousPool

    class Recording(LocalCoder):
        def __init__(self) -> None:
            super().__init__()
            self.asked: list[tuple[str, int, int | None]] = []

        def preview(self, raw, quality, ev, gain, generation=None):  # type: ignore[no-untyped-def]
            self.asked.append(("preview", quality, generation))
            return super().preview(raw, quality, ev, gain, generation)

        def code(self, raw, quality, ev, gain, generation=None):  # type: ignore[no-untyped-def]
            self.asked.append(("code", quality, generation))
            return super().code(raw, quality, ev, gain, generation)

    coder = Recording()
    pools = [SynchronousPool(n) for n in ("load", "code", "rd", "preview")]
    s = ImageSession(*pools[:3], auto_rd=False, encoder=coder, preview_pool=pools[3])
    s.open(kdc)
    s.set_quality(33, immediate=True)
    s.set_quality(66, immediate=True)
    generations = {q: {g for _, qq, g in coder.asked if qq == q} for q in (33, 66)}
    assert len(generations[33]) == len(generations[66]) == 1  # preview and coding share one
    assert generations[66].pop() > generations[33].pop() and s.current.quality == 66
    with pytest.raises(CancelledError):  # the older request's generation is stale
        coder.code(s.image.original, 33, 0.0, 1.0, min(g for _, _, g in coder.asked))
