"""A fused Adam/AdamW step in Triton: one pass over memory for all the tensors of a parameter group.

An Adam step does about a dozen flops per parameter but has to read theta, g, m and v and write theta, m and
v back: at least 28 bytes per float32 parameter. Its speed is set by memory bandwidth, so the kernel reads
and writes each value once, and handles every tensor of a (device, dtype) group in one launch: a table maps
each block of BLOCK elements to its tensor and offset, and tables of addresses point at the tensors. The
step counters live on the device and the bias corrections are computed in the kernel, so a step never waits
for the host.

Triton is an optional dependency (``pip install adamlab[gpu]``). With ``TRITON_INTERPRET=1`` set before this
module is imported, the same kernel runs on CPU tensors through Triton's interpreter; that is how the tests
check it on machines without a GPU.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import torch

__all__ = ["available", "interpreting", "fused_adam_"]

BLOCK = 1024

try:  # triton is optional: adamlab.torch refuses fused=True with a clear message when it is missing
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - exercised where triton is not installed
    triton = None


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def available(device: torch.device) -> tuple[bool, str]:
    """Whether the fused kernel can run on this device, and if not, why."""
    if triton is None:
        return False, "fused=True needs triton: pip install 'adamlab[gpu]' (or pip install triton)"
    if device.type == "cuda" or (device.type == "cpu" and interpreting()):
        return True, ""
    return False, f"adamlab's fused kernel runs on CUDA devices (got {device}); use foreach=True there"


if triton is not None:

    @triton.jit
    def _adam_kernel(
        block_tensor,  # int32[n_blocks]: which tensor each block belongs to
        block_start,  # int64[n_blocks]: the block's first element within its tensor
        numels,  # int64[n_tensors]
        params,  # int64[n_tensors] addresses, and the same for the tensors below
        grads,
        exp_avgs,
        exp_avg_sqs,
        max_exp_avg_sqs,
        steps,  # float32 step counters, one per tensor, already incremented
        lr,
        beta1,
        beta2,
        eps,
        weight_decay,
        DTYPE: tl.constexpr,
        AMSGRAD: tl.constexpr,
        DECOUPLED: tl.constexpr,
        MAXIMIZE: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        pid = tl.program_id(0)
        i = tl.load(block_tensor + pid)
        offs = tl.load(block_start + pid) + tl.arange(0, BLOCK)
        mask = offs < tl.load(numels + i)
        p_ptr = tl.load(params + i).to(tl.pointer_type(DTYPE))
        g_ptr = tl.load(grads + i).to(tl.pointer_type(DTYPE))
        m_ptr = tl.load(exp_avgs + i).to(tl.pointer_type(DTYPE))
        v_ptr = tl.load(exp_avg_sqs + i).to(tl.pointer_type(DTYPE))
        t = tl.load(tl.load(steps + i).to(tl.pointer_type(tl.float32)))

        # each value is read once, in float32 whatever the storage type
        theta = tl.load(p_ptr + offs, mask=mask).to(tl.float32)
        g = tl.load(g_ptr + offs, mask=mask).to(tl.float32)
        m = tl.load(m_ptr + offs, mask=mask).to(tl.float32)
        v = tl.load(v_ptr + offs, mask=mask).to(tl.float32)
        if MAXIMIZE:
            g = -g
        if DECOUPLED:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        # beta**t on the device: exp2(t * log2(beta)); beta = 0 gives exp2(-inf) = 0, as it should
        c1 = 1 - tl.exp2(t * tl.log2(beta1))
        c2 = 1 - tl.exp2(t * tl.log2(beta2))
        if AMSGRAD:
            v_max_ptr = tl.load(max_exp_avg_sqs + i).to(tl.pointer_type(DTYPE))
            v_max = tl.maximum(tl.load(v_max_ptr + offs, mask=mask).to(tl.float32), v)
            tl.store(v_max_ptr + offs, v_max.to(DTYPE), mask=mask)
            denom = tl.sqrt(v_max) / tl.sqrt(c2) + eps
        else:
            denom = tl.sqrt(v) / tl.sqrt(c2) + eps
        theta = theta - (lr / c1) * m / denom
        tl.store(p_ptr + offs, theta.to(DTYPE), mask=mask)
        tl.store(m_ptr + offs, m.to(DTYPE), mask=mask)
        tl.store(v_ptr + offs, v.to(DTYPE), mask=mask)


_DTYPES = {}
if triton is not None:
    _DTYPES = {torch.float32: tl.float32, torch.float16: tl.float16, torch.bfloat16: tl.bfloat16}


def _addresses(tensors: Sequence[torch.Tensor], device: torch.device) -> torch.Tensor:
    # A few bytes per tensor copied to the device without waiting (pinned memory for CUDA).
    table = torch.tensor([t.data_ptr() for t in tensors], dtype=torch.int64)
    if device.type == "cuda":
        return table.pin_memory().to(device, non_blocking=True)
    return table


@functools.lru_cache(maxsize=64)
def _block_tables(numels: tuple[int, ...], device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Which tensor each block of BLOCK elements belongs to, where it starts, and the tensors' sizes.

    They depend only on the sizes, so a training loop builds and copies them to the device once.
    """
    counts = [(n + BLOCK - 1) // BLOCK for n in numels]
    block_tensor = torch.repeat_interleave(torch.arange(len(numels), dtype=torch.int32), torch.tensor(counts))
    block_start = torch.cat([torch.arange(c, dtype=torch.int64) * BLOCK for c in counts])
    sizes = torch.tensor(numels, dtype=torch.int64)
    return tuple(t.to(device) for t in (block_tensor, block_start, sizes))  # type: ignore[return-value]


def fused_adam_(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    exp_avgs: Sequence[torch.Tensor],
    exp_avg_sqs: Sequence[torch.Tensor],
    max_exp_avg_sqs: Sequence[torch.Tensor],
    steps: Sequence[torch.Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    decoupled: bool,
    maximize: bool,
) -> None:
    """One Adam/AdamW step, in place, for tensors that share a device and a dtype (steps: float32, same device).

    The step counters are incremented here, on the device.
    """
    if not params:
        return
    device, dtype = params[0].device, params[0].dtype
    if dtype not in _DTYPES:
        raise ValueError(f"the fused kernel handles float32, float16 and bfloat16 parameters, not {dtype}")
    for group in (params, grads, exp_avgs, exp_avg_sqs, *([max_exp_avg_sqs] if amsgrad else [])):
        if any(not t.is_contiguous() for t in group):
            raise ValueError("the fused kernel needs contiguous tensors")
    torch._foreach_add_(list(steps), 1.0)
    block_tensor, block_start, numels = _block_tables(tuple(p.numel() for p in params), device)
    tables = [_addresses(ts, device) for ts in (params, grads, exp_avgs, exp_avg_sqs)]
    tables.append(_addresses(max_exp_avg_sqs if amsgrad else exp_avg_sqs, device))
    tables.append(_addresses(steps, device))
    _adam_kernel[(len(block_start),)](
        block_tensor,
        block_start,
        numels,
        *tables,
        float(lr),
        float(beta1),
        float(beta2),
        float(eps),
        float(weight_decay),
        DTYPE=_DTYPES[dtype],
        AMSGRAD=bool(amsgrad),
        DECOUPLED=bool(decoupled),
        MAXIMIZE=bool(maximize),
        BLOCK=BLOCK,
    )
