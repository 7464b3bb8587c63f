"""What the app remembers so that revisiting is instant (no Qt).

* :class:`MemoryCache` keeps opened images and, in a second one, their codings in
  memory, least recently used first out, each within half of a byte budget
  (``RAWJPEG_GUI_CACHE_MB``; by default a quarter of the machine's memory, at most
  4 GB), so that codings of one image never push the images themselves out. Keys name the file (path, size, modification time), the quality and the
  adapter model, so an edited file or another model never meets an old entry.
* :class:`RDCache` keeps rate-distortion curves on disk, one small JSON file per
  (file, model, qualities, methods), in the user cache folder (``RAWJPEG_CACHE_DIR``
  overrides it, as for thumbnails).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rawjpeg_gui.core import evaluate
from rawjpeg_gui.core.evaluate import RDPoint
from rawjpeg_gui.core.fileio import write_atomic
from rawjpeg_gui.core.rawio import RawImage

from . import jobs

log = logging.getLogger(__name__)

#: Environment variable: the memory cache's budget in megabytes.
MEMORY_BUDGET_ENV = "RAWJPEG_GUI_CACHE_MB"
MAX_DEFAULT_BUDGET_MB = 4096


def default_budget_bytes() -> int:
    """The whole memory budget: ``$RAWJPEG_GUI_CACHE_MB``, else a quarter of RAM (<= 4 GB)."""
    try:
        return int(max(float(os.environ[MEMORY_BUDGET_ENV]), 0.0) * 1e6)
    except (KeyError, ValueError):
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        ram = 8 * 1024**3
    return int(min(ram / 4, MAX_DEFAULT_BUDGET_MB * 1e6))


#: Bump when the curve's computation changes, so old files are ignored.
_RD_VERSION = "2"


def file_key(path: Path) -> tuple[str, int, int] | None:
    """(absolute path, size, modification time in ns) of ``path``, or ``None`` if unreadable."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def nbytes_of(value: Any) -> int:
    """Bytes held by the numpy arrays and bytes reachable through ``value``'s attributes."""
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> int:
        if id(obj) in seen or depth > 3:
            return 0
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            return int(obj.nbytes)
        if isinstance(obj, bytes | bytearray):
            return len(obj)
        attrs = getattr(obj, "__dict__", None)
        if attrs is None:
            return 0
        return sum(walk(v, depth + 1) for v in attrs.values())

    return walk(value, 0)


class MemoryCache:
    """A least-recently-used map within a byte budget (thread-safe).

    Attributes:
        budget: most bytes kept; one entry larger than this is not kept at all.
        used: bytes held now.
    """

    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget = default_budget_bytes() // 2 if budget_bytes is None else budget_bytes
        self.used = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value under ``key`` (now the most recent), or ``None``."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, nbytes: int | None = None) -> None:
        """Keep ``value``; older entries leave until the budget holds."""
        size = nbytes_of(value) if nbytes is None else nbytes
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.used -= old[1]
            if size > self.budget:
                return
            self._items[key] = (value, size)
            self.used += size
            while self.used > self.budget and self._items:
                _key, (_value, freed) = self._items.popitem(last=False)
                self.used -= freed

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
            self.used = 0


def cache_dir() -> Path:
    """Folder of the curve files (``$RAWJPEG_CACHE_DIR/rd`` or the platform's user cache)."""
    override = os.environ.get("RAWJPEG_CACHE_DIR")
    if override:
        return Path(override) / "rd"
    import platformdirs

    return Path(platformdirs.user_cache_dir("rawjpeg", appauthor=False)) / "rd"


class RDCache:
    """Rate-distortion curves on disk, keyed by file identity, model, qualities and methods."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder

    @property
    def folder(self) -> Path:
        """Where the curves are kept."""
        return self._folder or cache_dir()

    def _path(
        self,
        key: tuple[str, int, int],
        model: str,
        qualities: Sequence[int],
        methods: Sequence[str],
    ) -> Path:
        text = json.dumps([_RD_VERSION, list(key), model, list(qualities), list(methods)])
        return self.folder / (hashlib.sha256(text.encode()).hexdigest()[:32] + ".json")

    def load(
        self, path: Path, model: str, qualities: Sequence[int], methods: Sequence[str]
    ) -> list[RDPoint] | None:
        """The stored curve of ``path`` (every point), or ``None``."""
        key = file_key(path)
        if key is None:
            return None
        try:
            rows = json.loads(self._path(key, model, qualities, methods).read_text("utf-8"))
            points = [
                RDPoint(str(r["method"]), int(r["quality"]), float(r["bpp"]),
                        float("inf") if r["psnr"] is None else float(r["psnr"]), float("nan"))
                for r in rows
            ]  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return points if len(points) == len(qualities) * len(methods) else None

    def store(
        self,
        path: Path,
        model: str,
        qualities: Sequence[int],
        methods: Sequence[str],
        points: Sequence[RDPoint],
    ) -> None:
        """Keep a complete curve of ``path`` (failures to write are logged, not raised)."""
        key = file_key(path)
        if key is None or len(points) != len(qualities) * len(methods):
            return
        rows = [
            {"method": p.method, "quality": p.quality, "bpp": p.bpp,
             "psnr": p.psnr if np.isfinite(p.psnr) else None}
            for p in points
        ]  # fmt: skip
        dest = self._path(key, model, qualities, methods)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(dest, json.dumps(rows).encode("utf-8"))
        except Exception as exc:  # a cache that cannot be written is not an error
            log.info("could not keep the rate-distortion curve in %s: %s", dest, exc)


def cached_rd_points(
    original: RawImage,
    path: Path,
    model: str,
    store: RDCache,
    cache: RDCache | None,
    paused: Callable[[], bool],
    coder: Callable[[RawImage, str, int], Any] | None,
) -> Iterator[Any]:
    """The curve's points: from ``cache`` when it has them, else computed and stored."""
    qualities, methods = jobs.RD_QUALITIES, evaluate.METHODS
    points = cache.load(path, model, qualities, methods) if cache is not None else None
    if points is not None:
        yield from points
        return
    points = []
    for point in jobs.rd_points(original, qualities, methods, paused, coder):
        points.append(point)
        yield point
    store.store(path, model, qualities, methods, points)
