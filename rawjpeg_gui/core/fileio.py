"""Reading inputs and writing outputs safely, with clear errors.

Inputs: only regular files are read (a FIFO, a device such as ``/dev/zero`` or a
socket would block or never end), checked with ``stat`` before anything opens them
and again with ``fstat`` on a non-blocking descriptor, and read up to a size cap.

Outputs: every output is written to a temporary file in the destination folder and
moved into place, so a crash, a full disk or a cancel never leaves a partial file;
an output is never one of the run's inputs (same inode: symlinks and hard links
included), and an existing file is replaced only when the caller allows it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .errors import InputFileError, OutputError, OutputExistsError

#: Refuse to read whole-file inputs (adapter-JPEGs, linear images) larger than this.
MAX_INPUT_BYTES = 512 << 20


def _input_problem(st: os.stat_result, name: str) -> str | None:
    if stat.S_ISDIR(st.st_mode):
        return f"{name} is a folder, not a file."
    if not stat.S_ISREG(st.st_mode):
        return f"{name} is not a regular file (a pipe, device or socket); rawjpeg reads only files."
    return None


def check_input_file(path: str | os.PathLike[str]) -> os.stat_result:
    """Refuse a missing path, a folder or anything that is not a regular file.

    Symlinks are followed, so a link to ``/dev/zero`` or to a FIFO is refused too.

    Raises:
        InputFileError: with one sentence naming the file.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputFileError(f"{p.name} does not exist.") from None
    except OSError as exc:
        raise InputFileError(
            f"{p.name} could not be read ({exc.strerror or 'unreadable'})."
        ) from None
    problem = _input_problem(st, p.name)
    if problem:
        raise InputFileError(problem)
    return st


def read_input(
    path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES, too_big: str = ""
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    The file is opened non-blocking and checked with ``fstat`` on the open
    descriptor, so swapping the path for a FIFO after :func:`check_input_file` still
    cannot block, and a file growing while it is read is still cut at the cap.

    Raises:
        InputFileError: missing, not a regular file, unreadable or over ``limit``
            (the sentence ``too_big`` names the last case when given).
    """
    p = Path(path)
    check_input_file(p)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputFileError(
            f"{p.name} could not be read ({exc.strerror or 'unreadable'})."
        ) from None
    try:
        problem = _input_problem(os.fstat(fd), p.name)
        if problem:
            raise InputFileError(problem)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InputFileError(
            f"{p.name} could not be read ({exc.strerror or 'unreadable'})."
        ) from None
    finally:
        os.close(fd)
    if total > limit:
        raise InputFileError(
            too_big or f"{p.name} is larger than rawjpeg reads ({limit >> 20} MB)."
        )
    return b"".join(chunks)


def _describe(exc: OSError, dest: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"There is not enough disk space to write {dest.name}."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"The folder {dest.parent} is not writable."
    if exc.errno == errno.ENOENT:
        return f"The folder {dest.parent} does not exist."
    return f"{dest.name} could not be written ({exc.strerror or exc})."


def check_not_input(dest: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse to write over any of ``inputs`` (compared by inode: links count as the same file)."""
    dest = Path(dest)
    try:
        out = os.stat(dest)
    except OSError:
        return  # nothing there yet: it cannot be an input
    for src in inputs:
        try:
            st = os.stat(src)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
            raise OutputError(f"Refusing to overwrite the input file {dest.name}.")


def check_output(
    dest: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> None:
    """Refuse an output that is an input, a folder, or (unless ``overwrite``) already exists."""
    dest = Path(dest)
    check_not_input(dest, inputs)
    if dest.is_dir():
        raise OutputError(f"{dest} is a folder; give a file name for the output.")
    if not overwrite and (dest.exists() or dest.is_symlink()):
        raise OutputExistsError(f"{dest} already exists; pass --overwrite to replace it.")


def _move_into_place(tmp: Path, dest: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, dest)
        return
    # A hard link fails if dest appeared meanwhile: nothing is replaced by accident.
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise OutputExistsError(f"{dest} already exists; pass --overwrite to replace it.") from None
    except OSError:
        if dest.exists() or dest.is_symlink():  # a file system without hard links
            raise OutputExistsError(
                f"{dest} already exists; pass --overwrite to replace it."
            ) from None
        os.replace(tmp, dest)
        return
    tmp.unlink(missing_ok=True)


def write_atomic_with(
    dest: str | os.PathLike[str],
    writer: Callable[[Path], None],
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> Path:
    """Call ``writer(tmp_path)`` then move the temporary file to ``dest``.

    Raises:
        OutputError: ``dest`` is one of ``inputs`` or a folder, its folder is missing
            or unwritable, or the disk is full (no partial file is left).
        OutputExistsError: ``dest`` exists and ``overwrite`` is false.
    """
    dest = Path(dest)
    inputs = list(inputs)
    check_output(dest, inputs, overwrite)
    if not dest.parent.is_dir():
        raise OutputError(f"The folder {dest.parent} does not exist.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise OutputError(_describe(exc, dest)) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        os.chmod(tmp_path, 0o644)
        check_not_input(dest, inputs)  # an input may have been linked there meanwhile
        _move_into_place(tmp_path, dest, overwrite)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise OutputError(_describe(exc, dest)) from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return dest


def write_atomic(
    dest: str | os.PathLike[str],
    data: bytes,
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> Path:
    """Write ``data`` to ``dest`` atomically; never over one of ``inputs`` (see :func:`write_atomic_with`)."""

    def writer(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return write_atomic_with(dest, writer, inputs, overwrite)


def to_uint16(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint16 with rounding."""
    return np.asarray(np.round(np.clip(image, 0.0, 1.0) * 65535.0).astype(np.uint16))


def write_image16(
    dest: str | os.PathLike[str],
    image: np.ndarray,
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> Path:
    """Write a float [0, 1] HxWx3 image as 16-bit RGB TIFF (``.tif/.tiff``) or PNG (``.png``)."""
    dest = Path(dest)
    suffix = dest.suffix.lower()
    data = to_uint16(image)
    if suffix in (".tif", ".tiff"):
        import tifffile

        def writer(tmp: Path) -> None:
            tifffile.imwrite(tmp, data, photometric="rgb", compression="zlib")

    elif suffix == ".png":
        import imagecodecs  # Pillow cannot write 16-bit RGB PNG

        def writer(tmp: Path) -> None:
            tmp.write_bytes(imagecodecs.png_encode(data))

    else:
        raise OutputError(f"{dest.name}: the output must end in .tif, .tiff or .png.")
    return write_atomic_with(dest, writer, inputs, overwrite)
