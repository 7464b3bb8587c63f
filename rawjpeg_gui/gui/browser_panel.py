"""Folder tree and thumbnail grid of raw files and adapter-JPEGs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileSystemModel,
    QListView,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from rawjpeg_gui.core.rawio import is_raw_path

from .images import to_qimage, with_badge

#: Role holding a grid item's file path.
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
#: Badge colours.
_RAW_COLOUR, _ADAPTER_COLOUR = QColor("#2e7d32"), QColor("#ef6c00")
ICON_SIDE = 96


def badge_for(path: Path) -> str:
    """ "RAW" for camera raws, "ADAPTER" for JPEGs (the grid lists only adapter candidates)."""
    return "RAW" if is_raw_path(path) else "ADAPTER"


class BrowserPanel(QWidget):
    """Folder tree on top, thumbnails of the listed files below.

    Attributes:
        tree: folders of the file system.
        grid: icon-mode list of the files (badge RAW / ADAPTER).
        model: the grid's item model.
        paths: the files listed, in grid order.

    Signals:
        folder_selected(object): a folder (Path) was picked in the tree.
        file_activated(object): a file (Path) was picked in the grid.
        thumbnails_wanted(object): list of Paths whose thumbnails are missing.
    """

    folder_selected = Signal(object)
    file_activated = Signal(object)
    thumbnails_wanted = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fs_model = QFileSystemModel(self)
        self.fs_model.setFilter(QDir.Filter.AllDirs | QDir.Filter.NoDotAndDotDot)
        self.fs_model.setRootPath("")
        self.tree = QTreeView()
        self.tree.setModel(self.fs_model)
        self.tree_root = Path.home()
        self._set_tree_root(self.tree_root)
        for column in (1, 2, 3):
            self.tree.hideColumn(column)
        self.tree.setHeaderHidden(True)
        self.model = QStandardItemModel(self)
        self.grid = QListView()
        self.grid.setModel(self.model)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.grid.setGridSize(QSize(ICON_SIDE + 40, ICON_SIDE + 34))
        self.grid.setSpacing(4)
        self.grid.setWordWrap(True)
        # Names of one camera differ at the end (P003908 / P003911): keep the end visible.
        self.grid.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.grid.setUniformItemSizes(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.paths: list[Path] = []
        self._rows: dict[str, QStandardItem] = {}
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.grid)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._pending_folder: Path | None = None
        self._selecting = False
        self.fs_model.directoryLoaded.connect(self._on_fs_model_directory_loaded)
        self.tree.clicked.connect(self._on_tree_clicked)
        self.grid.selectionModel().currentChanged.connect(self._on_grid_current_changed)
        self.grid.activated.connect(self._on_grid_activated)

    def _set_tree_root(self, root: Path) -> None:
        self.tree_root = root
        self.tree.setRootIndex(self.fs_model.index(str(root)))

    def show_folder_in_tree(self, folder: Path) -> None:
        """Select ``folder`` in the tree without emitting :attr:`folder_selected`.

        The tree starts at the home folder for folders inside it, else at the folder's
        parent (never at the file system's root).
        """
        folder = Path(folder)
        home = Path.home()
        root = home if folder.is_relative_to(home) and folder != home else folder.parent
        if not folder.is_relative_to(self.tree_root) or folder == self.tree_root:
            self._set_tree_root(root)
        self._pending_folder = folder
        self.fs_model.setRootPath(str(folder))  # loads the folder and its parents
        self._reveal_pending()

    def _reveal_pending(self) -> None:
        folder = self._pending_folder
        if folder is None:
            return
        index = self.fs_model.index(str(folder))
        if not index.isValid():
            return
        parent = index.parent()
        while parent.isValid():
            self.tree.expand(parent)
            parent = parent.parent()
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def _on_fs_model_directory_loaded(self, path: str) -> None:
        # The file system model loads lazily: reveal the folder again as its parents load.
        if self._pending_folder is not None:
            self._reveal_pending()
            if Path(path) == self._pending_folder:
                self._pending_folder = None

    def set_files(self, paths: list[Path]) -> None:
        """List ``paths`` in the grid and ask for their thumbnails."""
        self._selecting = True  # refilling the grid moves its current item: not a user's pick
        try:
            self._fill(paths)
        finally:
            self._selecting = False
        if self.paths:
            self.thumbnails_wanted.emit(list(self.paths))

    def _fill(self, paths: list[Path]) -> None:
        self.model.clear()
        self._rows.clear()
        self.paths = list(paths)
        for path in self.paths:
            item = QStandardItem(path.name)
            item.setData(str(path), PATH_ROLE)
            item.setToolTip(str(path))
            placeholder = QImage(ICON_SIDE, ICON_SIDE * 2 // 3, QImage.Format.Format_RGB32)
            placeholder.fill(self.palette().mid().color())
            item.setIcon(self._icon(placeholder, path))
            self.model.appendRow(item)
            self._rows[str(path)] = item

    def set_thumbnail(self, path: str, pixels) -> None:  # type: ignore[no-untyped-def]
        """Show the thumbnail of ``path`` (uint8 H x W x 3)."""
        item = self._rows.get(path)
        if item is not None:
            item.setIcon(self._icon(to_qimage(pixels), Path(path)))

    def select(self, path: Path) -> None:
        """Highlight ``path`` in the grid without emitting :attr:`file_activated`."""
        item = self._rows.get(str(path))
        if item is not None:
            # The selection model's signals must flow (the view paints the highlight from
            # them); only this panel's own reaction is held back.
            self._selecting = True
            try:
                self.grid.setCurrentIndex(item.index())
                self.grid.scrollTo(item.index())
            finally:
                self._selecting = False

    def neighbour(self, current: Path | None, step: int) -> Path | None:
        """The file ``step`` places after ``current`` in the grid (wrapping), or ``None``."""
        if not self.paths:
            return None
        try:
            i = self.paths.index(current) if current is not None else -step
        except ValueError:
            i = -step
        return self.paths[(i + step) % len(self.paths)]

    def _icon(self, image: QImage, path: Path) -> QIcon:
        scaled = image.scaled(
            ICON_SIDE,
            ICON_SIDE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        badge = badge_for(path)
        colour = _RAW_COLOUR if badge == "RAW" else _ADAPTER_COLOUR
        return QIcon(QPixmap.fromImage(with_badge(scaled, badge, colour)))

    def _on_tree_clicked(self, index: QModelIndex) -> None:
        self.folder_selected.emit(Path(self.fs_model.filePath(index)))

    def _on_grid_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and not self._selecting:
            self.file_activated.emit(Path(current.data(PATH_ROLE)))

    def current_path(self) -> Path | None:
        """The file highlighted in the grid, or ``None``."""
        index = self.grid.currentIndex()
        return Path(index.data(PATH_ROLE)) if index.isValid() else None

    def _on_grid_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.file_activated.emit(Path(index.data(PATH_ROLE)))
