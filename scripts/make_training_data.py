"""Build the training patch cache for ``rawjpeg_gui.training`` (needs the 'train' extra).

Usage: ``python scripts/make_training_data.py -o runs/cache.npz [--raw FILE ...]``.
By default it uses the real raws in ``../shared/data/raw`` that are not held out,
plus unprocessed offline photographs (see ``rawjpeg_gui/training/data.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.training.data import build_cache  # noqa: E402

#: Offline photographs the shipped model's cache was built from (models/MODEL_CARD.md).
PHOTOS = 12
#: Never trained on: the validation raws.
HELD_OUT = {"_DSC2164.ARW", "IMG_5952.CR2", "dcc_canon_g2_0304.crw", "dcc_kodak_dc120_p003911.kdc"}


def main() -> None:
    """Parse arguments and write the cache."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-o", "--output", default=str(ROOT / "runs" / "cache.npz"))
    ap.add_argument("--raw", nargs="*", help="real raw files (default: shared, minus held-out)")
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--thumb", type=int, default=64)
    ap.add_argument("--per-raw", type=int, default=300)
    ap.add_argument("--per-photo", type=int, default=60)
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument(
        "--allow-fewer-photos", action="store_true", help="build without every offline photograph"
    )
    args = ap.parse_args()
    raws = args.raw
    if raws is None:
        shared = ROOT.parent / "shared" / "data" / "raw"
        raws = sorted(str(p) for p in shared.iterdir() if p.name not in HELD_OUT)
    bad = [r for r in raws if Path(r).name in HELD_OUT]
    if bad:
        sys.exit(f"refusing to train on held-out files: {bad}")
    from rawjpeg_gui.training.data import photo_paths

    found = len(photo_paths())
    if found < PHOTOS and not args.allow_fewer_photos:
        sys.exit(
            f"only {found} of the {PHOTOS} offline photographs are here: run "
            "scripts/fetch_training_photos.sh (or pass --allow-fewer-photos)"
        )
    cache = build_cache(
        raws, args.patch, args.thumb, args.per_raw, args.per_photo, args.variants
    )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    cache.save(args.output)
    print(f"{len(cache.patches)} patches from {len(cache.names)} images -> {args.output}")
    for n, s in zip(cache.names, cache.sizes, strict=True):
        print(f"  {n}: {s[0]}x{s[1]}")


if __name__ == "__main__":
    main()
