"""python -m rawjpeg_gui.cli"""

import sys

from . import main

sys.exit(main())
