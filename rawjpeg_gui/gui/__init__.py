"""The desktop app's widgets: PySide6 and pyqtgraph, no image maths, no file formats.

:class:`~rawjpeg_gui.gui.main_window.MainWindow` arranges the panels and routes
signals: the :class:`~rawjpeg_gui.gui.browser_panel.BrowserPanel` (folders and
thumbnails) picks a file, the session in :mod:`rawjpeg_gui.workers` loads and codes
it, and the results fan out to the :class:`~rawjpeg_gui.gui.compare_view.CompareView`,
the :class:`~rawjpeg_gui.gui.inspector_panel.InspectorPanel` and the
:class:`~rawjpeg_gui.gui.plots_panel.PlotsPanel`. Pixels arrive as numpy arrays and
become QImages here, on the GUI thread.
"""
