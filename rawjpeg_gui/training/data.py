"""Training data: a cache of linear-raw patches with their whole-image thumbnails.

At run time the model sees the thumbnail of the *whole* image and its parameters
apply to every pixel, so each cached patch keeps the thumbnail of the image it
was cut from, the image size and the patch offset: the loss then crops the
upsampled gamma map exactly as the full image would be treated.

Sources: real camera raws read by :func:`rawjpeg_gui.core.rawio.read_raw`, and
synthetic raws made by *unprocessing* ordinary photographs (Brooks et al. 2019:
inverse sRGB curve, inverse colour matrix, inverse white balance, random
exposure, shot and read noise).

A *normalised* cache (``build_cache(..., normalise=True)``) holds every image after its
camera normalisation (:class:`rawjpeg_gui.core.colour.ColourChain`, the "photo" look),
as the network sees it at run time, with each image's chain packed in ``chains``
(:func:`rawjpeg_gui.training.colour_torch.chain_constants`) so the loss can measure
the reconstruction in camera RGB. Unprocessed photographs then carry the metadata a
camera would record (the colour matrix, drawn from real cameras' matrices, and the
as-shot balance), so their chain is built exactly as a real raw's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from rawjpeg_gui.core.model import make_thumbnail

#: Typical camera-RGB -> sRGB matrix (rows sum to 1); its inverse makes camera RGB.
_CAM2SRGB = np.array(
    [[1.75, -0.62, -0.13], [-0.22, 1.55, -0.33], [0.02, -0.55, 1.53]], dtype=np.float64
)


@dataclass
class PatchCache:
    """Patches and their image-level context.

    Attributes:
        patches: uint16 (P, 3, S, S) linear values times 65535.
        thumbs: float32 (I, 3, T, T) whole-image thumbnails.
        image_of: int32 (P,) index of each patch's image in ``thumbs``.
        offsets: int32 (P, 2) patch top-left (y, x) in its image.
        sizes: int32 (I, 2) image (H, W).
        names: (I,) image names.
        meta: float32 (I, 4) each image's capture metadata as ``research.inputs.meta_features``
            encodes it (caches written before it existed load with the defaults).
        chains: float32 (I, N) each image's packed camera normalisation when the
            patches are normalised, else ``None`` (camera RGB patches).
        display: float32 (I, 3, 3) each image's matrix from its stored values to linear
            sRGB as the app displays it (white balance, colour matrix, base exposure;
            :func:`rawjpeg_gui.core.colour.chain_for`), or ``None``.
    """

    patches: np.ndarray
    thumbs: np.ndarray
    image_of: np.ndarray
    offsets: np.ndarray
    sizes: np.ndarray
    names: np.ndarray
    meta: np.ndarray | None = None
    chains: np.ndarray | None = None
    display: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.meta is None:
            from .research.inputs import meta_features

            self.meta = np.tile(meta_features(None), (len(self.thumbs), 1))

    def save(self, path: str | Path) -> None:
        """Write the cache as an uncompressed ``.npz``."""
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__}
        np.savez(path, **{k: v for k, v in fields.items() if v is not None})

    @classmethod
    def load(cls, path: str | Path) -> PatchCache:
        """Read a cache written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls(**{k: z[k] for k in cls.__dataclass_fields__ if k in z.files})

    @cached_property
    def image_noise(self) -> np.ndarray:
        """Each image's noise level, as ``research.inputs.noise_sigma`` measures a whole image.

        From the centre 32x32 green block of each of the image's patches (random places,
        where the runtime takes a grid): the 25th percentile of their sigmas. Computed once.
        """
        from .research.inputs import NOISE_BLOCK, block_noise

        s, b = self.patches.shape[-1], NOISE_BLOCK
        a = (s - b) // 2
        sig = block_noise(self.patches[:, 1, a : a + b, a : a + b].astype(np.float32) / 65535.0)
        out = np.zeros(len(self.thumbs), np.float32)
        for i in range(len(self.thumbs)):
            mine = sig[self.image_of == i]
            out[i] = np.percentile(mine, 25) if len(mine) else 0.0
        return out


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """Inverse sRGB transfer curve."""
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


#: Shot-noise variance per unit signal that :func:`unprocess` treats as ISO 100 (the
#: bottom of its range; the ISO it reports grows in proportion, to ISO 12000 at the top).
SHOT_AT_ISO100 = 1e-4


def unprocess(
    photo: np.ndarray,
    rng: np.random.Generator,
    info: dict | None = None,
    matrices: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Turn an sRGB HxWx3 photo in [0, 1] into a plausible linear camera raw (demosaiced).

    Random colour matrix, white balance, exposure and noise, following Brooks et al.
    ``matrices``: camera -> sRGB matrices of real cameras (rows summing to one) to draw
    the colour matrix from (then perturbed a little); a typical one otherwise.
    ``info`` receives the ISO, the white level, and the colour matrix and as-shot
    balance a camera would have recorded (``xyz_to_camera``, ``as_shot_wb``).
    """
    lin = srgb_to_linear(np.clip(photo.astype(np.float64), 0.0, 1.0))
    base = _CAM2SRGB if not matrices else matrices[int(rng.integers(len(matrices)))]
    m = base + rng.normal(0.0, 0.08 if not matrices else 0.03, (3, 3))
    m /= m.sum(axis=1, keepdims=True)
    cam = lin @ np.linalg.inv(m).T
    wb = np.array([1.0 / rng.uniform(1.4, 2.6), 1.0, 1.0 / rng.uniform(1.2, 2.4)])
    if info is not None:
        from rawjpeg_gui.core.colour import SRGB_TO_XYZ

        info["xyz_to_camera"] = (np.linalg.inv(m) @ np.linalg.inv(SRGB_TO_XYZ)).tolist()
        info["as_shot_wb"] = (1.0 / wb).tolist()
    cam = cam * wb * np.exp(rng.uniform(np.log(0.03), np.log(0.9)))
    shot = np.exp(rng.uniform(np.log(1e-4), np.log(1.2e-2)))
    read = np.exp(np.log(shot) * 2.18 + 1.2 + rng.normal(0.0, 0.26))
    if info is not None:  # what a camera would have recorded (no extra random draws)
        info["iso"] = 100.0 * shot / SHOT_AT_ISO100
    noisy = cam + rng.normal(0.0, 1.0, cam.shape) * np.sqrt(np.clip(cam, 0, None) * shot + read)
    bits = rng.choice([10, 12, 14])
    levels = float(2**bits - 1)
    if info is not None:
        info["white_level"] = levels
    return (np.round(np.clip(noisy, 0.0, 1.0) * levels) / levels).astype(np.float32)


#: The photograph manifest (issue 13): per registry package, its files and licence evidence.
PHOTOS_MANIFEST = Path(__file__).with_name("photos.toml")

#: The licences :data:`PHOTOS_MANIFEST` may name (its header says what each means).
ALLOWED_LICENCES = ("CC0-1.0", "public-domain", "Kodak-unrestricted", "BSD-3-Clause")


def photo_sources(manifest: str | Path = PHOTOS_MANIFEST) -> list[dict]:
    """The ``[[source]]`` tables of the photograph manifest, in order."""
    import tomllib

    with open(manifest, "rb") as f:
        return list(tomllib.load(f)["source"])


def photo_count(manifest: str | Path = PHOTOS_MANIFEST) -> int:
    """How many photographs the manifest lists (what a complete fetch provides)."""
    return sum(int(s["count"]) for s in photo_sources(manifest))


def photo_paths(manifest: str | Path = PHOTOS_MANIFEST) -> list[tuple[str, object]]:
    """Offline photographs for unprocessing: (name, loader) pairs that exist here.

    Read from the manifest (``photos.toml``, fetched by ``scripts/fetch_training_photos.sh``):
    a file's name is its stem, or ``folder_stem`` when another listed file has the same
    stem; scikit-image's come as ``skimage_NAME`` loaders when it is installed.
    """
    items: list[tuple[str, str, object]] = []
    for src in photo_sources(manifest):
        if "skimage" in src:
            try:
                import skimage.data as sd
            except ImportError:
                continue
            items += [(f"skimage_{n}", f"skimage_{n}", getattr(sd, n)) for n in src["skimage"]]
        else:
            for rel in src["files"]:
                f = Path(src["dir"]) / rel
                if f.is_file():
                    items.append((f.stem, f"{f.parent.name}_{f.stem}", str(f)))
    stems = [stem for stem, _, _ in items]
    return [(stem if stems.count(stem) == 1 else long, loader) for stem, long, loader in items]


def synthetic_photo(height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """A procedural sRGB test picture (gradients, edges, texture) in [0, 1]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.stack([x / width, y / height, 0.5 + 0.4 * np.sin(x / 5.0) * np.cos(y / 7.0)], axis=-1)
    img[height // 3 : height // 2, width // 4 : width // 2] = rng.uniform(0, 1, 3)
    img += rng.normal(0.0, 0.03, img.shape)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def _load_photo(src: object) -> np.ndarray:
    if callable(src):
        a = np.asarray(src())
    else:
        from PIL import Image

        a = np.asarray(Image.open(str(src)).convert("RGB"))
    return a[..., :3].astype(np.float32) / 255.0


def _cut(
    img: np.ndarray, n: int, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    h, w = img.shape[:2]
    ys = rng.integers(0, h - size + 1, n)
    xs = rng.integers(0, w - size + 1, n)
    # JPEG-grid-aligned offsets, so a patch's 8x8 blocks are the full image's blocks.
    ys, xs = ys - ys % 8, xs - xs % 8
    p = np.stack([img[y : y + size, x : x + size] for y, x in zip(ys, xs, strict=True)])
    p16 = np.round(np.clip(p, 0.0, 1.0) * 65535.0).astype(np.uint16).transpose(0, 3, 1, 2)
    return p16, np.stack([ys, xs], axis=1).astype(np.int32)


def build_cache(
    raw_files: list[str],
    patch: int = 128,
    thumb: int = 64,
    per_raw: int | dict[str, int] = 300,
    per_photo: int = 60,
    photo_variants: int = 3,
    seed: int = 0,
    max_photos: int | None = None,
    photos: list[tuple[str, np.ndarray]] | None = None,
    normalise: bool = False,
    balance_power: float = 0.0,
    display: bool = False,
) -> PatchCache:
    """Cut patches from real raws and unprocessed photos (several random variants each).

    ``per_raw``: patches per real raw, one number or one per file (by the path given).
    ``photos`` (name, sRGB HxWx3 in [0, 1]) replaces the offline photo collection.
    ``normalise``: store every image after its camera normalisation (see the module
    docstring); the photos are then unprocessed with the real raws' colour matrices.
    ``balance_power``: store every image scaled by the encoder's balance at this power
    (:func:`rawjpeg_gui.core.search.balance`: its white balance, as shot or, for an
    unprocessed photo, the balance it was unprocessed with), as the encoder feeds the
    model; 0 stores camera RGB.
    ``display``: also store each image's display matrix (:attr:`PatchCache.display`) for
    the loss's display term; an unprocessed photo's is the inverse of its unprocessing.
    Not for normalised caches (their chains say how they are shown).
    """
    from rawjpeg_gui.core import colour, search
    from rawjpeg_gui.core.metadata import RawMeta
    from rawjpeg_gui.core.rawio import read_raw

    from .research.inputs import meta_features

    rng = np.random.default_rng(seed)
    images: list[tuple[str, np.ndarray, int, np.ndarray, RawMeta]] = []
    matrices = []
    for f in raw_files:
        raw = read_raw(f)
        n = per_raw if isinstance(per_raw, int) else per_raw[f]
        images.append((Path(f).name, raw.data, n, meta_features(raw.meta), raw.meta))
        if raw.meta.xyz_to_camera:
            matrices.append(colour.camera_to_srgb(raw.meta))
    if photos is None:
        found = photo_paths()[:max_photos] if max_photos is not None else photo_paths()
        photos = [(name, _load_photo(src)) for name, src in found]
    for name, base in photos:
        for v in range(photo_variants):
            info: dict = {}
            img = unprocess(base, rng, info, matrices if normalise else None)
            meta = RawMeta(iso=info["iso"], white_level=info["white_level"])
            if normalise or display:
                meta.xyz_to_camera = info["xyz_to_camera"]
            if normalise or balance_power or display:
                meta.as_shot_wb = info["as_shot_wb"]
            images.append((f"{name}#{v}", img, per_photo, meta_features(meta), meta))
    patches, thumbs, image_of, offsets, sizes, names, metas, chains = [], [], [], [], [], [], [], []
    shows = []
    for i, (name, img, n, meta, raw_meta) in enumerate(images):
        if min(img.shape[:2]) < patch:
            continue
        if normalise:
            from .colour_torch import chain_constants
            from .research.photolook import chain_for

            chain = chain_for(img, raw_meta)
            img = chain.forward(img)
            chains.append(chain_constants(chain))
        else:
            k = search.balance(raw_meta, balance_power) if balance_power else np.ones(3)
            if display:
                shown = colour.chain_for(img, raw_meta)
                shows.append(shown.to_srgb() @ np.diag(np.asarray(shown.wb) / k))
            if balance_power:
                img = img * k
        thumbs.append(make_thumbnail(img, thumb).transpose(2, 0, 1))
        p, off = _cut(img, n, patch, rng)
        patches.append(p)
        offsets.append(off)
        image_of.append(np.full(len(p), len(thumbs) - 1, np.int32))
        sizes.append(img.shape[:2])
        names.append(name)
        metas.append(meta)
        del i
    return PatchCache(
        np.concatenate(patches),
        np.stack(thumbs).astype(np.float32),
        np.concatenate(image_of),
        np.concatenate(offsets),
        np.asarray(sizes, np.int32),
        np.asarray(names),
        np.stack(metas).astype(np.float32),
        np.stack(chains) if chains else None,
        np.stack(shows).astype(np.float32) if shows else None,
    )


def _add_spots(raw: np.ndarray, rng: np.random.Generator, prob: float) -> None:
    """Paint a few small bright discs (lamps, speculars) into some patches, in place."""
    s = raw.shape[-1]
    yy, xx = np.mgrid[0:s, 0:s]
    for i in np.nonzero(rng.random(len(raw)) < prob)[0]:
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.integers(0, s, 2)
            r = rng.uniform(1.0, 5.0)
            disc = np.clip(r + 0.5 - np.hypot(yy - cy, xx - cx), 0.0, 1.0)
            level = rng.uniform(0.2, 1.0) * rng.uniform(0.3, 1.0, 3)
            raw[i] = np.clip(np.maximum(raw[i], disc[None] * level[:, None, None]), 0.0, 1.0)


def sample_batch(
    cache: PatchCache,
    batch: int,
    rng: np.random.Generator,
    augment: bool = True,
    crop: int = 0,
    spots: float = 0.0,
    min_exposure: float = 0.25,
) -> dict[str, np.ndarray]:
    """Draw a random batch with exposure, white-balance and flip augmentation.

    ``crop`` (a multiple of 8, 0 for none) cuts a random block-aligned window from each patch.
    ``spots`` is the probability of adding small bright light sources to a patch but
    not to its thumbnail (which would average them away): the network must keep
    headroom for highlights it cannot see. ``min_exposure`` is the smallest exposure gain.

    Returns:
        ``raw`` (N, 3, S, S) float32, ``thumb`` (N, 3, T, T), ``offset`` (N, 2),
        ``size`` (N, 2), ``quality`` (N,) drawn uniformly in [10, 100], ``noise`` (N,),
        the image's noise level after the exposure gain, and ``meta`` (N, 4), its
        capture metadata with the ISO raised by the exposure gain (neither makes random
        draws of its own, so every batch is the same as before they existed); for a
        normalised cache also ``chain`` (N, K), each image's packed normalisation (the
        exposure and balance augmentation is then off: they are the chain's); for a
        cache with display matrices ``display`` (N, 3, 3), each divided by the patch's
        augmentation gains so the patch is shown as its unaugmented self.
    """
    idx = rng.integers(0, len(cache.patches), batch)
    raw = cache.patches[idx].astype(np.float32) / 65535.0
    img = cache.image_of[idx]
    noise = cache.image_noise[img].copy()
    assert cache.meta is not None
    meta = cache.meta[img].copy()
    thumb = cache.thumbs[img].copy()
    off = cache.offsets[idx].copy()
    size = cache.sizes[img].copy()
    if crop and crop < raw.shape[-1]:
        n8 = (raw.shape[-1] - crop) // 8 + 1
        dy, dx = rng.integers(0, n8, batch) * 8, rng.integers(0, n8, batch) * 8
        raw = np.stack(
            [r[:, y : y + crop, x : x + crop] for r, y, x in zip(raw, dy, dx, strict=True)]
        )
        off = off + np.stack([dy, dx], axis=1).astype(off.dtype)
    s = raw.shape[-1]
    gain = np.ones((batch, 3, 1, 1))
    if augment:
        gain = np.exp(rng.uniform(np.log(min_exposure), np.log(2.0), (batch, 1, 1, 1)))
        gain = gain * np.exp(rng.normal(0.0, 0.12, (batch, 3, 1, 1)))
        if cache.chains is not None:
            # Normalised images: exposure and balance are the chain's, not augmented.
            gain = np.ones_like(gain)
        raw = np.clip(raw * gain, 0.0, 1.0).astype(np.float32)
        thumb = np.clip(thumb * gain, 0.0, 1.0).astype(np.float32)
        noise = noise * gain[:, 1, 0, 0]  # the exposure gain scales the noise (green channel)
        meta[:, 0] += np.log2(gain[:, 1, 0, 0]) / 6.0  # ... as a higher ISO would
        for axis, dim in ((3, 1), (2, 0)):
            flip = rng.random(batch) < 0.5
            raw[flip] = np.flip(raw[flip], axis=axis)
            thumb[flip] = np.flip(thumb[flip], axis=axis)
            off[flip, dim] = size[flip, dim] - off[flip, dim] - s
        if spots > 0:
            _add_spots(raw, rng, spots)
    quality = rng.uniform(10.0, 100.0, batch).astype(np.float32)
    extra = {} if cache.chains is None else {"chain": cache.chains[img].astype(np.float32)}
    if cache.display is not None:  # the stored values times the gains show as before
        extra["display"] = (cache.display[img] / gain[:, None, :, 0, 0]).astype(np.float32)
    return {
        **extra,
        "raw": np.ascontiguousarray(raw),
        "thumb": np.ascontiguousarray(thumb),
        "offset": off.astype(np.float32),
        "size": size.astype(np.float32),
        "quality": quality,
        "noise": noise.astype(np.float32),
        "meta": meta.astype(np.float32),
    }
