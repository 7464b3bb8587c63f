"""The Dask executor: the same per-file task as the local pool, on a Dask cluster.

``options.cluster`` is ``"tcp://HOST:8786"`` (an existing scheduler) or ``"local:N"``
(a ``LocalCluster`` of N single-threaded worker processes on this machine, loopback
only). Workers run :func:`run_on_cluster`, which is :func:`~.worker.export_one` with
the worker's own model, so results are byte-identical to the local pool.

- **Shared files.** Workers read sources and write outputs themselves, through the
  same paths the client sees (an NFS/SMB mount at the same place on every node).
  :meth:`DaskExecutor.check_access` asks every worker to read a source, write and
  remove a probe file in the destination and report its rawjpeg version, and
  refuses with one sentence before the batch starts when any cannot.
- **Back-pressure.** At most ``in_flight`` files per worker thread are submitted at
  a time: finished futures come back through a queue fed by their done-callbacks
  (as ``distributed.as_completed`` does, with a timeout so cancel is seen), and the
  generator submits the next file only when one has finished. A million-file source
  never becomes a million-task graph.
- **Failures.** A worker that dies mid-file loses only that file: the scheduler runs
  it again elsewhere (its temporary file is removed by the end-of-run sweep); after
  Dask's ``allowed-failures`` it is reported failed.
- **Cancel.** A ``distributed.Event`` named per run is set; each task checks it
  before reading, after encoding and before publishing, as the local pool does.
"""

from __future__ import annotations

import logging
import os
import queue
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import OutputError
from .events import BatchJob, BatchOptions, CancelToken, FileResult, FileStatus
from .local import POLL_SECONDS
from .worker import export_one, state_for

#: Seconds to wait for a remote scheduler before giving up.
CONNECT_SECONDS = 20


class ClusterError(OutputError):
    """The cluster cannot run this batch (unreachable, no workers, cannot see the files)."""


def worker_env(workers_here: int) -> dict[str, str]:
    """Environment for ``workers_here`` worker processes on this machine: the cores shared
    out as the local pool shares them (operator threads per process, LibRaw single-threaded).
    """
    threads = max(1, (os.cpu_count() or 1) // max(1, workers_here))
    return {"RAWJPEG_THREADS": str(threads), "OMP_NUM_THREADS": "1"}


def parse_cluster(spec: str) -> tuple[str, int]:
    """``"local:N"`` -> ``("local", N)``; a scheduler address -> ``(address, 0)``.

    Raises:
        ValueError: neither form (one sentence).
    """
    text = spec.strip()
    if text.startswith("local:"):
        count = text.split(":", 1)[1]
        if not count.isdigit() or not 1 <= int(count) <= 512:
            raise ValueError(f"--cluster local:N needs N from 1 to 512, not {count!r}.")
        return "local", int(count)
    if "://" in text or ":" in text:
        return text, 0
    raise ValueError(f"--cluster takes tcp://HOST:PORT or local:N, not {spec!r}.")


#: Seconds a worker trusts its last look at the cancel event (each look asks the scheduler).
CANCEL_CHECK_SECONDS = 0.5


def run_on_cluster(job: BatchJob, cancel_event: str) -> FileResult:
    """The task a Dask worker runs: :func:`export_one` with this worker's model."""
    from distributed import Event, get_worker

    event = Event(cancel_event)
    last = [-CANCEL_CHECK_SECONDS, False]

    def is_cancelled() -> bool:
        now = time.monotonic()
        if not last[1] and now - float(last[0]) >= CANCEL_CHECK_SECONDS:
            last[:] = [now, bool(event.is_set())]
        return bool(last[1])

    state = state_for(job.model_path, job.verify, is_cancelled)
    return export_one(job, state, worker=get_worker().address)


def probe_access(destination: str, sample: list[str]) -> str:
    """Run on every worker: "" when it can read ``sample`` and write ``destination``."""
    from ... import __version__

    for source in sample:
        try:
            with open(source, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            return f"cannot read {source} ({exc.strerror})"
    probe = Path(destination) / f".rawjpeg-probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"cannot write into {destination} ({exc.strerror})"
    return f"version {__version__}"


class DaskExecutor:
    """Runs a batch's jobs on a Dask cluster, a bounded window at a time.

    Args:
        options: the batch's options (``cluster``, ``in_flight``, model, verification).
        cancel: the batch's cancel token.
        client: an open ``distributed.Client`` to use (and leave open) instead of
            connecting to ``options.cluster``.
        task: what the workers run per job, ``task(job, cancel_event_name)``
            (default :func:`run_on_cluster`; the benchmark's simulation passes its own).

    Attributes:
        workers: worker threads in the cluster when the batch started.
        label: the scheduler's address, or ``local:N``.
    """

    def __init__(
        self,
        options: BatchOptions,
        cancel: CancelToken,
        client: Any = None,
        task: Callable[[BatchJob, str], FileResult] | None = None,
    ) -> None:
        try:
            from distributed import Client, Event, LocalCluster
        except ImportError:
            raise ClusterError(
                'Running on a cluster needs Dask: pip install "rawjpeg[cluster]".'
            ) from None
        self._cancel = cancel
        self._task = task or run_on_cluster
        self._cluster: Any = None
        self._own_client = client is None
        address, count = parse_cluster(options.cluster or "local:1")
        if client is not None:  # the caller's client (and cluster), left open at the end
            self._client = client
            address = str(client.scheduler.address)
        elif address == "local":
            self._cluster = LocalCluster(
                n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=logging.ERROR, env=worker_env(count),
            )  # fmt: skip
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(address, timeout=CONNECT_SECONDS)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(
                    f"The Dask scheduler at {address} could not be reached ({exc})."
                ) from None
        self.label = options.cluster or address
        info = self._client.scheduler_info()
        self.workers = sum(int(w.get("nthreads", 1)) for w in info["workers"].values())
        if self.workers == 0:
            self.close()
            raise ClusterError(f"The Dask scheduler at {address} has no workers.")
        self._window = self.workers * int(options.in_flight)
        self._event_name = f"rawjpeg-cancel-{uuid.uuid4().hex}"
        self._event = Event(self._event_name, client=self._client)
        self._done: queue.Queue[Any] = queue.Queue()
        self._futures: dict[str, tuple[Any, BatchJob]] = {}

    def check_access(self, destination: Path, sample: list[Path]) -> None:
        """Refuse (one sentence) when a worker cannot read the sources or write the destination."""
        from ... import __version__

        try:
            answers = self._client.run(
                probe_access, os.path.abspath(destination),
                [os.path.abspath(p) for p in sample if os.path.isfile(p)],
            )  # fmt: skip
        except Exception as exc:  # e.g. rawjpeg is not installed on the workers
            raise ClusterError(
                f"The Dask workers cannot run rawjpeg ({type(exc).__name__}: {exc}); install "
                '"rawjpeg[cluster]" in their environment.'
            ) from None
        for worker, answer in sorted(answers.items()):
            if answer != f"version {__version__}":
                if answer.startswith("version "):
                    answer = f"runs rawjpeg {answer[8:]}, this client {__version__}"
                raise ClusterError(
                    f"Dask worker {worker} {answer}; every worker must see the same files "
                    "at the same paths (a shared mount) and run the same rawjpeg."
                )

    def busy(self) -> bool:
        """True when the window is full."""
        return len(self._futures) >= self._window

    def pending(self) -> bool:
        """True while results are outstanding."""
        return bool(self._futures)

    def submit(self, job: BatchJob) -> None:
        """Send ``job`` to the scheduler."""
        key = f"rawjpeg-{job.index}-{uuid.uuid4().hex[:12]}"
        future = self._client.submit(self._task, job, self._event_name, key=key, pure=False)
        self._futures[key] = (future, job)
        future.add_done_callback(self._done.put)

    def collect(self) -> list[FileResult]:
        """Results finished so far (waits up to :data:`~.local.POLL_SECONDS` for one)."""
        if self._cancel.cancelled and not self._event.is_set():
            self._event.set()
        try:
            finished = [self._done.get(timeout=POLL_SECONDS)]
        except queue.Empty:
            return []
        while True:
            try:
                finished.append(self._done.get_nowait())
            except queue.Empty:
                break
        out = []
        for future in finished:
            entry = self._futures.pop(future.key, None)
            if entry is not None:
                out.append(self._result(future, entry[1]))
        return out

    def _result(self, future: Any, job: BatchJob) -> FileResult:
        from distributed import KilledWorker

        try:
            result: FileResult = future.result()
            return result
        except KilledWorker:
            reason = f"The worker stopped unexpectedly on {job.source.name}, on every try."
        except Exception as exc:  # export_one reports its errors: this is the cluster's
            if future.cancelled() or self._cancel.cancelled:
                reason = f"{job.source.name} was cancelled before it was written."
                return FileResult.not_written(job.index, job.source, "cancelled", reason)
            reason = f"{job.source.name} could not be run on the cluster ({type(exc).__name__})."
        return FileResult.not_written(job.index, job.source, FileStatus.FAILED.value, reason)

    def close(self) -> None:
        """Cancel what is still queued, then disconnect (and stop a local cluster)."""
        try:
            if self._futures:
                if hasattr(self, "_event"):
                    self._event.set()
                self._client.cancel([f for f, _ in self._futures.values()])
            if hasattr(self, "_event"):
                self._event.clear()
        finally:
            if self._own_client:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
