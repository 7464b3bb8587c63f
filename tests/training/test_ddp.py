"""Two-process DistributedDataParallel training (gloo on CPU) on tiny data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Slow: whole-app runs, fresh processes or several workers (not in -m 'not slow').
pytestmark = pytest.mark.slow

torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_torchrun_two_processes(tiny_cache: Path, tmp_path: Path, make_config) -> None:
    cfg = make_config(tmp_path, tiny_cache, steps=2)
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "rawjpeg_gui.training",
        "--config",
        str(cfg),
        "--out",
        str(run),
    ]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "world 2" in res.stdout
    state = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert state["step"] == 2
