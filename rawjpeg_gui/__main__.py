"""``python -m rawjpeg_gui [PATH ...]``: start the desktop app."""

from rawjpeg_gui.app import main

raise SystemExit(main())
