"""The job functions on real raws: load, code, render, rate-distortion, file discovery."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from rawjpeg_gui.core import codec, display
from rawjpeg_gui.core.errors import RawJpegError
from rawjpeg_gui.workers import jobs


def _run(gen):
    """Drive a job generator to its return value, collecting progress."""
    steps = []
    while True:
        try:
            steps.append(next(gen))
        except StopIteration as stop:
            return stop.value, steps


@pytest.mark.slow
def test_load_and_code_a_real_raw(kdc: Path):
    loaded = jobs.load_image(kdc)
    assert loaded.kind == "raw" and loaded.original is not None
    assert loaded.size == (loaded.original.width, loaded.original.height)
    assert loaded.display.dtype == np.uint8 and loaded.display.mean() > 30  # not black
    coded, steps = _run(jobs.code_image(loaded.original, 60, 0.0, loaded.base_gain))
    assert steps and coded.quality == 60
    assert coded.psnr > 30 and 0.5 < coded.ssim <= 1
    assert coded.bpp == pytest.approx(
        8 * len(coded.jpeg) / (loaded.original.width * loaded.original.height)
    )
    assert coded.error is not None and max(coded.error.shape) <= 512
    assert coded.error_display.shape[:2] == coded.display.shape[:2]
    assert coded.display.shape == loaded.display.shape


@pytest.mark.slow
def test_adapter_jpeg_with_and_without_the_raw_beside_it(kdc: Path, tmp_path: Path):
    original = jobs.load_image(kdc).original
    coded, _ = _run(jobs.code_image(original, 80))
    alone = tmp_path / "alone" / "photo.jpg"
    alone.parent.mkdir()
    alone.write_bytes(coded.jpeg)
    loaded = jobs.load_image(alone)
    assert loaded.kind == "adapter" and loaded.original is None
    assert loaded.stored is not None and loaded.stored.quality == 80 and loaded.stored.psnr is None
    # Shown as a colour-managed viewer shows it (its profile), close to the raw's rendering.
    rendered = display.render(original.data, original.meta, base_gain=loaded.base_gain)
    bgr = (2, 1, 0) if sys.byteorder == "little" else (1, 2, 3)  # screen_pixels' order
    shown = np.asarray(loaded.display, np.float32)[..., bgr]
    assert shown.shape == rendered.shape
    plain = display.orient(codec.decode_bytes(coded.jpeg).adapted, original.meta.orientation)
    # Globally the photograph (the gamma map still shifts tones locally), not camera RGB.
    managed_error = np.abs(shown.mean(axis=(0, 1)) - rendered.mean(axis=(0, 1))).max()
    plain_error = np.abs(plain.mean(axis=(0, 1)) - rendered.mean(axis=(0, 1))).max()
    assert managed_error < 8.0 and plain_error > 4 * managed_error
    beside = tmp_path / kdc.name
    beside.write_bytes(kdc.read_bytes())
    (tmp_path / f"{kdc.stem}.jpg").write_bytes(coded.jpeg)
    assert jobs.sibling_raw(tmp_path / f"{kdc.stem}.jpg") == beside
    paired = jobs.load_image(tmp_path / f"{kdc.stem}.jpg")
    assert paired.original is not None and paired.original_path == beside
    assert paired.stored.psnr == pytest.approx(coded.psnr, abs=1e-6)


def test_corrupt_and_unsupported_files_raise_one_clear_error(tmp_path: Path):
    bad_raw = tmp_path / "broken.CR2"
    bad_raw.write_bytes(b"II*\x00" + b"\x00" * 100)
    plain = tmp_path / "plain.jpg"
    from PIL import Image

    Image.new("RGB", (16, 16)).save(plain)
    for path in (bad_raw, plain, tmp_path / "notes.txt"):
        if path.suffix == ".txt":
            path.write_text("hello")
        with pytest.raises(RawJpegError) as info:
            jobs.load_image(path)
        assert str(info.value).endswith(".")


def test_collect_paths_recursive_and_rejects(kdc: Path, tmp_path: Path):
    (tmp_path / "sub").mkdir()
    raw = tmp_path / "sub" / kdc.name
    raw.write_bytes(kdc.read_bytes())
    (tmp_path / "readme.txt").write_text("x")
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "plain.jpg")
    found, rejected = jobs.collect_paths([tmp_path])
    assert found == [raw]
    assert {p.name for p in rejected} == {"readme.txt", "plain.jpg"}
    flat, _ = jobs.collect_paths([tmp_path], recursive=False)
    assert flat == []


@pytest.mark.slow
def test_render_views_and_rd_points(kdc: Path):
    loaded = jobs.load_image(kdc)
    views = jobs.render_views(loaded.original, loaded.original, 1.0, loaded.base_gain, full=True)
    assert views.full and views.original.shape == views.reconstruction.shape
    assert views.original.mean() >= loaded.display.mean()  # +1 EV is brighter
    points = list(
        jobs.rd_points(loaded.original, qualities=(30, 90), methods=("adapter", "linear"))
    )
    assert [(p.method, p.quality) for p in points] == [
        ("adapter", 30),
        ("adapter", 90),
        ("linear", 30),
        ("linear", 90),
    ]
    adapter = [p for p in points if p.method == "adapter"]
    assert adapter[1].bpp > adapter[0].bpp and adapter[1].psnr > adapter[0].psnr


def test_damaged_parameters_are_refused(kdc: Path, tmp_path: Path):
    from rawjpeg_gui.core import codec

    data = bytearray(codec.encode_file(kdc, 70).jpeg)
    start = bytes(data).find(b"\xff\xeb") + 40  # inside the parameter segment
    data[start] ^= 0xFF
    bad = tmp_path / "damaged.jpg"
    bad.write_bytes(bytes(data))
    with pytest.raises(RawJpegError) as info:
        jobs.load_image(bad)
    assert str(info.value).endswith(".")


def test_screen_levels_are_the_halvings_a_view_draws_from():
    rgb = np.random.default_rng(0).integers(0, 256, (301, 517, 3), dtype=np.uint8)
    pixels = jobs.screen_pixels(rgb)
    levels = jobs.screen_levels(pixels)
    shapes = [level.shape for level in levels]
    assert shapes == [(150, 258, 4), (75, 129, 4), (37, 64, 4)]  # until a side is <= 64
    mean = pixels[:2, :2].reshape(4, 4).mean(axis=0)
    assert np.abs(levels[0][0, 0].astype(float) - mean).max() <= 0.5
    flat = jobs.screen_levels(jobs.screen_pixels(np.full((260, 260, 3), 77, np.uint8)))
    assert all((level == flat[0][0, 0]).all() for level in flat)  # opaque stays opaque
    assert jobs.screen_levels(np.zeros((64, 900, 4), np.uint8)) == []
