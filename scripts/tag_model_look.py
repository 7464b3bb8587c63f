"""Mark an exported adapter model with the look it was trained for (``rawjpeg.look``).

Usage: ``python scripts/tag_model_look.py MODEL.onnx photo``. A model trained on
camera-normalised images (``make_training_data.py --normalise``) must say ``photo`` so
the encoder normalises before it; the file is rewritten atomically.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    """Tag the model."""
    import onnx

    if len(sys.argv) != 3 or sys.argv[2] not in ("photo", "raw"):
        sys.exit(__doc__)
    path = Path(sys.argv[1])
    model = onnx.load(str(path))
    props = {p.key: p for p in model.metadata_props}
    if "rawjpeg.look" in props:
        props["rawjpeg.look"].value = sys.argv[2]
    else:
        entry = model.metadata_props.add()
        entry.key, entry.value = "rawjpeg.look", sys.argv[2]
    tmp = path.with_suffix(".tmp")
    onnx.save(model, str(tmp))
    os.replace(tmp, path)
    print(f"{path.name}: rawjpeg.look = {sys.argv[2]}")


if __name__ == "__main__":
    main()
