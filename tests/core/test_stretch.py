"""LibRaw's stretch of non-square photosites: the model, its inverse and the DNG tag.

The model is checked against LibRaw itself: a CFA DNG with ``DefaultScale`` is
stretched by LibRaw exactly as :func:`stretch.stretch` stretches the same DNG's
unscaled demosaic.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from libraw_renders import linear_back

from rawjpeg_gui.core import stretch
from rawjpeg_gui.core.dng import write_dng
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.rawio import RawImage

#: The Kodak DC120's pixel aspect as LibRaw computes it (height / 0.75 / width).
DC120 = 976 / 0.75 / 848


@pytest.mark.parametrize(
    ("aspect", "n", "length"), [(DC120, 848, 1301), (2.0, 10, 20), (0.5, 7, 14)]
)
def test_stretched_length_and_its_inverse(aspect: float, n: int, length: int) -> None:
    assert stretch.stretched_length(n, aspect) == length
    shape = (5, length) if aspect > 1 else (length, 5)
    sensor = (5, n) if aspect > 1 else (n, 5)
    assert stretch.sensor_shape(shape, aspect) == sensor
    assert stretch.sensor_shape(shape, 1.0) is None


def test_sensor_shape_finds_every_size_whose_stretch_copies_every_line() -> None:
    for aspect in (DC120, 1.25, 0.8, 0.5):
        axis = stretch.stretch_axis(aspect)
        for n in range(2, 300):
            shape = [3, 3]
            shape[axis] = stretch.stretched_length(n, aspect)
            found = stretch.sensor_shape((shape[0], shape[1]), aspect)
            if stretch.source_lines(n, aspect)[-1] == n - 1:
                assert found is not None and found[axis] == n
            else:
                assert found is None and aspect in (1.25, 0.8)  # scale under 1.5


def test_a_stretch_that_leaves_a_sensor_line_out_has_no_sensor_shape() -> None:
    """At a scale of 1.1, 4 lines stretch to 4 (positions 0, 0.91, 1.82, 2.73): line 3
    is never copied, so no sensor grid can be recovered."""
    assert stretch.stretched_length(4, 1.1) == 4
    assert stretch.source_lines(4, 1.1).tolist() == [0, 0, 1, 2]
    assert stretch.sensor_shape((5, 4), 1.1) is None
    for bad in (float("nan"), 0.0, -2.0, 1e-300, 1e300):
        assert stretch.sensor_shape((5, 4), bad) is None


def test_source_lines_copy_the_line_at_or_before_each_position() -> None:
    lines = stretch.source_lines(848, DC120)
    assert lines[:8].tolist() == [0, 0, 1, 1, 2, 3, 3, 4]  # positions 0, 0.65, 1.30, ...
    assert lines[-1] == 847 and np.all(np.diff(lines) >= 0)
    assert set(lines.tolist()) == set(range(848))  # every sensor line is copied
    # the positions are added up one step at a time: 244 steps fall just short of 159
    assert lines[244] == 158 and lines[488] == 318


def test_unstretch_inverts_stretch_and_averages_the_copies() -> None:
    rng = np.random.default_rng(1)
    grid = rng.random((6, 848, 3), dtype=np.float32)
    image = stretch.stretch(grid, DC120)
    assert image.shape == (6, 1301, 3)
    assert stretch.is_stretch(image, DC120, (6, 848))
    np.testing.assert_array_equal(stretch.unstretch(image, DC120, (6, 848)), grid)
    noisy = image.copy()
    noisy[:, 1] += 0.5  # output columns 0 and 1 both copy sensor column 0
    np.testing.assert_allclose(stretch.unstretch(noisy, DC120, (6, 848))[:, 0], grid[:, 0] + 0.25)
    assert not stretch.is_stretch(noisy, DC120, (6, 848))
    tall = stretch.stretch(grid[:, :7], 0.5)
    assert tall.shape == (12, 7, 3)
    np.testing.assert_array_equal(stretch.unstretch(tall, 0.5, (6, 7)), grid[:, :7])
    with pytest.raises(ValueError):
        stretch.unstretch(image[:, :-1], DC120, (6, 848))


def test_an_interpolated_stretch_is_not_taken_for_a_copy() -> None:
    """A stretch that blends neighbouring lines (as LibRaw's source reads) is told apart."""
    grid = np.random.default_rng(2).random((4, 848), dtype=np.float32)
    lines = stretch.source_lines(848, DC120)
    frac = (np.arange(1301) / DC120 - lines).astype(np.float32)
    blended = grid[:, lines] * (1 - frac) + grid[:, np.minimum(lines + 1, 847)] * frac
    assert not stretch.is_stretch(blended, DC120, (4, 848))


def test_default_scale_reads_back_as_nearly_the_same_stretch() -> None:
    """LibRaw reads DefaultScale in single precision; the chosen value moves as few
    lines as any: one of 1301 for the DC120 (its own stretch lands just short of a whole
    number at one line and just past it at others), none for simple ratios."""
    h, v = stretch.default_scale(DC120, 848)
    assert v == 1 and abs(float(h) - DC120) < 1e-6
    read = stretch.read_default_scale(float(h), float(v))
    moved = np.count_nonzero(stretch.source_lines(848, read) != stretch.source_lines(848, DC120))
    assert moved == 1
    nearest = float(np.float32(DC120))
    assert (
        np.count_nonzero(stretch.source_lines(848, nearest) != stretch.source_lines(848, DC120))
        == 4
    )
    assert stretch.default_scale(2.0, 10) == (Fraction(2), Fraction(1))
    assert stretch.default_scale(0.5, 10) == (Fraction(1), Fraction(2))


@pytest.mark.parametrize("aspect", [DC120, 0.5])
def test_libraw_stretches_a_dng_with_default_scale_as_the_model_does(
    aspect: float, tmp_path: Path
) -> None:
    """The same CFA samples written with and without DefaultScale: LibRaw's demosaic of
    the first is the model's stretch of its demosaic of the second."""
    sensor = (64, 96)
    shape = list(sensor)
    axis = stretch.stretch_axis(aspect)
    shape[axis] = stretch.stretched_length(sensor[axis], aspect)
    rng = np.random.default_rng(4)
    mosaic = rng.integers(0, 4000, sensor).astype(np.uint16)
    meta = RawMeta(
        width=shape[1],
        height=shape[0],
        cfa_pattern="RGGB",
        cfa_pixel_aspect=aspect,
        white_level=4095.0,
        black_levels=[0.0] * 4,
        as_shot_wb=[2.0, 1.0, 1.5],
    )
    stretched = write_dng(
        tmp_path / "s.dng", RawImage(np.zeros((*shape, 3), np.float32), meta, mosaic)
    )
    square_meta = dataclasses.replace(
        meta, width=sensor[1], height=sensor[0], cfa_pixel_aspect=0.0, cfa_aligned=True
    )
    square = write_dng(
        tmp_path / "q.dng", RawImage(np.zeros((*sensor, 3), np.float32), square_meta, mosaic)
    )
    got = linear_back(stretched)
    assert got.shape[:2] == tuple(shape)
    np.testing.assert_array_equal(got, stretch.stretch(linear_back(square), aspect))
