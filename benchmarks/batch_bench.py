"""Batch export throughput with 1 and 2 (or more) worker processes on the real raws.

    python benchmarks/batch_bench.py [--workers 1 2] [--repeat 2] [--quality 90] [--no-search]

Sources: every file in ``../shared/data/raw`` plus ``.test-data/*`` when present,
repeated ``--repeat`` times, largest first (so the big files do not end the batch on
one worker). Times are wall-clock from the first event to ``BatchFinished`` and so
include starting the worker processes and loading the model in each. Each worker
count runs ``--rounds`` times, interleaved, and the fastest run is kept (the usual
defence against a noisy machine). Prints a table: raws per minute, megapixels per
second, the speed-up over the first row, CPU seconds per raw and the cores the batch
really got (CPU time / wall time), with the machine's load average before and after.
On a busy machine "cores used" shows how much of it the batch was given, and the
projected speed-up replays the one-worker run's per-file times on free cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.core.batch import (  # noqa: E402
    BatchFinished,
    BatchOptions,
    FileStatus,
    collect_sources,
    run_batch,
)

SHARED_RAW = ROOT.parent / "shared" / "data" / "raw"
FETCHED_RAW = ROOT / ".test-data"


def find_raws() -> list[Path]:
    """The real raws the benchmark uses, largest first."""
    folders = [f for f in (SHARED_RAW, FETCHED_RAW) if f.is_dir()]
    files = collect_sources(folders)
    return sorted(files, key=lambda p: p.stat().st_size, reverse=True)


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_once(
    sources: list[Path], workers: int, quality: int, searched: bool = True
) -> tuple[float, float, BatchFinished]:
    """Export ``sources`` into a temporary folder; return wall and CPU seconds and the summary."""
    out = Path(tempfile.mkdtemp(prefix="rawjpeg-bench-"))
    try:
        cpu = _cpu_seconds()
        start = time.perf_counter()
        finished = None
        options = BatchOptions(out, quality=quality, workers=workers, searched=searched)
        for event in run_batch(sources, options):
            if isinstance(event, BatchFinished):
                finished = event
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu  # the pool has joined its processes by now
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert finished is not None
    return seconds, cpu, finished


def project(seconds: float, finished: BatchFinished, workers: int) -> float:
    """Speed-up ``workers`` processes would give if each had a core of its own.

    Takes the per-file worker times of a one-worker run, schedules them in the same
    order onto ``workers`` processes (each file to the first free one, as the batch
    does) and keeps the run's serial part (process start, planning) as it was.
    """
    times = [r.seconds for r in sorted(finished.results, key=lambda r: r.index)]
    serial = seconds - sum(times)
    free = [0.0] * workers
    for t in times:
        free[free.index(min(free))] += t
    return seconds / (serial + max(free))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2, help="times each raw is exported")
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=2, help="runs per worker count (best kept)")
    parser.add_argument("--no-search", action="store_true", help="without the encoder's search")
    args = parser.parse_args(argv)
    raws = find_raws()
    if not raws:
        print(f"No raws in {SHARED_RAW} or {FETCHED_RAW}.", file=sys.stderr)
        return 2
    sources = [p for p in raws for _ in range(args.repeat)]
    load_before = os.getloadavg()
    load = f"load average {load_before[0]:.2f} {load_before[1]:.2f}"
    print(f"{len(raws)} raws x {args.repeat} = {len(sources)} exports, quality {args.quality}, "
          f"{os.cpu_count()} CPUs, {load}" + (", encoder search off" if args.no_search else ""))  # fmt: skip
    best: dict[int, tuple[float, float, BatchFinished]] = {}
    for _ in range(args.rounds):
        for n in args.workers:
            run = run_once(sources, n, args.quality, not args.no_search)
            if n not in best or run[0] < best[n][0]:
                best[n] = run
    print(f"{'workers':>7} {'seconds':>8} {'raws/min':>9} {'MP/s':>7} {'speed-up':>9} "
          f"{'CPU s/raw':>10} {'cores used':>11}")  # fmt: skip
    base = best[args.workers[0]][0]
    for n in args.workers:
        seconds, cpu, finished = best[n]
        failed = finished.count(FileStatus.FAILED)
        mp = sum(r.megapixels for r in finished.results)
        print(f"{n:>7} {seconds:>8.1f} {60 * len(sources) / seconds:>9.1f} {mp / seconds:>7.2f} "
              f"{base / seconds:>8.2f}x {cpu / len(sources):>10.2f} {cpu / seconds:>11.2f}"
              + (f"  ({failed} failed)" if failed else ""))  # fmt: skip
    print(f"megapixels per pass: {mp:.1f}")
    seconds1, _, finished1 = best[args.workers[0]]
    if args.workers[0] == 1:
        for n in args.workers[1:]:
            print(f"projected speed-up with {n} workers on {n} free cores: "
                  f"{project(seconds1, finished1, n):.2f}x")  # fmt: skip
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
