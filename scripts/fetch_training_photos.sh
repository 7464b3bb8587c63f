#!/usr/bin/env bash
# The offline photographs the training cache unprocesses into synthetic raws
# (rawjpeg_gui/training/data.py photo_paths; models/MODEL_CARD.md says which and their
# licences): sporco's images into /tmp/sporco, Debian's libjxl-testdata into
# /usr/share/libjxl-testdata, librust-tiff-dev's Kodak TIFFs into /usr/share/cargo. scikit-image's own come with the 'scikit-image' package.
# Needs the package registries only (pip, apt-get). Run before make_training_data.py.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python -m pip download -q --no-deps sporco==0.2.2.post1 -d "$tmp"
mkdir -p /tmp/sporco
python - "$tmp"/sporco-*.whl <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.startswith("sporco/data/") and name.endswith(".png"):
            open("/tmp/sporco/" + name.rsplit("/", 1)[1], "wb").write(z.read(name))
PY
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
(cd "$tmp" && { apt-get download libjxl-testdata >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download libjxl-testdata; }; })
$SUDO dpkg -x "$tmp"/libjxl-testdata_*.deb /
(cd "$tmp" && apt-get download librust-tiff-dev >/dev/null 2>&1)  # Kodak kodim02/07 (TIFF)
$SUDO dpkg -x "$tmp"/librust-tiff-dev_*.deb /
python -c "import skimage" 2>/dev/null || python -m pip install -q scikit-image
echo "training photographs ready: /tmp/sporco, /usr/share/libjxl-testdata/external/wesaturate/500px"
