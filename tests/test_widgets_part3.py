"""The part-3 app (tuning Adam), headless: every control at both ends and in the middle.

Observers fire synchronously when a test sets ``control.value``. After each change the app's curves must be what
an independent, hand-written AdamW loop computes from the gradients the run saw, the losses must be the
log-loss of its iterates, the picture must have changed, and no warning may escape.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from _widget_helpers import sweep

from adamlab import problems, widgets

X, Y = problems.breast_cancer_data()
PERM = np.random.default_rng(0).permutation(len(Y))
TRAIN, VAL = PERM[:341], PERM[341:]


def _log_loss(w_: np.ndarray, idx: np.ndarray) -> np.ndarray:
    z = w_ @ X[idx].T
    return np.mean(np.logaddexp(0, z) - Y[idx] * z, axis=-1)


SCHEDULES = {  # the formulas, written out again: multiplier of lr for the t-th update of T
    "constant": lambda t, T: np.ones_like(t, dtype=float),
    "step: ×0.1 at 50% and 75%": lambda t, T: np.where(t > 3 * T // 4, 0.01, np.where(t > T // 2, 0.1, 1.0)),
    "cosine": lambda t, T: 0.5 * (1 + np.cos(np.pi * (t - 1) / T)),
    "warm-up 10%, then cosine": lambda t, T: np.where(
        t <= T // 10, t / (T // 10), 0.5 * (1 + np.cos(np.pi * (t - 1 - T // 10) / (T - T // 10)))
    ),
    "inverse time (old Keras decay=0.01)": lambda t, T: 1 / (1 + 0.01 * (t - 1)),
}


def _adamw_by_hand(grads: np.ndarray, lr: np.ndarray, b1: float, b2: float, eps: float, lam: float) -> np.ndarray:
    """Decoupled-weight-decay Adam from 0 on a fixed gradient sequence (T, d), lr per step (T,)."""
    x, m, v = np.zeros(grads.shape[1]), 0.0, 0.0
    xs = [x]
    for t, (g, a) in enumerate(zip(grads, lr, strict=True), start=1):
        x = x * (1 - a * lam)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - a * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        xs.append(x)
    return np.array(xs)


def _check_tuning(app) -> None:
    c = {k: v.value for k, v in app.controls.items()}
    n, lr = c["steps"], c["lr"]
    d = app.data
    t = np.arange(1, n + 1)
    multipliers = SCHEDULES[c["schedule"]](t, n)
    np.testing.assert_allclose(d["multipliers"], multipliers, rtol=1e-12)
    traj = app.trajectory
    assert traj.x.shape == (n + 1, len(d["lrs"]) + 1, 31)
    np.testing.assert_allclose(d["lrs"], np.geomspace(1e-4, 10, 11))
    # The main run (the last of the batch) is AdamW with the controls' settings, step for step.
    with np.errstate(all="ignore"):
        by_hand = _adamw_by_hand(
            traj.grad[:, -1], lr * multipliers, c["beta1"], c["beta2"], c["eps"], c["weight_decay"]
        )
        diverged = int(traj.diverged_at[-1])
        upto = n + 1 if diverged < 0 else diverged  # after divergence run() stores NaN
        np.testing.assert_allclose(traj.x[:upto, -1], by_hand[:upto], rtol=1e-9, atol=1e-12)
        train, val = _log_loss(traj.x[:, -1], TRAIN), _log_loss(traj.x[:, -1], VAL)
    np.testing.assert_allclose(d["train"], train, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(d["val"], val, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(app.lines["train"].get_ydata(), train, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(app.lines["val"].get_xdata(), np.arange(n + 1))
    tail = max(n // 10, 1)
    with np.errstate(all="ignore"):
        assert d["final_val"] == pytest.approx(np.mean(val[-tail:]), rel=1e-9, nan_ok=True)
        sweep = _log_loss(traj.x[-tail:, :-1], VAL).mean(axis=0)
    np.testing.assert_allclose(d["sweep_val"], sweep, rtol=1e-9, equal_nan=True)
    shown = app.lines["sweep_val"].get_ydata()
    assert np.all(np.isnan(shown) == ~np.isfinite(sweep))  # diverged learning rates are crosses, not points
    text = app.readout.value
    assert ("diverged at step" in text) == (diverged >= 0)
    if diverged < 0:
        assert f"validation loss {np.mean(val[-tail:]):.4f}" in text
    assert f"{int((~np.isfinite(sweep)).sum())} of 11 learning rates diverged" in text


def test_tuning_app_every_control():
    sweep(widgets.tuning_app(), _check_tuning)


def test_tuning_app_defaults_then_the_learning_rate():
    app = widgets.tuning_app()  # Adam's defaults: lr 1e-3 is far too small for 300 steps here
    default_val = app.data["final_val"]
    best = app.data["lrs"][np.argmin(app.data["sweep_val"])]
    assert 3e-3 <= best <= 0.3
    app.controls["lr"].value = 0.03
    assert app.data["final_val"] < 0.6 * default_val


def test_tuning_app_extreme_settings_show_a_message_not_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = widgets.tuning_app(lr=10.0, weight_decay=1.0)  # lr * lambda = 10: theta <- -9 theta each step
        assert app.data["diverged_at"] > 0
        assert "diverged at step" in app.readout.value
        note = [t for t in app.figure.axes[0].texts if t.get_visible() and "diverged" in t.get_text()]
        assert note, "no divergence note on the picture"
        app.controls["beta2"].value = 0.0
        app.controls["eps"].value = 0.0
        app.controls["lr"].value = 1e-5
        assert app.data["diverged_at"] == -1 and "diverged at step" not in app.readout.value
