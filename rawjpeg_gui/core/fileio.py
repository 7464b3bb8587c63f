"""Writing outputs safely: atomically, never over an input, with clear errors.

Every output is written to a temporary file in the destination folder and renamed
into place, so a crash, a full disk or a cancel never leaves a partial file.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .errors import OutputError


def _describe(exc: OSError, dest: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"There is not enough disk space to write {dest.name}."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"The folder {dest.parent} is not writable."
    if exc.errno == errno.ENOENT:
        return f"The folder {dest.parent} does not exist."
    return f"{dest.name} could not be written ({exc.strerror or exc})."


def check_not_input(dest: Path, inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse to write over any of ``inputs``."""
    for src in inputs:
        try:
            if dest.exists() and os.path.samefile(dest, src):
                raise OutputError(f"Refusing to overwrite the input file {dest.name}.")
        except FileNotFoundError:
            continue


def write_atomic_with(
    dest: str | os.PathLike[str], writer: Callable[[Path], None], inputs: Iterable[str | os.PathLike[str]] = ()
) -> Path:
    """Call ``writer(tmp_path)`` then rename the temporary file to ``dest``."""
    dest = Path(dest)
    check_not_input(dest, inputs)
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
        os.replace(tmp_path, dest)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise OutputError(_describe(exc, dest)) from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return dest


def write_atomic(
    dest: str | os.PathLike[str], data: bytes, inputs: Iterable[str | os.PathLike[str]] = ()
) -> Path:
    """Write ``data`` to ``dest`` atomically; never over one of ``inputs``."""

    def writer(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return write_atomic_with(dest, writer, inputs)


def to_uint16(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint16 with rounding."""
    return np.asarray(np.round(np.clip(image, 0.0, 1.0) * 65535.0).astype(np.uint16))


def write_image16(
    dest: str | os.PathLike[str], image: np.ndarray, inputs: Iterable[str | os.PathLike[str]] = ()
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
    return write_atomic_with(dest, writer, inputs)
