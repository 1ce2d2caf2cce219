"""adamlab.numpy against torch.optim (float64), hand-derived steps, purity, errors, dtypes and batching."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math

import numpy as np
import pytest

import adamlab.numpy as an

torch = pytest.importorskip("torch")

STEPS = 60
SHAPES = [(3,), (2, 3), (4, 1, 2)]


def _grid(**options):
    """Every combination of the given option values, as a list of kwargs dicts."""
    keys = list(options)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*options.values())]


# Every option of every optimizer, and their combinations. Values are chosen so that each branch changes the
# trajectory (e.g. lr_decay large enough to matter within 60 steps, RAdam's beta2 small enough to rectify).
CASES: dict[str, list[dict]] = {
    "SGD": [
        kw
        for kw in _grid(
            lr=[0.05],
            momentum=[0.0, 0.9],
            dampening=[0.0, 0.3],
            weight_decay=[0.0, 0.1],
            nesterov=[False, True],
            maximize=[False, True],
        )
        if not (kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0))
    ],
    "Adagrad": _grid(
        lr=[0.1],
        lr_decay=[0.0, 0.05],
        weight_decay=[0.0, 0.1],
        initial_accumulator_value=[0.0, 0.5],
        eps=[1e-10, 1e-2],
        maximize=[False, True],
    ),
    "RMSprop": _grid(
        lr=[0.01],
        alpha=[0.99, 0.8],
        eps=[1e-8, 1e-2],
        weight_decay=[0.0, 0.1],
        momentum=[0.0, 0.9],
        centered=[False, True],
        maximize=[False, True],
    ),
    "Adadelta": _grid(lr=[1.0, 0.3], rho=[0.9, 0.5], eps=[1e-6, 1e-2], weight_decay=[0.0, 0.1], maximize=[False, True]),
    "Adam": _grid(
        lr=[0.01],
        betas=[(0.9, 0.999), (0.5, 0.8)],
        eps=[1e-8, 1e-2],
        weight_decay=[0.0, 0.1],
        amsgrad=[False, True],
        maximize=[False, True],
        decoupled_weight_decay=[False, True],
    ),
    "AdamW": _grid(
        lr=[0.01],
        betas=[(0.9, 0.999), (0.5, 0.8)],
        weight_decay=[0.01, 0.3],
        amsgrad=[False, True],
        maximize=[False, True],
    ),
    "NAdam": _grid(
        lr=[0.01],
        betas=[(0.9, 0.999), (0.5, 0.8)],
        eps=[1e-8, 1e-2],
        weight_decay=[0.0, 0.1],
        momentum_decay=[4e-3, 1.0],
        decoupled_weight_decay=[False, True],
        maximize=[False, True],
    ),
    "Adamax": _grid(
        lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.8)], eps=[1e-8, 1e-2], weight_decay=[0.0, 0.1], maximize=[False, True]
    ),
    "RAdam": _grid(
        lr=[0.01],
        betas=[(0.9, 0.999), (0.8, 0.9)],
        eps=[1e-8, 1e-2],
        weight_decay=[0.0, 0.1],
        decoupled_weight_decay=[False, True],
        maximize=[False, True],
    ),
}

# adamlab state field -> torch.optim state key, per state type.
TORCH_KEYS = {
    "b": "momentum_buffer",
    "G": "sum",
    "g_avg": "grad_avg",
    "u": "acc_delta",
    "m": "exp_avg",
    "v_max": "max_exp_avg_sq",
    "mu_product": "mu_product",
}
V_KEY = {"RMSprop": "square_avg", "Adadelta": "square_avg"}  # elsewhere v is exp_avg_sq
U_KEY = {"Adamax": "exp_inf"}  # elsewhere u is acc_delta


def _torch_key(opt_name: str, field: str) -> str:
    if field == "v":
        return V_KEY.get(opt_name, "exp_avg_sq")
    if field == "u":
        return U_KEY.get(opt_name, "acc_delta")
    return TORCH_KEYS[field]


@pytest.fixture(autouse=True)
def _float64_default():
    # torch keeps scalar state (step, NAdam's mu_product) in the default dtype: float64 for a float64 comparison.
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


class Problem:
    """A smooth nonlinear gradient field with a seeded per-step perturbation, the same for both sides."""

    def __init__(self, shape, seed):
        rng = np.random.default_rng(seed)
        self.x0 = rng.normal(size=shape)
        self.a = rng.uniform(0.5, 2.0, size=shape)
        self.noise = rng.normal(scale=0.3, size=(STEPS, *shape))

    def grad(self, x, t):
        return self.a * x + np.sin(3 * x) + self.noise[t]


def _rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


def _case_id(name, kw):
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items() if k != "lr") + ")"


ALL_CASES = [(name, kw) for name, kws in CASES.items() for kw in kws]


@pytest.mark.parametrize(("name", "kw"), ALL_CASES, ids=[_case_id(n, k) for n, k in ALL_CASES])
def test_matches_torch_optim_float64(name, kw):
    problems = [Problem(shape, seed) for seed, shape in enumerate(SHAPES)]
    params = [torch.tensor(p.x0, dtype=torch.float64, requires_grad=True) for p in problems]
    t_opt = getattr(torch.optim, name)(params, **kw)
    n_opt = getattr(an, name)(**kw)
    xs = [p.x0.copy() for p in problems]
    states = [n_opt.init(x) for x in xs]
    for t in range(STEPS):
        for p, param in zip(problems, params, strict=True):
            param.grad = torch.from_numpy(p.grad(param.detach().numpy(), t))
        t_opt.step()
        for i, p in enumerate(problems):
            xs[i], states[i] = n_opt.step(xs[i], p.grad(xs[i], t), states[i])
            ref = params[i].detach().numpy()
            assert _rel(xs[i], ref) <= 1e-10, f"step {t + 1}, param {i}: rel diff {_rel(xs[i], ref):.2e}"
    # The state matches too, field by field, under torch's names.
    for state, param in zip(states, params, strict=True):
        t_state = t_opt.state[param]
        for field, value in state._asdict().items():
            if field == "t":
                if "step" in t_state:
                    assert float(t_state["step"]) == value
                continue
            if value is None:
                assert _torch_key(name, field) not in t_state
                continue
            ref = t_state[_torch_key(name, field)].detach().numpy()
            assert _rel(np.asarray(value), ref) <= 1e-10, field


def test_every_torch_keyword_and_default_is_there():
    """Same keyword names, order and defaults as torch.optim, less torch's implementation switches."""
    import inspect

    switches = {"foreach", "fused", "capturable", "differentiable"}
    for name in CASES:
        t_params = [p for p in inspect.signature(getattr(torch.optim, name)).parameters.values() if p.name != "params"]
        fields = {f.name: f for f in dataclasses.fields(getattr(an, name)) if f.name != "_"}
        for p in t_params:
            if p.name in switches:
                continue
            assert p.name in fields, f"{name} lacks {p.name}"
            default = fields[p.name].default
            assert default == p.default, f"{name}.{p.name}: {default!r} != torch's {p.default!r}"
        # positional order up to torch's first implementation switch (nobody passes foreach positionally)
        positional = list(
            itertools.takewhile(
                lambda n: n not in switches, [p.name for p in t_params if p.kind is p.POSITIONAL_OR_KEYWORD]
            )
        )
        ours = [f.name for f in dataclasses.fields(getattr(an, name)) if not f.kw_only]
        assert ours[: len(positional)] == positional, name


# ----------------------------------------------------------------------------------------------------------
# Hand-derived steps: these catch a misunderstanding shared by adamlab and the reader of torch's code.

G = np.array([0.3, -2.0, 1e-3])
X0 = np.array([1.0, 2.0, -3.0])


def _steps(opt, grads, x0=X0):
    x, state = x0, opt.init(x0)
    out = []
    for g in grads:
        x, state = opt.step(x, g, state)
        out.append(x)
    return out


def test_sgd_by_hand():
    lr, mu, tau = 0.1, 0.9, 0.25
    g1, g2 = G, 2 * G
    x1, x2 = _steps(an.SGD(lr, momentum=mu, dampening=tau), [g1, g2])
    assert np.allclose(x1, X0 - lr * g1)  # the first buffer is g itself, undamped
    assert np.allclose(x2, x1 - lr * (mu * g1 + (1 - tau) * g2))
    x1, x2 = _steps(an.SGD(lr, momentum=mu, nesterov=True), [g1, g2])
    assert np.allclose(x1, X0 - lr * (g1 + mu * g1))
    assert np.allclose(x2, x1 - lr * (g2 + mu * (mu * g1 + g2)))
    (x1,) = _steps(an.SGD(lr, weight_decay=0.5, maximize=True), [g1])
    assert np.allclose(x1, X0 - lr * (-g1 + 0.5 * X0))


def test_adagrad_by_hand():
    lr, eta = 0.1, 0.5
    x1, x2 = _steps(an.Adagrad(lr, lr_decay=eta, initial_accumulator_value=0.2), [G, G])
    assert np.allclose(x1, X0 - lr * G / (np.sqrt(0.2 + G**2) + 1e-10))
    assert np.allclose(x2, x1 - lr / (1 + eta) * G / (np.sqrt(0.2 + 2 * G**2) + 1e-10))
    (x1,) = _steps(an.Adagrad(lr, eps=0.01, eps_in_sqrt=True), [G])
    assert np.allclose(x1, X0 - lr * G / np.sqrt(G**2 + 0.01))


def test_rmsprop_by_hand():
    lr, a = 0.01, 0.9
    x1, x2 = _steps(an.RMSprop(lr, alpha=a), [G, G])
    assert np.allclose(x1, X0 - lr * G / (np.sqrt(1 - a) * np.abs(G) + 1e-8))
    assert np.allclose(x2, x1 - lr * G / (np.sqrt(1 - a**2) * np.abs(G) + 1e-8))
    # centered: v - g_avg^2 = (1-a) g^2 - (1-a)^2 g^2 = a (1-a) g^2 after one step
    (x1,) = _steps(an.RMSprop(lr, alpha=a, centered=True), [G])
    assert np.allclose(x1, X0 - lr * G / (np.sqrt(a * (1 - a)) * np.abs(G) + 1e-8))
    x1, x2 = _steps(an.RMSprop(lr, alpha=a, momentum=0.5), [G, G])
    b1 = G / (np.sqrt(1 - a) * np.abs(G) + 1e-8)
    b2 = 0.5 * b1 + G / (np.sqrt(1 - a**2) * np.abs(G) + 1e-8)
    assert np.allclose(x2, X0 - lr * b1 - lr * b2)


def test_adadelta_by_hand():
    rho, eps = 0.9, 1e-6
    x1, x2 = _steps(an.Adadelta(rho=rho), [G, G])
    v1 = (1 - rho) * G**2
    d1 = np.sqrt(eps) / np.sqrt(v1 + eps) * G
    assert np.allclose(x1, X0 - d1)
    u1 = (1 - rho) * d1**2
    v2 = rho * v1 + (1 - rho) * G**2
    assert np.allclose(x2, x1 - np.sqrt(u1 + eps) / np.sqrt(v2 + eps) * G)


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e4])
def test_adam_first_step_is_lr_times_sign_whatever_the_scale(scale):
    # exactly lr * g / (|g| + eps): the sign, up to eps's share, while |g| >> eps = 1e-8
    lr = 0.01
    (x1,) = _steps(an.Adam(lr), [scale * np.array([1.0, -1.0, 3.0])])
    assert np.allclose(x1 - X0, -lr * np.array([1, -1, 1]), rtol=1e-3, atol=0)


def test_adam_first_step_without_bias_correction_is_about_3_16_lr():
    lr = 0.01
    (x1,) = _steps(an.Adam(lr, bias_correction=False), [np.ones(3)])
    expected = lr * (1 - 0.9) / math.sqrt(1 - 0.999)
    assert np.allclose(X0 - x1, expected)
    assert round(expected / lr, 2) == 3.16


def test_adam_variants_by_hand():
    lr, b1, b2, eps = 0.1, 0.8, 0.9, 1e-3
    opt = an.Adam(lr, (b1, b2), eps)
    x1, x2 = _steps(opt, [G, 3 * G])
    m2, v2 = b1 * (1 - b1) * G + (1 - b1) * 3 * G, b2 * (1 - b2) * G**2 + (1 - b2) * 9 * G**2
    m_hat, v_hat = m2 / (1 - b1**2), v2 / (1 - b2**2)
    assert np.allclose(x2, x1 - lr * m_hat / (np.sqrt(v_hat) + eps))
    # eps inside the root
    (y1,) = _steps(dataclasses.replace(opt, eps_in_sqrt=True), [G])
    assert np.allclose(y1, X0 - lr * G / np.sqrt(G**2 + eps))
    # Keras' epsilon hat: eps added to sqrt(v) before bias correction, correction moved into the step size
    (y1,) = _steps(dataclasses.replace(opt, eps_hat=True), [G])
    lr_1 = lr * math.sqrt(1 - b2) / (1 - b1)
    assert np.allclose(y1, X0 - lr_1 * (1 - b1) * G / (math.sqrt(1 - b2) * np.abs(G) + eps))
    # L2 (coupled) weight decay enters the gradient; decoupled shrinks x first
    (y1,) = _steps(dataclasses.replace(opt, weight_decay=0.5), [G])
    g = G + 0.5 * X0
    assert np.allclose(y1, X0 - lr * g / (np.abs(g) + eps))
    (y1,) = _steps(dataclasses.replace(opt, weight_decay=0.5, decoupled_weight_decay=True), [G])
    assert np.allclose(y1, X0 * (1 - lr * 0.5) - lr * G / (np.abs(G) + eps))
    (z1,) = _steps(an.AdamW(lr, (b1, b2), eps, weight_decay=0.5), [G])
    assert np.array_equal(z1, y1)


def test_amsgrad_keeps_the_max_of_raw_v_and_paper_form_has_no_correction():
    lr, b1, b2 = 0.1, 0.0, 0.5
    big, small = np.full(3, 4.0), np.full(3, 1.0)
    opt = an.AMSGrad(lr, (b1, b2), eps=0.0)
    state = opt.init(X0)
    x1, state = opt.step(X0, big, state)
    x2, state = opt.step(x1, small, state)
    v2 = b2 * (1 - b2) * 16 + (1 - b2) * 1
    assert np.allclose(state.v, v2)
    assert np.allclose(state.v_max, (1 - b2) * 16)  # the max of raw v: v_1 = 8 > v_2 = 4.5
    assert np.allclose(x2, x1 - lr * small / np.sqrt((1 - b2) * 16 / (1 - b2**2)))
    paper = an.AMSGrad(lr, (b1, b2), eps=0.0, bias_correction=False)
    y1, y2 = _steps(paper, [big, small])
    assert np.allclose(y2, y1 - lr * small / np.sqrt((1 - b2) * 16))


def test_nadam_by_hand():
    lr, b1, b2, eps, psi = 0.1, 0.9, 0.999, 1e-8, 0.004
    (x1,) = _steps(an.NAdam(lr, (b1, b2), eps), [G])
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    denom = np.abs(G) + eps  # sqrt(v_hat) = |g| after one step
    expected = X0 - lr * (1 - mu1) / (1 - mu1) * G / denom - lr * mu2 / (1 - mu1 * mu2) * (1 - b1) * G / denom
    assert np.allclose(x1, expected)
    (y1,) = _steps(an.NAdam(lr, (b1, b2), eps, momentum_schedule=False), [G])
    assert np.allclose(y1, X0 - lr * G / denom - lr * b1 / (1 - b1 * b1) * (1 - b1) * G / denom)


def test_nadam_schedule_torch_against_keras():
    """DESIGN: at t = 100, mu is about 0.46 with torch's psi = 0.004 and about 0.89 with Keras' 0.96^t."""
    assert abs(an.NAdam().mu(100) - 0.457) < 5e-3
    assert abs(an.NAdam(momentum_decay=1.0).mu(100) - 0.892) < 5e-3
    assert an.NAdam(momentum_schedule=False).mu(100) == 0.9


def test_adamax_and_radam_by_hand():
    lr = 0.1
    (x1,) = _steps(an.Adamax(lr), [G])
    assert np.allclose(x1, X0 - lr * G / (np.abs(G) + 1e-8))
    # RAdam: rho_1 = 1 <= 5, so the first step is plain bias-corrected momentum: x - lr * g
    (y1,) = _steps(an.RAdam(lr), [G])
    assert np.allclose(y1, X0 - lr * G)
    rho_t, r = an.RAdam().rectification(np.arange(1, 8))
    assert np.allclose(rho_t[0], 1.0)
    assert np.all(np.isnan(r[rho_t <= 5])) and np.all(r[rho_t > 5] > 0)


# ----------------------------------------------------------------------------------------------------------
# Purity, dtypes, errors.

ALL_OPTIMIZERS = [
    an.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    an.Adagrad(weight_decay=0.1),
    an.RMSprop(centered=True, momentum=0.5, weight_decay=0.1),
    an.Adadelta(weight_decay=0.1),
    an.Adam(amsgrad=True, weight_decay=0.1),
    an.AMSGrad(),
    an.AdamW(),
    an.NAdam(decoupled_weight_decay=True, weight_decay=0.1),
    an.Adamax(weight_decay=0.1),
    an.RAdam(weight_decay=0.1),
    an.Adam(eps_hat=True),
    an.Adam(eps_in_sqrt=True, bias_correction=False),
    an.RMSprop(eps_in_sqrt=True),
]


@pytest.mark.parametrize("opt", ALL_OPTIMIZERS, ids=repr)
def test_step_is_pure(opt):
    rng = np.random.default_rng(0)
    x, state = rng.normal(size=(2, 3)), opt.init(np.zeros((2, 3)))
    for _ in range(3):
        x, state = opt.step(x, rng.normal(size=(2, 3)), state)
    g = rng.normal(size=(2, 3))
    x_before, g_before, state_before = x.copy(), g.copy(), copy.deepcopy(state)
    x_new, state_new = opt.step(x, g, state)
    assert np.array_equal(x, x_before) and np.array_equal(g, g_before)
    for a, b in zip(state, state_before, strict=True):
        assert np.array_equal(a, b) if a is not None else b is None
    assert x_new is not x and not np.shares_memory(x_new, x)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opt.lr = 1.0


@pytest.mark.parametrize("opt", ALL_OPTIMIZERS, ids=repr)
def test_float32_stays_float32(opt):
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    state = opt.init(x)
    for t in range(5):
        x, state = opt.step(x, (np.cos(x) + t).astype(np.float32), state)
    assert x.dtype == np.float32
    for value in state:
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


INVALID = [
    ("SGD", {"lr": -0.1}),
    ("SGD", {"momentum": -0.5}),
    ("SGD", {"weight_decay": -1e-4}),
    ("SGD", {"nesterov": True}),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("Adagrad", {"lr": -1.0}),
    ("Adagrad", {"lr_decay": -1.0}),
    ("Adagrad", {"weight_decay": -1.0}),
    ("Adagrad", {"initial_accumulator_value": -1.0}),
    ("Adagrad", {"eps": -1.0}),
    ("RMSprop", {"lr": -1.0}),
    ("RMSprop", {"eps": -1.0}),
    ("RMSprop", {"momentum": -1.0}),
    ("RMSprop", {"weight_decay": -1.0}),
    ("RMSprop", {"alpha": -0.5}),
    ("Adadelta", {"lr": -1.0}),
    ("Adadelta", {"rho": 1.5}),
    ("Adadelta", {"rho": -0.1}),
    ("Adadelta", {"eps": -1.0}),
    ("Adadelta", {"weight_decay": -1.0}),
    *[
        (name, kw)
        for name in ("Adam", "AdamW", "NAdam", "Adamax", "RAdam")
        for kw in (
            {"lr": -1.0},
            {"eps": -1.0},
            {"betas": (1.0, 0.999)},
            {"betas": (0.9, -0.1)},
            {"betas": (0.9, 1.0)},
            {"weight_decay": -1.0},
        )
    ],
    ("NAdam", {"momentum_decay": -1.0}),
]


@pytest.mark.parametrize(("name", "kw"), INVALID, ids=[f"{n}{k}" for n, k in INVALID])
def test_invalid_hyperparameters_raise_where_torch_raises(name, kw):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as err:
        getattr(an, name)(**kw)
    message = str(err.value)
    key, value = next(iter(kw.items()))
    if key == "betas":
        bad = value[0] if not 0 <= value[0] < 1 else value[1]
        assert "betas" in message and str(bad) in message, message
    elif key != "nesterov":
        assert key in message and (str(value) in message or repr(value) in message), message
    else:
        assert "momentum" in message and "dampening" in message


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("Adadelta", {"rho": 1.0}),
        ("Adam", {"betas": (0.0, 0.0)}),
        ("SGD", {"momentum": 0.0}),
        ("RMSprop", {"alpha": 2.0}),
    ],
)
def test_edge_values_torch_accepts_are_accepted(name, kw):
    getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
    getattr(an, name)(**kw)


def test_other_errors_name_the_problem():
    with pytest.raises(ValueError, match="betas"):
        an.Adam(betas=0.9)
    with pytest.raises(ValueError, match="eps_in_sqrt"):
        an.Adam(eps_in_sqrt=True, eps_hat=True)
    with pytest.raises(ValueError, match="shape"):
        an.Adam().step(np.zeros(3), np.zeros(4), an.Adam().init(np.zeros(3)))
    for bad in ({"lr": float("nan")}, {"momentum": float("nan")}):  # torch's SGD lets NaN through; we don't
        with pytest.raises(ValueError, match=next(iter(bad))):
            an.SGD(**bad)
    with pytest.raises(ValueError, match="batch shape"):
        opt = an.Adam(lr=np.ones(5))
        opt.step(np.zeros((4, 2)), np.ones((4, 2)), opt.init(np.zeros((4, 2))))
    with pytest.raises(ValueError, match="lr"):
        an.SGD(lr="fast")


# ----------------------------------------------------------------------------------------------------------
# Batched hyperparameters: one call runs a grid of configurations.


def _rosenbrock_grad(x):
    a, b = x[..., 0], x[..., 1]
    return np.stack([-2 * (1 - a) - 400 * a * (b - a**2), 200 * (b - a**2)], axis=-1)


BATCHED = [
    (an.SGD, {"lr": np.array([1e-4, 5e-4, 1e-3])[:, None], "momentum": np.array([0.0, 0.5, 0.9, 0.99])}),
    (an.Adagrad, {"lr": np.array([0.01, 0.1, 0.5])[:, None], "lr_decay": np.array([0.0, 0.1, 0.2, 0.3])}),
    (an.RMSprop, {"lr": np.array([1e-3, 1e-2, 3e-2])[:, None], "alpha": np.array([0.5, 0.9, 0.99, 0.999])}),
    (an.Adadelta, {"lr": np.array([0.1, 1.0, 2.0])[:, None], "rho": np.array([0.5, 0.9, 0.95, 0.99])}),
    (an.Adam, {"lr": np.array([1e-3, 1e-2, 1e-1])[:, None], "betas": (np.array([0.0, 0.5, 0.9, 0.99]), 0.999)}),
    (an.AMSGrad, {"lr": np.array([1e-3, 1e-2, 1e-1])[:, None], "betas": (0.9, np.array([0.9, 0.99, 0.999, 0.5]))}),
    (an.AdamW, {"lr": np.array([1e-3, 1e-2, 1e-1])[:, None], "weight_decay": np.array([0.0, 0.01, 0.1, 1.0])}),
    (an.NAdam, {"lr": np.array([1e-3, 1e-2, 1e-1])[:, None], "momentum_decay": np.array([0.0, 4e-3, 0.1, 1.0])}),
    (an.Adamax, {"lr": np.array([1e-3, 1e-2, 1e-1])[:, None], "eps": np.array([1e-8, 1e-4, 1e-2, 1.0])}),
    (an.RAdam, {"lr": np.array([1e-3, 3e-3, 1e-2])[:, None], "betas": (0.9, np.array([0.5, 0.9, 0.99, 0.999]))}),
]


@pytest.mark.parametrize(("cls", "grid"), BATCHED, ids=[c.__name__ for c, _ in BATCHED])
def test_batched_grid_equals_runs_one_by_one(cls, grid):
    opt = cls(**grid)
    assert opt.batch_shape == (3, 4)
    x0 = np.array([-1.5, 2.0])
    x = np.broadcast_to(x0, (3, 4, 2)).copy()
    state = opt.init(x)
    for _ in range(100):
        x, state = opt.step(x, _rosenbrock_grad(x), state)
    for i, j in itertools.product(range(3), range(4)):
        kw = {}
        for k, v in grid.items():
            if isinstance(v, tuple):
                kw[k] = tuple(float(np.broadcast_to(e, (3, 4))[i, j]) if np.ndim(e) else e for e in v)
            else:
                kw[k] = float(np.broadcast_to(v, (3, 4))[i, j])
        one = cls(**kw)
        y, s = x0.copy(), one.init(x0)
        for _ in range(100):
            y, s = one.step(y, _rosenbrock_grad(y), s)
        np.testing.assert_allclose(x[i, j], y, rtol=1e-12, atol=1e-12, err_msg=f"{cls.__name__} {kw}")


def test_invalid_entry_in_a_hyperparameter_array_is_named():
    with pytest.raises(ValueError, match="lr"):
        an.Adam(lr=np.array([0.1, -0.1]))
