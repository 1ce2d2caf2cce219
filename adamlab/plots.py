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


# --- Part 1: effective learning rates of the adaptive methods (notebooks 03-04) ---

__all__ += ["effective_lr", "effective_lr_curve"]


def effective_lr(traj: Trajectory) -> np.ndarray:
    r"""The per-coordinate step size each step applied to its gradient: :math:`\theta_t = \theta_{t-1} - \eta_t g_t`.

    SGD: :math:`\eta_t = \gamma` (momentum aside). AdaGrad: :math:`\gamma_t / (\sqrt{G_t} + \epsilon)` with
    :math:`\gamma_t = \gamma / (1 + (t-1)\,\text{lr\_decay})`. RMSprop: :math:`\gamma / (\sqrt{v_t} + \epsilon)`
    (:math:`\sqrt{v_t - \bar g_t^2}` when centered; with momentum this scales the gradient that enters the
    velocity). Adadelta: :math:`\gamma \sqrt{u_{t-1} + \epsilon} / \sqrt{v_t + \epsilon}`. Returns an array
    shaped like ``traj.grad``, (steps, *batch, d). Needs a run with ``record_state=True`` and no ``schedule``
    (a Trajectory does not record the schedule).
    """
    from adamlab.numpy import SGD, Adadelta, Adagrad, RMSprop

    opt, grad = traj.optimizer, traj.grad

    def hp(value: object) -> np.ndarray:  # (1, *batch, 1...) so that it broadcasts against (steps, *batch, d)
        a = np.asarray(value, dtype=float)
        return a.reshape((1,) + a.shape + (1,) * (grad.ndim - 1 - a.ndim))

    def need(*names: str) -> list[np.ndarray]:
        missing = [n for n in names if n not in traj.state]
        if missing:
            raise ValueError(f"effective_lr needs the optimizer state {missing}: run with record_state=True")
        return [traj.state[n] for n in names]

    lr = hp(opt.lr)
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(opt, SGD):
            out = lr * np.ones_like(grad)
        elif isinstance(opt, Adagrad):
            (G,) = need("G")
            t = np.arange(1, traj.steps + 1).reshape((-1,) + (1,) * (grad.ndim - 1))
            lr_t = lr / (1 + (t - 1) * hp(opt.lr_decay))
            eps = hp(opt.eps)
            out = lr_t / (np.sqrt(G[1:] + eps) if opt.eps_in_sqrt else np.sqrt(G[1:]) + eps)
        elif isinstance(opt, RMSprop):
            (v,) = need("v")
            var = v[1:] - need("g_avg")[0][1:] ** 2 if opt.centered else v[1:]
            eps = hp(opt.eps)
            out = lr / (np.sqrt(var + eps) if opt.eps_in_sqrt else np.sqrt(var) + eps)
        elif isinstance(opt, Adadelta):
            v, u = need("v", "u")
            eps = hp(opt.eps)
            out = lr * np.sqrt(u[:-1] + eps) / np.sqrt(v[1:] + eps)
        else:
            raise ValueError(
                f"effective_lr knows SGD, Adagrad, RMSprop and Adadelta; got {type(opt).__name__} "
                "(Adam-type steps scale the moment m, not the gradient)"
            )
    return np.broadcast_to(out, grad.shape)


def effective_lr_curve(
    traj: Trajectory, ax: Axes | None = None, *, names: Sequence[str] | None = None, color: str | None = None
) -> Axes:
    """The effective learning rate of each coordinate against the step, on a log scale (one 2-D run)."""
    ax = _axes(ax)
    eta = effective_lr(traj)
    if eta.ndim != 2:
        raise ValueError(f"effective_lr_curve draws one run; got steps of shape {eta.shape[1:]}")
    names = names or [f"$\\theta_{{{i + 1}}}$" for i in range(eta.shape[1])]
    styles = ["-", "--", ":", "-."]
    steps = np.arange(1, len(eta) + 1)
    for i, name in enumerate(names):
        ax.semilogy(steps, eta[:, i], styles[i % 4], lw=1.6, color=color, label=f"{label(traj)}: {name}")
    ax.set(xlabel="step $t$", ylabel=r"effective learning rate $\eta_t$ (per coordinate)")
    ax.grid(True, which="major", alpha=0.3)
    return ax


# --- Part 2: moments, bias correction and hyperparameter grids (notebooks 05-10) ---

__all__ += ["moments", "heatmap"]


def moments(
    t: np.ndarray,
    samples: np.ndarray | None,
    estimates: dict[str, np.ndarray],
    truth: float | None = None,
    ax: Axes | None = None,
    *,
    truth_label: str = "truth",
    colors: Sequence[str] | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Noisy samples as faint dots, moving-average estimates as lines and the true value as a dashed line.

    ``estimates`` maps a legend entry to an array shaped like ``t`` (e.g. ``{"$m_t$": m}``). Each artist
    carries its legend entry as ``gid`` ("samples", "truth" for the other two), so an app can find and move it.
    """
    ax = _axes(ax)
    if samples is not None:
        ax.plot(t, samples, ".", ms=2.5, color="0.55", alpha=0.45, label="samples", gid="samples", zorder=1)
    colors = list(colors) if colors is not None else ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    for i, (name, values) in enumerate(estimates.items()):
        ax.plot(t, values, "-", lw=1.8, color=colors[i % len(colors)], label=name, gid=name, zorder=3)
    if truth is not None:
        ax.axhline(truth, ls="--", lw=1.4, color="k", label=truth_label, gid="truth", zorder=2)
    ax.set(xlabel="step $t$", ylabel=ylabel or "", title=title or "")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=9, framealpha=0.9)
    return ax


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around log-spaced centres (geometric midpoints, extended by half a step at both ends)."""
    c = np.log10(np.asarray(centres, dtype=float))
    step = np.diff(c)
    inner = c[:-1] + step / 2
    return 10 ** np.concatenate([[c[0] - step[0] / 2], inner, [c[-1] + step[-1] / 2]])


def heatmap(
    values: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    ax: Axes | None = None,
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    cbar_label: str = "",
    mark: str | None = "row",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """A grid of results over two log-spaced hyperparameters (rows ``ys``, columns ``xs``), lower is better.

    The colour is log10 of ``values``; non-finite cells (diverged runs) are grey. The best cell is a gold star;
    ``mark="row"`` adds a white dot at the best column of each row, ``"col"`` a white triangle at the best row of
    each column, ``"both"`` both.
    """
    from matplotlib import colormaps

    ax = _axes(ax)
    values = np.asarray(values, dtype=float)
    if values.shape != (len(ys), len(xs)):
        raise ValueError(f"values has shape {values.shape}; expected (len(ys), len(xs)) = ({len(ys)}, {len(xs)})")
    finite = np.isfinite(values) & (values > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shown = np.ma.masked_where(~finite, np.log10(np.where(finite, values, 1.0)))
    cmap = colormaps["viridis_r"].copy()
    cmap.set_bad("0.8")
    mesh = ax.pcolormesh(_edges(xs), _edges(ys), shown, cmap=cmap, vmin=vmin, vmax=vmax, shading="flat")
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    ax.figure.colorbar(mesh, ax=ax, label=cbar_label or r"$\log_{10}$ value")
    if finite.any():
        masked = np.where(finite, values, np.inf)
        xs_, ys_ = np.asarray(xs), np.asarray(ys)
        if mark in ("row", "both"):
            rows = np.flatnonzero(finite.any(axis=1))
            best = masked[rows].argmin(axis=1)
            ax.plot(
                xs_[best], ys_[rows], "o", color="w", markeredgecolor="k", ms=6, label="best column per row", zorder=4
            )
        if mark in ("col", "both"):
            cols = np.flatnonzero(finite.any(axis=0))
            best = masked[:, cols].argmin(axis=0)
            ax.plot(
                xs_[cols], ys_[best], "^", color="w", markeredgecolor="k", ms=6, label="best row per column", zorder=4
            )
        i, j = np.unravel_index(np.argmin(masked), masked.shape)
        ax.plot(xs_[j], ys_[i], "*", color="gold", markeredgecolor="k", ms=17, label="best", zorder=5)
    return ax


# --- Part 3: tuning and practice (notebooks 11-15) ---

__all__ += ["sensitivity", "lr_range"]


def sensitivity(
    xs: np.ndarray,
    values: np.ndarray,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    color: str | None = None,
    ls: str = "-",
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    mark_best: bool = True,
    logx: bool = True,
) -> Axes:
    """A sensitivity curve: a result (lower is better) against one hyperparameter, on log axes.

    Non-finite values (diverged runs) are drawn as crosses along the top edge of the axes, so a setting that
    blew up stays visible; ``mark_best`` puts a star on the lowest finite value.
    """
    ax = _axes(ax)
    xs, values = np.asarray(xs, dtype=float), np.asarray(values, dtype=float)
    if xs.shape != values.shape or xs.ndim != 1:
        raise ValueError(f"xs and values must be 1-D of the same length; got {xs.shape} and {values.shape}")
    finite = np.isfinite(values)
    (line,) = ax.plot(xs, np.where(finite, values, np.nan), ls, marker="o", ms=3.5, lw=1.6, color=color, label=label)
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    if (~finite).any():
        ax.plot(
            xs[~finite],
            np.ones(int((~finite).sum())),
            "x",
            color=line.get_color(),
            ms=8,
            mew=2,
            transform=ax.get_xaxis_transform(),  # x in data units, y in axes units: the top edge
            clip_on=False,
            label=f"{label}: diverged" if label else "diverged",
        )
    if mark_best and finite.any():
        i = int(np.nanargmin(np.where(finite, values, np.nan)))
        ax.plot(xs[i], values[i], "*", color="gold", markeredgecolor="k", ms=14, zorder=5)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def lr_range(lrs: np.ndarray, losses: np.ndarray, ax: Axes | None = None, *, suggestion: float | None = None) -> Axes:
    """Smith's learning-rate range test: the loss of one run whose lr grows each step, against that lr.

    The loss first falls faster as the lr grows, bottoms out, then blows up. ``suggestion`` (an lr) is drawn
    as a vertical line; the lowest loss is a star.
    """
    ax = _axes(ax)
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    finite = np.isfinite(losses)
    ax.loglog(lrs[finite], losses[finite], lw=1.6, color="tab:blue", label="loss during the range test")
    if finite.any():
        i = int(np.flatnonzero(finite)[np.argmin(losses[finite])])
        ax.plot(lrs[i], losses[i], "*", color="gold", markeredgecolor="k", ms=14, zorder=5, label="lowest loss")
    if suggestion is not None:
        ax.axvline(suggestion, color="crimson", ls="--", lw=1.4, label=f"suggested lr = {suggestion:.3g}")
    ax.set(xlabel="learning rate (grows every step)", ylabel="loss", title="learning-rate range test")
    ax.grid(True, which="major", alpha=0.3)
    return ax
