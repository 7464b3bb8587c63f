"""The ONNX model runtime: loads our models, refuses ones it does not understand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from realdata import ROOT

from rawjpeg_gui.core.errors import ModelError
from rawjpeg_gui.core.model import AdapterModel, default_model_path, make_thumbnail


def test_analytic_model_predicts_gamma22(analytic_model: AdapterModel) -> None:
    thumb = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)
    pred = analytic_model.predict_thumbnail(thumb, 75)
    knots = np.linspace(0, 1, 129)
    assert np.allclose(pred.params.lut[1], knots ** (1 / 2.2), atol=1e-5)
    assert np.allclose(pred.params.gamma_map, 1.0) and pred.qtables is None


def test_default_model_exists() -> None:
    path = default_model_path()
    assert path.is_file()
    AdapterModel(path)


def _with_props(tmp_path: Path, **changes: str) -> Path:
    model = onnx.load(ROOT / "models" / "analytic-gamma22.onnx")
    props = {p.key: p.value for p in model.metadata_props}
    props.update(changes)
    onnx.helper.set_model_props(model, props)
    out = tmp_path / "m.onnx"
    onnx.save(model, out)
    return out


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"rawjpeg.format": "something-else"}, "not a rawjpeg adapter"),
        ({"rawjpeg.version": "7"}, "version 7"),
        ({"rawjpeg.operators": "lut,warp"}, "operators"),
        ({"rawjpeg.lut_bins": "many"}, "malformed"),
        ({"rawjpeg.quality_min": "90", "rawjpeg.quality_max": "10"}, "quality range"),
        ({"rawjpeg.rate_weight": "0.2,4.2"}, "malformed"),
        ({"rawjpeg.rate_weight": "0.2,-4.2,2.5"}, "impossible rate weight"),
        ({"rawjpeg.rate_weight": "0.2,nan,2.5"}, "impossible rate weight"),
    ],
)
def test_models_we_do_not_understand_are_refused(tmp_path: Path, changes, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match=message):
        AdapterModel(_with_props(tmp_path, **changes))


def test_garbage_and_missing_model_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a readable ONNX"):
        AdapterModel(bad)
    with pytest.raises(ModelError, match="does not exist"):
        AdapterModel(tmp_path / "absent.onnx")


def test_thumbnail_is_an_exact_area_average() -> None:
    img = np.random.default_rng(1).random((90, 60, 3)).astype(np.float32)
    t = make_thumbnail(img, 3)
    assert np.allclose(t[0, 0], img[:30, :20].mean(axis=(0, 1)), atol=1e-5)
    assert np.allclose(t.mean(axis=(0, 1)), img.mean(axis=(0, 1)), atol=1e-5)
