"""The Triton fused Adam/AdamW kernel, run through Triton's interpreter on the CPU (no GPU needed).

TRITON_INTERPRET must be set before adamlab.fused defines its kernel, so it is set here at import time and
adamlab.fused is imported inside the tests.
"""

from __future__ import annotations

import os

os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton", reason="the fused kernel needs triton: pip install 'adamlab[gpu]'")

SHAPES = [(3, 700), (5,), (2050,), (1,)]  # several blocks, a partial block, a tiny tensor
CASES = [(False, False, False), (True, False, False), (False, True, False), (True, True, True)]


def _fused(params, grads, state, steps, **kw):
    from adamlab.fused import fused_adam_

    fused_adam_(params, grads, state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"], steps, **kw)


def _reference_step(params, grads, state, k, *, amsgrad, decoupled, maximize, lr, beta1, beta2, eps, weight_decay):
    """torch.optim's per-tensor path, in float32, from the given state at step k; returns new float32 copies."""
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    out = []
    for i, p in enumerate(params):
        r = p.detach().float().clone().requires_grad_()
        opt = cls(
            [r],
            lr=lr,
            betas=(beta1, beta2),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=False,
        )
        opt.state[r] = {"step": torch.tensor(float(k))}
        for key in ("exp_avg", "exp_avg_sq", *(["max_exp_avg_sq"] if amsgrad else [])):
            opt.state[r][key] = state[key][i].float().clone()
        r.grad = grads[i].float()
        opt.step()
        out.append({"param": r.detach(), **{key: opt.state[r][key] for key in opt.state[r] if key != "step"}})
    return out


@pytest.mark.parametrize(("amsgrad", "decoupled", "maximize"), CASES)
def test_fused_float32_trajectory_equals_torch_optim(amsgrad, decoupled, maximize):
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(s, generator=gen) for s in SHAPES]
    ref = [p.clone().requires_grad_() for p in params]
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls(ref, lr=0.01, weight_decay=0.1, amsgrad=amsgrad, maximize=maximize, foreach=False)
    state = {k: [torch.zeros_like(p) for p in params] for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")}
    steps = [torch.zeros((), dtype=torch.float32) for _ in params]
    for _ in range(20):
        grads = [torch.randn(s, generator=gen) for s in SHAPES]
        for r, g in zip(ref, grads, strict=True):
            r.grad = g.clone()
        opt.step()
        _fused(
            params,
            grads,
            state,
            steps,
            lr=0.01,
            beta1=0.9,
            beta2=0.999,
            eps=1e-8,
            weight_decay=0.1,
            amsgrad=amsgrad,
            decoupled=decoupled,
            maximize=maximize,
        )
    for got, want in zip(params, ref, strict=True):
        torch.testing.assert_close(got, want.detach(), rtol=1e-5, atol=1e-6)
    assert all(float(s) == 20.0 for s in steps)  # the counters were advanced on the device


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize(("amsgrad", "decoupled", "maximize"), CASES)
def test_each_fused_step_is_the_float32_step_rounded_once(dtype, amsgrad, decoupled, maximize):
    """From the same stored state, the kernel's step is the float32 step stored in the parameter's dtype:
    within float32 rounding for float32, within one unit in the last place for 16-bit types (Triton's
    interpreter truncates where a GPU rounds to nearest)."""
    gen = torch.Generator().manual_seed(1)
    params = [torch.randn(s, generator=gen).to(dtype) for s in SHAPES]
    state = {k: [torch.zeros_like(p) for p in params] for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")}
    steps = [torch.zeros((), dtype=torch.float32) for _ in params]
    kw = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}
    ulp = {torch.float32: 2e-6, torch.bfloat16: 2**-7, torch.float16: 2**-10}[dtype]
    for k in range(6):
        grads = [torch.randn(s, generator=gen).to(dtype) for s in SHAPES]
        want = _reference_step(params, grads, state, k, amsgrad=amsgrad, decoupled=decoupled, maximize=maximize, **kw)
        _fused(params, grads, state, steps, amsgrad=amsgrad, decoupled=decoupled, maximize=maximize, **kw)
        for i, w in enumerate(want):
            got = {"param": params[i], **{key: state[key][i] for key in w if key != "param"}}
            for key, value in w.items():
                assert got[key].dtype == dtype
                torch.testing.assert_close(
                    got[key].float(),
                    value,
                    rtol=ulp,
                    atol=1e-6,
                    msg=lambda m, key=key, k=k: f"{key}, step {k + 1}: {m}",
                )


def test_beta_zero_and_no_weight_decay():
    params = [torch.linspace(-1, 1, 7)]
    state = {k: [torch.zeros(7)] for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")}
    grads = [torch.linspace(2, -3, 7)]
    kw = {"lr": 0.1, "beta1": 0.0, "beta2": 0.5, "eps": 1e-8, "weight_decay": 0.0}
    want = _reference_step(params, grads, state, 0, amsgrad=False, decoupled=False, maximize=False, **kw)
    _fused(params, grads, state, [torch.zeros(())], amsgrad=False, decoupled=False, maximize=False, **kw)
    torch.testing.assert_close(params[0], want[0]["param"], rtol=2e-6, atol=1e-7)


def test_refuses_what_it_cannot_do():
    from adamlab.fused import available, fused_adam_

    ok, why = available(torch.device("cpu"))
    assert ok and not why  # under the interpreter the CPU counts
    p = [torch.zeros(3, dtype=torch.float64)]
    with pytest.raises(ValueError, match="float32, float16 and bfloat16"):
        fused_adam_(
            p,
            p,
            p,
            p,
            p,
            [torch.zeros(())],
            lr=0.1,
            beta1=0.9,
            beta2=0.99,
            eps=1e-8,
            weight_decay=0,
            amsgrad=False,
            decoupled=False,
            maximize=False,
        )


# ----------------------------------------------------------------------------------------------------------
# adamlab.torch's fused=True runs the kernel.


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("Adam", {}),
        ("Adam", {"weight_decay": 0.1, "maximize": True}),
        ("AdamW", {}),
        ("AMSGrad", {"weight_decay": 0.1}),
    ],
)
def test_adamlab_torch_fused_equals_torch_optim(name, kw):
    import adamlab.torch as at

    reference = torch.optim.Adam if name == "AMSGrad" else getattr(torch.optim, name)
    if name == "AMSGrad":
        kw = {**kw, "amsgrad": True}
    gen = torch.Generator().manual_seed(2)
    init = [torch.randn(s, generator=gen) for s in SHAPES]
    ours = [p.clone().requires_grad_() for p in init]
    theirs = [p.clone().requires_grad_() for p in init]
    opt = getattr(at, name)([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.003}], lr=0.01, fused=True, **kw)
    ref = reference([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.003}], lr=0.01, foreach=False, **kw)
    for _ in range(15):
        for a, b in zip(ours, theirs, strict=True):
            a.grad = b.grad = torch.randn(a.shape, generator=gen)
        opt.step()
        ref.step()
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    state = opt.state[ours[0]]
    assert state["step"].dtype == torch.float32 and float(state["step"]) == 15
    # the checkpoint loads into torch.optim, which continues the same way
    ref2 = reference([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.003}], lr=0.01, foreach=False, **kw)
    ref2.load_state_dict(opt.state_dict())
    ref2.step()
    ref.step()
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-5, atol=1e-6)


def test_adamlab_torch_fused_refusals(monkeypatch):
    import adamlab.fused
    import adamlab.torch as at

    p = [torch.zeros(3, requires_grad=True)]
    with pytest.raises(ValueError, match="`fused` and `foreach` cannot be `True` together"):
        at.Adam(p, fused=True, foreach=True)
    with pytest.raises(ValueError, match="does not implement fused=True"):
        at.SGD(p, fused=True)
    monkeypatch.setattr(adamlab.fused, "interpreting", lambda: False)
    with pytest.raises(ValueError, match=r"Adam\(fused=True\): adamlab's fused kernel runs on CUDA devices"):
        at.Adam(p, fused=True)
    monkeypatch.setattr(adamlab.fused, "triton", None)
    with pytest.raises(ValueError, match="needs triton"):
        at.AdamW(p, fused=True)
