"""Run the ``rawjpeg`` command on every bad input and count how it fails.

The corpus comes from ``scripts/make_bad_inputs.py`` (built into a temporary folder
unless ``--corpus`` names one). Each case runs as its own process: ``encode`` and
``info`` for inputs posing as raws, ``decode`` and ``info`` for inputs posing as
adapter-JPEGs, with a timeout and the peak resident memory read from ``wait4``.
A class ``outputs`` adds the data-loss scenarios: two inputs for one output, an
existing output, outputs that are inputs through symlinks and hard links.

Per attack class it prints: runs; clean refusals (non-zero exit, exactly one line
``rawjpeg: error: ...`` that names the file and shows no internals); accepted (exit
0); unclear messages; tracebacks (a Python traceback, an "internal error" or a
crash by signal); hangs (timeouts); peak memory; leftover files in the output
folder after a refusal; modified inputs. The targets: no tracebacks, no hangs, no
leftovers, no modified inputs, peak memory <= 1.5 GB for inputs under 50 MB.

Usage: python benchmarks/bad_inputs.py [--corpus DIR] [--timeout 60] [--class NAME ...] [-v]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import make_bad_inputs  # noqa: E402

#: Words that betray internals in a message meant for a person.
_LEAKS = re.compile(
    r"Errno|errno|OSError|\(\d+, '|\.part\b|b'|requested and|Traceback|object at 0x"
)
MEMORY_TARGET_MB = 1536


@dataclass
class Tally:
    """Counts of one attack class."""

    runs: int = 0
    refused: int = 0
    accepted: int = 0
    unclear: int = 0
    tracebacks: int = 0
    hangs: int = 0
    peak_mb: float = 0.0
    over_memory: int = 0
    leftovers: int = 0
    modified: int = 0
    notes: list[str] = field(default_factory=list)


def _fingerprint(path: Path) -> str:
    """sha256 of a regular file; the link target or kind of anything else."""
    if path.is_symlink():
        return "link:" + os.readlink(path)
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return "dir" if path.is_dir() else "other"


def run_cli(
    args: list[str], timeout: float, stdin: bytes | None = None
) -> tuple[int | None, str, float]:
    """(exit status or None on timeout, stderr, peak RSS in MB) of one ``rawjpeg`` run."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rawjpeg_gui.cli", *args],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            start_new_session=True,
        )
        if stdin is not None:
            try:
                proc.stdin.write(stdin)  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
        deadline = time.monotonic() + timeout
        status = rusage = None
        while time.monotonic() < deadline:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, rusage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            err.seek(0)
            return None, err.read().decode("utf-8", "replace"), rusage.ru_maxrss / 1024.0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return proc.returncode, err.read().decode("utf-8", "replace"), rusage.ru_maxrss / 1024.0


def judge(
    t: Tally,
    label: str,
    argv: list[str],
    names: list[str],
    out_dir: Path,
    inputs: list[Path],
    timeout: float,
    expect_ok: bool = False,
    stdin: bytes | None = None,
) -> None:
    """Run one command and add its outcome to ``t``."""
    before = {p: _fingerprint(p) for p in inputs}
    rc, err, peak = run_cli(argv, timeout, stdin)
    t.runs += 1
    t.peak_mb = max(t.peak_mb, peak)
    small = all((not p.is_file()) or p.stat().st_size < 50 << 20 for p in inputs)
    if small and peak > MEMORY_TARGET_MB:
        t.over_memory += 1
        t.notes.append(f"{label}: {peak:.0f} MB")
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if rc is None:
        t.hangs += 1
        t.notes.append(f"{label}: hang")
    elif rc < 0 or rc == 70 or "Traceback" in err or "internal error" in err:
        t.tracebacks += 1
        t.notes.append(f"{label}: rc {rc}: {lines[-1] if lines else ''}")
    elif rc == 0:
        t.accepted += 1
        if not expect_ok:
            t.notes.append(f"{label}: accepted (exit 0)")
    else:
        clean = (
            len(lines) == 1
            and lines[0].startswith("rawjpeg: error: ")
            and any(n in lines[0] for n in names)
            and not _LEAKS.search(lines[0])
        )
        if clean:
            t.refused += 1
        else:
            t.unclear += 1
            t.notes.append(f"{label}: unclear: {' | '.join(lines)[:300]}")
        if out_dir.exists() and any(out_dir.iterdir()):
            t.leftovers += 1
            t.notes.append(f"{label}: left {sorted(p.name for p in out_dir.iterdir())}")
    if expect_ok and rc != 0:
        t.notes.append(f"{label}: the control case failed (rc {rc})")
    for p, fp in before.items():
        if _fingerprint(p) != fp:
            t.modified += 1
            t.notes.append(f"{label}: modified input {p.name}")


def run_corpus(
    corpus: Path, classes: set[str] | None, timeout: float, tallies: dict[str, Tally]
) -> None:
    """Every case of the manifest, two commands each."""
    cases = json.loads((corpus / "manifest.json").read_text())["cases"]
    for case in cases:
        cls = case["class"]
        if classes and cls not in classes:
            continue
        t = tallies.setdefault(cls, Tally())
        path = corpus / case["path"]
        kind = case["poses_as"]
        with tempfile.TemporaryDirectory(prefix="rawjpeg-bad-") as tmp:
            out = Path(tmp) / "out"
            out.mkdir()
            if kind == "raw":
                cmds = [
                    ["encode", str(path), "-q", "50", "-o", str(out / "x.jpg")],
                    ["info", str(path)],
                ]
            else:
                cmds = [["decode", str(path), "-o", str(out / "x.tiff")], ["info", str(path)]]
            for argv in cmds:
                judge(
                    t,
                    f"{argv[0]} {case['path']}",
                    argv,
                    [path.name],
                    out,
                    [path],
                    timeout,
                    expect_ok=kind == "jpeg-good",
                )
                if kind == "jpeg-good":
                    for p in out.iterdir():
                        p.unlink()
            if kind != "raw" and path.is_file() and path.stat().st_size < 64 << 20:
                judge(
                    t,
                    f"decode - < {case['path']}",
                    ["decode", "-", "-o", str(out / "y.tiff")],
                    ["standard input"],
                    out,
                    [path],
                    timeout,
                    expect_ok=kind == "jpeg-good",
                    stdin=path.read_bytes(),
                )


def run_outputs(sources: dict[str, Path], timeout: float, tallies: dict[str, Tally]) -> None:
    """The data-loss scenarios: every one must be refused with the inputs intact."""
    t = tallies.setdefault("outputs", Tally())
    kdc = sources.get("dcc_kodak_dc120_p003908.kdc")
    if kdc is None:
        return
    with tempfile.TemporaryDirectory(prefix="rawjpeg-out-") as tmp:
        base = Path(tmp)
        for d in ("d1", "d2", "same", "out"):
            (base / d).mkdir()
        a, b = base / "d1" / "x.kdc", base / "d2" / "x.kdc"
        shutil.copy(kdc, a)
        shutil.copy(kdc, b)
        good = base / "good.jpg"
        rc, err, _ = run_cli(["encode", str(a), "-q", "50", "-o", str(good)], timeout)
        if rc != 0:
            t.notes.append(f"could not make an adapter-JPEG: {err.strip()}")
            return
        existing = base / "existing.jpg"
        existing.write_bytes(b"precious")
        existing_tiff = base / "existing.tiff"
        existing_tiff.write_bytes(b"precious")
        link = base / "link.jpg"
        os.symlink(a, link)
        hard = base / "hard.jpg"
        os.link(a, hard)
        tiff = base / "in.tiff"
        run_cli(["decode", str(a), "-o", str(tiff)], timeout)
        scenarios = [
            (
                "two inputs, one output",
                ["encode", str(a), str(b), "-q", "50", "-d", str(base / "same")],
                [a.name],
                base / "same",
            ),
            (
                "one input twice",
                ["encode", str(a), str(a), "-q", "50", "-d", str(base / "same")],
                [a.name],
                base / "same",
            ),
            (
                "existing output",
                ["encode", str(a), "-q", "50", "-o", str(existing)],
                [existing.name],
                None,
            ),
            (
                "existing decode output",
                ["decode", str(good), "-o", str(existing_tiff)],
                [existing_tiff.name],
                None,
            ),
            (
                "output symlinked to the input",
                ["encode", str(a), "-q", "50", "-o", str(link), "--overwrite"],
                [link.name],
                None,
            ),
            (
                "output hard-linked to the input",
                ["encode", str(a), "-q", "50", "-o", str(hard), "--overwrite"],
                [hard.name],
                None,
            ),
            (
                "linear input as its own output",
                ["decode", str(tiff), "-o", str(tiff), "--overwrite"],
                [tiff.name],
                None,
            ),
        ]
        inputs = [a, b, good, existing, existing_tiff, tiff]
        for label, argv, names, out_dir in scenarios:
            judge(t, label, argv, names, out_dir or base / "out", inputs, timeout)


def print_table(tallies: dict[str, Tally], verbose: bool) -> bool:
    """The per-class table; True when every target holds."""
    head = (
        f"{'attack class':<16}{'runs':>6}{'refused':>9}{'accepted':>10}{'unclear':>9}{'tracebacks':>12}"
        f"{'hangs':>7}{'peak MB':>9}{'>1.5GB':>8}{'leftover':>10}{'modified':>10}"
    )
    print(head)
    print("-" * len(head))
    total = Tally()
    for cls, t in tallies.items():
        print(
            f"{cls:<16}{t.runs:>6}{t.refused:>9}{t.accepted:>10}{t.unclear:>9}{t.tracebacks:>12}"
            f"{t.hangs:>7}{t.peak_mb:>9.0f}{t.over_memory:>8}{t.leftovers:>10}{t.modified:>10}"
        )
        for name in (
            "runs",
            "refused",
            "accepted",
            "unclear",
            "tracebacks",
            "hangs",
            "over_memory",
            "leftovers",
            "modified",
        ):
            setattr(total, name, getattr(total, name) + getattr(t, name))
        total.peak_mb = max(total.peak_mb, t.peak_mb)
    print("-" * len(head))
    print(
        f"{'all':<16}{total.runs:>6}{total.refused:>9}{total.accepted:>10}{total.unclear:>9}{total.tracebacks:>12}"
        f"{total.hangs:>7}{total.peak_mb:>9.0f}{total.over_memory:>8}{total.leftovers:>10}{total.modified:>10}"
    )
    notes = [(cls, n) for cls, t in tallies.items() for n in t.notes]
    shown = notes if verbose else [x for x in notes if "accepted" not in x[1]]
    if shown:
        print("\nnotes:")
        for cls, n in shown:
            print(f"  [{cls}] {n}")
    return (
        total.tracebacks
        == total.hangs
        == total.leftovers
        == total.modified
        == total.over_memory
        == 0
    )


def main() -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="corpus folder (default: build one in a temp folder)",
    )
    ap.add_argument(
        "--timeout", type=float, default=60.0, help="seconds before a run counts as a hang"
    )
    ap.add_argument(
        "--class", dest="classes", action="append", help="only this attack class (repeatable)"
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="list every accepted case too")
    args = ap.parse_args()
    tmp = None
    corpus = args.corpus
    if corpus is None or not (corpus / "manifest.json").exists():
        if corpus is None:
            tmp = tempfile.TemporaryDirectory(prefix="rawjpeg-corpus-")
            corpus = Path(tmp.name)
        make_bad_inputs.build(corpus)
    tallies: dict[str, Tally] = {}
    t0 = time.monotonic()
    try:
        run_corpus(corpus, set(args.classes or ()), args.timeout, tallies)
        if not args.classes or "outputs" in args.classes:
            run_outputs(
                make_bad_inputs.find_sources(make_bad_inputs.DEFAULT_RAW_DIRS),
                args.timeout,
                tallies,
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
    ok = print_table(tallies, args.verbose)
    print(
        f"\n{sum(t.runs for t in tallies.values())} runs in {time.monotonic() - t0:.0f} s; "
        + ("every target holds." if ok else "TARGETS MISSED (see notes).")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
