"""Build the training patch cache for ``rawjpeg_gui.training`` (needs the 'train' extra).

Usage: ``python scripts/make_training_data.py -o runs/cache.npz [--raw FILE ...]``.
By default it uses the train-split real raws of ``models/split.toml`` (``../shared/data/raw``
and ``raw-more``), plus unprocessed offline photographs (see ``rawjpeg_gui/training/data.py``);
it refuses any validation or test file (``rawjpeg_gui/training/split.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.training import split  # noqa: E402
from rawjpeg_gui.training.data import build_cache, photo_count  # noqa: E402

#: Offline photographs scripts/fetch_training_photos.sh provides
#: (rawjpeg_gui/training/photos.toml; models/MODEL_CARD.md).
PHOTOS = photo_count()


def training_raws(requested: list[str] | None) -> list[str]:
    """The real raws to train on: ``requested`` (checked) or every train-split file here.

    Raises:
        split.SplitError: a requested file is a validation or test file, or unknown.
    """
    sides = split.load()
    raws = requested if requested is not None else [str(p) for p in sides.paths("train")]
    sides.check(raws, ("train",), "training")
    return raws


def per_camera_counts(raws: list[str], per_camera: int, sides: split.Split) -> dict[str, int]:
    """Patches per raw when each camera's raws share ``per_camera`` patches (at least 1
    a raw), so that every camera of the split weighs the same."""
    cameras = [sides.camera(Path(f).name) for f in raws]
    return {f: max(1, per_camera // cameras.count(c)) for f, c in zip(raws, cameras, strict=True)}


def main() -> None:
    """Parse arguments and write the cache."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-o", "--output", default=str(ROOT / "runs" / "cache.npz"))
    ap.add_argument("--raw", nargs="*", help="real raw files (default: the train split)")
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--thumb", type=int, default=64)
    ap.add_argument("--per-raw", type=int, default=300)
    ap.add_argument(
        "--per-camera",
        type=int,
        default=0,
        help="share this many patches among each camera's raws (models/split.toml) "
        "instead of --per-raw per file, so that every camera weighs the same",
    )
    ap.add_argument("--per-photo", type=int, default=60)
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument(
        "--normalise",
        action="store_true",
        help="store the images after their camera normalisation (the photo look; models/MODEL_CARD.md)",
    )
    ap.add_argument(
        "--balance-power",
        type=float,
        default=0.0,
        help="store the images scaled by the encoder's white balance at this power "
        "(core/search.balance; the encoder uses 0.5); 0: camera RGB",
    )
    ap.add_argument(
        "--display",
        action="store_true",
        help="also store each image's display matrix, for the loss's display term "
        "([loss] w_display; models/ABLATIONS.md)",
    )
    ap.add_argument(
        "--allow-fewer-photos", action="store_true", help="build without every offline photograph"
    )
    args = ap.parse_args()
    try:
        raws = training_raws(args.raw)
    except split.SplitError as exc:
        sys.exit(f"refusing to build the training data: {exc}")
    from rawjpeg_gui.training.data import photo_paths

    found = len(photo_paths())
    if found < PHOTOS and not args.allow_fewer_photos:
        sys.exit(
            f"only {found} of the {PHOTOS} offline photographs are here: run "
            "scripts/fetch_training_photos.sh (or pass --allow-fewer-photos)"
        )
    per_raw: int | dict[str, int] = args.per_raw
    if args.per_camera:
        per_raw = per_camera_counts(raws, args.per_camera, split.load())
    cache = build_cache(
        raws,
        args.patch,
        args.thumb,
        per_raw,
        args.per_photo,
        args.variants,
        normalise=args.normalise,
        balance_power=args.balance_power,
        display=args.display,
    )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    cache.save(args.output)
    print(f"{len(cache.patches)} patches from {len(cache.names)} images -> {args.output}")
    for n, s in zip(cache.names, cache.sizes, strict=True):
        print(f"  {n}: {s[0]}x{s[1]}")


if __name__ == "__main__":
    main()
