"""The research spatially-varying LUT: K tone curves blended by low-resolution weight maps.

Invertible at every pixel, exact through the file (format version 2, which the core
refuses), and suspicious of tampered curves and weights.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from rawjpeg_gui.core import codec, container, jpeg
from rawjpeg_gui.core.errors import CorruptParameters, UnsupportedVersion
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.metrics import psnr
from rawjpeg_gui.training.research import lutmix, mixfile
from rawjpeg_gui.training.research.lutmix import MixParams, sanitize_mix


def mix_params(
    curves: int = 3, bins: int = 64, side: int = 8, dct: bool = False, seed: int = 0
) -> MixParams:
    """A shadow-lifting, a neutral and a highlight-keeping curve, blended across the frame."""
    rng = np.random.default_rng(seed)
    knots = np.linspace(0.0, 1.0, bins)
    powers = [0.3, 0.45, 0.7, 0.55, 0.35, 0.6, 0.4, 0.5][:curves]
    luts = np.stack([np.stack([knots**p, knots ** (p * 1.1), knots ** (p * 0.9)]) for p in powers])
    u, v = np.mgrid[0:8, 0:8]
    return sanitize_mix(
        luts[0],
        rng.uniform(0.7, 1.3, (16, 16)),
        np.stack([1.0 + 0.03 * (u + v)] * 3) if dct else None,
        luts[1:],
        rng.random((curves, side, side)) ** 2,
    )


def record(params: MixParams) -> container.AdapterRecord:
    return container.AdapterRecord(params, 640, 480, 75, "4:2:0", "mix-test", RawMeta())


def test_every_pixel_has_its_own_strictly_increasing_curve() -> None:
    params = mix_params()
    h, w = 40, 60
    ramp = np.linspace(0.0, 1.0, 257, dtype=np.float32)
    img = np.broadcast_to(ramp[:, None, None, None], (257, h, w, 3)).reshape(257 * h, w, 3)
    # The same ramp at every pixel position: each pixel's curve rises along the ramp.
    out = lutmix.apply_lut_mix(
        img, params.luts, np.tile(lutmix.mix_weights(params.lut_mix, h, w), (1, 257, 1))
    ).reshape(257, h, w, 3)
    assert np.all(np.diff(out, axis=0) > 0)
    # ... and the curves differ across the frame (the weights are not constant).
    assert np.ptp(out[128], axis=(0, 1)).min() > 0.01


@pytest.mark.parametrize("curves", [2, 3])
def test_inverse_is_exact_without_jpeg(small_raw, curves) -> None:  # type: ignore[no-untyped-def]
    params = mix_params(curves)
    raw = small_raw.data[:256, :320]
    back = lutmix.inverse(lutmix.forward(raw, params), params)
    assert np.abs(back - np.clip(raw, 0, 1)).max() < 1e-5


def _encode(raw, quality: int, params: MixParams) -> tuple[bytes, MixParams, np.ndarray]:  # type: ignore[no-untyped-def]
    """A version 2 adapter-JPEG of ``raw`` with ``params`` (quantised as the file stores them)."""
    q = mixfile.quantise(params)
    adapted = codec.to_uint8(lutmix.forward(raw.data, q))
    rec = container.AdapterRecord(q, raw.width, raw.height, quality, "4:2:0", "mix-test", raw.meta)
    return (
        jpeg.encode_jpeg(adapted, quality, "4:2:0", None, raw.meta, mixfile.encode_segment(rec)),
        q,
        adapted,
    )


def test_real_raw_through_the_file_is_exact_and_written_as_version_2(small_raw, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data, q, adapted = _encode(small_raw, 90, mix_params())
    rec = mixfile.decode_bytes(data)
    assert rec.record.version == mixfile.MIX_FORMAT_VERSION
    for name in ("lut", "lut_basis", "lut_mix", "gamma_map"):
        assert np.array_equal(getattr(rec.record.params, name), getattr(q, name)), name
    # The decoder inverts exactly what the encoder applied: only JPEG's loss remains.
    ideal = lutmix.inverse(adapted.astype(np.float32) / 255, q)
    assert psnr(ideal, np.clip(small_raw.data, 0, 1)) > 50
    assert psnr(rec.raw.data, np.clip(small_raw.data, 0, 1)) > 35
    # The runtime core refuses the file with one sentence naming it.
    path = tmp_path / "mixed.jpg"
    path.write_bytes(data)
    with pytest.raises(
        UnsupportedVersion,
        match=r"^mixed\.jpg holds rawjpeg parameters of format version 2, and this rawjpeg reads only version 1\.$",
    ):
        codec.decode_file(path)


def test_files_without_a_mix_stay_version_1(small_raw, analytic_model) -> None:  # type: ignore[no-untyped-def]
    data = mixfile.encode_image(small_raw, 50, analytic_model).jpeg
    assert codec.read_record(data).version == container.FORMAT_VERSION == 1
    assert np.array_equal(mixfile.decode_bytes(data).raw.data, codec.decode_bytes(data).raw.data)


def test_stored_weights_are_exact_and_requantising_changes_nothing() -> None:
    for curves in (2, 3, 8):
        q = mixfile.quantise(mix_params(curves))
        assert np.array_equal(mixfile.quantise(q).lut_mix, q.lut_mix)
        back = mixfile.decode_segment(mixfile.encode_segment(record(q))).params
        assert isinstance(back, MixParams)
        assert np.array_equal(back.lut_mix, q.lut_mix)
        assert np.array_equal(back.lut_basis, q.lut_basis)
        assert np.abs(q.lut_mix.sum(axis=0) - 1).max() < 1e-6


def test_the_core_reader_refuses_version_2() -> None:
    body = mixfile.encode_segment(record(mixfile.quantise(mix_params())))
    with pytest.raises(UnsupportedVersion, match="format version 2"):
        container.decode_segment(body)


def _records(params: MixParams, **replace: bytes | None) -> bytes:
    """A segment body with some records replaced (None: removed), CRC fixed up."""
    body = mixfile.encode_segment(record(mixfile.quantise(params)))
    head = len(container.IDENTIFIER)
    recs = container._split_records(body[head + 10 :])
    tags = {"basis": 6, "mix": 7, "lut": 3}
    for name, new in replace.items():
        if new is None:
            recs.pop(tags[name])
        else:
            recs[tags[name]] = new
    records = b"".join(struct.pack("<BI", t, len(b)) + b for t, b in recs.items())
    return container.sign_records(records, mixfile.MIX_FORMAT_VERSION)


def _mix_body(q: np.ndarray) -> bytes:
    return struct.pack("<BHH", *q.shape) + zlib.compress(q.astype(np.uint8).tobytes())


@pytest.mark.parametrize(
    "replace, match",
    [
        ({"mix": None}, "misses its curves or its weights"),
        ({"basis": None}, "misses its curves or its weights"),
        # weights that do not sum to 255 (1) at a position
        ({"mix": _mix_body(np.full((3, 8, 8), 80))}, "do not sum to 1"),
        # three curves declared by the LUT and basis, two weight maps stored
        ({"mix": _mix_body(np.full((2, 8, 8), 127))}, "wrong shape"),
        # weight map beyond the size cap
        ({"mix": struct.pack("<BHH", 3, 65, 1) + zlib.compress(b"\x55" * 195)}, "wrong shape"),
        # an extra curve that is not increasing
        (
            {"basis": b"\x01" + struct.pack("<BH", 3, 64) + zlib.compress(b"\0\0" * 192)},
            "not strictly increasing",
        ),
        # extra curves cut short
        ({"basis": b"\x02" + struct.pack("<BH", 3, 64)}, "truncated|damaged"),
        # a curve count that the rest of the record does not hold
        ({"basis": b"\x05"}, "truncated"),
        ({"basis": b"\x00"}, "wrong size"),
    ],
)
def test_tampered_mix_records_are_refused(replace, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CorruptParameters, match=match):
        mixfile.decode_segment(_records(mix_params(), **replace))


def test_extra_curves_must_match_the_lut() -> None:
    p = mix_params(bins=64)
    with pytest.raises(CorruptParameters, match="LUT's shape"):
        MixParams(p.lut, p.gamma_map, None, p.lut_basis[:, :, :32], p.lut_mix)
    with pytest.raises(CorruptParameters, match="sum to 1"):
        MixParams(p.lut, p.gamma_map, None, p.lut_basis, p.lut_mix * 1.5)
    with pytest.raises(CorruptParameters, match="curves, h, w"):
        MixParams(p.lut, p.gamma_map, None, p.lut_basis)
