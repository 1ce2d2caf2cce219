"""The graded items: what each exercise asks for, its hidden cases, and how an answer is judged.

An item is judged in two halves that never share a process in the batch grader:

- ``collect(item, obj)`` runs the learner's code on the item's hidden cases and returns plain arrays and
  strings (the learner's kernel does this);
- ``judge(item, outputs)`` compares those arrays with adamlab's reference, in the grader's own process, and
  turns each case into points and a hint that names the first wrong quantity.

Step items ask for a function ``name_step(theta, grad, state, **hyperparameters) -> (theta, state)`` whose
``state`` is a dict holding ``t`` and the optimizer's buffers under the course's symbols (``m``, ``v``, ...).
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import adamlab.numpy as an

__all__ = ["Item", "ITEMS", "CaseResult", "collect", "judge", "cases", "NOT_ATTEMPTED"]

NOT_ATTEMPTED = "not attempted yet"


@dataclass(frozen=True)
class Item:
    name: str  # what check() is called with, e.g. "adam"
    notebook: str  # the exercise notebook (without .ipynb)
    target: str  # the name the notebook defines: a function, a class or a variable
    kind: str  # "step", "value", "torch_class" or "tuning"
    title: str
    points: int
    reference: Callable[..., an.Optimizer] | None = None  # step items: hyperparameters -> adamlab optimizer
    state_keys: tuple[str, ...] = ()  # step items: the buffers in the learner's state dict, in update order
    defaults: dict[str, float] = field(default_factory=dict)  # step items: hyperparameters of the first cases
    other: dict[str, float] = field(default_factory=dict)  # step items: hyperparameters of the long case
    expected: float | None = None  # value items
    tolerance: float = 1e-3  # value items: relative
    hint: str = ""  # value items: what to reconsider


def _step_item(name, notebook, target, title, reference, keys, defaults, other) -> Item:
    return Item(name, notebook, target, "step", title, 4, reference, keys, defaults, other)


def _adam(lr, beta1, beta2, eps, **kw):
    return an.Adam(lr=lr, betas=(beta1, beta2), eps=eps, **kw)


ADAM_HP = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
ADAM_OTHER = {"lr": 0.05, "beta1": 0.5, "beta2": 0.8, "eps": 1e-3}

ITEMS: dict[str, Item] = {
    item.name: item
    for item in [
        # Part 1: gradient descent and momentum
        _step_item("gd", "01_sgd_momentum", "gd_step", "Gradient descent", an.SGD, (), {"lr": 0.1}, {"lr": 0.3}),
        _step_item(
            "momentum",
            "01_sgd_momentum",
            "momentum_step",
            "SGD with momentum (torch's form, with dampening)",
            an.SGD,
            ("b",),
            {"lr": 0.1, "momentum": 0.9, "dampening": 0.0},
            {"lr": 0.05, "momentum": 0.5, "dampening": 0.3},
        ),
        _step_item(
            "nesterov",
            "01_sgd_momentum",
            "nesterov_step",
            "Nesterov momentum",
            lambda **hp: an.SGD(nesterov=True, **hp),
            ("b",),
            {"lr": 0.1, "momentum": 0.9},
            {"lr": 0.05, "momentum": 0.5},
        ),
        Item(
            "lr_threshold",
            "01_sgd_momentum",
            "lr_threshold",
            "value",
            "The largest stable learning rate",
            1,
            expected=0.2,
            hint="gradient descent on a quadratic diverges once lr exceeds 2/L",
        ),
        # Part 1: adaptive learning rates
        _step_item(
            "adagrad",
            "02_adaptive",
            "adagrad_step",
            "AdaGrad",
            an.Adagrad,
            ("G",),
            {"lr": 0.1, "eps": 1e-10},
            {"lr": 0.5, "eps": 1e-3},
        ),
        _step_item(
            "rmsprop",
            "02_adaptive",
            "rmsprop_step",
            "RMSprop",
            an.RMSprop,
            ("v",),
            {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
            {"lr": 0.05, "alpha": 0.7, "eps": 1e-3},
        ),
        _step_item(
            "adadelta",
            "02_adaptive",
            "adadelta_step",
            "Adadelta",
            an.Adadelta,
            ("v", "u"),
            {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
            {"lr": 0.5, "rho": 0.6, "eps": 1e-3},
        ),
        Item(
            "rmsprop_window",
            "02_adaptive",
            "rmsprop_window",
            "value",
            "RMSprop's memory in steps",
            1,
            expected=100.0,
            hint="an exponential moving average with factor alpha remembers about 1/(1 - alpha) steps",
        ),
        # Part 2: Adam and its family
        _step_item("adam", "03_adam", "adam_step", "Adam with bias correction", _adam, ("m", "v"), ADAM_HP, ADAM_OTHER),
        _step_item(
            "amsgrad",
            "03_adam",
            "amsgrad_step",
            "AMSGrad (torch's form)",
            lambda **hp: _adam(amsgrad=True, **hp),
            ("m", "v", "v_max"),
            ADAM_HP,
            ADAM_OTHER,
        ),
        _step_item(
            "adamw",
            "03_adam",
            "adamw_step",
            "AdamW (decoupled weight decay)",
            lambda weight_decay, **hp: _adam(weight_decay=weight_decay, decoupled_weight_decay=True, **hp),
            ("m", "v"),
            {**ADAM_HP, "weight_decay": 0.1},
            {**ADAM_OTHER, "weight_decay": 0.5},
        ),
        _step_item(
            "nadam",
            "03_adam",
            "nadam_step",
            "NAdam (torch's momentum schedule)",
            lambda lr, beta1, beta2, eps, momentum_decay: an.NAdam(
                lr, (beta1, beta2), eps, momentum_decay=momentum_decay
            ),
            ("m", "v", "mu_product"),
            {**ADAM_HP, "momentum_decay": 4e-3},
            {**ADAM_OTHER, "momentum_decay": 0.5},
        ),
        Item(
            "adam_first_step",
            "03_adam",
            "adam_first_step",
            "value",
            "The size of Adam's first step",
            1,
            expected=0.01,
            hint="after bias correction m_hat = g and v_hat = g^2 at t = 1",
        ),
        Item(
            "uncorrected_first_step",
            "03_adam",
            "uncorrected_first_step",
            "value",
            "Adam's first step without bias correction",
            1,
            expected=0.01 * 0.1 / math.sqrt(0.001),
            hint="without correction m = (1 - beta1) g and v = (1 - beta2) g^2",
        ),
        # Spot the bug: mistakes public implementations made
        _step_item(
            "bug_bias_correction",
            "04_spot_the_bug",
            "fixed_bias_step",
            "Spot the bug: bias correction",
            _adam,
            ("m", "v"),
            ADAM_HP,
            ADAM_OTHER,
        ),
        _step_item(
            "bug_eps",
            "04_spot_the_bug",
            "fixed_eps_step",
            "Spot the bug: where eps goes",
            _adam,
            ("m", "v"),
            {**ADAM_HP, "eps": 1e-3},
            ADAM_OTHER,
        ),
        _step_item(
            "bug_weight_decay",
            "04_spot_the_bug",
            "fixed_adamw_step",
            "Spot the bug: weight decay",
            lambda weight_decay, **hp: _adam(weight_decay=weight_decay, decoupled_weight_decay=True, **hp),
            ("m", "v"),
            {**ADAM_HP, "weight_decay": 0.1},
            {**ADAM_OTHER, "weight_decay": 0.5},
        ),
        # Part 3: a torch optimizer, tuning, memory
        Item("my_adam", "05_torch_and_tuning", "MyAdam", "torch_class", "Adam as a torch.optim.Optimizer", 4),
        Item("tuning", "05_torch_and_tuning", "tuned", "tuning", "Tune Adam on Beale's function", 2),
        Item(
            "adam_bytes",
            "05_torch_and_tuning",
            "adam_state_bytes_per_param",
            "value",
            "Adam's optimizer state, bytes per float32 parameter",
            1,
            expected=8.0,
            hint="Adam keeps two float32 buffers (m and v) per parameter",
        ),
    ]
}

TUNING = {"problem": "beale", "steps": 300, "target": 1e-8}  # Adam's defaults end at f - f* = 21.6


# ----------------------------------------------------------------------------------------------------------
# Hidden cases. Seeded by the item's name, so the learner's kernel and the grader draw the same ones.


@dataclass(frozen=True)
class Case:
    label: str
    hp: dict[str, float]
    theta0: np.ndarray
    grads: np.ndarray  # (steps, *shape)
    rtol: float = 1e-6


def cases(item: Item) -> list[Case]:
    rng = np.random.default_rng([sum(map(ord, item.name)), 2026])
    d = item.defaults
    return [
        Case("one step (t = 1)", d, rng.normal(size=5), rng.normal(size=(1, 5))),
        Case("zero gradients", d, rng.normal(size=3), np.zeros((3, 3))),
        Case(
            "float32 parameters, 5 steps",
            d,
            rng.normal(size=(4, 3)).astype(np.float32),
            rng.normal(size=(5, 4, 3)).astype(np.float32),
            rtol=2e-4,
        ),
        Case(
            "50 steps, other hyperparameters, a 3-d shape",
            item.other,
            rng.normal(size=(2, 3, 2)),
            rng.normal(scale=2.0, size=(50, 2, 3, 2)),
        ),
    ]


def _init_state(item: Item, theta: np.ndarray) -> dict[str, Any]:
    state: dict[str, Any] = {"t": 0}
    for key in item.state_keys:
        state[key] = 1.0 if key == "mu_product" else np.zeros_like(theta)
    return state


def reference_run(item: Item, case: Case, opt: an.Optimizer | None = None) -> dict[str, np.ndarray]:
    """The reference trajectory: theta and each state buffer after every step, stacked."""
    opt = opt or item.reference(**case.hp)
    x, state = case.theta0, opt.init(case.theta0)
    out: dict[str, list] = {"theta": [], **{k: [] for k in item.state_keys}}
    for g in case.grads:
        x, state = opt.step(x, g, state)
        out["theta"].append(x)
        for k in item.state_keys:
            out[k].append(np.asarray(getattr(state, k), dtype=np.float64))
    return {k: np.stack([np.asarray(v, dtype=np.float64) for v in vs]) for k, vs in out.items()}


# ----------------------------------------------------------------------------------------------------------
# collect: runs in the learner's process. Returns {case_label: {"error": str} or {quantity: array}}.


def _describe(err: BaseException) -> str:
    if isinstance(err, NotImplementedError):
        return NOT_ATTEMPTED
    frames = traceback.extract_tb(err.__traceback__)
    where = f" (line {frames[-1].lineno}: {frames[-1].line})" if frames and frames[-1].line else ""
    return f"raised {type(err).__name__}: {err}{where}"[:400]


def collect(item: Item, obj: Any) -> dict[str, Any]:
    if item.kind == "step":
        return {c.label: _collect_step(item, obj, c) for c in cases(item)}
    if item.kind == "value":
        return {"answer": _collect_value(obj)}
    if item.kind == "tuning":
        return {"answer": _collect_tuning(obj)}
    if item.kind == "torch_class":
        from adamlab.grading.torch_item import collect_torch_class

        return collect_torch_class(obj)
    raise ValueError(f"unknown item kind {item.kind!r}")


def _collect_step(item: Item, fn: Any, case: Case) -> dict[str, Any]:
    if not callable(fn):
        return {"error": f"{item.target} should be a function, got {type(fn).__name__}"}
    theta, state = case.theta0.copy(), _init_state(item, case.theta0)
    out: dict[str, list] = {"theta": [], **{k: [] for k in item.state_keys}}
    try:
        with np.errstate(all="ignore"):
            for g in case.grads:
                result = fn(theta, g.copy(), state, **case.hp)
                if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
                    return {
                        "error": f"{item.target} should return (theta, state) with state a dict; got {_kind(result)}"
                    }
                theta, state = result
                for k in item.state_keys:
                    if k not in state:
                        return {"error": f"the state dict has no {k!r} (it has {sorted(state)})"}
                    out[k].append(np.array(state[k], dtype=np.float64))
                arr = np.asarray(theta)
                out["theta"].append(np.array(arr, dtype=np.float64))
                out.setdefault("_dtype", str(arr.dtype))
    except Exception as err:  # the learner's code may raise anything; that is feedback, not a crash
        return {"error": _describe(err)}
    try:
        return {k: (np.stack(v) if k != "_dtype" else v) for k, v in out.items()}
    except ValueError as err:
        return {"error": f"inconsistent shapes across steps: {err}"}


def _kind(value: Any) -> str:
    return type(value).__name__ if not isinstance(value, tuple) else f"a tuple of {len(value)}"


def _collect_value(value: Any) -> dict[str, Any]:
    if value is None or value is Ellipsis:
        return {"error": NOT_ATTEMPTED}
    try:
        return {"value": np.array(float(value))}
    except (TypeError, ValueError):
        return {"error": f"expected a number, got {type(value).__name__}"}


def _collect_tuning(value: Any) -> dict[str, Any]:
    if value is None:
        return {"error": NOT_ATTEMPTED}
    if not isinstance(value, dict):
        return {"error": f"tuned should be a dict with keys 'lr', 'beta1', 'beta2'; got {type(value).__name__}"}
    try:
        return {k: np.array(float(value[k])) for k in ("lr", "beta1", "beta2")}
    except KeyError as err:
        return {"error": f"tuned needs the keys lr, beta1 and beta2; {err} is missing"}
    except (TypeError, ValueError) as err:
        return {"error": f"tuned's values must be numbers: {err}"}


# ----------------------------------------------------------------------------------------------------------
# judge: runs in the grader's process, on arrays only.


@dataclass(frozen=True)
class CaseResult:
    label: str
    passed: bool
    message: str
    points: float


def judge(item: Item, outputs: dict[str, Any]) -> list[CaseResult]:
    if item.kind == "step":
        return [_judge_step(item, c, outputs.get(c.label, {"error": "no output"})) for c in cases(item)]
    if item.kind == "value":
        return [_judge_value(item, outputs.get("answer", {"error": "no output"}))]
    if item.kind == "tuning":
        return [_judge_tuning(item, outputs.get("answer", {"error": "no output"}))]
    from adamlab.grading.torch_item import judge_torch_class

    return judge_torch_class(item, outputs)


def _judge_value(item: Item, out: dict[str, Any]) -> CaseResult:
    if "error" in out:
        return CaseResult("answer", False, out["error"], 0)
    value = float(out["value"])
    if math.isclose(value, item.expected, rel_tol=item.tolerance):
        return CaseResult("answer", True, "correct", item.points)
    return CaseResult("answer", False, f"{value:g} is not it: {item.hint}", 0)


def _judge_tuning(item: Item, out: dict[str, Any]) -> CaseResult:
    from adamlab import problems
    from adamlab.run import run

    if "error" in out:
        return CaseResult("target", False, out["error"], 0)
    hp = {k: float(out[k]) for k in ("lr", "beta1", "beta2")}
    try:
        opt = an.Adam(lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]))
    except ValueError as err:
        return CaseResult("target", False, str(err), 0)
    traj = run(opt, problems.get(TUNING["problem"]), TUNING["steps"], record_state=False)
    gap = float(traj.gap[-1])
    if traj.diverged:
        return CaseResult("target", False, f"Adam{hp} diverged at step {int(traj.diverged_at)}: lower lr", 0)
    if gap < TUNING["target"]:
        return CaseResult("target", True, f"f - f* = {gap:.2g} after {TUNING['steps']} steps", item.points)
    return CaseResult(
        "target", False, f"f - f* = {gap:.2g} after {TUNING['steps']} steps; the target is {TUNING['target']:g}", 0
    )


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    if a.shape != b.shape:
        return False
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-12)
    return bool(np.all(np.isfinite(a)) and np.max(np.abs(a - b), initial=0.0) <= rtol * scale + 1e-12)


def _judge_step(item: Item, case: Case, out: dict[str, Any]) -> CaseResult:
    if "error" in out:
        return CaseResult(case.label, False, out["error"], 0)
    ref = reference_run(item, case)
    order = [*item.state_keys, "theta"]
    for q in order:
        if q not in out or np.shape(out[q]) != ref[q].shape:
            got = np.shape(out[q]) if q in out else "nothing"
            return CaseResult(case.label, False, f"{q} has shape {got}, expected {ref[q].shape}", 0)
    for q in order:
        if _close(out[q], ref[q], case.rtol):
            continue
        step = _first_bad_step(out[q], ref[q], case.rtol)
        right = [k for k in order if k != q and _close(out[k], ref[k], case.rtol)]
        lead = (
            f"{_listing(right)} {'match' if len(right) > 1 else 'matches'}, {q} does not" if right else f"{q} is wrong"
        )
        diagnosis = _diagnose(item, case, out, q)
        return CaseResult(case.label, False, f"{lead} (first at step {step + 1}): {diagnosis}", 0)
    dtype = out.get("_dtype", "float64")
    if case.theta0.dtype == np.float32 and dtype != "float32":
        return CaseResult(
            case.label,
            False,
            f"the values are right but theta came back as {dtype}: keep the input's dtype (np.zeros_like)",
            0,
        )
    return CaseResult(case.label, True, "matches", 1)


def _listing(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _first_bad_step(a: np.ndarray, b: np.ndarray, rtol: float) -> int:
    for i in range(len(b)):
        if not _close(a[i : i + 1], b[i : i + 1], rtol):
            return i
    return 0


# Known mistakes, each modelled as a variant of the reference. When the learner's numbers match one, the
# hint names the mistake; otherwise it names the first wrong quantity.
def _variants(item: Item, hp: dict[str, float]) -> list[tuple[str, Any]]:
    opt = item.reference(**hp)
    out = [("the update has the wrong sign: subtract the step to go downhill", _Flipped(opt))]
    if "beta1" in hp:
        out.append(
            ("beta1 and beta2 are swapped", item.reference(**{**hp, "beta1": hp["beta2"], "beta2": hp["beta1"]}))
        )
    if isinstance(opt, an.Adam):
        out.append(
            (
                "there is no bias correction: divide m by 1 - beta1**t and v by 1 - beta2**t",
                replace(opt, bias_correction=False),
            )
        )
        out.append(("eps is inside the square root: torch adds it to sqrt(v_hat)", replace(opt, eps_in_sqrt=True)))
        out.append(
            (
                "the bias correction does not change with t: divide by 1 - beta1**t and 1 - beta2**t, not 1 - beta",
                _FirstStepCorrection(opt),
            )
        )
        if opt.weight_decay:
            out.append(
                (
                    "the weight decay enters the gradient (L2): AdamW shrinks theta by (1 - lr * weight_decay)",
                    replace(opt, decoupled_weight_decay=False),
                )
            )
    if isinstance(opt, an.Adam | an.NAdam):
        out.append(("the bias correction uses t + 1: increment t once per step, then use 1 - beta**t", _Shifted(opt)))
    return out


class _Mistake:
    """A known mistake, modelled as a wrapper around the reference optimizer (by default: no mistake)."""

    def __init__(self, opt: an.Optimizer) -> None:
        self.opt = opt

    def init(self, x: np.ndarray) -> Any:
        return self.opt.init(x)

    def step(self, x: np.ndarray, g: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        return self.opt.step(x, g, state)


class _Flipped(_Mistake):
    """The update added instead of subtracted: theta_t = theta_{t-1} + step."""

    def step(self, x: np.ndarray, g: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        x_new, state = self.opt.step(x, g, state)
        return 2 * x - x_new, state


class _FirstStepCorrection(_Mistake):
    """Bias correction frozen at t = 1 (1 - beta instead of 1 - beta**t): step from a state whose t is 0."""

    def step(self, x: np.ndarray, g: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        x_new, new = self.opt.step(x, g, state._replace(t=0))
        return x_new, new._replace(t=state.t + 1)


class _Shifted(_Mistake):
    """The step counter one ahead (t starting at 1, or incremented twice): the off-by-one mistake."""

    def init(self, x: np.ndarray) -> Any:
        return self.opt.init(x)._replace(t=1)


def _diagnose(item: Item, case: Case, out: dict[str, Any], q: str) -> str:
    order = [*item.state_keys, "theta"]
    for hint, variant_opt in _variants(item, case.hp):
        variant = reference_run(item, case, variant_opt)
        if all(_close(out[k], variant[k], case.rtol) for k in order):
            return hint
    generic = {
        "m": "m is the moving average beta1 * m + (1 - beta1) * g",
        "v": "v averages the squared gradient: beta2 * v + (1 - beta2) * g**2 (RMSprop/Adadelta: with alpha/rho)",
        "v_max": "v_max is the running maximum of v: np.maximum(v_max, v)",
        "G": "G is the running sum of squared gradients: G + g**2",
        "u": "u averages the squared updates: rho * u + (1 - rho) * delta**2",
        "b": "torch's buffer: b = g at the first step, then momentum * b + (1 - dampening) * g",
        "mu_product": "mu_product multiplies in mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)) each step",
        "theta": "the buffers are right, so look at the update line: the learning rate, eps and the bias correction",
    }
    if np.any(~np.isfinite(out[q])):
        return f"{q} is NaN or infinite: look for a division by zero (1 - beta**t with t = 0?)"
    return generic.get(q, "compare with the update rule")
