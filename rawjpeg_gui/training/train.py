"""The training loop: config, checkpoints and resume, CSV log, optional bf16 and DDP.

Runs unchanged as one process or under ``torchrun --nproc_per_node=N`` (gloo on CPU,
nccl on GPU); rank 0 writes the log and checkpoints.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from .colour_loss import photo_loss
from .data import PatchCache, sample_batch
from .loss import LossConfig, rd_loss
from .network import AdapterNet, NetConfig, count_parameters


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML config; relative paths in it are relative to the current directory."""
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def net_config(cfg: dict[str, Any]) -> NetConfig:
    """The network's config from the ``[model]`` table."""
    m = dict(cfg.get("model", {}))
    if "widths" in m:
        m["widths"] = tuple(m["widths"])
    return NetConfig(**m)


def _dist_setup() -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if torch.cuda.is_available():
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    else:
        dev = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return rank, world, dev


def _lr(step: int, total: int, base: float, warmup: int, time_frac: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to 5% over steps or wall time, whichever is further."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = max((step - warmup) / max(1, total - warmup), time_frac)
    return base * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, t))))


def optimisation_step(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    params: list[torch.Tensor],
    batch_np: dict[str, np.ndarray],
    lcfg: LossConfig,
    grad_clip: float,
    dev: torch.device,
    bf16: bool = False,
    look_weight: float = 0.0,
) -> dict[str, float]:
    """One Adam step on a batch from :func:`sample_batch`; returns the loss parts.

    Shared by :func:`train` and the ablation harness. A batch of normalised patches
    (with ``chain``) is scored by :func:`colour_loss.photo_loss` with ``look_weight``.
    """
    batch = {k: torch.from_numpy(v).to(dev) for k, v in batch_np.items()}
    q01 = (batch["quality"] / 100.0)[:, None]
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
        pred = model(batch["thumb"], q01, None, batch["noise"][:, None], batch["meta"])
    pred = {k: v.float() for k, v in pred.items()}
    if "chain" in batch:
        loss, parts = photo_loss(pred, batch, lcfg, look_weight)
    else:
        loss, parts = rd_loss(pred, batch, lcfg)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, grad_clip)
    opt.step()
    return parts


def train(cfg: dict[str, Any], out_dir: str | Path, resume: bool = False) -> Path:
    """Train per ``cfg``; returns the path of the final checkpoint.

    Config tables: ``[data]`` (cache, batch), ``[model]`` (:class:`NetConfig`),
    ``[loss]`` (:class:`LossConfig`), ``[train]`` (steps, stop_step, lr, warmup, grad_clip,
    seed, threads, bf16, learn_qtables, log_every, ckpt_every, max_minutes, init_from,
    ema).

    ``ema`` (0 or absent: off) keeps an exponential moving average of the weights with
    that decay per step; the checkpoint's ``model`` is then the average (what the export
    and a later stage's ``init_from`` read) and ``model_raw`` the trained weights (what a
    resume continues from).
    """
    tc = cfg.get("train", {})
    rank, world, dev = _dist_setup()
    torch.set_num_threads(int(tc.get("threads", 2)))
    out = Path(out_dir)
    ckpt_path = out / "checkpoint.pt"
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    seed = int(tc.get("seed", 0))
    torch.manual_seed(seed)
    net = AdapterNet(net_config(cfg)).to(dev)
    if not tc.get("learn_qtables", False):
        net.qt_log_base.requires_grad_(False)
    loss_table = dict(cfg.get("loss", {}))
    look_weight = float(loss_table.pop("look_weight", 0.0))
    lcfg = LossConfig(**loss_table)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=float(tc.get("lr", 1e-3)))
    step = 0
    t_prev = 0.0
    rng = np.random.default_rng(seed + 1000 * rank)
    init_from = tc.get("init_from")
    if init_from and not (resume and ckpt_path.is_file()):
        # Fine-tune: start from another run's weights (fresh optimiser and schedule).
        if not Path(init_from).is_file():
            raise SystemExit(
                f"[train] init_from: {init_from} does not exist (train that stage first)"
            )
        if str(init_from).endswith(".onnx"):
            net.load_state_dict(onnx_state_dict(init_from, net))
        else:
            net.load_state_dict(
                torch.load(init_from, map_location=dev, weights_only=False)["model"]
            )
    if resume and ckpt_path.is_file():
        state = torch.load(ckpt_path, map_location=dev, weights_only=False)
        net.load_state_dict(state.get("model_raw", state["model"]))
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
        t_prev = float(state.get("time_s", 0.0))
        rng = np.random.default_rng(seed + 1000 * rank + step)
    ema_decay = float(tc.get("ema", 0.0))
    ema: dict[str, torch.Tensor] | None = None
    if ema_decay > 0:
        start = state["model"] if resume and ckpt_path.is_file() else net.state_dict()
        ema = {k: v.detach().to(dev, copy=True) for k, v in start.items()}
    model: torch.nn.Module = net
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(net)
    dc = cfg["data"]
    cache = PatchCache.load(dc["cache"])
    batch_size = int(cfg["data"].get("batch", 16))
    total = int(tc.get("steps", 1000))
    warmup = int(tc.get("warmup", 100))
    base_lr = float(tc.get("lr", 1e-3))
    bf16 = bool(tc.get("bf16", False))
    log_every = int(tc.get("log_every", 50))
    ckpt_every = int(tc.get("ckpt_every", 500))
    max_s = float(tc.get("max_minutes", 1e9)) * 60.0
    log_path = out / "log.csv"
    fields = ["step", "time_s", "lr", "loss", "psnr", "bpp", "ssim"] + (
        ["look"] if cache.chains is not None else []
    )
    if rank == 0 and (not resume or not log_path.is_file()):
        with open(log_path, "w", newline="") as fh:
            csv.writer(fh).writerow(fields)
        if "config_path" in cfg:
            shutil.copy(cfg["config_path"], out / "config.toml")
    if rank == 0:
        print(f"parameters: {count_parameters(net)}; world {world}; start step {step}", flush=True)
    t0 = time.time()
    acc: dict[str, list[float]] = {}

    def save() -> None:
        if rank == 0:
            tmp = ckpt_path.with_suffix(".tmp")
            torch.save(
                {
                    "model": ema if ema is not None else net.state_dict(),
                    **({"model_raw": net.state_dict()} if ema is not None else {}),
                    "optimizer": opt.state_dict(),
                    "step": step,
                    "time_s": time.time() - t0 + t_prev,
                    "config": {k: v for k, v in cfg.items() if k != "config_path"},
                    "net_config": dataclasses.asdict(net.cfg),
                },
                tmp,
            )
            os.replace(tmp, ckpt_path)

    # stop_step ends the run early without changing the learning-rate schedule.
    stop = min(total, int(tc.get("stop_step", total)))
    while step < stop:
        lr = _lr(step, total, base_lr, warmup, (time.time() - t0 + t_prev) / max_s)
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
            model, opt, params, b, lcfg, float(tc.get("grad_clip", 1.0)), dev, bf16, look_weight
        )
        step += 1
        if ema is not None:
            with torch.no_grad():
                for k, v in net.state_dict().items():
                    if v.dtype.is_floating_point:
                        ema[k].mul_(ema_decay).add_(v, alpha=1.0 - ema_decay)
                    else:
                        ema[k].copy_(v)
        for k, v in parts.items():
            acc.setdefault(k, []).append(v)
        if rank == 0 and (step % log_every == 0 or step == stop):
            row = [step, round(time.time() - t0 + t_prev, 1), f"{lr:.2e}"] + [
                f"{np.mean(acc[k]):.4f}" for k in fields[3:]
            ]
            with open(log_path, "a", newline="") as fh:
                csv.writer(fh).writerow(row)
            print(" ".join(f"{k}={v}" for k, v in zip(fields, row, strict=True)), flush=True)
            acc = {}
        if step % ckpt_every == 0:
            save()
        if time.time() - t0 + t_prev > max_s:
            if rank == 0:
                print(f"time budget reached at step {step}", flush=True)
            break
    save()
    if world > 1:
        dist.barrier()
    return ckpt_path


def onnx_state_dict(path: str | Path, net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A network's weights read back from an exported ONNX file (its initialisers keep
    the parameter names, prefixed ``net.``), to fine-tune a shipped model."""
    import onnx
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    out = {}
    for key in net.state_dict():
        arr = inits.get(f"net.{key}", inits.get(key))
        if arr is None:
            raise SystemExit(f"[train] init_from: {path} has no weights for {key}")
        out[key] = torch.from_numpy(arr.copy())
    return out


def load_checkpoint(path: str | Path, gain_max: float | None = None) -> AdapterNet:
    """Rebuild the network from a checkpoint (CPU, eval mode); optionally re-cap its LUT gain."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    nc = dict(state["net_config"])
    nc["widths"] = tuple(nc["widths"])
    if gain_max is not None:
        nc["gain_max"] = float(gain_max)
    net = AdapterNet(NetConfig(**nc))
    net.load_state_dict(state["model"])
    return net.eval()
