"""Tests for adamlab.problems: gradients against finite differences, minimisers, batching, dtypes, noise."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from adamlab import problems
from adamlab.problems import PROBLEMS, Problem

STOCHASTIC = ["noisy_quadratic", "sparse_features", "logistic_regression"]
ONLINE = ["reddi", "reddi_section5"]


@pytest.fixture(scope="module", params=sorted(PROBLEMS))
def problem(request) -> Problem:
    return problems.get(request.param)


def sample_points(p: Problem, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Points of shape (*shape, d): uniform in the bounds, or around x0 and the minimiser when d > 2."""
    rng = np.random.default_rng(seed)
    if p.bounds is not None:
        lo, hi = np.array(p.bounds).T
        return rng.uniform(lo, hi, size=shape + (p.dim,))
    centre = np.where(rng.random(shape + (1,)) < 0.5, p.x0, p.minimizer)
    return centre + rng.normal(size=shape + (p.dim,))


def finite_difference_grad(p: Problem, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences, vectorised over the batch axes of x (float64)."""
    out = np.empty_like(x)
    for i in range(p.dim):
        e = np.zeros(p.dim)
        e[i] = h * max(1.0, float(np.abs(x[..., i]).max()))
        out[..., i] = (p.f(x + e) - p.f(x - e)) / (2 * e[i])
    return out


def test_import_is_light():
    # scikit-learn, torch and matplotlib load only where needed (DESIGN.md: `import adamlab` is fast).
    heavy = "{'sklearn', 'torch', 'matplotlib'}"
    code = f"import sys, adamlab.problems; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_registry_names_match_problem_names():
    for name, factory in PROBLEMS.items():
        assert factory().name == name


def test_gradient_matches_finite_differences(problem):
    x = sample_points(problem, (4, 3))
    g = problem.grad(x)
    assert g.shape == (4, 3, problem.dim)
    fd = finite_difference_grad(problem, x)
    # Relative to the gradient's size: Beale's gradient reaches 1e5 at the corners of its box.
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(g).max())))


def test_gradient_catches_a_wrong_gradient():
    # The finite-difference check must be able to fail: a gradient off by 1e-4 is caught.
    p = problems.rosenbrock()
    x = sample_points(p, (4, 3))
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(p.grad(x) * (1 + 1e-4), finite_difference_grad(p, x), rtol=1e-6, atol=1e-6)


def test_minimizer_is_stationary_or_fixed_by_projection(problem):
    if problem.project is None:
        assert np.linalg.norm(problem.grad(problem.minimizer)) < 1e-8
    else:
        # Reddi's minimiser -1 sits on the boundary, where the gradient points outwards: a projected step
        # of any small size must leave it where it is.
        for eta in (1e-3, 1e-1, 1.0):
            step = problem.project(problem.minimizer - eta * problem.grad(problem.minimizer))
            np.testing.assert_array_equal(step, problem.minimizer)


def test_minimizer_beats_random_feasible_points(problem):
    x = sample_points(problem, (500,), seed=1)
    if problem.project is not None:
        x = problem.project(x)
    assert problem.f_min == pytest.approx(float(problem.f(problem.minimizer)))
    assert np.all(problem.f_min <= problem.f(x))


def test_x0_and_minimizer_are_consistent(problem):
    assert problem.x0.shape == problem.minimizer.shape == (problem.dim,)
    assert problem.f(problem.x0) > problem.f_min  # the start point is not already optimal
    if problem.bounds is not None:
        lo, hi = np.array(problem.bounds).T
        assert np.all((lo <= problem.x0) & (problem.x0 <= hi))
        assert np.all((lo <= problem.minimizer) & (problem.minimizer <= hi))
    else:
        assert problem.dim > 2
    assert not problem.x0.flags.writeable  # a run cannot move the start point of later runs


def test_batched_equals_point_by_point(problem):
    x = sample_points(problem, (5, 4), seed=2)
    f, g = problem.f(x), problem.grad(x)
    assert f.shape == (5, 4)
    assert g.shape == (5, 4, problem.dim)
    for i in range(5):
        for j in range(4):
            np.testing.assert_allclose(f[i, j], problem.f(x[i, j]), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(g[i, j], problem.grad(x[i, j]), rtol=1e-12, atol=1e-12)
    assert problem.f(x[0, 0]).shape == ()


def test_float32_in_float32_out(problem):
    x = sample_points(problem, (3,)).astype(np.float32)
    assert problem.f(x).dtype == np.float32
    assert problem.grad(x).dtype == np.float32
    assert problem.gradient(x, 1, np.random.default_rng(0)).dtype == np.float32
    np.testing.assert_allclose(problem.grad(x), problem.grad(x.astype(np.float64)), rtol=1e-3, atol=1e-3)
    if problem.project is not None:
        assert problem.project(x).dtype == np.float32


def test_inputs_are_not_mutated(problem):
    x = sample_points(problem, (2, 3))
    before = x.copy()
    problem.f(x)
    problem.grad(x)
    problem.gradient(x, 1, np.random.default_rng(0))
    if problem.project is not None:
        problem.project(x)
    np.testing.assert_array_equal(x, before)


def test_wrong_dimension_is_rejected(problem):
    with pytest.raises(ValueError, match=rf"\(\.\.\., {problem.dim}\)"):
        problem.grad(np.zeros(problem.dim + 1))


@pytest.mark.parametrize("name", sorted(set(PROBLEMS) - set(STOCHASTIC) - set(ONLINE)))
def test_deterministic_problems_use_the_exact_gradient(name):
    p = problems.get(name)
    assert p.sample_grad is None
    x = sample_points(p, (3,))
    np.testing.assert_array_equal(p.gradient(x, 7), p.grad(x))


@pytest.mark.parametrize("name", STOCHASTIC)
def test_sample_grad_is_reproducible_and_random(name):
    p = problems.get(name)
    x = np.broadcast_to(p.x0, (3, p.dim))
    a = p.sample_grad(x, 1, np.random.default_rng(42))
    b = p.sample_grad(x, 1, np.random.default_rng(42))
    c = p.sample_grad(x, 1, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])  # each point of a batch gets its own draw
    # Without an rng: reproducible, but a fresh draw at every step.
    np.testing.assert_array_equal(p.gradient(x, 5), p.gradient(x, 5))
    assert not np.array_equal(p.gradient(x, 5), p.gradient(x, 6))


@pytest.mark.parametrize("name", STOCHASTIC)
def test_sample_grad_is_unbiased(name):
    p = problems.get(name)
    n_draws = 4000
    point = 0.5 * (p.x0 + p.minimizer) + 0.3  # away from the minimiser, so the gradient is not zero
    draws = p.sample_grad(np.broadcast_to(point, (n_draws, p.dim)), 1, np.random.default_rng(0))
    assert draws.shape == (n_draws, p.dim)
    standard_error = draws.std(axis=0) / np.sqrt(n_draws)
    assert np.all(standard_error > 0)
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - p.grad(point)), 5 * standard_error + 1e-12)


def test_noisy_quadratic_noise_has_scale_sigma():
    p = problems.noisy_quadratic(kappa=10.0, sigma=2.0)
    draws = p.sample_grad(np.zeros((20000, 2)), 1, np.random.default_rng(0))
    np.testing.assert_allclose(draws.std(axis=0), [2.0, 2.0], rtol=0.03)


def test_sparse_features_rare_coordinate():
    p = problems.sparse_features(n=1000, p_rare=0.05, seed=0)
    design, _ = problems.sparse_features_data(1000, 0.05, 0)
    assert np.all(design[:, 0] == 1.0)
    assert design[:, 1].sum() == 50
    # With 10 examples per batch and 5% rare examples, most mini-batches say nothing about coordinate 1.
    draws = p.sample_grad(np.zeros((2000, 2)), 1, np.random.default_rng(0))
    assert np.mean(draws[:, 1] == 0) == pytest.approx(0.95**10, abs=0.05)
    assert np.all(draws[:, 0] != 0)
    np.testing.assert_allclose(p.minimizer, [1.0, 2.0], atol=0.1)
    assert p.lipschitz == pytest.approx(np.linalg.eigvalsh(design.T @ design / 1000)[-1])


def test_logistic_regression_data_and_minimizer():
    p = problems.logistic_regression()
    design, labels = problems.breast_cancer_data()
    assert design.shape == (569, 31) and p.dim == 31
    np.testing.assert_allclose(design[:, :30].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(design[:, :30].std(axis=0), 1, atol=1e-12)
    assert np.all(design[:, 30] == 1)
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert np.linalg.norm(p.grad(p.minimizer)) < 1e-10
    assert p.f(p.x0) == pytest.approx(np.log(2))  # w = 0 predicts 1/2 everywhere
    # Stable at huge weights, where a naive log(1 + exp(z)) overflows.
    assert np.isfinite(p.f(np.full(31, 1e3)))
    assert np.all(np.isfinite(p.grad(np.full(31, 1e3))))


def test_quadratic_matrix_and_lipschitz():
    a = problems.quadratic_matrix(kappa=25.0, angle=30.0)
    np.testing.assert_allclose(np.linalg.eigvalsh(a), [1.0, 25.0])
    assert abs(a[0, 1]) > 1  # rotated: not diagonal
    p = problems.quadratic(kappa=25.0, angle=30.0)
    assert p.lipschitz == 25.0
    x = np.array([0.3, -1.2])
    np.testing.assert_allclose(p.grad(x), a @ x)
    np.testing.assert_allclose(p.f(x), 0.5 * x @ a @ x)
    with pytest.raises(ValueError, match="kappa"):
        problems.quadratic(kappa=0.5)


def test_saddle_has_a_saddle_at_the_origin():
    p = problems.saddle()
    np.testing.assert_array_equal(p.grad(np.zeros(2)), [0.0, 0.0])
    assert p.f_min == -0.25
    assert p.f(np.array([0.0, -1.0])) == -0.25


@pytest.mark.parametrize("C", [3.0, 5.0])
def test_reddi_online_gradients_and_losses(C):
    p = problems.reddi(C=C)
    x = np.array([[0.2], [-0.7]])
    for t, slope in zip([1, 2, 3, 4, 5, 6, 7], [C, -1, -1, C, -1, -1, C], strict=True):
        np.testing.assert_array_equal(p.sample_grad(x, t, None), np.full_like(x, slope))
        np.testing.assert_array_equal(p.gradient(x, t), np.full_like(x, slope))
        np.testing.assert_allclose(p.online_loss(x, t), slope * x[:, 0])
        np.testing.assert_allclose(problems.reddi_online_loss(x, t, C), slope * x[:, 0])
    # f is the average of f_t over a period, so the regret against -1 adds up to T·(f(x) − f(−1)).
    average = np.mean([p.online_loss(x, t) for t in (1, 2, 3)], axis=0)
    np.testing.assert_allclose(p.f(x), average)
    assert p.f_min == pytest.approx(-(C - 2) / 3)


def test_reddi_projection_clips():
    p = problems.reddi()
    x = np.array([[-3.0], [-1.0], [0.25], [1.0], [7.0]])
    np.testing.assert_array_equal(p.project(x), [[-1.0], [-1.0], [0.25], [1.0], [1.0]])
    assert p.x0.tolist() == [1.0] and p.minimizer.tolist() == [-1.0]


@pytest.mark.parametrize("C", [2.0, 1.0, -3.0])
def test_reddi_rejects_small_C(C):
    with pytest.raises(ValueError, match="C"):
        problems.reddi(C=C)


def test_reddi_section5():
    p = problems.reddi_section5()
    x = np.array([0.5])
    slopes = [float(p.sample_grad(x, t, None)[0]) for t in range(1, 203)]
    assert slopes[0] == slopes[101] == 1010.0
    assert slopes.count(1010.0) == 2 and slopes.count(-10.0) == 200
    np.testing.assert_allclose(p.grad(x), [np.mean(slopes[:101])])


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        problems.get("nope")
    message = str(info.value)
    assert "nope" in message
    assert ", ".join(sorted(PROBLEMS)) in message


def test_get_passes_keyword_arguments():
    assert problems.get("quadratic", kappa=100.0).lipschitz == 100.0
    assert problems.get("rastrigin", dim=5).bounds is None


def test_problem_is_frozen():
    p = problems.beale()
    with pytest.raises(AttributeError):
        p.x0 = np.zeros(2)
    assert "beale" in repr(p) and "<function" not in repr(p)  # the repr shows data, not closures


@pytest.mark.parametrize("name", sorted(problems.PROBLEMS))
def test_formula_draws_in_matplotlib_mathtext(name):
    """Figure titles show the formula (adamlab.plots.race): it must be LaTeX that matplotlib can parse."""
    from matplotlib.mathtext import MathTextParser

    MathTextParser("agg").parse(f"${problems.get(name).formula}$")
