#!/usr/bin/env bash
# Build rawjpeg.app and a .dmg on macOS with PyInstaller and hdiutil.
#
# NOT YET TESTED ON MACOS: written from the PyInstaller and hdiutil documentation and the
# one-folder build that is tested on Linux. Needs Python 3.11+ (python.org or Homebrew)
# with rawjpeg's dependencies; builds for the machine's own architecture (arm64 or x86_64).
#
#   installer/macos/build_app.sh
#
# Result: dist/rawjpeg.app and dist/rawjpeg-<version>-macos-<arch>.dmg (unsigned apart from
# PyInstaller's ad-hoc signature: Gatekeeper will ask users to confirm on first start;
# notarisation needs an Apple Developer ID, see docs/INSTALL.md).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
[ "$(uname -s)" = Darwin ] || { echo "build_app.sh: run this on macOS" >&2; exit 2; }

"$PYTHON" -m pip install --quiet -e ".[gui,installer]"
"$PYTHON" installer/make_icons.py
RAWJPEG_MACOS_BUNDLE=1 "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller installer/rawjpeg-gui.spec

APP=dist/rawjpeg.app
EXE="$APP/Contents/MacOS/rawjpeg-gui"
[ -x "$EXE" ] || { echo "build_app.sh: $EXE was not produced" >&2; exit 1; }

# Smoke test of the bundle (offscreen: no window, works over ssh and in CI).
LOG=$(mktemp)
if ! QT_QPA_PLATFORM=offscreen "$EXE" --self-test >"$LOG" 2>&1; then
  cat "$LOG"; echo "build_app.sh: the self-test failed" >&2; exit 1
fi
cat "$LOG"
if grep -E -q "ImportError|ModuleNotFoundError|Traceback" "$LOG"; then
  echo "build_app.sh: errors in the self-test output" >&2; exit 1
fi

# Re-sign ad hoc after any change to the bundle (required on Apple silicon).
codesign --force --deep --sign - "$APP"

VERSION=$("$PYTHON" -c "import rawjpeg_gui; print(rawjpeg_gui.__version__)")
DMG="dist/rawjpeg-${VERSION}-macos-$(uname -m).dmg"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE" "$LOG"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "rawjpeg $VERSION" -srcfolder "$STAGE" -ov -format UDZO "$DMG"
echo "build_app.sh: built $APP and $DMG"
