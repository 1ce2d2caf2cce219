"""The torch item: Adam written as a torch.optim.Optimizer subclass, checked against torch.optim.Adam."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["collect_torch_class", "judge_torch_class", "TORCH_CASES"]

# label, parameter shapes, per-group options, constructor options, steps, dtype
TORCH_CASES = [
    ("one step, one tensor", [(5,)], [{}], {"lr": 0.01}, 1, "float64"),
    (
        "two parameter groups, 20 steps",
        [(3, 2), (4,)],
        [{}, {"lr": 0.05}],
        {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6},
        20,
        "float64",
    ),
    ("float32, 30 steps", [(2, 3)], [{}], {"lr": 0.003}, 30, "float32"),
]
DEVICE_CASE = "runs on any device (meta tensors: nothing made on the CPU, no .item())"


def _data(label: str, shapes: list[tuple[int, ...]], steps: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(sum(map(ord, label)))
    params = [rng.normal(size=s) for s in shapes]
    grads = [rng.normal(size=(steps, *s)) for s in shapes]
    return params, grads


def _train(cls: Any, case: tuple, device: str = "cpu") -> list[np.ndarray]:
    import torch

    label, shapes, groups, options, steps, dtype = case
    dt = getattr(torch, dtype)
    params0, grads = _data(label, shapes, steps)
    params = [torch.tensor(p, dtype=dt, device=device, requires_grad=True) for p in params0]
    opt = cls([{"params": [p], **g} for p, g in zip(params, groups, strict=True)], **options)
    history: list[list[np.ndarray]] = [[] for _ in params]
    for t in range(steps):
        opt.zero_grad()
        for p, g in zip(params, grads, strict=True):
            p.grad = torch.tensor(g[t], dtype=dt, device=device)
        opt.step()
        if device != "meta":
            for h, p in zip(history, params, strict=True):
                h.append(p.detach().cpu().double().numpy().copy())
    return [np.stack(h) for h in history] if device != "meta" else []


def collect_torch_class(cls: Any) -> dict[str, Any]:
    import torch

    from adamlab.grading.items import _describe

    out: dict[str, Any] = {}
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        err = {"error": f"MyAdam should be a subclass of torch.optim.Optimizer, got {cls!r}"[:300]}
        return {c[0]: err for c in TORCH_CASES} | {DEVICE_CASE: err}
    for case in TORCH_CASES:
        try:
            out[case[0]] = {f"p{i}": h for i, h in enumerate(_train(cls, case))}
        except Exception as err:
            out[case[0]] = {"error": _describe(err)}
    try:
        import torch

        params = [torch.zeros(3, 2, device="meta", requires_grad=True)]
        opt = cls(params, lr=0.01)
        for _ in range(2):
            params[0].grad = torch.zeros(3, 2, device="meta")
            opt.step()
        devices = {str(v.device) for s in opt.state.values() for v in s.values() if torch.is_tensor(v) and v.dim() > 0}
        if not devices:
            out[DEVICE_CASE] = {"error": "the optimizer keeps no state tensors (where are m and v?)"}
        elif devices != {"meta"}:
            out[DEVICE_CASE] = {
                "error": f"state tensors live on {sorted(devices)}, not on the parameter's device: torch.zeros_like(p)"
            }
        else:
            out[DEVICE_CASE] = {"ok": np.array(1.0)}
    except Exception as err:
        out[DEVICE_CASE] = {
            "error": _describe(err) + " (tensors made without device=p.device, or .item()/numpy in step?)"
        }
    return out


def judge_torch_class(item: Any, outputs: dict[str, Any]) -> list[Any]:
    import torch

    from adamlab.grading.items import CaseResult, _close

    results = []
    for case in TORCH_CASES:
        label, dtype = case[0], case[5]
        out = outputs.get(label, {"error": "no output"})
        if "error" in out:
            results.append(CaseResult(label, False, out["error"], 0))
            continue
        ref = _train(torch.optim.Adam, case)
        rtol = 2e-5 if dtype == "float32" else 1e-9
        bad = [i for i, r in enumerate(ref) if f"p{i}" not in out or not _close(np.asarray(out[f"p{i}"]), r, rtol)]
        if bad:
            i = bad[0]
            got = np.asarray(out.get(f"p{i}", np.empty(0)))
            step = next(
                (
                    t
                    for t in range(len(ref[i]))
                    if got.shape != ref[i].shape or not _close(got[t : t + 1], ref[i][t : t + 1], rtol)
                ),
                0,
            )
            hint = (
                "check lr per parameter group (group['lr'])"
                if len(case[2]) > 1 and i > 0 and not bad.count(0)
                else "compare your step with Adam's update rule"
            )
            results.append(
                CaseResult(label, False, f"parameter {i} differs from torch.optim.Adam at step {step + 1}: {hint}", 0)
            )
        else:
            results.append(CaseResult(label, True, "matches torch.optim.Adam", 1))
    out = outputs.get(DEVICE_CASE, {"error": "no output"})
    results.append(
        CaseResult(
            DEVICE_CASE,
            "error" not in out,
            out.get("error", "state on the parameter's device"),
            0 if "error" in out else 1,
        )
    )
    return results
