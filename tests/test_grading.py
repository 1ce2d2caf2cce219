"""Exercises and grading: solutions get full marks, stubs get 0, known bugs lose points, bad submissions
are contained, interrupted runs resume, exercises/ stays generated from solutions/."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from adamlab.grading import check
from adamlab.grading.assign import assign, render, strip_source
from adamlab.grading.check import evaluate
from adamlab.grading.grader import NOTEBOOKS, grade
from adamlab.grading.items import ITEMS, collect

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"


def _namespace(path: Path, edit=lambda src: src) -> dict:
    """Run a notebook's code cells (with `check` silenced) in a fresh namespace, in this process."""
    ns: dict = {}
    with redirect_stdout(io.StringIO()):
        for cell in nbformat.read(str(path), as_version=4).cells:
            if cell.cell_type == "code":
                exec(compile(edit(cell.source), str(path), "exec"), ns)  # noqa: S102 - our own notebooks
    return ns


def _points(name: str, obj) -> float:
    return sum(r.points for r in evaluate(ITEMS[name], collect(ITEMS[name], obj), None))


# ----------------------------------------------------------------------------------------------------------


def test_exercises_are_generated_from_solutions():
    sols = sorted(p.name for p in SOLUTIONS.glob("*.ipynb"))
    assert sols == sorted(p.name for p in EXERCISES.glob("*.ipynb")) and len(sols) == 5
    for name in sols:
        assert (EXERCISES / name).read_text(encoding="utf-8") == render(SOLUTIONS / name), (
            f"exercises/{name} is out of date: run `adamlab assign --force`"
        )
    assert assign(SOLUTIONS, EXERCISES, check=True) == 0


def test_about_twenty_items_over_every_stage():
    assert len(ITEMS) == 20
    kinds = {i.kind for i in ITEMS.values()}
    assert kinds == {"step", "value", "torch_class", "tuning"}
    assert set(NOTEBOOKS) == {p.stem for p in SOLUTIONS.glob("*.ipynb")}


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS))
def test_solutions_get_full_marks_and_exercises_zero(notebook):
    solved = _namespace(SOLUTIONS / f"{notebook}.ipynb")
    blank = _namespace(EXERCISES / f"{notebook}.ipynb")
    for item in NOTEBOOKS[notebook]:
        assert _points(item.name, solved[item.target]) == item.points, item.name
        assert _points(item.name, blank[item.target]) == 0, item.name


# Known-buggy variants of the solutions, made by editing their source: each must lose points on each item
# it applies to.
MUTATIONS = {
    "no bias correction": [(r"m / \(1 - beta1\*\*t\)", "m"), (r"v(_max)? / \(1 - beta2\*\*t\)", r"v\1")],
    "t off by one": [(r"beta1\*\*t\b", "beta1**(t + 1)"), (r"beta2\*\*t\b", "beta2**(t + 1)")],
    "g in place of g squared": [(r"grad\*\*2", "grad")],
    "eps inside the root": [(r"np\.sqrt\((\w+)\) \+ eps", r"np.sqrt(\1 + eps)")],
    "betas swapped": [(r"\bbeta1\b", "BETA_TMP"), (r"\bbeta2\b", "beta1"), ("BETA_TMP", "beta2")],
    "L2 in place of decoupled decay": [
        (r"theta = theta \* \(1 - lr \* weight_decay\)", "grad = grad + weight_decay * theta")
    ],
    "sign flipped": [(r"theta = theta - ", "theta = theta + ")],
    "momentum without dampening": [(r"\(1 - dampening\) \* ", "")],
    "squares summed without the square": [(r"state\[\"G\"\] \+ grad\*\*2", 'state["G"] + grad')],
}


def _mutate(src: str, rules) -> str:
    if "### BEGIN SOLUTION" not in src:
        return src
    head, _, rest = src.partition("### BEGIN SOLUTION")
    body, _, tail = rest.partition("### END SOLUTION")  # mutate only the answer, not the signature
    for pattern, repl in rules:
        body = re.sub(pattern, repl, body)
    return head + "### BEGIN SOLUTION" + body + "### END SOLUTION" + tail


def test_every_known_bug_loses_points():
    applied = {m: 0 for m in MUTATIONS}
    for notebook in NOTEBOOKS:
        path = SOLUTIONS / f"{notebook}.ipynb"
        sources = {c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"}
        for mutation, rules in MUTATIONS.items():
            if all(_mutate(s, rules) == s for s in sources):
                continue
            ns = _namespace(path, lambda s, rules=rules: _mutate(s, rules))
            for item in NOTEBOOKS[notebook]:
                if item.kind != "step":
                    continue
                if ns[item.target].__code__.co_code == _namespace(path)[item.target].__code__.co_code:
                    continue  # this mutation does not touch this item
                applied[mutation] += 1
                assert _points(item.name, ns[item.target]) < item.points, f"{mutation} survives in {item.name}"
    assert all(applied.values()), f"mutations that touched nothing: {[m for m, n in applied.items() if not n]}"


def test_hints_name_the_mistake():
    ns = _namespace(SOLUTIONS / "04_spot_the_bug.ipynb")
    out = io.StringIO()
    with redirect_stdout(out):
        check("bug_bias_correction", ns["buggy_bias_step"])
        check("bug_eps", ns["buggy_eps_step"])
        check("bug_weight_decay", ns["buggy_adamw_step"])
        check("adam", lambda *a, **k: (_ for _ in ()).throw(NotImplementedError()))
        check("no_such_item", None)
        check("adam", 42)
    text = out.getvalue()
    assert "m and v match, theta does not" in text
    assert "the bias correction does not change with t" in text
    assert "eps is inside the square root" in text
    assert "the weight decay enters the gradient (L2)" in text
    assert "not attempted yet" in text
    assert "unknown exercise 'no_such_item'" in text
    assert "should be a function" in text


def test_a_flipped_sign_is_named():
    ns = _namespace(SOLUTIONS / "03_adam.ipynb", lambda s: _mutate(s, MUTATIONS["sign flipped"]))
    out = io.StringIO()
    with redirect_stdout(out):
        check("adam", ns["adam_step"])
    assert "the update has the wrong sign" in out.getvalue()


def test_delegating_answers_score_zero():
    out = io.StringIO()
    import adamlab.numpy as an

    def adam_step(theta, grad, state, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        x, s = an.Adam(lr, (beta1, beta2), eps).step(
            theta, grad, an.AdamState(state["t"], state["m"], state["v"], None)
        )
        return x, {"t": s.t, "m": s.m, "v": s.v}

    with redirect_stdout(out):
        check("adam", adam_step)
    assert "0/4 points" in out.getvalue() and "adamlab.numpy" in out.getvalue()


# ----------------------------------------------------------------------------------------------------------
# The batch grader, with real kernels.

BAD_CELLS = {
    "raises": "raise RuntimeError('boom')",
    "endless": "while True:\n    pass",
    "floods": "for _ in range(3000):\n    print('x' * 1000)",
    "deletes": (
        "import os, shutil\nfor name in os.listdir('.'):\n    os.remove(name)\nshutil.rmtree('..', ignore_errors=True)"
    ),
    "delegates": (
        "import adamlab.numpy as an\n"
        "def adam_step(theta, grad, state, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):\n"
        "    s = an.AdamState(state['t'], state['m'], state['v'], None)\n"
        "    x, s = an.Adam(lr, (beta1, beta2), eps).step(theta, grad, s)\n"
        "    return x, {'t': s.t, 'm': s.m, 'v': s.v}\n"
    ),
}


def _submission(tmp: Path, student: str, extra: str | None = None, drop: str | None = None) -> None:
    """A copy of the 03_adam solution, with one bad cell put in the middle, or one function removed."""
    nb = nbformat.read(str(SOLUTIONS / "03_adam.ipynb"), as_version=4)
    if drop:
        nb.cells = [c for c in nb.cells if f"def {drop}(" not in c.source]
    if extra:
        nb.cells.insert(len(nb.cells) - 4, nbformat.v4.new_code_cell(extra))
    (tmp / student).mkdir(parents=True)
    nbformat.write(nb, str(tmp / student / "03_adam.ipynb"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs")
    _submission(subs, "alice")
    for student, cell in BAD_CELLS.items():
        _submission(subs, student, extra=cell)
    _submission(subs, "missing_fn", drop="amsgrad_step")
    (subs / "invalid").mkdir()
    (subs / "invalid" / "03_adam.ipynb").write_text("{ this is not json", encoding="utf-8")
    (subs / "invalid" / "notes.ipynb").write_text("{}", encoding="utf-8")
    (subs / "=cmd").mkdir()  # a name a spreadsheet would run as a formula
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    log = io.StringIO()
    grade(subs, out, timeout=25, jobs=2, log=log)
    return subs, out, log.getvalue()


def _table(out: Path) -> dict[tuple[str, str, str], dict]:
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["student", "notebook", "exercise", "points", "max_points", "feedback"]
    return {(r["student"], r["notebook"], r["exercise"]): r for r in rows}


def _total(table, student, notebook="03_adam"):
    return sum(float(r["points"]) for (s, n, _), r in table.items() if s == student and n == notebook)


def test_bad_submissions_are_contained(graded):
    subs, out, log = graded
    table = _table(out)
    full = sum(i.points for i in NOTEBOOKS["03_adam"])
    assert _total(table, "alice") == full
    # code that raises, floods its output or deletes its working directory costs nothing that still works
    for student in ("raises", "floods", "deletes"):
        assert _total(table, student) == full, (
            student,
            [r["feedback"] for (s, *_), r in table.items() if s == student],
        )
    assert "raised (RuntimeError: boom)" in table[("raises", "03_adam", "adam")]["feedback"]
    assert "MB of output" in table[("floods", "03_adam", "adam")]["feedback"]
    # an endless loop is stopped; the answers defined before it are still collected and judged, those
    # after it were never defined (the two questions at the end: 2 points)
    assert "past the 25 s limit" in table[("endless", "03_adam", "adam")]["feedback"]
    assert table[("endless", "03_adam", "adam")]["points"] == "4"
    assert "defines no adam_first_step" in table[("endless", "03_adam", "adam_first_step")]["feedback"]
    assert _total(table, "endless") == full - 2
    # delegation scores 0 on that item only
    assert table[("delegates", "03_adam", "adam")]["points"] == "0"
    assert "adamlab.numpy" in table[("delegates", "03_adam", "adam")]["feedback"]
    assert _total(table, "delegates") == full - 4
    # a missing function: 0 with the reason, the rest graded
    assert "defines no amsgrad_step" in table[("missing_fn", "03_adam", "amsgrad")]["feedback"]
    assert _total(table, "missing_fn") == full - 4
    # invalid JSON: 0 everywhere with the reason; the other notebooks were not submitted
    assert _total(table, "invalid") == 0
    assert "not a valid notebook" in table[("invalid", "03_adam", "adam")]["feedback"]
    assert "not submitted" in table[("alice", "01_sgd_momentum", "gd")]["feedback"]
    # the submissions themselves are untouched
    assert (subs / "deletes" / "03_adam.ipynb").exists()


def test_csv_and_feedback_files(graded):
    subs, out, log = graded
    text = out.read_text(encoding="utf-8")
    assert "\n'=cmd," in text  # spreadsheet formula neutralised
    students = {p.name for p in subs.iterdir()}
    folder = out.with_name("grades_feedback")
    assert {p.stem for p in folder.glob("*.md")} == students
    alice = (folder / "alice.md").read_text(encoding="utf-8")
    assert "Total: 18 / 63 points" in alice and "## 03_adam" in alice
    assert "notes.ipynb" in (folder / "invalid.md").read_text(encoding="utf-8")


def test_interrupted_run_resumes_and_keeps_old_grades(graded, tmp_path):
    subs, out, _ = graded
    journal = out.with_name(out.name + ".journal.jsonl")
    lines = journal.read_text(encoding="utf-8").splitlines()
    before = out.read_text(encoding="utf-8")
    # an interrupted run: the journal holds all but the last 3 notebooks, and a line cut short
    journal.write_text("\n".join(lines[:-3]) + "\n" + lines[-3][:40], encoding="utf-8")
    out.write_text("an instructor's notes\n", encoding="utf-8")
    log = io.StringIO()
    grade(subs, out, timeout=25, jobs=2, log=log)
    assert f"grading 3 notebooks ({len(lines) - 3} already graded)" in log.getvalue()
    assert out.read_text(encoding="utf-8") == before
    assert out.with_name("grades.csv.bak").read_text(encoding="utf-8") == "an instructor's notes\n"
    # a changed submission is graded again, and only it
    shutil.copy(SOLUTIONS / "01_sgd_momentum.ipynb", subs / "alice" / "01_sgd_momentum.ipynb")
    log = io.StringIO()
    grade(subs, out, timeout=25, jobs=1, log=log)
    assert "grading 1 notebooks" in log.getvalue()
    assert _total(_table(out), "alice", "01_sgd_momentum") == 13


# ----------------------------------------------------------------------------------------------------------
# adamlab assign


def test_stubs():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    ### END SOLUTION\n    return y"
    assert strip_source(src) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n    return y"
    assert strip_source("### BEGIN SOLUTION\na = 1\nb = 2\n### END SOLUTION") == (
        "a = None  # YOUR ANSWER HERE\nb = None  # YOUR ANSWER HERE"
    )
    with pytest.raises(ValueError, match="without an END"):
        strip_source("### BEGIN SOLUTION\na = 1")


def test_assign_never_overwrites_a_changed_exercise_without_force(tmp_path, capsys):
    dest = tmp_path / "ex"
    assert assign(SOLUTIONS, dest) == 0
    target = dest / "01_sgd_momentum.ipynb"
    nb = json.loads(target.read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = "a learner's notes"
    target.write_text(json.dumps(nb), encoding="utf-8")
    mine = target.read_text(encoding="utf-8")
    assert assign(SOLUTIONS, dest) == 1
    assert target.read_text(encoding="utf-8") == mine and "--force" in capsys.readouterr().out
    assert assign(SOLUTIONS, dest, check=True) == 1
    assert assign(SOLUTIONS, dest, force=True) == 0
    assert target.with_name(target.name + ".bak").read_text(encoding="utf-8") == mine
