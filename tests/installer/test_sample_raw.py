"""The shipped sample raw is the DNG that scripts/make_sample_raw.py describes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from rawjpeg_gui.selftest import sample_raw_path

ROOT = Path(__file__).resolve().parents[2]


def _load_script():  # type: ignore[no-untyped-def]
    script = ROOT / "scripts" / "make_sample_raw.py"
    spec = importlib.util.spec_from_file_location("make_sample_raw", script)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_sample_is_small_and_a_cfa_dng() -> None:
    import tifffile

    path = sample_raw_path()
    assert path.stat().st_size < 2_000_000
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        tags = {tag.code: tag.value for tag in page.tags.values()}
    assert int(tags[262]) == 32803  # CFA
    assert tuple(tags[33421]) == (2, 2)
    assert bytes(tags[33422]) == b"\x00\x01\x01\x02"  # RGGB
    assert bytes(tags[50706]) == b"\x01\x04\x00\x00"  # DNG 1.4
    assert tags[271] == "rawjpeg" and tags[272] == "Synthetic sample"
    assert tags[50714] == 512 and tags[50717] == 16383
    assert tags[50778] == 21  # D65
    matrix = np.array(tags[50721], dtype=float).reshape(9, 2)
    expected = _load_script().XYZ_TO_CAMERA_5D2.ravel()
    np.testing.assert_allclose(matrix[:, 0] / matrix[:, 1], expected)


def test_libraw_reads_it_as_camera_raw() -> None:
    from rawjpeg_gui.core.rawio import read_raw

    raw = read_raw(sample_raw_path())
    assert raw.data.shape == (512, 512, 3)
    assert raw.meta.cfa_pattern == "RGGB"
    assert raw.meta.white_level == 16383 and raw.meta.black_levels[0] == 512
    np.testing.assert_allclose(raw.meta.as_shot_wb, [2.574, 1.0, 1.387], atol=0.01)
    assert 0.05 < float(raw.data.mean()) < 0.5 and float(raw.data.max()) < 0.95  # headroom


@pytest.mark.slow
def test_camera_white_balance_renders_the_photo() -> None:
    import rawpy  # a runtime dependency: never skipped

    skdata = pytest.importorskip("skimage.data")
    with rawpy.imread(str(sample_raw_path())) as raw:
        rgb = raw.postprocess(use_camera_wb=True, no_auto_bright=True, bright=1.0 / 0.8)
    ref = skdata.astronaut()[..., :3].astype(float)
    err = np.abs(rgb.astype(float) - ref)
    assert float(np.median(err)) < 12.0  # same picture, same colours (8-bit levels)
    assert np.corrcoef(rgb.reshape(-1, 3).T.ravel(), ref.reshape(-1, 3).T.ravel())[0, 1] > 0.97


def test_script_rebuilds_the_same_sample(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("skimage")
    import tifffile

    out = tmp_path / "astronaut.dng"
    assert _load_script().main(["-o", str(out)]) == 0

    def block_means(path: Path) -> np.ndarray:
        cfa = tifffile.imread(path).astype(float)
        return cfa.reshape(32, 16, 32, 16).mean(axis=(1, 3))

    # Noise (fixed seed) averages out, so this holds even if numpy's normal stream changes.
    np.testing.assert_allclose(block_means(out), block_means(sample_raw_path()), atol=20.0)
