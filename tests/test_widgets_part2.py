"""The part-2 apps (moments, bias correction, Adam, NAdam, weight decay), headless: every control at both ends.

Observers fire synchronously when a test sets ``control.value``, so after each change the app's lines must hold
exactly what the reference optimizers compute for those settings (recomputed here independently), its readout
must say so, its PNG must have changed, and no exception or warning may escape.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import numpy as np
import pytest
from _widget_helpers import sweep

import adamlab.numpy as an
from adamlab import problems, widgets
from adamlab.run import run

NOISE = np.random.default_rng(0).standard_normal(2000)  # the apps draw their noise once, from seed 0


def _controls(app) -> dict:
    return {k: v.value for k, v in app.controls.items()}


def _ema(x: np.ndarray, beta: float) -> np.ndarray:
    out, a = np.empty(len(x)), 0.0
    for i, xi in enumerate(x):
        a = beta * a + (1 - beta) * xi
        out[i] = a
    return out


def _assert_line(line, x, y, **tol) -> None:
    np.testing.assert_allclose(line.get_xdata(), x)
    np.testing.assert_allclose(line.get_ydata(), y, **(tol or {"rtol": 1e-12, "atol": 0}))


# --------------------------------------------------------------------------------------------------------------


def _check_moments(app) -> None:
    c = _controls(app)
    n, b1, b2 = c["steps"], c["beta1"], c["beta2"]
    g = c["mean"] + c["sigma"] * NOISE[:n]
    t = np.arange(1, n + 1)
    m, v = _ema(g, b1), _ema(g * g, b2)  # Adam's state is these two moving averages
    _assert_line(app.lines["m"], t, m, rtol=1e-10, atol=1e-12)
    _assert_line(app.lines["v"], t, v, rtol=1e-10, atol=1e-12)
    _assert_line(app.lines["g"], t, g)
    np.testing.assert_allclose(app.lines["mean"].get_ydata(), c["mean"])
    np.testing.assert_allclose(app.lines["second"].get_ydata(), c["mean"] ** 2 + c["sigma"] ** 2)
    text = app.readout.value
    assert f"m remembers about {1 / (1 - b1):.0f} steps, v about {1 / (1 - b2):.0f} steps" in text
    assert f"mean of m = {m[n // 2 :].mean():.3f}" in text
    assert ("v is still warming up" in text) == (1 - b2**n < 0.95)


def test_moments_app_every_control():
    sweep(widgets.moments_app(), _check_moments)


def test_moments_app_defaults_track_the_true_moments():
    app = widgets.moments_app()  # beta1 0.9, beta2 0.999, sigma 1, mean 1, 1000 steps
    m = app.data["m"]
    assert abs(m[500:].mean() - 1.0) < 0.1
    assert abs(m[500:].std() - np.sqrt(0.1 / 1.9)) < 0.05  # white noise through an EMA
    assert app.data["v"][-1] < 0.8 * 2.0 and "v is still warming up" in app.readout.value  # 1 - 0.999^1000 = 0.63


def _check_bias(app) -> None:
    c = _controls(app)
    n, b1, b2, scale, noise = c["steps"], c["beta1"], c["beta2"], c["scale"], c["noise"]
    g = scale * (1 + noise * NOISE[:n])
    t = np.arange(1, n + 1)
    m, v = _ema(g, b1), _ema(g * g, b2)
    c1, c2 = 1 - b1**t, 1 - b2**t
    truth1, truth2 = scale, scale**2 * (1 + noise**2)
    tol = {"rtol": 1e-9, "atol": 1e-12}
    _assert_line(app.lines["m"], t, m / truth1, **tol)
    _assert_line(app.lines["m_hat"], t, m / c1 / truth1, **tol)
    _assert_line(app.lines["v_hat"], t, v / c2 / truth2, **tol)
    _assert_line(app.lines["m_expected"], t, c1)
    _assert_line(app.lines["v_expected"], t, c2)
    step, raw = app.data["step"], app.data["step_uncorrected"]
    expected = np.abs(m / c1 / (np.sqrt(v / c2) + 1e-8))  # Adam's update at lr = 1, by hand
    np.testing.assert_allclose(step, expected, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(raw, np.abs(m / (np.sqrt(v) + 1e-8)), rtol=1e-7, atol=1e-12)
    if scale >= 1e-3:  # eps = 1e-8 negligible: the corrected first step is lr, the raw one (1-b1)/sqrt(1-b2) lr
        assert step[0] == pytest.approx(1.0, rel=1e-4)
        assert raw[0] == pytest.approx((1 - b1) / np.sqrt(1 - b2), rel=1e-3)
    assert f"moves {step[0]:.4g}·lr" in app.readout.value


def test_bias_correction_app_every_control():
    sweep(widgets.bias_correction_app(), _check_bias)


def test_bias_correction_app_beta2_near_one_means_huge_uncorrected_steps():
    app = widgets.bias_correction_app(beta2=0.9999, noise=0.0)
    assert app.data["step_uncorrected"][0] == pytest.approx(0.1 / np.sqrt(1e-4), rel=1e-6)  # 10 lr
    assert app.data["step_uncorrected"].max() > 15 and app.data["step"].max() == pytest.approx(1.0)


_PROBLEMS = {
    "Rosenbrock": problems.get("rosenbrock"),
    "quadratic (κ = 100)": problems.get("quadratic", kappa=100.0),
    "Beale": problems.get("beale"),
    "saddle": problems.get("saddle"),
}


def _check_adam(app) -> None:
    c = _controls(app)
    opt = an.Adam(
        lr=c["lr"],
        betas=(c["beta1"], c["beta2"]),
        eps=c["eps"],
        amsgrad=c["amsgrad"],
        bias_correction=c["bias_correction"],
    )
    traj = run(opt, _PROBLEMS[c["problem"]], c["steps"], record_state=False)
    _assert_line(app.lines["path"], traj.x[:, 0], traj.x[:, 1])
    _assert_line(app.lines["loss"], np.arange(c["steps"] + 1), np.maximum(traj.gap, 1e-16))
    with np.errstate(invalid="ignore"):
        dx = np.abs(np.diff(traj.x, axis=0)) / c["lr"]
    _assert_line(app.lines["step_0"], np.arange(1, c["steps"] + 1), np.maximum(dx[:, 0], 1e-16))
    assert app.figure.axes[0].get_title() == _PROBLEMS[c["problem"]].title
    assert ("diverged at step" in app.readout.value) == bool(traj.diverged)


def test_adam_app_every_control():
    sweep(widgets.adam_app(steps=200), _check_adam)


def test_adam_app_steps_stay_near_lr_and_a_run_that_leaves_the_picture_ends_in_a_cross():
    app = widgets.adam_app()
    assert np.nanmax(app.lines["step_0"].get_ydata()) <= 1.0 + 1e-9  # Rosenbrock, defaults: |dtheta| <= lr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app.controls["beta2"].value = 0.9999
        app.controls["bias_correction"].value = False  # early steps of ~10 lr ...
        app.controls["lr"].value = 3.0  # ... of 3: thrown far out of the picture
    traj = app.trajectory
    assert np.isfinite(traj.x).all() and not traj.diverged  # Adam's steps are bounded: far, but no blow-up
    (x0, x1), (y0, y1) = app.figure.axes[0].get_xlim(), app.figure.axes[0].get_ylim()
    assert not (x0 <= traj.x[-1, 0] <= x1 and y0 <= traj.x[-1, 1] <= y1)
    cross = [line for line in app.figure.axes[0].get_lines() if line.get_marker() == "X" and len(line.get_xdata())]
    assert len(cross) == 1  # the cross at the edge where the run left
    assert "f(x<sub>t</sub>) − f* =" in app.readout.value


_SCHEDULES = {
    "torch: μ_t = β₁(1 − ½·0.96^(0.004 t))": {"momentum_decay": 4e-3},
    "Keras: μ_t = β₁(1 − ½·0.96^t)": {"momentum_decay": 1.0},
    "none: μ_t = β₁": {"momentum_schedule": False},
}


def _check_nadam(app) -> None:
    c = _controls(app)
    problem = _PROBLEMS[c["problem"]]
    nadam = an.NAdam(lr=c["lr"], betas=(c["beta1"], 0.999), **_SCHEDULES[c["schedule"]])
    traj = run(nadam, problem, c["steps"], record_state=False)
    adam = run(an.Adam(lr=c["lr"], betas=(c["beta1"], 0.999)), problem, c["steps"], record_state=False)
    _assert_line(app.lines["path"], traj.x[:, 0], traj.x[:, 1])
    _assert_line(app.lines["adam_path"], adam.x[:, 0], adam.x[:, 1])
    _assert_line(app.lines["loss"], np.arange(c["steps"] + 1), np.maximum(traj.gap, 1e-16))
    t = np.arange(1, c["steps"] + 1)
    _assert_line(app.lines["mu"], t, nadam.mu(t))
    assert f"the loss rose on {int(np.sum(np.diff(traj.loss) > 0))} of" in app.readout.value


def test_nadam_app_every_control():
    sweep(widgets.nadam_app(steps=200), _check_nadam)


def test_nadam_app_torch_schedule_warms_up_slowly():
    app = widgets.nadam_app(steps=100)
    assert app.lines["mu"].get_ydata()[-1] == pytest.approx(0.457, abs=5e-3)  # torch's mu_100
    app.controls["schedule"].value = "Keras: μ_t = β₁(1 − ½·0.96^t)"
    assert app.lines["mu"].get_ydata()[-1] == pytest.approx(0.892, abs=5e-3)


def _check_weight_decay(app) -> None:
    c = _controls(app)
    n, lr, lam, s = c["steps"], c["lr"], c["weight_decay"], c["scale"]
    g = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None] * np.array([1.0, s])

    def feed(opt):
        x, state, xs = np.ones(2), opt.init(np.ones(2)), [np.ones(2)]
        for gt in g:
            x, state = opt.step(x, gt, state)
            xs.append(x)
        return np.array(xs)

    l2, adamw = feed(an.Adam(lr=lr, weight_decay=lam)), feed(an.AdamW(lr=lr, weight_decay=lam))
    none = feed(an.Adam(lr=lr))
    t = np.arange(n + 1)
    for i in range(2):
        _assert_line(app.lines[f"l2_{i}"], t, l2[:, i])
        _assert_line(app.lines[f"adamw_{i}"], t, adamw[:, i])
    _assert_line(app.lines["none"], t, none[:, 0])
    _assert_line(app.lines["decay"], t, (1 - lr * lam) ** t * none[:, 0])
    np.testing.assert_allclose(app.data["factors"]["l2"], l2[-1] / none[-1], rtol=1e-12)
    assert f"AdamW: θ₁ {adamw[-1, 0] / none[-1, 0]:.3f}" in app.readout.value


def test_weight_decay_app_every_control():
    sweep(widgets.weight_decay_app(), _check_weight_decay)


def test_weight_decay_app_defaults_large_gradients_barely_decay_under_l2():
    app = widgets.weight_decay_app()  # lr 0.01, lambda 0.01, gradient sizes 1 and 100, 1000 steps
    f_l2, f_w = app.data["factors"]["l2"], app.data["factors"]["adamw"]
    pure = (1 - 0.01 * 0.01) ** 1000
    assert f_w == pytest.approx([pure, pure], rel=0.01)
    assert f_l2[0] == pytest.approx(pure, rel=0.01) and f_l2[1] > 0.99


@pytest.mark.parametrize("name", ["moments_app", "bias_correction_app", "adam_app", "nadam_app", "weight_decay_app"])
def test_part2_apps_are_exported_and_stay_out_of_pyplot(name):
    import matplotlib.pyplot as plt

    assert name in widgets.__all__
    before = plt.get_fignums()
    app = getattr(widgets, name)()
    assert plt.get_fignums() == before
    assert isinstance(app, w.VBox) and app.figure.axes and app.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    labelled = [c for c in app.controls.values() if c.description]
    assert len(labelled) == len(app.controls)  # every control says what it is
