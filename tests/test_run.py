"""adamlab.run: trajectories, seeding, batching, divergence, schedules and projections."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

import adamlab.numpy as an
from adamlab import problems
from adamlab.run import PRESET_NAMES, preset, run


def test_trajectory_records_every_step_and_matches_a_hand_loop():
    p = problems.get("rosenbrock")
    opt = an.Adam(lr=0.05, amsgrad=True)
    tr = run(opt, p, 40)
    assert tr.x.shape == (41, 2) and tr.loss.shape == (41,) and tr.grad.shape == (40, 2)
    assert set(tr.state) == {"m", "v", "v_max"} and tr.state["m"].shape == (41, 2)
    x, s = p.x0.copy(), opt.init(p.x0)
    for t in range(40):
        g = p.grad(x)
        np.testing.assert_array_equal(tr.grad[t], g)
        x, s = opt.step(x, g, s)
        np.testing.assert_array_equal(tr.x[t + 1], x)
        np.testing.assert_array_equal(tr.state["v_max"][t + 1], s.v_max)
    assert tr.loss[-1] == p.f(x) and tr.final_loss == p.f(x)
    assert not tr.diverged and tr.diverged_at == -1


def test_stochastic_runs_are_seeded():
    p = problems.get("noisy_quadratic")
    a, b = run(an.SGD(lr=0.05), p, 50, seed=1), run(an.SGD(lr=0.05), p, 50, seed=1)
    c = run(an.SGD(lr=0.05), p, 50, seed=2)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.allclose(a.x, c.x)
    exact = run(an.SGD(lr=0.05), p, 50, stochastic=False)
    np.testing.assert_array_equal(exact.grad[0], p.grad(p.x0))


def test_batched_run_equals_runs_one_by_one():
    p = problems.get("rosenbrock")
    lrs, beta1s = np.geomspace(1e-3, 0.3, 30), np.linspace(0.0, 0.99, 30)
    grid = an.Adam(lr=lrs[:, None], betas=(beta1s[None, :], 0.999))
    tr = run(grid, p, 500, record_state=False)
    assert tr.x.shape == (501, 30, 30, 2)
    for i, j in [(0, 0), (7, 29), (29, 3), (15, 15)]:
        one = run(an.Adam(lr=lrs[i], betas=(beta1s[j], 0.999)), p, 500)
        np.testing.assert_allclose(tr.x[:, i, j], one.x, rtol=1e-12, atol=1e-12)


def test_divergence_is_recorded_quietly():
    p = problems.get("rosenbrock")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = run(an.SGD(lr=np.array([1e-3, 0.5])), p, 30)
    assert tr.diverged.tolist() == [False, True]
    k = int(tr.diverged_at[1])
    assert 1 <= k <= 30
    assert np.isfinite(tr.x[:k, 1]).all() and np.isnan(tr.x[k:, 1]).all() and np.isnan(tr.loss[k:, 1]).all()
    assert np.isfinite(tr.x[:, 0]).all()


def test_reddi_counterexample_adam_to_plus_one_amsgrad_to_minus_one():
    """Reddi, Kale & Kumar (2018), Theorem 1 with C = 3, alpha_t = 0.1/sqrt(t), beta1 = 0, beta2 = 1/(1+C^2)."""
    p = problems.reddi(C=3.0)
    betas = (0.0, 1 / (1 + 3.0**2))
    adam, ams = (
        run(cls(lr=0.1, betas=betas), p, 30_000, schedule=lambda t: 1 / np.sqrt(t), record_state=False)
        for cls in (an.Adam, an.AMSGrad)
    )
    assert adam.final_x[0] > 0.999  # DESIGN: +1.000
    assert ams.final_x[0] < -0.99  # DESIGN: -0.9996
    assert np.all(np.abs(adam.x) <= 1) and np.all(np.abs(ams.x) <= 1)  # projected onto [-1, 1]


def test_presets_and_errors():
    for name in PRESET_NAMES:
        assert isinstance(preset(name), an.Optimizer)
    assert preset("adam", lr=0.0).lr == 0.0
    assert preset("momentum").momentum == 0.9
    with pytest.raises(ValueError, match="valid names: sgd, momentum"):
        preset("adamm")
    p = problems.get("beale")
    with pytest.raises(ValueError, match="coordinates"):
        run(an.SGD(), p, 5, x0=np.zeros(3))
    with pytest.raises(ValueError, match="steps"):
        run(an.SGD(), p, -1)
    assert run(an.SGD(), p, 0).x.shape == (1, 2)


def test_run_does_not_touch_the_problem_or_x0():
    p = problems.get("quadratic")
    x0 = np.array([1.0, 2.0])
    tr = run(dataclasses.replace(an.SGD(), lr=0.1), p, 10, x0=x0)
    assert x0.tolist() == [1.0, 2.0] and p.x0.tolist() == problems.get("quadratic").x0.tolist()
    assert tr.x[0].tolist() == [1.0, 2.0]
