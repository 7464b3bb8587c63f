"""Zero-filled heap blocks while LibRaw decodes: no earlier image's bytes in a raw buffer.

LibRaw allocates its raw buffer with ``malloc`` and its decoders write only the
samples they find: a damaged raw (a lossless JPEG stream without its Huffman tables,
strips or tiles that stop early) leaves the rest of the buffer as ``malloc`` handed it
over. In a fresh process that is zeros (new pages from the kernel); in a long-lived one
(the app, a batch worker) the allocator hands back blocks freed earlier, which hold an
earlier image's samples, and the damaged file decodes as a plausible, wrong raw.

:func:`zeroed_heap` closes that on glibc: inside the block, ``malloc`` fills every block
it hands out with zeros (``mallopt(M_PERTURB, 0xFF)``: blocks handed out are set to
the complement of that byte, freed blocks to the byte). A decoder's unwritten samples
are then zeros in every process, as in a fresh one, and
:func:`rawcheck.check_not_blank` refuses a raw of which nothing was decoded. The
setting belongs to the whole process: blocks entered by several threads share it
through a count, the first turning it on and the last restoring the byte the
environment chose (``MALLOC_PERTURB_``, else none). Every thread's heap blocks are
filled meanwhile (one write of each block handed out and of each block freed), so
callers keep the block to LibRaw's unpacking. Blocks served from glibc's per-thread
cache (up to about 1 KiB) are not filled; raw buffers are megabytes.

The first block checks the switch once (a heap block written, freed and allocated
again with it on must come back zero) and leaves it off, with the reason in
:func:`status`, when that fails: another allocator interposed (``LD_PRELOAD`` of
jemalloc or tcmalloc), or a C library without ``M_PERTURB``. Elsewhere the block
does nothing, and :func:`status` says why:

- musl (Alpine): ``mallopt`` is a stub; its allocator serves blocks above 128 KiB
  with their own ``mmap``, zero-filled, and unmaps them when freed.
- macOS: ``libmalloc`` has no run-time switch (``MallocPreScribble`` is read from the
  environment at start-up and fills with 0xAA); large blocks are fresh virtual memory,
  but freed ones can be cached and handed out again without clearing.
- Windows: the process heap serves blocks above its virtual-memory threshold (under
  1 MiB) with ``VirtualAlloc``, zero-filled, and releases them when freed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_log = logging.getLogger(__name__)

#: glibc's ``mallopt`` parameter: fill blocks handed out with the complement of the
#: byte given, and freed blocks with the byte.
M_PERTURB = -6
#: The byte whose complement (0x00) fills every block handed out.
_FILL = 0xFF
#: Size of the self-test block: above glibc's per-thread cache, below its mmap
#: threshold, so it comes from the heap and is reused when freed.
_PROBE_BYTES = 1 << 16

_lock = threading.Lock()
_state: dict[str, Any] = {"libc": None, "reason": None, "depth": 0, "restore": 0}


def _environment_byte() -> int:
    """The perturb byte glibc took from ``MALLOC_PERTURB_`` at start-up (0: none)."""
    try:
        return int(os.environ.get("MALLOC_PERTURB_", "0")) & 0xFF
    except ValueError:
        return 0


def _glibc() -> tuple[Any, str]:
    """glibc's ``mallopt``, ``malloc`` and ``free`` through ctypes, or why not."""
    if sys.platform == "darwin":
        return None, "macOS's malloc has no run-time switch to fill the blocks it hands out"
    if sys.platform == "win32":
        return None, "Windows serves large heap blocks as fresh zero-filled pages"
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        version = ""
    if not version.startswith("glibc"):
        return None, "the C library is not glibc"
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc.argtypes = [ctypes.c_size_t]
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        libc.free.restype = None
    except (OSError, AttributeError):
        return None, f"{version} does not export mallopt"
    return libc, version


def _self_test(libc: Any, restore: int) -> str:
    """Why the switch does not work, or "" when a heap block freed dirty comes back
    zero with it on.

    A second block allocated after the probe keeps the freed probe from merging into
    the top of the heap, so the next allocation of its size is the same block."""
    dirty = libc.malloc(_PROBE_BYTES)
    fence = libc.malloc(64)
    if not dirty or not fence:
        libc.free(dirty)
        libc.free(fence)
        return "malloc failed"
    ctypes.memset(dirty, 0xA5, _PROBE_BYTES)
    libc.free(dirty)
    if libc.mallopt(M_PERTURB, _FILL) != 1:
        libc.free(fence)
        return "mallopt(M_PERTURB) is refused"
    try:
        block = libc.malloc(_PROBE_BYTES)
        clean = bool(block) and ctypes.string_at(block, _PROBE_BYTES) == bytes(_PROBE_BYTES)
        libc.free(block)
    finally:
        libc.mallopt(M_PERTURB, restore)
        libc.free(fence)
    return "" if clean else "malloc does not honour M_PERTURB (another allocator is interposed)"


def _setup() -> None:
    """Find and check the switch once (under ``_lock``)."""
    if _state["reason"] is not None:
        return
    libc, version = _glibc()
    if libc is None:
        _state["reason"] = version
    else:
        _state["restore"] = _environment_byte()
        _state["reason"] = _self_test(libc, _state["restore"])
        if not _state["reason"]:
            _state["libc"] = libc
    if _state["reason"]:
        _log.info("Heap blocks are not zero-filled during raw decodes: %s.", _state["reason"])


def status() -> str:
    """Why :func:`zeroed_heap` does not zero-fill heap blocks here, or "" when it does."""
    with _lock:
        _setup()
        return str(_state["reason"])


@contextmanager
def zeroed_heap() -> Iterator[None]:
    """Within the block, every heap block ``malloc`` hands out (to any thread) is
    zero-filled; a no-op where :func:`status` gives a reason."""
    with _lock:
        _setup()
        libc = _state["libc"]
        if libc is not None:
            if _state["depth"] == 0:
                libc.mallopt(M_PERTURB, _FILL)
            _state["depth"] += 1
    try:
        yield
    finally:
        if libc is not None:
            with _lock:
                _state["depth"] -= 1
                if _state["depth"] == 0:
                    libc.mallopt(M_PERTURB, _state["restore"])
