"""adamlab.torch.Adam under DistributedDataParallel (gloo, two processes on this machine) = torch.optim.Adam.

Each process runs this file as a script: it trains the same seeded model twice on its shard of a fixed data
set, once with each optimizer, and saves its final parameters; the test compares them across optimizers and
ranks.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import adamlab.torch as at

WORLD_SIZE = 2
STEPS = 20
TIMEOUT_S = 50
ROOT = Path(__file__).resolve().parents[1]


def _gloo_available() -> bool:
    return dist.is_available() and dist.is_gloo_available()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_model() -> torch.nn.Module:
    """The same seeded float64 model on every rank (DDP would broadcast rank 0's anyway)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()


def train(rank: int, optimizer: str) -> list[torch.Tensor]:
    """20 DDP steps of a small tanh network on this rank's half of a fixed data set."""
    model = make_model()
    ddp = DistributedDataParallel(model)
    cls = at.Adam if optimizer == "adamlab" else torch.optim.Adam
    opt = cls(ddp.parameters(), lr=1e-2, weight_decay=1e-3)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 8, generator=gen, dtype=torch.float64)
    y = torch.sin(x.sum(dim=1, keepdim=True))
    shard = slice(rank * 32, (rank + 1) * 32)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(ddp(x[shard]), y[shard])
        loss.backward()  # DDP averages the gradients over the ranks
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def _worker(rank: int, out: Path) -> None:
    # env:// reads MASTER_ADDR=127.0.0.1 and MASTER_PORT, set by the test
    dist.init_process_group("gloo", rank=rank, world_size=WORLD_SIZE)
    try:
        results = {name: train(rank, name) for name in ("adamlab", "torch")}
        torch.save(results, out / f"rank{rank}.pt")
        dist.barrier()  # no rank tears gloo down while the other still talks to it (it aborts then)
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not _gloo_available(), reason="torch.distributed with gloo is not available")
def test_ddp_adam_matches_torch(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",  # two processes on two cores
    }
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, str(rank), str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for rank in range(WORLD_SIZE)
    ]
    deadline = time.monotonic() + TIMEOUT_S
    outputs = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=max(deadline - time.monotonic(), 1))
            outputs.append(out.decode(errors="replace"))
    finally:
        for proc in procs:  # on a timeout or an error, leave nothing running
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for rank, (proc, out) in enumerate(zip(procs, outputs, strict=True)):
        assert proc.returncode == 0, f"rank {rank} exited with {proc.returncode}:\n{out}"

    results = [torch.load(tmp_path / f"rank{rank}.pt", weights_only=True) for rank in range(WORLD_SIZE)]
    reference = results[0]["torch"]
    assert len(reference) == 4
    initial = list(make_model().parameters())
    assert any(not torch.equal(p, q) for p, q in zip(reference, initial, strict=True))  # it trained
    for rank, result in enumerate(results):
        for name in ("adamlab", "torch"):
            for p, q in zip(result[name], reference, strict=True):
                torch.testing.assert_close(
                    p, q, rtol=1e-10, atol=1e-12, msg=lambda m, r=rank, n=name: f"rank {r}, {n}: {m}"
                )


if __name__ == "__main__":
    _worker(int(sys.argv[1]), Path(sys.argv[2]))
    # The results are saved and gloo is shut down. Skip the interpreter's teardown: once in a few dozen runs
    # a gloo/c10d thread still joinable at exit makes it abort ("terminate called without an active
    # exception", SIGABRT) after all the work is done.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
