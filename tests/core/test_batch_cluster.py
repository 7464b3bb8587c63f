"""Batches of real raws on a real Dask scheduler: a 2-process LocalCluster on loopback.

Byte-identical to the local pool, a worker killed mid-run (the file is redone,
nothing partial), a rerun from the journal, cancel, and the refusal when the
workers cannot write the destination. Needs the ``[cluster]`` extra (part of
``[test]``) and the real raws of DATA.md.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from functools import partial
from pathlib import Path

import pytest

from rawjpeg_gui.core.batch import (
    JOURNAL_NAME,
    BatchFinished,
    BatchOptions,
    CancelToken,
    FileDone,
    FileStarted,
    FileStatus,
    run_batch,
)
from rawjpeg_gui.core.batch.cluster import ClusterError, DaskExecutor, parse_cluster, probe_access

distributed = pytest.importorskip("distributed", reason='needs the "cluster" extra (in "test")')

ROOT = Path(__file__).resolve().parents[2]
SHARED_RAW = ROOT.parent / "shared" / "data" / "raw"
SMALL = ("dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc", "dcc_canon_s40_0119.crw")


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    from distributed import Client, LocalCluster

    os.environ.setdefault("PYTHONPATH", str(ROOT))  # the worker processes import rawjpeg_gui
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    )  # fmt: skip
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture
def raws(tmp_path: Path) -> list[Path]:
    missing = [n for n in SMALL if not (SHARED_RAW / n).is_file()]
    if missing:
        pytest.skip(f"real raws absent from {SHARED_RAW} ({', '.join(missing)}); see DATA.md")
    (tmp_path / "src").mkdir()
    return [Path(shutil.copy(SHARED_RAW / n, tmp_path / "src" / n)) for n in SMALL]


def on_cluster(client):  # type: ignore[no-untyped-def]
    return partial(DaskExecutor, client=client)


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


def test_parse_cluster() -> None:
    assert parse_cluster("local:4") == ("local", 4)
    assert parse_cluster("tcp://10.0.0.5:8786") == ("tcp://10.0.0.5:8786", 0)
    for bad in ("local:0", "local:x", "nowhere"):
        with pytest.raises(ValueError, match="--cluster"):
            parse_cluster(bad)


def test_cluster_output_is_byte_identical_to_the_local_pool(
    client, raws: list[Path], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    local = list(run_batch(raws, BatchOptions(tmp_path / "local", quality=80, workers=2)))[-1]
    options = BatchOptions(tmp_path / "dask", quality=80, journal=True, verify=True, in_flight=1)
    events = list(run_batch(raws, options, None, on_cluster(client)))
    finished = events[-1]
    in_flight = most = 0
    for event in events:
        in_flight += isinstance(event, FileStarted) - isinstance(event, FileDone)
        most = max(most, in_flight)
    assert most == 2  # the window: 2 workers x 1 file in flight, never all 3 at once
    assert events[0].workers == 2 and finished.count(FileStatus.WRITTEN) == 3
    assert finished.count(FileStatus.WRITTEN) == local.count(FileStatus.WRITTEN)
    for r in finished.results:
        assert r.worker.startswith("tcp://127.0.0.1:") and r.psnr and r.psnr > 30
        assert r.destination.read_bytes() == (tmp_path / "local" / r.destination.name).read_bytes()
    assert len({r.worker for r in finished.results}) == 2  # both workers took files
    assert leftovers(tmp_path) == []


def test_a_worker_killed_mid_file_loses_only_that_attempt(
    client, raws: list[Path], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # the local pool as reference: its workers, like Dask's, run LibRaw single-threaded
    reference = list(run_batch(raws, BatchOptions(tmp_path / "ref", quality=85, workers=2)))[-1]
    options = BatchOptions(tmp_path / "out", quality=85, journal=True, in_flight=1)
    killed = None
    results = []
    for event in run_batch(raws, options, None, on_cluster(client)):
        if isinstance(event, FileStarted) and killed is None:
            deadline = time.monotonic() + 20
            while killed is None and time.monotonic() < deadline:
                busy = [w for w, keys in client.processing().items() if keys]
                if busy:
                    pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                    time.sleep(0.3)  # inside the file: loading the model or encoding
                    os.kill(pid, signal.SIGKILL)
                    killed = busy[0]
                else:
                    time.sleep(0.05)
        elif isinstance(event, FileDone):
            results.append(event.result)
    assert killed is not None
    assert [r.status for r in results] == [FileStatus.WRITTEN] * 3, [r.reason for r in results]
    for r in results:
        expected = next(x for x in reference.results if x.source == r.source)
        assert r.destination.read_bytes() == expected.destination.read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [r.destination.name for r in results] + [JOURNAL_NAME]
    )
    assert leftovers(tmp_path) == []
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it for the next tests


def test_rerun_from_the_journal_and_cancel(client, raws: list[Path], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dest = tmp_path / "out"
    options = BatchOptions(dest, quality=60, journal=True, in_flight=1)
    token = CancelToken()
    for event in run_batch(raws, options, token, on_cluster(client)):
        if isinstance(event, FileDone) and event.result.status is FileStatus.WRITTEN:
            token.cancel()
        if isinstance(event, BatchFinished):
            cancelled = event
    assert cancelled.cancelled
    written = {r.source for r in cancelled.results if r.status is FileStatus.WRITTEN}
    assert written and {r.status for r in cancelled.results} <= {
        FileStatus.WRITTEN, FileStatus.CANCELLED
    }  # fmt: skip
    assert leftovers(tmp_path) == []
    jpgs = sorted(dest.glob("*.jpg"))
    assert len(jpgs) == len(written)

    rerun = list(run_batch(raws, options, None, on_cluster(client)))[-1]
    by_source = {r.source: r for r in rerun.results}
    for source in written:
        assert by_source[source].status is FileStatus.SKIPPED
        assert "earlier run (journal)" in by_source[source].reason
    assert rerun.count(FileStatus.WRITTEN) == 3 - len(written)
    assert len(sorted(dest.glob("*.jpg"))) == 3  # no duplicates
    assert leftovers(tmp_path) == []


def test_workers_that_cannot_write_the_destination_are_refused(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    executor = DaskExecutor(BatchOptions(tmp_path), CancelToken(), client=client)
    try:
        with pytest.raises(ClusterError, match="cannot write into .*same paths"):
            executor.check_access(tmp_path / "not-there", [])
    finally:
        executor.close()
    assert probe_access(str(tmp_path), [str(tmp_path / "missing.kdc")]).startswith("cannot read")
