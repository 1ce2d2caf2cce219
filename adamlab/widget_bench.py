"""`adamlab bench --widgets`: how long each widget app takes to answer a change of each of its controls.

An update is what a learner waits for after letting go of a slider: the app's observer runs the optimizers
again (or reuses what it computed), updates the figure's artists and renders the PNG into the Image widget,
all headless on matplotlib's Agg canvas, as in a kernel. Every control visits points across its whole range
(the ends included, in a shuffled order, so that both small and large moves count) and every option; the table
gives the median and the worst update per control, in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["main", "measure", "values_for"]

POSITIONS = 8  # points visited across a slider's range, its two ends included


def values_for(control: Any, rng: random.Random) -> list[Any]:
    """The values a control visits: ``POSITIONS`` points across a slider's range in a shuffled order (on its
    steps, the ends included) or every option of a dropdown; each list ends with the control's default."""
    import ipywidgets as w
    import numpy as np

    default = control.value
    if isinstance(control, w.Checkbox):
        return [not default, default]
    if isinstance(control, w.SelectionSlider | w.Dropdown):
        values = [o for o in control.options if o != default]
    else:
        lo, hi, step = control.min, control.max, control.step
        positions = np.round(np.linspace(0, round((hi - lo) / step), POSITIONS))
        exponents = lo + positions * step
        if isinstance(control, w.FloatLogSlider):
            values = [float(control.base**e) for e in exponents]
        elif isinstance(control, w.IntSlider):
            values = [int(e) for e in exponents]
        else:
            values = [float(e) for e in exponents]
        rng.shuffle(values)
    return values + [default]


def measure(name: str, repeats: int = 3, seed: int = 0) -> dict[str, Any]:
    """Build the app ``name`` and time every change of every control, ``repeats`` rounds.

    Returns ``{"build": seconds, "controls": {control: [seconds per change, ...]}}``.
    """
    import warnings

    from adamlab import widgets

    rng = random.Random(seed)
    start = time.perf_counter()
    app = getattr(widgets, name)()
    build = time.perf_counter() - start
    times: dict[str, list[float]] = {key: [] for key in app.controls}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning here is a bug in the app, not noise to time
        for _ in range(repeats):
            for key, control in app.controls.items():
                for value in values_for(control, rng):
                    if value == control.value:
                        continue
                    start = time.perf_counter()
                    control.value = value  # the observer runs synchronously: update + render
                    times[key].append(time.perf_counter() - start)
    return {"build": build, "controls": times}


def _machine() -> str:
    import matplotlib
    import numpy as np

    cpus = os.cpu_count() or 0
    return (
        f"{cpus}-core {platform.machine()} ({platform.system()}), Python {platform.python_version()}, "
        f"NumPy {np.__version__}, matplotlib {matplotlib.__version__} (Agg)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="adamlab bench --widgets",
        description="Median and worst time per change of each control of each widget app, the PNG render "
        "included (headless, matplotlib's Agg canvas): what a learner waits for after moving a control.",
    )
    parser.add_argument("--widgets", action="store_true", help="(this benchmark; accepted for `adamlab bench`)")
    parser.add_argument("--apps", default=None, help="comma-separated apps, e.g. lr_app,adam_app (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds through every control (default: 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the order the slider positions are visited in")
    args = parser.parse_args(list(argv) if argv is not None else None)

    import matplotlib

    matplotlib.use("Agg")
    from adamlab import widgets

    names = list(widgets.__all__)
    if args.apps:
        chosen = [n.strip() for n in args.apps.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in names]
        if unknown or not chosen:
            raise SystemExit(
                f"adamlab: error: unknown app {', '.join(map(repr, unknown)) or '(none given)'}; "
                f"valid apps: {', '.join(names)}"
            )
        names = chosen
    if args.repeats < 1:
        raise SystemExit("adamlab: error: --repeats must be at least 1")

    print(f"Widget update times: {_machine()}; {args.repeats} round(s) through every control.")
    print("One change = the app's observer: the runs, the artists and the PNG render into the Image widget.")
    print()
    print("| app | control | median ms | max ms | changes |")
    print("|---|---|---:|---:|---:|")
    worst: tuple[float, str] = (0.0, "")
    builds = []
    for name in names:
        result = measure(name, repeats=args.repeats, seed=args.seed)
        builds.append(f"{name} {1000 * result['build']:.0f}")
        for key, times in result["controls"].items():
            median = 1000 * statistics.median(times)
            print(f"| {name} | {key} | {median:.0f} | {1000 * max(times):.0f} | {len(times)} |", flush=True)
            worst = max(worst, (median, f"{name} {key}"))
    print()
    print(f"Slowest median: {worst[0]:.0f} ms ({worst[1]}). Building each app (ms): {', '.join(builds)}.")
    return 0
