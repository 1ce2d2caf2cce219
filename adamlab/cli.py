"""The `adamlab` command: `adamlab race ...`, `adamlab bench ...`, `adamlab doctor`, `adamlab lab ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from adamlab import problems
from adamlab.run import PRESET_NAMES

DEFAULT_RACERS = "sgd,momentum,adagrad,rmsprop,adam,amsgrad,nadam"


def _names(text: str, valid: Sequence[str], what: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        raise SystemExit(
            f"adamlab: error: unknown {what} {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"valid {what}s: {', '.join(valid)}"
        )
    return names


def _lrs(text: str | None, racers: Sequence[str]) -> dict[str, float]:
    """--lr adam=0.1,sgd=1e-3 -> {"adam": 0.1, "sgd": 0.001}."""
    out: dict[str, float] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        if not sep or name not in racers:
            raise SystemExit(f"adamlab: error: --lr takes NAME=VALUE pairs for the racing optimizers; got {item!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise SystemExit(f"adamlab: error: --lr {name}: {value!r} is not a number") from None
    return out


def race(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from adamlab.plots import race as race_figure
    from adamlab.run import preset, run

    problem_names = sorted(problems.PROBLEMS)
    if args.problem not in problems.PROBLEMS:
        raise SystemExit(
            f"adamlab: error: unknown problem {args.problem!r}; valid problems: {', '.join(problem_names)}"
        )
    racers = _names(args.optimizers, PRESET_NAMES, "optimizer")
    lrs = _lrs(args.lr, racers)
    if args.steps < 1:
        raise SystemExit(f"adamlab: error: --steps must be at least 1, got {args.steps}")
    problem = problems.get(args.problem)
    try:
        trajectories = [run(preset(name, lrs.get(name)), problem, args.steps, seed=args.seed) for name in racers]
    except ValueError as err:
        raise SystemExit(f"adamlab: error: {err}") from None
    fig = race_figure(trajectories)
    fig.savefig(args.out, dpi=args.dpi)
    print(f"wrote {args.out}")
    for name, traj in zip(racers, trajectories, strict=True):
        status = f"diverged at step {int(traj.diverged_at)}" if traj.diverged else f"f - f* = {float(traj.gap[-1]):.3g}"
        print(f"  {name:<9} {status}")
    return 0


def grade(args: argparse.Namespace) -> int:
    from adamlab.grading.grader import grade as grade_class

    if args.timeout <= 0 or args.jobs < 1:
        raise SystemExit("adamlab: error: --timeout must be positive and --jobs at least 1")
    try:
        rows = grade_class(args.submissions, args.out, timeout=args.timeout, jobs=args.jobs)
    except FileNotFoundError as err:
        raise SystemExit(f"adamlab: error: {err}") from None
    students = len({r.student for r in rows})
    print(f"wrote {args.out} ({len(rows)} rows, {students} students) and the feedback files beside it")
    return 0


def assign(args: argparse.Namespace) -> int:
    from adamlab.grading.assign import assign as write_exercises

    return write_exercises(args.source, args.dest, check=args.check, force=args.force)


def doctor(args: argparse.Namespace) -> int:
    from adamlab.workshop import doctor_main

    return doctor_main(as_json=args.json, kernel=not args.no_kernel)


def workspace(args: argparse.Namespace) -> int:
    from adamlab.workshop import workspace_main

    return workspace_main(args.dir, dry_run=args.dry_run, verbose=args.verbose)


def site(args: argparse.Namespace) -> int:
    from adamlab.workshop import CourseNotFound, build_site

    if args.jobs < 1 or args.timeout <= 0:
        raise SystemExit("adamlab: error: --jobs must be at least 1 and --timeout positive")
    try:
        return build_site(args.out, jobs=args.jobs, timeout=args.timeout, execute=not args.no_execute, only=args.only)
    except CourseNotFound as err:
        raise SystemExit(f"adamlab: error: {err}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adamlab", description="adamlab: the optimizers of deep learning, step by step."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "race",
        help="race optimizers on a test problem and draw their paths and loss curves",
        description="Race optimizers on a test problem: paths on the contour plot beside the loss curves.",
    )
    p.add_argument(
        "--problem",
        default="rosenbrock",
        help=f"test problem, one of: {', '.join(sorted(problems.PROBLEMS))} (default: rosenbrock)",
    )
    p.add_argument(
        "--optimizers",
        default=DEFAULT_RACERS,
        help=f"comma-separated racers, from: {', '.join(PRESET_NAMES)} (default: {DEFAULT_RACERS})",
    )
    p.add_argument("--steps", type=int, default=300, help="number of steps (default: 300)")
    p.add_argument(
        "--lr", default=None, metavar="NAME=VALUE,...", help="learning rates to override, e.g. adam=0.1,sgd=0.002"
    )
    p.add_argument("--seed", type=int, default=0, help="seed for stochastic problems (default: 0)")
    p.add_argument("--out", default="race.png", help="picture to write, PNG/SVG/PDF by extension (default: race.png)")
    p.add_argument("--dpi", type=int, default=110, help="resolution of a PNG (default: 110)")
    p.set_defaults(func=race)

    g = sub.add_parser(
        "grade",
        help="grade a class: SUBMISSIONS/<student>/<notebook>.ipynb -> grades.csv and feedback files",
        description="Grade every SUBMISSIONS/<student>/<notebook>.ipynb, each notebook in its own kernel with a "
        "time limit. Writes a CSV (student, notebook, exercise, points, max_points, feedback) and one feedback "
        "file per student. Interrupted? Run the same command again: graded notebooks are kept in a journal.",
    )
    g.add_argument("submissions", help="folder with one sub-folder per student")
    g.add_argument("--out", default="grades.csv", help="CSV to write (default: grades.csv)")
    g.add_argument("--timeout", type=float, default=120.0, help="seconds per notebook (default: 120)")
    g.add_argument("--jobs", type=int, default=1, help="notebooks graded in parallel (default: 1)")
    g.set_defaults(func=grade)

    a = sub.add_parser(
        "assign",
        help="write exercises/ from solutions/ (solution regions replaced by stubs)",
        description="Write the exercise notebooks from the solution notebooks: every ### BEGIN SOLUTION / "
        "### END SOLUTION region becomes a stub, outputs are cleared.",
    )
    a.add_argument("--source", default="solutions", help="solution notebooks (default: solutions)")
    a.add_argument("--dest", default="exercises", help="where the exercises go (default: exercises)")
    a.add_argument("--check", action="store_true", help="write nothing; fail if dest is out of date")
    a.add_argument("--force", action="store_true", help="replace exercise files that differ (keeping .bak)")
    a.set_defaults(func=assign)

    b = sub.add_parser(
        "bench",
        help="benchmarks: adamlab.torch step time against torch.optim (see `adamlab bench --help`); "
        "`adamlab bench --widgets`: the widget apps' update time per control",
        add_help=False,
    )
    b.set_defaults(func=None)

    d = sub.add_parser(
        "doctor",
        help="check that this machine is ready for the course (one line per check; exit 1 if something blocks it)",
        description="Preflight check for a workshop machine: Python, package versions, the widgets extension, "
        "matplotlib, torch and the GPU (informational), a kernel start, free disk. One line per check: OK, WARN or "
        "FAIL with what to do. Exit status 1 when a check FAILs.",
    )
    d.add_argument("--json", action="store_true", help="print the checks as JSON")
    d.add_argument("--no-kernel", action="store_true", help="skip starting a kernel (the slowest check, about 1 s)")
    d.set_defaults(func=doctor)

    w = sub.add_parser(
        "workspace",
        help="copy the course (notebooks/, exercises/) into your own folder; never overwrites a file",
        description="Copy notebooks/ and exercises/ into DIR to work in. A file already in DIR is never "
        "overwritten and nothing is deleted: run it again after an update to add what is new; it lists the files "
        "it left alone and those with a newer version in the course.",
    )
    w.add_argument("dir", nargs="?", default="adamlab-workspace", help="the folder (default: adamlab-workspace)")
    w.add_argument("--dry-run", action="store_true", help="say what would be copied; write nothing")
    w.add_argument("--verbose", action="store_true", help="list every file copied")
    w.set_defaults(func=workspace)

    sub.add_parser(
        "lab",
        help="copy the course into DIR (as `workspace`) and open JupyterLab there (see `adamlab lab --help`)",
        add_help=False,
    ).set_defaults(func=None)

    s = sub.add_parser(
        "site",
        help="run every notebook and write a static HTML site with a course map (for reading without a kernel)",
        description="Execute every notebook in notebooks/ and exercises/ and render it to static HTML in OUT, with "
        "figures embedded, links between notebooks pointing at their pages and an index.html with the course map.",
    )
    s.add_argument("--out", default="site", help="folder to write (default: site)")
    s.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default: 2)")
    s.add_argument("--timeout", type=float, default=300.0, help="seconds per cell (default: 300)")
    s.add_argument("--no-execute", action="store_true", help="render the notebooks as they are, without running them")
    s.add_argument("--only", nargs="*", default=[], metavar="PREFIX", help="only notebooks whose name starts so")
    s.set_defaults(func=site)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"] and "--widgets" in argv:  # the widget apps' update times: adamlab.widget_bench
        from adamlab import widget_bench

        return widget_bench.main(argv[1:])
    if argv[:1] == ["bench"]:
        from adamlab import bench

        return bench.main(argv[1:])
    if argv[:1] == ["lab"]:  # DIR, then any arguments for jupyter lab, passed on as they are
        from adamlab.workshop import lab_main

        return lab_main(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)
