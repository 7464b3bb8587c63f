"""The main window's actions and menus, each with a keyboard shortcut."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

#: name -> (menu, text, shortcut, status tip). Order is menu order; "-" is a separator.
ACTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("open_file", "&File", "&Open file…", "Ctrl+O", "Open a camera raw or an adapter-JPEG"),
    ("open_folder", "&File", "Open &folder…", "Ctrl+Shift+O", "List a folder's raws"),
    ("recent", "&File", "", "", ""),
    ("-", "&File", "", "", ""),
    (
        "export_jpeg",
        "&File",
        "&Export adapter-JPEG…",
        "Ctrl+E",
        "Write the current image as an adapter-JPEG at the chosen quality",
    ),
    (
        "save_tiff",
        "&File",
        "Save reconstruction as 16-bit &TIFF…",
        "Ctrl+S",
        "Write the reconstructed linear raw as a 16-bit TIFF",
    ),
    (
        "save_dng",
        "&File",
        "Save reconstructed raw as &DNG…",
        "Ctrl+Shift+S",
        "Write the reconstructed raw as a DNG",
    ),
    ("batch", "&File", "&Batch export…", "Ctrl+B", "Export many raws as adapter-JPEGs"),
    ("-", "&File", "", "", ""),
    ("quit", "&File", "&Quit", "Ctrl+Q", "Quit rawjpeg"),
    ("previous", "&Image", "&Previous image", "Alt+Left", "Open the previous file in the grid"),
    ("next", "&Image", "&Next image", "Alt+Right", "Open the next file in the grid"),
    ("-", "&Image", "", "", ""),
    ("quality_up", "&Image", "Quality +1", "Ctrl+Up", "Raise the JPEG quality by 1"),
    ("quality_down", "&Image", "Quality −1", "Ctrl+Down", "Lower the JPEG quality by 1"),
    ("quality_up10", "&Image", "Quality +10", "Ctrl+Shift+Up", "Raise the JPEG quality by 10"),
    ("quality_down10", "&Image", "Quality −10", "Ctrl+Shift+Down", "Lower the JPEG quality by 10"),
    (
        "rd_curve",
        "&Image",
        "Recompute &rate-distortion curve",
        "Ctrl+R",
        "Code the image at several qualities with the adapter and plain JPEG",
    ),
    ("fit", "&View", "&Fit in window", "Ctrl+0", "Show the whole image"),
    ("actual", "&View", "&Actual pixels (1:1)", "Ctrl+1", "One image pixel per screen pixel"),
    ("zoom_in", "&View", "Zoom &in", "Ctrl+=", "Zoom in"),
    ("zoom_out", "&View", "Zoom &out", "Ctrl+-", "Zoom out"),
    ("-", "&View", "", "", ""),
    ("mode_side", "&View", "&Side by side", "Ctrl+2", "Original and reconstruction side by side"),
    (
        "mode_split",
        "&View",
        "S&plit",
        "Ctrl+3",
        "One image split between original and reconstruction",
    ),
    ("mode_difference", "&View", "&Difference", "Ctrl+4", "Heat map of the absolute error"),
    ("-", "&View", "", "", ""),
    ("exposure_up", "&View", "Brighter (+⅓ EV)", "Ctrl+]", "Raise the display exposure"),
    ("exposure_down", "&View", "Darker (−⅓ EV)", "Ctrl+[", "Lower the display exposure"),
    ("exposure_reset", "&View", "Reset exposure", "Ctrl+\\", "Display exposure back to 0 EV"),
    ("-", "&View", "", "", ""),
    ("panels", "&View", "", "", ""),
    (
        "reset_layout",
        "&View",
        "Reset &layout",
        "Ctrl+Shift+L",
        "Put the panels back where they fit",
    ),
    ("full_screen", "&View", "F&ull screen", "F11", "Toggle full screen"),
    ("shortcuts", "&Help", "&Keyboard shortcuts", "F1", "List every keyboard shortcut"),
    ("about", "&Help", "&About rawjpeg", "Ctrl+F1", "Version and licence"),
)
#: Shortcuts of the panel toggles (browser, inspector, plots, quality toolbar).
PANEL_SHORTCUTS = ("F2", "F3", "F4", "F6")


class WindowActions:
    """Builds the menu bar of ``window``; each action is an attribute named as in ACTIONS.

    Attributes:
        actions: every action by name.
        recent_menu: the "Recent folders" submenu (filled by the window).
        panels_menu: the "Panels" submenu.
    """

    def __init__(self, window: QMainWindow) -> None:
        self.actions: dict[str, QAction] = {}
        menus: dict[str, QMenu] = {}
        for name, menu_name, text, shortcut, tip in ACTIONS:
            menu = menus.get(menu_name)
            if menu is None:
                menu = menus[menu_name] = window.menuBar().addMenu(menu_name)
            if name == "-":
                menu.addSeparator()
            elif name == "recent":
                self.recent_menu = menu.addMenu("&Recent folders")
            elif name == "panels":
                self.panels_menu = menu.addMenu("&Panels")
            else:
                action = QAction(text, window)
                action.setShortcut(QKeySequence(shortcut))
                action.setStatusTip(tip)
                action.setToolTip(f"{tip} ({shortcut})")
                menu.addAction(action)
                window.addAction(action)
                self.actions[name] = action
        for name in ("mode_side", "mode_split", "mode_difference", "full_screen"):
            self.actions[name].setCheckable(True)
        self.menus = menus

    def __getattr__(self, name: str) -> QAction:
        try:
            return self.__dict__["actions"][name]
        except KeyError:
            raise AttributeError(name) from None

    def fill_recent(self, folders: list[Path], open_folder: Callable[[Path], None]) -> None:
        """List ``folders`` in the Recent folders menu (Ctrl+Alt+1, 2, ...)."""
        menu = self.recent_menu
        menu.clear()
        for i, folder in enumerate(folders):
            action = QAction(str(folder), menu)
            action.setShortcut(QKeySequence(f"Ctrl+Alt+{i + 1}"))
            action.triggered.connect(partial(_open_recent, open_folder, folder))
            menu.addAction(action)
        menu.setEnabled(bool(menu.actions()))

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(action text, shortcut) of every action, for the help dialog."""
        rows = [
            (
                a.text().replace("&", ""),
                a.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
            )
            for a in self.actions.values()
        ]
        rows += [
            (
                a.text().replace("&", ""),
                a.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
            )
            for a in self.panels_menu.actions() + self.recent_menu.actions()
        ]
        return rows


def _open_recent(open_folder: Callable[[Path], None], folder: Path, _checked: bool = False) -> None:
    open_folder(folder)
