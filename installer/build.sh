#!/usr/bin/env bash
# Build the one-folder Linux app with PyInstaller: dist/rawjpeg-gui/rawjpeg-gui
#
#   installer/build.sh              build (installs PyInstaller from PyPI when missing)
#   installer/build.sh --archive    also pack dist/rawjpeg-gui-<version>-linux-<arch>.tar.gz
#
# Environment: PYTHON (default python3) is the interpreter whose packages are frozen; it
# needs rawjpeg's runtime and gui dependencies (pip install -e '.[gui]').
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
ARCHIVE=0
for arg in "$@"; do
  case "$arg" in
    --archive) ARCHIVE=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ "$(uname -s)" = Linux ]; then
  for tool in ldd objdump objcopy; do
    command -v "$tool" >/dev/null || {
      echo "build.sh: PyInstaller needs $tool: apt-get install binutils (ldd: libc-bin)" >&2
      exit 1
    }
  done
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  echo "build.sh: installing PyInstaller from PyPI"
  "$PYTHON" -m pip install --quiet "pyinstaller>=6.10,<7"
fi
"$PYTHON" -c "import PySide6, pyqtgraph, onnxruntime, rawpy" || {
  echo "build.sh: the app's dependencies are missing; run: $PYTHON -m pip install -e '.[gui]'" >&2
  exit 1
}

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller installer/rawjpeg-gui.spec
end=$(date +%s)

APP=dist/rawjpeg-gui/rawjpeg-gui
[ -x "$APP" ] || { echo "build.sh: $APP was not produced" >&2; exit 1; }
echo "build.sh: built $APP in $((end - start)) s; bundle $(du -sh dist/rawjpeg-gui | cut -f1)"

if [ "$ARCHIVE" = 1 ]; then
  VERSION=$("$PYTHON" -c "import rawjpeg_gui; print(rawjpeg_gui.__version__)")
  TARBALL="dist/rawjpeg-gui-${VERSION}-linux-$(uname -m).tar.gz"
  tar -C dist -czf "$TARBALL" rawjpeg-gui
  echo "build.sh: packed $TARBALL ($(du -h "$TARBALL" | cut -f1))"
fi
