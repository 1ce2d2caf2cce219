"""Time one ``step()`` of adamlab.torch against torch.optim, and measure each optimizer's state size.

``adamlab bench [--repeats N] [--quick] [--markdown] [--device cpu|cuda|all]``

Every variant (adamlab's default multi-tensor path and its per-tensor path; torch.optim's default,
``foreach=True``, ``foreach=False`` and, where torch has it, ``fused=True``) gets its own copy of the same
parameters and gradients. They are warmed up, then stepped round-robin, one timed step each per repetition,
so that drifts of the machine (clock, other processes) fall on all of them alike; the table reports the
median. Ratios below 1 mean adamlab is faster.

The state size is measured, not looked up: the bytes of the state tensors shaped like their parameter,
after one step, divided by the number of parameters.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import torch

import adamlab.torch as at

TIMED = ["Adam", "AdamW", "NAdam"]
WARMUP = 3

# name shown, factory(params) -> optimizer; every optimizer at its torch defaults
STATE_CASES: list[tuple[str, Callable[[list[torch.Tensor]], torch.optim.Optimizer]]] = [
    ("SGD", lambda ps: at.SGD(ps)),
    ("SGD momentum", lambda ps: at.SGD(ps, momentum=0.9)),
    ("Adagrad", lambda ps: at.Adagrad(ps)),
    ("RMSprop", lambda ps: at.RMSprop(ps)),
    ("RMSprop momentum centered", lambda ps: at.RMSprop(ps, momentum=0.9, centered=True)),
    ("Adadelta", lambda ps: at.Adadelta(ps)),
    ("Adam", lambda ps: at.Adam(ps)),
    ("AMSGrad", lambda ps: at.AMSGrad(ps)),
    ("AdamW", lambda ps: at.AdamW(ps)),
    ("NAdam", lambda ps: at.NAdam(ps)),
    ("Adamax", lambda ps: at.Adamax(ps)),
    ("RAdam", lambda ps: at.RAdam(ps)),
]


def state_bytes_per_parameter(
    factory: Callable[[list[torch.Tensor]], torch.optim.Optimizer], dtype: torch.dtype = torch.float32
) -> float:
    """Bytes of optimizer state per parameter, measured after one step on a few tensors of ``dtype``.

    Counts the state tensors with their parameter's shape (the moments, buffers, sums), not the scalars
    (``step``, ``mu_product``), which do not grow with the model.
    """
    params = [torch.zeros(shape, dtype=dtype, requires_grad=True) for shape in [(100,), (30, 20), (2, 3, 4)]]
    for p in params:
        p.grad = torch.ones_like(p)
    opt = factory(params)
    opt.step()
    total = 0
    for p in params:
        for value in opt.state[p].values():
            if isinstance(value, torch.Tensor) and value.shape == p.shape:
                total += value.numel() * value.element_size()
    per_param = total / sum(p.numel() for p in params)
    return int(per_param) if per_param.is_integer() else per_param


def _variants(name: str, device: torch.device) -> list[tuple[str, Callable, dict]]:
    """(label, class, keywords) for every path timed for optimizer ``name`` on ``device``."""
    torch_cls = getattr(torch.optim, name)
    out: list[tuple[str, Callable, dict]] = [
        ("adamlab", getattr(at, name), {}),
        ("adamlab for-loop", getattr(at, name), {"foreach": False}),
        ("torch default", torch_cls, {}),
        ("torch foreach", torch_cls, {"foreach": True}),
        ("torch for-loop", torch_cls, {"foreach": False}),
    ]
    if _torch_has_fused(name, device):
        out.append(("torch fused", torch_cls, {"fused": True}))
    return out


def _torch_has_fused(name: str, device: torch.device) -> bool:
    """Whether torch.optim.<name>(fused=True) steps on ``device`` (Adam and AdamW do on CPU and CUDA)."""
    try:
        p = torch.zeros(2, device=device, requires_grad=True)
        p.grad = torch.ones_like(p)
        getattr(torch.optim, name)([p], fused=True).step()
    except (TypeError, RuntimeError, ValueError):
        return False
    return True


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(
    name: str, device: torch.device, shapes: Sequence[tuple[int, ...]], repeats: int
) -> dict[str, float]:
    """Median milliseconds of one step() per variant, the variants interleaved round-robin."""
    gen = torch.Generator().manual_seed(0)
    base = [torch.randn(s, generator=gen) for s in shapes]
    grads = [torch.randn(s, generator=gen) for s in shapes]
    optimizers = {}
    for label, cls, kw in _variants(name, device):
        params = [b.to(device).requires_grad_() for b in base]
        for p, g in zip(params, grads, strict=True):
            p.grad = g.to(device)
        optimizers[label] = cls(params, **kw)
    for opt in optimizers.values():
        for _ in range(WARMUP):
            opt.step()
    _sync(device)
    times: dict[str, list[float]] = {label: [] for label in optimizers}
    for _ in range(repeats):
        for label, opt in optimizers.items():
            _sync(device)
            start = time.perf_counter()
            opt.step()
            _sync(device)
            times[label].append((time.perf_counter() - start) * 1e3)
    return {label: statistics.median(ts) for label, ts in times.items()}


def machine(devices: Sequence[torch.device]) -> str:
    """A one-paragraph description of the machine: CPU model, cores, torch version and threads, GPUs."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [
        f"CPU: {cpu}, {os.cpu_count()} cores ({platform.system()} {platform.machine()})",
        f"torch {torch.__version__}, {torch.get_num_threads()} threads",
    ]
    for device in devices:
        if device.type == "cuda":
            parts.append(f"GPU: {torch.cuda.get_device_name(device)}")
    return "; ".join(parts)


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(prog="adamlab bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per variant (default 15)")
    parser.add_argument("--quick", action="store_true", help="small tensors, for a smoke test")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    if args.device == "cuda" and not torch.cuda.is_available():
        print("adamlab bench: --device cuda, but torch sees no CUDA device")
        return 2
    devices = [torch.device("cpu")]
    if args.device == "cuda":
        devices = [torch.device("cuda")]
    elif args.device == "all" and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    if args.quick:
        cases = {"1 × 100k": [(100_000,)], "20 × 2k": [(2_000,)] * 20}
    else:
        cases = {"1 × 10M": [(10_000_000,)], "200 × 50k": [(50_000,)] * 200}

    command = " ".join(["adamlab bench", *(sys.argv[1:] if argv is None else argv)])
    print(f"Machine: {machine(devices)}")
    print(f"Command: {command}")
    print()
    print(f"step() time, median of {args.repeats} (ms); ratios below 1: adamlab is faster")
    labels = [
        "adamlab",
        "adamlab for-loop",
        "torch default",
        "torch foreach",
        "torch for-loop",
        "torch fused",
    ]
    header = ["device", "optimizer", "params", *labels, "adamlab / torch default", "adamlab / torch foreach"]
    rows = []
    for device in devices:
        for case, shapes in cases.items():
            for name in TIMED:
                ms = time_steps(name, device, shapes, args.repeats)
                cells = [f"{ms[label]:.2f}" if label in ms else "n/a" for label in labels]
                ratios = [f"{ms['adamlab'] / ms[ref]:.2f}" for ref in ("torch default", "torch foreach")]
                rows.append([device.type, name, case, *cells, *ratios])
    print(_table(header, rows, args.markdown))
    print()
    print("Optimizer state, bytes per parameter (float32 parameters, measured after one step)")
    state_rows = [[label, f"{state_bytes_per_parameter(factory)}"] for label, factory in STATE_CASES]
    print(_table(["optimizer", "state bytes per parameter"], state_rows, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
