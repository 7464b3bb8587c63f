"""The camera split of the real raws (``models/split.toml``): train, validation, test.

Every script that builds training data or makes a choice asks this module which files
it may use, so a test-camera file can never reach training or selection unnoticed:
:func:`check` raises for a file outside the allowed splits, and a file the split does
not know is refused too (a new raw must be given a side before it is used).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPLIT_FILE = ROOT / "models" / "split.toml"
SPLITS = ("train", "validation", "test")
#: Where the real raws live (beside the repository, and the fetched registry raws).
RAW_DIRS = (
    ROOT.parent / "shared" / "data" / "raw",
    ROOT.parent / "shared" / "data" / "raw-more",
    ROOT / ".test-data",
)


class SplitError(ValueError):
    """A file is used for something its split forbids, or the split file is malformed."""


@dataclass(frozen=True)
class Split:
    """File name -> (camera, split), as ``models/split.toml`` says."""

    cameras: dict[str, tuple[str, tuple[str, ...]]]

    def side(self, name: str) -> str:
        """The split of a raw file (by file name)."""
        for split, files in self.cameras.values():
            if name in files:
                return split
        raise SplitError(f"{name} is in no camera of models/split.toml; give it a side first.")

    def camera(self, name: str) -> str:
        """The camera key of a raw file."""
        for cam, (_, files) in self.cameras.items():
            if name in files:
                return cam
        raise SplitError(f"{name} is in no camera of models/split.toml.")

    def names(self, *splits: str) -> list[str]:
        """File names of the given splits, in the file's order."""
        return [n for split, files in self.cameras.values() if split in splits for n in files]

    def paths(self, *splits: str) -> list[Path]:
        """Existing files of the given splits (searched in :data:`RAW_DIRS`)."""
        out = []
        for name in self.names(*splits):
            for d in RAW_DIRS:
                if (d / name).is_file():
                    out.append(d / name)
                    break
        return out

    def check(self, paths: list[str] | list[Path], allowed: tuple[str, ...], purpose: str) -> None:
        """Raise :class:`SplitError` when a path's split is not in ``allowed``."""
        for p in paths:
            side = self.side(Path(p).name)
            if side not in allowed:
                raise SplitError(
                    f"{Path(p).name} is a {side} file; it may not be used for {purpose}."
                )


def load(path: str | os.PathLike[str] = SPLIT_FILE) -> Split:
    """Read and validate the split file (a camera's frames on one side, no file twice)."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    cameras: dict[str, tuple[str, tuple[str, ...]]] = {}
    seen: set[str] = set()
    for cam, entry in data.get("cameras", {}).items():
        split, files = entry.get("split"), tuple(entry.get("files", ()))
        if split not in SPLITS or not files:
            raise SplitError(
                f"Camera {cam} in {path} needs a split ({', '.join(SPLITS)}) and files."
            )
        twice = seen.intersection(files)
        if twice:
            raise SplitError(f"{sorted(twice)[0]} appears twice in {path}.")
        seen.update(files)
        cameras[cam] = (split, files)
    return Split(cameras)
