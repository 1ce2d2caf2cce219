"""Every app in adamlab.widgets, every control: the ends of every slider, points between, every option, and the
ends together with every option, with warnings turned into errors. A run that diverges must say so in the
picture and in the readout; nothing may raise, warn or print NaN. Also: the blitted picture is the picture a
full redraw gives, and the widget benchmark prints its table.
"""

from __future__ import annotations

import io
import random
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import numpy as np
import pytest
from PIL import Image

import adamlab.numpy as an
from adamlab import problems, widget_bench, widgets
from adamlab.run import run

APPS = list(widgets.__all__)


def _ends(control: w.Widget) -> list | None:
    """A slider's two ends (None for a control with options)."""
    if isinstance(control, w.FloatLogSlider):
        return [control.base**control.min, control.base**control.max]
    if isinstance(control, w.IntSlider | w.FloatSlider):
        return [control.min, control.max]
    return None


def _between(control: w.Widget) -> list:
    """Three values inside a slider's range, on its steps."""
    if isinstance(control, w.FloatLogSlider):
        exponents = control.min + np.array([0.2, 0.5, 0.8]) * (control.max - control.min)
        return [float(control.base**e) for e in np.round(exponents / control.step) * control.step]
    k = round((control.max - control.min) / control.step)
    values = [control.min + round(k * f) * control.step for f in (0.2, 0.5, 0.8)]
    return [int(v) for v in values] if isinstance(control, w.IntSlider) else values


def _options(control: w.Widget) -> list | None:
    """Every option of a dropdown, selection slider or checkbox (None for a slider)."""
    if isinstance(control, w.SelectionSlider | w.Dropdown):
        return list(control.options)
    if isinstance(control, w.Checkbox):
        return [not control.value, control.value]
    return None


def _set(app, name: str, value) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning is a failure: a learner would see it under the widget
        app.controls[name].value = value
    _check_sane(app, f"{name}={value!r}")


def _check_sane(app, where: str) -> None:
    settings = {k: c.value for k, c in app.controls.items()}
    context = f"after {where}; controls {settings}"
    assert app.image.value[:8] == b"\x89PNG\r\n\x1a\n", context
    text = app.readout.value
    assert text and not re.search(r"\bnan\b", text, re.IGNORECASE), f"readout {text!r} {context}"
    for name, traj in app.trajectories.items():
        if np.ndim(traj.diverged_at) or not traj.diverged:
            continue
        step = int(traj.diverged_at)
        assert f"diverged at step {step}" in text, f"{name} diverged, the readout does not say so: {context}"
        notes = [t.get_text() for t in app.figure.axes[0].texts if t.get_visible()]
        assert any(f"diverged at step {step}" in n for n in notes), f"no note on the plot for {name}: {context}"
        crosses = [ln for ln in app.figure.axes[0].get_lines() if ln.get_marker() == "X" and len(ln.get_xdata())]
        assert crosses, f"no cross where {name} diverged: {context}"


# The sweeps are classes so that pytest-xdist's --dist loadscope spreads them over the workers.


class TestEveryControlAlone:
    @pytest.mark.parametrize("name", APPS)
    def test_at_its_ends_between_and_every_option(self, name):
        app = getattr(widgets, name)()
        _check_sane(app, "building")
        for key, control in app.controls.items():
            default = control.value
            values = _options(control) or (_ends(control) + _between(control))
            for value in values + [default]:
                _set(app, key, value)
                assert control.value == pytest.approx(value) if isinstance(value, float) else control.value == value


class TestSliderEndsWithOptions:
    @pytest.mark.parametrize("name", APPS)
    def test_every_option_of_every_other_control(self, name):
        """E.g. adam_app with the largest lr on every problem, every β₂ and ε = 0; the fewest steps with each."""
        app = getattr(widgets, name)()
        sliders = {k: c for k, c in app.controls.items() if _ends(c)}
        choices = {k: c for k, c in app.controls.items() if _options(c)}
        for key, slider in sliders.items():
            default = slider.value
            for end in _ends(slider):
                _set(app, key, end)
                for other, control in choices.items():  # each left at its last option: more combinations still
                    for option in _options(control):
                        _set(app, other, option)
            _set(app, key, default)


@pytest.mark.parametrize("name", APPS)
def test_every_slider_at_its_top_and_at_its_bottom_at_once(name):
    app = getattr(widgets, name)()
    for end in (1, 0):
        for key, control in app.controls.items():
            if _ends(control):
                _set(app, key, _ends(control)[end])


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("lr_app", {"lr": 10.0, "kappa": 1000, "steps": 10**6}),
        ("momentum_app", {"lr": 10.0, "momentum": 1.5, "nesterov": True, "steps": 0}),
        ("adagrad_app", {"lr": 10.0, "initial_accumulator_value": -1.0, "lr_decay": 5.0}),
        ("rmsprop_app", {"lr": 10.0, "alpha": 0.98, "momentum": 2.0, "centered": True}),
        ("moments_app", {"beta1": 1.0, "beta2": 0.9999, "sigma": 100.0, "mean": -10.0, "steps": 1}),
        ("bias_correction_app", {"beta1": 0.0, "beta2": 0.9999, "noise": 10.0, "scale": 1e-12}),
        ("adam_app", {"problem": "saddle", "lr": 10.0, "beta2": 0.9999, "eps": 0.0, "bias_correction": False}),
        ("nadam_app", {"problem": "Beale", "lr": 10.0, "beta1": 0.999}),
        ("weight_decay_app", {"lr": 10.0, "weight_decay": 1e6, "scale": 1e-9, "steps": 1}),
    ],
)
def test_values_outside_the_controls_are_clamped_to_the_nearest_setting(name, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = getattr(widgets, name)(**kwargs)
    _check_sane(app, f"{name}(**{kwargs})")
    for key, value in kwargs.items():
        control = app.controls[key]
        if _ends(control):
            lo, hi = _ends(control)
            assert control.value == pytest.approx(min(max(value, lo), hi))


@pytest.mark.parametrize("name", ["rmsprop_app", "adam_app", "nadam_app"])
def test_an_unknown_problem_is_refused_with_the_valid_names(name):
    with pytest.raises(ValueError, match=r"unknown problem 'himmelblau'; valid problems: .*'quadratic \(κ = 100\)'"):
        getattr(widgets, name)(problem="himmelblau")


@pytest.mark.parametrize(
    "name, key, value", [("lr_app", "lr", 1.0), ("momentum_app", "lr", 0.05), ("adagrad_app", "lr", 3.0)]
)
def test_a_diverging_run_is_marked_where_it_blew_up(name, key, value):
    """(The adaptive methods' steps are bounded by about lr: they leave the picture instead, see part 2.)"""
    app = getattr(widgets, name)()
    _set(app, key, value)  # _check_sane: the readout, a note on the plot and a cross for every diverged run
    diverged = {k: t for k, t in app.trajectories.items() if t.diverged}
    assert diverged, f"{name} with {key}={value} should diverge"
    for run_name, traj in diverged.items():
        finite = np.isfinite(traj.x).all(axis=1)
        assert finite[: int(traj.diverged_at)].all() and not finite[int(traj.diverged_at) :].any(), run_name
        line = app.lines["path" if traj is app.trajectory else f"{run_name}_path"]
        np.testing.assert_array_equal(line.get_xdata(), traj.x[:, 0])  # the path stops where the run blew up


# --- recompute only what changed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "problem, opt",
    [
        (problems.get("sparse_features"), an.Adagrad(lr=0.5)),  # mini-batches drawn from the seeded generator
        (problems.get("quadratic", kappa=10.0), an.SGD(lr=0.25)),  # lr·L = 2.5: diverges on the way
        (problems.get("rosenbrock"), an.Adam(lr=np.array([0.01, 0.1, 3.0]))),
    ],
    ids=["adagrad-stochastic", "sgd-diverging", "adam-batched"],
)
def test_a_shorter_run_is_the_head_of_a_longer_one(problem, opt):
    """What the apps rely on to show fewer steps without running again."""
    long = run(opt, problem, 80, seed=0)
    for steps in (0, 1, 7, 40, 80):
        short, head = run(opt, problem, steps, seed=0), long.head(steps)
        for name in ("x", "loss", "grad", "diverged_at"):
            np.testing.assert_array_equal(getattr(head, name), getattr(short, name), err_msg=f"{name} at {steps}")
        assert head.state.keys() == short.state.keys()
        for name in short.state:
            np.testing.assert_array_equal(head.state[name], short.state[name])
    if np.ndim(long.diverged_at) == 0 and long.diverged:
        assert long.diverged and not long.head(int(long.diverged_at) - 1).diverged
    with pytest.raises(ValueError, match="from 0 to 80"):
        long.head(81)


def test_an_app_runs_only_what_a_control_changed(monkeypatch):
    calls = []

    def counting_run(opt, problem, steps, **kw):
        calls.append((type(opt).__name__, steps))
        return run(opt, problem, steps, **kw)

    monkeypatch.setattr(widgets, "run", counting_run)
    app = widgets.nadam_app(steps=500)
    assert sorted(calls) == [("Adam", 500), ("NAdam", 500)]
    calls.clear()
    app.controls["schedule"].value = "none: μ_t = β₁"
    assert calls == [("NAdam", 500)]  # Adam does not depend on the schedule
    calls.clear()
    app.controls["steps"].value = 200  # the start of the runs already computed
    app.controls["schedule"].value = "torch: μ_t = β₁(1 − ½·0.96^(0.004 t))"  # computed before, 500 steps
    app.controls["steps"].value = 500
    assert calls == []
    app.controls["lr"].value = 0.01
    assert sorted(calls) == [("Adam", 500), ("NAdam", 500)]


def test_momentum_and_plain_gd_run_as_one_batched_call(monkeypatch):
    calls = []

    def counting_run(opt, problem, steps, **kw):
        calls.append(np.shape(opt.momentum))
        return run(opt, problem, steps, **kw)

    monkeypatch.setattr(widgets, "run", counting_run)
    app = widgets.momentum_app()
    assert calls == [(2,)]  # SGD(lr, momentum=[μ, 0])
    gd = run(an.SGD(lr=app.controls["lr"].value), problems.get("quadratic", kappa=100.0), 200)
    np.testing.assert_allclose(app.trajectories["gd"].x, gd.x, rtol=1e-9, atol=1e-12)
    calls.clear()
    app.controls["momentum"].value = 0.5
    assert calls == [()]  # plain gradient descent is kept
    calls.clear()
    app.controls["nesterov"].value = True
    assert calls == [()]
    calls.clear()
    app.controls["lr"].value = 0.02
    assert calls == [(), ()]  # Nesterov cannot share a batch with μ = 0


# --- the picture: blitting must not change it ------------------------------------------------------------------


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _random_value(control: w.Widget, rng: random.Random):
    if _options(control):
        return rng.choice(_options(control))
    return rng.choice(_ends(control) + _between(control))


class TestFastRender:
    @pytest.mark.parametrize("name", APPS)
    def test_draws_what_a_full_redraw_draws(self, name):
        """Renders keep the background (or its left part) and redraw the runs on top; after any change the PNG
        must equal, pixel for pixel, the figure drawn from scratch."""
        rng = random.Random(name)
        app = getattr(widgets, name)()
        for _ in range(12):
            key = rng.choice(list(app.controls))
            _set(app, key, _random_value(app.controls[key], rng))
            fast = _pixels(app.image.value)
            app.canvas.relayout()  # forget the background: the next render draws everything
            app.canvas._laid_out = True  # ... at the same layout
            app.canvas.render()
            message = f"{key}={app.controls[key].value!r}"
            np.testing.assert_array_equal(fast, _pixels(app.image.value), err_msg=message)


@pytest.mark.parametrize(
    "name, key",
    [("lr_app", "lr"), ("adam_app", "eps"), ("adam_app", "beta1"), ("nadam_app", "schedule"), ("moments_app", "beta1")],
)
def test_moving_a_control_does_not_redraw_the_whole_figure(name, key):
    """The speed comes from redrawing only what changed: a sweep of these controls is mostly blits."""
    app = getattr(widgets, name)()
    control = app.controls[key]
    values = _options(control) or (_between(control) + _ends(control))
    before = dict(app.canvas.draws)
    for value in values:
        control.value = value
    full = app.canvas.draws["full"] - before["full"]
    assert full <= len(values) // 3, app.canvas.draws


# --- adamlab bench --widgets -----------------------------------------------------------------------------------


def test_widget_bench_prints_a_row_per_control(capsys):
    assert widget_bench.main(["--apps", "lr_app,adam_app", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "_app" in line]
    expected = [(app, key) for app in ("lr_app", "adam_app") for key in getattr(widgets, app)().controls]
    assert [tuple(c.strip() for c in row.strip("|").split("|")[:2]) for row in rows] == expected
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        median, worst = float(cells[2]), float(cells[3])
        assert 0 < median <= worst and int(cells[4]) > 0
    assert "| app | control | median ms | max ms | changes |" in out


def test_widget_bench_refuses_an_unknown_app(capsys):
    with pytest.raises(SystemExit, match="unknown app 'nope_app'"):
        widget_bench.main(["--apps", "nope_app"])


def test_adamlab_bench_widgets_goes_to_the_widget_bench(monkeypatch):
    from adamlab import cli

    seen = []
    monkeypatch.setattr(widget_bench, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["bench", "--widgets", "--repeats", "1"]) == 0
    assert seen == [["--widgets", "--repeats", "1"]]
