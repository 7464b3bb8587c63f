"""TaskPool / GeneratorWorker: results, progress, errors and abort reach the GUI thread."""

from __future__ import annotations

import threading
import time

from rawjpeg_gui.workers.pool import GeneratorWorker, SynchronousPool, TaskPool


def _steps(n: int, delay: float = 0.0):
    for i in range(n):
        if delay:
            time.sleep(delay)
        yield i
    return "done"


def test_run_task_posts_result_to_gui_thread(qtbot):
    pool = TaskPool("test", 1)
    seen: dict[str, object] = {}
    gui = threading.get_ident()

    def work():
        seen["worker_thread"] = threading.get_ident()
        return 42

    def done(value):
        seen["value"] = value
        seen["callback_thread"] = threading.get_ident()

    pool.run_task(work, done)
    qtbot.waitUntil(lambda: "value" in seen, timeout=5000)
    assert seen["value"] == 42
    assert seen["worker_thread"] != gui and seen["callback_thread"] == gui
    qtbot.waitUntil(lambda: not pool.active, timeout=2000)


def test_generator_worker_yields_and_returns(qtbot):
    pool = TaskPool("test", 1)
    worker = GeneratorWorker(_steps, 3)
    got: list[int] = []
    worker.signals.yielded.connect(got.append)
    with qtbot.waitSignal(worker.signals.returned, timeout=5000) as blocker:
        pool.start(worker)
    assert blocker.args == ["done"]
    qtbot.waitUntil(lambda: got == [0, 1, 2], timeout=2000)


def test_errors_are_reported_not_raised(qtbot):
    pool = TaskPool("test", 1)

    def boom():
        raise ValueError("broken on purpose")

    errors: list[BaseException] = []
    pool.run_task(boom, None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ValueError)


def test_abort_stops_a_generator_between_steps(qtbot):
    pool = TaskPool("test", 1)
    worker = GeneratorWorker(_steps, 1000, 0.005)
    got: list[int] = []
    returned: list[object] = []
    worker.signals.yielded.connect(got.append)
    worker.signals.returned.connect(returned.append)
    with qtbot.waitSignal(worker.signals.finished, timeout=10000):
        pool.start(worker)
        qtbot.waitUntil(lambda: len(got) >= 2, timeout=5000)
        worker.abort()
    assert len(got) < 1000 and not returned


def test_synchronous_pool_runs_at_once(qapp):
    pool = SynchronousPool("sync")
    out: list[object] = []
    progress: list[object] = []
    pool.run_task(lambda: _steps(2), out.append, None, progress.append)
    assert out == ["done"] and progress == [0, 1] and not pool.active


def test_worker_run_directly_emits_finished(qtbot):
    worker = GeneratorWorker(lambda: 1)
    with qtbot.waitSignal(worker.signals.finished, timeout=1000):
        worker.run()


def test_a_job_aborted_while_queued_never_runs(qtbot):
    pool = TaskPool("test", 1)
    ran: list[int] = []
    blocker = GeneratorWorker(_steps, 50, 0.01)
    pool.start(blocker)  # occupies the only thread
    queued = pool.run_task(lambda: ran.append(1))
    queued.abort()
    blocker.abort()
    assert pool.wait_for_done(10000)
    qtbot.wait(50)
    assert ran == []
