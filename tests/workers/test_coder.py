"""The session's coder: the same bytes as the encoder, with what qualities share made once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rawjpeg_gui.core import codec, container, metrics, rawio, search
from rawjpeg_gui.core.errors import CancelledError
from rawjpeg_gui.workers import coder as coder_module
from rawjpeg_gui.workers import encoder_process, jobs
from rawjpeg_gui.workers.coder import ImageCoder, LocalCoder
from rawjpeg_gui.workers.encoder_process import EncoderProcess


@pytest.fixture(scope="module")
def raw(small_raw_path: Path) -> rawio.RawImage:
    return rawio.read_raw(small_raw_path)


def test_encodes_the_encoders_bytes_searching_once_per_band(raw: rawio.RawImage):
    coder = ImageCoder(raw)
    for q in (55, 58, 40):  # 55 and 58 share the band of 60
        assert coder.encode(q).jpeg == codec.encode_image(raw, q).jpeg
    assert coder.searches == 2


def test_a_model_without_a_search_codes_its_own_prediction(raw: rawio.RawImage):
    from dataclasses import replace

    from rawjpeg_gui.core.model import AdapterModel

    model = AdapterModel()  # the bundled network, its rate weight taken away: never searched
    model.info = replace(model.info, rate_weight=None)
    coder = ImageCoder(raw, model)
    assert coder.encode(45).jpeg == codec.encode_image(raw, 45, model).jpeg
    assert coder.searches == 1 and coder.known_choice(45) is None


def test_the_preview_reuses_the_search_and_never_runs_it(raw: rawio.RawImage, monkeypatch):
    coder = ImageCoder(raw)
    chosen = coder.encode(62).operator_quality  # the band of 60 is searched
    used: list[object] = []
    forward = coder_module.fastops.forward_uint8
    monkeypatch.setattr(
        coder_module.fastops, "forward_uint8", lambda i, p: used.append(p) or forward(i, p)
    )

    def no_search(*_a: object, **_k: object) -> None:
        raise AssertionError("the preview must not search")

    monkeypatch.setattr(search, "search", no_search)
    shown = coder.preview(58, 0.0, 1.0)
    assert max(shown.display.shape[:2]) <= 1024 and shown.quality == 58
    model = coder.model
    want = container.quantise(search.predict(model, coder.inputs(), chosen).params)
    assert np.array_equal(used[0].lut, want.lut)
    # Before its band is searched, a quality's preview uses the model's own prediction.
    coder.preview(30, 0.0, 1.0)
    own = container.quantise(search.predict(model, coder.inputs(), 30).params)
    assert np.array_equal(used[1].lut, own.lut)


def test_the_coding_is_the_decoders_reconstruction(raw: rawio.RawImage):
    coded = ImageCoder(raw).code(47, 0.0, 1.0)
    back = codec.decode_bytes(coded.jpeg)  # with the fingerprint check
    assert back.pixel_check == "intact"
    assert np.array_equal(coded.reconstruction.data, back.raw.data)
    assert coded.psnr is None


def test_the_coding_writes_its_reconstruction_into_the_given_array(raw: rawio.RawImage):
    out = np.full(raw.data.shape, np.nan, np.float32)
    coded = ImageCoder(raw).code(47, 0.0, 1.0, out=out)
    assert coded.reconstruction.data is out  # written there, not copied there
    assert coded.jpeg == codec.encode_image(raw, 47).jpeg
    assert np.array_equal(out, codec.decode_bytes(coded.jpeg).raw.data)


def test_a_superseded_inverse_stops_before_its_next_band(raw: rawio.RawImage):
    params = container.quantise(codec.encode_image(raw, 50).params)
    pixels = np.full(raw.data.shape, 128, np.uint8)
    out = np.full(raw.data.shape, np.nan, np.float32)
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) > 1:
            raise CancelledError("superseded")

    with pytest.raises(CancelledError):
        codec.fastops.inverse_uint8(pixels, params, threads=1, out=out, check=check)
    band = codec.fastops.BAND_ROWS
    assert not np.isnan(out[:band]).any() and np.isnan(out[band:]).all()
    whole = codec.fastops.inverse_uint8(pixels, params, out=out)
    assert whole is out and np.array_equal(out, codec.fastops.inverse_uint8(pixels, params))


def test_the_child_writes_the_reconstruction_into_the_shared_block(raw: rawio.RawImage):
    from multiprocessing import shared_memory

    size = raw.data.nbytes
    image = shared_memory.SharedMemory(create=True, size=size)
    block = shared_memory.SharedMemory(create=True, size=size)
    try:
        np.ndarray(raw.data.shape, np.float32, buffer=image.buf)[:] = raw.data
        coded = encoder_process._code_shared(
            image.name, raw.data.shape, raw.meta, None, 47, 0.0, 1.0, block.name
        )
        kept = encoder_process._CHILD["coded"].reconstruction.data
        attached = encoder_process._CHILD["out"][1]  # the child's mapping of the block
        mapped = np.ndarray(raw.data.shape, np.float32, buffer=attached.buf)
        assert np.shares_memory(kept, mapped)  # the inverse wrote the block itself
        view = np.ndarray(raw.data.shape, np.float32, buffer=block.buf)
        assert coded.jpeg == codec.encode_image(raw, 47).jpeg
        assert np.array_equal(view, codec.decode_bytes(coded.jpeg).raw.data)
        del kept, mapped, view
    finally:
        for key in ("coded", "image", "out"):
            held = encoder_process._CHILD.pop(key, None)
            if key != "coded" and held is not None:
                del held
        for shm in (image, block):
            try:
                shm.close()
            except BufferError:
                pass
            shm.unlink()


def test_measuring_with_the_kept_small_images_changes_nothing(shared_raw: Path):
    raw = rawio.read_raw(shared_raw / "dcc_canon_g2_0304.crw")  # larger than the preview
    coder = ImageCoder(raw)
    coded = coder.code(47, 0.5, 1.3)
    fast, plain = coder.measure(coded), jobs.measure(coded, raw)
    assert (fast.psnr, fast.ssim, fast.error_vmax) == (plain.psnr, plain.ssim, plain.error_vmax)
    assert np.array_equal(fast.error, plain.error)
    assert np.array_equal(fast.error_display, plain.error_display)
    redone = jobs.unmeasured(coded.jpeg, codec.decode_bytes(coded.jpeg), 0.5, 1.3, 0.0)
    assert np.array_equal(coded.display, redone.display)


def test_a_superseded_request_stops(raw: rawio.RawImage):
    local = LocalCoder()
    stale = local.supersede()
    local.supersede()
    with pytest.raises(CancelledError):
        local.code(raw, 50, 0.0, 1.0, stale)
    with pytest.raises(CancelledError):
        local.preview(raw, 50, 0.0, 1.0, stale)


def test_a_request_superseded_during_its_encode_stops_before_the_fingerprint(
    raw: rawio.RawImage, monkeypatch
):
    coder = ImageCoder(raw)
    coder.prediction(50)  # the band's search, before the encode is watched
    superseded = []
    forward = codec.fastops.forward_uint8

    def forward_then_supersede(*args: object, **kwargs: object) -> object:
        superseded.append(True)  # a newer request arrives while the operators run
        return forward(*args, **kwargs)

    def check() -> None:
        if superseded:
            raise CancelledError("superseded")

    monkeypatch.setattr(codec.fastops, "forward_uint8", forward_then_supersede)
    monkeypatch.setattr(codec.fingerprint, "compute", _forbidden)
    with pytest.raises(CancelledError):
        coder.code(50, 0.0, 1.0, check)


@pytest.mark.slow
def test_the_child_codes_and_measures_what_this_process_would(raw: rawio.RawImage, monkeypatch):
    local = LocalCoder()
    want = local.measure(local.code(raw, 66, 0.0, 1.0), raw)
    encoder = EncoderProcess(min_pixels=0)
    try:
        # The app's process decodes, renders and measures nothing: the child does it all.
        for name in ("decode_bytes", "encode_image", "encode_with_params"):
            monkeypatch.setattr(codec, name, _forbidden)
        monkeypatch.setattr(metrics, "ssim", _forbidden)
        monkeypatch.setattr(jobs.display, "render", _forbidden)
        shown = encoder.preview(raw, 66, 0.0, 1.0)
        coded = encoder.code(raw, 66, 0.0, 1.0)
        got = encoder.measure(coded, raw)
        assert encoder.used_child and shown.quality == 66
        assert got.jpeg == want.jpeg
        assert np.array_equal(got.reconstruction.data, want.reconstruction.data)
        assert got.reconstruction.data.flags.owndata  # its own array, not the shared block
        assert np.array_equal(got.display, want.display)
        # BLAS dot products add in an order that depends on the arrays' alignment in memory.
        assert (got.psnr, got.ssim) == pytest.approx((want.psnr, want.ssim), rel=1e-12)
        assert np.array_equal(got.error, want.error)
        with pytest.raises(CancelledError):
            encoder.code(raw, 20, 0.0, 1.0, encoder.supersede() - 1)
        # The child yields the cores to the app's threads.
        niceness = encoder._executor.submit(os.nice, 0).result()
        assert niceness == min(19, os.nice(0) + encoder_process.CHILD_NICENESS)
    finally:
        encoder.close()


def _forbidden(*_a: object, **_k: object) -> None:
    raise AssertionError("the app's process must leave this to the child")
