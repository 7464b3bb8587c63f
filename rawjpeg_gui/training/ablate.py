"""Ablation harness: train variants on one budget, export, evaluate, tabulate.

Usage::

    python -m rawjpeg_gui.training.ablate rawjpeg_gui/training/configs/ablation/*.toml \\
        --out runs/ablation --table models/ABLATIONS.md

Each ablation config is a training config (``[data]``, ``[model]``, ``[loss]``,
``[train]``, ``[export]``) layered over ``[ablation] base`` (default
``configs/default.toml``); ``[model]`` also takes the switches of
:class:`~rawjpeg_gui.training.variants.VariantConfig`. ``[ablation]`` keys:

* ``name``, ``description``: the table row.
* ``train`` (default true): false evaluates the shared initialisation as it is.
* ``weights_from``: another variant's name; reuse its trained weights with this
  config's ``[model]`` (e.g. resample the LUT at another bin count), no training.

Fairness: every trained variant starts from the same checkpoint (the base
config's ``[train] init_from``, snapshotted once into ``OUT/init.pt``; new modules
start as identities), with the same seed, the same batch sequence and the same
number of steps (``--steps``; ``--max-minutes`` is only a safety cap and the
table reports the steps actually run). Evaluation is the official one of
``rawjpeg eval`` (``core.evaluate``: the real codec with the file's parameter
segment counted in the rate; IJG-table 4:2:0 JPEG of the gamma-1/2.2 and of the
linear image as baselines; BD-rate on PSNR) at ``--qualities`` on held-out raws.

Results go to ``OUT/<name>/result.json``; the run resumes (finished variants are
skipped) and the table in ``--table`` is rewritten after every variant.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import os
import shutil
import statistics
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rawjpeg_gui.core import container, metrics
from rawjpeg_gui.core import evaluate as core_eval
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.rawio import RawImage, read_raw

from . import split
from .data import PatchCache, sample_batch
from .loss import LossConfig
from .network import count_parameters
from .train import optimisation_step
from .variants import VariantNet, load_partial, variant_config

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BASE = "rawjpeg_gui/training/configs/default.toml"
#: The validation raws of models/split.toml (choices are made on validation only).
DEFAULT_RAWS = tuple(str(p) for p in split.load().paths("validation"))
TABLE_START = "<!-- ablate:{section}:start -->"
TABLE_END = "<!-- ablate:{section}:end -->"


# ---------------------------------------------------------------- configs


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_variant(path: str | Path) -> dict[str, Any]:
    """An ablation config merged over its base; ``[ablation] name`` defaults to the file stem."""
    with open(path, "rb") as fh:
        cfg = tomllib.load(fh)
    ab = cfg.setdefault("ablation", {})
    ab.setdefault("name", Path(path).stem)
    base = ab.get("base", DEFAULT_BASE)
    if base:
        bp = Path(base)
        if not bp.is_absolute() and not bp.is_file():
            bp = ROOT / bp
        with open(bp, "rb") as fh:
            cfg = _merge(tomllib.load(fh), cfg)
    return cfg


# ---------------------------------------------------------------- training


def _lr(step: int, total: int, base: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 5% (as ``train.train``, by steps only)."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, t))))


def build_net(
    cfg: dict[str, Any], init: str | Path | None, seed: int
) -> tuple[VariantNet, dict[str, list[str]]]:
    """The variant network, seeded, with ``init``'s weights where they fit."""
    torch.manual_seed(seed)
    net = VariantNet(variant_config(cfg.get("model", {})))
    report: dict[str, list[str]] = {}
    if init:
        state = torch.load(init, map_location="cpu", weights_only=False)
        report = load_partial(net, state.get("model", state))
    return net, report


def train_variant(
    net: VariantNet,
    cfg: dict[str, Any],
    out: Path,
    steps: int,
    seed: int,
    max_minutes: float = 1e9,
    threads: int = 2,
    cache: PatchCache | None = None,
) -> dict[str, Any]:
    """Train ``net`` in place for ``steps`` steps (same batches for every variant with one seed)."""
    tc, dc = cfg.get("train", {}), cfg["data"]
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    if not tc.get("learn_qtables", False):
        net.qt_log_base.requires_grad_(False)
    params = [p for p in net.parameters() if p.requires_grad]
    base_lr = float(tc.get("lr", 1e-3))
    warmup = min(int(tc.get("warmup", 100)), max(1, steps // 10))
    opt = torch.optim.Adam(params, lr=base_lr)
    lcfg = LossConfig(**cfg.get("loss", {}))
    cache = cache if cache is not None else PatchCache.load(dc["cache"])
    rng = np.random.default_rng(seed)
    batch_size = int(dc.get("batch", 16))
    fields = ["step", "time_s", "lr", "loss", "psnr", "bpp", "ssim"]
    log_every = max(1, min(50, steps // 10))
    rows: list[list[Any]] = []
    acc: dict[str, list[float]] = {}
    t0 = time.time()
    step = 0
    net.train()
    while step < steps:
        lr = _lr(step, steps, base_lr, warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        b = sample_batch(
            cache,
            batch_size,
            rng,
            crop=int(dc.get("crop", 0)),
            spots=float(dc.get("spots", 0.0)),
            min_exposure=float(dc.get("min_exposure", 0.25)),
        )
        parts = optimisation_step(
            net, opt, params, b, lcfg, float(tc.get("grad_clip", 1.0)), torch.device("cpu")
        )
        step += 1
        for k, v in parts.items():
            acc.setdefault(k, []).append(v)
        if step % log_every == 0 or step == steps:
            rows.append(
                [step, round(time.time() - t0, 1), f"{lr:.2e}"]
                + [f"{np.mean(acc[k]):.4f}" for k in fields[3:]]
            )
            print(
                f"  {out.name}: "
                + " ".join(f"{k}={v}" for k, v in zip(fields, rows[-1], strict=True)),
                flush=True,
            )
            acc = {}
        if time.time() - t0 > max_minutes * 60.0:
            print(f"  {out.name}: time cap reached at step {step}", flush=True)
            break
    net.eval()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "log.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(fields)
        w.writerows(rows)
    last = rows[-1] if rows else None
    return {
        "steps": step,
        "train_s": time.time() - t0,
        "final_loss": float(last[3]) if last else float("nan"),
        "final_psnr": float(last[4]) if last else float("nan"),
        "final_bpp": float(last[5]) if last else float("nan"),
    }


# ---------------------------------------------------------------- measurement


def inference_ms(onnx_path: str | Path, runs: int = 50) -> float:
    """Median onnxruntime latency (CPU, one thread) of one prediction, in milliseconds."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    shape = sess.get_inputs()[0].shape
    t = int(shape[-1])
    thumb = (np.random.default_rng(0).uniform(0, 1, (1, 3, t, t)) ** 2).astype(np.float32)
    feed = {"thumbnail": thumb, "quality": np.array([[0.75]], np.float32)}
    optional = {
        "channel_max": np.array([[0.5, 0.7, 0.9]], np.float32),
        "noise": np.array([[2e-3]], np.float32),
        "meta": np.array([[0.5, -0.7, 0.03, 0.8]], np.float32),
    }
    feed |= {i.name: optional[i.name] for i in sess.get_inputs() if i.name in optional}
    for _ in range(5):
        sess.run(None, feed)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(statistics.median(times))


def _point_dict(p: core_eval.RDPoint) -> dict[str, Any]:
    return {"method": p.method, "quality": p.quality, "bpp": p.bpp, "psnr": p.psnr}


def _point(d: dict[str, Any]) -> core_eval.RDPoint:
    return core_eval.RDPoint(
        d["method"], int(d["quality"]), float(d["bpp"]), float(d["psnr"]), float("nan")
    )


def baseline_points(
    name: str, raw: RawImage, qualities: Sequence[int], cache_path: Path | None
) -> list[core_eval.RDPoint]:
    """Gamma-1/2.2 and linear JPEG points of ``raw`` (cached in ``cache_path``)."""
    cache: dict[str, Any] = {}
    if cache_path is not None and cache_path.is_file():
        cache = json.loads(cache_path.read_text())
    key = f"{name}|{','.join(map(str, qualities))}"
    if key not in cache:
        pts = [
            core_eval.code_point(raw, m, q, None, with_ssim=False)[0]
            for m in ("gamma22", "linear")
            for q in qualities
        ]
        cache[key] = [_point_dict(p) for p in pts]
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache_path.write_text(json.dumps(cache, indent=1))
    return [_point(d) for d in cache[key]]


def evaluate_model(
    onnx_path: str | Path,
    raws: dict[str, RawImage | str],
    qualities: Sequence[int],
    baseline_cache: Path | None = None,
) -> dict[str, Any]:
    """Per file: the adapter's RD points (real codec), payload bytes and BD-rates vs both baselines."""
    from .research import mixfile
    from .research.model import ResearchModel

    model = ResearchModel(str(onnx_path))
    files: dict[str, Any] = {}
    for name, src in raws.items():
        raw = read_raw(src) if isinstance(src, str) else src
        pts, payload = [], []
        for q in qualities:
            enc = mixfile.encode_image(raw, q, model)
            back = mixfile.decode_bytes(enc.jpeg).raw.data
            pts.append(
                core_eval.RDPoint(
                    "adapter",
                    q,
                    metrics.bits_per_pixel(len(enc.jpeg), raw.width, raw.height),
                    metrics.psnr(raw.data, back),
                    float("nan"),
                )
            )
            payload.append(
                mixfile.parameter_payload_size(
                    container.AdapterRecord(
                        enc.params, raw.width, raw.height, q, "4:4:4", "", RawMeta()
                    )
                )
            )
        base = baseline_points(name, raw, qualities, baseline_cache)
        bd = core_eval.bd_rates(base + pts)
        files[name] = {
            "bd_vs_gamma22": bd.get("gamma22", float("nan")),
            "bd_vs_linear": bd.get("linear", float("nan")),
            "payload_bytes": float(np.mean(payload)),
            "adapter": [_point_dict(p) for p in pts],
            "monotonic": bool(
                np.all(np.diff([p.bpp for p in pts]) > 0)
                and np.all(np.diff([p.psnr for p in pts]) > 0)
            ),
        }
        del raw
    return files


# ---------------------------------------------------------------- one variant


def run_variant(
    cfg: dict[str, Any],
    out_root: Path,
    init: Path | None,
    steps: int,
    seed: int,
    raws: dict[str, RawImage | str],
    qualities: Sequence[int],
    max_minutes: float = 1e9,
    threads: int = 2,
    cache: PatchCache | None = None,
) -> dict[str, Any]:
    """Train (or reuse), export, time and evaluate one variant; writes ``OUT/<name>/result.json``."""
    from .export import export_net, max_parity_error

    ab = cfg["ablation"]
    name = ab["name"]
    seed = int(ab.get("seed", seed))
    out = out_root / name
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    ckpt = out / "checkpoint.pt"
    stats: dict[str, Any] = {"steps": 0, "train_s": 0.0}
    if ab.get("weights_from"):
        src = out_root / ab["weights_from"] / "checkpoint.pt"
        net, load = build_net(cfg, src, seed)
        unused = load.get("dropped", []) + load.get("new", []) + load.get("partial", [])
        if unused:  # e.g. a [model] switch missing here: the weights would not be the same net
            raise SystemExit(
                f"{name}: weights_from {ab['weights_from']} does not fit this variant's [model] "
                f"({', '.join(sorted(unused)[:4])} ...): give it the same [model] switches"
            )
        prev = json.loads((out_root / ab["weights_from"] / "result.json").read_text())
        stats = {"steps": prev["steps"], "train_s": 0.0, "note": f"weights of {ab['weights_from']}"}
    else:
        net, load = build_net(cfg, init, seed)
        if ab.get("train", True):
            stats = train_variant(net, cfg, out, steps, seed, max_minutes, threads, cache)
    torch.save({"model": net.state_dict(), "net_config": net.cfg.__dict__, "config": cfg}, ckpt)
    sub = cfg.get("loss", {}).get("subsampling", "4:4:4")
    export_cap = cfg.get("export", {}).get("gain_max")
    if export_cap is not None:  # trained uncapped, capped at export (as the shipped model)
        net.cfg.gain_max = float(export_cap)
    # [export] search: evaluate with the encoder's search (core/search.py).
    rate_weight = (
        LossConfig(**cfg.get("loss", {})).rate_weight
        if cfg.get("export", {}).get("search")
        else None
    )
    onnx_path = export_net(
        net, out / "adapter.onnx", cfg.get("export", {}), sub, rate_weight=rate_weight
    )
    parity = max_parity_error(net, onnx_path)
    ms = inference_ms(onnx_path)
    t_eval = time.time()
    files = evaluate_model(onnx_path, raws, qualities, out_root / "baselines.json")
    result = {
        "name": name,
        "description": ab.get("description", ""),
        "model": {k: v for k, v in cfg.get("model", {}).items()},
        "parameters": sum(p.numel() for p in net.parameters()),
        "trainable": count_parameters(net),
        "onnx_bytes": onnx_path.stat().st_size,
        "inference_ms": ms,
        "parity": parity,
        "init": {k: len(v) for k, v in load.items()},
        "eval_s": time.time() - t_eval,
        "wall_s": time.time() - t_start,
        "qualities": list(qualities),
        "files": files,
        **stats,
    }
    for key in ("bd_vs_gamma22", "bd_vs_linear"):
        finite = [f[key] for f in files.values() if math.isfinite(f[key])]
        result[f"mean_{key}"] = float(np.mean(finite)) if finite else math.nan
    result["payload_bytes"] = (
        float(np.mean([f["payload_bytes"] for f in files.values()])) if files else math.nan
    )
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result


# ---------------------------------------------------------------- the table


def _f(v: float, fmt: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    pct = fmt.endswith("%")
    return format(v, fmt[:-1] if pct else fmt) + ("%" if pct else "")


def render_table(results: Sequence[dict[str, Any]], reference: str = "baseline") -> str:
    """Markdown: a summary table and a per-file BD-rate table."""
    ref = next((r for r in results if r["name"] == reference), None)
    lines = [
        "| variant | what changes | params | ONNX ms | payload B | mean BD vs γ2.2 | Δ vs baseline | "
        "mean BD vs linear | steps | train min | wall min |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        delta = (
            r["mean_bd_vs_gamma22"] - ref["mean_bd_vs_gamma22"]
            if ref and r is not ref
            else math.nan
        )
        lines.append(
            f"| {r['name']} | {r['description']} | {r['parameters']} | {_f(r['inference_ms'], '.2f')} | "
            f"{_f(r['payload_bytes'], '.0f')} | {_f(r['mean_bd_vs_gamma22'], '+.2f%')} | "
            f"{_f(delta, '+.2f')} | {_f(r['mean_bd_vs_linear'], '+.2f%')} | {r['steps']} | "
            f"{r['train_s'] / 60:.1f} | {r['wall_s'] / 60:.1f} |"
        )
    names = list(dict.fromkeys(f for r in results for f in r["files"]))
    lines += [
        "",
        "BD-rate per held-out file (vs γ2.2 JPEG / vs linear JPEG, %; negative = fewer bits):",
        "",
    ]
    lines.append("| variant | " + " | ".join(Path(n).name for n in names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    for r in results:
        cells = []
        for n in names:
            f = r["files"].get(n)
            cells.append(
                ""
                if f is None
                else f"{_f(f['bd_vs_gamma22'], '+.2f')} / {_f(f['bd_vs_linear'], '+.2f')}"
                + ("" if f["monotonic"] else " (non-monotonic)")
            )
        lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ms(v: Sequence[float], fmt: str = "+.2f") -> str:
    v = [x for x in v if not math.isnan(x)]
    if not v:
        return "n/a"
    if len(v) == 1:
        return format(v[0], fmt)
    return f"{format(float(np.mean(v)), fmt)} ± {statistics.stdev(v):.2f}"


def aggregate_table(dirs: Sequence[str | Path], reference: str = "baseline") -> str:
    """Markdown over several runs (one per seed) of the same variants.

    Differences against ``reference`` are paired: within one run directory both
    variants saw the same seed and batch sequence.
    """
    runs = []
    for d in dirs:
        res = {}
        for f in sorted(Path(d).glob("*/result.json")):
            r = json.loads(f.read_text())
            res[r["name"]] = r
        runs.append(res)
    names = sorted(dict.fromkeys(n for res in runs for n in res), key=lambda n: (n != reference, n))
    files = list(dict.fromkeys(f for res in runs for r in res.values() for f in r["files"]))
    lines = [
        "| variant | runs | mean BD vs γ2.2 | paired Δ vs baseline (better in) | mean BD vs linear "
        "| paired Δ vs baseline | "
        + " | ".join(f"Δ γ2.2 {Path(f).name}" for f in files)
        + " | non-monotonic curves |",
        "|---|---:|---:|---:|---:|---:|" + "---:|" * len(files) + "---:|",
    ]
    for n in names:
        rs = [(res[n], res.get(reference)) for res in runs if n in res]
        g = [r["mean_bd_vs_gamma22"] for r, _ in rs]
        li = [r["mean_bd_vs_linear"] for r, _ in rs]
        paired = [(r, b) for r, b in rs if b is not None]
        dg = [r["mean_bd_vs_gamma22"] - b["mean_bd_vs_gamma22"] for r, b in paired]
        dl = [r["mean_bd_vs_linear"] - b["mean_bd_vs_linear"] for r, b in paired]
        per_file = []
        for f in files:
            d = [
                r["files"][f]["bd_vs_gamma22"] - b["files"][f]["bd_vs_gamma22"]
                for r, b in paired
                if f in r["files"] and f in b["files"]
            ]
            per_file.append(_ms(d) if n != reference else "")
        nonmono = sum(not x["monotonic"] for r, _ in rs for x in r["files"].values())
        wins = f" ({sum(x < 0 for x in dg)}/{len(dg)})" if n != reference else ""
        lines.append(
            f"| {n} | {len(rs)} | {_ms(g)}% | {_ms(dg) + wins if n != reference else ''} | "
            f"{_ms(li)}% | {_ms(dl) if n != reference else ''} | "
            + " | ".join(per_file)
            + f" | {nonmono}/{len(rs) * len(files)} |"
        )
    return "\n".join(lines)


def write_table(
    path: Path,
    results: Sequence[dict[str, Any]] | str,
    header: str = "",
    section: str = "table",
) -> None:
    """Put the table (results or ready markdown) between ``path``'s ``section`` markers."""
    start, end = TABLE_START.format(section=section), TABLE_END.format(section=section)
    body = results if isinstance(results, str) else render_table(results)
    block = f"{start}\n{body}\n{end}"
    text = path.read_text() if path.is_file() else (header or "# Ablations\n\n")
    if start in text and end in text:
        pre, rest = text.split(start, 1)
        text = pre + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run_ablation(
    configs: Sequence[str | Path],
    out_root: str | Path,
    table: str | Path | None,
    steps: int,
    seed: int = 0,
    raws: dict[str, RawImage | str] | None = None,
    qualities: Sequence[int] = core_eval.DEFAULT_QUALITIES,
    max_minutes: float = 1e9,
    threads: int = 2,
    init: str | Path | None = None,
    redo: bool = False,
    section: str = "table",
) -> list[dict[str, Any]]:
    """Run every config in order (skipping finished ones unless ``redo``); returns the results."""
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    skipped = [c for c in configs if Path(c).name.startswith("_")]
    if skipped:
        print(f"not variants (name starts with '_'): {', '.join(map(str, skipped))}", flush=True)
    cfgs = [load_variant(c) for c in configs if not Path(c).name.startswith("_")]
    if raws is None:
        missing = [p for p in DEFAULT_RAWS if not Path(p).is_file()]
        if missing:  # a table over fewer files would not compare with the others
            raise SystemExit(
                f"held-out raws missing: {', '.join(missing)} (run scripts/fetch_test_data.py)"
            )
        raws = {p: p for p in DEFAULT_RAWS}
    init_path: Path | None = None
    src = init if init is not None else cfgs[0].get("train", {}).get("init_from")
    if src:
        init_path = out_root / "init.pt"
        if not init_path.is_file() or redo:
            shutil.copy(src, init_path)
    caches: dict[str, PatchCache] = {}
    results: list[dict[str, Any]] = []
    for cfg in cfgs:
        name = cfg["ablation"]["name"]
        res_path = out_root / name / "result.json"
        if res_path.is_file() and not redo:
            results.append(json.loads(res_path.read_text()))
            print(f"{name}: done before, skipped", flush=True)
        else:
            print(f"{name}: {cfg['ablation'].get('description', '')}", flush=True)
            cpath = cfg["data"]["cache"]
            if cpath not in caches:
                caches[cpath] = PatchCache.load(cpath)
            results.append(
                run_variant(
                    cfg,
                    out_root,
                    init_path,
                    steps,
                    seed,
                    raws,
                    qualities,
                    max_minutes,
                    threads,
                    caches[cpath],
                )
            )
            r = results[-1]
            print(
                f"{name}: BD vs gamma {r['mean_bd_vs_gamma22']:+.2f}%  vs linear "
                f"{r['mean_bd_vs_linear']:+.2f}%  {r['inference_ms']:.2f} ms  steps {r['steps']}",
                flush=True,
            )
        if table:
            write_table(Path(table), results, section=section)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m rawjpeg_gui.training.ablate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("configs", nargs="*")
    ap.add_argument(
        "--aggregate",
        nargs="+",
        metavar="DIR",
        help="instead of running: tabulate finished runs (one directory per seed) into --section",
    )
    ap.add_argument("--out", default="runs/ablation")
    ap.add_argument("--table", default="models/ABLATIONS.md")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-minutes", type=float, default=10.0, help="safety cap per variant")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--init", help="shared initial checkpoint (default: the base config's init_from)"
    )
    ap.add_argument("-q", "--qualities", default=",".join(map(str, core_eval.DEFAULT_QUALITIES)))
    ap.add_argument(
        "--raw",
        action="append",
        help="held-out raw (repeatable; default: the four validation raws)",
    )
    ap.add_argument("--redo", action="store_true")
    ap.add_argument("--section", default="table", help="which table of --table to (re)write")
    args = ap.parse_args(argv)
    if args.aggregate:
        body = aggregate_table(args.aggregate)
        if args.table:
            write_table(Path(args.table), body, section=args.section)
        print(body)
        return
    if not args.configs:
        ap.error("no ablation configs given")
    raws = {p: p for p in args.raw} if args.raw else None
    run_ablation(
        args.configs,
        args.out,
        args.table or None,
        args.steps,
        args.seed,
        raws,
        [int(v) for v in args.qualities.split(",")],
        args.max_minutes,
        args.threads,
        args.init,
        args.redo,
        args.section,
    )


if __name__ == "__main__":
    main()
