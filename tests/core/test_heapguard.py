"""heapguard: heap blocks handed out inside zeroed_heap() are zeros, outside as before."""

from __future__ import annotations

import ctypes
import sys
import threading

import pytest

from rawjpeg_gui.core import heapguard
from rawjpeg_gui.core.heapguard import status, zeroed_heap

glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or heapguard._glibc()[0] is None,
    reason="the guard works through glibc's malloc",
)

#: Above glibc's per-thread cache and below its smallest mmap threshold: a heap block.
_SIZE = 1 << 16


def _reused_block(libc) -> bytes:  # type: ignore[no-untyped-def]
    """What malloc hands out for a block of _SIZE freed just before, full of 0xA5."""
    dirty, fence = libc.malloc(_SIZE), libc.malloc(64)  # the fence keeps it off the top
    ctypes.memset(dirty, 0xA5, _SIZE)
    libc.free(dirty)
    again = libc.malloc(_SIZE)
    try:
        return ctypes.string_at(again, _SIZE)
    finally:
        libc.free(again)
        libc.free(fence)


@glibc_only
def test_blocks_are_zeros_inside_and_reused_as_they_are_outside() -> None:
    assert status() == ""
    libc = heapguard._glibc()[0]
    assert _reused_block(libc)[64:] == b"\xa5" * (_SIZE - 64)  # malloc recycles
    with zeroed_heap():
        with zeroed_heap():  # nested: the inner exit leaves it on
            pass
        assert _reused_block(libc) == bytes(_SIZE)
    assert _reused_block(libc)[64:] == b"\xa5" * (_SIZE - 64)  # restored on exit


@glibc_only
def test_threads_share_the_switch_until_the_last_leaves() -> None:
    libc = heapguard._glibc()[0]
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with zeroed_heap():
            entered.set()
            release.wait(10)

    other = threading.Thread(target=hold)
    other.start()
    entered.wait(10)
    with zeroed_heap():
        pass  # this thread leaves first; the other is still inside
    try:
        assert _reused_block(libc) == bytes(_SIZE)
    finally:
        release.set()
        other.join()
    assert _reused_block(libc)[64:] == b"\xa5" * (_SIZE - 64)


def test_an_allocator_that_ignores_the_switch_leaves_the_guard_off() -> None:
    """The self-test sees a freed block come back dirty and names the reason."""
    libc = heapguard._glibc()[0]
    if libc is None:
        pytest.skip("no glibc here")

    class Ignoring:
        malloc, free = libc.malloc, libc.free

        @staticmethod
        def mallopt(param: int, value: int) -> int:
            return 1

    assert "does not honour M_PERTURB" in heapguard._self_test(Ignoring(), 0)


@glibc_only
def test_the_self_test_says_raw_buffers_are_zero_filled() -> None:
    from rawjpeg_gui.selftest import check_libraries

    assert check_libraries(gui=False).endswith(", raw buffers zero-filled")
