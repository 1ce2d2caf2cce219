"""Matplotlib figures from trajectories. Functions take an Axes (or make one) and return it; no widgets here.

Every function that draws a run marks where it diverged, so a blown-up learning rate shows as a cross and a
message instead of an empty plot.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from adamlab.problems import Problem
from adamlab.run import Trajectory

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["contour", "path", "loss_curve", "race", "label"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


@functools.lru_cache(maxsize=32)
def _surface(problem: Problem, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (x0, x1), (y0, y1) = problem.bounds  # type: ignore[misc]
    X, Y = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    Z = problem.f(np.stack([X, Y], axis=-1))
    return X, Y, Z


def contour(problem: Problem, ax: Axes | None = None, *, levels: int = 25, resolution: int = 160) -> Axes:
    """Filled contours of a 2-D problem over its bounds (log-spaced above the minimum), the minimiser a star."""
    if problem.dim != 2 or problem.bounds is None:
        raise ValueError(f"contour needs a 2-D problem with bounds; {problem.name!r} has {problem.dim} coordinates")
    ax = _axes(ax)
    X, Y, Z = _surface(problem, resolution)
    gap = Z - Z.min() + 1e-12 * (1 + abs(Z.min()))
    # log-spaced levels show the floor of a valley and the walls around it in one picture
    lv = np.geomspace(np.percentile(gap, 0.5), gap.max(), levels)
    ax.contourf(X, Y, np.log10(gap), levels=np.log10(lv), cmap="Greys_r", alpha=0.55, extend="both")
    ax.contour(X, Y, np.log10(gap), levels=np.log10(lv), colors="k", linewidths=0.3, alpha=0.5)
    ax.plot(*problem.minimizer, marker="*", color="gold", markeredgecolor="k", markersize=15, zorder=5)
    (x0, x1), (y0, y1) = problem.bounds
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$", title=problem.title)
    return ax


def label(traj: Trajectory) -> str:
    """A short legend entry: the optimizer's class and learning rate (plus momentum for SGD)."""
    opt = traj.optimizer
    text = f"{type(opt).__name__} lr={opt.lr:g}" if np.ndim(opt.lr) == 0 else type(opt).__name__
    momentum = getattr(opt, "momentum", 0)
    if np.ndim(momentum) == 0 and momentum and type(opt).__name__ == "SGD":
        text += f" μ={momentum:g}" + (" nesterov" if opt.nesterov else "")
    return text


def _diverged_note(traj: Trajectory, ax: Axes, color: str | None, at: tuple[float, float] | None) -> None:
    step = int(traj.diverged_at)
    if at is not None:
        ax.plot(*at, marker="X", color=color, markersize=11, markeredgecolor="k", zorder=6)
    stacked = sum(1 for t in ax.texts if t.get_gid() == "diverged")  # one note above the other
    ax.text(
        0.02,
        0.02 + 0.07 * stacked,
        f"{label(traj)} diverged at step {step}",
        gid="diverged",
        transform=ax.transAxes,
        color="crimson",
        fontsize=9,
        va="bottom",
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "crimson"},
    )


def path(traj: Trajectory, ax: Axes | None = None, *, name: str | None = None, color: str | None = None) -> Axes:
    """The path of a 2-D run over the contour plot: start as a circle, end as a square."""
    ax = _axes(ax)
    if traj.x.ndim != 2 or traj.x.shape[1] != 2:
        raise ValueError(f"path draws one 2-D run; got positions of shape {traj.x.shape[1:]}")
    xy = traj.x
    (line,) = ax.plot(xy[:, 0], xy[:, 1], "-", lw=1.6, color=color, label=name or label(traj))
    color = line.get_color()
    ax.plot(*xy[0], "o", color=color, markeredgecolor="k", zorder=6)
    finite = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if traj.diverged:
        _diverged_note(traj, ax, color, tuple(xy[finite[-1]]) if finite.size else None)
    else:
        ax.plot(*xy[-1], "s", color=color, markeredgecolor="k", zorder=6)
    return ax


def loss_curve(traj: Trajectory, ax: Axes | None = None, *, name: str | None = None, color: str | None = None) -> Axes:
    """The suboptimality f(x_t) - f(x*) against the step, on a log scale."""
    ax = _axes(ax)
    gap = np.maximum(traj.gap, 1e-16)
    (line,) = ax.semilogy(np.arange(len(gap)), gap, lw=1.6, color=color, label=name or label(traj))
    if traj.diverged:
        _diverged_note(traj, ax, line.get_color(), None)
    ax.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def race(trajectories: Sequence[Trajectory], *, title: str | None = None) -> Figure:
    """The race picture: every run's path on the contour plot beside their loss curves, one legend."""
    import matplotlib.pyplot as plt

    if not 0 < len(trajectories) <= 20:
        raise ValueError(f"race draws 1 to 20 trajectories, got {len(trajectories)}")
    problem = trajectories[0].problem
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), layout="constrained")
    colors = plt.get_cmap("tab10" if len(trajectories) <= 10 else "tab20").colors
    if problem.dim == 2 and problem.bounds is not None:
        contour(problem, left)
        for traj, c in zip(trajectories, colors, strict=False):
            path(traj, left, color=c)
    else:  # no contour to draw: show the distance to the minimiser instead
        for traj, c in zip(trajectories, colors, strict=False):
            dist = np.linalg.norm(traj.x - problem.minimizer, axis=-1)
            left.semilogy(np.maximum(dist, 1e-16), color=c, label=label(traj))
        left.set(xlabel="step $t$", ylabel=r"$\|x_t - x^\star\|$", title=problem.title)
        left.grid(True, alpha=0.3)
    for traj, c in zip(trajectories, colors, strict=False):
        loss_curve(traj, right, color=c)
    right.set_title(f"${problem.formula}$" if problem.formula else "loss")
    handles, labels = right.get_legend_handles_labels()
    right.legend(handles, labels, loc="upper right", fontsize=9, framealpha=0.9)
    fig.suptitle(title or f"{problem.title}: {trajectories[0].steps} steps", fontsize=13)
    return fig
