"""ipywidgets apps for the notebooks: each ``*_app()`` wires sliders to ``adamlab.run.run`` and ``adamlab.plots``.

An app returns an ``ipywidgets.VBox`` whose controls are ordinary ipywidgets. Each change of a control runs
the optimizer again, updates the figure's artists in place and re-renders the figure as a PNG into an
``ipywidgets.Image``, which works in JupyterLab without ipympl and in headless tests. The figure is a bare
``matplotlib.figure.Figure`` on an Agg canvas, never registered with pyplot, so a later ``plt.show()`` in the
notebook cannot show it a second time.

For tests and curious learners the returned widget carries what it computed:

- ``app.controls``: the controls by name (``app.controls["lr"].value = 0.1`` updates the app);
- ``app.trajectories``: the runs behind the picture by name, ``app.trajectory`` the main one;
- ``app.lines``: the Line2D artists by name, whose data are the runs' positions, gaps and step sizes;
- ``app.readout``: an ``ipywidgets.HTML`` with the numbers the kernel computed (final gap, divergence);
- ``app.figure``, ``app.image`` (its ``value`` holds the PNG bytes) and ``app.update()``.

ipywidgets and matplotlib are imported inside the functions, so ``import adamlab`` stays fast.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from adamlab import plots, problems
from adamlab.numpy import SGD, Adagrad, RMSprop
from adamlab.problems import Problem
from adamlab.run import Trajectory, run

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes

__all__ = ["lr_app", "momentum_app", "adagrad_app", "rmsprop_app"]  # later parts extend this list

# --------------------------------------------------------------------------------------------------------------
# Shared plumbing: a figure shown as a PNG, artists updated in place, controls with readable labels.

_DPI = 80
_STYLE = {"description_width": "200px"}
_WIDTH = "520px"
_TINY = 1e-16  # floor for log-scale gaps: an exact 0 would vanish from the plot


class _Canvas:
    """A matplotlib Figure on an Agg canvas, shown as PNG bytes in an ipywidgets.Image."""

    def __init__(self, ncols: int, figsize: tuple[float, float]) -> None:
        import ipywidgets as w
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, dpi=_DPI, layout="constrained")
        FigureCanvasAgg(self.figure)
        axes = self.figure.subplots(1, ncols)
        self.axes: list[Axes] = list(np.atleast_1d(axes))
        self.image = w.Image(format="png", layout={"width": f"{int(figsize[0] * _DPI)}px"})
        self._laid_out = False

    def relayout(self) -> None:
        """Let constrained layout place the axes again at the next render (titles or tick labels changed)."""
        self._laid_out = False

    def render(self) -> None:
        # Constrained layout costs ~40 ms a draw: compute it once, then freeze the positions.
        if not self._laid_out:
            self.figure.set_layout_engine("constrained")
        buf = io.BytesIO()
        # one draw of the canvas, then a fast PNG encoding (level 1: a third of the time of the default 6)
        self.figure.canvas.print_png(buf, pil_kwargs={"compress_level": 1})
        if not self._laid_out:
            self.figure.set_layout_engine("none")
            self._laid_out = True
        self.image.value = buf.getvalue()


class _LivePath:
    """A run's path on a contour plot, drawn like plots.path (start a circle, end a square, divergence an X)."""

    def __init__(self, ax: Axes, color: str, *, ls: str = "-", lw: float = 1.6, alpha: float = 1.0) -> None:
        (self.line,) = ax.plot([], [], ls, lw=lw, color=color, alpha=alpha, zorder=4)
        # clip_on=False: a run that leaves the picture still shows its cross, whole, at the edge
        kw = {"color": color, "markeredgecolor": "k", "zorder": 6, "alpha": alpha, "clip_on": False}
        (self.start,) = ax.plot([], [], "o", **kw)
        (self.end,) = ax.plot([], [], "s", **kw)
        (self.cross,) = ax.plot([], [], "X", markersize=11, **kw)
        for marker in (self.start, self.end, self.cross):
            marker.set_in_layout(False)  # unclipped, an empty marker would make the layout reserve the corner
        self.ax = ax

    def update(self, traj: Trajectory, name: str) -> None:
        xy = traj.x
        self.line.set_data(xy[:, 0], xy[:, 1])
        self.line.set_label(name)
        self.start.set_data([xy[0, 0]], [xy[0, 1]])
        finite = np.flatnonzero(np.isfinite(xy).all(axis=1))
        last = xy[finite[-1]]
        (x0, x1), (y0, y1) = self.ax.get_xlim(), self.ax.get_ylim()
        clipped = [float(np.clip(last[0], x0, x1)), float(np.clip(last[1], y0, y1))]
        out = clipped != [float(last[0]), float(last[1])]
        # A run that blew up, or left the picture, ends in a cross at the edge where it was last seen.
        end, other = (self.cross, self.end) if traj.diverged or out else (self.end, self.cross)
        end.set_data([clipped[0]], [clipped[1]])
        other.set_data([], [])


class _LiveCurve:
    """A semilog line, drawn like plots.loss_curve; ``update`` sets its data (zeros floored at 1e-16)."""

    def __init__(self, ax: Axes, color: str, *, ls: str = "-", lw: float = 1.6, alpha: float = 1.0) -> None:
        (self.line,) = ax.plot([], [], ls, lw=lw, color=color, alpha=alpha)
        ax.set_yscale("log")

    def update(self, x: np.ndarray, y: np.ndarray, name: str) -> None:
        self.line.set_data(x, np.maximum(y, _TINY))
        self.line.set_label(name)


def _fit_log(ax: Axes, x_max: float, *arrays: np.ndarray) -> None:
    """Fit a log-scale axes to the finite positive values of the arrays (no warning on NaN or inf)."""
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values)]
    values = np.maximum(values, _TINY)
    lo, hi = (values.min(), values.max()) if values.size else (1e-3, 1.0)
    if hi <= lo * 10:
        lo, hi = lo / 3, hi * 3
    ax.set_ylim(lo / 2, hi * 2)
    ax.set_xlim(0, max(x_max, 1))


def _lighten(*axes: Axes) -> None:
    """Cheaper redraws: no minor ticks on log axes, and titles pinned above the axes (placing a title
    automatically measures every tick label at every draw)."""
    from matplotlib.ticker import NullLocator

    for ax in axes:
        if ax.get_yscale() == "log":
            ax.yaxis.set_minor_locator(NullLocator())
        ax.set_title(ax.get_title(), y=1.0)


def _note(ax: Axes) -> Any:
    """An empty text box in the corner of ax, for "diverged at step N" (styled like plots' divergence note)."""
    return ax.text(
        0.02,
        0.02,
        "",
        transform=ax.transAxes,
        color="crimson",
        fontsize=9,
        va="bottom",
        zorder=10,
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "crimson"},
        visible=False,
    )


def _set_note(note: Any, lines: Sequence[str]) -> None:
    note.set_text("\n".join(lines))
    note.set_visible(bool(lines))


def _diverged_lines(runs: dict[str, Trajectory]) -> list[str]:
    return [f"{name} diverged at step {int(tr.diverged_at)}" for name, tr in runs.items() if tr.diverged]


def _gap_text(traj: Trajectory, window: int = 1) -> str:
    """The text "diverged at step N", or the final gap (averaged over the last `window` steps for noisy runs)."""
    if traj.diverged:
        return f"<b style='color:crimson'>diverged at step {int(traj.diverged_at)}</b>"
    return f"f(x<sub>t</sub>) − f* = {float(np.mean(traj.gap[-window:])):.2e}"


def _steps_to(traj: Trajectory, tol: float = 1e-6) -> int | None:
    """First step after which the gap stays below tol times the starting gap (None if it never does)."""
    rel = traj.gap / traj.gap[0]
    bad = np.flatnonzero(~(rel < tol))
    if bad.size == 0:
        return 0
    return None if bad[-1] + 1 > traj.steps else int(bad[-1] + 1)


def _memo(cache: dict, key: tuple, compute: Callable[[], Trajectory]) -> Trajectory:
    """A comparison run that the moved control does not affect is computed once (runs are deterministic)."""
    if key not in cache:
        if len(cache) >= 32:
            cache.clear()
        cache[key] = compute()
    return cache[key]


def _log_slider(description: str, value: float, lo: float, hi: float, fmt: str = ".3g") -> ipywidgets.Widget:
    import ipywidgets as w

    return w.FloatLogSlider(
        value=value,
        base=10,
        min=float(np.log10(lo)),
        max=float(np.log10(hi)),
        step=0.01,
        description=description,
        readout_format=fmt,
        continuous_update=False,
        style=_STYLE,
        layout={"width": _WIDTH},
    )


def _slider(description: str, value: float, lo: float, hi: float, step: float, fmt: str = ".2f") -> ipywidgets.Widget:
    import ipywidgets as w

    cls = w.IntSlider if all(isinstance(v, int) for v in (value, lo, hi, step)) else w.FloatSlider
    kw = {} if cls is w.IntSlider else {"readout_format": fmt}
    return cls(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=False,
        style=_STYLE,
        layout={"width": _WIDTH},
        **kw,
    )


def _choice(description: str, options: Sequence[Any], value: Any) -> ipywidgets.Widget:
    import ipywidgets as w

    return w.SelectionSlider(
        options=list(options),
        value=value,
        description=description,
        continuous_update=False,
        style=_STYLE,
        layout={"width": _WIDTH},
    )


def _checkbox(description: str, value: bool) -> ipywidgets.Widget:
    import ipywidgets as w

    return w.Checkbox(value=value, description=description, indent=False, layout={"width": "300px"})


def _assemble(
    title: str, controls: dict[str, ipywidgets.Widget], canvas: _Canvas, update: Callable[[], str]
) -> ipywidgets.VBox:
    """The app: a title, the controls in two columns, the figure and a readout; every control re-runs update."""
    import ipywidgets as w

    readout = w.HTML(layout={"margin": "0 0 0 10px"})
    items = list(controls.values())
    half = (len(items) + 1) // 2
    panel = w.HBox([w.VBox(items[:half]), w.VBox(items[half:])])
    app = w.VBox([w.HTML(f"<b>{title}</b>"), panel, canvas.image, readout])

    def refresh(change: object = None) -> None:
        with np.errstate(all="ignore"):
            readout.value = update()
        canvas.render()

    for control in items:
        control.observe(refresh, names="value")
    app.controls = controls
    app.figure = canvas.figure
    app.image = canvas.image
    app.readout = readout
    app.update = refresh
    app.trajectories = {}
    app.lines = {}
    return app


def _publish(app: ipywidgets.VBox, runs: dict[str, Trajectory], lines: dict[str, Any], main: str) -> None:
    app.trajectories.clear()
    app.trajectories.update(runs)
    app.trajectory = runs[main]
    app.lines.clear()
    app.lines.update(lines)


# --- Part 1: gradient descent to adaptive learning rates ---

_KAPPAS = (1, 2, 5, 10, 20, 50, 100)


def lr_app(kappa: float = 10, lr: float = 0.17, steps: int = 60) -> ipywidgets.VBox:
    """Gradient descent on the quadratic ½xᵀAx with eigenvalues 1 and κ: play with the learning rate.

    Below lr = 2/L (L = κ) the run converges; between 1/L and 2/L it zig-zags across the valley; above 2/L it
    diverges. Controls: ``lr``, ``kappa``, ``steps``. Lines: ``path`` and ``loss`` of ``SGD(lr)``.
    """
    controls = {
        "lr": _log_slider("learning rate lr", lr, 1e-3, 1.0),
        "kappa": _choice("condition number κ = L/μ", _KAPPAS, kappa if kappa in _KAPPAS else 10),
        "steps": _slider("steps", steps, 5, 300, 5),
    }
    canvas = _Canvas(2, (11.0, 4.2))
    left, right = canvas.axes
    path, curve = _LivePath(left, "tab:blue"), _LiveCurve(right, "tab:blue")
    note = _note(left)
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$")
    right.grid(True, which="major", alpha=0.3)
    drawn: dict[str, Any] = {"kappa": None}

    def update() -> str:
        k, lr_, n = controls["kappa"].value, controls["lr"].value, controls["steps"].value
        problem = problems.get("quadratic", kappa=float(k))
        if drawn["kappa"] != k:  # a new landscape: redraw the contours underneath the live artists
            for artist in drawn.get("background", []):
                artist.remove()
            before = set(left.get_children())
            plots.contour(problem, left)
            drawn["background"] = [a for a in left.get_children() if a not in before]
            drawn["kappa"] = k
            canvas.relayout()
        traj = run(SGD(lr=lr_), problem, n)
        name = plots.label(traj)
        path.update(traj, name)
        curve.update(np.arange(n + 1), traj.gap, name)
        _fit_log(right, n, np.maximum(traj.gap, _TINY))
        L = problem.lipschitz
        right.set_title(f"lr·L = {lr_ * L:.2f}   (threshold 2: lr = 2/L = {2 / L:.3g})")
        _set_note(note, _diverged_lines({name: traj}))
        _publish(app, {"gd": traj}, {"path": path.line, "loss": curve.line}, "gd")
        regime = (
            "converges without oscillating (lr·L ≤ 1)"
            if lr_ * L <= 1
            else "converges, zig-zagging across the valley (1 < lr·L < 2)"
            if lr_ * L < 2
            else "does not converge (lr·L ≥ 2)"
        )
        grown = ""
        if lr_ * L >= 2 and not traj.diverged:
            grown = f"; the gap grew ×{traj.gap[-1] / traj.gap[0]:.2g} in {n} steps"
        return (
            f"lr = {lr_:.3g}, L = κ = {L:g}, lr·L = {lr_ * L:.2f}: {regime}. After {n} steps: {_gap_text(traj)}{grown}."
        )

    _lighten(*canvas.axes)
    app = _assemble("Gradient descent: the learning rate on a quadratic", controls, canvas, update)
    app.update()
    return app


def momentum_app(lr: float = 0.01, momentum: float = 0.9, nesterov: bool = False, steps: int = 200) -> ipywidgets.VBox:
    """Heavy-ball (or Nesterov) momentum against plain gradient descent on the κ = 100 quadratic.

    Controls: ``lr``, ``momentum``, ``nesterov``, ``steps``. Lines: ``path``/``loss`` of
    ``SGD(lr, momentum, nesterov=...)``, ``gd_path``/``gd_loss`` of ``SGD(lr)`` for comparison.
    """
    controls = {
        "lr": _log_slider("learning rate lr", lr, 1e-3, 0.05),
        "momentum": _slider("momentum μ", momentum, 0.0, 0.99, 0.01),
        "steps": _slider("steps", steps, 10, 500, 10),
        "nesterov": _checkbox("Nesterov's look-ahead", nesterov),
    }
    problem = problems.get("quadratic", kappa=100.0)
    canvas = _Canvas(2, (11.0, 4.2))
    left, right = canvas.axes
    plots.contour(problem, left)
    gd_path, gd_curve = _LivePath(left, "0.35", ls="--", lw=1.2), _LiveCurve(right, "0.35", ls="--", lw=1.2)
    path, curve = _LivePath(left, "tab:orange"), _LiveCurve(right, "tab:orange")
    note = _note(left)
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="the same lr with and without momentum")
    right.grid(True, which="major", alpha=0.3)
    gd_runs: dict[tuple, Trajectory] = {}  # plain GD depends on lr and steps only

    def update() -> str:
        lr_, mu, n = controls["lr"].value, controls["momentum"].value, controls["steps"].value
        nesterov_ = controls["nesterov"].value and mu > 0  # torch refuses Nesterov without momentum
        traj = run(SGD(lr=lr_, momentum=mu, nesterov=nesterov_), problem, n)
        gd = _memo(gd_runs, (lr_, n), lambda: run(SGD(lr=lr_), problem, n))
        name, gd_name = plots.label(traj), plots.label(gd) + " (no momentum)"
        path.update(traj, name)
        gd_path.update(gd, gd_name)
        curve.update(np.arange(n + 1), traj.gap, name)
        gd_curve.update(np.arange(n + 1), gd.gap, gd_name)
        _fit_log(right, n, traj.gap, gd.gap)
        right.legend(loc="upper right", fontsize=9, framealpha=0.9)
        _set_note(note, _diverged_lines({name: traj, gd_name: gd}))
        lines = {"path": path.line, "loss": curve.line, "gd_path": gd_path.line, "gd_loss": gd_curve.line}
        _publish(app, {"momentum": traj, "gd": gd}, lines, "momentum")

        def reach(tr: Trajectory) -> str:
            if tr.diverged:
                return "lower the lr" if tr is gd else "lower the lr or μ"
            k = _steps_to(tr)
            return f"reaches 10⁻⁶ of the starting gap at step {k}" if k is not None else "not within 10⁻⁶ yet"

        warn = " (Nesterov needs μ > 0: showing heavy ball)" if controls["nesterov"].value and mu == 0 else ""
        return (
            f"With momentum μ = {mu:.2f}{' (Nesterov)' if nesterov_ else ''}{warn}: {_gap_text(traj)}, "
            f"{reach(traj)}.<br>Plain gradient descent, same lr: {_gap_text(gd)}, {reach(gd)}."
        )

    _lighten(*canvas.axes)
    app = _assemble("Momentum on an ill-conditioned valley (κ = 100)", controls, canvas, update)
    app.update()
    return app


def adagrad_app(
    lr: float = 0.5, initial_accumulator_value: float = 0.0, lr_decay: float = 0.0, steps: int = 200
) -> ipywidgets.VBox:
    """AdaGrad against SGD (same lr) on the sparse-feature least-squares problem, mini-batches of 10.

    Controls: ``lr``, ``initial_accumulator_value``, ``lr_decay``, ``steps``. Lines: ``path``, ``loss``,
    ``eta_0``/``eta_1`` (AdaGrad's effective learning rate per coordinate) and ``sgd_path``, ``sgd_loss``.
    Both runs use seed 0, so they see the same mini-batches.
    """
    controls = {
        "lr": _log_slider("learning rate lr", lr, 0.01, 3.0),
        "initial_accumulator_value": _slider("initial accumulator G₀", initial_accumulator_value, 0.0, 2.0, 0.05),
        "lr_decay": _slider("lr_decay (lr / (1 + (t−1)·decay))", lr_decay, 0.0, 0.1, 0.005, ".3f"),
        "steps": _slider("steps (mini-batches)", steps, 10, 500, 10),
    }
    problem = problems.get("sparse_features")
    canvas = _Canvas(3, (13.5, 4.0))
    left, middle, right = canvas.axes
    plots.contour(problem, left)
    left.set(xlabel=r"$\theta_1$ (common feature)", ylabel=r"$\theta_2$ (rare feature)")
    sgd_path, sgd_curve = _LivePath(left, "0.35", ls="--", lw=1.2), _LiveCurve(right, "0.35", ls="--", lw=1.2)
    path, curve = _LivePath(left, "tab:green"), _LiveCurve(right, "tab:green")
    eta_sgd = _LiveCurve(middle, "0.35", ls="--", lw=1.2)
    eta = [_LiveCurve(middle, "tab:green"), _LiveCurve(middle, "tab:green", ls=":", lw=2.2)]
    note = _note(left)
    middle.set(xlabel="step $t$", ylabel=r"effective lr $\eta_t$", title="step size per coordinate")
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="loss (mini-batch gradients)")
    for ax in (middle, right):
        ax.grid(True, which="major", alpha=0.3)
    sgd_runs: dict[tuple, Trajectory] = {}  # SGD depends on lr and steps only

    def update() -> str:
        lr_, n = controls["lr"].value, controls["steps"].value
        opt = Adagrad(
            lr=lr_,
            lr_decay=controls["lr_decay"].value,
            initial_accumulator_value=controls["initial_accumulator_value"].value,
        )
        traj = run(opt, problem, n, seed=0)
        sgd = _memo(sgd_runs, (lr_, n), lambda: run(SGD(lr=lr_), problem, n, seed=0))
        name, sgd_name = plots.label(traj), plots.label(sgd)
        path.update(traj, name)
        sgd_path.update(sgd, sgd_name)
        t = np.arange(n + 1)
        curve.update(t, traj.gap, name)
        sgd_curve.update(t, sgd.gap, sgd_name)
        _fit_log(right, n, traj.gap, sgd.gap)
        effective = plots.effective_lr(traj)
        for i, (c, what) in enumerate(zip(eta, ("θ₁ common", "θ₂ rare"), strict=True)):
            c.update(t[1:], effective[:, i], f"AdaGrad {what}")
        eta_sgd.update(t[1:], plots.effective_lr(sgd)[:, 0], "SGD (both)")
        _fit_log(middle, n, effective, np.array([lr_]))
        right.legend(loc="upper right", fontsize=8, framealpha=0.9)
        middle.legend(loc="upper right", fontsize=8, framealpha=0.9)
        _set_note(note, _diverged_lines({name: traj, sgd_name: sgd}))
        lines = {
            "path": path.line,
            "loss": curve.line,
            "eta_0": eta[0].line,
            "eta_1": eta[1].line,
            "sgd_path": sgd_path.line,
            "sgd_loss": sgd_curve.line,
        }
        _publish(app, {"adagrad": traj, "sgd": sgd}, lines, "adagrad")
        window = min(20, n)
        ratio = effective[-1, 1] / effective[-1, 0]
        return (
            f"AdaGrad: {_gap_text(traj, window)}; SGD at the same lr: {_gap_text(sgd, window)} "
            f"(mean of the last {window} steps).<br>AdaGrad's final step size is {ratio:.2g}× larger for the "
            f"rare feature than for the common one."
        )

    _lighten(*canvas.axes)
    app = _assemble("AdaGrad: a learning rate per coordinate (sparse features)", controls, canvas, update)
    app.update()
    return app


_RMSPROP_PROBLEMS: dict[str, Callable[[], Problem]] = {
    "quadratic (κ = 100)": lambda: problems.get("quadratic", kappa=100.0),
    "Rosenbrock": lambda: problems.get("rosenbrock"),
    "Beale": lambda: problems.get("beale"),
}


def rmsprop_app(
    lr: float = 0.01,
    alpha: float = 0.99,
    momentum: float = 0.0,
    centered: bool = False,
    steps: int = 1000,
    problem: str = "quadratic (κ = 100)",
) -> ipywidgets.VBox:
    """RMSprop against AdaGrad (same lr): a moving average of g² keeps the step size alive.

    Controls: ``problem``, ``lr``, ``alpha``, ``momentum``, ``centered``, ``steps``. Lines: ``path``, ``loss``,
    ``eta_0``/``eta_1`` for RMSprop and ``adagrad_path``, ``adagrad_loss``, ``adagrad_eta_0``/``_1``.
    """
    import ipywidgets as w

    controls = {
        "problem": w.Dropdown(
            options=list(_RMSPROP_PROBLEMS),
            value=problem,
            description="problem",
            style=_STYLE,
            layout={"width": _WIDTH},
        ),
        "lr": _log_slider("learning rate lr", lr, 1e-4, 0.3),
        "alpha": _choice("α (memory ≈ 1/(1−α) steps)", (0.5, 0.7, 0.9, 0.95, 0.99, 0.995, 0.999), alpha),
        "momentum": _slider("momentum μ", momentum, 0.0, 0.95, 0.05),
        "steps": _slider("steps", steps, 50, 1000, 50),
        "centered": _checkbox("centered (divide by the std of g, Graves 2013)", centered),
    }
    canvas = _Canvas(3, (13.5, 4.0))
    left, middle, right = canvas.axes
    ada_path, ada_curve = _LivePath(left, "0.35", ls="--", lw=1.2), _LiveCurve(right, "0.35", ls="--", lw=1.2)
    path, curve = _LivePath(left, "tab:red"), _LiveCurve(right, "tab:red")
    ada_eta = [_LiveCurve(middle, "0.35", ls="--", lw=1.2), _LiveCurve(middle, "0.35", ls=":", lw=1.6)]
    eta = [_LiveCurve(middle, "tab:red"), _LiveCurve(middle, "tab:red", ls=":", lw=2.2)]
    note = _note(left)
    middle.set(xlabel="step $t$", ylabel=r"effective lr $\eta_t$", title="step size per coordinate")
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="loss")
    for ax in (middle, right):
        ax.grid(True, which="major", alpha=0.3)
    drawn: dict[str, Any] = {"problem": None}
    adagrad_runs: dict[tuple[str, float, int], Trajectory] = {}  # AdaGrad depends on neither α nor μ
    instances: dict[str, Problem] = {}

    def update() -> str:
        key = controls["problem"].value
        lr_, n = controls["lr"].value, controls["steps"].value
        if drawn["problem"] != key:
            drawn["problem"] = key
            if key not in instances:  # one instance per problem, so plots' contour cache is hit on a switch back
                instances[key] = _RMSPROP_PROBLEMS[key]()
            drawn["instance"] = instances[key]
            for artist in drawn.get("background", []):
                artist.remove()
            before = set(left.get_children())
            plots.contour(drawn["instance"], left)
            drawn["background"] = [a for a in left.get_children() if a not in before]
            canvas.relayout()
        prob = drawn["instance"]
        opt = RMSprop(
            lr=lr_,
            alpha=controls["alpha"].value,
            momentum=controls["momentum"].value,
            centered=controls["centered"].value,
        )
        traj = run(opt, prob, n)
        ada = _memo(adagrad_runs, (key, lr_, n), lambda: run(Adagrad(lr=lr_), prob, n))
        name = f"RMSprop lr={lr_:.3g} α={opt.alpha:g}" + (f" μ={opt.momentum:g}" if opt.momentum else "")
        name += " centered" if opt.centered else ""
        ada_name = plots.label(ada)
        path.update(traj, name)
        ada_path.update(ada, ada_name)
        t = np.arange(n + 1)
        curve.update(t, traj.gap, name)
        ada_curve.update(t, ada.gap, ada_name)
        _fit_log(right, n, traj.gap, ada.gap)
        e, e_ada = plots.effective_lr(traj), plots.effective_lr(ada)
        for i in range(2):
            eta[i].update(t[1:], e[:, i], f"RMSprop $\\theta_{i + 1}$")
            ada_eta[i].update(t[1:], e_ada[:, i], f"AdaGrad $\\theta_{i + 1}$")
        _fit_log(middle, n, e, e_ada)
        middle.legend(loc="best", fontsize=8, framealpha=0.9)
        right.legend(loc="lower left", fontsize=8, framealpha=0.9)
        _set_note(note, _diverged_lines({name: traj, ada_name: ada}))
        lines = {
            "path": path.line,
            "loss": curve.line,
            "eta_0": eta[0].line,
            "eta_1": eta[1].line,
            "adagrad_path": ada_path.line,
            "adagrad_loss": ada_curve.line,
            "adagrad_eta_0": ada_eta[0].line,
            "adagrad_eta_1": ada_eta[1].line,
        }
        _publish(app, {"rmsprop": traj, "adagrad": ada}, lines, "rmsprop")

        def shrink(x: np.ndarray) -> str:
            if not np.all(np.isfinite(x[-1])):
                return "—"
            return f"{float(np.mean(x[-1] / x[0])):.2g}×"

        return (
            f"RMSprop: {_gap_text(traj)}; AdaGrad at the same lr: {_gap_text(ada)} (after {n} steps).<br>"
            f"Effective learning rate, last step / first step (mean over coordinates): "
            f"RMSprop {shrink(e)}, AdaGrad {shrink(e_ada)}. "
            f"α = {opt.alpha:g} remembers about {1 / (1 - opt.alpha):.0f} steps."
        )

    _lighten(*canvas.axes)
    app = _assemble("RMSprop: a moving average in place of AdaGrad's sum", controls, canvas, update)
    app.update()
    return app


# --- Part 2: Adam and its family ---

__all__ += ["moments_app", "bias_correction_app", "adam_app", "nadam_app", "weight_decay_app"]

_BETA1S = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
_BETA2S = (0.0, 0.5, 0.9, 0.99, 0.999, 0.9999)
_EPSILONS = (0.0, 1e-8, 1e-4, 1e-2, 0.1, 1.0)
_NOISE_SEED = 0  # the apps draw their noise once, so moving a slider rescales the same draw


def _nearest(options: Sequence[float], value: float) -> float:
    """The option closest to value: an app started with beta2=0.998 shows the 0.999 mark, not an error."""
    return min(options, key=lambda o: abs(o - value))


def _feed(opt: Any, grads: np.ndarray, x0: float = 0.0) -> dict[str, np.ndarray]:
    """Feed a fixed gradient stream (steps, d) through a reference optimizer from x = x0.

    The gradients do not depend on x, which isolates what the optimizer does with them. Returns the
    positions ``x`` (steps + 1, d), the updates ``dx`` (steps, d) and the state ``m``, ``v`` (steps, d) after
    each step (Adam-type state: t, m, v, ...).
    """
    x = np.full(grads.shape[1:], float(x0))
    state = opt.init(x)
    xs, ms, vs = np.empty((len(grads) + 1, *x.shape)), np.empty(grads.shape), np.empty(grads.shape)
    xs[0] = x
    for t, g in enumerate(grads):
        x, state = opt.step(x, g, state)
        xs[t + 1], ms[t], vs[t] = x, state.m, state.v
    return {"x": xs, "dx": np.diff(xs, axis=0), "m": ms, "v": vs}


def _no_minor_ticks(*axes: Axes) -> None:
    """Drop the minor ticks of log axes: dozens of unlabeled tick artists cost ~10 ms a draw per axes."""
    from matplotlib.ticker import NullLocator

    for ax in axes:
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_locator(NullLocator())


def _fit_logy(ax: Axes, *arrays: np.ndarray) -> None:
    """Log-scale y-limits around the finite positive values of the arrays (x-limits left alone)."""
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (1e-3, 1.0)
    lo = max(lo, hi * 1e-12)
    if hi <= lo * 10:
        lo, hi = lo / 3, hi * 3
    ax.set_ylim(lo / 2, hi * 2)


def _fit_linear(ax: Axes, lo: float, hi: float) -> None:
    """Linear y-limits around [lo, hi] with a margin; a flat range gets a unit-sized window."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        lo, hi = -1.0, 1.0
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.5
    ax.set_ylim(lo - pad, hi + pad)


def moments_app(
    beta1: float = 0.9, beta2: float = 0.999, sigma: float = 1.0, mean: float = 1.0, steps: int = 1000
) -> ipywidgets.VBox:
    """Adam's moments m_t and v_t as moving averages of noisy gradients g_t = mean + sigma·ξ_t (ξ ~ N(0, 1)).

    The truth is known: E[g] = mean and E[g²] = mean² + sigma². Controls: ``beta1``, ``beta2``, ``sigma``,
    ``mean``, ``steps``. Lines: ``m``, ``v`` (Adam's state, uncorrected), ``g``, ``g2`` (the samples),
    ``mean``, ``second`` (the truth). ``app.data`` holds the arrays: ``t``, ``g``, ``m``, ``v``.
    """
    from adamlab.numpy import Adam

    controls = {
        "beta1": _choice("β₁ (memory of m ≈ 1/(1−β₁) steps)", _BETA1S, _nearest(_BETA1S, beta1)),
        "beta2": _choice("β₂ (memory of v ≈ 1/(1−β₂) steps)", _BETA2S, _nearest(_BETA2S, beta2)),
        "sigma": _slider("gradient noise σ", sigma, 0.0, 5.0, 0.1),
        "mean": _slider("mean gradient E[g]", mean, -2.0, 2.0, 0.1),
        "steps": _slider("steps", steps, 50, 2000, 50),
    }
    noise = np.random.default_rng(_NOISE_SEED).standard_normal(2000)
    canvas = _Canvas(2, (12.0, 4.0))
    left, right = canvas.axes
    plots.moments(
        np.arange(1, 3),
        np.zeros(2),
        {"$m_t$ (Adam's exp_avg)": np.zeros(2)},
        0.0,
        left,
        truth_label=r"$E[g]$",
        colors=["tab:blue"],
        ylabel="gradient $g_t$",
    )
    plots.moments(
        np.arange(1, 3),
        np.zeros(2),
        {"$v_t$ (Adam's exp_avg_sq)": np.zeros(2)},
        0.0,
        right,
        truth_label=r"$E[g^2]$",
        colors=["tab:orange"],
        ylabel="squared gradient $g_t^2$",
    )
    artists = {ax: {a.get_gid(): a for a in ax.get_lines()} for ax in (left, right)}
    (g_line, m_line, mean_line) = (artists[left][k] for k in ("samples", "$m_t$ (Adam's exp_avg)", "truth"))
    (g2_line, v_line, second_line) = (artists[right][k] for k in ("samples", "$v_t$ (Adam's exp_avg_sq)", "truth"))
    left.set_title(r"first moment: $m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t$")
    right.set_title(r"second moment: $v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2$")
    data: dict[str, np.ndarray] = {}

    def update() -> str:
        b1, b2, s, mu, n = (controls[k].value for k in ("beta1", "beta2", "sigma", "mean", "steps"))
        g = mu + s * noise[:n]
        out = _feed(Adam(lr=0.0, betas=(b1, b2)), g[:, None])
        m, v, t = out["m"][:, 0], out["v"][:, 0], np.arange(1, n + 1)
        data.update(t=t, g=g, m=m, v=v)
        g_line.set_data(t, g)
        m_line.set_data(t, m)
        g2_line.set_data(t, g * g)
        v_line.set_data(t, v)
        second = mu * mu + s * s
        mean_line.set_ydata([mu, mu])
        second_line.set_ydata([second, second])
        for ax in (left, right):
            ax.set_xlim(0, n + 1)
        spread = max(3 * s, 0.5)
        _fit_linear(left, min(mu - spread, m.min()), max(mu + spread, m.max()))
        _fit_linear(right, 0.0, max(2.5 * second, float(np.quantile(g * g, 0.98)), v.max(), 0.1))
        app.lines.update(g=g_line, m=m_line, v=v_line, g2=g2_line, mean=mean_line, second=second_line)
        half = slice(n // 2, None)
        warm1, warm2 = 1 - b1**n, 1 - b2**n
        std_theory = s * np.sqrt((1 - b1) / (1 + b1))
        text = (
            f"m remembers about {1 / (1 - b1):.0f} steps, v about {1 / (1 - b2):.0f} steps (1/(1−β)).<br>"
            f"Last half of the run: mean of m = {m[half].mean():.3f} (E[g] = {mu:.3g}), "
            f"std of m = {m[half].std():.3f} (white noise predicts σ·√((1−β₁)/(1+β₁)) = {std_theory:.3f}); "
            f"mean of v = {v[half].mean():.3f} (E[g²] = μ² + σ² = {second:.3g})."
        )
        for name, warm, k in (("m", warm1, "₁"), ("v", warm2, "₂")):
            if warm < 0.95:
                text += (
                    f"<br><span style='color:crimson'>{name} is still warming up: after {n} steps its weights sum "
                    f"to 1 − β{k}<sup>t</sup> = {warm:.2f}, so it sits below the truth (the bias of notebook 06)."
                    "</span>"
                )
        return text

    app = _assemble("Adam's two moving averages on noisy gradients", controls, canvas, update)
    app.data = data
    app.update()
    return app


def bias_correction_app(
    beta1: float = 0.9, beta2: float = 0.999, noise: float = 0.5, scale: float = 1.0, steps: int = 1000
) -> ipywidgets.VBox:
    """Moving averages started at zero, with and without Adam's bias correction 1/(1 − β^t).

    Gradients g_t = scale·(1 + noise·ξ_t). The first two panels show the estimates as fractions of the truth
    (m_t / E[g] and v_t / E[g²]) on a log step axis, so the scale drops out; the third shows the update
    |Δθ_t| / lr that Adam takes with (``Adam()``) and without (``Adam(bias_correction=False)``) the correction.
    Controls: ``beta1``, ``beta2``, ``noise``, ``scale``, ``steps``. Lines: ``m``, ``m_hat``, ``v``, ``v_hat``,
    ``m_expected``, ``v_expected`` (1 − β^t), ``step``, ``step_uncorrected``. ``app.data`` holds the arrays.
    """
    from adamlab.numpy import Adam

    controls = {
        "beta1": _choice("β₁", _BETA1S, _nearest(_BETA1S, beta1)),
        "beta2": _choice("β₂", _BETA2S, _nearest(_BETA2S, beta2)),
        "noise": _slider("noise σ / E[g]", noise, 0.0, 3.0, 0.1),
        "scale": _log_slider("gradient scale E[g]", scale, 1e-6, 1e4, ".0e"),
        "steps": _slider("steps", steps, 10, 2000, 10),
    }
    xi = np.random.default_rng(_NOISE_SEED).standard_normal(2000)
    canvas = _Canvas(3, (13.5, 4.0))
    ax_m, ax_v, ax_s = canvas.axes
    lines: dict[str, Any] = {}
    for ax, name, sym, k in ((ax_m, "m", "m", 1), (ax_v, "v", "v", 2)):
        (lines[name],) = ax.plot([], [], "-", lw=1.4, color="tab:red", label=f"${sym}_t$ (started at 0)")
        (lines[name + "_hat"],) = ax.plot(
            [], [], "-", lw=1.8, color="tab:blue", label=rf"$\hat {sym}_t = {sym}_t / (1 - \beta_{k}^t)$"
        )
        (lines[name + "_expected"],) = ax.plot([], [], ":", lw=2.0, color="k", label=rf"$1 - \beta_{k}^t$ (expected)")
        ax.axhline(1.0, ls="--", lw=1.0, color="0.4")
        ax.set(xscale="log", xlabel="step $t$ (log scale)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax_m.set(ylabel=r"$m_t\ /\ E[g]$", title="first moment (fraction of the truth)")
    ax_v.set(ylabel=r"$v_t\ /\ E[g^2]$", title="second moment (fraction of the truth)")
    (lines["step"],) = ax_s.plot([], [], "-", lw=1.8, color="tab:blue", label="Adam (bias-corrected)")
    (lines["step_uncorrected"],) = ax_s.plot([], [], "-", lw=1.4, color="tab:red", label="bias_correction=False")
    ax_s.axhline(1.0, ls="--", lw=1.0, color="0.4")
    ax_s.set(
        xscale="log",
        yscale="log",
        xlabel="step $t$ (log scale)",
        ylabel=r"$|\Delta\theta_t|\ /\ \mathrm{lr}$",
        title="the update Adam takes",
    )
    ax_s.grid(True, which="major", alpha=0.3)
    ax_s.legend(loc="lower left", fontsize=8, framealpha=0.9)
    _no_minor_ticks(ax_m, ax_v, ax_s)
    data: dict[str, np.ndarray] = {}

    def update() -> str:
        b1, b2, s, c, n = (controls[k].value for k in ("beta1", "beta2", "noise", "scale", "steps"))
        g = (c * (1 + s * xi[:n]))[:, None]
        corrected = _feed(Adam(lr=1.0, betas=(b1, b2)), g)
        raw = _feed(Adam(lr=1.0, betas=(b1, b2), bias_correction=False), g)
        t = np.arange(1, n + 1)
        m, v = corrected["m"][:, 0], corrected["v"][:, 0]
        c1, c2 = 1 - b1**t, 1 - b2**t
        truth1, truth2 = c, c * c * (1 + s * s)
        step, step_raw = np.abs(corrected["dx"][:, 0]), np.abs(raw["dx"][:, 0])
        data.update(t=t, g=g[:, 0], m=m, v=v, m_hat=m / c1, v_hat=v / c2, step=step, step_uncorrected=step_raw)
        for name, y in (
            ("m", m / truth1),
            ("m_hat", m / c1 / truth1),
            ("m_expected", c1),
            ("v", v / truth2),
            ("v_hat", v / c2 / truth2),
            ("v_expected", c2),
        ):
            lines[name].set_data(t, y)
        lines["step"].set_data(t, np.maximum(step, _TINY))
        lines["step_uncorrected"].set_data(t, np.maximum(step_raw, _TINY))
        for ax in (ax_m, ax_v, ax_s):
            ax.set_xlim(1, max(n, 2))
        ys = np.concatenate([m / truth1, m / c1 / truth1, [0.0, 1.0]])
        _fit_linear(ax_m, float(np.min(ys)), float(min(np.max(ys), 4.0)))
        ys = np.concatenate([v / truth2, v / c2 / truth2, [0.0, 1.0]])
        _fit_linear(ax_v, float(np.min(ys)), float(min(np.max(ys), 6.0)))
        _fit_logy(ax_s, step, step_raw, np.array([1.0]))
        ax_s.set_title(f"the update Adam takes (E[g] = {c:.0e})")
        app.lines.update(lines)
        first_raw = (1 - b1) / np.sqrt(1 - b2) if b2 < 1 else np.inf
        return (
            f"First step: bias-corrected Adam moves {step[0]:.4g}·lr (≈ lr·sign(g) whatever the scale "
            f"{c:.0e}); without the correction {step_raw[0]:.4g}·lr = (1−β₁)/√(1−β₂)·lr = {first_raw:.4g}·lr.<br>"
            f"The uncorrected m reaches 90% of E[g] after {np.log(0.1) / np.log(b1) if b1 > 0 else 1:.0f} "
            f"steps, v after {np.log(0.1) / np.log(b2) if b2 > 0 else 1:.0f} steps (1 − β<sup>t</sup> = 0.9). "
            f"Largest update in this run: {step.max():.3g}·lr corrected, {step_raw.max():.3g}·lr uncorrected."
        )

    app = _assemble("Bias correction: moving averages started at zero", controls, canvas, update)
    app.data = data
    app.update()
    return app


class _Landscapes:
    """The contour plots of several problems drawn once on one Axes; ``show(name)`` swaps them by visibility.

    Redrawing filled contours costs more than a whole update, so every landscape is drawn when the app is
    built and a change of problem only hides one set of artists and shows another (with its limits and title).
    """

    def __init__(self, ax: Axes, factories: dict[str, Callable[[], Problem]]) -> None:
        self.ax, self.layers, self.current = ax, {}, None
        for name, factory in factories.items():
            problem = factory()
            before = set(ax.get_children())
            plots.contour(problem, ax)
            artists = [a for a in ax.get_children() if a not in before]
            self.layers[name] = (problem, artists, ax.get_xlim(), ax.get_ylim(), ax.get_title())
            for a in artists:
                a.set_visible(False)

    def show(self, name: str) -> Problem:
        problem, artists, xlim, ylim, title = self.layers[name]
        if name != self.current:
            if self.current is not None:
                for a in self.layers[self.current][1]:
                    a.set_visible(False)
            for a in artists:
                a.set_visible(True)
            self.ax.set(xlim=xlim, ylim=ylim, title=title)
            self.current = name
        return problem


_ADAM_PROBLEMS: dict[str, Callable[[], Problem]] = {
    "Rosenbrock": lambda: problems.get("rosenbrock"),
    "quadratic (κ = 100)": lambda: problems.get("quadratic", kappa=100.0),
    "Beale": lambda: problems.get("beale"),
    "saddle": lambda: problems.get("saddle"),
}


def adam_app(
    problem: str = "Rosenbrock",
    lr: float = 0.1,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    steps: int = 300,
    bias_correction: bool = True,
    amsgrad: bool = False,
) -> ipywidgets.VBox:
    """Adam on the 2-D test problems, every knob exposed: the path, the loss and the size of each update.

    Controls: ``problem``, ``lr``, ``beta1``, ``beta2``, ``eps``, ``steps``, ``bias_correction``, ``amsgrad``.
    Lines: ``path``, ``loss``, ``step_0``/``step_1`` (|Δθ_t| per coordinate, in units of lr).
    """
    import ipywidgets as w

    from adamlab.numpy import Adam

    controls = {
        "problem": w.Dropdown(
            options=list(_ADAM_PROBLEMS), value=problem, description="problem", style=_STYLE, layout={"width": _WIDTH}
        ),
        "lr": _log_slider("learning rate lr", lr, 1e-4, 3.0),
        "beta1": _choice("β₁ (momentum)", _BETA1S, _nearest(_BETA1S, beta1)),
        "beta2": _choice("β₂ (memory of g²)", _BETA2S, _nearest(_BETA2S, beta2)),
        "eps": _choice("ε", _EPSILONS, _nearest(_EPSILONS, eps)),
        "steps": _slider("steps", steps, 10, 1000, 10),
        "bias_correction": _checkbox("bias correction", bias_correction),
        "amsgrad": _checkbox("AMSGrad (divide by the running max of v)", amsgrad),
    }
    canvas = _Canvas(3, (13.5, 4.0))
    left, middle, right = canvas.axes
    path, curve = _LivePath(left, "tab:purple"), _LiveCurve(right, "tab:purple")
    steps_ = [_LiveCurve(middle, "tab:purple", lw=1.2), _LiveCurve(middle, "tab:purple", ls=":", lw=1.8)]
    middle.axhline(1.0, ls="--", lw=1.0, color="0.4")
    note = _note(left)
    middle.set(xlabel="step $t$", ylabel=r"$|\Delta\theta_t|\ /\ \mathrm{lr}$", title="update size per coordinate")
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="loss")
    for ax in (middle, right):
        ax.grid(True, which="major", alpha=0.3)
    _no_minor_ticks(middle, right)
    landscapes = _Landscapes(left, _ADAM_PROBLEMS)

    def update() -> str:
        prob = landscapes.show(controls["problem"].value)
        lr_, n = controls["lr"].value, controls["steps"].value
        opt = Adam(
            lr=lr_,
            betas=(controls["beta1"].value, controls["beta2"].value),
            eps=controls["eps"].value,
            amsgrad=controls["amsgrad"].value,
            bias_correction=controls["bias_correction"].value,
        )
        traj = run(opt, prob, n, record_state=False)
        name = f"{'AMSGrad' if opt.amsgrad else 'Adam'} lr={lr_:.3g} β=({opt.betas[0]:g}, {opt.betas[1]:g})"
        if not opt.bias_correction:
            name += " uncorrected"
        path.update(traj, name)
        t = np.arange(n + 1)
        curve.update(t, traj.gap, name)
        _fit_log(right, n, traj.gap)
        right.set_title(f"loss: {name}, ε={opt.eps:g}", fontsize=9)
        dx = np.abs(np.diff(traj.x, axis=0)) / lr_
        for i, c in enumerate(steps_):
            c.update(t[1:], dx[:, i], f"$\\theta_{i + 1}$")
        _fit_log(middle, n, dx, np.array([1.0]))
        middle.legend(loc="lower left", fontsize=8, framealpha=0.9)
        _set_note(note, _diverged_lines({name: traj}))
        lines = {"path": path.line, "loss": curve.line, "step_0": steps_[0].line, "step_1": steps_[1].line}
        _publish(app, {"adam": traj}, lines, "adam")
        finite = dx[np.isfinite(dx)]
        biggest = f"{finite.max():.3g}" if finite.size else "—"
        return (
            f"{name}: {_gap_text(traj)} after {n} steps.<br>Largest update |Δθ<sub>t</sub>| = {biggest}·lr "
            f"(Adam's steps stay near lr or below: the ratio m̂/√v̂ is at most about 1 for steady gradients)."
        )

    app = _assemble("Adam on a test function: every knob", controls, canvas, update)
    app.update()
    return app


def weight_decay_app(
    lr: float = 0.01, weight_decay: float = 0.01, scale: float = 100.0, steps: int = 1000
) -> ipywidgets.VBox:
    """How fast weight decay shrinks two parameters under Adam + L2 and under AdamW.

    Both parameters start at 1 and see zero-mean gradient noise (+s, −s, +s, ...), of size s = 1 for θ₁ and
    s = ``scale`` for θ₂: only the weight decay moves them on average (the grey line is the same run without
    decay: Adam's own jitter, the same for both parameters since Adam does not see the gradient's scale).
    AdamW shrinks both by (1 − lr·λ) per step; Adam + L2 divides the decay term λθ by √v̂ ≈ s, so the
    parameter with large gradients barely decays. Controls: ``lr``, ``weight_decay``, ``scale``, ``steps``.
    Lines: ``l2_0``, ``l2_1``, ``adamw_0``, ``adamw_1`` (θ₁, θ₂ against the step), ``none`` (no decay),
    ``decay`` ((1 − lr·λ)^t times the no-decay run). ``app.data`` holds the arrays and ``factors``, the decay
    factors θ_T / θ_T(no decay) by run.
    """
    from adamlab.numpy import Adam, AdamW

    controls = {
        "lr": _log_slider("learning rate lr", lr, 1e-4, 0.1),
        "weight_decay": _log_slider("weight decay λ", weight_decay, 1e-4, 10.0),
        "scale": _log_slider("gradient size of θ₂ (θ₁: 1)", scale, 1e-2, 1e3, ".3g"),
        "steps": _slider("steps", steps, 100, 2000, 100),
    }
    canvas = _Canvas(2, (12.0, 4.0))
    ax_l2, ax_w = canvas.axes
    lines: dict[str, Any] = {}
    for ax, key, title in ((ax_l2, "l2", "Adam + L2: Adam(weight_decay=λ)"), (ax_w, "adamw", "AdamW(weight_decay=λ)")):
        (none,) = ax.plot([], [], "-", lw=3.0, color="0.75", label="no decay (λ = 0)")
        (lines[f"{key}_0"],) = ax.plot([], [], "-", lw=1.8, color="tab:blue", label=r"$\theta_1$")
        (lines[f"{key}_1"],) = ax.plot([], [], "--", lw=1.8, color="tab:red", label=r"$\theta_2$")
        (decay,) = ax.plot([], [], ":", lw=1.6, color="k", label=r"$(1 - \mathrm{lr}\,\lambda)^t$ × no decay")
        lines["none" if key == "l2" else "none_w"] = none
        lines["decay" if key == "adamw" else "decay_l2"] = decay
        ax.set(xlabel="step $t$", ylabel=r"$\theta_t$", title=title)
        ax.grid(True, alpha=0.3)
    data: dict[str, Any] = {}

    def update() -> str:
        lr_, lam, s, n = (controls[k].value for k in ("lr", "weight_decay", "scale", "steps"))
        signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
        g = signs * np.array([1.0, s])
        # One batched run holds Adam + L2 (row 0) and Adam without decay (row 1): weight_decay=[λ, 0].
        both = _feed(Adam(lr=lr_, weight_decay=np.array([lam, 0.0])), np.broadcast_to(g[:, None], (n, 2, 2)), 1.0)
        l2, none = both["x"][:, 0], both["x"][:, 1]
        adamw = _feed(AdamW(lr=lr_, weight_decay=lam), g, x0=1.0)["x"]
        t = np.arange(n + 1)
        decay = (1 - lr_ * lam) ** t * none[:, 0]
        factors = {"l2": l2[-1] / none[-1], "adamw": adamw[-1] / none[-1]}
        data.update(l2=l2, adamw=adamw, none=none, factors=factors)
        for key, xs in (("l2", l2), ("adamw", adamw)):
            for i in range(2):
                lines[f"{key}_{i}"].set_data(t, xs[:, i])
            lines[f"{key}_1"].set_label(rf"$\theta_2$ (gradients of size {s:.3g})")
            lines[f"{key}_0"].set_label(r"$\theta_1$ (gradients of size 1)")
        for name in ("none", "none_w"):
            lines[name].set_data(t, none[:, 0])
        for name in ("decay", "decay_l2"):
            lines[name].set_data(t, decay)
        everything = np.concatenate([l2.ravel(), adamw.ravel(), none.ravel(), decay])
        everything = everything[np.isfinite(everything)]
        for ax in (ax_l2, ax_w):
            ax.set_xlim(0, n)
            _fit_linear(ax, float(everything.min()), float(everything.max()))
            ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
        app.lines.update(lines)
        f_l2, f_w = factors["l2"], factors["adamw"]
        if s >= 1:
            relation = f"(gradients {s:.3g}× larger than θ₁'s) decays about {s:.3g}× more slowly than θ₁"
        else:
            relation = f"(gradients {1 / s:.3g}× smaller than θ₁'s) decays about {1 / s:.3g}× faster than θ₁"
        return (
            f"Decay factor after {n} steps, θ<sub>T</sub> / θ<sub>T</sub>(no decay): Adam + L2: θ₁ {f_l2[0]:.3f}, "
            f"θ₂ {f_l2[1]:.3f};  AdamW: θ₁ {f_w[0]:.3f}, θ₂ {f_w[1]:.3f};  (1 − lr·λ)<sup>T</sup> = "
            f"{decay[-1] / none[-1, 0]:.3f}.<br>Under L2 the decay term λθ is divided by √v̂ ≈ |g|, so θ₂ "
            f"{relation} (while λθ ≪ |g|); AdamW decays both alike."
        )

    app = _assemble("Weight decay under Adam: L2 against decoupled (AdamW)", controls, canvas, update)
    app.data = data
    app.update()
    return app


_NADAM_SCHEDULES = {
    "torch: μ_t = β₁(1 − ½·0.96^(0.004 t))": {"momentum_decay": 4e-3},
    "Keras: μ_t = β₁(1 − ½·0.96^t)": {"momentum_decay": 1.0},
    "none: μ_t = β₁": {"momentum_schedule": False},
}


def nadam_app(
    problem: str = "quadratic (κ = 100)",
    lr: float = 0.1,
    beta1: float = 0.9,
    schedule: str = "torch: μ_t = β₁(1 − ½·0.96^(0.004 t))",
    steps: int = 500,
) -> ipywidgets.VBox:
    """NAdam against Adam (same lr and betas) on a 2-D problem, with torch's, Keras' or no momentum schedule.

    Controls: ``problem``, ``lr``, ``beta1``, ``schedule``, ``steps``. Lines: ``path``, ``loss`` (NAdam),
    ``adam_path``, ``adam_loss``, ``mu`` (the momentum schedule μ_t).
    """
    import ipywidgets as w

    from adamlab.numpy import Adam, NAdam

    controls = {
        "problem": w.Dropdown(
            options=list(_ADAM_PROBLEMS), value=problem, description="problem", style=_STYLE, layout={"width": _WIDTH}
        ),
        "lr": _log_slider("learning rate lr", lr, 1e-3, 1.0),
        "beta1": _choice("β₁", _BETA1S, _nearest(_BETA1S, beta1)),
        "schedule": w.Dropdown(
            options=list(_NADAM_SCHEDULES),
            value=schedule,
            description="momentum schedule",
            style=_STYLE,
            layout={"width": _WIDTH},
        ),
        "steps": _slider("steps", steps, 10, 1000, 10),
    }
    canvas = _Canvas(3, (13.5, 4.0))
    left, middle, right = canvas.axes
    adam_path, adam_curve = _LivePath(left, "0.35", ls="--", lw=1.2), _LiveCurve(right, "0.35", ls="--", lw=1.2)
    path, curve = _LivePath(left, "tab:green"), _LiveCurve(right, "tab:green")
    (mu_line,) = middle.plot([], [], "-", lw=2, color="tab:green", label=r"NAdam's $\mu_t$")
    (beta_line,) = middle.plot([], [], "--", lw=1.2, color="0.35", label=r"$\beta_1$ (Adam's momentum)")
    note = _note(left)
    middle.set(xlabel="step $t$", ylabel=r"momentum $\mu_t$", title="the momentum schedule", ylim=(-0.02, 1.02))
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="loss")
    for ax in (middle, right):
        ax.grid(True, which="major", alpha=0.3)
    _no_minor_ticks(right)
    landscapes = _Landscapes(left, _ADAM_PROBLEMS)

    def update() -> str:
        prob = landscapes.show(controls["problem"].value)
        lr_, b1, n = controls["lr"].value, controls["beta1"].value, controls["steps"].value
        nadam = NAdam(lr=lr_, betas=(b1, 0.999), **_NADAM_SCHEDULES[controls["schedule"].value])
        traj = run(nadam, prob, n, record_state=False)
        adam = run(Adam(lr=lr_, betas=(b1, 0.999)), prob, n, record_state=False)
        name, adam_name = f"NAdam lr={lr_:.3g}", f"Adam lr={lr_:.3g}"
        path.update(traj, name)
        adam_path.update(adam, adam_name)
        t = np.arange(n + 1)
        curve.update(t, traj.gap, name)
        adam_curve.update(t, adam.gap, adam_name)
        _fit_log(right, n, traj.gap, adam.gap)
        right.legend(loc="upper right", fontsize=8, framealpha=0.9)
        mu = nadam.mu(t[1:])
        mu_line.set_data(t[1:], mu)
        beta_line.set_data([1, max(n, 2)], [b1, b1])
        middle.set_xlim(1, max(n, 2))
        middle.legend(loc="lower right", fontsize=8, framealpha=0.9)
        _set_note(note, _diverged_lines({name: traj, adam_name: adam}))
        lines = {
            "path": path.line,
            "loss": curve.line,
            "adam_path": adam_path.line,
            "adam_loss": adam_curve.line,
            "mu": mu_line,
        }
        _publish(app, {"nadam": traj, "adam": adam}, lines, "nadam")

        def ups(tr: Trajectory) -> int:
            return int(np.sum(np.diff(tr.loss) > 0))

        return (
            f"NAdam: {_gap_text(traj)}, the loss rose on {ups(traj)} of {n} steps; Adam (same lr, betas): "
            f"{_gap_text(adam)}, the loss rose on {ups(adam)} steps.<br>NAdam's momentum at the last step: "
            f"μ = {float(mu[-1]):.3f} (β₁ = {b1:g})."
        )

    app = _assemble("NAdam: Nesterov's look-ahead inside Adam", controls, canvas, update)
    app.update()
    return app
