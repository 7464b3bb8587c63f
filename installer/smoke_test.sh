#!/usr/bin/env bash
# Smoke test of the frozen app (Friture-style): start it offscreen with --self-test and
# fail on a non-zero exit, an ImportError, a traceback or a missing resource.
#
#   installer/smoke_test.sh [path/to/rawjpeg-gui]     (default dist/rawjpeg-gui/rawjpeg-gui)
#
# Stage 1: --self-test (resources, libraries, model, icon, every app module, the main window
# built offscreen, an encode/decode round trip of the bundled sample, a batch worker);
# then --desktop-integration writes a menu entry (into the scratch HOME) for this executable.
# Stage 2: the app itself opens the sample offscreen and saves a screenshot
# (SMOKE_SKIP_WINDOW=1 skips it; SMOKE_SCREENSHOT=path keeps the picture).
#
# The app runs from a scratch folder, with no display, a scratch HOME and config/cache
# folders, and a bare environment, so it cannot lean on the source tree, the developer's
# Python packages or their settings.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APP=${1:-$ROOT/dist/rawjpeg-gui/rawjpeg-gui}
APP=$(cd "$(dirname "$APP")" 2>/dev/null && pwd)/$(basename "$APP")
BUNDLE=$(dirname "$APP")
fail() { echo "smoke_test: FAIL: $*" >&2; exit 1; }

[ -x "$APP" ] || fail "$APP does not exist or is not executable (run installer/build.sh)"

# What must be inside the bundle, and what must not.
for rel in rawjpeg_gui/resources/rawjpeg.svg rawjpeg_gui/resources/rawjpeg-gui.desktop \
           rawjpeg_gui/resources/sample/astronaut.dng; do
  [ -f "$BUNDLE/_internal/$rel" ] || fail "missing resource $rel"
done
ls "$BUNDLE"/_internal/rawjpeg_gui/models/*.onnx >/dev/null 2>&1 || fail "no model in the bundle"
leaked=$(find "$BUNDLE" \( -name 'torch' -o -name 'libtorch*' -o -name 'PyQt5' -o -name 'PyQt6' \) | head -3)
[ -z "$leaked" ] || fail "unwanted packages in the bundle: $leaked"

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
LOG="$SCRATCH/self-test.log"
mkdir -p "$SCRATCH/home"
start=$(date +%s)
(cd "$SCRATCH" && env -i PATH=/usr/bin:/bin HOME="$SCRATCH/home" LANG=C.UTF-8 \
  QT_QPA_PLATFORM=offscreen RAWJPEG_CONFIG_DIR="$SCRATCH/config" \
  RAWJPEG_CACHE_DIR="$SCRATCH/cache" timeout 180 "$APP" --self-test) >"$LOG" 2>&1
rc=$?
end=$(date +%s)
cat "$LOG"
echo "smoke_test: exit status $rc after $((end - start)) s"

[ "$rc" -eq 0 ] || fail "rawjpeg-gui --self-test exited with $rc"
if grep -E -q "ImportError|ModuleNotFoundError|Traceback \(most recent|FileNotFoundError|No such file|Could not load the Qt platform plugin|Failed to execute script" "$LOG"; then
  fail "error in the self-test output"
fi
grep -q "self-test passed" "$LOG" || fail "the self-test did not report success"

# The frozen app's post-install step writes a menu entry that starts this very executable.
(cd "$SCRATCH" && env -i PATH=/usr/bin:/bin HOME="$SCRATCH/home" LANG=C.UTF-8 \
  "$APP" --desktop-integration install --no-refresh) >"$LOG" 2>&1 || { cat "$LOG"; fail "--desktop-integration install failed"; }
ENTRY="$SCRATCH/home/.local/share/applications/rawjpeg-gui.desktop"
grep -q -F -x -e "Exec=$APP %F" -e "Exec=\"$APP\" %F" "$ENTRY" 2>/dev/null || { cat "$LOG"; fail "the menu entry does not start $APP"; }
[ -f "$SCRATCH/home/.local/share/icons/hicolor/scalable/apps/rawjpeg.svg" ] || fail "no icon installed"
echo "smoke_test: --desktop-integration wrote a menu entry for $APP"

# Stage 2: the real app, offscreen, opens the bundled sample, codes it, draws every plot
# and saves a screenshot of the window (skip with SMOKE_SKIP_WINDOW=1).
if [ "${SMOKE_SKIP_WINDOW:-0}" != 1 ]; then
  SHOT="$SCRATCH/window.png"
  SAMPLE="$BUNDLE/_internal/rawjpeg_gui/resources/sample/astronaut.dng"
  (cd "$SCRATCH" && env -i PATH=/usr/bin:/bin HOME="$SCRATCH/home" LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen RAWJPEG_CONFIG_DIR="$SCRATCH/config" \
    RAWJPEG_CACHE_DIR="$SCRATCH/cache" timeout 300 "$APP" --screenshot "$SHOT" \
    --timeout 240 "$SAMPLE") >"$LOG" 2>&1
  rc=$?
  cat "$LOG"
  [ "$rc" -eq 0 ] || fail "rawjpeg-gui --screenshot exited with $rc"
  if grep -E -q "ImportError|ModuleNotFoundError|Traceback \(most recent" "$LOG"; then
    fail "error while the window worked on the sample"
  fi
  [ "$(stat -c %s "$SHOT" 2>/dev/null || echo 0)" -gt 10000 ] || fail "no screenshot of the window"
  [ -z "${SMOKE_SCREENSHOT:-}" ] || cp "$SHOT" "$SMOKE_SCREENSHOT"
  echo "smoke_test: the window opened the sample and drew its plots"
fi
echo "smoke_test: PASS ($APP, bundle $(du -sh "$BUNDLE" | cut -f1))"
