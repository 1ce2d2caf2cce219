"""The part-1 apps (lr, momentum, AdaGrad, RMSprop), headless: every control at both ends and in between.

Observers fire synchronously when a test sets ``control.value``, so after each change the app's lines must hold
exactly what ``adamlab.run.run`` computes for those settings, its readout must say so, its PNG must have changed,
and no exception or warning may escape.
"""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import numpy as np
import pytest
from _widget_helpers import sweep

import adamlab.numpy as an
from adamlab import plots, problems, widgets
from adamlab.run import run


def _assert_line(line, x, y, rtol: float = 0.0) -> None:
    """Exactly the numbers run() gives; rtol > 0 for an app that computes several runs in one batched call
    (the same arithmetic, but a matrix product over a batch may round its last bit differently)."""
    if rtol:
        np.testing.assert_allclose(line.get_xdata(), x, rtol=rtol, atol=1e-12)
        np.testing.assert_allclose(line.get_ydata(), y, rtol=rtol, atol=1e-12)
        return
    np.testing.assert_array_equal(line.get_xdata(), x)
    np.testing.assert_array_equal(line.get_ydata(), y)


def _assert_path(line, traj, rtol: float = 0.0) -> None:
    _assert_line(line, traj.x[:, 0], traj.x[:, 1], rtol)


def _assert_gap(line, traj, rtol: float = 0.0) -> None:
    _assert_line(line, np.arange(traj.steps + 1), np.maximum(traj.gap, 1e-16), rtol)


def _assert_readout(app, traj) -> None:
    text = app.readout.value
    if traj.diverged:
        assert f"diverged at step {int(traj.diverged_at)}" in text
    else:
        assert "diverged" not in text


def _check_lr(app) -> None:
    c = {k: v.value for k, v in app.controls.items()}
    problem = problems.get("quadratic", kappa=float(c["kappa"]))
    traj = run(an.SGD(lr=c["lr"]), problem, c["steps"])
    _assert_path(app.lines["path"], traj)
    _assert_gap(app.lines["loss"], traj)
    _assert_readout(app, traj)
    assert f"lr·L = {c['lr'] * problem.lipschitz:.2f}" in app.readout.value
    if not traj.diverged:
        assert f"{traj.gap[-1]:.2e}" in app.readout.value


def test_lr_app_every_control():
    sweep(widgets.lr_app(), _check_lr)


def test_lr_app_defaults_zig_zag_and_large_lr_diverges():
    app = widgets.lr_app()
    assert "zig-zagging" in app.readout.value and not app.trajectory.diverged
    app.controls["lr"].value = 1.0  # lr·L = 10 on the kappa = 10 quadratic
    assert app.trajectory.diverged
    note = [t for t in app.figure.axes[0].texts if t.get_visible()]
    assert len(note) == 1 and f"diverged at step {int(app.trajectory.diverged_at)}" in note[0].get_text()
    app.controls["lr"].value = 0.1
    assert not any(t.get_visible() for t in app.figure.axes[0].texts)


def _check_momentum(app) -> None:
    c = {k: v.value for k, v in app.controls.items()}
    problem = problems.get("quadratic", kappa=100.0)
    nesterov = c["nesterov"] and c["momentum"] > 0
    traj = run(an.SGD(lr=c["lr"], momentum=c["momentum"], nesterov=nesterov), problem, c["steps"])
    gd = run(an.SGD(lr=c["lr"]), problem, c["steps"])
    # The app runs SGD(lr, momentum=[μ, 0]) as one batched call when both runs are new.
    _assert_path(app.lines["path"], traj, rtol=1e-9)
    _assert_gap(app.lines["loss"], traj, rtol=1e-9)
    _assert_path(app.lines["gd_path"], gd, rtol=1e-9)
    _assert_gap(app.lines["gd_loss"], gd, rtol=1e-9)
    _assert_readout(app, traj)
    assert app.lines["path"].get_label() == plots.label(traj)


def test_momentum_app_every_control():
    sweep(widgets.momentum_app(), _check_momentum)


def test_momentum_app_nesterov_without_momentum_is_explained_not_raised():
    app = widgets.momentum_app(momentum=0.0, nesterov=True)
    assert "Nesterov needs μ > 0" in app.readout.value
    assert app.trajectory.optimizer.nesterov is False


def test_momentum_app_default_beats_plain_gd():
    app = widgets.momentum_app()
    assert app.trajectories["momentum"].gap[-1] < 1e-3 * app.trajectories["gd"].gap[-1]


def _check_adagrad(app) -> None:
    c = {k: v.value for k, v in app.controls.items()}
    problem = problems.get("sparse_features")
    opt = an.Adagrad(lr=c["lr"], lr_decay=c["lr_decay"], initial_accumulator_value=c["initial_accumulator_value"])
    traj = run(opt, problem, c["steps"], seed=0)
    sgd = run(an.SGD(lr=c["lr"]), problem, c["steps"], seed=0)
    _assert_path(app.lines["path"], traj)
    _assert_gap(app.lines["loss"], traj)
    _assert_path(app.lines["sgd_path"], sgd)
    _assert_gap(app.lines["sgd_loss"], sgd)
    eta = plots.effective_lr(traj)
    t = np.arange(1, c["steps"] + 1)
    _assert_line(app.lines["eta_0"], t, eta[:, 0])
    _assert_line(app.lines["eta_1"], t, eta[:, 1])
    assert f"{eta[-1, 1] / eta[-1, 0]:.2g}× larger" in app.readout.value
    assert ("diverged at step" in app.readout.value) == bool(traj.diverged or sgd.diverged)


def test_adagrad_app_every_control():
    sweep(widgets.adagrad_app(), _check_adagrad)


def test_adagrad_app_default_beats_sgd_and_favours_the_rare_feature():
    app = widgets.adagrad_app()
    ada, sgd = app.trajectories["adagrad"], app.trajectories["sgd"]
    assert ada.gap[-20:].mean() < sgd.gap[-20:].mean()
    eta = app.lines["eta_1"].get_ydata() / app.lines["eta_0"].get_ydata()
    assert eta[-1] > 2


def _check_rmsprop(app) -> None:
    c = {k: v.value for k, v in app.controls.items()}
    problem = {
        "quadratic (κ = 100)": problems.get("quadratic", kappa=100.0),
        "Rosenbrock": problems.get("rosenbrock"),
        "Beale": problems.get("beale"),
    }[c["problem"]]
    opt = an.RMSprop(lr=c["lr"], alpha=c["alpha"], momentum=c["momentum"], centered=c["centered"])
    traj = run(opt, problem, c["steps"])
    ada = run(an.Adagrad(lr=c["lr"]), problem, c["steps"])
    _assert_path(app.lines["path"], traj)
    _assert_gap(app.lines["loss"], traj)
    _assert_path(app.lines["adagrad_path"], ada)
    _assert_gap(app.lines["adagrad_loss"], ada)
    t = np.arange(1, c["steps"] + 1)
    for i in range(2):
        _assert_line(app.lines[f"eta_{i}"], t, plots.effective_lr(traj)[:, i])
        _assert_line(app.lines[f"adagrad_eta_{i}"], t, plots.effective_lr(ada)[:, i])
    assert app.figure.axes[0].get_title() == problem.title
    assert ("diverged at step" in app.readout.value) == bool(traj.diverged or ada.diverged)
    assert f"remembers about {1 / (1 - c['alpha']):.0f} steps" in app.readout.value


def test_rmsprop_app_every_control():
    sweep(widgets.rmsprop_app(steps=300), _check_rmsprop)


def test_rmsprop_app_default_keeps_moving_where_adagrad_stalls():
    app = widgets.rmsprop_app()
    assert app.trajectories["rmsprop"].gap[-1] < 1e-3 * app.trajectories["adagrad"].gap[-1]


def test_apps_stay_out_of_pyplot_and_import_lazily():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    app = widgets.lr_app()
    assert plt.get_fignums() == before  # a later plt.show() in the notebook must not show the app's figure again
    assert isinstance(app, w.VBox) and app.figure.axes
    code = "import sys, adamlab.widgets; assert 'ipywidgets' not in sys.modules and 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "opt",
    [
        an.SGD(lr=0.05),
        an.Adagrad(lr=0.5, lr_decay=0.01, initial_accumulator_value=0.1),
        an.Adagrad(lr=0.5, eps_in_sqrt=True),
        an.RMSprop(lr=0.01, alpha=0.9),
        an.RMSprop(lr=0.01, centered=True, eps_in_sqrt=True),
        an.Adadelta(lr=0.7, rho=0.8),
        an.Adagrad(lr=np.array([0.1, 0.5, 1.0])),
    ],
    ids=repr,
)
def test_effective_lr_is_the_step_per_unit_of_gradient(opt):
    """plots.effective_lr, which the apps draw, is exactly what each step multiplied the gradient by."""
    traj = run(opt, problems.get("quadratic", kappa=10.0), 30)
    eta = plots.effective_lr(traj)
    assert eta.shape == traj.grad.shape
    np.testing.assert_allclose(traj.x[1:] - traj.x[:-1], -eta * traj.grad, rtol=1e-12, atol=1e-15)


def test_effective_lr_refuses_what_it_cannot_compute():
    quad = problems.get("quadratic")
    with pytest.raises(ValueError, match="record_state=True"):
        plots.effective_lr(run(an.Adagrad(), quad, 3, record_state=False))
    with pytest.raises(ValueError, match="Adam"):
        plots.effective_lr(run(an.Adam(), quad, 3))
