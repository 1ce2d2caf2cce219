"""The `adamlab race` command and the figures it draws."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import adamlab.numpy as an
from adamlab import plots, problems
from adamlab.cli import main
from adamlab.run import run


def test_race_figure_holds_every_path_and_curve():
    p = problems.get("beale")
    trs = [run(an.Adam(lr=0.1), p, 50), run(an.SGD(lr=0.05), p, 50), run(an.SGD(lr=1e-3, momentum=0.9), p, 50)]
    fig = plots.race(trs)
    left, right = fig.axes[:2]
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert labels == ["Adam lr=0.1", "SGD lr=0.05", "SGD lr=0.001 μ=0.9"]
    paths = [line for line in left.get_lines() if line.get_label() in labels]
    np.testing.assert_array_equal(paths[0].get_xdata(), trs[0].x[:, 0])
    curves = right.get_lines()
    np.testing.assert_allclose(curves[0].get_ydata(), np.maximum(trs[0].gap, 1e-16))
    notes = [t.get_text() for t in left.texts]
    assert notes == [f"SGD lr=0.05 diverged at step {int(trs[1].diverged_at)}"]


@pytest.mark.parametrize("name", sorted(problems.PROBLEMS))
def test_race_draws_on_every_problem(name):
    import io

    p = problems.get(name)
    fig = plots.race([run(an.Adam(lr=0.01), p, 20), run(an.SGD(lr=1e-3, momentum=0.9), p, 20)])
    fig.savefig(io.BytesIO(), format="png")  # titles and labels are only parsed when drawn
    if p.dim != 2:
        assert fig.axes[0].get_ylabel().startswith(r"$\|x_t")


def test_contour_needs_two_dimensions():
    with pytest.raises(ValueError, match="2-D"):
        plots.contour(problems.get("reddi"))


def test_cli_race_writes_a_png(tmp_path, capsys):
    out = tmp_path / "race.png"
    assert (
        main(["race", "--problem", "rosenbrock", "--optimizers", "sgd,adam,nadam", "--steps", "30", "--out", str(out)])
        == 0
    )
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    text = capsys.readouterr().out
    assert "adam" in text and "f - f* =" in text


def test_cli_lr_override(tmp_path, capsys):
    main(["race", "--optimizers", "sgd", "--lr", "sgd=0.5", "--steps", "20", "--out", str(tmp_path / "r.png")])
    assert "diverged at step" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--optimizers", "adam,adamm"], "unknown optimizer 'adamm'; valid optimizers: sgd, momentum"),
        (["--problem", "rosenbrok"], "valid problems: beale,"),
        (["--lr", "adam=fast", "--optimizers", "adam"], "not a number"),
        (["--lr", "sgd=0.1", "--optimizers", "adam"], "NAME=VALUE"),
        (["--steps", "0"], "--steps must be at least 1"),
    ],
)
def test_cli_errors_name_the_problem(args, message, tmp_path):
    with pytest.raises(SystemExit) as err:
        main(["race", *args, "--out", str(tmp_path / "x.png")])
    assert message in str(err.value)
    assert not (tmp_path / "x.png").exists()


def test_help_explains_every_option():
    out = subprocess.run(
        [sys.executable, "-m", "adamlab", "race", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--problem", "--optimizers", "--steps", "--lr", "--seed", "--out", "--dpi"):
        assert option in out
    assert "rosenbrock" in out and "amsgrad" in out
