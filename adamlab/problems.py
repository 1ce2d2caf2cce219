"""Test problems as data: a loss, its analytic gradient, a start point and a known minimiser.

Every function here is vectorised over leading batch axes: ``x`` of shape ``(..., d)`` (say ``(30, 30, 2)``
for a grid of runs) gives ``f(x)`` of shape ``(...)`` and ``grad(x)`` of shape ``(..., d)``. The dtype of
``x`` is kept (float32 in, float32 out) and inputs are never written to.

Stochastic and online problems also carry ``sample_grad(x, t, rng)``, the gradient an optimizer sees at
step ``t`` (t = 1, 2, ...); ``Problem.gradient`` picks it over the exact ``grad`` when it exists. Where ``x``
holds a batch of points, each point gets its own independent draw, so a batch is a set of independent runs.

    from adamlab import problems
    p = problems.get("quadratic", kappa=100)
    g = p.gradient(p.x0, t=1, rng=np.random.default_rng(0))  # what an optimizer sees at step 1
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "PROBLEMS",
    "Problem",
    "beale",
    "breast_cancer_data",
    "get",
    "logistic_regression",
    "noisy_quadratic",
    "quadratic",
    "quadratic_matrix",
    "rastrigin",
    "reddi",
    "reddi_online_loss",
    "reddi_section5",
    "rosenbrock",
    "saddle",
    "sparse_features",
    "sparse_features_data",
]

Array = np.ndarray


# eq=False: the generated __eq__/__hash__ would compare and hash ndarray fields, which raises; identity is
# the meaningful equality for a problem anyway. Callables are left out of repr so a notebook shows the data.
@dataclass(frozen=True, eq=False)
class Problem:
    """A test problem: loss ``f``, analytic ``grad``, start ``x0`` and a global ``minimizer``.

    ``bounds`` is the plotting box per coordinate (None when d > 2). ``sample_grad`` is the stochastic or
    online gradient at step t (None: deterministic). ``project`` maps onto the feasible set of a constrained
    problem. ``lipschitz`` is the smoothness constant L where it is known. ``online_loss(x, t)`` is the
    per-step loss f_t of an online problem, for regret. ``seed`` seeds the generator ``gradient`` falls
    back to.
    """

    name: str
    title: str
    formula: str
    f: Callable[[Array], Array] = field(repr=False)
    grad: Callable[[Array], Array] = field(repr=False)
    x0: Array
    minimizer: Array
    bounds: tuple[tuple[float, float], ...] | None
    sample_grad: Callable[[Array, int, np.random.Generator], Array] | None = field(default=None, repr=False)
    project: Callable[[Array], Array] | None = field(default=None, repr=False)
    lipschitz: float | None = None
    notes: str = field(default="", repr=False)
    online_loss: Callable[[Array, int], Array] | None = field(default=None, repr=False)
    seed: int = 0

    def __post_init__(self) -> None:
        # Own read-only float64 copies: a shared, writable x0 would let one run's `x -= lr * g` move the
        # start point of every later run.
        for name in ("x0", "minimizer"):
            value = np.array(getattr(self, name), dtype=np.float64)
            if value.ndim != 1:
                raise ValueError(f"{name} must have shape (d,), got {value.shape}")
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        if self.minimizer.shape != self.x0.shape:
            raise ValueError(f"x0 {self.x0.shape} and minimizer {self.minimizer.shape} differ in shape")
        if self.bounds is not None and len(self.bounds) != self.dim:
            raise ValueError(f"bounds has {len(self.bounds)} entries for a {self.dim}-dimensional problem")

    @property
    def dim(self) -> int:
        """Number of coordinates d."""
        return int(self.x0.shape[0])

    @property
    def f_min(self) -> float:
        """The optimal value f(minimizer)."""
        return float(self.f(self.minimizer))

    @property
    def stochastic(self) -> bool:
        """True when an optimizer sees ``sample_grad`` rather than the exact gradient."""
        return self.sample_grad is not None

    def gradient(self, x: Array, t: int = 1, rng: np.random.Generator | None = None) -> Array:
        """The gradient an optimizer sees at step t: ``sample_grad`` if stochastic or online, else ``grad``.

        Without ``rng``, a stochastic problem draws from ``default_rng([seed, t])``: reproducible, and a
        different draw at each step (one fixed generator re-created per call would repeat the same noise).
        """
        if self.sample_grad is None:
            return self.grad(x)
        if rng is None:
            rng = np.random.default_rng([self.seed, t])
        return self.sample_grad(x, t, rng)


def _points(x: Array, d: int) -> Array:
    """``x`` as a float array of shape (..., d): integers become float64, floats keep their dtype."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if x.ndim == 0 or x.shape[-1] != d:
        raise ValueError(f"expected points of shape (..., {d}), got {x.shape}")
    return x


# --- Deterministic 2-D landscapes -------------------------------------------------------------------


def quadratic_matrix(kappa: float = 10.0, angle: float = 30.0) -> Array:
    """A = R diag(1, kappa) Rᵀ with R the rotation by ``angle`` degrees: eigenvalues 1 and kappa."""
    if not kappa >= 1.0:
        raise ValueError(f"kappa is a condition number and must be >= 1, got kappa={kappa}")
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return rotation @ np.diag([1.0, kappa]) @ rotation.T


def _quadratic_f_grad(matrix: Array) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
    def f(x: Array) -> Array:
        x = _points(x, 2)
        return 0.5 * np.einsum("...i,ij,...j->...", x, matrix.astype(x.dtype), x)

    def grad(x: Array) -> Array:
        x = _points(x, 2)
        return x @ matrix.astype(x.dtype)  # A is symmetric, so x A = (A x)ᵀ row by row

    return f, grad


def quadratic(kappa: float = 10.0, angle: float = 30.0) -> Problem:
    """Ill-conditioned quadratic f = ½ xᵀAx, eigenvalues 1 and kappa, eigenvectors rotated by ``angle``°.

    The rotation denies per-coordinate methods (AdaGrad, RMSprop, Adam) the free lunch they get when the
    valley is axis-aligned. ``quadratic_matrix(kappa, angle)`` returns A.
    """
    matrix = quadratic_matrix(kappa, angle)
    f, grad = _quadratic_f_grad(matrix)
    return Problem(
        name="quadratic",
        title=f"Ill-conditioned quadratic (κ = {kappa:g}, rotated {angle:g}°)",
        formula=r"f(x) = \frac{1}{2} x^\top A x,\quad A = R_\theta\, \mathrm{diag}(1, \kappa)\, R_\theta^\top",
        f=f,
        grad=grad,
        # Both eigen-directions are present at x0, so gradient descent with a large step zig-zags across
        # the steep one while crawling along the shallow one.
        x0=np.array([-4.0, 3.0]),
        minimizer=np.zeros(2),
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        lipschitz=float(kappa),
        notes=(
            "The condition number κ = L/μ sets gradient descent's speed: with step 1/L the error shrinks "
            "by (1 − 1/κ) per step, and momentum improves this to about (1 − 1/√κ) (Polyak 1964)."
        ),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Problem:
    """Rosenbrock's banana valley f = (a − x)² + b(y − x²)², minimiser (a, a²) (Rosenbrock 1960)."""

    def f(x: Array) -> Array:
        x = _points(x, 2)
        u, v = x[..., 0], x[..., 1]
        return (a - u) ** 2 + b * (v - u**2) ** 2

    def grad(x: Array) -> Array:
        x = _points(x, 2)
        u, v = x[..., 0], x[..., 1]
        return np.stack([-2 * (a - u) - 4 * b * u * (v - u**2), 2 * b * (v - u**2)], axis=-1)

    # The usual box, widened if a moves the minimiser outside it.
    bounds = ((min(-2.0, a - 1.0), max(2.0, a + 1.0)), (min(-1.0, a * a - 1.0), max(3.0, a * a + 1.0)))
    return Problem(
        name="rosenbrock",
        title="Rosenbrock's valley",
        formula=rf"f(x, y) = ({a:g} - x)^2 + {b:g}\,(y - x^2)^2",
        f=f,
        grad=grad,
        x0=np.array([-1.2, 1.0]),  # Rosenbrock's own start point
        minimizer=np.array([a, a * a]),
        bounds=bounds,
        notes=(
            "Finding the curved valley is easy; following it to the minimum is slow, because the valley "
            "floor is nearly flat while its walls are steep. H. H. Rosenbrock, The Computer Journal 3 (1960)."
        ),
    )


def beale() -> Problem:
    """Beale's function, minimiser (3, 0.5) with f = 0 (Beale 1958)."""
    consts = (1.5, 2.25, 2.625)

    def f(x: Array) -> Array:
        x = _points(x, 2)
        u, v = x[..., 0], x[..., 1]
        return sum((c - u + u * v ** (k + 1)) ** 2 for k, c in enumerate(consts))

    def grad(x: Array) -> Array:
        x = _points(x, 2)
        u, v = x[..., 0], x[..., 1]
        gu = np.zeros_like(u)
        gv = np.zeros_like(v)
        for k, c in enumerate(consts):
            r = c - u + u * v ** (k + 1)  # residual of term k; d/du = v^(k+1) − 1, d/dv = (k+1) u v^k
            gu = gu + 2 * r * (v ** (k + 1) - 1)
            gv = gv + 2 * r * (k + 1) * u * v**k
        return np.stack([gu, gv], axis=-1)

    return Problem(
        name="beale",
        title="Beale's function",
        formula=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        f=f,
        grad=grad,
        x0=np.array([1.0, 1.5]),
        minimizer=np.array([3.0, 0.5]),
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        notes=(
            "Flat plateaus next to sharp ridges: gradients span orders of magnitude, which is where "
            "per-coordinate step sizes earn their keep. E. M. L. Beale, On an iterative method for finding "
            "a local minimum of a function of more than one variable (1958)."
        ),
    )


def saddle() -> Problem:
    """f = x²/2 + y⁴/4 − y²/2: a saddle at the origin, minima at (0, ±1) with f = −1/4."""

    def f(x: Array) -> Array:
        x = _points(x, 2)
        u, v = x[..., 0], x[..., 1]
        return 0.5 * u**2 + 0.25 * v**4 - 0.5 * v**2

    def grad(x: Array) -> Array:
        x = _points(x, 2)
        u, v = x[..., 0], x[..., 1]
        return np.stack([u, v**3 - v], axis=-1)

    return Problem(
        name="saddle",
        title="Escaping a saddle point",
        formula=r"f(x, y) = \frac{1}{2} x^2 + \frac{1}{4} y^4 - \frac{1}{2} y^2",
        f=f,
        grad=grad,
        # Just off the saddle's stable manifold (the x-axis): gradient descent first slides to the saddle,
        # where y grows only by a factor (1 + lr) per step, and lingers there before falling to (0, 1).
        x0=np.array([2.0, 1e-3]),
        minimizer=np.array([0.0, 1.0]),
        bounds=((-2.5, 2.5), (-2.0, 2.0)),
        notes=(
            "Near a saddle the gradient is tiny in every direction, so plain gradient descent stalls; "
            "momentum and sign-like adaptive steps (Adam) escape much sooner. The other minimum is (0, −1)."
        ),
    )


def rastrigin(A: float = 10.0, dim: int = 2) -> Problem:
    """Rastrigin's function f = A·d + Σ (x_i² − A cos 2πx_i), global minimiser 0 (Rastrigin 1974)."""
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got dim={dim}")

    def f(x: Array) -> Array:
        x = _points(x, dim)
        return A * dim + np.sum(x**2 - A * np.cos(2 * np.pi * x), axis=-1)

    def grad(x: Array) -> Array:
        x = _points(x, dim)
        return 2 * x + 2 * np.pi * A * np.sin(2 * np.pi * x)

    return Problem(
        name="rastrigin",
        title="Rastrigin's function",
        formula=rf"f(x) = {A:g}\,d + \sum_i \left(x_i^2 - {A:g} \cos 2\pi x_i\right)",
        f=f,
        grad=grad,
        x0=np.resize(np.array([-3.3, 2.7]), dim),  # between local minima, so the first gradient is not zero
        minimizer=np.zeros(dim),
        bounds=((-5.12, 5.12),) * dim if dim <= 2 else None,
        lipschitz=2.0 + 4 * np.pi**2 * A,  # Hessian is diag(2 + 4π²A cos 2πx_i)
        notes=(
            "A grid of local minima: gradient methods find the nearest one, not the global one, whatever "
            "their step rule. L. A. Rastrigin, Systems of Extremal Control (1974)."
        ),
    )


# --- Stochastic problems ----------------------------------------------------------------------------


def noisy_quadratic(kappa: float = 10.0, sigma: float = 1.0, angle: float = 0.0) -> Problem:
    """The quadratic ½ xᵀAx seen through noisy gradients A x + σ ξ, ξ standard normal.

    Axis-aligned by default (``angle=0``), the setting of the noisy quadratic model used to study batch size
    and preconditioning (Zhang et al. 2019); pass ``angle`` to rotate it like ``quadratic``.
    """
    if not sigma >= 0.0:
        raise ValueError(f"sigma must be >= 0, got sigma={sigma}")
    matrix = quadratic_matrix(kappa, angle)
    f, grad = _quadratic_f_grad(matrix)

    def sample_grad(x: Array, t: int, rng: np.random.Generator) -> Array:
        x = _points(x, 2)
        return grad(x) + (sigma * rng.standard_normal(x.shape)).astype(x.dtype)

    return Problem(
        name="noisy_quadratic",
        title=f"Noisy quadratic (κ = {kappa:g}, σ = {sigma:g})",
        formula=r"f(x) = \frac{1}{2} x^\top A x,\quad \hat g = A x + \sigma \xi,\ \xi \sim \mathcal{N}(0, I)",
        f=f,
        grad=grad,
        x0=np.array([-4.0, 3.0]),
        minimizer=np.zeros(2),
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        sample_grad=sample_grad,
        lipschitz=float(kappa),
        notes=(
            "With a constant step, SGD stops at a noise floor around the minimiser whose size grows with "
            "lr·σ²; averaging (momentum, Adam's m) or a decaying step shrinks it. Zhang et al., Which "
            "Algorithmic Choices Matter at Which Batch Sizes? (NeurIPS 2019)."
        ),
    )


_SPARSE_W_TRUE = np.array([1.0, 2.0])
_SPARSE_BATCH = 10


def sparse_features_data(n: int = 1000, p_rare: float = 0.05, seed: int = 0) -> tuple[Array, Array]:
    """The design matrix (n, 2) and targets (n,) of ``sparse_features``.

    Feature 0 is 1 in every example; feature 1 is 1 in exactly round(p_rare·n) examples (at least one),
    chosen at random, and 0 elsewhere. y = A w* + 0.1·noise with w* = (1, 2).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got n={n}")
    if not 0.0 < p_rare <= 1.0:
        raise ValueError(f"p_rare must be in (0, 1], got p_rare={p_rare}")
    rng = np.random.default_rng(seed)
    # An exact count rather than Bernoulli draws: the rare feature is then guaranteed to occur, so the
    # least-squares minimiser is unique for any n and p_rare.
    n_rare = max(1, round(p_rare * n))
    design = np.zeros((n, 2))
    design[:, 0] = 1.0
    design[rng.choice(n, size=n_rare, replace=False), 1] = 1.0
    targets = design @ _SPARSE_W_TRUE + 0.1 * rng.standard_normal(n)
    return design, targets


def sparse_features(n: int = 1000, p_rare: float = 0.05, seed: int = 0) -> Problem:
    """Least squares with one common and one rare feature; mini-batch gradients of 10 examples.

    The rare coordinate's gradient is zero in most mini-batches and small when it is not: the case where
    AdaGrad's per-coordinate rates help (Duchi, Hazan & Singer 2011).
    """
    design, targets = sparse_features_data(n, p_rare, seed)

    def f(x: Array) -> Array:
        x = _points(x, 2)
        residual = x @ design.T.astype(x.dtype) - targets.astype(x.dtype)  # (..., n)
        return 0.5 * np.mean(residual**2, axis=-1)

    def grad(x: Array) -> Array:
        x = _points(x, 2)
        a = design.astype(x.dtype)
        residual = x @ a.T - targets.astype(x.dtype)
        return residual @ a / n

    def sample_grad(x: Array, t: int, rng: np.random.Generator) -> Array:
        x = _points(x, 2)
        idx = rng.integers(0, n, size=x.shape[:-1] + (_SPARSE_BATCH,))  # with replacement: unbiased
        a = design[idx].astype(x.dtype)  # (..., B, 2)
        residual = np.einsum("...bd,...d->...b", a, x) - targets[idx].astype(x.dtype)
        return np.einsum("...bd,...b->...d", a, residual) / _SPARSE_BATCH

    minimizer = np.linalg.lstsq(design, targets, rcond=None)[0]
    x0 = np.zeros(2)
    lo = np.floor(np.minimum(x0, minimizer) - 1.0)
    hi = np.ceil(np.maximum(x0, minimizer) + 1.0)
    return Problem(
        name="sparse_features",
        title=f"Sparse features (rare feature in {p_rare:.0%} of examples)",
        formula=r"f(w) = \frac{1}{2n} \sum_{i=1}^n (a_i^\top w - y_i)^2",
        f=f,
        grad=grad,
        x0=x0,
        minimizer=minimizer,
        bounds=((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))),
        sample_grad=sample_grad,
        lipschitz=float(np.linalg.eigvalsh(design.T @ design / n)[-1]),
        notes=(
            "One learning rate cannot suit both coordinates: small enough for the frequent feature, it "
            "leaves the rare one nearly frozen. Duchi, Hazan & Singer, Adaptive Subgradient Methods, "
            "JMLR 12 (2011)."
        ),
        seed=seed,
    )


@functools.lru_cache(maxsize=1)
def breast_cancer_data() -> tuple[Array, Array]:
    """scikit-learn's breast-cancer data, standardised, with a bias column: X (569, 31), y (569,) in {0, 1}.

    The arrays are cached and read-only; copy them before editing.
    """
    from sklearn.datasets import load_breast_cancer  # lazy: scikit-learn is a course extra and slow to import

    data = load_breast_cancer()
    features = np.asarray(data.data, dtype=np.float64)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    design = np.hstack([features, np.ones((features.shape[0], 1))])
    labels = np.asarray(data.target, dtype=np.float64)
    design.setflags(write=False)
    labels.setflags(write=False)
    return design, labels


def _sigmoid(z: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # equals 1/(1+e^-z) without overflow for large |z|


@functools.lru_cache(maxsize=16)
def _logistic_minimizer(l2: float) -> Array:
    """Newton's method from 0 until ‖∇f‖ < 1e-10; l2 > 0 makes f strongly convex, so it converges fast."""
    design, labels = breast_cancer_data()
    n, d = design.shape
    w = np.zeros(d)
    for _ in range(100):
        s = _sigmoid(design @ w)
        g = design.T @ (s - labels) / n + l2 * w
        if np.linalg.norm(g) < 1e-10:
            w.setflags(write=False)
            return w
        hessian = (design.T * (s * (1 - s))) @ design / n + l2 * np.eye(d)
        w = w - np.linalg.solve(hessian, g)
    raise RuntimeError(f"Newton's method did not converge for l2={l2}")


def logistic_regression(l2: float = 1e-2, batch_size: int = 32, seed: int = 0) -> Problem:
    """L2-regularised logistic regression on scikit-learn's breast-cancer data (d = 30 features + bias).

    f(w) = mean log-loss + l2/2·‖w‖² (the bias is regularised too, so f is strongly convex).
    ``sample_grad`` is the gradient on ``batch_size`` examples drawn with replacement. The data set is fixed;
    ``seed`` only seeds the generator ``Problem.gradient`` uses when no ``rng`` is given.
    """
    if not l2 > 0.0:
        raise ValueError(f"l2 must be > 0 (unregularised, these data may have no minimiser), got l2={l2}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got batch_size={batch_size}")
    design, labels = breast_cancer_data()
    n, d = design.shape

    def f(x: Array) -> Array:
        x = _points(x, d)
        z = x @ design.T.astype(x.dtype)  # (..., n)
        # log(1 + e^z) − y z is the log-loss of sigmoid(z) against y ∈ {0, 1}; logaddexp keeps it finite.
        loss = np.mean(np.logaddexp(0, z) - labels.astype(x.dtype) * z, axis=-1)
        return loss + 0.5 * l2 * np.sum(x**2, axis=-1)

    def grad(x: Array) -> Array:
        x = _points(x, d)
        a = design.astype(x.dtype)
        return (_sigmoid(x @ a.T) - labels.astype(x.dtype)) @ a / n + l2 * x

    def sample_grad(x: Array, t: int, rng: np.random.Generator) -> Array:
        x = _points(x, d)
        idx = rng.integers(0, n, size=x.shape[:-1] + (batch_size,))
        a = design[idx].astype(x.dtype)  # (..., B, d)
        error = _sigmoid(np.einsum("...bd,...d->...b", a, x)) - labels[idx].astype(x.dtype)
        return np.einsum("...bd,...b->...d", a, error) / batch_size + l2 * x

    hessian_bound = np.linalg.eigvalsh(design.T @ design / n)[-1] / 4  # sigmoid' <= 1/4
    return Problem(
        name="logistic_regression",
        title=f"Logistic regression on breast cancer (λ = {l2:g}, batch {batch_size})",
        formula=r"f(w) = \frac{1}{n} \sum_{i=1}^n \left[\log(1 + e^{a_i^\top w}) - y_i a_i^\top w\right]"
        r" + \frac{\lambda}{2}\|w\|^2",
        f=f,
        grad=grad,
        x0=np.zeros(d),
        minimizer=_logistic_minimizer(float(l2)),
        bounds=None,
        sample_grad=sample_grad,
        lipschitz=float(hessian_bound + l2),
        notes=(
            "A real, small, convex training problem: 569 examples, 31 weights, mini-batch gradients. "
            "Data: Wolberg, Street & Mangasarian, Breast Cancer Wisconsin (Diagnostic), UCI (1995)."
        ),
        seed=seed,
    )


# --- Online counterexamples (Reddi, Kale & Kumar 2018) ----------------------------------------------


def _periodic_online(big: float, small: float, period: int) -> tuple[Callable, Callable]:
    """f_t(x) = big·x when t mod period == 1, else −small·x; returns (online_loss, online_grad)."""

    def slope(t: int) -> float:
        return big if t % period == 1 else -small

    def online_loss(x: Array, t: int) -> Array:
        x = _points(x, 1)
        return slope(t) * x[..., 0]

    def online_grad(x: Array, t: int, rng: np.random.Generator | None = None) -> Array:
        x = _points(x, 1)
        return np.full_like(x, slope(t))

    return online_loss, online_grad


def _online_problem(name: str, title: str, formula: str, big: float, small: float, period: int, notes: str) -> Problem:
    online_loss, online_grad = _periodic_online(big, small, period)
    mean_slope = (big - (period - 1) * small) / period  # the average loss per step is mean_slope·x

    def f(x: Array) -> Array:
        x = _points(x, 1)
        return mean_slope * x[..., 0]

    def grad(x: Array) -> Array:
        x = _points(x, 1)
        return np.full_like(x, mean_slope)

    def project(x: Array) -> Array:
        return np.clip(_points(x, 1), -1.0, 1.0)

    return Problem(
        name=name,
        title=title,
        formula=formula,
        f=f,
        grad=grad,
        # Start at the wrong end, +1: the paper's point is that Adam stays there (its iterates go to +1),
        # while AMSGrad travels to the minimiser −1.
        x0=np.array([1.0]),
        minimizer=np.array([-1.0]),
        bounds=((-1.0, 1.0),),
        sample_grad=online_grad,
        project=project,
        lipschitz=None,  # f is linear (L = 0): step rules of the form 1/L do not apply
        notes=notes,
        online_loss=online_loss,
    )


def reddi(C: float = 3.0) -> Problem:
    """Reddi, Kale & Kumar (2018), Theorem 1: on [−1, 1], f_t(x) = C·x when t mod 3 == 1, else −x; C > 2.

    ``sample_grad(x, t, rng)`` is the online gradient of f_t (rng is ignored), ``f`` the average loss per
    step (C − 2)/3·x, minimised at −1; ``online_loss(x, t)`` is f_t itself, for the regret
    Σ_t f_t(x_t) − f_t(−1). With β1 = 0 and β2 = 1/(1 + C²), Adam converges to +1.
    """
    if not C > 2:
        raise ValueError(f"C must be > 2 (otherwise the average loss does not favour -1), got C={C}")
    return _online_problem(
        name="reddi",
        title=f"Reddi et al.'s counterexample to Adam (C = {C:g})",
        formula=rf"f_t(x) = {C:g}\,x\ \mathrm{{if}}\ t\ \mathrm{{mod}}\ 3 = 1,\ \mathrm{{else}}\ -x,"
        r"\quad x \in [-1, 1]",
        big=float(C),
        small=1.0,
        period=3,
        notes=(
            "The rare large gradient C is forgotten by Adam's exponential average of g² before it recurs, "
            "so the frequent small gradients win and Adam drifts to the worst point, +1; AMSGrad's running "
            "max of v fixes this. Reddi, Kale & Kumar, On the Convergence of Adam and Beyond, ICLR 2018, "
            "Theorem 1."
        ),
    )


def reddi_section5() -> Problem:
    """Reddi, Kale & Kumar (2018), §5 synthetic experiment: f_t = 1010x when t mod 101 == 1, else −10x."""
    return _online_problem(
        name="reddi_section5",
        title="Reddi et al.'s synthetic experiment (§5)",
        formula=r"f_t(x) = 1010\,x\ \mathrm{if}\ t\ \mathrm{mod}\ 101 = 1,\ \mathrm{else}\ -10\,x,\quad x \in [-1, 1]",
        big=1010.0,
        small=10.0,
        period=101,
        notes=(
            "The §5 version of the counterexample, run with β1 = 0.9, β2 = 0.99: it needs about 1e5 steps "
            "and α_t ≥ 0.5/√t to show Adam settling at +1. Reddi, Kale & Kumar, ICLR 2018, §5."
        ),
    )


def reddi_online_loss(x: Array, t: int, C: float = 3.0) -> Array:
    """f_t(x) of ``reddi(C)``: C·x when t mod 3 == 1, else −x; x of shape (..., 1) gives shape (...)."""
    if not C > 2:
        raise ValueError(f"C must be > 2, got C={C}")
    return _periodic_online(float(C), 1.0, 3)[0](x, t)


# --- Registry -------------------------------------------------------------------------------------

PROBLEMS: dict[str, Callable[..., Problem]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "saddle": saddle,
    "rastrigin": rastrigin,
    "noisy_quadratic": noisy_quadratic,
    "sparse_features": sparse_features,
    "logistic_regression": logistic_regression,
    "reddi": reddi,
    "reddi_section5": reddi_section5,
}


def get(name: str, **kwargs) -> Problem:
    """The problem registered under ``name``, built with ``kwargs`` (e.g. ``get("quadratic", kappa=100)``)."""
    try:
        factory = PROBLEMS[name]
    except KeyError:
        raise ValueError(f"unknown problem {name!r}; valid names: {', '.join(sorted(PROBLEMS))}") from None
    return factory(**kwargs)
