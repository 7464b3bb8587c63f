"""An ONNX runtime for research models: extra image inputs and the spatially-varying LUT.

Besides ``thumbnail`` and ``quality`` a research model may take

* ``channel_max`` float32 ``[1, 3]``: the full image's per-channel maximum
  (:func:`~.inputs.channel_max`); a model that takes it may let the LUT's gain rise as
  far as the image's real highlights allow;
* ``noise`` float32 ``[1, 1]``: the image's noise level (:func:`~.inputs.noise_sigma`);
* ``meta`` float32 ``[1, 4]``: the raw's capture metadata (:func:`~.inputs.meta_features`),

and, when its ``rawjpeg.operators`` names ``lutmix`` after ``lut``, predict
``lut_basis`` float32 ``[1, K-1, 3, B]`` and ``lut_mix`` float32 ``[1, K, h, w]``
(:class:`~.lutmix.MixParams`). Files with such parameters are coded by :mod:`.mixfile`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.model import (
    KNOWN_OPERATORS,
    AdapterModel,
    ImageInputs,
    Prediction,
    make_thumbnail,
)
from rawjpeg_gui.core.params import AdapterParams

from .inputs import DEFAULT_NOISE, META_FEATURES, channel_max, meta_features, noise_sigma
from .lutmix import sanitize_mix


class ResearchModel(AdapterModel):
    """:class:`~rawjpeg_gui.core.model.AdapterModel` plus the research inputs and outputs.

    Attributes:
        uses_channel_max: whether the model takes the full image's per-channel maximum.
        uses_noise: whether the model takes the image's noise level.
        uses_meta: whether the model takes the raw's capture metadata.
    """

    known_operators: ClassVar[tuple[frozenset[str], ...]] = KNOWN_OPERATORS + (
        frozenset({"lut", "lutmix", "gamma"}),
        frozenset({"lut", "lutmix", "dct", "gamma"}),
    )
    optional_inputs: ClassVar[frozenset[str]] = frozenset({"channel_max", "noise", "meta"})

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(path)
        self.uses_channel_max = "channel_max" in self.inputs
        self.uses_noise = "noise" in self.inputs
        self.uses_meta = "meta" in self.inputs

    def _wanted_outputs(self) -> set[str]:
        wanted = super()._wanted_outputs()
        if "lutmix" in self.info.operators:
            wanted |= {"lut_basis", "lut_mix"}
        return wanted

    def _params(self, out: dict[str, np.ndarray]) -> AdapterParams:
        if "lut_mix" not in out:
            return super()._params(out)
        dct = out["dct_scale"][0] if "dct_scale" in out else None
        return sanitize_mix(
            out["lut"][0], out["gamma_map"][0], dct, out["lut_basis"][0], out["lut_mix"][0]
        )

    def feeds(
        self,
        maxima: np.ndarray | None = None,
        noise: float | None = None,
        meta: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """The extra inputs this model takes, with defaults for the ones not given.

        Without ``maxima`` the model is told every channel reaches 1 (the most cautious
        gain); without ``noise``, :data:`~.inputs.DEFAULT_NOISE` (a clean raw); without
        ``meta``, the defaults of :func:`~.inputs.meta_features`.
        """
        feeds: dict[str, np.ndarray] = {}
        if self.uses_channel_max:
            m = (
                np.ones(3, np.float32)
                if maxima is None
                else np.asarray(maxima, np.float32).reshape(3)
            )
            feeds["channel_max"] = np.clip(np.nan_to_num(m, nan=1.0), 0.0, 1.0)[None]
        if self.uses_noise:
            n = DEFAULT_NOISE if noise is None or not np.isfinite(noise) else float(noise)
            feeds["noise"] = np.array([[min(max(n, 0.0), 1.0)]], np.float32)
        if self.uses_meta:
            f = meta_features(None) if meta is None else np.asarray(meta, np.float32)
            f = np.clip(np.nan_to_num(f.reshape(META_FEATURES)), -4.0, 4.0)
            feeds["meta"] = f[None].astype(np.float32)
        return feeds

    def predict_thumbnail(
        self, thumbnail: np.ndarray, quality: int, feeds: Mapping[str, np.ndarray] | None = None
    ) -> Prediction:
        """As the core's, with defaults (:meth:`feeds`) for the extra inputs not given."""
        merged: Mapping[str, np.ndarray] = {**self.feeds(), **(feeds or {})}
        return super().predict_thumbnail(thumbnail, quality, merged)

    def image_inputs(self, image: np.ndarray, meta: RawMeta | None = None) -> ImageInputs:
        """The thumbnail and the extra inputs this model takes, from the full image."""
        feeds = self.feeds(
            channel_max(image) if self.uses_channel_max else None,
            noise_sigma(image) if self.uses_noise else None,
            meta_features(meta) if self.uses_meta else None,
        )
        return ImageInputs(make_thumbnail(image, self.info.thumbnail_size), feeds)
