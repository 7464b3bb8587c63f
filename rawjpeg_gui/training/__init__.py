"""Training of rawjpeg's own quality-conditioned adapter network (needs the 'train' extra).

Modules:
    torch_ops: the adapter operators in torch (held to ``core.operators`` by tests).
    jpeg_sim: a differentiable JPEG simulator with a bit-rate estimate.
    network: the adapter network (thumbnail + quality -> LUT, gamma map, JPEG tables).
    data: the patch cache built from real raws and unprocessed photographs.
    loss: rate-distortion loss on the reconstructed linear raw.
    train: the training loop (checkpoints, resume, CSV log, DDP, bf16).
    export: ONNX export with the model contract's metadata.
    evaluate: a quick real-JPEG (Pillow) rate-distortion evaluation and BD-rate.
    variants, ablate: architecture variants and the ablation harness.
    research: variants that have not shipped (spatially-varying LUT and its format
        version 2, extra image inputs), kept out of the runtime core.

Not in the runtime wheel: run it from a source checkout (``pip install -e ".[train]"``).

Run ``python -m rawjpeg_gui.training --config rawjpeg_gui/training/configs/default.toml``.
Nothing outside this package imports it; it imports only ``rawjpeg_gui.core``.
"""
