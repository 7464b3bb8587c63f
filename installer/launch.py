"""Entry point of the frozen ``rawjpeg-gui`` (PyInstaller starts this file).

It does exactly what the ``rawjpeg-gui`` gui-script does, so the frozen app and the
installed package behave the same, ``--self-test`` included.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless unless a worker ever uses processes
    from rawjpeg_gui.app import main

    sys.exit(main())
