"""The adapter model runtime: an ONNX network run by onnxruntime.

Contract (every model in ``models/`` follows it; :data:`FORMAT` names it):

Inputs
    ``thumbnail``  float32 ``[1, 3, T, T]``: the linear camera-RGB image in [0, 1],
                   area-averaged to T x T (see :func:`make_thumbnail`; aspect is not kept).
    ``quality``    float32 ``[1, 1]``: the JPEG quality divided by 100.
Outputs
    ``lut``        float32 ``[1, 3, B]``: per-channel tone curve at B uniform knots.
    ``gamma_map``  float32 ``[1, h, w]``: spatial gamma exponents.
    ``dct_scale``  float32 ``[1, 3, 8, 8]`` (only when ``operators`` names ``dct``).
    ``qtables``    float32 ``[1, 2, 64]`` (only when ``qtables`` is ``model``): luma and
                   chroma JPEG quantisation tables in natural (row-major) order, 1..255.
Metadata (``metadata_props``)
    ``rawjpeg.format`` = ``rawjpeg-adapter``; ``rawjpeg.version`` = ``1``;
    ``rawjpeg.thumbnail_size`` = T; ``rawjpeg.lut_bins`` = B; ``rawjpeg.gamma_map_size``
    = ``hxw``; ``rawjpeg.quality_min`` / ``rawjpeg.quality_max``; ``rawjpeg.operators``
    = ``lut,gamma`` or ``lut,dct,gamma``; ``rawjpeg.qtables`` = ``ijg`` or ``model``;
    ``rawjpeg.subsampling`` = ``4:4:4`` or ``4:2:0``; ``rawjpeg.name``;
    ``rawjpeg.description``; optionally ``rawjpeg.rate_weight`` = ``hi,lo,power``: the
    training objective's price of a bit, ``w(q) = hi + lo * (1 - q/100) ** power`` per bit
    per pixel against ln(MSE); a model that declares it has its operators chosen by the
    encoder's search (:mod:`rawjpeg_gui.core.search`); optionally ``rawjpeg.look`` =
    ``photo`` or ``raw`` (the default): whether the model was trained on camera-normalised
    images (research, :mod:`rawjpeg_gui.training.research.photolook`; the core codec
    refuses such a model) or on camera RGB.

The runtime sanitises the outputs (:func:`rawjpeg_gui.core.params.sanitize`), so a
model can never produce parameters that the operators cannot invert.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from .errors import ModelError
from .metadata import RawMeta
from .package_data import data_dir
from .params import AdapterParams, sanitize

FORMAT = "rawjpeg-adapter"
SUPPORTED_VERSIONS = ("1",)
KNOWN_OPERATORS: tuple[frozenset[str], ...] = (
    frozenset({"lut", "gamma"}),
    frozenset({"lut", "dct", "gamma"}),
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
    cover = np.clip(
        np.minimum(edges[1:, None], px + 1) - np.maximum(edges[:-1, None], px), 0.0, None
    )
    cover[px >= n_in] = 0.0
    return first, (cover / cover.sum(axis=1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class ImageInputs:
    """What a model takes from one image, quality aside (:meth:`AdapterModel.image_inputs`).

    Attributes:
        thumbnail: T x T x 3 area-averaged linear image.
        feeds: further named network inputs (empty for the bundled models).
        balance: per-channel multipliers the thumbnail was scaled by, or ``None``. The
            encoder scales the image by them before its operators
            (:func:`search.encoder_inputs`); the operators the model predicts are then
            for the scaled image, and :func:`search.predict` folds the scaling into the
            LUT.
    """

    thumbnail: np.ndarray
    feeds: Mapping[str, np.ndarray] = field(default_factory=dict)
    balance: np.ndarray | None = None


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
    return np.asarray(np.einsum("twc,sw->tsc", rows3, dense, optimize=True).astype(np.float32))


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


def read_model_info(
    props: dict[str, str], path: Path, known: tuple[frozenset[str], ...] = KNOWN_OPERATORS
) -> ModelInfo:
    """Parse and check a model's ``metadata_props``; raise :class:`ModelError` if unusable.

    ``known``: the operator sets the caller can run.
    """
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
    if frozenset(ops) not in known:
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
    for name in (DEFAULT_MODEL_NAME, FALLBACK_MODEL_NAME):
        folder = data_dir("models", name)
        if folder is not None:
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

    #: Operator sets this runtime runs.
    known_operators: ClassVar[tuple[frozenset[str], ...]] = KNOWN_OPERATORS
    #: Network inputs besides ``thumbnail`` and ``quality`` that a model may take.
    optional_inputs: ClassVar[frozenset[str]] = frozenset()

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
        self.info = read_model_info(dict(meta), self.path, self.known_operators)
        names = {o.name for o in self._session.get_outputs()}
        wanted = self._wanted_outputs()
        if not wanted <= names:
            raise ModelError(f"{self.path.name} lacks the outputs {sorted(wanted - names)}.")
        self._outputs = sorted(wanted)
        #: The network's input names.
        self.inputs = frozenset(i.name for i in self._session.get_inputs())
        required = {"thumbnail", "quality"}
        if not required <= self.inputs or not self.inputs <= required | self.optional_inputs:
            raise ModelError(
                f"{self.path.name} has the inputs {sorted(self.inputs)}; rawjpeg models take "
                "thumbnail and quality."
            )

    def _wanted_outputs(self) -> set[str]:
        """The output names the declared operators and tables need."""
        wanted = {"lut", "gamma_map"}
        if "dct" in self.info.operators:
            wanted.add("dct_scale")
        if self.info.qtables == "model":
            wanted.add("qtables")
        return wanted

    def _params(self, out: dict[str, np.ndarray]) -> AdapterParams:
        """Valid parameters from the network's outputs (batch dimension removed)."""
        dct = out["dct_scale"][0] if "dct_scale" in out else None
        return sanitize(out["lut"][0], out["gamma_map"][0], dct)

    @property
    def name(self) -> str:
        """The model's short name."""
        return self.info.name

    def predict_thumbnail(
        self, thumbnail: np.ndarray, quality: int, feeds: Mapping[str, np.ndarray] | None = None
    ) -> Prediction:
        """Run the network on a T x T x 3 thumbnail at a JPEG quality (1-100).

        ``feeds``: further named inputs for models that take them.
        """
        t = self.info.thumbnail_size
        if thumbnail.shape != (t, t, 3):
            raise ModelError(f"The model expects a {t}x{t} thumbnail, got {thumbnail.shape}.")
        run_feeds = {
            "thumbnail": np.ascontiguousarray(thumbnail.transpose(2, 0, 1)[None], np.float32),
            "quality": np.array([[quality / 100.0]], np.float32),
            **(feeds or {}),
        }
        outputs = self._session.run(self._outputs, run_feeds)
        out = dict(zip(self._outputs, outputs, strict=True))
        qt = None
        if "qtables" in out:
            qt = np.clip(np.round(np.nan_to_num(out["qtables"][0], nan=255.0)), 1, 255)
            qt = qt.astype(np.uint8)
        return Prediction(self._params(out), qt)

    def image_inputs(self, image: np.ndarray, meta: RawMeta | None = None) -> ImageInputs:
        """What this model takes from a full linear HxWx3 image (and its raw's metadata),
        quality aside, for :meth:`predict_inputs`."""
        return ImageInputs(make_thumbnail(image, self.info.thumbnail_size))

    def predict(self, image: np.ndarray, quality: int, meta: RawMeta | None = None) -> Prediction:
        """Predict the adapter for a full linear HxWx3 image (and its raw's metadata)."""
        return self.predict_inputs(self.image_inputs(image, meta), quality)

    def predict_inputs(self, inputs: ImageInputs, quality: int) -> Prediction:
        """:meth:`predict_thumbnail` with everything :meth:`image_inputs` gathered."""
        return self.predict_thumbnail(inputs.thumbnail, quality, inputs.feeds)
