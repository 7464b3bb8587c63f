"""The camera split (models/split.toml): every real raw has one side, and test files
reach neither the training data builder nor any selection script."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from realdata import SHARED_RAW, real_raw_files

from rawjpeg_gui.training import split

ROOT = Path(__file__).resolve().parents[2]


def _builder():
    spec = importlib.util.spec_from_file_location(
        "make_training_data", ROOT / "scripts" / "make_training_data.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_real_raw_has_exactly_one_side_and_cameras_do_not_straddle():
    sides = split.load()
    more = sorted((SHARED_RAW.parent / "raw-more").glob("*"))
    files = real_raw_files() + [f for f in more if f.is_file()]
    if not files:
        pytest.skip("no real raws here (see ../shared/DATA.md)")
    for f in files:
        assert sides.side(f.name) in split.SPLITS
    # A camera's frames are on one side by construction (one split per camera entry);
    # the same camera must not be listed twice under different keys.
    prefixes = {}
    for cam, (side, names) in sides.cameras.items():
        for n in names:
            key = re.sub(r"_?\d+\.\w+$|_p\d+\.\w+$", "", n.lower())
            assert prefixes.setdefault(key, side) == side, f"{cam}: {n} straddles the split"
    assert sides.names("test") and sides.names("validation") and sides.names("train")


def test_training_data_builder_uses_train_files_only_and_refuses_others():
    sides = split.load()
    builder = _builder()
    default = builder.training_raws(None)
    assert default, "no train-split raw is here"
    assert all(sides.side(Path(p).name) == "train" for p in default)
    for name in sides.names("test") + sides.names("validation"):
        with pytest.raises(split.SplitError):
            builder.training_raws([f"/somewhere/{name}"])
    with pytest.raises(split.SplitError):
        builder.training_raws(["/somewhere/unknown_camera.nef"])


#: Scripts that use test files without choosing anything by them (and why).
CHOOSE_NOTHING = {
    "fetch_test_data.py": "downloads them",
    "make_bad_inputs.py": "cuts and damages them for the bad-input corpus",
    "gui_latency.py": "times the app opening them",
}


def test_no_selection_script_names_a_test_file():
    """Scripts that train, tune or select (training package, scripts/, benchmarks/) may
    reach test files only through the split; none may name one. The evaluation on test
    (benchmarks/model_v2.py) asks the split for them too."""
    test_names = split.load().names("test")
    offenders = []
    for folder in ("rawjpeg_gui/training", "scripts", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name in CHOOSE_NOTHING:
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in test_names if n in text]
    assert not offenders, offenders


def test_ablation_defaults_are_validation_files():
    from rawjpeg_gui.training import ablate

    sides = split.load()
    assert all(sides.side(Path(p).name) == "validation" for p in ablate.DEFAULT_RAWS)


def test_split_file_errors_are_clear(tmp_path):
    bad = tmp_path / "split.toml"
    bad.write_text(
        '[cameras.a]\nsplit = "train"\nfiles = ["x.crw"]\n[cameras.b]\nsplit = "test"\nfiles = ["x.crw"]\n'
    )
    with pytest.raises(split.SplitError, match="twice"):
        split.load(bad)
    bad.write_text('[cameras.a]\nsplit = "holdout"\nfiles = ["x.crw"]\n')
    with pytest.raises(split.SplitError, match="needs a split"):
        split.load(bad)


def test_per_camera_counts_weigh_every_camera_the_same():
    sides = split.load()
    raws = [str(p) for p in sides.paths("train")]
    counts = _builder().per_camera_counts(raws, 1500, sides)
    by_camera: dict[str, int] = {}
    for f, n in counts.items():
        by_camera[sides.camera(Path(f).name)] = by_camera.get(sides.camera(Path(f).name), 0) + n
    assert set(by_camera) == {"canon_s40", "kodak_dc120", "canon_550d"}
    assert all(1400 < n <= 1500 for n in by_camera.values())
    assert counts[raws[0]] == 1500 // len(sides.cameras["canon_s40"][1])
