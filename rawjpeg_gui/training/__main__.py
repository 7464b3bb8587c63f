"""``python -m rawjpeg_gui.training --config CONFIG [--resume] [--out DIR]``: train the adapter."""

from __future__ import annotations

import argparse
from pathlib import Path

from .train import load_config, train


def main() -> None:
    """Parse the command line and train."""
    ap = argparse.ArgumentParser(prog="python -m rawjpeg_gui.training", description=__doc__)
    ap.add_argument("--config", required=True, help="TOML config (see configs/default.toml)")
    ap.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    ap.add_argument("--out", help="run folder (default: [train].out in the config)")
    args = ap.parse_args()
    cfg = load_config(args.config)
    cfg["config_path"] = args.config
    out = args.out or cfg.get("train", {}).get("out") or f"runs/{Path(args.config).stem}"
    ckpt = train(cfg, out, resume=args.resume)
    print(f"checkpoint: {ckpt}")


if __name__ == "__main__":
    main()
