"""Build ``models/analytic-gamma22.onnx``: the analytic reference adapter (no learning).

It ignores its inputs and always predicts a global gamma-1/2.2 tone curve per
channel and a flat gamma map (exponent 1), with the IJG quantisation tables. It is
exactly "JPEG of the gamma-1/2.2 image" packaged as an adapter model, and serves as
a baseline and as a fallback when no trained model is installed. It is NOT a
trained network.

Usage: python scripts/build_analytic_model.py [-o models/analytic-gamma22.onnx]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

THUMB = 64
BINS = 129


def build() -> onnx.ModelProto:
    knots = np.linspace(0.0, 1.0, BINS)
    lut = np.tile(knots ** (1.0 / 2.2), (1, 3, 1)).astype(np.float32)
    gamma = np.ones((1, 1, 1), np.float32)
    nodes = [
        helper.make_node("Constant", [], ["lut"], value=numpy_helper.from_array(lut, "lut_value")),
        helper.make_node(
            "Constant", [], ["gamma_map"], value=numpy_helper.from_array(gamma, "gamma_value")
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "analytic_gamma22",
        [
            helper.make_tensor_value_info("thumbnail", TensorProto.FLOAT, [1, 3, THUMB, THUMB]),
            helper.make_tensor_value_info("quality", TensorProto.FLOAT, [1, 1]),
        ],
        [
            helper.make_tensor_value_info("lut", TensorProto.FLOAT, [1, 3, BINS]),
            helper.make_tensor_value_info("gamma_map", TensorProto.FLOAT, [1, 1, 1]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {
        "rawjpeg.format": "rawjpeg-adapter",
        "rawjpeg.version": "1",
        "rawjpeg.thumbnail_size": str(THUMB),
        "rawjpeg.lut_bins": str(BINS),
        "rawjpeg.gamma_map_size": "1x1",
        "rawjpeg.quality_min": "1",
        "rawjpeg.quality_max": "100",
        "rawjpeg.operators": "lut,gamma",
        "rawjpeg.qtables": "ijg",
        "rawjpeg.subsampling": "4:4:4",
        "rawjpeg.name": "analytic-gamma22",
        "rawjpeg.description": "Analytic baseline: global gamma 1/2.2 LUT, flat gamma map. Not trained.",
    }
    onnx.helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent.parent / "models" / "analytic-gamma22.onnx"
    parser.add_argument("-o", "--output", type=Path, default=default)
    args = parser.parse_args()
    onnx.save(build(), args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
