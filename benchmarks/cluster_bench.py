"""Batch export on a Dask cluster against the local process pool, on real raws.

    python benchmarks/cluster_bench.py [--part all|throughput|simulate|resume]

Prints, with the machine's load average before and after each part:

1. **throughput**: the same 16 real raws (``../shared/data/raw-more``, topped up from
   ``raw``) through the local 2-process pool and a 2-worker ``LocalCluster``
   (processes, loopback), and 1 -> 2 workers on each; files/s, the cluster's share
   of the pool's throughput, and per megapixel the workers' wall time and CPU time
   inside the per-file task (the CPU time is what a cluster bills; wall time above
   it is the share of the machine the workers did not get).
2. **simulate**: 64 worker threads on a ``LocalCluster`` whose task sleeps a fixed
   time per file and publishes a small output, driven through the real engine
   (planning, the bounded window, the journal): the files/s the client and
   scheduler sustain, against the ideal 64 / delay.
3. **resume**: a scheduler with 2 workers in this process; ``rawjpeg batch
   --cluster tcp://...`` in a child process is SIGKILLed after a few files, then run
   again to the end: files lost, duplicates and partial files.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONPATH", str(ROOT))  # the worker processes import rawjpeg_gui

from rawjpeg_gui.core.batch import (  # noqa: E402
    JOURNAL_NAME,
    BatchFinished,
    BatchJob,
    BatchOptions,
    FileResult,
    FileStatus,
    LocalPool,
    run_batch,
)
from rawjpeg_gui.core.batch.cluster import DaskExecutor, worker_env  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def sixteen_raws() -> list[Path]:
    """16 real raws: raw-more, then raw, smallest folder first."""
    files = sorted((SHARED / "raw-more").glob("*.*")) + sorted((SHARED / "raw").glob("*.*"))
    return [p for p in files if p.suffix.lower() in (".crw", ".kdc")][:16]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} on {os.cpu_count()} CPUs"


def timed(sources: list[Path], options: BatchOptions, factory) -> tuple[float, BatchFinished]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    finished = list(run_batch(sources, options, None, factory))[-1]
    assert isinstance(finished, BatchFinished)
    return time.perf_counter() - start, finished


def throughput(rounds: int) -> None:
    from distributed import Client, LocalCluster

    raws = sixteen_raws()
    mp_note = f"{len(raws)} real raws ({sum(p.stat().st_size for p in raws) / 1e6:.1f} MB)"
    print(f"\n== throughput: {mp_note}, quality 90, {load()}")
    rows = []
    clusters = {}
    for n in (1, 2):
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR, env=worker_env(n),
        )  # fmt: skip
        clusters[n] = (cluster, Client(cluster))
    try:
        best: dict[tuple[str, int], tuple[float, BatchFinished]] = {}
        for _ in range(rounds):
            for n in (1, 2):
                for kind in ("pool", "dask"):
                    out = Path(tempfile.mkdtemp(prefix="rawjpeg-cluster-bench-"))
                    try:
                        if kind == "pool":
                            run = timed(raws, BatchOptions(out, workers=n), LocalPool)
                        else:
                            factory = partial(DaskExecutor, client=clusters[n][1])
                            run = timed(raws, BatchOptions(out), factory)
                    finally:
                        shutil.rmtree(out, ignore_errors=True)
                    if (kind, n) not in best or run[0] < best[(kind, n)][0]:
                        best[(kind, n)] = run
        for (kind, n), (seconds, finished) in sorted(best.items()):
            written = finished.count(FileStatus.WRITTEN)
            mp = sum(r.megapixels for r in finished.results)
            worker_s = sum(r.seconds for r in finished.results)
            cpu_s = sum(r.cpu_seconds for r in finished.results)
            rows.append((kind, n, seconds, written / seconds, cpu_s / mp))
            print(f"{kind:>5} x{n}: {seconds:6.1f} s  {written / seconds:5.2f} files/s  "
                  f"{written} written, {mp:.1f} MP; per MP: worker wall {worker_s / mp:.3f} s, "
                  f"worker CPU {cpu_s / mp:.3f} s")  # fmt: skip
        rate = {(k, n): r for k, n, _, r, _ in rows}
        print(f"LocalCluster(2) / local pool(2): {rate[('dask', 2)] / rate[('pool', 2)]:.1%}")
        print(f"scaling 1 -> 2 workers: pool {rate[('pool', 2)] / rate[('pool', 1)]:.2f}x, "
              f"dask {rate[('dask', 2)] / rate[('dask', 1)]:.2f}x")  # fmt: skip
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()
    print(f"after: {load()}")


def simulated_task(job: BatchJob, cancel_event: str, delay: float = 0.5) -> FileResult:
    """A file that takes ``delay`` seconds of (sleeping) work and publishes 1 KB."""
    from rawjpeg_gui.core.batch.publish import publish

    time.sleep(delay)
    dest = publish(job.source, job.destination, job.index, b"x" * 1024, job.on_exists,
                   lambda: False)  # fmt: skip
    return FileResult(job.index, job.source, dest, FileStatus.WRITTEN, input_bytes=1,
                      output_bytes=1024, seconds=delay, worker="sim")  # fmt: skip


def simulate(files: int, delay: float) -> None:
    from distributed import Client, LocalCluster

    print(f"\n== simulate: 64 workers, {files} files of {delay:.2f} s each "
          f"(ideal {64 / delay:.0f} files/s), journal on, {load()}")  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="rawjpeg-sim-"))
    try:
        src = tmp / "src"
        src.mkdir()
        sources = []
        for i in range(files):
            p = src / f"IMG_{i:06d}.kdc"
            p.write_bytes(b"raw")
            sources.append(p)
        cluster = LocalCluster(
            n_workers=4, threads_per_worker=16, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR,
        )  # fmt: skip
        with Client(cluster) as client:
            task = partial(simulated_task, delay=delay)
            factory = partial(DaskExecutor, client=client, task=task)
            options = BatchOptions(tmp / "out", journal=True)
            seconds, finished = timed(sources, options, factory)
        cluster.close()
        written = finished.count(FileStatus.WRITTEN)
        print(f"{written} written in {seconds:.1f} s: {written / seconds:.1f} files/s "
              f"({written / seconds / (64 / delay):.0%} of ideal, window {64 * 2} files)")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"after: {load()}")


def resume(kill_after: int) -> None:
    from distributed import LocalCluster

    raws = sixteen_raws()
    print(f"\n== resume: {len(raws)} real raws, client SIGKILLed after {kill_after} files, "
          f"{load()}")  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="rawjpeg-resume-"))
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.ERROR, env=worker_env(2),
    )  # fmt: skip
    try:
        src, dest = tmp / "src", tmp / "out"
        src.mkdir()
        for p in raws:
            shutil.copy(p, src / p.name)
        cmd = [sys.executable, "-m", "rawjpeg_gui.cli", "batch", str(src), "-d", str(dest),
               "--cluster", cluster.scheduler_address]  # fmt: skip
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        journal = dest / JOURNAL_NAME
        while child.poll() is None:
            done = journal.read_text().count('"event": "done"') if journal.exists() else 0
            if done >= kill_after:
                child.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        child.wait()
        first = journal.read_text().count('"event": "done"')
        proc = subprocess.run(cmd, capture_output=True, text=True)
        print(f"first run killed after {first} files; rerun: {proc.stdout.strip()}")
        time.sleep(5)  # tasks orphaned by the kill finish on the workers meanwhile
        outputs = sorted(dest.glob("*.jpg"))
        stems = [p.stem for p in outputs]
        lost = sum(p.stem not in stems for p in raws)
        duplicates = len(outputs) - len(set(p.stem.split(" (")[0] for p in outputs))
        from rawjpeg_gui.core.codec import decode_bytes

        partial_files = [p for p in tmp.rglob("*") if p.name.endswith(".part")]
        for p in outputs:
            try:
                decode_bytes(p.read_bytes())
            except Exception:
                partial_files.append(p)
        records = [json.loads(x) for x in journal.read_text().splitlines() if x.strip()]
        print(f"lost {lost}, duplicates {duplicates}, partial {len(partial_files)}; "
              f"{len(outputs)} outputs for {len(raws)} sources; journal {len(records)} lines")  # fmt: skip
    finally:
        cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"after: {load()}")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["all", "throughput", "simulate", "resume"],
                        default="all")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, help="throughput runs (best kept)")
    parser.add_argument("--files", type=int, default=2000, help="files in the simulation")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds per simulated file")
    parser.add_argument("--kill-after", type=int, default=5, help="files before the kill")
    args = parser.parse_args(argv)
    if args.part in ("all", "throughput"):
        throughput(args.rounds)
    if args.part in ("all", "simulate"):
        simulate(args.files, args.delay)
    if args.part in ("all", "resume"):
        resume(args.kill_after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
