"""Capture what C libraries print on the process's standard error.

LibRaw (and the libjpeg inside it) report damaged data by printing lines such as
"Unexpected end of file" or "Premature end of JPEG file" straight to file
descriptor 2, beside the sentence rawjpeg prints itself. :func:`captured_stderr`
points descriptor 2 at a temporary file for the duration of a call, so the text
can be judged (a truncated raw is refused) and logged instead of printed.

Descriptor 2 belongs to the whole process, so captures are exclusive across
threads: a thread entering :func:`captured_stderr` waits until no other thread is
inside one (one LibRaw decode at a time in a process, so one file's messages are
never read as another's). Nested captures in one thread share the redirection,
opened by the outermost and restored by it; each reads what was written while it was
active. Anything else written to descriptor 2 meanwhile (another thread's logging)
lands in the capture too; :func:`rawcheck.judge_libraw_output` looks only at lines
in LibRaw's and libjpeg's own forms.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

_lock = threading.Lock()
#: Held by a thread for the whole of its outermost capture.
_exclusive = threading.RLock()
_state: dict[str, object] = {"depth": 0, "saved": None, "sink": None}


@dataclass
class Captured:
    """Text written to standard error while a :func:`captured_stderr` block ran."""

    text: str = ""


def _start() -> int | None:
    """Redirect descriptor 2 (first capture only); the sink offset this capture starts at."""
    with _lock:
        if _state["depth"] == 0:
            try:
                sys.stderr.flush()
            except (OSError, ValueError, AttributeError):
                pass
            sink = tempfile.TemporaryFile()
            try:
                saved = os.dup(2)
            except OSError:  # no descriptor 2 at all: nothing to capture
                sink.close()
                return None
            os.dup2(sink.fileno(), 2)
            _state.update(saved=saved, sink=sink)
        _state["depth"] = int(_state["depth"]) + 1  # type: ignore[call-overload]
        sink_file: IO[bytes] = _state["sink"]  # type: ignore[assignment]
        return os.fstat(sink_file.fileno()).st_size


def _stop(start: int) -> str:
    with _lock:
        sink: IO[bytes] = _state["sink"]  # type: ignore[assignment]
        end = os.fstat(sink.fileno()).st_size
        data = os.pread(sink.fileno(), max(0, end - start), start) if end > start else b""
        _state["depth"] = int(_state["depth"]) - 1  # type: ignore[call-overload]
        if _state["depth"] == 0:
            saved: int = _state["saved"]  # type: ignore[assignment]
            os.dup2(saved, 2)
            os.close(saved)
            sink.close()
            _state.update(saved=None, sink=None)
    return data.decode("utf-8", "replace")


@contextmanager
def captured_stderr() -> Iterator[Captured]:
    """Capture descriptor-level standard error; the text is in the yielded object afterwards."""
    result = Captured()
    with _exclusive:
        start = _start()
        try:
            yield result
        finally:
            if start is not None:
                result.text = _stop(start)
