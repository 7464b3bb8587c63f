"""Entry point of the frozen ``rawjpeg-gui`` (PyInstaller starts this file).

It does what the ``rawjpeg-gui`` gui-script does, so the frozen app and the installed
package behave the same (``--self-test`` included), plus ``--desktop-integration ...``,
the frozen counterpart of the ``rawjpeg-desktop-integration`` command.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # batch export's worker processes re-enter here
    if sys.argv[1:2] == ["--desktop-integration"]:
        # The frozen app's post-install step (what rawjpeg-desktop-integration is for pip):
        #   rawjpeg-gui --desktop-integration [install|uninstall] [--set-default]
        from rawjpeg_gui.desktop_integration import main as integrate

        sys.exit(integrate(sys.argv[2:]))
    from rawjpeg_gui.app import main

    sys.exit(main())
