"""Research variants that the shipped model does not use.

The runtime core (:mod:`rawjpeg_gui.core`) carries only what a shipped model needs;
variants that the ablations tried and did not fold in live here, so the ablation
harness can still train, export and evaluate them (results: ``models/ABLATIONS.md``).
A variant moves into the core in the change that ships it.

Modules:
    inputs: extra image inputs (per-channel maximum, noise level, capture metadata).
    lutmix: the spatially-varying LUT (parameters and numpy operators).
    mixfile: parameter-segment format version 2 and an encoder/decoder for it.
    model: an ONNX runtime that feeds the extra inputs and reads the extra outputs.
"""
