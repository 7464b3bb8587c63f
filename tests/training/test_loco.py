"""Leave-one-camera-out (scripts/loco_eval.py): each fold is the shipped recipe without one camera."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest

from rawjpeg_gui.training import split

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def loco():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("loco_eval", ROOT / "scripts" / "loco_eval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["loco_eval"] = module
    spec.loader.exec_module(module)
    return module


def test_each_stage_is_the_shipped_config_with_the_folds_own_folders(loco, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for stage in loco.STAGES:
        ours = tomllib.loads(loco.stage_config(stage, tmp_path).read_text())
        shipped = tomllib.loads((loco.CONFIGS / f"{stage}.toml").read_text())
        assert ours["data"].pop("cache") == str(tmp_path / "cache.npz")
        shipped["data"].pop("cache")
        assert ours["train"].pop("out") == str(tmp_path / stage)
        shipped["train"].pop("out")
        if "init_from" in shipped["train"]:
            shipped["train"].pop("init_from")
            assert ours["train"].pop("init_from") == str(tmp_path / "pretrain" / "checkpoint.pt")
        assert ours == shipped


def test_a_fold_never_trains_on_the_camera_it_scores(loco) -> None:  # type: ignore[no-untyped-def]
    sides = split.load()
    for camera in sides.cameras:
        held, others = loco.fold_files(camera, sides)
        assert all(sides.camera(p.name) == camera for p in held)
        assert not {Path(p).name for p in others} & set(sides.cameras[camera][1])
        assert {sides.camera(Path(p).name) for p in others} <= set(sides.cameras) - {camera}
