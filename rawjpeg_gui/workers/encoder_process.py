"""Encode raws in a child process, so the encoder never stalls the GUI thread.

libjpeg (through Pillow) holds the GIL for the whole encode of an in-memory JPEG
(about half a second for 18 MP), and the encoder's operating-point search is Python
that holds it for most of an encode at any size: meanwhile the GUI thread waits for
the GIL at every event. Images from ``min_pixels`` up (the window sends all of them)
are therefore encoded by one persistent child process: the linear image is copied
once per image into shared memory, each quality request sends only its name, and
the child returns the adapter-JPEG's bytes. Smaller images, or any trouble with the
child, fall back to encoding on the calling thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory
from typing import Any, TypeVar

import numpy as np

from rawjpeg_gui.core import codec, evaluate
from rawjpeg_gui.core.errors import CancelledError
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.rawio import RawImage

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Images with at least this many pixels are encoded in the child process.
DEFAULT_MIN_PIXELS = 8_000_000
#: Seconds to wait for the child's answer (an 18 MP encode takes about half a second; a
#: child that has not started or answered by then is stopped and the image encoded here).
DEFAULT_CHILD_TIMEOUT_S = 120.0


def _encode_shared(name: str, shape: tuple[int, ...], meta: RawMeta, quality: int) -> bytes:
    """Child side: encode the image in shared memory ``name``; return the JPEG bytes."""
    shm = shared_memory.SharedMemory(name=name)
    try:
        data = np.ndarray(shape, np.float32, buffer=shm.buf)
        jpeg = codec.encode_image(RawImage(data, meta), quality).jpeg
        del data
        return jpeg
    finally:
        shm.close()


def _rd_point_shared(
    name: str, shape: tuple[int, ...], meta: RawMeta, method: str, quality: int
) -> evaluate.RDPoint:
    """Child side: one rate-distortion point of the image in shared memory ``name``."""
    shm = shared_memory.SharedMemory(name=name)
    try:
        data = np.ndarray(shape, np.float32, buffer=shm.buf)
        point = evaluate.code_point(
            RawImage(data, meta), method, quality, with_ssim=False, whole_file=True
        )[0]
        del data
        return point
    finally:
        shm.close()


def _shm_has_room(size: int) -> bool:
    """On Linux, /dev/shm must hold the image (a full tmpfs would kill us with SIGBUS)."""
    if not os.path.isdir("/dev/shm"):
        return True
    st = os.statvfs("/dev/shm")
    return st.f_bavail * st.f_frsize > size * 1.25


class EncoderProcess:
    """Callable ``(raw, quality) -> adapter-JPEG bytes``, using a child for large images.

    Attributes:
        min_pixels: images at least this large go to the child process.
        used_child: True once an encode ran in the child (for tests and logs).
    """

    def __init__(
        self, min_pixels: int = DEFAULT_MIN_PIXELS, timeout_s: float = DEFAULT_CHILD_TIMEOUT_S
    ) -> None:
        self.min_pixels = min_pixels
        self.timeout_s = timeout_s
        self.used_child = False
        self._executor: ProcessPoolExecutor | None = None
        self._shm: shared_memory.SharedMemory | None = None
        self._shared_for: int | None = None
        self._broken = False
        self._closed = False

    def __call__(self, raw: RawImage, quality: int) -> bytes:
        """Encode ``raw`` at ``quality`` (runs on a worker thread; blocks it, not the GUI)."""
        return self._run(
            raw,
            lambda: codec.encode_image(raw, quality).jpeg,
            _encode_shared,
            quality,
        )

    def code_point(self, raw: RawImage, method: str, quality: int) -> evaluate.RDPoint:
        """One rate-distortion point of ``raw`` (``evaluate.code_point`` without SSIM,
        the adapter's rate counting the whole file as the inspector does)."""
        return self._run(
            raw,
            lambda: evaluate.code_point(raw, method, quality, with_ssim=False, whole_file=True)[0],
            _rd_point_shared,
            method,
            quality,
        )

    def _run(self, raw: RawImage, here: Callable[[], T], child: Callable[..., T], *args: Any) -> T:
        """``child(shm name, shape, meta, *args)`` in the child for large images, else ``here()``."""
        if self._closed:
            raise CancelledError("The app is closing; the encode was cancelled.")
        if self._broken or raw.width * raw.height < self.min_pixels:
            return here()
        try:
            name = self._share(raw)
            if self._executor is None:
                ctx = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
            future = self._executor.submit(child, name, raw.data.shape, raw.meta, *args)
            result = future.result(timeout=self.timeout_s)
            self.used_child = True
            return result
        except Exception as exc:  # a broken child must not break coding
            if self._closed:
                raise CancelledError("The app is closing; the encode was cancelled.") from None
            log.warning("encoding in a child process failed (%s); encoding in-process", exc)
            self._broken = True
            self._stop()
            return here()

    def _share(self, raw: RawImage) -> str:
        key = id(raw.data)
        if self._shm is not None and self._shared_for == key:
            return self._shm.name
        self._release()
        data = np.ascontiguousarray(raw.data, np.float32)
        if not _shm_has_room(data.nbytes):
            raise OSError("not enough shared memory for the image")
        self._shm = shared_memory.SharedMemory(create=True, size=max(1, data.nbytes))
        np.copyto(np.ndarray(data.shape, np.float32, buffer=self._shm.buf), data)
        self._shared_for = key
        return self._shm.name

    def _release(self) -> None:
        if self._shm is not None:
            try:
                self._shm.close()
                self._shm.unlink()
            except (OSError, BufferError):
                pass
            self._shm, self._shared_for = None, None

    def close(self) -> None:
        """Free the shared memory and stop the child (safe to call more than once)."""
        self._closed = True
        self._stop()

    def _stop(self) -> None:
        self._release()
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # A child that hangs must not hang us: its pool's manager thread (joined when the
        # interpreter exits) waits for it, so stop it outright rather than ask it to finish.
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(5)
            if process.is_alive():
                process.kill()
