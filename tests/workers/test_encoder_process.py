"""The child-process encoder gives the same bytes as encoding in-process."""

from __future__ import annotations

from pathlib import Path

from rawjpeg_gui.core import codec, rawio
from rawjpeg_gui.core.errors import CancelledError
from rawjpeg_gui.workers import jobs
from rawjpeg_gui.workers.encoder_process import EncoderProcess


def test_child_encode_matches_in_process(kdc: Path):
    raw = rawio.read_raw(kdc)
    encoder = EncoderProcess(min_pixels=0)
    try:
        first = encoder(raw, 55)
        again = encoder(raw, 80)  # same shared image, new quality
        assert encoder.used_child
        assert first == codec.encode_image(raw, 55).jpeg
        assert codec.decode_bytes(again).quality == 80
        gen = jobs.code_image(raw, 30, encoder=encoder)
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


def test_small_images_stay_in_process(kdc: Path):
    raw = rawio.read_raw(kdc)
    encoder = EncoderProcess()  # default threshold is far above 1.3 MP
    assert encoder(raw, 70) == codec.encode_image(raw, 70).jpeg
    assert not encoder.used_child
    encoder.close()
