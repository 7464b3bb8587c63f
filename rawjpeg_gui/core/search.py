"""Encoder-side search: which quality's operators code this image best at the slider's tables.

The network predicts operators (LUT, gamma map) for a quality from a thumbnail. On a
photograph unlike its training data, the operators it predicts for the slider's quality
are not always the best ones: another quality's operators at the same JPEG tables can
give both more PSNR and, at equal PSNR, fewer bits.

The encoder has the raw, so it measures instead of guessing. The slider's quality ``q``
fixes the JPEG quantisation tables (and so, roughly, the file size); each candidate in
:data:`CANDIDATES` lends its operators, which are applied to a *probe* of the image
(16 x 16 tiles, one 4:2:0 MCU each, on an even lattice over the whole image, about
:data:`PROBE_PIXELS` pixels in all), JPEG-coded with ``q``'s tables, decoded, inverted
and scored with the rate-distortion objective the network was trained on::

    cost = ln(MSE on the linear raw) + w(q) * bits per pixel,
    w(q) = rate_hi + rate_lo * (1 - q / 100) ** rate_power

(the model file declares ``rate_hi, rate_lo, rate_power`` in ``rawjpeg.rate_weight``;
models without it are not searched). The cheapest candidate's operators code the
whole image. Then the gamma map's size: the predicted map and the maps pooled from it
in log space (:func:`gamma_sizes`, down to 1 x 1) are scored on the same probe, the
parameter bytes a smaller map saves counted in the rate. The choice is made at the
candidate quality nearest the slider (:func:`anchor_quality`: its tables and rate
weight) and so holds for a whole band of the slider (q 15-24, 25-34, ...): operators
change at nine band edges at most, not at every step, so near-ties cannot flip the
choice back and forth from one step to the next. The decoder needs nothing new: the
file carries the operators it was written with, whichever quality they were predicted
for.

Every prediction the encoder uses, searched or not, first has its gamma map drawn
toward its mean (:func:`predict`): each exponent is kept within a factor
``exp(GAMMA_SPREAD)`` of the map's log-space mean. An adapter-JPEG's embedded ICC
profile (:mod:`icc`) has one tone curve for the whole image, built at that mean, so a
map's spread is what a colour-managed viewer shows as local tone errors; a narrow
spread keeps the viewer's picture close to the app's rendering, and on our validation
cameras it also coded better (``models/ABLATIONS.md``).

Before any of this the encoder balances the image part of the way
(:func:`encoder_inputs`): each channel is scaled by the camera's white balance raised to
:data:`BALANCE_POWER`, the largest multiplier 1, so neutral greys come close to neutral
in the JPEG's pixels. The model sees the scaled thumbnail, and the scaling is folded
into the LUT it predicts (:func:`fold_balance`), so the file stores one LUT as before
and any decoder inverts it exactly. JPEG's luma/chroma transform then decorrelates the
colours better (fewer chroma bits), and the chroma errors that the display's white
balance amplifies get smaller; on our validation cameras it coded better and looked
closer to the original (``models/ABLATIONS.md``, "Balance before the operators").

The search does not guarantee a monotonic slider: a cheaper operator set can win at a
higher band, and a higher quality then gives a smaller file; a model change must
re-check it (``rawjpeg eval`` prints every step).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from . import colour, container, fastops, jpeg
from .metadata import RawMeta
from .model import AdapterModel, ImageInputs, Prediction
from .params import AdapterParams, monotone

#: Qualities whose operators the encoder tries (the tables always stay the slider's).
CANDIDATES = tuple(range(10, 101, 10))
#: Pixels in the probe; an image at most this large is probed whole (exact).
PROBE_PIXELS = 1 << 17
#: Widest the gamma map may spread, in natural-log units about its log-space mean.
GAMMA_SPREAD = 0.05
#: Side of a probe tile: one 4:2:0 MCU, so DCT blocks and chroma pairs stay whole.
TILE = 16
#: The encoder scales each channel by the camera's white balance to this power.
BALANCE_POWER = 0.5


@dataclass(frozen=True)
class SearchResult:
    """What the search chose.

    Attributes:
        prediction: the operators of the chosen candidate with the slider's JPEG tables.
        operator_quality: the quality whose operators were chosen.
        costs: each candidate quality's measured cost (lower is better).
        gamma_side: side of the gamma map the file carries (the predicted side, or a
            coarser map pooled from it when that measured cheaper).
        gamma_costs: each tried gamma-map side's measured cost.
    """

    prediction: Prediction
    operator_quality: int
    costs: dict[int, float]
    gamma_side: int = 0
    gamma_costs: dict[int, float] | None = None


def pool_gamma(gamma_map: np.ndarray, factor: int) -> np.ndarray:
    """The gamma map averaged in log space over ``factor`` x ``factor`` blocks
    (``factor = 0``: over the whole map, a 1 x 1 map)."""
    h, w = gamma_map.shape
    logs = np.log(gamma_map.astype(np.float64))
    if factor == 0:
        return np.asarray(np.exp(logs.mean(keepdims=True)).astype(np.float32))
    if h % factor or w % factor:
        raise ValueError(f"a {h}x{w} gamma map does not pool by {factor}")
    blocks = logs.reshape(h // factor, factor, w // factor, factor)
    return np.asarray(np.exp(blocks.mean(axis=(1, 3))).astype(np.float32))


def gamma_sizes(gamma_map: np.ndarray) -> dict[int, np.ndarray]:
    """The predicted map and every coarser one the encoder may write instead, by side:
    pooled by 2, 4, 8 ... where the side divides, and the 1 x 1 map (its mean)."""
    h, w = gamma_map.shape
    out = {max(h, w): gamma_map}
    f = 2
    while h % f == 0 and w % f == 0 and f < max(h, w):
        pooled = pool_gamma(gamma_map, f)
        out[max(pooled.shape)] = pooled
        f *= 2
    out.setdefault(1, pool_gamma(gamma_map, 0))
    return out


def limit_spread(gamma_map: np.ndarray, spread: float | None = None) -> np.ndarray:
    """The gamma map with each exponent clamped to within ``spread`` (default
    :data:`GAMMA_SPREAD`) of the map's mean, both in log space."""
    spread = GAMMA_SPREAD if spread is None else spread
    logs = np.log(gamma_map.astype(np.float64))
    mean = logs.mean()
    return np.asarray(np.exp(np.clip(logs, mean - spread, mean + spread)).astype(np.float32))


def balance(meta: RawMeta | None, power: float | None = None) -> np.ndarray:
    """The encoder's per-channel multipliers for a raw: its white balance
    (:func:`colour.white_balance`) to the power ``power`` (default
    :data:`BALANCE_POWER`), divided by the largest, so every multiplier is in (0, 1] and
    no value leaves [0, 1]."""
    wb = colour.white_balance(meta)
    k = np.power(wb / wb.max(), BALANCE_POWER if power is None else power)
    return np.asarray(k.astype(np.float32))


def encoder_inputs(
    model: AdapterModel, image: np.ndarray, meta: RawMeta | None = None
) -> ImageInputs:
    """The model's inputs for ``image`` as the encoder uses them: the thumbnail scaled
    by :func:`balance` (``inputs.balance``), whose operators :func:`predict` folds back."""
    inputs = model.image_inputs(image, meta)
    k = balance(meta)
    return replace(inputs, thumbnail=inputs.thumbnail * k, balance=k)


def fold_balance(lut: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
    """The LUT that scales channel ``c`` by ``multipliers[c]`` (in (0, 1]) and then
    applies ``lut``: knot ``k`` of ``B`` takes the value of ``lut`` (piecewise linear)
    at ``multipliers[c] * k / (B - 1)``. Strictly increasing as ``lut`` is."""
    knots = np.linspace(0.0, 1.0, lut.shape[1])
    lut64 = lut.astype(np.float64)
    folded = np.stack(
        [np.interp(knots * float(m), knots, lut64[c]) for c, m in enumerate(multipliers)]
    )
    return monotone(folded)


def predict(model: AdapterModel, inputs: ImageInputs, quality: int) -> Prediction:
    """The model's prediction for ``quality`` as the encoder writes it, searched or not:
    its gamma map's spread limited (:data:`GAMMA_SPREAD`) and the inputs' balance
    (:func:`encoder_inputs`) folded into its LUT."""
    pred = model.predict_inputs(inputs, quality)
    lut = pred.params.lut
    if inputs.balance is not None:
        lut = fold_balance(lut, inputs.balance)
    params = replace(pred.params, lut=lut, gamma_map=limit_spread(pred.params.gamma_map))
    return Prediction(params, pred.qtables)


def _payload(params: AdapterParams) -> int:
    record = container.AdapterRecord(params, 1, 1, 1, "4:4:4", "", RawMeta())
    return container.parameter_payload_size(record)


def anchor_quality(quality: int) -> int:
    """The candidate quality whose band holds ``quality`` (halves round up: 15 -> 20)."""
    return min(CANDIDATES, key=lambda c: (abs(c - quality), -c))


def rate_weight(weights: tuple[float, float, float], quality: int) -> float:
    """``w(q)``: the training objective's price of one bit per pixel, in units of ln(MSE)."""
    hi, lo, power = weights
    return float(hi + lo * max(0.0, 1.0 - quality / 100.0) ** power)


def probe_lattice(height: int, width: int, pixels: int = PROBE_PIXELS) -> fastops.Lattice | None:
    """The probe: TILE x TILE tiles on the MCU grid, spread evenly over the image.

    About ``pixels`` pixels in all; ``None`` when the image is small enough to be probed
    whole. JPEG codes every block on its own (only the DC difference to the previous
    block crosses a tile edge), so a tile costs about what it costs in the whole image.
    """
    th, tw = height // TILE, width // TILE
    if height * width <= pixels or th == 0 or tw == 0:
        return None
    step = math.sqrt(height * width / pixels)

    def pick(tiles: int) -> np.ndarray:
        n = max(1, min(tiles, round(tiles / step)))
        starts = ((np.arange(n) + 0.5) * tiles / n).astype(np.intp) * TILE
        return (starts[:, None] + np.arange(TILE)[None, :]).reshape(-1)

    return fastops.Lattice(height, pick(th), width, pick(tw))


def _cost(
    probe: np.ndarray,
    at: fastops.Lattice | None,
    pred: Prediction,
    qtables: np.ndarray | None,
    quality: int,
    subsampling: str,
    weight: float,
) -> float:
    params = container.quantise(pred.params)
    adapted = fastops.forward_uint8(probe, params, threads=1, at=at)
    coded = jpeg.encode_jpeg(adapted, quality, subsampling, qtables)
    back = fastops.inverse_uint8(jpeg.decode_jpeg(coded), params, threads=1, at=at)
    back -= probe
    mse = float(np.mean(np.square(back, out=back), dtype=np.float64))
    bpp = 8.0 * len(coded) / float(probe.shape[0] * probe.shape[1])
    return math.log(max(mse, 1e-20)) + weight * bpp


def search(
    image: np.ndarray,
    quality: int,
    model: AdapterModel,
    inputs: ImageInputs | None = None,
    adapt_gamma: bool = True,
) -> SearchResult | None:
    """Choose the operators for ``image`` at ``quality``; ``None`` if the model is not searched.

    ``inputs``: :func:`encoder_inputs` of ``image`` and its raw's metadata; computed
    from the image alone when not given.
    ``adapt_gamma``: then also choose the gamma map's size (:func:`gamma_sizes`) for the
    chosen operators, by the same cost with the parameter bytes each size saves counted
    in the rate.
    """
    weights = model.info.rate_weight
    if weights is None:
        return None
    if inputs is None:
        inputs = encoder_inputs(model, image)
    base = predict(model, inputs, quality)
    # The choice is made at the nearest candidate quality (its tables and rate weight) and
    # then kept for every slider position around it, so operators change at most at the
    # nine band edges (q 15, 25, ..., 95), not at every step of the slider.
    anchor = anchor_quality(quality)
    height, width = image.shape[:2]
    at = probe_lattice(height, width, PROBE_PIXELS)
    probe = image if at is None else image[np.ix_(at.rows, at.cols)]
    weight = rate_weight(weights, anchor)
    preds = {c: base if c == quality else predict(model, inputs, c) for c in CANDIDATES}
    tables = preds[anchor].qtables

    def cost(cand: int) -> float:
        return _cost(probe, at, preds[cand], tables, anchor, model.info.subsampling, weight)

    # One candidate per thread: numpy and the operators release the GIL (Pillow's in-memory
    # JPEG encode does not, but the probe is small).
    with ThreadPoolExecutor(max_workers=min(len(CANDIDATES), fastops.default_threads())) as pool:
        costs = dict(zip(CANDIDATES, pool.map(cost, CANDIDATES), strict=True))
    best = min(costs, key=lambda c: (costs[c], abs(c - anchor)))
    chosen = preds[best].params
    if not adapt_gamma:
        return SearchResult(Prediction(chosen, base.qtables), best, costs)
    # Then the gamma map's size for those operators: the predicted map or a coarser one
    # pooled from it; the bytes a smaller map saves in the file count in the rate.
    sizes = {
        side: replace(chosen, gamma_map=g) for side, g in gamma_sizes(chosen.gamma_map).items()
    }
    full = max(sizes)
    full_payload = _payload(sizes[full])
    saved = {side: full_payload - _payload(p) for side, p in sizes.items() if side != full}

    def size_cost(side: int) -> float:
        bits_saved = 8.0 * saved[side] / float(height * width)
        probe_cost = _cost(
            probe, at, Prediction(sizes[side], None), tables, anchor, model.info.subsampling, weight
        )
        return probe_cost - weight * bits_saved

    others = [side for side in sizes if side != full]  # the full map's cost is known
    with ThreadPoolExecutor(max_workers=min(len(others) or 1, fastops.default_threads())) as pool:
        gamma_costs = dict(zip(others, pool.map(size_cost, others), strict=True))
    gamma_costs[full] = costs[best]
    side = min(gamma_costs, key=lambda s: (gamma_costs[s], -s))
    return SearchResult(Prediction(sizes[side], base.qtables), best, costs, side, gamma_costs)
