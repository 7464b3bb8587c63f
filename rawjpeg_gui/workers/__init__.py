"""Background work: the only package that owns threads.

How an image gets on screen:

1. The window asks the :class:`~rawjpeg_gui.workers.session.ImageSession` to open a
   path. The session runs :func:`~rawjpeg_gui.workers.jobs.load_image` on the *load*
   pool: the raw (or adapter-JPEG, reconstructed, plus the raw beside it) is read
   and a display preview is rendered with :mod:`rawjpeg_gui.core.display`.
2. A quality change is debounced (250 ms) and runs
   :func:`~rawjpeg_gui.workers.jobs.code_image` as a generator on the *code* pool:
   encode, decode, metrics, display preview, error map; it checks its abort flag
   between steps, and results of an older request are dropped.
3. The rate-distortion curve streams one point per ``yielded`` signal.
4. Thumbnails come from :class:`~rawjpeg_gui.workers.thumbnails.ThumbnailLoader`
   (embedded preview or reduced JPEG decode, cached on disk).

Only numpy arrays and dataclasses leave a worker; QImage/QPixmap are made in the GUI.
Pools are :class:`~rawjpeg_gui.workers.pool.TaskPool` objects; tests pass a
:class:`~rawjpeg_gui.workers.pool.SynchronousPool` to make everything deterministic.
"""
