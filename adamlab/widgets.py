"""ipywidgets apps for the notebooks: each ``*_app()`` wires sliders to ``adamlab.run.run`` and ``adamlab.plots``.

An app returns an ``ipywidgets.VBox`` whose controls are ordinary ipywidgets. Each change of a control runs
the optimizer again, updates the figure's artists in place and re-renders the figure as a PNG into an
``ipywidgets.Image``, which works in JupyterLab without ipympl and in headless tests. The figure is a bare
``matplotlib.figure.Figure`` on an Agg canvas, never registered with pyplot, so a later ``plt.show()`` in the
notebook cannot show it a second time.

A change answers in well under 150 ms on two cores (``adamlab bench --widgets`` measures every control) because
an app redoes only what the change touched: runs are kept by their settings (a comparison run that a control
does not affect is not run again, and fewer steps is the start of a longer run already computed), runs of one
optimizer are batched into one call, and the render redraws only the artists that changed over a saved
background (see ``_Canvas``). Sliders of fast apps update while dragged; the heavier ones when let go.

For tests and curious learners the returned widget carries what it computed:

- ``app.controls``: the controls by name (``app.controls["lr"].value = 0.1`` updates the app);
- ``app.trajectories``: the runs behind the picture by name, ``app.trajectory`` the main one;
- ``app.lines``: the Line2D artists by name, whose data are the runs' positions, gaps and step sizes;
- ``app.readout``: an ``ipywidgets.HTML`` with the numbers the kernel computed (final gap, divergence);
- ``app.figure``, ``app.image`` (its ``value`` holds the PNG bytes) and ``app.update()``.

ipywidgets and matplotlib are imported inside the functions, so ``import adamlab`` stays fast.
"""

from __future__ import annotations

import dataclasses
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
    """A matplotlib Figure on an Agg canvas, shown as PNG bytes in an ipywidgets.Image.

    Rendering blits. The artists an update changes (a run's line and markers, a note, a legend whose labels
    change, a title that states a number) are *animated*: the figure's own draw leaves them out, and every
    render draws them over a saved background. The background (axes, ticks, grid, contours) is drawn again
    only where matplotlib marks an axes stale, which it does when a non-animated artist or the axes' limits
    change: the axes are side by side, so the background is kept left of the first stale axes and redrawn from
    there on. The apps set limits only when they change, snapped to whole decades or round numbers and kept
    while the data still fit, so most moves of a slider redraw the runs alone (a few ms instead of tens).
    """

    def __init__(self, ncols: int, figsize: tuple[float, float]) -> None:
        import ipywidgets as w
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, dpi=_DPI, layout="constrained")
        FigureCanvasAgg(self.figure)
        axes = self.figure.subplots(1, ncols)
        self.axes: list[Axes] = list(np.atleast_1d(axes))
        # The picture's natural width, shrunk (never stretched) to fit a narrow notebook instead of scrolling.
        width = f"{int(figsize[0] * _DPI)}px"
        self.image = w.Image(format="png", layout={"width": width, "max_width": "100%", "height": "auto"})
        self._laid_out = False
        self._background: Any = None
        self._columns: list[tuple[float, float]] = []  # the pixel columns each axes drew in, left to right
        # How renders went: "full" drew the whole background, "partial" the axes from the first stale one on,
        # "blit" only the animated artists (for tests and the benchmark).
        self.draws = {"full": 0, "partial": 0, "blit": 0}

    def relayout(self) -> None:
        """Let constrained layout place the axes again at the next render (titles or tick labels changed)."""
        self._laid_out = False
        self._background = None

    def render(self) -> None:
        fig, canvas = self.figure, self.figure.canvas
        if self._background is not None and self._laid_out and not fig.stale:
            canvas.restore_region(self._background)
            self.draws["blit"] += 1
        elif not self._redraw_stale_axes():
            self._draw_background()
        renderer = canvas.get_renderer()
        live = [a for ax in self.axes for a in ax.get_children() if a.get_animated() and a.get_visible()]
        for artist in sorted(live, key=lambda a: a.get_zorder()):
            artist.draw(renderer)
        # The picture now shows everything. Drawing a legend touches its (non-animated) parts, which would mark
        # the axes stale: clear the flags, so that only what the next update changes counts.
        for ax in self.axes:
            ax.stale = False
        fig.stale = False
        self.image.value = self._png()

    def _draw_background(self) -> None:
        fig, canvas = self.figure, self.figure.canvas
        # Constrained layout costs ~40 ms a draw: compute it once, then freeze the positions. The wider gap
        # between axes (w_pad, default 3 pt) leaves room to redraw the axes right of it alone.
        if not self._laid_out:
            fig.set_layout_engine("constrained", w_pad=6 / 72)
        canvas.draw()  # everything but the animated artists
        if not self._laid_out:
            fig.set_layout_engine("none")
            self._laid_out = True
        self._columns = [self._columns_of(ax) for ax in self.axes]
        self._background = canvas.copy_from_bbox(fig.bbox)
        self.draws["full"] += 1

    def _redraw_stale_axes(self) -> bool:
        """Keep the background left of the first stale axes and redraw the axes from it on; False (and nothing
        kept) when that is not possible or saves nothing, or when the redrawn axes reach into the kept part."""
        fig, canvas = self.figure, self.figure.canvas
        stale = [i for i, ax in enumerate(self.axes) if ax.stale]
        extra = [a for a in fig.get_children() if a is not fig.patch and a not in self.axes]
        if self._background is None or not self._laid_out or not stale or stale[0] == 0 or extra:
            return False
        k = stale[0]
        # Columns from `cut` on are cleared and redrawn; text is antialiased a pixel or so beyond its extent,
        # hence the margins on both sides.
        cut = int(np.ceil(self._columns[k - 1][1])) + 2
        if self._columns[k][0] < cut + 2:
            return False
        canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        pixels = np.asarray(renderer.buffer_rgba())
        pixels[:, cut:] = np.round(np.array(fig.get_facecolor()) * 255).astype(np.uint8)
        for ax in self.axes[k:]:
            ax.draw(renderer)
        columns = [self._columns_of(ax) for ax in self.axes[k:]]
        if columns[0][0] < cut + 2:
            return False
        self._columns[k:] = columns
        self._background = canvas.copy_from_bbox(fig.bbox)
        self.draws["partial"] += 1
        return True

    def _columns_of(self, ax: Axes) -> tuple[float, float]:
        """The leftmost and rightmost pixel columns ax drew in at its last draw: the frame, the tick labels
        drawn (those within the limits), the axis labels and the titles (their layout is cached: cheap)."""
        renderer = self.figure.canvas.get_renderer()
        texts = [ax.xaxis.label, ax.yaxis.label, ax.title, ax._left_title, ax._right_title]
        for axis in (ax.xaxis, ax.yaxis):
            texts.append(axis.offsetText)
            lo, hi = sorted(axis.get_view_interval())
            slack = 1e-9 * (abs(lo) + abs(hi))
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                if lo - slack <= tick.get_loc() <= hi + slack:
                    texts += [tick.label1, tick.label2]
        left, right = ax.bbox.x0 - 2, ax.bbox.x1 + 2  # the frame's line width
        for text in texts:
            if text.get_visible() and text.get_text():
                box = text.get_window_extent(renderer)
                left, right = min(left, box.x0), max(right, box.x1)
        return left, right

    def _png(self) -> bytes:
        from PIL import Image

        canvas = self.figure.canvas
        size = canvas.get_width_height(physical=True)
        picture = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        buf = io.BytesIO()
        picture.save(buf, format="png", compress_level=1)  # level 1: a third of the time of the default 6
        return buf.getvalue()


def _animate(*artists: Any) -> None:
    """Mark artists as redrawn at every render (see _Canvas): their changes then cost no background redraw."""
    for artist in artists:
        artist.set_animated(True)


def _contour(problem: Problem, ax: Axes) -> list[Any]:
    """plots.contour on ax; returns the artists it added, the minimiser's star animated (drawn above the runs'
    lines, as in plots.path, rather than under them)."""
    before = set(ax.get_children())
    plots.contour(problem, ax)
    added = [a for a in ax.get_children() if a not in before]
    _animate(*(a for a in added if getattr(a, "get_marker", lambda: None)() == "*"))
    return added


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
        _animate(self.line, self.start, self.end, self.cross)
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
        _animate(self.line)
        ax.set_yscale("log")

    def update(self, x: np.ndarray, y: np.ndarray, name: str) -> None:
        self.line.set_data(x, np.maximum(y, _TINY))
        self.line.set_label(name)


def _set_lims(ax: Axes, xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None) -> None:
    """Set the limits that changed. Setting limits marks the axes stale, and the next render then redraws the
    whole background: setting the same limits again would cost that for nothing."""
    if xlim is not None and tuple(map(float, ax.get_xlim())) != (float(xlim[0]), float(xlim[1])):
        ax.set_xlim(float(xlim[0]), float(xlim[1]))
    if ylim is not None and tuple(map(float, ax.get_ylim())) != (float(ylim[0]), float(ylim[1])):
        ax.set_ylim(float(ylim[0]), float(ylim[1]))


def _decades(*arrays: np.ndarray, floor: float = _TINY, at_least: int = 2) -> tuple[float, float]:
    """Log-scale limits around the finite values of the arrays (floored at ``floor``): whole decades with a
    margin, at least ``at_least`` of them, so that small changes of the data keep the same axes."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])
    values = np.maximum(values[np.isfinite(values)], floor)
    if not values.size:
        return 1e-3, 1.0
    lo = np.floor(np.log10(values.min()) - 0.15)
    hi = min(np.ceil(np.log10(values.max()) + 0.15), 300.0)  # 10.0**309 would overflow
    if hi - lo < at_least:
        lo = hi - at_least
    return float(10.0**lo), float(10.0**hi)


def _sticky(current: tuple[float, float], new: tuple[float, float], log: bool = False) -> tuple[float, float]:
    """The current limits while they still suit the new ones (contain them, and the new span fills at least half
    of them), else the new ones: as a slider moves, the axes (and the saved background) then stay still."""
    (c0, c1), (n0, n1) = (np.log10(current), np.log10(new)) if log else (current, new)
    if c0 <= n0 and n1 <= c1 and n1 - n0 >= 0.5 * (c1 - c0):
        return current
    return new


def _fit_log(ax: Axes, x_max: float, *arrays: np.ndarray) -> None:
    """Fit a log-scale axes to the finite values of the arrays, in whole decades (no warning on NaN or inf)."""
    _set_lims(ax, (0, max(x_max, 1)), _sticky(ax.get_ylim(), _decades(*arrays), log=True))


def _lighten(*axes: Axes) -> None:
    """Cheaper redraws: no minor ticks on log axes, and titles pinned above the axes (placing a title
    automatically measures every tick label at every draw)."""
    from matplotlib.ticker import NullLocator

    for ax in axes:
        if ax.get_yscale() == "log":
            ax.yaxis.set_minor_locator(NullLocator())
        if ax.get_xscale() == "log":
            ax.xaxis.set_minor_locator(NullLocator())
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
        animated=True,
    )


def _set_note(note: Any, lines: Sequence[str]) -> None:
    note.set_text("\n".join(lines))
    note.set_visible(bool(lines))


def _legend(ax: Axes, handles: Sequence[Any], **kw: Any) -> Any:
    """A legend for lines whose labels change: animated, and relabelled in place by ``_relabel``."""
    labels = [h.get_label() if not h.get_label().startswith("_") else " " for h in handles]
    legend = ax.legend(handles, labels, **{"fontsize": 8, "framealpha": 0.9, **kw})
    _animate(legend, *legend.texts)  # animated texts: relabelling them does not mark the axes stale
    return legend


def _relabel(legend: Any, handles: Sequence[Any]) -> None:
    for text, handle in zip(legend.texts, handles, strict=True):
        text.set_text(handle.get_label())


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


class _Runs:
    """The runs an app computed, by their settings, so that a control recomputes only what it changed.

    ``runs(key, steps, compute)`` returns ``compute(steps)`` the first time; later, for the same key, the
    start of the run already computed when it has at least ``steps`` steps (a shorter run is the start of a
    longer one: runs are seeded), so moving the steps slider down, or any slider back, costs no run at all.
    ``head(value, steps)`` cuts a value to its first steps (``Trajectory.head`` by default).
    """

    def __init__(self, size: int = 24, head: Callable[[Any, int], Any] | None = None) -> None:
        self._runs: dict[Any, tuple[int, Any]] = {}
        self.size = size
        self._head = head or (lambda traj, steps: traj.head(steps))

    def has(self, key: Any, steps: int) -> bool:
        """Whether the run for key is known to at least ``steps`` steps."""
        return key in self._runs and self._runs[key][0] >= steps

    def __call__(self, key: Any, steps: int, compute: Callable[[int], Any]) -> Any:
        done = self._runs.pop(key, None)
        if done is None or done[0] < steps:
            done = (steps, compute(steps))
        self._runs[key] = done  # most recently used last
        while len(self._runs) > self.size:
            del self._runs[next(iter(self._runs))]
        return done[1] if done[0] == steps else self._head(done[1], steps)


def _pick(batched: Trajectory, index: int, optimizer: Any) -> Trajectory:
    """Run ``index`` of a batched run (array hyperparameters), as the run of its own ``optimizer``: the same
    numbers ``run(optimizer, ...)`` gives, computed in one call with the others."""
    return dataclasses.replace(
        batched,
        optimizer=optimizer,
        x=batched.x[:, index],
        loss=batched.loss[:, index],
        grad=batched.grad[:, index],
        state={k: v[:, index] for k, v in batched.state.items()},
        diverged_at=batched.diverged_at[index],
    )


def _log_slider(
    description: str, value: float, lo: float, hi: float, fmt: str = ".3g", *, live: bool = False
) -> ipywidgets.Widget:
    """A slider over log10 of the value. ``live``: update while the slider is dragged (continuous_update), for
    an app that answers fast; otherwise when it is let go."""
    import ipywidgets as w

    return w.FloatLogSlider(
        value=value,
        base=10,
        min=float(np.log10(lo)),
        max=float(np.log10(hi)),
        step=0.01,
        description=description,
        readout_format=fmt,
        continuous_update=live,
        style=_STYLE,
        layout={"width": _WIDTH},
    )


def _slider(
    description: str, value: float, lo: float, hi: float, step: float, fmt: str = ".2f", *, live: bool = False
) -> ipywidgets.Widget:
    import ipywidgets as w

    cls = w.IntSlider if all(isinstance(v, int) for v in (value, lo, hi, step)) else w.FloatSlider
    kw = {} if cls is w.IntSlider else {"readout_format": fmt}
    return cls(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=live,
        style=_STYLE,
        layout={"width": _WIDTH},
        **kw,
    )


def _choice(description: str, options: Sequence[Any], value: Any, *, live: bool = False) -> ipywidgets.Widget:
    import ipywidgets as w

    return w.SelectionSlider(
        options=list(options),
        value=value,
        description=description,
        continuous_update=live,
        style=_STYLE,
        layout={"width": _WIDTH},
    )


def _dropdown(description: str, options: Sequence[str], value: str, what: str) -> ipywidgets.Widget:
    """A Dropdown; a value that is not an option is refused with the valid ones (not a bare TraitError)."""
    import ipywidgets as w

    if value not in options:
        raise ValueError(f"unknown {what} {value!r}; valid {what}s: {', '.join(map(repr, options))}")
    return w.Dropdown(
        options=list(options), value=value, description=description, style=_STYLE, layout={"width": _WIDTH}
    )


def _checkbox(description: str, value: bool) -> ipywidgets.Widget:
    import ipywidgets as w

    return w.Checkbox(value=value, description=description, indent=False, layout={"width": "300px"})


def _assemble(
    title: str, controls: dict[str, ipywidgets.Widget], canvas: _Canvas, update: Callable[[], str]
) -> ipywidgets.VBox:
    """The app: a title, the controls in columns, the figure and a readout; every control re-runs update."""
    import ipywidgets as w

    readout = w.HTML(layout={"margin": "0 0 0 10px"})
    readout.add_class("adamlab-readout")  # the kernel's numbers, for a reader (and for the browser test)
    items = list(controls.values())
    for control in items:
        control.layout.width = "auto"  # fill its cell of the grid
    # As many columns of controls as the notebook's width holds (two in a usual JupyterLab window, one when narrow).
    columns = "repeat(auto-fill, minmax(430px, 1fr))"
    panel = w.GridBox(items, layout={"grid_template_columns": columns, "grid_gap": "0 24px", "width": "100%"})
    app = w.VBox([w.HTML(f"<b>{title}</b>"), panel, canvas.image, readout])
    app.add_class("adamlab-app")

    def refresh(change: object = None) -> None:
        with np.errstate(all="ignore"):
            readout.value = update()
        canvas.render()

    for control in items:
        control.observe(refresh, names="value")
    app.controls = controls
    app.canvas = canvas
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


def _nearest(options: Sequence[float], value: float) -> float:
    """The option closest to value: an app started with beta2=0.998 shows the 0.999 mark, not an error."""
    return min(options, key=lambda o: abs(o - value))


class _Landscapes:
    """The contour plots of several problems drawn once on one Axes; ``show(name)`` swaps them by visibility.

    Redrawing filled contours costs more than a whole update, so every landscape is drawn when the app is
    built and a change of problem only hides one set of artists and shows another (with its limits and title).
    """

    def __init__(self, ax: Axes, factories: dict[str, Callable[[], Problem]]) -> None:
        self.ax, self.layers, self.current = ax, {}, None
        for name, factory in factories.items():
            problem = factory()
            artists = _contour(problem, ax)
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


# --- Part 1: gradient descent to adaptive learning rates ---

_KAPPAS = (1, 2, 5, 10, 20, 50, 100)


def lr_app(kappa: float = 10, lr: float = 0.17, steps: int = 60) -> ipywidgets.VBox:
    """Gradient descent on the quadratic ½xᵀAx with eigenvalues 1 and κ: play with the learning rate.

    Below lr = 2/L (L = κ) the run converges; between 1/L and 2/L it zig-zags across the valley; above 2/L it
    diverges. Controls: ``lr``, ``kappa``, ``steps``. Lines: ``path`` and ``loss`` of ``SGD(lr)``.
    """
    controls = {
        "lr": _log_slider("lr (step size)", lr, 1e-3, 1.0, live=True),
        "kappa": _choice("κ = L/μ (condition number)", _KAPPAS, _nearest(_KAPPAS, kappa), live=True),
        "steps": _slider("steps (iterations)", steps, 5, 300, 5, live=True),
    }
    canvas = _Canvas(2, (11.0, 4.2))
    left, right = canvas.axes
    path, curve = _LivePath(left, "tab:blue"), _LiveCurve(right, "tab:blue")
    note = _note(left)
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$")
    right.grid(True, which="major", alpha=0.3)
    _animate(right.title)  # it states lr·L (set by set_text: set_title would mark the axes stale)
    drawn: dict[str, Any] = {"kappa": None}
    instances: dict[int, Problem] = {}  # one per κ, so plots' contour cache is hit on a switch back
    runs = _Runs()

    def update() -> str:
        k, lr_, n = controls["kappa"].value, controls["lr"].value, controls["steps"].value
        problem = instances.setdefault(k, problems.get("quadratic", kappa=float(k)))
        if drawn["kappa"] != k:  # a new landscape: redraw the contours underneath the live artists
            for artist in drawn.get("background", []):
                artist.remove()
            drawn["background"] = _contour(problem, left)
            drawn["kappa"] = k
        traj = runs((k, lr_), n, lambda m: run(SGD(lr=lr_), problem, m))
        name = plots.label(traj)
        path.update(traj, name)
        curve.update(np.arange(n + 1), traj.gap, name)
        _fit_log(right, n, traj.gap)
        L = problem.lipschitz
        right.title.set_text(f"lr·L = {lr_ * L:.2f}   (threshold 2: lr = 2/L = {2 / L:.3g})")
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
        "lr": _log_slider("lr (step size)", lr, 1e-3, 0.05, live=True),
        "momentum": _slider("momentum μ (velocity kept)", momentum, 0.0, 0.99, 0.01, live=True),
        "steps": _slider("steps (iterations)", steps, 10, 500, 10, live=True),
        "nesterov": _checkbox("Nesterov's look-ahead (needs μ > 0)", nesterov),
    }
    problem = problems.get("quadratic", kappa=100.0)
    canvas = _Canvas(2, (11.0, 4.2))
    left, right = canvas.axes
    _contour(problem, left)
    gd_path, gd_curve = _LivePath(left, "0.35", ls="--", lw=1.2), _LiveCurve(right, "0.35", ls="--", lw=1.2)
    path, curve = _LivePath(left, "tab:orange"), _LiveCurve(right, "tab:orange")
    note = _note(left)
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="the same lr with and without momentum")
    right.grid(True, which="major", alpha=0.3)
    legend = _legend(right, [curve.line, gd_curve.line], loc="upper right", fontsize=9)
    runs = _Runs()  # plain GD depends on lr and steps only: moving μ reruns the momentum run alone

    def update() -> str:
        lr_, mu, n = controls["lr"].value, controls["momentum"].value, controls["steps"].value
        nesterov_ = controls["nesterov"].value and mu > 0  # torch refuses Nesterov without momentum
        key, gd_key = ("momentum", lr_, mu, nesterov_), ("gd", lr_)
        if not nesterov_ and not (runs.has(key, n) or runs.has(gd_key, n)):
            # Both needed (a new lr, more steps): one batched run of SGD(lr, momentum=[μ, 0]) computes the two.
            both = run(SGD(lr=lr_, momentum=np.array([mu, 0.0])), problem, n)
            runs(key, n, lambda m: _pick(both, 0, SGD(lr_, mu)))
            runs(gd_key, n, lambda m: _pick(both, 1, SGD(lr=lr_)))
        traj = runs(key, n, lambda m: run(SGD(lr_, mu, nesterov=nesterov_), problem, m))
        gd = runs(gd_key, n, lambda m: run(SGD(lr=lr_), problem, m))
        name, gd_name = plots.label(traj), plots.label(gd) + " (no momentum)"
        path.update(traj, name)
        gd_path.update(gd, gd_name)
        curve.update(np.arange(n + 1), traj.gap, name)
        gd_curve.update(np.arange(n + 1), gd.gap, gd_name)
        _fit_log(right, n, traj.gap, gd.gap)
        _relabel(legend, [curve.line, gd_curve.line])
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
        "lr": _log_slider("lr (step size)", lr, 0.01, 3.0, live=True),
        "initial_accumulator_value": _slider(
            "G₀ (initial sum of g²)", initial_accumulator_value, 0.0, 2.0, 0.05, live=True
        ),
        "lr_decay": _slider("lr_decay (lr / (1+(t−1)·d))", lr_decay, 0.0, 0.1, 0.005, ".3f", live=True),
        "steps": _slider("steps (mini-batches of 10)", steps, 10, 500, 10, live=True),
    }
    problem = problems.get("sparse_features")
    canvas = _Canvas(3, (13.5, 4.0))
    left, middle, right = canvas.axes
    _contour(problem, left)
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
    loss_legend = _legend(right, [curve.line, sgd_curve.line], loc="upper right")
    eta_handles = [eta[0].line, eta[1].line, eta_sgd.line]
    eta_legend = _legend(middle, eta_handles, loc="upper right")
    runs = _Runs()  # SGD depends on lr and steps only

    def update() -> str:
        lr_, n = controls["lr"].value, controls["steps"].value
        opt = Adagrad(
            lr=lr_,
            lr_decay=controls["lr_decay"].value,
            initial_accumulator_value=controls["initial_accumulator_value"].value,
        )
        traj = runs(opt, n, lambda m: run(opt, problem, m, seed=0))
        sgd = runs(("sgd", lr_), n, lambda m: run(SGD(lr=lr_), problem, m, seed=0))
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
        _relabel(loss_legend, [curve.line, sgd_curve.line])
        _relabel(eta_legend, eta_handles)
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
_ALPHAS = (0.5, 0.7, 0.9, 0.95, 0.99, 0.995, 0.999)


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
    controls = {
        "problem": _dropdown("problem", list(_RMSPROP_PROBLEMS), problem, "problem"),
        "lr": _log_slider("lr (step size)", lr, 1e-4, 0.3),
        "alpha": _choice("α (memory ≈ 1/(1−α) steps)", _ALPHAS, _nearest(_ALPHAS, alpha)),
        "momentum": _slider("momentum μ (velocity kept)", momentum, 0.0, 0.95, 0.05),
        "steps": _slider("steps (iterations)", steps, 50, 1000, 50),
        "centered": _checkbox("centered (divide by the std of g, Graves 2013)", centered),
    }
    canvas = _Canvas(3, (13.5, 4.0))
    left, middle, right = canvas.axes
    landscapes = _Landscapes(left, _RMSPROP_PROBLEMS)
    ada_path, ada_curve = _LivePath(left, "0.35", ls="--", lw=1.2), _LiveCurve(right, "0.35", ls="--", lw=1.2)
    path, curve = _LivePath(left, "tab:red"), _LiveCurve(right, "tab:red")
    ada_eta = [_LiveCurve(middle, "0.35", ls="--", lw=1.2), _LiveCurve(middle, "0.35", ls=":", lw=1.6)]
    eta = [_LiveCurve(middle, "tab:red"), _LiveCurve(middle, "tab:red", ls=":", lw=2.2)]
    note = _note(left)
    middle.set(xlabel="step $t$", ylabel=r"effective lr $\eta_t$", title="step size per coordinate")
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="loss")
    for ax in (middle, right):
        ax.grid(True, which="major", alpha=0.3)
    eta_handles = [eta[0].line, eta[1].line, ada_eta[0].line, ada_eta[1].line]
    eta_legend = _legend(middle, eta_handles, loc="lower left", ncols=2)
    loss_legend = _legend(right, [curve.line, ada_curve.line], loc="lower left")
    runs = _Runs()  # AdaGrad depends on neither α nor μ: moving them reruns RMSprop alone

    def update() -> str:
        key = controls["problem"].value
        prob = landscapes.show(key)
        lr_, n = controls["lr"].value, controls["steps"].value
        opt = RMSprop(
            lr=lr_,
            alpha=controls["alpha"].value,
            momentum=controls["momentum"].value,
            centered=controls["centered"].value,
        )
        traj = runs((key, opt), n, lambda m: run(opt, prob, m))
        ada = runs((key, "adagrad", lr_), n, lambda m: run(Adagrad(lr=lr_), prob, m))
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
        _relabel(eta_legend, eta_handles)
        _relabel(loss_legend, [curve.line, ada_curve.line])
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


def _feed_head(fed: dict[str, np.ndarray], steps: int) -> dict[str, np.ndarray]:
    """The first steps of a _feed result (the gradient streams of the apps are prefixes of one draw)."""
    return {k: v[: steps + 1] if k == "x" else v[:steps] for k, v in fed.items()}


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


def _nice(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least x > 0."""
    power = 10.0 ** np.floor(np.log10(x))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= x * (1 - 1e-9)))


def _fit_linear(ax: Axes, lo: float, hi: float) -> None:
    """Linear y-limits around [lo, hi] with a margin, snapped to round numbers (so that small changes of the
    data keep the axes); a flat range gets a unit-sized window."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        lo, hi = -1.0, 1.0
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.5
    lo, hi = lo - pad, hi + pad
    step = _nice((hi - lo) / 5)
    _set_lims(ax, ylim=_sticky(ax.get_ylim(), (np.floor(lo / step) * step, np.ceil(hi / step) * step)))


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
        "beta1": _choice("β₁ (memory of m)", _BETA1S, _nearest(_BETA1S, beta1), live=True),
        "beta2": _choice("β₂ (memory of v)", _BETA2S, _nearest(_BETA2S, beta2), live=True),
        "sigma": _slider("gradient noise σ (std of g)", sigma, 0.0, 5.0, 0.1, live=True),
        "mean": _slider("mean gradient E[g]", mean, -2.0, 2.0, 0.1, live=True),
        "steps": _slider("steps (gradients seen)", steps, 50, 2000, 50, live=True),
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
    _animate(g_line, m_line, mean_line, g2_line, v_line, second_line)
    # plots.moments' legend sits at loc="best", which measures every sample at every draw: pin it instead.
    for ax, handles in ((left, [g_line, m_line, mean_line]), (right, [g2_line, v_line, second_line])):
        ax.get_legend().remove()
        _legend(ax, handles, loc="upper right", fontsize=9)
    left.set_title(r"first moment: $m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t$")
    right.set_title(r"second moment: $v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2$")
    data: dict[str, np.ndarray] = {}
    runs = _Runs(head=_feed_head)

    def update() -> str:
        b1, b2, s, mu, n = (controls[k].value for k in ("beta1", "beta2", "sigma", "mean", "steps"))
        g = mu + s * noise[:n]
        out = runs((b1, b2, s, mu), n, lambda k: _feed(Adam(lr=0.0, betas=(b1, b2)), (mu + s * noise[:k])[:, None]))
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
            _set_lims(ax, xlim=(0, n + 1))
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
        "beta1": _choice("β₁ (memory of m)", _BETA1S, _nearest(_BETA1S, beta1), live=True),
        "beta2": _choice("β₂ (memory of v)", _BETA2S, _nearest(_BETA2S, beta2), live=True),
        "noise": _slider("noise σ / E[g] (relative)", noise, 0.0, 3.0, 0.1, live=True),
        "scale": _log_slider("gradient scale E[g]", scale, 1e-6, 1e4, ".0e", live=True),
        "steps": _slider("steps (gradients seen)", steps, 10, 2000, 10, live=True),
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
        _legend(ax, [lines[name], lines[name + "_hat"], lines[name + "_expected"]], loc="lower right")
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
    _legend(ax_s, [lines["step"], lines["step_uncorrected"]], loc="lower left")
    _animate(*lines.values(), ax_s.title)
    _no_minor_ticks(ax_m, ax_v, ax_s)
    _lighten(ax_m, ax_v, ax_s)
    data: dict[str, np.ndarray] = {}
    runs = _Runs(head=_feed_head)

    def update() -> str:
        b1, b2, s, c, n = (controls[k].value for k in ("beta1", "beta2", "noise", "scale", "steps"))
        g = (c * (1 + s * xi[:n]))[:, None]

        def feed(corrected: bool) -> Callable[[int], dict[str, np.ndarray]]:
            opt = Adam(lr=1.0, betas=(b1, b2), bias_correction=corrected)
            return lambda k: _feed(opt, (c * (1 + s * xi[:k]))[:, None])

        corrected = runs((b1, b2, s, c, True), n, feed(True))
        raw = runs((b1, b2, s, c, False), n, feed(False))
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
            _set_lims(ax, xlim=(1, max(n, 2)))
        ys = np.concatenate([m / truth1, m / c1 / truth1, [0.0, 1.0]])
        _fit_linear(ax_m, float(np.min(ys)), float(min(np.max(ys), 4.0)))
        ys = np.concatenate([v / truth2, v / c2 / truth2, [0.0, 1.0]])
        _fit_linear(ax_v, float(np.min(ys)), float(min(np.max(ys), 6.0)))
        _set_lims(ax_s, ylim=_sticky(ax_s.get_ylim(), _decades(step, step_raw, [1.0], floor=1e-12), log=True))
        ax_s.title.set_text(f"the update Adam takes (E[g] = {c:.0e})")
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
    from adamlab.numpy import Adam

    controls = {
        "problem": _dropdown("problem", list(_ADAM_PROBLEMS), problem, "problem"),
        "lr": _log_slider("lr (step size)", lr, 1e-4, 3.0, live=True),
        "beta1": _choice("β₁ (memory of g)", _BETA1S, _nearest(_BETA1S, beta1), live=True),
        "beta2": _choice("β₂ (memory of g²)", _BETA2S, _nearest(_BETA2S, beta2), live=True),
        "eps": _choice("ε (added to √v̂)", _EPSILONS, _nearest(_EPSILONS, eps), live=True),
        "steps": _slider("steps (iterations)", steps, 10, 1000, 10, live=True),
        "bias_correction": _checkbox("bias correction (divide by 1 − βᵗ)", bias_correction),
        "amsgrad": _checkbox("AMSGrad (divide by the running max of v)", amsgrad),
    }
    canvas = _Canvas(3, (13.5, 4.0))
    left, middle, right = canvas.axes
    landscapes = _Landscapes(left, _ADAM_PROBLEMS)
    path, curve = _LivePath(left, "tab:purple"), _LiveCurve(right, "tab:purple")
    steps_ = [_LiveCurve(middle, "tab:purple", lw=1.2), _LiveCurve(middle, "tab:purple", ls=":", lw=1.8)]
    for i, c in enumerate(steps_):
        c.line.set_label(f"$\\theta_{i + 1}$")
    middle.axhline(1.0, ls="--", lw=1.0, color="0.4")
    note = _note(left)
    middle.set(xlabel="step $t$", ylabel=r"$|\Delta\theta_t|\ /\ \mathrm{lr}$", title="update size per coordinate")
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="loss")
    for ax in (middle, right):
        ax.grid(True, which="major", alpha=0.3)
    _legend(middle, [c.line for c in steps_], loc="lower left")
    right.title.set_fontsize(9)
    _animate(right.title)  # it names the run (set_text: set_title would mark the axes stale)
    _no_minor_ticks(middle, right)
    _lighten(middle, right)
    runs = _Runs()

    def update() -> str:
        key = controls["problem"].value
        prob = landscapes.show(key)
        lr_, n = controls["lr"].value, controls["steps"].value
        opt = Adam(
            lr=lr_,
            betas=(controls["beta1"].value, controls["beta2"].value),
            eps=controls["eps"].value,
            amsgrad=controls["amsgrad"].value,
            bias_correction=controls["bias_correction"].value,
        )
        traj = runs((key, opt), n, lambda m: run(opt, prob, m, record_state=False))
        name = f"{'AMSGrad' if opt.amsgrad else 'Adam'} lr={lr_:.3g} β=({opt.betas[0]:g}, {opt.betas[1]:g})"
        if not opt.bias_correction:
            name += " uncorrected"
        path.update(traj, name)
        t = np.arange(n + 1)
        curve.update(t, traj.gap, name)
        _fit_log(right, n, traj.gap)
        right.title.set_text(f"loss: {name}, ε={opt.eps:g}")
        dx = np.abs(np.diff(traj.x, axis=0)) / lr_
        for i, c in enumerate(steps_):
            c.update(t[1:], dx[:, i], f"$\\theta_{i + 1}$")
        _fit_log(middle, n, dx, np.array([1.0]))
        _set_note(note, _diverged_lines({name: traj}))
        lines = {"path": path.line, "loss": curve.line, "step_0": steps_[0].line, "step_1": steps_[1].line}
        _publish(app, {"adam": traj}, lines, "adam")
        finite = dx[np.isfinite(dx)]
        biggest = f"{finite.max():.3g}" if finite.size else "—"
        why = ""
        if traj.diverged and opt.eps == 0:
            why = " (with ε = 0 a coordinate whose gradient is exactly 0 divides 0 by 0)"
        return (
            f"{name}: {_gap_text(traj)}{why} after {n} steps.<br>Largest update |Δθ<sub>t</sub>| = {biggest}·lr "
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
        "lr": _log_slider("lr (step size)", lr, 1e-4, 0.1, live=True),
        "weight_decay": _log_slider("weight decay λ", weight_decay, 1e-4, 10.0, live=True),
        "scale": _log_slider("gradient size of θ₂ (θ₁: 1)", scale, 1e-2, 1e3, ".3g", live=True),
        "steps": _slider("steps (iterations)", steps, 100, 2000, 100, live=True),
    }
    canvas = _Canvas(2, (12.0, 4.0))
    ax_l2, ax_w = canvas.axes
    lines: dict[str, Any] = {}
    legends: dict[str, tuple[Any, list[Any]]] = {}
    for ax, key, title in ((ax_l2, "l2", "Adam + L2: Adam(weight_decay=λ)"), (ax_w, "adamw", "AdamW(weight_decay=λ)")):
        (none,) = ax.plot([], [], "-", lw=3.0, color="0.75", label="no decay (λ = 0)")
        (lines[f"{key}_0"],) = ax.plot([], [], "-", lw=1.8, color="tab:blue", label=r"$\theta_1$")
        (lines[f"{key}_1"],) = ax.plot([], [], "--", lw=1.8, color="tab:red", label=r"$\theta_2$")
        (decay,) = ax.plot([], [], ":", lw=1.6, color="k", label=r"$(1 - \mathrm{lr}\,\lambda)^t$ × no decay")
        lines["none" if key == "l2" else "none_w"] = none
        lines["decay" if key == "adamw" else "decay_l2"] = decay
        ax.set(xlabel="step $t$", ylabel=r"$\theta_t$", title=title)
        ax.grid(True, alpha=0.3)
        handles = [none, lines[f"{key}_0"], lines[f"{key}_1"], decay]
        legends[key] = (_legend(ax, handles, loc="lower left"), handles)
    _animate(*lines.values())
    _lighten(ax_l2, ax_w)
    data: dict[str, Any] = {}
    runs = _Runs(head=lambda fed, n: {k: _feed_head(v, n) for k, v in fed.items()})

    def feed(lr_: float, lam: float, s: float) -> Callable[[int], dict[str, dict[str, np.ndarray]]]:
        def compute(n: int) -> dict[str, dict[str, np.ndarray]]:
            signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
            g = signs * np.array([1.0, s])
            # One batched run holds Adam + L2 (row 0) and Adam without decay (row 1): weight_decay=[λ, 0].
            grads = np.broadcast_to(g[:, None], (n, 2, 2))
            both = _feed(Adam(lr=lr_, weight_decay=np.array([lam, 0.0])), grads, 1.0)
            return {"both": both, "adamw": _feed(AdamW(lr=lr_, weight_decay=lam), g, x0=1.0)}

        return compute

    def update() -> str:
        lr_, lam, s, n = (controls[k].value for k in ("lr", "weight_decay", "scale", "steps"))
        fed = runs((lr_, lam, s), n, feed(lr_, lam, s))
        l2, none = fed["both"]["x"][:, 0], fed["both"]["x"][:, 1]
        adamw = fed["adamw"]["x"]
        t = np.arange(n + 1)
        decay = (1 - lr_ * lam) ** t * none[:, 0]
        factors = {"l2": l2[-1] / none[-1], "adamw": adamw[-1] / none[-1]}
        data.update(l2=l2, adamw=adamw, none=none, factors=factors)
        for key, xs in (("l2", l2), ("adamw", adamw)):
            for i in range(2):
                lines[f"{key}_{i}"].set_data(t, xs[:, i])
            lines[f"{key}_1"].set_label(rf"$\theta_2$ (gradients of size {s:.3g})")
            lines[f"{key}_0"].set_label(r"$\theta_1$ (gradients of size 1)")
            _relabel(*legends[key])
        for name in ("none", "none_w"):
            lines[name].set_data(t, none[:, 0])
        for name in ("decay", "decay_l2"):
            lines[name].set_data(t, decay)
        everything = np.concatenate([l2.ravel(), adamw.ravel(), none.ravel(), decay])
        everything = everything[np.isfinite(everything)]
        for ax in (ax_l2, ax_w):
            _set_lims(ax, xlim=(0, n))
            _fit_linear(ax, float(everything.min()), float(everything.max()))
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
    from adamlab.numpy import Adam, NAdam

    controls = {
        "problem": _dropdown("problem", list(_ADAM_PROBLEMS), problem, "problem"),
        "lr": _log_slider("lr (step size)", lr, 1e-3, 1.0, live=True),
        "beta1": _choice("β₁ (memory of g)", _BETA1S, _nearest(_BETA1S, beta1), live=True),
        "schedule": _dropdown("momentum schedule μ_t", list(_NADAM_SCHEDULES), schedule, "schedule"),
        "steps": _slider("steps (iterations)", steps, 10, 1000, 10, live=True),
    }
    canvas = _Canvas(3, (13.5, 4.0))
    left, middle, right = canvas.axes
    landscapes = _Landscapes(left, _ADAM_PROBLEMS)
    adam_path, adam_curve = _LivePath(left, "0.35", ls="--", lw=1.2), _LiveCurve(right, "0.35", ls="--", lw=1.2)
    path, curve = _LivePath(left, "tab:green"), _LiveCurve(right, "tab:green")
    (mu_line,) = middle.plot([], [], "-", lw=2, color="tab:green", label=r"NAdam's $\mu_t$")
    (beta_line,) = middle.plot([], [], "--", lw=1.2, color="0.35", label=r"$\beta_1$ (Adam's momentum)")
    _animate(mu_line, beta_line)
    note = _note(left)
    middle.set(xlabel="step $t$", ylabel=r"momentum $\mu_t$", title="the momentum schedule", ylim=(-0.02, 1.02))
    right.set(xlabel="step $t$", ylabel=r"$f(x_t) - f(x^\star)$", title="loss")
    for ax in (middle, right):
        ax.grid(True, which="major", alpha=0.3)
    loss_legend = _legend(right, [curve.line, adam_curve.line], loc="upper right")
    _legend(middle, [mu_line, beta_line], loc="lower right")
    _no_minor_ticks(right)
    _lighten(middle, right)
    runs = _Runs()  # Adam does not depend on the schedule: changing it reruns NAdam alone

    def update() -> str:
        key = controls["problem"].value
        prob = landscapes.show(key)
        lr_, b1, n = controls["lr"].value, controls["beta1"].value, controls["steps"].value
        nadam = NAdam(lr=lr_, betas=(b1, 0.999), **_NADAM_SCHEDULES[controls["schedule"].value])
        adam_opt = Adam(lr=lr_, betas=(b1, 0.999))
        traj = runs((key, nadam), n, lambda m: run(nadam, prob, m, record_state=False))
        adam = runs((key, adam_opt), n, lambda m: run(adam_opt, prob, m, record_state=False))
        name, adam_name = f"NAdam lr={lr_:.3g}", f"Adam lr={lr_:.3g}"
        path.update(traj, name)
        adam_path.update(adam, adam_name)
        t = np.arange(n + 1)
        curve.update(t, traj.gap, name)
        adam_curve.update(t, adam.gap, adam_name)
        _fit_log(right, n, traj.gap, adam.gap)
        _relabel(loss_legend, [curve.line, adam_curve.line])
        mu = nadam.mu(t[1:])
        mu_line.set_data(t[1:], mu)
        beta_line.set_data([1, max(n, 2)], [b1, b1])
        _set_lims(middle, xlim=(1, max(n, 2)))
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


# --- Part 3: tuning and practice ---

__all__ += ["tuning_app"]

# Learning-rate schedules as multipliers of lr at step t of T (t = 1, 2, ..., T), the convention of
# adamlab.run's ``schedule``: the value at t is the multiplier for the t-th update.
_TUNING_SCHEDULES: dict[str, Callable[[int, int], float]] = {
    "constant": lambda t, T: 1.0,
    "step: ×0.1 at 50% and 75%": lambda t, T: 0.1 ** (int(t > T // 2) + int(t > 3 * T // 4)),
    "cosine": lambda t, T: 0.5 * (1 + np.cos(np.pi * (t - 1) / T)),
    "warm-up 10%, then cosine": lambda t, T: (
        t / max(T // 10, 1) if t <= T // 10 else 0.5 * (1 + np.cos(np.pi * (t - 1 - T // 10) / (T - T // 10)))
    ),
    "inverse time (old Keras decay=0.01)": lambda t, T: 1 / (1 + 0.01 * (t - 1)),
}
_TUNING_LRS = np.geomspace(1e-4, 10.0, 11)  # the sensitivity curve: two learning rates per decade
_TUNING_WDS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
_TUNING_EPSILONS = (0.0, 1e-12, 1e-8, 1e-6, 1e-4, 1e-2, 0.1, 1.0)


def _tuning_task() -> dict[str, Any]:
    """Logistic regression on the breast-cancer data, split (seed 0) into 341 training and 228 validation
    examples as in notebook 10; mini-batches of 32. Returns the training Problem and a validation loss."""
    design, labels = problems.breast_cancer_data()
    perm = np.random.default_rng(0).permutation(len(labels))
    tr, va = perm[:341], perm[341:]
    a_tr, y_tr, a_va, y_va = design[tr], labels[tr], design[va], labels[va]

    def sigmoid(z: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    def log_loss(w: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = w @ a.T
        # log(1 + e^z) as max(z, 0) + log1p(e^-|z|): exact, never overflows, 5x faster than np.logaddexp
        return np.mean(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z, axis=-1)

    def grad(w: np.ndarray) -> np.ndarray:
        return (sigmoid(w @ a_tr.T) - y_tr) @ a_tr / len(y_tr)

    def sample_grad(w: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        idx = rng.integers(0, len(y_tr), size=w.shape[:-1] + (32,))
        a = a_tr[idx]
        error = sigmoid(np.einsum("...bd,...d->...b", a, w)) - y_tr[idx]
        return np.einsum("...bd,...b->...d", a, error) / 32

    problem = Problem(
        name="breast_cancer_split",
        title="Logistic regression, breast cancer (341 training examples, batches of 32)",
        formula=r"f(w) = \frac{1}{341}\sum_i \log(1 + e^{a_i^\top w}) - y_i a_i^\top w",
        f=lambda w: log_loss(w, a_tr, y_tr),
        grad=grad,
        x0=np.zeros(design.shape[1]),
        # The training split is separable: the loss has an infimum of 0 and no minimiser. The app plots the
        # loss itself (not a gap), so the minimiser is only a placeholder.
        minimizer=np.zeros(design.shape[1]),
        bounds=None,
        sample_grad=sample_grad,
    )
    return {"problem": problem, "val_loss": lambda w: log_loss(w, a_va, y_va)}


def tuning_app(
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    steps: int = 300,
) -> ipywidgets.VBox:
    """Tune Adam by hand on a real task: logistic regression on the breast-cancer data, training and
    validation loss as you move lr, β₁, β₂, ε, the (decoupled, AdamW-style) weight decay and the schedule.

    The left panel shows the training loss (solid) and validation loss (dashed) step by step, beside Adam's
    defaults (grey). The right panel is the learning-rate sensitivity curve for the other settings as they
    stand: the final losses for 11 learning rates from 1e-4 to 10, run in the same batched call as the main
    run (a dot marks the current lr, crosses along the top the learning rates that diverged).
    Controls: ``lr``, ``beta1``, ``beta2``, ``eps``, ``weight_decay``, ``schedule``, ``steps``. Lines:
    ``train``, ``val``, ``default_train``, ``default_val``, ``sweep_train``, ``sweep_val``, ``current``.
    ``app.data`` holds ``lrs``, ``sweep_train``, ``sweep_val`` (mean of the last 10% of steps), ``train``,
    ``val`` (the main run's curves), ``final_train``, ``final_val`` and ``multipliers`` (the schedule).
    """
    import dataclasses

    import ipywidgets as w

    from adamlab.numpy import Adam

    task = _tuning_task()
    problem, val_loss = task["problem"], task["val_loss"]
    controls = {
        "lr": _log_slider("learning rate lr", lr, 1e-5, 10.0),
        "beta1": _choice("β₁ (momentum)", _BETA1S, _nearest(_BETA1S, beta1)),
        "beta2": _choice("β₂ (memory of g²)", _BETA2S, _nearest(_BETA2S, beta2)),
        "eps": _choice("ε", _TUNING_EPSILONS, _nearest(_TUNING_EPSILONS, eps)),
        "weight_decay": _choice("weight decay λ (decoupled)", _TUNING_WDS, _nearest(_TUNING_WDS, weight_decay)),
        "schedule": w.Dropdown(
            options=list(_TUNING_SCHEDULES),
            value=schedule,
            description="lr schedule",
            style=_STYLE,
            layout={"width": _WIDTH},
        ),
        "steps": _slider("steps (mini-batches)", steps, 50, 1000, 50),
    }
    canvas = _Canvas(2, (13.0, 4.3))
    left, right = canvas.axes
    (default_train,) = left.plot([], [], "-", lw=2.5, color="0.7", label="Adam defaults: training")
    (default_val,) = left.plot([], [], "--", lw=2.0, color="0.55", label="Adam defaults: validation")
    (train_line,) = left.plot([], [], "-", lw=1.6, color="tab:purple", label="your settings: training")
    (val_line,) = left.plot([], [], "--", lw=1.6, color="tab:orange", label="your settings: validation")
    left.set(yscale="log", xlabel="step $t$", ylabel="log-loss", title="training and validation loss")
    left.grid(True, which="major", alpha=0.3)
    note = _note(left)
    note.set_position((0.98, 0.98))
    note.set(ha="right", va="top")
    kw = {"marker": "o", "ms": 3.5, "lw": 1.4}
    (sweep_train,) = right.plot([], [], "-", color="tab:purple", label="final training loss", **kw)
    (sweep_val,) = right.plot([], [], "--", color="tab:orange", label="final validation loss", **kw)
    (crosses,) = right.plot(
        [], [], "x", color="crimson", ms=8, mew=2, transform=right.get_xaxis_transform(), clip_on=False
    )
    crosses.set_label("diverged")
    crosses.set_in_layout(False)
    (current,) = right.plot([], [], "o", color="k", ms=8, zorder=6, label="your lr")
    right.set(
        xscale="log",
        yscale="log",
        xlim=(_TUNING_LRS[0] / 2, _TUNING_LRS[-1] * 2),
        xlabel="learning rate (the other settings as they are)",
        ylabel="final log-loss (last 10% of steps)",
        title="learning-rate sensitivity",
    )
    right.grid(True, which="major", alpha=0.3)
    # One legend for both panels (each legend costs ~12 ms a draw): the colours mean the same on both sides.
    handles = [default_train, default_val, train_line, val_line, current, crosses]
    names = [
        "Adam's defaults: training",
        "Adam's defaults: validation",
        "training loss",
        "validation loss",
        "your lr (validation)",
        "diverged",
    ]
    right.legend(handles, names, loc="upper center", fontsize=8, framealpha=0.9, ncols=2)
    _no_minor_ticks(left, right)
    _lighten(left, right)
    defaults: dict[tuple, dict[str, np.ndarray]] = {}
    data: dict[str, Any] = {}

    def curves(traj: Trajectory, index: Any) -> tuple[np.ndarray, np.ndarray]:
        x = traj.x[(slice(None), index)]
        return traj.loss[(slice(None), index)], val_loss(x)

    def default_run(n: int) -> dict[str, np.ndarray]:
        if n not in defaults:
            traj = run(Adam(), problem, n, record_state=False)
            train, val = curves(traj, ...)
            defaults[n] = {"train": train, "val": val}
        return defaults[n]

    def update() -> str:
        lr_, b1, b2, eps_, lam, n = (
            controls[k].value for k in ("lr", "beta1", "beta2", "eps", "weight_decay", "steps")
        )
        sched_name = controls["schedule"].value
        shape = _TUNING_SCHEDULES[sched_name]
        # One batched call: the 11 learning rates of the sensitivity curve and, last, the learner's own.
        lrs = np.append(_TUNING_LRS, lr_)
        opt = Adam(lr=lrs, betas=(b1, b2), eps=eps_, weight_decay=lam, decoupled_weight_decay=True)
        constant = sched_name == "constant"  # no schedule: run() then skips re-building the optimizer each step
        traj = run(
            opt,
            problem,
            n,
            x0=np.zeros((len(lrs), problem.dim)),
            schedule=None if constant else (lambda t: shape(t, n)),
            record_state=False,
        )
        tail = slice(n - max(n // 10, 1) + 1, None)
        train, val = curves(traj, -1)
        val_tail = val_loss(traj.x[tail, :-1])
        sweep_t, sweep_v = traj.loss[tail, :-1].mean(axis=0), val_tail.mean(axis=0)
        final_train, final_val = float(train[tail].mean()), float(val[tail].mean())
        base = default_run(n)
        t = np.arange(n + 1)
        train_line.set_data(t, train)
        val_line.set_data(t, val)
        default_train.set_data(t, base["train"])
        default_val.set_data(t, base["val"])
        left.set_xlim(0, n)
        # A run that blew up leaves the top of the picture (log-loss capped at 10) instead of squashing the rest.
        _fit_logy(left, *(np.minimum(a, 10.0) for a in (train, val, base["train"], base["val"])))
        diverged = ~(np.isfinite(sweep_t) & np.isfinite(sweep_v))
        sweep_train.set_data(_TUNING_LRS, np.where(diverged, np.nan, sweep_t))
        sweep_val.set_data(_TUNING_LRS, np.where(diverged, np.nan, sweep_v))
        crosses.set_data(_TUNING_LRS[diverged], np.ones(int(diverged.sum())))
        current.set_data([lr_], [final_val] if np.isfinite(final_val) else [])
        if not np.isfinite(final_val):
            current.set_data([], [])
        _fit_logy(right, sweep_t, sweep_v, np.array([final_val, final_train]))
        multipliers = np.array([shape(k, n) for k in range(1, n + 1)], dtype=float)
        data.update(
            lrs=_TUNING_LRS,
            sweep_train=sweep_t,
            sweep_val=sweep_v,
            train=train,
            val=val,
            final_train=final_train,
            final_val=final_val,
            multipliers=multipliers,
            diverged_at=int(traj.diverged_at[-1]),
        )
        blew_up = bool(traj.diverged_at[-1] >= 0)
        worse = not blew_up and final_train > train[0]
        lines = []
        if blew_up:
            lines.append(f"diverged at step {int(traj.diverged_at[-1])}: lower lr (or λ: lr·λ = {lr_ * lam:.3g})")
        elif worse:
            lines.append("the loss ended above where it started: lr too large")
        _set_note(note, lines)
        app.lines.update(
            train=train_line,
            val=val_line,
            default_train=default_train,
            default_val=default_val,
            sweep_train=sweep_train,
            sweep_val=sweep_val,
            current=current,
        )
        app.trajectories.clear()
        app.trajectories["sweep"] = traj
        app.trajectory = traj
        app.optimizer = dataclasses.replace(opt, lr=lr_)
        ok = ~diverged
        best = (
            f"best on the curve: lr = {_TUNING_LRS[ok][np.argmin(sweep_v[ok])]:.3g} "
            f"(validation {np.min(sweep_v[ok]):.3f})"
            if ok.any()
            else "every learning rate on the curve diverged"
        )
        if blew_up:
            mine = f"<b style='color:crimson'>{lines[0]}</b>"
        else:
            mine = f"training loss {final_train:.4f}, validation loss {final_val:.4f}"
            if worse:
                mine += " <b style='color:crimson'>(worse than the start: lower the lr)</b>"
        base_t, base_v = float(base["train"][tail].mean()), float(base["val"][tail].mean())
        return (
            f"Adam(lr={lr_:.3g}, betas=({b1:g}, {b2:g}), eps={eps_:g}), decoupled λ = {lam:g}, {sched_name}, "
            f"{n} steps (final = mean of the last {max(n // 10, 1)}): {mine}.<br>"
            f"Adam's defaults (lr 1e-3): training {base_t:.4f}, validation {base_v:.4f}. "
            f"Sensitivity curve: {best}; {int(diverged.sum())} of {len(_TUNING_LRS)} learning rates diverged."
        )

    app = _assemble("Tuning Adam: lr, β₁, β₂, ε, weight decay and the schedule", controls, canvas, update)
    app.data = data
    app.update()
    return app
