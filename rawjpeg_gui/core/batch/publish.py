"""Putting one output in place: a temporary file, then a link or rename; stale temps removed.

A worker writes the bytes to a hidden temporary file beside the destination
(``.NAME.jpg.rawjpeg-HOST-PID-INDEX.part``), flushes it to disk, then gives it its
name: with a hard link, which fails instead of replacing when the name was taken
meanwhile (``skip`` and ``rename`` never clobber a file even in a race), or with a
rename under ``overwrite``. A name already holding exactly the same bytes is this
very output (the encoder is deterministic: a worker of a killed run published it),
so it is kept instead of being written again under a numbered name. A worker killed half-way (SIGKILL, a lost node) can
leave its temporary file behind; :func:`remove_stale_temps` removes such files from
a folder while the batch holds that destination's journal lock, so no other batch
can be writing them.
"""

from __future__ import annotations

import errno
import os
import re
import socket
from collections.abc import Callable
from pathlib import Path

from ..errors import OutputError
from ..fileio import check_not_input
from ..naming import OnExists, numbered

#: Temporary names of outputs and reports: ours, whoever wrote them (this module, fileio).
_TEMP = re.compile(r"^\..+\.(jpe?g|csv|jsonl)\.[^/]+\.part$", re.IGNORECASE)

#: The temporary file the current output is being written to (removed by the watchdog).
CURRENT_TEMP: list[Path] = []


class Cancelled(Exception):
    """Raised inside a worker to abandon the current file."""


def temp_name(dest: Path, index: int) -> Path:
    """The hidden temporary file beside ``dest`` for job ``index`` of this process."""
    host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40]
    return dest.with_name(f".{dest.name}.rawjpeg-{host}-{os.getpid()}-{index}.part")


def publish(
    source: Path,
    dest: Path,
    index: int,
    data: bytes,
    on_exists: OnExists,
    is_cancelled: Callable[[], bool],
) -> Path | None:
    """Write ``data`` as ``dest`` (numbered under ``rename``); ``None`` when skipped.

    Raises:
        OutputError: the file cannot be written (one sentence naming it).
        Cancelled: the batch was cancelled before the output was given its name.
    """
    part = temp_name(dest, index)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        CURRENT_TEMP[:] = [part]
        _write_synced(part, data)
        if is_cancelled():
            raise Cancelled
        if on_exists is OnExists.OVERWRITE:
            check_not_input(dest, [source])  # the planner kept off every other source
            os.replace(part, dest)
            return dest
        for n in range(1000):
            target = dest.with_name(numbered(dest.name, n)) if n else dest
            try:
                _link_new(part, target)
                return target
            except FileExistsError:
                if _holds(target, data):  # this very output, e.g. from a run that was killed
                    return target
                if on_exists is OnExists.SKIP:
                    return None
        raise OutputError(f"No free name was found for {dest.name}.")
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OutputError(f"There is not enough disk space to write {dest.name}.") from None
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise OutputError(f"The folder {dest.parent} is not writable.") from None
        raise OutputError(f"{dest.name} could not be written ({exc.strerror or exc}).") from None
    finally:
        part.unlink(missing_ok=True)
        CURRENT_TEMP.clear()


def _holds(target: Path, data: bytes) -> bool:
    """True when ``target`` is a regular file with exactly ``data`` in it."""
    try:
        if not os.path.isfile(target) or os.path.getsize(target) != len(data):
            return False
        with open(target, "rb") as fh:
            return fh.read(len(data) + 1) == data
    except OSError:
        return False


def _write_synced(part: Path, data: bytes) -> None:
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_new(part: Path, target: Path) -> None:
    """Give ``part`` the name ``target`` only if that name is free (FileExistsError if not)."""
    try:
        os.link(part, target)
    except FileExistsError:
        raise
    except OSError as exc:
        # File systems without hard links (FAT, some network shares): reserve, then rename.
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        os.replace(part, target)


def is_temp_name(name: str) -> bool:
    """True for the hidden temporary names rawjpeg writes outputs and reports through."""
    return bool(_TEMP.match(name))


def remove_stale_temps(folder: Path) -> int:
    """Remove rawjpeg's temporary files from ``folder``; return how many went.

    Call it only while holding the destination's journal lock: then no other batch
    is writing into the folder, and every such file was left by a killed process.
    """
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if is_temp_name(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed
