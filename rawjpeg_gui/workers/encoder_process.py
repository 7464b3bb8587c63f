"""Code raws in a child process, so the coding never stalls the GUI thread.

libjpeg (through Pillow) holds the GIL for the whole encode of an in-memory JPEG
(about half a second for 18 MP), the encoder's operating-point search is Python
that holds it for most of an encode at any size, and decoding, rendering and SSIM
hold it for much of theirs: meanwhile the GUI thread waits for the GIL at every
event. Images from ``min_pixels`` up (the window sends all of them) are therefore
coded by one persistent child process that keeps a
:class:`~rawjpeg_gui.workers.coder.ImageCoder` of the current image. The linear image
is copied once per image into shared memory; each request sends only its name and
the quality. The child answers with the adapter-JPEG's bytes, the proxy's preview,
or the coding (its reconstruction written into a second shared block, which the
caller copies out into an array whose pages were touched while the child worked) and
then its measurements. Every request carries a generation:
:meth:`EncoderProcess.supersede` makes the older ones stop at the child's next step.
Smaller images, or any trouble with the child, fall back to a
:class:`~rawjpeg_gui.workers.coder.LocalCoder` on the calling thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import shared_memory
from typing import Any, TypeVar

import numpy as np

from rawjpeg_gui.core import codec, evaluate
from rawjpeg_gui.core.errors import CancelledError
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.rawio import RawImage

from . import jobs
from .coder import ImageCoder, LocalCoder, measured_fields
from .preview import PreviewImage

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Images with at least this many pixels are encoded in the child process.
DEFAULT_MIN_PIXELS = 8_000_000
#: How much lower the child's scheduling priority is than the app's (Unix ``nice``): when
#: the GUI thread wakes up it gets a core at once, while an idle machine still gives the
#: child every cycle the app does not use.
CHILD_NICENESS = 5
#: Seconds to wait for the child's answer (an 18 MP encode takes about half a second; a
#: child that has not started or answered by then is stopped and the image encoded here).
DEFAULT_CHILD_TIMEOUT_S = 120.0


# -- the child's side --------------------------------------------------------------------

#: The child's state: its generation counter, the shared blocks it has attached, and the
#: ImageCoder of the image in the input block.
_CHILD: dict[str, Any] = {}


def _attach(name: str) -> shared_memory.SharedMemory:
    """Attach the parent's block ``name`` (the parent unlinks it)."""
    return shared_memory.SharedMemory(name=name)


def _detach(shm: shared_memory.SharedMemory) -> None:
    """Close the child's mapping of a block it no longer uses."""
    try:
        shm.close()
    except BufferError:  # a view is still alive somewhere; the mapping goes with it
        pass


def _child_init(generation_name: str, niceness: int) -> None:
    """Child side: yield the cores to the app's own threads first (``niceness``), and
    attach the generation counter the parent bumps to supersede requests."""
    try:
        os.nice(niceness)
    except (AttributeError, OSError):  # no os.nice on Windows
        pass
    shm = _attach(generation_name)
    _CHILD["generation"] = (shm, np.ndarray((1,), np.int64, buffer=shm.buf))


def _child_warm() -> None:
    """Child side: load the model, so that the first request finds it ready."""
    codec.default_model()
    _CHILD["warm"] = True


def _child_model_loaded() -> bool:
    """Child side: whether :func:`_child_warm` has run in this child."""
    return bool(_CHILD.get("warm"))


def _child_check(generation: int | None) -> Callable[[], None]:
    def check() -> None:
        counter = _CHILD.get("generation")
        if generation is not None and counter is not None and counter[1][0] != generation:
            raise CancelledError("A newer request replaced this one.")

    return check


def _child_coder(name: str, shape: tuple[int, ...], meta: RawMeta) -> ImageCoder:
    """Child side: the ImageCoder of the image in block ``name`` (kept between requests)."""
    held = _CHILD.get("image")
    if held is not None and held[0] == name:
        return held[2]
    if held is not None:
        old = held[1]
        del held
        _CHILD.pop("image")
        _detach(old)
    shm = _attach(name)
    coder = ImageCoder(RawImage(np.ndarray(shape, np.float32, buffer=shm.buf), meta))
    _CHILD["image"] = (name, shm, coder)
    return coder


def _encode_shared(name: str, shape: tuple[int, ...], meta: RawMeta, quality: int) -> bytes:
    """Child side: the adapter-JPEG of the image in shared memory ``name`` at ``quality``."""
    return _child_coder(name, shape, meta).encode(quality).jpeg


def _preview_shared(
    name: str, shape: tuple[int, ...], meta: RawMeta, generation: int | None,
    quality: int, ev: float, gain: float,
) -> PreviewImage:  # fmt: skip
    """Child side: :meth:`ImageCoder.preview`."""
    check = _child_check(generation)
    check()
    return _child_coder(name, shape, meta).preview(quality, ev, gain, check)


def _code_shared(
    name: str, shape: tuple[int, ...], meta: RawMeta, generation: int | None,
    quality: int, ev: float, gain: float, out_name: str,
) -> jobs.CodedImage:  # fmt: skip
    """Child side: :meth:`ImageCoder.code`, whose inverse operators write the
    reconstruction into block ``out_name`` (the returned CodedImage's
    ``reconstruction`` keeps only its metadata)."""
    check = _child_check(generation)
    check()
    # The last coding's reconstruction is a view of the block about to be overwritten
    # (measuring that coding decodes its bytes again).
    _CHILD.pop("coded", None)
    out = _CHILD.get("out")
    if out is None or out[0] != out_name:
        if out is not None:
            _detach(out[1])
        out = (out_name, _attach(out_name))
        _CHILD["out"] = out
    block = np.ndarray(shape, np.float32, buffer=out[1].buf)
    # The inverse operators write the reconstruction straight into the block: no copy.
    coded = _child_coder(name, shape, meta).code(quality, ev, gain, check, out=block)
    recon = coded.reconstruction
    _CHILD["coded"] = coded
    return replace(coded, reconstruction=RawImage(np.zeros((0, 0, 3), np.float32), recon.meta))


def _measure_shared(
    name: str, shape: tuple[int, ...], meta: RawMeta, generation: int | None,
    quality: int, jpeg: bytes,
) -> dict[str, Any]:  # fmt: skip
    """Child side: the :func:`~rawjpeg_gui.workers.coder.measured_fields` of the coding
    ``jpeg`` (the last one coded, or decoded again) against the shared image."""
    check = _child_check(generation)
    check()
    coder = _child_coder(name, shape, meta)
    coded = _CHILD.pop("coded", None)  # measured once; its full-size image is not kept
    if coded is None or coded.jpeg != jpeg:
        recon = codec.decode_bytes(jpeg, check=False)
        blank = np.zeros((0, 0, 4), np.uint8)
        coded = jobs.CodedImage(
            quality, jpeg, recon.params, recon.record.model_name, recon.raw, blank
        )
    return measured_fields(coder.measure(coded, check))


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
    """Codes raws in a child process (large images) or on the calling thread (small ones).

    Called as ``(raw, quality) -> adapter-JPEG bytes``; :meth:`preview`, :meth:`code`
    and :meth:`measure` are the session's three answers (a
    :class:`~rawjpeg_gui.workers.jobs.Coder`). Safe to call from several threads.

    Attributes:
        min_pixels: images at least this large go to the child process.
        used_child: True once a request ran in the child (for tests and logs).
    """

    def __init__(
        self, min_pixels: int = DEFAULT_MIN_PIXELS, timeout_s: float = DEFAULT_CHILD_TIMEOUT_S
    ) -> None:
        self.min_pixels = min_pixels
        self.timeout_s = timeout_s
        self.used_child = False
        self.local = LocalCoder()
        self._lock = threading.RLock()
        self._out_lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._generation_shm: shared_memory.SharedMemory | None = None
        self._generation = 0
        self._shm: shared_memory.SharedMemory | None = None
        self._out: shared_memory.SharedMemory | None = None
        # The image in the block (the array itself: an id could be reused once it is freed).
        self._shared_for: np.ndarray | None = None
        self._broken = False
        self._closed = False

    def __call__(self, raw: RawImage, quality: int) -> bytes:
        """Encode ``raw`` at ``quality`` (runs on a worker thread; blocks it, not the GUI)."""
        return self._run(
            raw, lambda: self.local.coder_for(raw).encode(quality).jpeg, _encode_shared, quality
        )

    def start(self) -> None:
        """Start the child and load its model now, in the background (the first request
        otherwise waits for both); does nothing once started, broken or closed."""
        with self._lock:
            if self._executor is not None or self._broken or self._closed:
                return
            self._executor_now().submit(_child_warm)

    def supersede(self) -> int:
        """Make every request made so far stop at its next step; the new generation.

        Requests passed the returned number run; older ones raise
        :class:`~rawjpeg_gui.core.errors.CancelledError`.
        """
        # Not under the lock: the GUI thread calls this while a worker may be sharing an image.
        self._generation = generation = self.local.supersede()
        counter = self._generation_shm
        if counter is not None:
            np.ndarray((1,), np.int64, buffer=counter.buf)[0] = generation
        return generation

    def preview(
        self, raw: RawImage, quality: int, ev: float, gain: float, generation: int | None = None
    ) -> PreviewImage:
        """The proxy's reconstruction at ``quality`` (:meth:`ImageCoder.preview`)."""
        return self._run(
            raw,
            lambda: self.local.preview(raw, quality, ev, gain, generation),
            _preview_shared,
            generation, quality, ev, gain,
        )  # fmt: skip

    def code(
        self, raw: RawImage, quality: int, ev: float, gain: float, generation: int | None = None
    ) -> jobs.CodedImage:
        """The unmeasured coding at ``quality`` (:meth:`ImageCoder.code`)."""
        if self._in_thread(raw):
            return self.local.code(raw, quality, ev, gain, generation)
        with self._out_lock:  # one reconstruction in the output block at a time
            out_name = self._output_block(raw)
            # The reconstruction's own array is made ready while the child codes (its
            # pages touched, where a fresh array's page faults would cost most of the copy,
            # while the child runs its one-core steps), so copying out is one pass
            # through memory once the child answers.
            dest = _Prefaulted(raw.data.shape)
            coded = self._run(
                raw,
                lambda: self.local.code(raw, quality, ev, gain, generation),
                _code_shared,
                generation, quality, ev, gain, out_name,
            )  # fmt: skip
            if coded.reconstruction.data.size:  # coded on this thread after all
                return coded
            data = dest.result()
            with self._lock:
                out = self._out
                if out is None or out.name != out_name:
                    raise CancelledError("The app is closing; the coding was cancelled.")
                np.copyto(data, np.ndarray(raw.data.shape, np.float32, buffer=out.buf))
        return replace(coded, reconstruction=RawImage(data, coded.reconstruction.meta))

    def measure(
        self, coded: jobs.CodedImage, raw: RawImage, generation: int | None = None
    ) -> jobs.CodedImage:
        """``coded`` with PSNR, SSIM and the error maps against ``raw``."""
        t0 = time.perf_counter()
        fields = self._run(
            raw,
            lambda: measured_fields(self.local.measure(coded, raw, generation)),
            _measure_shared,
            generation, coded.quality, coded.jpeg,
        )  # fmt: skip
        return replace(coded, **fields, seconds=coded.seconds + time.perf_counter() - t0)

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

    def _in_thread(self, raw: RawImage) -> bool:
        if self._closed:
            raise CancelledError("The app is closing; the encode was cancelled.")
        return self._broken or raw.width * raw.height < self.min_pixels

    def _executor_now(self) -> ProcessPoolExecutor:
        if self._executor is None:
            if self._generation_shm is None:
                self._generation_shm = shared_memory.SharedMemory(create=True, size=8)
            counter = np.ndarray((1,), np.int64, buffer=self._generation_shm.buf)
            counter[0] = self._generation
            ctx = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=ctx, initializer=_child_init,
                initargs=(self._generation_shm.name, CHILD_NICENESS),
            )  # fmt: skip
        return self._executor

    def _run(self, raw: RawImage, here: Callable[[], T], child: Callable[..., T], *args: Any) -> T:
        """``child(shm name, shape, meta, *args)`` in the child for large images, else ``here()``."""
        if self._in_thread(raw):
            return here()
        try:
            with self._lock:
                name = self._share(raw)
                future = self._executor_now().submit(child, name, raw.data.shape, raw.meta, *args)
            result = future.result(timeout=self.timeout_s)
            self.used_child = True
            return result
        except CancelledError:
            raise
        except Exception as exc:  # a broken child must not break coding
            if self._closed:
                raise CancelledError("The app is closing; the encode was cancelled.") from None
            log.warning("coding in a child process failed (%s); coding in-process", exc)
            with self._lock:
                self._broken = True
                self._stop()
            return here()

    def _share(self, raw: RawImage) -> str:
        if self._shm is not None and self._shared_for is raw.data:
            return self._shm.name
        self._release()
        data = np.ascontiguousarray(raw.data, np.float32)
        if not _shm_has_room(data.nbytes):
            raise OSError("not enough shared memory for the image")
        self._shm = shared_memory.SharedMemory(create=True, size=max(1, data.nbytes))
        np.copyto(np.ndarray(data.shape, np.float32, buffer=self._shm.buf), data)
        self._shared_for = raw.data
        return self._shm.name

    def _output_block(self, raw: RawImage) -> str:
        """The block the child writes ``raw``'s reconstruction into (made once per size)."""
        with self._lock:
            size = max(1, raw.data.size * 4)
            if self._out is None or self._out.size < size:
                self._release_output()
                if not _shm_has_room(size):
                    raise OSError("not enough shared memory for the reconstruction")
                self._out = shared_memory.SharedMemory(create=True, size=size)
            return self._out.name

    def _release_output(self) -> None:
        if self._out is not None:
            _unlink(self._out)
            self._out = None

    def _release(self) -> None:
        if self._shm is not None:
            _unlink(self._shm)
            self._shm, self._shared_for = None, None

    def close(self) -> None:
        """Free the shared memory and stop the child (safe to call more than once)."""
        self._closed = True
        with self._lock:
            self._stop()
            if self._generation_shm is not None:
                _unlink(self._generation_shm)
                self._generation_shm = None
        self.local.close()

    def _stop(self) -> None:
        self._release()
        self._release_output()
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


class _Prefaulted:
    """A new float32 array of ``shape`` whose pages a thread touches meanwhile (one
    write per 4 KiB page: the kernel's page faults, without a pass through memory), at
    the child's lower priority where threads have their own (Linux)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self._array = np.empty(shape, np.float32)
        self._thread = threading.Thread(target=self._touch, name="prefault", daemon=True)
        self._thread.start()

    def _touch(self) -> None:
        try:  # on Linux a thread has its own niceness: the GUI thread goes first
            tid = threading.get_native_id()
            os.setpriority(
                os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + CHILD_NICENESS
            )
        except (AttributeError, OSError):  # no os.setpriority on Windows
            pass
        self._array.reshape(-1)[::1024] = 0.0

    def result(self) -> np.ndarray:
        """The array, once every page was touched."""
        self._thread.join()
        return self._array


def _unlink(shm: shared_memory.SharedMemory) -> None:
    try:
        shm.close()
        shm.unlink()
    except (OSError, BufferError):
        pass
