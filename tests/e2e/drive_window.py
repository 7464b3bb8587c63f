"""Drive the real app window on a private X server the way a user does, and take pictures.

Starts Xvfb, the app (Qt's xcb platform) on a folder of real raws plus a broken one,
then uses xdotool for keys, clicks, a drag of the split line, a window resize and a
drag and drop of a file from a second window (a tiny Qt window that starts a real
XDND drag). After each step it saves a screenshot (ImageMagick ``import``) into the
output folder and writes ``steps.txt`` naming them; the pytest wrapper
(``test_drive_window.py``) checks the app's own log of what it showed.

Usage::

    python tests/e2e/drive_window.py OUTPUT_FOLDER

Needs: Xvfb, xdotool, ImageMagick (``.ci/run`` installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RAWS = REPO.parent / "shared" / "data" / "raw"
SCREEN = (1600, 1000)

DRAG_SOURCE = r"""
import sys
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication, QLabel

class Source(QLabel):
    def mousePressEvent(self, event):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(sys.argv[1])])
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)

app = QApplication([])
w = Source("drag me: " + sys.argv[1].rsplit("/", 1)[-1])
w.setWindowTitle("drag-source")
w.resize(300, 80)
w.move(1250, 880)
w.show()
app.exec()
"""


def run(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60).stdout.strip()


class Driver:
    """xdotool and import on one X display."""

    def __init__(self, display: str, out: Path) -> None:
        self.env = dict(os.environ, DISPLAY=display)
        self.out = out
        self.steps: list[str] = []

    def xdo(self, *args: str) -> str:
        return run("xdotool", *args, env=self.env)

    def window(self, name: str, timeout: float = 120) -> str:
        end = time.time() + timeout
        while time.time() < end:
            ids = self.xdo("search", "--onlyvisible", "--name", name).split()
            if ids:
                return ids[0]
            time.sleep(0.5)
        raise TimeoutError(f"no window named {name!r}")

    def key(self, win: str, *keys: str) -> None:
        # No window manager on a bare Xvfb: focus the window, then type through XTEST
        # (Qt ignores synthetic key events sent to a window).
        self.xdo("windowfocus", "--sync", win)
        for k in keys:
            self.xdo("key", k)
            time.sleep(0.15)

    def shot(self, name: str, note: str) -> None:
        path = self.out / f"{len(self.steps) + 1:02d}_{name}.png"
        run("import", "-window", "root", str(path), env=self.env)
        self.steps.append(f"{path.name}: {note}")


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    photos = work / "photos"
    photos.mkdir(parents=True)
    for name in (
        "dcc_canon_g2_0304.crw",
        "dcc_kodak_dc120_p003908.kdc",
        "dcc_kodak_dc120_p003911.kdc",
    ):
        shutil.copy(RAWS / name, photos / name)
    (photos / "bad.crw").write_bytes(b"\x00" * 4096)
    dropped = work / "dropped"
    dropped.mkdir()
    shutil.copy(RAWS / "dcc_canon_s40_0119.crw", dropped / "dcc_canon_s40_0119.crw")

    display = f":{90 + os.getpid() % 100}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"]
    )
    time.sleep(1.5)
    d = Driver(display, out)
    env = dict(d.env, QT_QPA_PLATFORM="xcb", RAWJPEG_CONFIG_DIR=str(work / "cfg"),
               RAWJPEG_CACHE_DIR=str(work / "cache"), PYTHONPATH=str(REPO))  # fmt: skip
    log = (out / "app.log").open("w")
    app = subprocess.Popen([sys.executable, "-m", "rawjpeg_gui", "-v", str(photos)], env=env,
                           stdout=log, stderr=subprocess.STDOUT, cwd=REPO)  # fmt: skip
    source = None
    try:
        win = d.window("rawjpeg")
        d.xdo("windowsize", win, "1400", "900")
        d.xdo("windowmove", win, "0", "0")
        time.sleep(12)  # bad.crw is first in the folder: the "could not open" view
        d.shot("first_file_fails", "bad.crw opened first: dedicated could-not-open view")
        d.key(win, "alt+Right")
        time.sleep(10)
        d.shot("next_image", "Alt+Right: G2 raw, its thumbnail highlighted")
        d.key(win, "ctrl+shift+Down")
        time.sleep(0.4)
        d.shot("slider_first_answer", "quality -10: 0.4 s later (proxy or full)")
        time.sleep(8)
        d.shot("slider_settled", "quality -10 settled: numbers and marker")
        d.key(win, "ctrl+3")
        time.sleep(1.5)
        x, y = 700, 420  # the split line sits in the middle of the image
        d.xdo("mousemove", "--sync", str(x), str(y))
        d.xdo("mousedown", "1")
        for step in range(1, 11):
            d.xdo("mousemove", "--sync", str(x - 25 * step), str(y))
            time.sleep(0.05)
        d.xdo("mouseup", "1")
        time.sleep(1)
        d.shot("split_dragged", "split mode, line dragged left with the mouse")
        d.key(win, "ctrl+2", "alt+Right")
        time.sleep(8)
        d.shot("kodak", "Alt+Right: Kodak KDC")
        d.xdo("windowsize", "--sync", win, "800", "500")
        time.sleep(3)
        d.shot("small_window", "800x500: compact layout")
        d.xdo("windowsize", "--sync", win, "1400", "900")
        time.sleep(2)
        d.key(win, "ctrl+shift+l")
        time.sleep(2)
        d.shot("reset_layout", "back to 1400x900, Reset layout")
        source = subprocess.Popen([sys.executable, "-c", DRAG_SOURCE, str(dropped / "dcc_canon_s40_0119.crw")],
                                  env=env)  # fmt: skip
        src = d.window("drag-source", 60)
        time.sleep(1)
        d.xdo("mousemove", "--sync", "--window", src, "60", "40")
        d.xdo("mousedown", "1")
        for i in range(1, 21):
            d.xdo("mousemove", "--sync", str(1300 - 35 * i), str(900 - 25 * i))
            time.sleep(0.05)
        d.xdo("mouseup", "1")
        time.sleep(15)
        d.shot("dropped_file", "S40 raw dropped from a second window: opened, its folder listed")
        d.key(win, "ctrl+q")
        app.wait(30)
    finally:
        for proc in (source, app, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        log.close()
    (out / "steps.txt").write_text("\n".join(d.steps) + "\n")
    print("\n".join(d.steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "e2e-shots"))
