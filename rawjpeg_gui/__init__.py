"""rawjpeg: store camera raw photos as ordinary JPEG files and bring the raw back.

Packages, in the direction of the import rule (``app -> gui -> workers -> core``):

* :mod:`rawjpeg_gui.core` - Qt-free engine: raw input, adapter model, operators,
  container, codec, metrics, batch export.
* :mod:`rawjpeg_gui.cli` - the ``rawjpeg`` command over the core.
* :mod:`rawjpeg_gui.workers` - the only place that owns threads.
* :mod:`rawjpeg_gui.gui` - PySide6 widgets and pyqtgraph plots.
* :mod:`rawjpeg_gui.app` - wiring for the desktop app.
* :mod:`rawjpeg_gui.training` - PyTorch training (optional extra).
"""

__version__ = "0.1.0"
