"""adamlab.torch against torch.optim (torch 2.13), the reference: the same trajectories, errors and state."""

from __future__ import annotations

import copy
import inspect
import io
import itertools
import re
import subprocess
import sys

import pytest
import torch

import adamlab.torch as at

NAMES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AMSGrad", "AdamW", "NAdam", "Adamax", "RAdam"]
SHAPES = [(1,), (5,), (3, 4), (2, 3, 4)]
STEPS = 50
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]
# relative tolerances asked of a trajectory; the parameters stay in [1, 4] (see make_problem)
RTOL = {torch.float64: 1e-10, torch.float32: 2e-5}

# The lr each optimizer is tested with: small enough that 50 steps do not reach the minimum, where Adam-type
# steps (≈ lr·sign(g)) turn rounding differences into visible ones.
LR = {
    "SGD": 1e-2,
    "Adagrad": 1e-2,
    "RMSprop": 1e-3,
    "Adadelta": 1.0,
    "Adam": 1e-2,
    "AMSGrad": 1e-2,
    "AdamW": 1e-2,
    "NAdam": 1e-2,
    "Adamax": 1e-2,
    "RAdam": 1e-2,
}
BOOL = [False, True]
GRID: dict[str, dict[str, list]] = {
    "SGD": {
        "momentum": [0, 0.9],
        "dampening": [0, 0.5],
        "nesterov": BOOL,
        "weight_decay": [0, 0.1],
        "maximize": BOOL,
    },
    "Adagrad": {
        "lr_decay": [0, 0.1],
        "weight_decay": [0, 0.1],
        "initial_accumulator_value": [0, 0.5],
        "maximize": BOOL,
    },
    "RMSprop": {
        "alpha": [0.99, 0.9],
        "centered": BOOL,
        "momentum": [0, 0.9],
        "weight_decay": [0, 0.1],
        "maximize": BOOL,
    },
    "Adadelta": {"rho": [0.9, 0.5], "eps": [1e-6, 1e-3], "weight_decay": [0, 0.1], "maximize": BOOL},
    "Adam": {
        "betas": [(0.9, 0.999), (0.5, 0.9)],
        "amsgrad": BOOL,
        "weight_decay": [0, 0.1],
        "decoupled_weight_decay": BOOL,
        "maximize": BOOL,
    },
    "AMSGrad": {"weight_decay": [0, 0.1], "decoupled_weight_decay": BOOL, "maximize": BOOL},
    "AdamW": {"amsgrad": BOOL, "weight_decay": [1e-2, 0.1], "eps": [1e-8, 1e-3], "maximize": BOOL},
    "NAdam": {
        "momentum_decay": [4e-3, 0.1],
        "weight_decay": [0, 0.1],
        "decoupled_weight_decay": BOOL,
        "maximize": BOOL,
    },
    "Adamax": {"betas": [(0.9, 0.999), (0.5, 0.9)], "weight_decay": [0, 0.1], "maximize": BOOL},
    "RAdam": {
        "betas": [(0.9, 0.999), (0.8, 0.99)],
        "weight_decay": [0, 0.1],
        "decoupled_weight_decay": BOOL,
        "maximize": BOOL,
    },
}


def combos(name: str) -> list[dict]:
    axes = GRID[name]
    out = []
    for values in itertools.product(*axes.values()):
        kw = dict(zip(axes, values, strict=True))
        if kw.get("nesterov") and (kw["momentum"] == 0 or kw["dampening"] != 0):
            continue  # torch refuses it too (tested below)
        out.append(kw)
    return out


CASES = [
    pytest.param(name, kw, id=f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()))
    for name in NAMES
    for kw in combos(name)
]


def torch_optimizer(name: str, params, **kw) -> torch.optim.Optimizer:
    """torch.optim's class for `name`; adamlab's AMSGrad is torch's Adam(amsgrad=True)."""
    if name == "AMSGrad":
        return torch.optim.Adam(params, **{"amsgrad": True, **kw})
    return getattr(torch.optim, name)(params, **kw)


def make(impl: str, name: str, params, **kw) -> torch.optim.Optimizer:
    return getattr(at, name)(params, **kw) if impl == "adamlab" else torch_optimizer(name, params, **kw)


@pytest.fixture
def one_thread():
    """One intra-op thread for tests with large tensors: under pytest -n 2 two workers with two OpenMP threads
    each oversubscribe the two cores, and OpenMP's barriers then make large elementwise ops crawl."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_problem(dtype: torch.dtype, device: str, shapes=SHAPES, seed: int = 0):
    """Parameters in [1, 2] pulled towards targets in [3, 4]: they never cross zero, so relative errors mean
    what they say, and 50 steps do not reach the minimum."""
    gen = torch.Generator().manual_seed(seed)
    params = [(1 + torch.rand(s, generator=gen, dtype=torch.float64)).to(device, dtype) for s in shapes]
    targets = [(3 + torch.rand(s, generator=gen, dtype=torch.float64)).to(device, dtype) for s in shapes]
    return [p.requires_grad_() for p in params], targets


def set_grads(params, targets, maximize: bool = False) -> None:
    """∇ of Σ (θ − c)² + 0.1 sin(3θ); negated for maximize, so that the trajectory is the same."""
    for p, c in zip(params, targets, strict=True):
        x = p.detach()
        g = 2 * (x - c) + 0.3 * torch.cos(3 * x)
        p.grad = -g if maximize else g


def groups(params, lr: float) -> list[dict]:
    return [{"params": params[0::2]}, {"params": params[1::2], "lr": lr / 2}]


def snapshot(params) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params]).to("cpu", torch.float64)


def trajectory(impl, name, kw, dtype, device, steps=STEPS, **extra) -> torch.Tensor:
    params, targets = make_problem(dtype, device)
    opt = make(impl, name, groups(params, LR[name]), lr=LR[name], **kw, **extra)
    out = []
    for _ in range(steps):
        set_grads(params, targets, kw.get("maximize", False))
        opt.step()
        out.append(snapshot(params))
    return torch.stack(out)


# ---------------------------------------------------------------------------------------------- trajectories


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, kw", CASES)
def test_trajectory_matches_torch(name, kw, dtype, device):
    expected = trajectory("torch", name, kw, dtype, device)
    assert not torch.equal(expected[0], expected[-1])  # it moved
    for foreach in (False, None):  # the readable per-tensor path and the default multi-tensor path
        actual = trajectory("adamlab", name, kw, dtype, device, foreach=foreach)
        torch.testing.assert_close(
            actual, expected, rtol=RTOL[dtype], atol=0, msg=lambda m, f=foreach: f"foreach={f}: {m}"
        )


@pytest.mark.parametrize("name, kw", CASES)
def test_per_tensor_path_equals_multi_tensor_path(name, kw):
    per_tensor = trajectory("adamlab", name, kw, torch.float64, "cpu", foreach=False)
    multi = trajectory("adamlab", name, kw, torch.float64, "cpu", foreach=None)
    torch.testing.assert_close(multi, per_tensor, rtol=1e-12, atol=0)
    assert torch.equal(trajectory("adamlab", name, kw, torch.float64, "cpu", foreach=True), multi)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_blocks_of_large_many_and_strided_tensors(name, dtype, one_thread):
    """On the CPU the multi-tensor path cuts large tensors into views and gathers small ones: same numbers."""
    shapes = [(300_001,), *[(5_000,)] * 60, (3, 5)]  # 1 MiB blocks: the first is cut, the next gathered
    params, targets = make_problem(dtype, "cpu", shapes=shapes)
    # a transposed (non-contiguous) parameter
    strided = (1 + torch.rand(2000, 70, dtype=dtype, generator=torch.Generator().manual_seed(1))).t()
    params.append(strided.requires_grad_())
    targets.append(torch.full((70, 2000), 3.5, dtype=dtype))
    results = {}
    for impl, foreach in [("torch", None), ("adamlab", False), ("adamlab", None)]:
        ps = [p.detach().clone().requires_grad_() for p in params[:-1]]
        ps.append(params[-1].detach().t().clone().t().requires_grad_())
        assert not ps[-1].is_contiguous()
        extra = {} if impl == "torch" else {"foreach": foreach}
        opt = make(impl, name, groups(ps, LR[name]), lr=LR[name], **extra)
        for _ in range(8):  # RAdam switches on its adaptive step at step 6
            set_grads(ps, targets)
            opt.step()
        results[impl, foreach] = snapshot(ps)
    expected = results["torch", None]
    torch.testing.assert_close(results["adamlab", False], expected, rtol=RTOL[dtype], atol=0)
    torch.testing.assert_close(results["adamlab", None], expected, rtol=RTOL[dtype], atol=0)


def test_blocks_cover_every_element_once(one_thread):
    tensors = [torch.zeros(300_000), *[torch.zeros(1000) for _ in range(500)], torch.zeros(40, 30).t()]
    tensors.append(torch.zeros(10, dtype=torch.float64))
    others = [t.clone() for t in tensors]
    seen = []
    for (ts, os), idx in at._blocks([tensors, others]):
        assert len(ts) == len(os) == len(idx)
        torch._foreach_add_(ts, 1.0)
        seen.extend(idx)
    assert all(bool((t == 1).all()) for t in tensors)
    assert sorted(set(seen)) == list(range(len(tensors)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("name", NAMES)
def test_half_precision(name, dtype, device):
    results = {}
    for impl, foreach in [("torch", None), ("adamlab", False), ("adamlab", None)]:
        params, targets = make_problem(dtype, device)
        extra = {} if impl == "torch" else {"foreach": foreach}
        opt = make(impl, name, groups(params, LR[name]), lr=LR[name], **extra)
        for _ in range(20):
            set_grads(params, targets)
            opt.step()
        for p in params:
            assert p.dtype == dtype
            for key, value in opt.state[p].items():
                if isinstance(value, torch.Tensor) and value.shape == p.shape:
                    assert value.dtype == dtype, key
                    assert torch.isfinite(value).all(), key
        results[impl, foreach] = snapshot(params)
    for key in [("adamlab", False), ("adamlab", None)]:
        assert torch.isfinite(results[key]).all()
        torch.testing.assert_close(results[key], results["torch", None], rtol=1e-2, atol=1e-2)


# -------------------------------------------------------------------------------------- the torch.optim API


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_defaults_match_torch(name):
    reference = torch.optim.Adam if name == "AMSGrad" else getattr(torch.optim, name)
    ours = inspect.signature(getattr(at, name).__init__).parameters
    theirs = inspect.signature(reference.__init__).parameters
    assert list(ours) == list(theirs)
    for key, param in ours.items():
        assert param.kind == theirs[key].kind, key
        expected = True if (name, key) == ("AMSGrad", "amsgrad") else theirs[key].default
        assert param.default == expected, key
    p = torch.zeros(3, requires_grad=True)
    assert make("adamlab", name, [p]).defaults == make("torch", name, [p]).defaults
    assert issubclass(getattr(at, name), torch.optim.Optimizer)


def _invalid_cases():
    common = [{"lr": -1.0}, {"lr": torch.tensor([0.1, 0.2])}, {"weight_decay": -0.5}]
    betas = [{"betas": (1.0, 0.999)}, {"betas": (0.9, 1.0)}, {"betas": (-0.1, 0.999)}, {"eps": -1e-8}]
    extra = {
        "SGD": [
            {"momentum": -0.9},
            {"nesterov": True},
            {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
        ],
        "Adagrad": [{"lr_decay": -1.0}, {"initial_accumulator_value": -1.0}, {"eps": -1.0}],
        "RMSprop": [{"alpha": -0.1}, {"eps": -1.0}, {"momentum": -0.1}],
        "Adadelta": [{"rho": 1.5}, {"rho": -0.1}, {"eps": -1.0}],
        "Adam": [
            *betas,
            {"betas": (0.9, torch.tensor(0.999))},
            {"betas": (torch.tensor(0.9), torch.tensor(0.999)), "foreach": True},
            {"lr": torch.tensor(0.01), "foreach": True},
        ],
        "AMSGrad": betas,
        "AdamW": betas,
        "NAdam": [*betas, {"momentum_decay": -1.0}],
        "Adamax": betas,
        "RAdam": betas,
    }
    for name in NAMES:
        for kw in common + extra[name]:
            yield pytest.param(name, kw, id=f"{name}-{kw}")


@pytest.mark.parametrize("name, kw", list(_invalid_cases()))
def test_invalid_hyperparameters_raise_torchs_value_error(name, kw):
    p = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError) as theirs:
        make("torch", name, [p], **kw)
    with pytest.raises(ValueError) as ours:
        make("adamlab", name, [p], **kw)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", NAMES)
def test_fused_capturable_differentiable_are_refused_by_name(name):
    reference = torch.optim.Adam if name == "AMSGrad" else getattr(torch.optim, name)
    options = [
        o for o in ("fused", "capturable", "differentiable") if o in inspect.signature(reference).parameters
    ]
    assert "differentiable" in options
    if name in ("Adam", "AMSGrad", "AdamW"):
        options.remove("fused")  # these run adamlab.fused's kernel instead: tests/test_fused.py
    for option in options:
        with pytest.raises(
            ValueError, match=rf"adamlab\.torch\.{name} does not implement {option}=True; use torch"
        ):
            make("adamlab", name, [torch.zeros(2, requires_grad=True)], **{option: True})
        make("adamlab", name, [torch.zeros(2, requires_grad=True)], **{option: False})  # False is fine
    # a group added later with such an option is refused when it is stepped
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = make("adamlab", name, [p])
    opt.add_param_group({"params": [q], "differentiable": True})
    q.grad = torch.ones(2)
    with pytest.raises(ValueError, match="differentiable=True"):
        opt.step()


@pytest.mark.parametrize("name", NAMES)
def test_sparse_gradients_and_complex_parameters_are_refused(name):
    p = torch.zeros(4, requires_grad=True)
    p.grad = torch.ones(4).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        make("adamlab", name, [p]).step()
    z = torch.zeros(4, dtype=torch.complex64, requires_grad=True)
    z.grad = torch.ones(4, dtype=torch.complex64)
    with pytest.raises(RuntimeError, match="complex"):
        make("adamlab", name, [z]).step()


@pytest.mark.parametrize("name", NAMES)
def test_closure_zero_grad_and_params_without_grad(name):
    """step(closure) evaluates the closure with grad enabled and returns its loss; params without .grad are
    skipped (no state made, except by Adagrad, which makes it in its constructor, as torch does)."""
    results = {}
    for impl in ("torch", "adamlab"):
        params, targets = make_problem(torch.float64, "cpu")
        frozen = torch.ones(3, requires_grad=True)
        opt = make(impl, name, [*params, frozen], lr=LR[name])

        def closure(params=params, targets=targets, opt=opt):
            opt.zero_grad()
            loss = sum(
                ((p - c) ** 2).sum() + 0.1 * torch.sin(3 * p).sum()
                for p, c in zip(params, targets, strict=True)
            )
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(10)]
        assert frozen.grad is None and torch.equal(frozen, torch.ones(3))
        assert (frozen in opt.state) == (name == "Adagrad")
        opt.zero_grad()
        assert all(p.grad is None for p in params)
        results[impl] = losses, snapshot(params)
    assert results["adamlab"][0] == pytest.approx(results["torch"][0], rel=1e-10)
    torch.testing.assert_close(results["adamlab"][1], results["torch"][1], rtol=1e-10, atol=0)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam"])
def test_tensor_lr_and_lr_scheduler(name):
    """A 1-element tensor lr, and torch's lr schedulers (which write group["lr"]), work as in torch."""
    results = {}
    for impl in ("torch", "adamlab"):
        params, targets = make_problem(torch.float64, "cpu")
        opt = make(impl, name, params, lr=torch.tensor(LR[name], dtype=torch.float64))
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        for _ in range(20):
            set_grads(params, targets)
            opt.step()
            scheduler.step()
        results[impl] = snapshot(params)
    torch.testing.assert_close(results["adamlab"], results["torch"], rtol=1e-10, atol=0)


@pytest.mark.parametrize("name", ["Adam", "AMSGrad"])
def test_tensor_betas(name):
    """torch.optim.Adam accepts 1-element tensors for betas (outside its foreach path): so does adamlab's."""
    results = {}
    for impl in ("torch", "adamlab"):
        params, targets = make_problem(torch.float64, "cpu")
        betas = (torch.tensor([0.8], dtype=torch.float64), torch.tensor(0.99, dtype=torch.float64))
        opt = make(impl, name, params, lr=LR[name], betas=betas)
        for _ in range(20):
            set_grads(params, targets)
            opt.step()
        results[impl] = snapshot(params)
    torch.testing.assert_close(results["adamlab"], results["torch"], rtol=1e-10, atol=0)


def test_import_adamlab_does_not_import_torch_module():
    code = "import sys, adamlab; print('adamlab.torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------- state_dict

STATE_CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"momentum": 0.9, "dampening": 0.5}),
    ("Adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.1}),
    ("RMSprop", {"momentum": 0.9, "centered": True}),
    ("RMSprop", {}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("AMSGrad", {}),
    ("AdamW", {}),
    ("NAdam", {}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adamax", {}),
    ("RAdam", {"weight_decay": 0.1}),
]
STATE_IDS = [f"{name}-{kw}" for name, kw in STATE_CASES]
STATE_KEYS = {
    "step",
    "exp_avg",
    "exp_avg_sq",
    "max_exp_avg_sq",
    "momentum_buffer",
    "sum",
    "square_avg",
    "grad_avg",
    "acc_delta",
    "mu_product",
    "exp_inf",
}


def _save_load(state_dict: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, kw", STATE_CASES, ids=STATE_IDS)
def test_state_dict_has_torchs_keys_and_types(name, kw, dtype):
    dicts = {}
    for impl in ("torch", "adamlab"):
        params, targets = make_problem(dtype, "cpu")
        opt = make(impl, name, groups(params, LR[name]), lr=LR[name], **kw)
        for _ in range(7):
            set_grads(params, targets)
            opt.step()
        dicts[impl] = opt.state_dict()
    ours, theirs = dicts["adamlab"], dicts["torch"]
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for i, state in theirs["state"].items():
        assert ours["state"][i].keys() == state.keys()
        assert set(state) <= STATE_KEYS
        for key, value in state.items():
            mine = ours["state"][i][key]
            assert type(mine) is type(value), key
            assert (mine.dtype, mine.device, mine.shape) == (value.dtype, value.device, value.shape), key
            torch.testing.assert_close(mine, value, rtol=RTOL[dtype], atol=0)
    if name == "SGD" and not kw:
        assert theirs["state"] == {}


@pytest.mark.parametrize("direction", ["torch_to_adamlab", "adamlab_to_torch"])
@pytest.mark.parametrize("name, kw", STATE_CASES, ids=STATE_IDS)
def test_state_dict_loads_both_ways(name, kw, direction):
    """A checkpoint after 7 steps, through torch.save/torch.load, continues 10 steps in the other library
    exactly as in the library that wrote it."""
    source, other = ("torch", "adamlab") if direction == "torch_to_adamlab" else ("adamlab", "torch")
    params, targets = make_problem(torch.float64, "cpu")
    opt = make(source, name, groups(params, LR[name]), lr=LR[name], **kw)
    for _ in range(7):
        set_grads(params, targets)
        opt.step()
    checkpoint = _save_load(opt.state_dict())
    results = {}
    for impl in (source, other):
        ps = [p.detach().clone().requires_grad_() for p in params]
        fresh = make(impl, name, groups(ps, 1.0), lr=1.0, **kw)  # the checkpoint's lr must win
        fresh.load_state_dict(copy.deepcopy(checkpoint))
        for _ in range(10):
            set_grads(ps, targets)
            fresh.step()
        results[impl] = snapshot(ps)
        assert fresh.state_dict()["param_groups"] == checkpoint["param_groups"]
    torch.testing.assert_close(results[other], results[source], rtol=1e-10, atol=0)
    # and the uninterrupted run agrees with both
    for _ in range(10):
        set_grads(params, targets)
        opt.step()
    torch.testing.assert_close(results[other], snapshot(params), rtol=1e-6, atol=0)


# ------------------------------------------------------------------------------------------------------ GPU


@CUDA
@pytest.mark.parametrize("name", NAMES)
def test_step_does_not_synchronise_with_the_gpu(name):
    params, targets = make_problem(torch.float32, "cuda")
    opt = make("adamlab", name, groups(params, LR[name]), lr=LR[name])
    set_grads(params, targets)
    opt.step()  # the first step allocates the state
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            opt.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for p in params:
        for value in opt.state[p].values():
            if value.shape == p.shape:
                assert value.device == p.device


# ---------------------------------------------------------------------------------------------------- bench


def test_bench_quick(capsys, one_thread):
    import adamlab.bench as bench

    assert bench.main(["--quick", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "torch " + torch.__version__ in out and "cores" in out
    assert "adamlab / torch default" in out and "adamlab / torch foreach" in out
    for name in ("Adam", "AdamW", "NAdam"):
        assert re.search(rf"^cpu\s+{name}\s+1 × 100k\s+[0-9.]+", out, re.M), name
    state = dict(re.findall(r"^(\w[\w ]*?)\s{2,}([0-9.]+)$", out, re.M))
    assert state["Adam"] == "8" and state["AMSGrad"] == "12" and state["SGD momentum"] == "4", state
    assert state["SGD"] == "0" and state["AdamW"] == "8" and state["RMSprop momentum centered"] == "12"


def test_bench_measures_state_bytes():
    import adamlab.bench as bench

    assert bench.state_bytes_per_parameter(lambda ps: at.Adam(ps), torch.float32) == 8
    assert bench.state_bytes_per_parameter(lambda ps: at.Adam(ps), torch.float64) == 16
    assert bench.state_bytes_per_parameter(lambda ps: at.Adam(ps, amsgrad=True), torch.bfloat16) == 6
    assert bench.state_bytes_per_parameter(lambda ps: at.RMSprop(ps, centered=True), torch.float32) == 8
