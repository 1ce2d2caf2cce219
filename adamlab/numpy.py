r"""NumPy reference optimizers, in the order the course meets them.

Each optimizer is a frozen dataclass of hyperparameters with two pure methods, in the style of optax's
``init``/``update`` pair::

    opt = Adam(lr=0.01)
    state = opt.init(x)
    x, state = opt.step(x, grad, state)      # nothing passed in is modified

Keyword names, positional order and defaults are those of the ``torch.optim`` class of the same name in
torch 2.13 (implementation switches such as ``foreach``, ``fused``, ``capturable`` and ``differentiable`` have
no meaning here and are left out). Each ``step`` performs the assignments of the algorithm box in its paper, in
that order and with its symbols (``m``, ``v``, ``m_hat``, ``v_hat``, ``v_max``, ``t``); where torch.optim and
the paper differ, torch is the default and the paper's (or Keras') form is a named flag.

Batched runs. Any hyperparameter may be an array whose shape matches the leading axes of ``x``: with
``x`` of shape ``(30, 30, 2)``, ``lr`` of shape ``(30, 1)`` and ``betas=(b1, 0.999)`` with ``b1`` of shape
``(1, 30)`` one ``step`` advances a 30 x 30 grid of independent runs. ``opt.batch_shape`` is the broadcast
shape of the array hyperparameters.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AMSGrad",
    "AdamW",
    "NAdam",
    "Adamax",
    "RAdam",
    "OPTIMIZERS",
    "SGDState",
    "AdagradState",
    "RMSpropState",
    "AdadeltaState",
    "AdamState",
    "NAdamState",
    "AdamaxState",
    "RAdamState",
]

Hyper = Any  # a float, or an array that broadcasts against the leading axes of x


# --------------------------------------------------------------------------------------------------------------
# Shared plumbing: validation, broadcasting of hyperparameters, preparing the gradient.


def _check(name: str, value: Hyper, low: float = 0.0, high: float | None = None, high_open: bool = True) -> None:
    """Raise ValueError naming the hyperparameter unless low <= value (< or <=) high, elementwise.

    NaN fails every comparison, so it is refused too, as in torch.optim.
    """
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid {name}: {value!r} (expected a number or an array of numbers)") from None
    ok = v >= low
    if high is not None:
        ok &= (v < high) if high_open else (v <= high)
    if not np.all(ok):
        bound = "" if high is None else (f" and < {high}" if high_open else f" and <= {high}")
        raise ValueError(f"Invalid {name}: {value!r} (must be >= {low}{bound})")


def _any_nonzero(value: Hyper) -> bool:
    return bool(np.any(np.asarray(value) != 0))


class Optimizer:
    """Behaviour every reference optimizer shares; the algorithms themselves are in the subclasses."""

    @functools.cached_property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the array-valued hyperparameters; () when all are scalars."""
        shapes = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            for v in value if isinstance(value, tuple) else (value,):
                if np.ndim(v) > 0:
                    shapes.append(np.shape(v))
        try:
            return np.broadcast_shapes(*shapes) if shapes else ()
        except ValueError:
            raise ValueError(f"the array hyperparameters' shapes {shapes} do not broadcast together") from None

    def _prepare(self, x: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x as a float array (its dtype kept), and the gradient to descend: -grad when maximizing."""
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float64)
        g = np.asarray(grad, dtype=x.dtype)
        if g.shape != x.shape:
            raise ValueError(f"grad has shape {g.shape} but x has shape {x.shape}")
        batch = self.batch_shape
        if batch and not _leads_with(x.shape, batch):
            raise ValueError(
                f"the hyperparameter arrays have batch shape {batch}, so x needs leading axes {batch}; "
                f"x has shape {x.shape}"
            )
        return x, (-g if self.maximize else g)  # type: ignore[attr-defined]

    def _hparams(self, x: np.ndarray, *names: str) -> list[Any]:
        """The named hyperparameters, ready to combine with x (see _hp); "beta1"/"beta2" are betas[0]/[1]."""
        special = {"beta1": lambda: self.betas[0], "beta2": lambda: self.betas[1]}  # type: ignore[attr-defined]
        return [self._hp(special[n]() if n in special else getattr(self, n), x) for n in names]

    def _hp(self, value: Hyper, x: np.ndarray) -> Any:
        """A hyperparameter (or a quantity derived from them) ready to combine with x.

        A scalar becomes a Python float, which NumPy treats as weakly typed, so float32 x stays float32. An
        array is cast to x's dtype and given trailing unit axes, so that it broadcasts against the batch axes
        at the front of x and is constant along the parameter's own axes.
        """
        if np.ndim(value) == 0:
            return float(value)
        a = np.asarray(value, dtype=x.dtype)
        return a.reshape(a.shape + (1,) * (x.ndim - len(self.batch_shape)))


def _leads_with(shape: tuple[int, ...], batch: tuple[int, ...]) -> bool:
    """Whether an array of this shape has leading axes that hyperparameters of shape `batch` broadcast to."""
    lead = shape[: len(batch)]
    try:
        return len(shape) >= len(batch) and np.broadcast_shapes(batch, lead) == lead
    except ValueError:
        return False


def _zeros(x: np.ndarray) -> np.ndarray:
    """A zero buffer shaped like x, in x's float dtype (float64 for integer x)."""
    x = np.asarray(x)
    return np.zeros(x.shape, dtype=x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64)


def _sqrt(a: Any) -> Any:
    """Square root that keeps a Python float a Python float (np.sqrt would make it float64 and upcast x)."""
    return math.sqrt(a) if isinstance(a, float) else np.sqrt(a)


def _betas(betas: tuple[Hyper, Hyper]) -> None:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
    _check("betas[0] (beta1)", betas[0], 0.0, 1.0)
    _check("betas[1] (beta2)", betas[1], 0.0, 1.0)


# --------------------------------------------------------------------------------------------------------------
# 1. Stochastic gradient descent, with momentum and Nesterov's look-ahead.


class SGDState(NamedTuple):
    t: int
    b: np.ndarray | None  # velocity; torch's "momentum_buffer" (None without momentum)


@dataclass(frozen=True)
class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, dampening and Nesterov momentum.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda \theta_{t-1} \\
        b_t &\leftarrow \mu b_{t-1} + (1 - \tau) g_t \qquad (b_1 = g_1) \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \,(g_t + \mu b_t \text{ if nesterov else } b_t)

    with learning rate :math:`\gamma` = ``lr``, momentum :math:`\mu`, dampening :math:`\tau` and weight decay
    :math:`\lambda`. Without momentum the update is :math:`\theta_t = \theta_{t-1} - \gamma g_t`.

    This is torch.optim.SGD's form of momentum (Sutskever et al., 2013, "On the importance of initialization
    and momentum in deep learning"): the learning rate multiplies the velocity instead of being folded into
    it as in Polyak's heavy ball (1964) and Keras; the two agree while lr is constant.
    State: ``b`` is torch's ``momentum_buffer``.
    """

    lr: Hyper = 1e-3
    momentum: Hyper = 0.0
    dampening: Hyper = 0.0
    weight_decay: Hyper = 0.0
    nesterov: bool = False
    _: KW_ONLY
    maximize: bool = False

    def __post_init__(self) -> None:
        _check("lr", self.lr)
        _check("momentum", self.momentum)
        _check("weight_decay", self.weight_decay)
        if self.nesterov and (np.any(np.asarray(self.momentum) <= 0) or _any_nonzero(self.dampening)):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={self.momentum!r}, dampening={self.dampening!r})"
            )

    def init(self, x: np.ndarray) -> SGDState:
        return SGDState(t=0, b=_zeros(x) if _any_nonzero(self.momentum) else None)

    def step(self, x: np.ndarray, grad: np.ndarray, state: SGDState) -> tuple[np.ndarray, SGDState]:
        x, g = self._prepare(x, grad)
        t = state.t + 1
        lr, mu, tau, lam = self._hparams(x, "lr", "momentum", "dampening", "weight_decay")
        if _any_nonzero(self.weight_decay):
            g = g + lam * x
        b = state.b
        if b is not None:
            b = g if t == 1 else mu * b + (1 - tau) * g
            g = g + mu * b if self.nesterov else b
        return x - lr * g, SGDState(t, b)


# --------------------------------------------------------------------------------------------------------------
# 2. AdaGrad: a learning rate per coordinate, from the sum of squared gradients.


class AdagradState(NamedTuple):
    t: int
    G: np.ndarray  # running sum of squared gradients; torch's "sum"


@dataclass(frozen=True)
class Adagrad(Optimizer):
    r"""AdaGrad (Duchi, Hazan & Singer, 2011, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", diagonal form).

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda \theta_{t-1} \\
        \tilde\gamma_t &\leftarrow \gamma / (1 + (t - 1)\eta) \\
        G_t &\leftarrow G_{t-1} + g_t^2 \qquad (G_0 = \text{initial\_accumulator\_value}) \\
        \theta_t &\leftarrow \theta_{t-1} - \tilde\gamma_t \, g_t / (\sqrt{G_t} + \epsilon)

    :math:`\eta` is ``lr_decay``. Since :math:`G_t` only grows, each coordinate's step only shrinks.
    ``eps_in_sqrt=True`` divides by :math:`\sqrt{G_t + \epsilon}` instead, Keras' placement (Keras also
    starts from ``initial_accumulator_value=0.1``). State: ``G`` is torch's ``sum``.
    """

    lr: Hyper = 1e-2
    lr_decay: Hyper = 0.0
    weight_decay: Hyper = 0.0
    initial_accumulator_value: Hyper = 0.0
    eps: Hyper = 1e-10
    _: KW_ONLY
    maximize: bool = False
    eps_in_sqrt: bool = False

    def __post_init__(self) -> None:
        _check("lr", self.lr)
        _check("lr_decay", self.lr_decay)
        _check("weight_decay", self.weight_decay)
        _check("initial_accumulator_value", self.initial_accumulator_value)
        _check("eps", self.eps)

    def init(self, x: np.ndarray) -> AdagradState:
        z = _zeros(x)
        return AdagradState(t=0, G=z + self._hp(self.initial_accumulator_value, z))

    def step(self, x: np.ndarray, grad: np.ndarray, state: AdagradState) -> tuple[np.ndarray, AdagradState]:
        x, g = self._prepare(x, grad)
        t = state.t + 1
        lr, eta, lam, eps = self._hparams(x, "lr", "lr_decay", "weight_decay", "eps")
        if _any_nonzero(self.weight_decay):
            g = g + lam * x
        lr_t = lr / (1 + (t - 1) * eta)
        G = state.G + g * g
        denom = _sqrt(G + eps) if self.eps_in_sqrt else _sqrt(G) + eps
        return x - lr_t * g / denom, AdagradState(t, G)


# --------------------------------------------------------------------------------------------------------------
# 3. RMSprop: an exponential moving average in place of AdaGrad's sum.


class RMSpropState(NamedTuple):
    t: int
    v: np.ndarray  # moving average of g^2; torch's "square_avg"
    g_avg: np.ndarray | None  # moving average of g (centered only); torch's "grad_avg"
    b: np.ndarray | None  # momentum buffer (momentum > 0 only); torch's "momentum_buffer"


@dataclass(frozen=True)
class RMSprop(Optimizer):
    r"""RMSprop (Hinton, Srivastava & Swersky, 2012, Neural Networks for Machine Learning, lecture 6e), with
    the centered variant of Graves (2013, "Generating Sequences With Recurrent Neural Networks").

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda \theta_{t-1} \\
        v_t &\leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \bar g_t &\leftarrow \alpha \bar g_{t-1} + (1 - \alpha) g_t \qquad \text{(centered)} \\
        d_t &\leftarrow \sqrt{v_t - \bar g_t^2} + \epsilon \quad\text{(centered) or}\quad \sqrt{v_t} + \epsilon \\
        b_t &\leftarrow \mu b_{t-1} + g_t / d_t, \quad \theta_t \leftarrow \theta_{t-1} - \gamma b_t
            \quad\text{(momentum } \mu > 0\text{)} \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma g_t / d_t \quad\text{(otherwise)}

    The average forgets with factor :math:`\alpha`, so it remembers about :math:`1/(1-\alpha)` steps.
    ``eps_in_sqrt=True`` takes the root of :math:`v_t + \epsilon` instead, Keras' placement (Keras' default
    is also :math:`\alpha = 0.9`). State: ``v`` is ``square_avg``, ``g_avg`` ``grad_avg``, ``b``
    ``momentum_buffer``.
    """

    lr: Hyper = 1e-2
    alpha: Hyper = 0.99
    eps: Hyper = 1e-8
    weight_decay: Hyper = 0.0
    momentum: Hyper = 0.0
    centered: bool = False
    _: KW_ONLY
    maximize: bool = False
    eps_in_sqrt: bool = False

    def __post_init__(self) -> None:
        _check("lr", self.lr)
        _check("eps", self.eps)
        _check("momentum", self.momentum)
        _check("weight_decay", self.weight_decay)
        _check("alpha", self.alpha)

    def init(self, x: np.ndarray) -> RMSpropState:
        z = _zeros(x)
        return RMSpropState(
            t=0,
            v=z,
            g_avg=z.copy() if self.centered else None,
            b=z.copy() if _any_nonzero(self.momentum) else None,
        )

    def step(self, x: np.ndarray, grad: np.ndarray, state: RMSpropState) -> tuple[np.ndarray, RMSpropState]:
        x, g = self._prepare(x, grad)
        t = state.t + 1
        lr, alpha, eps, lam, mu = self._hparams(x, "lr", "alpha", "eps", "weight_decay", "momentum")
        if _any_nonzero(self.weight_decay):
            g = g + lam * x
        v = alpha * state.v + (1 - alpha) * g * g
        g_avg = state.g_avg
        if self.centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            var = v - g_avg * g_avg
        else:
            var = v
        d = _sqrt(var + eps) if self.eps_in_sqrt else _sqrt(var) + eps
        b = state.b
        if b is not None:
            b = mu * b + g / d
            x_new = x - lr * b
        else:
            x_new = x - lr * g / d
        return x_new, RMSpropState(t, v, g_avg, b)


# --------------------------------------------------------------------------------------------------------------
# 4. Adadelta: the ratio of two running RMS values, with matching units.


class AdadeltaState(NamedTuple):
    t: int
    v: np.ndarray  # moving average of g^2; torch's "square_avg"
    u: np.ndarray  # moving average of the squared updates; torch's "acc_delta"


@dataclass(frozen=True)
class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method", Algorithm 1).

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda \theta_{t-1} \\
        v_t &\leftarrow \rho v_{t-1} + (1 - \rho) g_t^2 \\
        \Delta_t &\leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} \, g_t \\
        u_t &\leftarrow \rho u_{t-1} + (1 - \rho) \Delta_t^2 \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \Delta_t

    The ratio of RMS values has the units of :math:`\theta`, so the paper has no learning rate; torch keeps
    one, :math:`\gamma` = ``lr`` = 1.0, which is the paper's method. eps sits inside both roots.
    Keras' defaults differ: lr 1e-3, rho 0.95. State: ``v`` is ``square_avg``, ``u`` is ``acc_delta``.
    """

    lr: Hyper = 1.0
    rho: Hyper = 0.9
    eps: Hyper = 1e-6
    weight_decay: Hyper = 0.0
    _: KW_ONLY
    maximize: bool = False

    def __post_init__(self) -> None:
        _check("lr", self.lr)
        _check("rho", self.rho, 0.0, 1.0, high_open=False)
        _check("eps", self.eps)
        _check("weight_decay", self.weight_decay)

    def init(self, x: np.ndarray) -> AdadeltaState:
        z = _zeros(x)
        return AdadeltaState(t=0, v=z, u=z.copy())

    def step(self, x: np.ndarray, grad: np.ndarray, state: AdadeltaState) -> tuple[np.ndarray, AdadeltaState]:
        x, g = self._prepare(x, grad)
        t = state.t + 1
        lr, rho, eps, lam = self._hparams(x, "lr", "rho", "eps", "weight_decay")
        if _any_nonzero(self.weight_decay):
            g = g + lam * x
        v = rho * state.v + (1 - rho) * g * g
        delta = np.sqrt(state.u + eps) / np.sqrt(v + eps) * g
        u = rho * state.u + (1 - rho) * delta * delta
        return x - lr * delta, AdadeltaState(t, v, u)


# --------------------------------------------------------------------------------------------------------------
# 5. Adam, AMSGrad and AdamW: moving averages of g and g^2, bias-corrected.


class AdamState(NamedTuple):
    t: int
    m: np.ndarray  # first moment; torch's "exp_avg"
    v: np.ndarray  # second moment (uncentered); torch's "exp_avg_sq"
    v_max: np.ndarray | None  # running max of v (amsgrad only); torch's "max_exp_avg_sq"


def _weight_decay(x: np.ndarray, g: np.ndarray, lr: Any, lam: Any, decoupled: bool) -> tuple[Any, Any]:
    """Decoupled decay shrinks theta by (1 - lr*lambda) (AdamW); coupled decay adds lambda*theta to g (L2)."""
    return (x * (1 - lr * lam), g) if decoupled else (x, g + lam * x)


@dataclass(frozen=True)
class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization", Algorithm 1), with AMSGrad
    (Reddi, Kale & Kumar, 2018) and decoupled weight decay (Loshchilov & Hutter, 2019) as options.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}
            \qquad\text{(or } \theta_{t-1} \leftarrow (1 - \gamma\lambda)\theta_{t-1} \text{ if decoupled)} \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        v^{\max}_t &\leftarrow \max(v^{\max}_{t-1}, v_t) \qquad\text{(amsgrad; then } v^{\max}_t
            \text{ replaces } v_t \text{ below)} \\
        \hat m_t &\leftarrow m_t / (1 - \beta_1^t), \qquad \hat v_t \leftarrow v_t / (1 - \beta_2^t) \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Variants, each a named flag, default torch.optim's form:

    - ``weight_decay`` is L2 (added to the gradient, then shrunk by the adaptive denominator) unless
      ``decoupled_weight_decay=True``, which is AdamW.
    - ``amsgrad=True`` keeps torch's max of the raw :math:`v_t`, then bias-corrects it. Reddi et al.'s
      Algorithm 2 has no bias correction at all: ``bias_correction=False``.
    - ``bias_correction=False`` drops both corrections (:math:`\hat m_t = m_t`, :math:`\hat v_t = v_t`).
    - ``eps_in_sqrt=True`` divides by :math:`\sqrt{\hat v_t + \epsilon}` (optax's ``eps_root``).
    - ``eps_hat=True`` is the paper's "efficient" ordering that Keras uses: :math:`\gamma_t = \gamma
      \sqrt{1-\beta_2^t}/(1-\beta_1^t)` and :math:`\theta_t = \theta_{t-1} - \gamma_t m_t/(\sqrt{v_t}
      + \hat\epsilon)`, eps added before bias correction (Keras' default :math:`\hat\epsilon` is 1e-7).

    State: ``m`` is torch's ``exp_avg``, ``v`` ``exp_avg_sq``, ``v_max`` ``max_exp_avg_sq``.
    """

    lr: Hyper = 1e-3
    betas: tuple[Hyper, Hyper] = (0.9, 0.999)
    eps: Hyper = 1e-8
    weight_decay: Hyper = 0.0
    amsgrad: bool = False
    _: KW_ONLY
    maximize: bool = False
    decoupled_weight_decay: bool = False
    bias_correction: bool = True
    eps_in_sqrt: bool = False
    eps_hat: bool = False

    def __post_init__(self) -> None:
        _check("lr", self.lr)
        _check("eps", self.eps)
        _betas(self.betas)
        _check("weight_decay", self.weight_decay)
        if self.eps_in_sqrt and self.eps_hat:
            raise ValueError("eps_in_sqrt=True and eps_hat=True are two different placements of eps; pick one")

    def init(self, x: np.ndarray) -> AdamState:
        z = _zeros(x)
        return AdamState(t=0, m=z, v=z.copy(), v_max=z.copy() if self.amsgrad else None)

    def step(self, x: np.ndarray, grad: np.ndarray, state: AdamState) -> tuple[np.ndarray, AdamState]:
        x, g = self._prepare(x, grad)
        t = state.t + 1
        lr, eps, lam, beta1, beta2 = self._hparams(x, "lr", "eps", "weight_decay", "beta1", "beta2")
        if _any_nonzero(self.weight_decay):
            x, g = _weight_decay(x, g, lr, lam, self.decoupled_weight_decay)
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * g * g
        v_max = state.v_max
        if self.amsgrad:
            v_max = np.maximum(v_max, v)
        v_t = v_max if self.amsgrad else v
        c1, c2 = (1 - beta1**t, 1 - beta2**t) if self.bias_correction else (1.0, 1.0)
        if self.eps_hat:
            lr_t = lr * _sqrt(c2) / c1
            x_new = x - lr_t * m / (np.sqrt(v_t) + eps)
        else:
            m_hat = m / c1
            v_hat = v_t / c2
            denom = np.sqrt(v_hat + eps) if self.eps_in_sqrt else np.sqrt(v_hat) + eps
            x_new = x - lr * m_hat / denom
        return x_new, AdamState(t, m, v, v_max)


@dataclass(frozen=True)
class AMSGrad(Adam):
    r"""AMSGrad (Reddi, Kale & Kumar, 2018, "On the Convergence of Adam and Beyond"): Adam that divides by
    the running maximum of the second moment, so the effective step never grows.

    ``AMSGrad(...)`` is ``Adam(..., amsgrad=True)``, torch's form: the max is taken of the raw :math:`v_t`
    and then bias-corrected. ``bias_correction=False`` gives the paper's Algorithm 2.
    """

    amsgrad: bool = True


@dataclass(frozen=True)
class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019, "Decoupled Weight Decay Regularization").

    Adam whose weight decay shrinks the parameters directly instead of entering the gradient:

    .. math::
        \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1} \\
        &\ldots \text{then Adam's update with } g_t = \nabla f(\theta_{t-1})

    The decay is multiplied by the current learning rate :math:`\gamma`, as in torch.optim.AdamW (the paper
    multiplies it by a schedule multiplier :math:`\eta_t` instead). Default :math:`\lambda` = 1e-2.
    With L2 (``Adam(weight_decay=...)``) the decay term is divided by :math:`\sqrt{\hat v_t}` like the rest of
    the gradient, so parameters with large gradients are barely regularised; here every parameter decays at
    the same rate.
    """

    weight_decay: Hyper = 1e-2
    _: KW_ONLY
    decoupled_weight_decay: bool = True


# --------------------------------------------------------------------------------------------------------------
# 6. NAdam: Nesterov's look-ahead inside Adam.


class NAdamState(NamedTuple):
    t: int
    m: np.ndarray  # torch's "exp_avg"
    v: np.ndarray  # torch's "exp_avg_sq"
    mu_product: Any  # prod_{i<=t} mu_i; torch's "mu_product"


@dataclass(frozen=True)
class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016, "Incorporating Nesterov Momentum into Adam"), with torch's momentum schedule.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}
            \qquad\text{(or decoupled, as in AdamW)} \\
        \mu_t &\leftarrow \beta_1 \big(1 - \tfrac12\, 0.96^{t\psi}\big), \quad
        \mu_{t+1} \leftarrow \beta_1 \big(1 - \tfrac12\, 0.96^{(t+1)\psi}\big) \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \qquad \hat v_t \leftarrow v_t / (1 - \beta_2^t) \\
        \theta_t &\leftarrow \theta_{t-1}
            - \gamma \frac{1 - \mu_t}{1 - \prod_{i \le t} \mu_i} \frac{g_t}{\sqrt{\hat v_t} + \epsilon}
            - \gamma \frac{\mu_{t+1}}{1 - \prod_{i \le t+1} \mu_i} \frac{m_t}{\sqrt{\hat v_t} + \epsilon}

    :math:`\psi` = ``momentum_decay`` = 0.004 is Dozat's schedule (:math:`0.96^{t/250}`): the momentum
    warms up slowly from :math:`\beta_1/2`. Keras 3 uses :math:`0.96^t`, which is ``momentum_decay=1.0``.
    ``momentum_schedule=False`` holds :math:`\mu_t = \beta_1` for every t (Nadam without the warm-up).
    State: ``m`` is ``exp_avg``, ``v`` ``exp_avg_sq``, ``mu_product`` :math:`\prod_{i\le t}\mu_i`.
    """

    lr: Hyper = 2e-3
    betas: tuple[Hyper, Hyper] = (0.9, 0.999)
    eps: Hyper = 1e-8
    weight_decay: Hyper = 0.0
    momentum_decay: Hyper = 4e-3
    decoupled_weight_decay: bool = False
    _: KW_ONLY
    maximize: bool = False
    momentum_schedule: bool = True

    def __post_init__(self) -> None:
        _check("lr", self.lr)
        _check("eps", self.eps)
        _betas(self.betas)
        _check("weight_decay", self.weight_decay)
        _check("momentum_decay", self.momentum_decay)

    def init(self, x: np.ndarray) -> NAdamState:
        z = _zeros(x)
        return NAdamState(t=0, m=z, v=z.copy(), mu_product=1.0)

    def mu(self, t: Any) -> Any:
        """The momentum schedule mu_t (array-valued t and betas broadcast)."""
        beta1, t = np.asarray(self.betas[0], dtype=float), np.asarray(t)
        if not self.momentum_schedule:
            return beta1 * np.ones_like(t, dtype=float)
        return beta1 * (1 - 0.5 * 0.96 ** (t * np.asarray(self.momentum_decay, dtype=float)))

    def step(self, x: np.ndarray, grad: np.ndarray, state: NAdamState) -> tuple[np.ndarray, NAdamState]:
        x, g = self._prepare(x, grad)
        t = state.t + 1
        lr, eps, lam, beta1, beta2 = self._hparams(x, "lr", "eps", "weight_decay", "beta1", "beta2")
        if _any_nonzero(self.weight_decay):
            x, g = _weight_decay(x, g, lr, lam, self.decoupled_weight_decay)
        mu_t, mu_next = self.mu(t), self.mu(t + 1)
        mu_product = state.mu_product * mu_t
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * g * g
        v_hat = v / (1 - beta2**t)
        denom = np.sqrt(v_hat) + eps
        # Nesterov: the current gradient with this step's momentum, the moment with the next step's.
        c_g = self._hp((1 - mu_t) / (1 - mu_product), x)
        c_m = self._hp(mu_next / (1 - mu_product * mu_next), x)
        x_new = x - lr * c_g * g / denom - lr * c_m * m / denom
        return x_new, NAdamState(t, m, v, mu_product)


# --------------------------------------------------------------------------------------------------------------
# 7. Adamax and RAdam: Adam with an infinity norm, and Adam with a rectified warm-up.


class AdamaxState(NamedTuple):
    t: int
    m: np.ndarray  # torch's "exp_avg"
    u: np.ndarray  # exponentially weighted infinity norm; torch's "exp_inf"


@dataclass(frozen=True)
class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, Algorithm 2): Adam with the infinity norm in place of the L2 norm.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda \theta_{t-1} \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        u_t &\leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
        \theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \, \frac{m_t}{u_t}

    torch adds eps to :math:`|g_t|` inside the max (the paper has no eps). State: ``m`` is ``exp_avg``,
    ``u`` is ``exp_inf``.
    """

    lr: Hyper = 2e-3
    betas: tuple[Hyper, Hyper] = (0.9, 0.999)
    eps: Hyper = 1e-8
    weight_decay: Hyper = 0.0
    _: KW_ONLY
    maximize: bool = False

    def __post_init__(self) -> None:
        _check("lr", self.lr)
        _check("eps", self.eps)
        _betas(self.betas)
        _check("weight_decay", self.weight_decay)

    def init(self, x: np.ndarray) -> AdamaxState:
        z = _zeros(x)
        return AdamaxState(t=0, m=z, u=z.copy())

    def step(self, x: np.ndarray, grad: np.ndarray, state: AdamaxState) -> tuple[np.ndarray, AdamaxState]:
        x, g = self._prepare(x, grad)
        t = state.t + 1
        lr, eps, lam, beta1, beta2 = self._hparams(x, "lr", "eps", "weight_decay", "beta1", "beta2")
        if _any_nonzero(self.weight_decay):
            g = g + lam * x
        m = beta1 * state.m + (1 - beta1) * g
        u = np.maximum(beta2 * state.u, np.abs(g) + eps)
        return x - lr / (1 - beta1**t) * m / u, AdamaxState(t, m, u)


class RAdamState(NamedTuple):
    t: int
    m: np.ndarray  # torch's "exp_avg"
    v: np.ndarray  # torch's "exp_avg_sq"


@dataclass(frozen=True)
class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and Beyond", Algorithm 2).

    .. math::
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad \hat m_t \leftarrow m_t / (1 - \beta_1^t) \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \rho_\infty &\leftarrow 2/(1 - \beta_2) - 1, \qquad
        \rho_t \leftarrow \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t) \\
        \text{if } \rho_t > 5:\quad
        l_t &\leftarrow \sqrt{1 - \beta_2^t} / (\sqrt{v_t} + \epsilon), \quad
        r_t \leftarrow \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}},
        \quad \theta_t \leftarrow \theta_{t-1} - \gamma \hat m_t r_t l_t \\
        \text{else:}\quad \theta_t &\leftarrow \theta_{t-1} - \gamma \hat m_t

    While the variance of the adaptive rate is intractable (early steps) RAdam takes plain momentum steps.
    The threshold is torch's 5 (the paper uses 4). Weight decay is L2 unless ``decoupled_weight_decay``.
    State: ``m`` is ``exp_avg``, ``v`` is ``exp_avg_sq``.
    """

    lr: Hyper = 1e-3
    betas: tuple[Hyper, Hyper] = (0.9, 0.999)
    eps: Hyper = 1e-8
    weight_decay: Hyper = 0.0
    decoupled_weight_decay: bool = False
    _: KW_ONLY
    maximize: bool = False

    def __post_init__(self) -> None:
        _check("lr", self.lr)
        _check("eps", self.eps)
        _betas(self.betas)
        _check("weight_decay", self.weight_decay)

    def rectification(self, t: Any) -> tuple[Any, Any]:
        """rho_t and the rectification factor r_t (NaN where rho_t <= 5, where RAdam does not use it)."""
        beta2, t = np.asarray(self.betas[1], dtype=float), np.asarray(t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return rho_t, np.where(rho_t > 5, r, np.nan)

    def init(self, x: np.ndarray) -> RAdamState:
        z = _zeros(x)
        return RAdamState(t=0, m=z, v=z.copy())

    def step(self, x: np.ndarray, grad: np.ndarray, state: RAdamState) -> tuple[np.ndarray, RAdamState]:
        x, g = self._prepare(x, grad)
        t = state.t + 1
        lr, eps, lam, beta1, beta2 = self._hparams(x, "lr", "eps", "weight_decay", "beta1", "beta2")
        if _any_nonzero(self.weight_decay):
            x, g = _weight_decay(x, g, lr, lam, self.decoupled_weight_decay)
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho_t, r = self.rectification(t)
        l = _sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
        adaptive = self._hp(rho_t > 5, x)
        x_new = x - lr * m_hat * np.where(adaptive, self._hp(r, x) * l, 1)
        return x_new, RAdamState(t, m, v)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adadelta": Adadelta,
    "adam": Adam,
    "amsgrad": AMSGrad,
    "adamw": AdamW,
    "nadam": NAdam,
    "adamax": Adamax,
    "radam": RAdam,
}
"""The reference optimizers by lower-case name, in the course's order."""
