"""The adapter model runtime: an ONNX network run by onnxruntime.

Contract (every model in ``models/`` follows it; :data:`FORMAT` names it):

Inputs
    ``thumbnail``  float32 ``[1, 3, T, T]``: the linear camera-RGB image in [0, 1],
                   area-averaged to T x T (see :func:`make_thumbnail`; aspect is not kept).
    ``quality``    float32 ``[1, 1]``: the JPEG quality divided by 100.
    ``channel_max`` float32 ``[1, 3]``, optional: the largest value of each channel of
                   the full-resolution image (:func:`channel_max`), which the thumbnail
                   averages away; a model that takes it may let the LUT's gain rise as
                   far as the image's real highlights allow. Models without it ignore it.
    ``noise``      float32 ``[1, 1]``, optional: the image's noise level
                   (:func:`noise_sigma`), which the thumbnail averages away.
    ``meta``       float32 ``[1, 4]``, optional: the raw's capture metadata as
                   :func:`meta_features` encodes it (ISO, exposure time, black and
                   white levels).
Outputs
    ``lut``        float32 ``[1, 3, B]``: per-channel tone curve at B uniform knots.
    ``gamma_map``  float32 ``[1, h, w]``: spatial gamma exponents.
    ``dct_scale``  float32 ``[1, 3, 8, 8]`` (only when ``operators`` names ``dct``).
    ``lut_basis``  float32 ``[1, K-1, 3, B]`` and ``lut_mix`` float32 ``[1, K, h, w]``
                   (only when ``operators`` names ``lutmix``): a spatially-varying LUT,
                   K tone curves (``lut`` and these) blended by bilinearly upsampled
                   weight maps (:class:`~rawjpeg_gui.core.params.AdapterParams`).
    ``qtables``    float32 ``[1, 2, 64]`` (only when ``qtables`` is ``model``): luma and
                   chroma JPEG quantisation tables in natural (row-major) order, 1..255.
Metadata (``metadata_props``)
    ``rawjpeg.format`` = ``rawjpeg-adapter``; ``rawjpeg.version`` = ``1``;
    ``rawjpeg.thumbnail_size`` = T; ``rawjpeg.lut_bins`` = B; ``rawjpeg.gamma_map_size``
    = ``hxw``; ``rawjpeg.quality_min`` / ``rawjpeg.quality_max``; ``rawjpeg.operators``
    = ``lut,gamma`` or ``lut,dct,gamma``, either with ``lutmix`` after ``lut``; ``rawjpeg.qtables`` = ``ijg`` or ``model``;
    ``rawjpeg.subsampling`` = ``4:4:4`` or ``4:2:0``; ``rawjpeg.name``;
    ``rawjpeg.description``; optionally ``rawjpeg.rate_weight`` = ``hi,lo,power``: the
    training objective's price of a bit, ``w(q) = hi + lo * (1 - q/100) ** power`` per bit
    per pixel against ln(MSE); a model that declares it has its operators chosen by the
    encoder's search (:mod:`rawjpeg_gui.core.search`); optionally ``rawjpeg.look`` =
    ``photo`` or ``raw`` (the default): whether the model was trained on images after
    the camera normalisation (:mod:`rawjpeg_gui.core.colour`; its ``thumbnail`` is then
    the normalised image's) or on camera RGB. The encoder uses the model's look.

The runtime sanitises the outputs (:func:`rawjpeg_gui.core.params.sanitize`), so a
model can never produce parameters that the operators cannot invert.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import ModelError
from .metadata import RawMeta
from .params import AdapterParams, sanitize

FORMAT = "rawjpeg-adapter"
SUPPORTED_VERSIONS = ("1",)
KNOWN_OPERATORS = (
    {"lut", "gamma"},
    {"lut", "dct", "gamma"},
    {"lut", "lutmix", "gamma"},
    {"lut", "lutmix", "dct", "gamma"},
)
DEFAULT_MODEL_NAME = "adapter.onnx"
#: Used only when no trained model is installed: the analytic gamma-1/2.2 adapter.
FALLBACK_MODEL_NAME = "analytic-gamma22.onnx"


@dataclass(frozen=True)
class ModelInfo:
    """What a model file declares about itself.

    Attributes:
        name: short model name written into every adapter-JPEG.
        thumbnail_size: side T of the square input thumbnail.
        lut_bins: number of LUT knots B.
        gamma_map_size: (h, w) of the predicted gamma map.
        quality_range: lowest and highest JPEG quality the model was made for.
        operators: which operators it predicts ("lut", "gamma", optionally "dct").
        qtables: "ijg" (standard tables at the quality) or "model" (predicted tables).
        subsampling: chroma subsampling the model was trained for ("4:4:4" or "4:2:0").
        description: one line for people.
        rate_weight: ``(hi, lo, power)`` of the training objective's rate weight, or
            ``None`` (the encoder then uses the operators predicted for the quality).
        look: "photo" (trained on camera-normalised images) or "raw" (camera RGB).
    """

    name: str
    thumbnail_size: int
    lut_bins: int
    gamma_map_size: tuple[int, int]
    quality_range: tuple[int, int]
    operators: tuple[str, ...]
    qtables: str
    subsampling: str
    description: str
    rate_weight: tuple[float, float, float] | None = None
    look: str = "raw"


@dataclass(frozen=True)
class Prediction:
    """Everything a model predicts for one image at one quality.

    Attributes:
        params: the invertible operators (go into the file's parameter segment).
        qtables: optional (2, 64) uint8-range luma/chroma quantisation tables in
            natural order, written into the JPEG's DQT segments; ``None`` means IJG.
    """

    params: AdapterParams
    qtables: np.ndarray | None


def _area_weights(n_in: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output pixel: the first input index it covers and the coverage weights (band)."""
    edges = np.linspace(0.0, n_in, size + 1)
    first = np.floor(edges[:-1]).astype(np.intp)
    last = np.minimum(np.ceil(edges[1:]).astype(np.intp), n_in)
    span = int((last - first).max())
    px = first[:, None] + np.arange(span)[None, :]
    cover = np.clip(np.minimum(edges[1:, None], px + 1) - np.maximum(edges[:-1, None], px), 0.0, None)
    cover[px >= n_in] = 0.0
    return first, (cover / cover.sum(axis=1, keepdims=True)).astype(np.float32)


def channel_max(image: np.ndarray) -> np.ndarray:
    """The largest value of each channel of an HxWxC image (float32, C values).

    Reduces whole rows first (``np.maximum`` between contiguous rows, about 15 ms for
    18 MP), then the few thousand column maxima per channel.
    """
    h, w, c = image.shape
    if h == 0 or w == 0:
        return np.zeros(c, np.float32)
    rows = np.maximum.reduce(image.reshape(h, w * c), axis=0)
    return rows.reshape(w, c).max(axis=0).astype(np.float32)


#: Noise estimate: blocks of this side, at most this many per image side.
NOISE_BLOCK, NOISE_GRID = 32, 16
#: The noise level a noise-aware model is told when the caller gives none (a clean raw).
DEFAULT_NOISE = 1e-3


#: What a metadata-aware model is told when a raw does not record a value: ISO 100,
#: 1/100 s, no black level, 14 bits (see :func:`meta_features`).
DEFAULT_ISO, DEFAULT_EXPOSURE_S, DEFAULT_RANGE = 100.0, 0.01, 16383.0
#: Length of the :func:`meta_features` vector (the ``meta`` input is ``[1, META_FEATURES]``).
META_FEATURES = 4


def meta_features(meta: RawMeta | None) -> np.ndarray:
    """A raw's capture metadata as a metadata-aware model takes it (float32, 4 values).

    ``log2(ISO / 100) / 6`` (the sensor's gain: read and shot noise grow with it),
    ``log2(exposure seconds) / 10``, the black level as a fraction of the white level
    (the pedestal the raw range loses) and ``log2(white - black) / 16`` (the raw's
    effective bit depth: its quantisation step). Values a raw does not record are the
    defaults above (ISO 100, 1/100 s, no black level, 14 bits).
    """
    meta = meta or RawMeta()
    iso = meta.iso if meta.iso and meta.iso > 0 and math.isfinite(meta.iso) else DEFAULT_ISO
    t = meta.exposure_time
    t = t if t and t > 0 and math.isfinite(t) else DEFAULT_EXPOSURE_S
    black = float(np.mean(meta.black_levels)) if meta.black_levels else 0.0
    white = float(meta.white_level) if meta.white_level and meta.white_level > 1.0 else 0.0
    if not (math.isfinite(black) and math.isfinite(white)) or white <= black or black < 0:
        black, white = 0.0, DEFAULT_RANGE
    return np.array(
        [math.log2(iso / 100.0) / 6.0, math.log2(t) / 10.0, black / white, math.log2(white - black) / 16.0],
        np.float32,
    )


class ImageInputs(NamedTuple):
    """What a model needs from one image, quality aside (:meth:`AdapterModel.image_inputs`).

    ``maxima``, ``noise`` and ``meta`` are ``None`` unless the model takes them.
    """

    thumbnail: np.ndarray
    maxima: np.ndarray | None = None
    noise: float | None = None
    meta: np.ndarray | None = None


def block_noise(blocks: np.ndarray) -> np.ndarray:
    """Robust noise sigma of each (N, B, B) block of one channel.

    Horizontal neighbour differences, their median absolute deviation times 1.4826
    (a Gaussian's sigma), over sqrt(2) (a difference holds two samples' noise).
    """
    d = np.diff(blocks.astype(np.float32), axis=2).reshape(len(blocks), -1)
    mad = np.median(np.abs(d - np.median(d, axis=1, keepdims=True)), axis=1)
    return (1.4826 / np.sqrt(2.0) * mad).astype(np.float32)


def noise_sigma(image: np.ndarray) -> float:
    """Noise level of a linear HxWx3 image (green channel), the quiet quarter of its blocks.

    The centre 32x32 block of each cell of a 16x16 grid; the 25th percentile of the
    blocks' sigmas (:func:`block_noise`), so texture and edges count little. About
    10 ms for 18 MP. The training cache computes the same from its patches.
    """
    h, w = image.shape[:2]
    b = NOISE_BLOCK
    if h < b or w < b:
        return 0.0
    ys = ((np.arange(NOISE_GRID) + 0.5) * h / NOISE_GRID).astype(int) - b // 2
    xs = ((np.arange(NOISE_GRID) + 0.5) * w / NOISE_GRID).astype(int) - b // 2
    ys, xs = np.unique(np.clip(ys, 0, h - b)), np.unique(np.clip(xs, 0, w - b))
    blocks = np.stack([image[y : y + b, x : x + b, 1] for y in ys for x in xs])
    return float(np.percentile(block_noise(blocks), 25))


def make_thumbnail(image: np.ndarray, size: int) -> np.ndarray:
    """Area-average an HxWx3 image to ``size`` x ``size`` (float32, channels last).

    Each output pixel is the exact mean of the input pixels its footprint covers
    (fractional coverage weighted), so the thumbnail is independent of resolution.
    Rows are reduced band by band (each input row touches at most two output rows),
    so the cost is a couple of passes over the image.
    """
    h, w, c = image.shape
    r_first, r_weights = _area_weights(h, size)
    c_first, c_weights = _area_weights(w, size)
    flat = image.reshape(h, w * c)
    rows = np.empty((size, w * c), np.float32)
    span = r_weights.shape[1]
    for i in range(size):
        a = r_first[i]
        k = min(span, h - a)
        rows[i] = r_weights[i, :k] @ flat[a : a + k]
    rows3 = rows.reshape(size, w, c)
    # Columns: a dense (size x w) weight matrix is small enough here.
    dense = np.zeros((size, w), np.float32)
    span = c_weights.shape[1]
    for j in range(size):
        a = c_first[j]
        k = min(span, w - a)
        dense[j, a : a + k] = c_weights[j, :k]
    return np.einsum("twc,sw->tsc", rows3, dense, optimize=True).astype(np.float32)


def _meta(props: dict[str, str], key: str, path: Path) -> str:
    value = props.get(f"rawjpeg.{key}")
    if value is None:
        raise ModelError(f"The model {path.name} lacks the metadata field rawjpeg.{key}.")
    return value


def _rate_weight(text: str | None, path: Path) -> tuple[float, float, float] | None:
    if text is None:
        return None
    hi, lo, power = (float(v) for v in text.split(","))  # ValueError: malformed metadata
    if not all(math.isfinite(v) and v >= 0 for v in (hi, lo, power)):
        raise ModelError(f"{path.name} declares an impossible rate weight ({text}).")
    return hi, lo, power


def read_model_info(props: dict[str, str], path: Path) -> ModelInfo:
    """Parse and check a model's ``metadata_props``; raise :class:`ModelError` if unusable."""
    if props.get("rawjpeg.format") != FORMAT:
        raise ModelError(f"{path.name} is not a rawjpeg adapter model.")
    version = _meta(props, "version", path)
    if version not in SUPPORTED_VERSIONS:
        raise ModelError(
            f"{path.name} is a version {version} adapter model; this rawjpeg reads version "
            f"{', '.join(SUPPORTED_VERSIONS)}."
        )
    try:
        ops = tuple(_meta(props, "operators", path).split(","))
        gh, gw = (int(v) for v in _meta(props, "gamma_map_size", path).split("x"))
        info = ModelInfo(
            name=props.get("rawjpeg.name", path.stem),
            thumbnail_size=int(_meta(props, "thumbnail_size", path)),
            lut_bins=int(_meta(props, "lut_bins", path)),
            gamma_map_size=(gh, gw),
            quality_range=(
                int(_meta(props, "quality_min", path)),
                int(_meta(props, "quality_max", path)),
            ),
            operators=ops,
            qtables=props.get("rawjpeg.qtables", "ijg"),
            subsampling=props.get("rawjpeg.subsampling", "4:4:4"),
            description=props.get("rawjpeg.description", ""),
            rate_weight=_rate_weight(props.get("rawjpeg.rate_weight"), path),
            look=props.get("rawjpeg.look", "raw"),
        )
    except ValueError as exc:
        raise ModelError(f"{path.name} has malformed rawjpeg metadata ({exc}).") from None
    if set(ops) not in KNOWN_OPERATORS:
        raise ModelError(f"{path.name} uses operators {','.join(ops)}, which this rawjpeg lacks.")
    if info.look not in ("photo", "raw"):
        raise ModelError(f"{path.name} declares a look ({info.look}) this rawjpeg does not know.")
    if info.qtables not in ("ijg", "model") or info.subsampling not in ("4:4:4", "4:2:0"):
        raise ModelError(f"{path.name} asks for a JPEG set-up this rawjpeg does not know.")
    if not (1 <= info.quality_range[0] <= info.quality_range[1] <= 100):
        raise ModelError(f"{path.name} declares an impossible quality range.")
    return info


def default_model_path() -> Path:
    """Where the bundled model lives: ``$RAWJPEG_MODEL``, the installed package, or ``models/``."""
    env = os.environ.get("RAWJPEG_MODEL")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    for name in (DEFAULT_MODEL_NAME, FALLBACK_MODEL_NAME):
        for folder in (here / "models", here.parent / "models"):
            if (folder / name).is_file():
                return folder / name
    raise ModelError(
        "No adapter model found: expected models/adapter.onnx beside the package "
        "or a path in RAWJPEG_MODEL."
    )


class AdapterModel:
    """An adapter network loaded from an ONNX file.

    Attributes:
        path: the model file.
        info: the metadata the file declares.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path) if path is not None else default_model_path()
        if not self.path.is_file():
            raise ModelError(f"The model file {self.path} does not exist.")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(self.path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own, undocumented types
            raise ModelError(f"{self.path.name} is not a readable ONNX model ({exc}).") from None
        meta = self._session.get_modelmeta().custom_metadata_map
        self.info = read_model_info(dict(meta), self.path)
        names = {o.name for o in self._session.get_outputs()}
        wanted = {"lut", "gamma_map"}
        if "dct" in self.info.operators:
            wanted.add("dct_scale")
        if "lutmix" in self.info.operators:
            wanted |= {"lut_basis", "lut_mix"}
        if self.info.qtables == "model":
            wanted.add("qtables")
        if not wanted <= names:
            raise ModelError(f"{self.path.name} lacks the outputs {sorted(wanted - names)}.")
        self._outputs = sorted(wanted)
        inputs = {i.name for i in self._session.get_inputs()}
        required, optional = {"thumbnail", "quality"}, {"channel_max", "noise", "meta"}
        if not required <= inputs or not inputs <= required | optional:
            raise ModelError(
                f"{self.path.name} has the inputs {sorted(inputs)}; rawjpeg models take "
                "thumbnail, quality and optionally channel_max, noise and meta."
            )
        #: Whether the model takes the full image's per-channel maximum.
        self.uses_channel_max = "channel_max" in inputs
        #: Whether the model takes the image's noise level.
        self.uses_noise = "noise" in inputs
        #: Whether the model takes the raw's capture metadata (:func:`meta_features`).
        self.uses_meta = "meta" in inputs

    @property
    def name(self) -> str:
        """The model's short name."""
        return self.info.name

    def predict_thumbnail(
        self,
        thumbnail: np.ndarray,
        quality: int,
        maxima: np.ndarray | None = None,
        noise: float | None = None,
        meta: np.ndarray | None = None,
    ) -> Prediction:
        """Run the network on a T x T x 3 thumbnail at a JPEG quality (1-100).

        ``maxima``: the full image's per-channel maximum (:func:`channel_max`) for models
        that take it; without it such a model is told every channel reaches 1 (the most
        cautious gain). ``noise``: the image's :func:`noise_sigma` for models that take
        it; without it they are told :data:`DEFAULT_NOISE` (a clean, well-exposed raw).
        ``meta``: :func:`meta_features` of the raw for models that take it; without it
        they are told the defaults (ISO 100, 1/100 s, 14 bits).
        """
        t = self.info.thumbnail_size
        if thumbnail.shape != (t, t, 3):
            raise ModelError(f"The model expects a {t}x{t} thumbnail, got {thumbnail.shape}.")
        feeds = {
            "thumbnail": np.ascontiguousarray(thumbnail.transpose(2, 0, 1)[None], np.float32),
            "quality": np.array([[quality / 100.0]], np.float32),
        }
        if self.uses_channel_max:
            m = np.ones(3, np.float32) if maxima is None else np.asarray(maxima, np.float32).reshape(3)
            feeds["channel_max"] = np.clip(np.nan_to_num(m, nan=1.0), 0.0, 1.0)[None]
        if self.uses_noise:
            n = DEFAULT_NOISE if noise is None or not np.isfinite(noise) else float(noise)
            feeds["noise"] = np.array([[min(max(n, 0.0), 1.0)]], np.float32)
        if self.uses_meta:
            f = meta_features(None) if meta is None else np.asarray(meta, np.float32).reshape(META_FEATURES)
            feeds["meta"] = np.clip(np.nan_to_num(f), -4.0, 4.0)[None].astype(np.float32)
        out = dict(zip(self._outputs, self._session.run(self._outputs, feeds), strict=True))
        params = sanitize(
            out["lut"][0],
            out["gamma_map"][0],
            out.get("dct_scale", [None])[0],
            out.get("lut_basis", [None])[0],
            out.get("lut_mix", [None])[0],
        )
        qt = None
        if "qtables" in out:
            qt = np.clip(np.round(np.nan_to_num(out["qtables"][0], nan=255.0)), 1, 255)
            qt = qt.astype(np.uint8)
        return Prediction(params, qt)

    def image_inputs(self, image: np.ndarray, meta: RawMeta | None = None) -> ImageInputs:
        """What this model needs from a full linear HxWx3 image (and its raw's metadata),
        quality aside, for :meth:`predict_thumbnail`; only what the model takes is computed.
        """
        return ImageInputs(
            make_thumbnail(image, self.info.thumbnail_size),
            channel_max(image) if self.uses_channel_max else None,
            noise_sigma(image) if self.uses_noise else None,
            meta_features(meta) if self.uses_meta else None,
        )

    def predict(self, image: np.ndarray, quality: int, meta: RawMeta | None = None) -> Prediction:
        """Predict the adapter for a full linear HxWx3 image (and its raw's metadata)."""
        return self.predict_inputs(self.image_inputs(image, meta), quality)

    def predict_inputs(self, inputs: ImageInputs, quality: int) -> Prediction:
        """:meth:`predict_thumbnail` with everything :meth:`image_inputs` gathered."""
        return self.predict_thumbnail(inputs.thumbnail, quality, inputs.maxima, inputs.noise, inputs.meta)
