"""One quality check for every caller, and the bundled-data locator."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rawjpeg_gui.cli.common import quality_arg
from rawjpeg_gui.core import package_data
from rawjpeg_gui.core.batch.events import BatchOptions
from rawjpeg_gui.core.quality import check_quality, clamp_quality

MESSAGE = "The JPEG quality must be a whole number from 1 to 100"


@pytest.mark.parametrize("good, want", [(1, 1), (100, 100), ("75", 75), (" 9 ", 9), (75.0, 75)])
def test_whole_numbers_from_1_to_100_pass(good: object, want: int) -> None:
    assert check_quality(good) == want


@pytest.mark.parametrize("bad", [0, 101, -5, 7.5, True, None, "x", "1e2", "", float("nan")])
def test_everything_else_is_refused_with_one_message(bad: object) -> None:
    with pytest.raises(ValueError, match=MESSAGE):
        check_quality(bad)


def test_the_cli_and_the_batch_use_the_same_check(tmp_path: Path) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=MESSAGE):
        quality_arg("0")
    assert quality_arg("90") == 90
    with pytest.raises(ValueError, match=MESSAGE):
        BatchOptions(tmp_path, quality=0)


def test_stored_settings_are_clamped() -> None:
    assert [clamp_quality(q) for q in (-3, 1, 63, 100, 250)] == [1, 1, 63, 100, 100]


def test_bundled_data_is_found_in_the_source_tree() -> None:
    models = package_data.data_dir("models", "adapter.onnx")
    assert models is not None and (models / "analytic-gamma22.onnx").is_file()
    assert package_data.data_dir("resources", "rawjpeg.svg") is not None
    assert package_data.data_dir("models", "no-such-model.onnx") is None


def test_a_frozen_bundle_is_searched_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rawjpeg_gui" / "extras").mkdir(parents=True)
    (tmp_path / "rawjpeg_gui" / "extras" / "x.bin").write_bytes(b"x")
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert package_data.data_dir("extras", "x.bin") == tmp_path / "rawjpeg_gui" / "extras"
