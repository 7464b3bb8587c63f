"""The spatially-varying LUT: K tone curves blended by low-resolution weight maps.

Invertible at every pixel, exact through the file (format version 2), computed alike by
the specification, the fast band-wise path and the encoder's probe lattice, and
suspicious of tampered curves and weights.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from rawjpeg_gui.core import codec, container, fastops, jpeg, operators, search
from rawjpeg_gui.core.errors import CorruptParameters, UnsupportedVersion
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.metrics import psnr
from rawjpeg_gui.core.params import AdapterParams, sanitize


def mix_params(curves: int = 3, bins: int = 64, side: int = 8, dct: bool = False, seed: int = 0) -> AdapterParams:
    """A shadow-lifting, a neutral and a highlight-keeping curve, blended across the frame."""
    rng = np.random.default_rng(seed)
    knots = np.linspace(0.0, 1.0, bins)
    powers = [0.3, 0.45, 0.7, 0.55, 0.35, 0.6, 0.4, 0.5][:curves]
    luts = np.stack([np.stack([knots**p, knots ** (p * 1.1), knots ** (p * 0.9)]) for p in powers])
    u, v = np.mgrid[0:8, 0:8]
    return sanitize(
        luts[0],
        rng.uniform(0.7, 1.3, (16, 16)),
        np.stack([1.0 + 0.03 * (u + v)] * 3) if dct else None,
        luts[1:],
        rng.random((curves, side, side)) ** 2,
    )


def record(params: AdapterParams) -> container.AdapterRecord:
    return container.AdapterRecord(params, 640, 480, 75, "4:2:0", "mix-test", RawMeta())


def test_every_pixel_has_its_own_strictly_increasing_curve() -> None:
    params = mix_params()
    h, w = 40, 60
    ramp = np.linspace(0.0, 1.0, 257, dtype=np.float32)
    img = np.broadcast_to(ramp[:, None, None, None], (257, h, w, 3)).reshape(257 * h, w, 3)
    # The same ramp at every pixel position: each pixel's curve rises along the ramp.
    out = operators.apply_lut_mix(
        img, params.luts, np.tile(operators.mix_weights(params.lut_mix, h, w), (1, 257, 1))
    ).reshape(257, h, w, 3)
    assert np.all(np.diff(out, axis=0) > 0)
    # ... and the curves differ across the frame (the weights are not constant).
    assert np.ptp(out[128], axis=(0, 1)).min() > 0.01


@pytest.mark.parametrize("curves", [2, 3])
def test_inverse_is_exact_without_jpeg(small_raw, curves) -> None:  # type: ignore[no-untyped-def]
    params = mix_params(curves)
    raw = small_raw.data[:256, :320]
    back = operators.inverse(operators.forward(raw, params), params)
    assert np.abs(back - np.clip(raw, 0, 1)).max() < 1e-5


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (130, 97)])
@pytest.mark.parametrize("dct", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_fast_paths_match_the_specification(shape, dct, threads) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    raw = np.round(rng.random((*shape, 3)) * 65535).astype(np.float32) / 65535
    params = mix_params(dct=dct, seed=shape[0])
    fast = fastops.forward_uint8(raw, params, threads)
    spec = codec.to_uint8(operators.forward(raw, params))
    diff = np.abs(fast.astype(int) - spec)
    # The fast path evaluates each curve on the 16-bit input grid: rounding at .5 only.
    assert diff.max() <= 1 and np.mean(diff > 0) < 5e-3
    back_fast = fastops.inverse_uint8(fast, params, threads)
    back_spec = operators.inverse(fast.astype(np.float32) / 255, params)
    assert np.abs(back_fast - back_spec).max() < 1e-4


def test_probe_lattice_sees_what_the_whole_image_sees(small_raw) -> None:  # type: ignore[no-untyped-def]
    params = container.quantise(mix_params())
    image = small_raw.data
    at = search.probe_lattice(*image.shape[:2], pixels=1 << 15)
    assert at is not None
    whole = fastops.forward_uint8(image, params)
    probe = fastops.forward_uint8(image[np.ix_(at.rows, at.cols)], params, at=at)
    assert np.array_equal(probe, whole[np.ix_(at.rows, at.cols)])
    back = fastops.inverse_uint8(probe, params, at=at)
    assert np.allclose(back, fastops.inverse_uint8(whole, params)[np.ix_(at.rows, at.cols)], atol=1e-6)


def test_real_raw_through_the_file_is_exact_and_written_as_version_2(small_raw) -> None:  # type: ignore[no-untyped-def]
    params = mix_params()
    res = codec.encode_with_params(small_raw, 90, params, None, "4:2:0", "mix-test")
    rec = codec.decode_bytes(res.jpeg)
    assert rec.record.version == container.MIX_FORMAT_VERSION
    for name in ("lut", "lut_basis", "lut_mix", "gamma_map"):
        assert np.array_equal(getattr(rec.record.params, name), getattr(res.params, name)), name
    # The decoder inverts exactly what the encoder applied: only JPEG's loss remains.
    ideal = fastops.inverse_uint8(res.adapted, res.params)
    decoded = fastops.inverse_uint8(jpeg.decode_jpeg(res.jpeg), res.params)
    assert np.array_equal(decoded, rec.raw.data)
    assert psnr(ideal, np.clip(small_raw.data, 0, 1)) > 50
    assert psnr(rec.raw.data, np.clip(small_raw.data, 0, 1)) > 35


def test_files_without_a_mix_stay_version_1(small_raw, analytic_model) -> None:  # type: ignore[no-untyped-def]
    data = codec.encode_image(small_raw, 50, analytic_model).jpeg
    assert codec.read_record(data).version == container.FORMAT_VERSION == 1


def test_stored_weights_are_exact_and_requantising_changes_nothing() -> None:
    for curves in (2, 3, 8):
        q = container.quantise(mix_params(curves))
        assert np.array_equal(container.quantise(q).lut_mix, q.lut_mix)
        back = container.decode_segment(container.encode_segment(record(q))).params
        assert np.array_equal(back.lut_mix, q.lut_mix)
        assert np.array_equal(back.lut_basis, q.lut_basis)
        assert np.abs(q.lut_mix.sum(axis=0) - 1).max() < 1e-6


def test_a_reader_of_version_1_only_refuses_the_file(monkeypatch) -> None:
    body = container.encode_segment(record(container.quantise(mix_params())))
    monkeypatch.setattr(container, "SUPPORTED_VERSIONS", (1,))
    with pytest.raises(UnsupportedVersion, match="version 2"):
        container.decode_segment(body)


def _records(params: AdapterParams, version: int | None = None, **replace: bytes | None) -> bytes:
    """A segment body with some records replaced (None: removed), CRC fixed up."""
    body = container.encode_segment(record(container.quantise(params)))
    head = len(container.IDENTIFIER)
    recs = container._split_records(body[head + 10 :])
    tags = {"basis": 6, "mix": 7, "lut": 3}
    for name, new in replace.items():
        if new is None:
            recs.pop(tags[name])
        else:
            recs[tags[name]] = new
    records = b"".join(struct.pack("<BI", t, len(b)) + b for t, b in recs.items())
    v = body[head] if version is None else version
    return container.IDENTIFIER + struct.pack("<BBII", v, 0, len(records), zlib.crc32(records)) + records


def _mix_body(q: np.ndarray) -> bytes:
    return struct.pack("<BHH", *q.shape) + zlib.compress(q.astype(np.uint8).tobytes())


@pytest.mark.parametrize(
    "version, replace, match",
    [
        (1, {}, "version 1 parameter segment holds version 2"),
        (None, {"mix": None}, "misses its curves or its weights"),
        (None, {"basis": None}, "misses its curves or its weights"),
        # weights that do not sum to 255 (1) at a position
        (None, {"mix": _mix_body(np.full((3, 8, 8), 80))}, "do not sum to 1"),
        # three curves declared by the LUT and basis, two weight maps stored
        (None, {"mix": _mix_body(np.full((2, 8, 8), 127))}, "wrong shape"),
        # weight map beyond the size cap
        (None, {"mix": struct.pack("<BHH", 3, 65, 1) + zlib.compress(b"\x55" * 195)}, "wrong shape"),
        # an extra curve that is not increasing
        (None, {"basis": b"\x01" + struct.pack("<BH", 3, 64) + zlib.compress(b"\0\0" * 192)}, "not strictly increasing"),
        # extra curves cut short
        (None, {"basis": b"\x02" + struct.pack("<BH", 3, 64)}, "truncated|damaged"),
        # a curve count that the rest of the record does not hold
        (None, {"basis": b"\x05"}, "truncated"),
        (None, {"basis": b"\x00"}, "wrong size"),
    ],
)
def test_tampered_mix_records_are_refused(version, replace, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CorruptParameters, match=match):
        container.decode_segment(_records(mix_params(), version, **replace))


def test_extra_curves_must_match_the_lut() -> None:
    p = mix_params(bins=64)
    with pytest.raises(CorruptParameters, match="LUT's shape"):
        AdapterParams(p.lut, p.gamma_map, None, p.lut_basis[:, :, :32], p.lut_mix)
    with pytest.raises(CorruptParameters, match="sum to 1"):
        AdapterParams(p.lut, p.gamma_map, None, p.lut_basis, p.lut_mix * 1.5)
    with pytest.raises(CorruptParameters, match="both"):
        AdapterParams(p.lut, p.gamma_map, None, p.lut_basis, None)
