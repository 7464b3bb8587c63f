#!/usr/bin/env bash
# Wrap the one-folder Linux build into an AppImage (one file, runs on most distributions).
#
# NOT RUN HERE: appimagetool (and the AppImage runtime it embeds) is published only as
# GitHub release downloads (github.com/AppImage/appimagetool). It is not packaged in
# Debian/Ubuntu apt repositories (only libappimage is) nor on PyPI (the "appimage" and
# "python-appimage" packages download it from GitHub at run time), and the build machines
# here reach only the package registries. On a machine with the tool:
#
#   installer/build.sh                                 # dist/rawjpeg-gui/
#   APPIMAGETOOL=/path/to/appimagetool-x86_64.AppImage installer/appimage/build_appimage.sh
#   installer/appimage/build_appimage.sh --appdir-only   # just build/appimage/rawjpeg.AppDir
#
# Result: dist/rawjpeg-<version>-<arch>.AppImage. The AppImage inherits the bundle's glibc
# floor: build on the oldest distribution you want to support.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
APPDIR_ONLY=0
[ "${1:-}" = "--appdir-only" ] && APPDIR_ONLY=1
TOOL=${APPIMAGETOOL:-$(command -v appimagetool || true)}
if [ "$APPDIR_ONLY" = 0 ] && { [ -z "$TOOL" ] || [ ! -x "$TOOL" ]; }; then
  echo "build_appimage.sh: appimagetool not found (set APPIMAGETOOL); see the comment at the top" >&2
  exit 2
fi
BUNDLE=dist/rawjpeg-gui
[ -x "$BUNDLE/rawjpeg-gui" ] || { echo "build_appimage.sh: run installer/build.sh first" >&2; exit 1; }

APPDIR=build/appimage/rawjpeg.AppDir
rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications" \
  "$APPDIR/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$APPDIR/usr/lib/rawjpeg-gui"
install -m 755 installer/appimage/AppRun "$APPDIR/AppRun"
# The desktop entry at the AppDir root names the command AppRun starts; no TryExec.
grep -v '^TryExec=' resources/rawjpeg-gui.desktop >"$APPDIR/rawjpeg-gui.desktop"
cp "$APPDIR/rawjpeg-gui.desktop" "$APPDIR/usr/share/applications/"
cp resources/rawjpeg.svg "$APPDIR/rawjpeg.svg"
cp resources/rawjpeg.svg "$APPDIR/usr/share/icons/hicolor/scalable/apps/rawjpeg.svg"
ln -sf rawjpeg.svg "$APPDIR/.DirIcon"
if [ "$APPDIR_ONLY" = 1 ]; then
  QT_QPA_PLATFORM=offscreen "$APPDIR/AppRun" --self-test
  echo "build_appimage.sh: built $APPDIR"
  exit 0
fi

VERSION=$(python3 -c "import sys; sys.path.insert(0, '.'); import rawjpeg_gui; print(rawjpeg_gui.__version__)")
ARCH=$(uname -m)
OUT="dist/rawjpeg-${VERSION}-${ARCH}.AppImage"
ARCH="$ARCH" VERSION="$VERSION" "$TOOL" --no-appstream "$APPDIR" "$OUT"

# The same smoke test as the folder build, through the AppImage.
QT_QPA_PLATFORM=offscreen APPIMAGE_EXTRACT_AND_RUN=1 "$OUT" --self-test
echo "build_appimage.sh: built $OUT"
