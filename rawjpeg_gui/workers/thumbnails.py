"""Thumbnails made on a worker thread, delivered to the GUI as numpy arrays."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from .pool import TaskPool
from .session import describe_error
from .thumbnail_cache import ThumbnailCache


class ThumbnailLoader(QObject):
    """Queues thumbnail requests on its own pool; forgets them on :meth:`clear`.

    Attributes:
        cache: the disk cache used.

    Signals:
        ready(str, object): a path and its uint8 H x W x 3 thumbnail.
        failed(str, str): a path and a one-sentence reason.
    """

    ready = Signal(str, object)
    failed = Signal(str, str)

    def __init__(
        self, pool: TaskPool, cache: ThumbnailCache | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.cache = cache or ThumbnailCache()
        self._pool = pool
        self._generation = 0

    def request(self, path: Path) -> None:
        """Make (or fetch from the cache) the thumbnail of ``path``."""
        gen = self._generation
        self._pool.run_task(
            partial(self.cache.load, path),
            partial(self._on_job_returned, gen, path),
            partial(self._on_job_failed, gen, path),
        )

    def clear(self) -> None:
        """Drop pending results (the grid was cleared)."""
        self._generation += 1
        self._pool.abort_all()

    def _on_job_returned(self, gen: int, path: Path, image: object) -> None:
        if gen == self._generation:
            self.ready.emit(str(path), image)

    def _on_job_failed(self, gen: int, path: Path, exc: BaseException) -> None:
        if gen == self._generation:
            self.failed.emit(str(path), describe_error(exc))
