"""The child-process encoder gives the same bytes as encoding in-process."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from rawjpeg_gui.core import codec, rawio
from rawjpeg_gui.core.errors import CancelledError
from rawjpeg_gui.workers import encoder_process, jobs
from rawjpeg_gui.workers.encoder_process import EncoderProcess


def _never_answers(*args: object) -> bytes:
    """Stands in for the child's encode: a child that hangs."""
    time.sleep(600)
    return b""


@pytest.mark.slow
def test_child_encode_matches_in_process(kdc: Path):
    raw = rawio.read_raw(kdc)
    encoder = EncoderProcess(min_pixels=0)
    try:
        first = encoder(raw, 55)
        again = encoder(raw, 80)  # same shared image, new quality
        assert encoder.used_child
        assert first == codec.encode_image(raw, 55).jpeg
        assert codec.decode_bytes(again).quality == 80
        gen = jobs.code_image(raw, 30, coder=encoder)
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                coded = stop.value
                break
        assert coded.quality == 30 and coded.psnr > 30
    finally:
        encoder.close()
    try:
        encoder(raw, 50)
    except CancelledError:
        pass
    else:
        raise AssertionError("a closed encoder must refuse work")


@pytest.mark.slow
def test_small_images_stay_in_process(kdc: Path):
    raw = rawio.read_raw(kdc)
    encoder = EncoderProcess()  # default threshold is far above 1.3 MP
    assert encoder(raw, 70) == codec.encode_image(raw, 70).jpeg
    assert not encoder.used_child
    encoder.close()


@pytest.mark.slow
def test_a_child_that_never_answers_is_stopped_and_the_image_encoded_here(kdc: Path, monkeypatch):
    raw = rawio.read_raw(kdc)
    monkeypatch.setattr(encoder_process, "_encode_shared", _never_answers)
    encoder = EncoderProcess(min_pixels=0, timeout_s=3.0)
    start = time.monotonic()
    try:
        jpeg = encoder(raw, 60)
    finally:
        encoder.close()
    elapsed = time.monotonic() - start
    assert jpeg == codec.encode_image(raw, 60).jpeg
    assert not encoder.used_child
    assert elapsed < 60, f"the hung child held the encode {elapsed:.0f} s"
    # The child was stopped, not left to the interpreter's exit (which would wait on it).
    processes = [p for p in multiprocessing.active_children() if p.is_alive()]
    assert not processes, processes


def test_start_runs_the_child_and_loads_its_model_before_the_first_request(kdc: Path):
    encoder = EncoderProcess(min_pixels=0)
    try:
        encoder.start()
        executor = encoder._executor
        assert executor is not None
        warm = executor.submit(encoder_process._child_model_loaded)
        assert warm.result(timeout=120)  # loaded by start(), before any request
        pids = set(executor._processes)
        encoder.start()  # a second start changes nothing
        raw = rawio.read_raw(kdc)
        assert encoder(raw, 60) == codec.encode_image(raw, 60).jpeg
        assert encoder.used_child and encoder._executor is executor
        assert set(executor._processes) == pids
    finally:
        encoder.close()
    encoder.start()  # closed: nothing starts
    assert encoder._executor is None
