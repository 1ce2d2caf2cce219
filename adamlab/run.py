"""run(optimizer, problem, steps) -> Trajectory: the one seam that plots, widgets, the CLI and tests use.

A run records every position, loss, gradient and optimizer state, so a notebook can plot the path, the loss,
or the moments m and v that produced it. Runs are seeded: the same call gives the same numbers. A batched
optimizer (array hyperparameters, see adamlab.numpy) runs its whole grid in one call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from adamlab.numpy import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    AMSGrad,
    NAdam,
    Optimizer,
    RAdam,
    RMSprop,
)
from adamlab.problems import Problem

__all__ = ["Trajectory", "run", "preset", "PRESET_NAMES"]


@dataclass(frozen=True, eq=False)
class Trajectory:
    """What one run (or one grid of runs) did, step by step.

    Arrays have the step axis first, then the batch axes of a batched optimizer, then the problem's axis:
    ``x`` is (steps + 1, *batch, d), ``loss`` (steps + 1, *batch), ``grad`` (steps, *batch, d) the gradient
    the optimizer saw at each step, ``state[name]`` (steps + 1, ...) each state field of the optimizer
    (``m``, ``v``, ``v_max``, ...). After a run diverges (a non-finite loss or |x| > ``limit``) its
    positions and losses are NaN; ``diverged_at`` holds the step at which that happened, or -1.
    """

    optimizer: Optimizer
    problem: Problem
    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    state: dict[str, np.ndarray]
    diverged_at: np.ndarray

    @property
    def steps(self) -> int:
        return self.grad.shape[0]

    @property
    def diverged(self) -> np.ndarray | bool:
        d = self.diverged_at >= 0
        return bool(d) if np.ndim(d) == 0 else d

    @property
    def final_x(self) -> np.ndarray:
        return self.x[-1]

    @property
    def final_loss(self) -> np.ndarray | float:
        last = self.loss[-1]
        return float(last) if np.ndim(last) == 0 else last

    @property
    def gap(self) -> np.ndarray:
        """Suboptimality f(x_t) - f(x*), the quantity loss curves plot on a log scale."""
        return self.loss - self.problem.f_min

    def head(self, steps: int) -> Trajectory:
        """The first ``steps`` steps of this run: what ``run`` returns when asked for that many steps.

        Runs are deterministic (seeded), so a shorter run is the start of a longer one; the widgets use this
        to show fewer steps without running the optimizer again.
        """
        if int(steps) != steps or not 0 <= steps <= self.steps:
            raise ValueError(f"steps must be an integer from 0 to {self.steps}, got {steps!r}")
        steps = int(steps)
        if steps == self.steps:
            return self
        return dataclasses.replace(
            self,
            x=self.x[: steps + 1],
            loss=self.loss[: steps + 1],
            grad=self.grad[:steps],
            state={k: v[: steps + 1] for k, v in self.state.items()},
            diverged_at=np.where(self.diverged_at > steps, -1, self.diverged_at),
        )


def run(
    optimizer: Optimizer,
    problem: Problem,
    steps: int,
    *,
    x0: np.ndarray | None = None,
    seed: int = 0,
    stochastic: bool = True,
    schedule: Callable[[int], float] | None = None,
    record_state: bool = True,
    limit: float = 1e6,
) -> Trajectory:
    """Run ``optimizer`` on ``problem`` for ``steps`` steps from ``x0`` (default: the problem's start).

    ``stochastic=False`` uses the exact gradient of a stochastic problem. ``schedule(t)`` multiplies the
    learning rate at step t (t = 1, 2, ...), e.g. ``lambda t: 1 / np.sqrt(t)`` for Reddi et al.'s
    alpha_t = alpha / sqrt(t). A constrained problem's projection is applied after every step.
    """
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    steps = int(steps)
    batch = optimizer.batch_shape
    x = np.array(problem.x0 if x0 is None else x0, dtype=np.float64)
    if x.shape[-1:] != (problem.dim,):
        raise ValueError(f"x0 has shape {x.shape}; the problem {problem.name!r} has {problem.dim} coordinates")
    x = np.broadcast_to(x, np.broadcast_shapes(batch + (problem.dim,), x.shape)).copy()
    rng = np.random.default_rng(seed)
    state = optimizer.init(x)

    xs = np.empty((steps + 1, *x.shape))
    grads = np.empty((steps, *x.shape))
    losses = np.empty((steps + 1, *x.shape[:-1]))
    states = {k: [v] for k, v in state._asdict().items() if k != "t" and v is not None} if record_state else {}
    diverged_at = np.full(x.shape[:-1], -1)
    xs[0], losses[0] = x, problem.f(x)

    with np.errstate(all="ignore"):  # a diverging run is data to show, not a warning to print
        for t in range(1, steps + 1):
            g = problem.gradient(x, t, rng) if stochastic else problem.grad(x)
            opt = optimizer if schedule is None else dataclasses.replace(optimizer, lr=optimizer.lr * schedule(t))
            x, state = opt.step(x, g, state)
            if problem.project is not None:
                x = problem.project(x)
            loss = problem.f(x)
            bad = ~np.isfinite(loss) | np.any(~(np.abs(x) <= limit), axis=-1)
            if np.any(bad):  # (checked first: most steps of most runs are fine, and this loop is the hot path)
                diverged_at = np.where(bad & (diverged_at < 0), t, diverged_at)
                x = np.where(bad[..., None], np.nan, x)
                loss = np.where(bad, np.nan, loss)
            xs[t], losses[t], grads[t - 1] = x, loss, g
            for k in states:
                states[k].append(getattr(state, k))

    return Trajectory(
        optimizer=optimizer,
        problem=problem,
        x=xs,
        loss=losses,
        grad=grads,
        state={k: np.stack([np.asarray(v) for v in vs]) for k, vs in states.items()},
        diverged_at=diverged_at,
    )


# Racers: the optimizers by the names the CLI and the widgets use, with learning rates that make a fair
# race on the 2-D test functions, picked from lr sweeps on Rosenbrock and Beale (torch's defaults, e.g. Adam's
# 1e-3, barely move in a few hundred steps). RAdam's lr is small: its first steps are unnormalised momentum.
_PRESETS: dict[str, tuple[type[Optimizer], float, dict]] = {
    "sgd": (SGD, 2e-3, {}),
    "momentum": (SGD, 1e-3, {"momentum": 0.9}),
    "nesterov": (SGD, 1e-3, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (Adagrad, 0.5, {}),
    "rmsprop": (RMSprop, 3e-2, {}),
    "adadelta": (Adadelta, 1.0, {}),
    "adam": (Adam, 0.1, {}),
    "amsgrad": (AMSGrad, 0.1, {}),
    "adamw": (AdamW, 0.1, {}),
    "nadam": (NAdam, 0.05, {}),
    "adamax": (Adamax, 0.1, {}),
    "radam": (RAdam, 3e-3, {}),
}
PRESET_NAMES: tuple[str, ...] = tuple(_PRESETS)


def preset(name: str, lr: float | None = None) -> Optimizer:
    """A racer by name ("sgd", "momentum", "nesterov", "adagrad", ..., "radam"), optionally with its lr."""
    try:
        cls, default_lr, options = _PRESETS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(PRESET_NAMES)}") from None
    return cls(lr=default_lr if lr is None else lr, **options)
