"""Time and peak memory of each codec stage on the largest real raw.

Encode: raw decode, thumbnail, model, the encoder's search (core/search.py: ten probe
encodes), forward operators, JPEG encode.
Decode: parameter read, JPEG decode, inverse operators.
Peak memory is measured per stage with tracemalloc (numpy reports its buffers to
it) and compared with the size of the float32 image. Each stage runs ``--repeat``
times; the best time is printed.

Usage: python benchmarks/codec_bench.py [RAW] [--quality 75] [--repeat 3] [--model PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.core import codec, container, fastops, jpeg, search  # noqa: E402
from rawjpeg_gui.core.model import AdapterModel, make_thumbnail  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402


def largest_raw() -> Path:
    candidates = list((ROOT / ".test-data").glob("*")) + list(
        (ROOT.parent / "shared/data/raw").glob("*")
    )
    if not candidates:
        raise SystemExit("no raw files: run scripts/fetch_test_data.py")
    return max(candidates, key=lambda p: p.stat().st_size)


def measure(fn: Callable[[], Any], repeat: int) -> tuple[Any, float, int]:
    """Best time of ``repeat`` plain runs, then one more run under tracemalloc for the peak
    memory (tracing every allocation slows Python-heavy stages, such as the search)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, best, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", nargs="?", type=Path, default=None)
    parser.add_argument("--quality", type=int, default=75)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    path = args.raw or largest_raw()
    model = AdapterModel(args.model) if args.model else codec.default_model()
    rows: list[tuple[str, float, int]] = []

    raw, t, m = measure(lambda: read_raw(path), 1)
    rows.append(("raw decode (LibRaw AHD)", t, m))
    image_bytes = raw.data.nbytes
    thumb, t, m = measure(lambda: make_thumbnail(raw.data, model.info.thumbnail_size), args.repeat)
    rows.append(("thumbnail", t, m))
    pred, t, m = measure(lambda: model.predict_thumbnail(thumb, args.quality), args.repeat)
    rows.append(("model", t, m))
    inputs = search.encoder_inputs(model, raw.data, raw.meta)  # as the encoder feeds it
    found, t, m = measure(lambda: search.search(raw.data, args.quality, model, inputs), args.repeat)
    rows.append(
        ("search (10 + 4 probe encodes)" if found else "search (model declares none)", t, m)
    )
    if found is not None:
        pred = found.prediction
    params = container.quantise(pred.params)
    adapted, t, m = measure(lambda: fastops.forward_uint8(raw.data, params), args.repeat)
    rows.append(("forward operators", t, m))
    enc, t, m = measure(
        lambda: codec.encode_with_params(
            raw, args.quality, params, pred.qtables, model.info.subsampling, model.name
        ),
        1,
    )
    t_jpeg = enc.timings["jpeg"]
    rows.append(("JPEG encode (+ EXIF, segment)", t_jpeg, m))
    data = enc.jpeg
    record, t, m = measure(lambda: codec.read_record(data), args.repeat)
    rows.append(("parameter read", t, m))
    pixels, t, m = measure(lambda: jpeg.decode_jpeg(data), args.repeat)
    rows.append(("JPEG decode", t, m))
    _, t, m = measure(lambda: fastops.inverse_uint8(pixels, record.params), args.repeat)
    rows.append(("inverse operators", t, m))

    mp = raw.width * raw.height / 1e6
    print(
        f"{path.name}: {raw.width}x{raw.height} ({mp:.1f} MP), quality {args.quality}, model {model.name}, "
        f"{fastops.default_threads()} operator threads"
    )
    print(
        f"float32 image: {image_bytes / 1e6:.0f} MB; file {len(data) / 1e6:.2f} MB ({enc.bpp:.3f} bpp)"
    )
    print(f"{'stage':34} {'seconds':>8} {'peak MB':>8} {'x image':>8}")
    for name, sec, peak in rows:
        print(f"{name:34} {sec:8.3f} {peak / 1e6:8.0f} {peak / image_bytes:8.2f}")
    enc_adapter = rows[1][1] + rows[2][1] + rows[3][1] + rows[4][1]
    dec_adapter = rows[6][1] + rows[8][1]
    print(f"adapter work, encode (thumbnail + model + search + forward): {enc_adapter:.3f} s")
    print(f"adapter work, reconstruction (params + inverse):    {dec_adapter:.3f} s")
    print(
        f"peak memory of any stage: {max(r[2] for r in rows) / image_bytes:.2f}x the float32 image"
    )


if __name__ == "__main__":
    main()
