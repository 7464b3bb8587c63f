"""Where the main window's panels go, for screens from 800 x 500 up.

Two arrangements:

* **wide** (the window at least :data:`WIDE_MIN` in both directions): the browser on
  the left, the inspector on the right, the plots in a row below the photo;
* **compact** (smaller windows): browser, inspector and plots share one tabbed column
  on the left, so the photo keeps the rest of the window; the plots stack vertically
  there (:meth:`PlotsPanel.set_columns`).

The arrangement follows the window's size when it crosses the threshold, and
"Reset layout" restores the one that fits. A saved layout whose docks came back
unusably narrow (a browser a few pixels wide) is widened again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

if TYPE_CHECKING:
    from .main_window import MainWindow

#: Smallest window (width, height) that gets the wide arrangement.
WIDE_MIN = (1100, 700)
#: Dock widths and heights (pixels) the arrangements start from.
SIDE_WIDTH, COMPACT_WIDTH, PLOTS_HEIGHT = 280, 250, 230
#: A dock narrower than this after restoring a saved state is widened again.
MIN_USABLE_WIDTH = 150

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


def is_wide(width: int, height: int) -> bool:
    """True when a window of this size gets the wide arrangement."""
    return width >= WIDE_MIN[0] and height >= WIDE_MIN[1]


class WindowLayout:
    """Arranges the docks of ``window`` (browser, inspector, plots).

    Attributes:
        wide: True while the wide arrangement is in place.
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.wide: bool | None = None

    @property
    def docks(self) -> tuple[QDockWidget, QDockWidget, QDockWidget]:
        browser, inspector, plots = self.window.docks
        return browser, inspector, plots

    def arrange(self, wide: bool, show_all: bool = True) -> None:
        """Put the docks in the wide or the compact arrangement (all shown, or those
        shown before unless ``show_all``)."""
        w = self.window
        browser, inspector, plots = self.docks
        hidden = [] if show_all else [d for d in self.docks if d.isHidden()]
        for dock in self.docks:
            dock.setFloating(False)
            w.removeDockWidget(dock)
        if wide:
            w.addDockWidget(LEFT, browser)
            w.addDockWidget(RIGHT, inspector)
            w.addDockWidget(BOTTOM, plots)
            for dock in self.docks:
                dock.show()
            w.resizeDocks([browser, inspector], [SIDE_WIDTH, SIDE_WIDTH], Qt.Orientation.Horizontal)
            w.resizeDocks([plots], [PLOTS_HEIGHT], Qt.Orientation.Vertical)
        else:
            w.addDockWidget(LEFT, browser)
            w.tabifyDockWidget(browser, inspector)
            w.tabifyDockWidget(inspector, plots)
            for dock in self.docks:
                dock.show()
            browser.raise_()
            w.resizeDocks([browser], [COMPACT_WIDTH], Qt.Orientation.Horizontal)
        for dock in hidden:
            dock.hide()
        w.plots.set_columns(4 if wide else 1)
        self.wide = wide

    def reset(self) -> None:
        """The arrangement that fits the window's present size."""
        self.arrange(is_wide(self.window.width(), self.window.height()))

    def follow_size(self) -> None:
        """Switch arrangement when the window crosses the wide/compact threshold."""
        wide = is_wide(self.window.width(), self.window.height())
        if wide != self.wide:
            self.arrange(wide, show_all=False)

    def after_restore(self) -> None:
        """Widen docks that a saved layout left unusably narrow; note the arrangement."""
        w = self.window
        self.wide = is_wide(w.width(), w.height())
        browser, inspector, plots = self.docks
        tabbed = bool(w.tabifiedDockWidgets(browser))
        w.plots.set_columns(1 if tabbed or w.dockWidgetArea(plots) != BOTTOM else 4)
        narrow = [
            d
            for d in (browser, inspector)
            if d.isVisible() and not d.isFloating() and d.width() < MIN_USABLE_WIDTH
        ]
        if narrow:
            width = SIDE_WIDTH if self.wide else COMPACT_WIDTH
            w.resizeDocks(narrow, [width] * len(narrow), Qt.Orientation.Horizontal)
