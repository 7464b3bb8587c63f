"""What the GUI thread is spared: the causes of event-loop gaps found by profiling.

Each of these made the GUI thread work for tens of milliseconds per coding (while the
workers held the GIL or the cores), so they are asserted as facts, not as timings:

* the views draw a fitted preview from halvings the workers made, never scaling one
  on the GUI thread;
* a new plot title (the PSNR of each coding) does not re-lay out the plots canvas,
  which resized all four plots and redrew every axis.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path


def _open_measured(qtbot, window, path: Path) -> None:  # type: ignore[no-untyped-def]
    window.resize(1400, 900)
    window.open_file(path)
    qtbot.waitUntil(
        lambda: window.session.current is not None and window.session.current.psnr is not None,
        timeout=20000,
    )


def test_views_draw_fitted_previews_from_the_workers_halvings(qtbot, window, kdc: Path):
    _open_measured(qtbot, window, kdc)
    compare = window.compare
    width = window.session.image.size[0]
    preview_width = window.session.image.display.shape[1]
    # The fitted pane shows the preview at half its size or less: a halving is drawn.
    assert compare.left.zoom() * width / preview_width <= 0.5
    window.grab()  # paints every pane
    items = (compare._original, compare._recon, compare._split_recon)
    assert [item.scaled_here for item in items] == [0, 0, 0]
    assert len(window.session.current.display_levels) >= 1


def test_a_new_plot_title_does_not_relayout_the_plots(qtbot, window, kdc: Path):
    _open_measured(qtbot, window, kdc)
    plots = window.plots
    widths: list[list[float]] = []

    def settled() -> bool:  # the window's layout after opening has come to rest
        widths.append([plot.getViewBox().width() for plot in plots._plots])
        return len(widths) > 2 and widths[-1] == widths[-2] == widths[-3]

    qtbot.waitUntil(settled, timeout=10000)
    resized: list[object] = []
    for plot in plots._plots:
        plot.getViewBox().sigResized.connect(resized.append)
    coded = window.session.current
    plots.show_coded(replace(coded, psnr=None, ssim=None, error=None), measuring=True)
    qtbot.wait(20)
    plots.show_coded(replace(coded, psnr=coded.psnr + 11.111, ssim=0.123))
    qtbot.wait(20)
    assert "PSNR" in plots.error_plot.titleLabel.text
    assert resized == []
