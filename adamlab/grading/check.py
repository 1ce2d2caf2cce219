"""Instant feedback: ``check("adam", adam_step)`` under each exercise."""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from adamlab.grading import guard
from adamlab.grading.items import ITEMS, NOT_ATTEMPTED, CaseResult, Item, collect, judge

__all__ = ["check", "evaluate"]


def evaluate(item: Item, outputs: dict[str, Any], delegation: str | None) -> list[CaseResult]:
    """Points and messages for one item: judged case by case, or 0 for a delegating answer."""
    if delegation:
        return [CaseResult("own implementation", False, f"0 points: {delegation}", 0)]
    return judge(item, outputs)


def _source_reason(item: Item, obj: Any) -> str | None:
    """The static look, for a live object: its source, with its module's globals resolving the names."""
    if item.kind not in ("step", "torch_class"):
        return None
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        namespace = getattr(obj, "__globals__", None) or vars(inspect.getmodule(obj))
    except (OSError, TypeError):
        return None
    known = {}
    for key, value in namespace.items():
        if inspect.ismodule(value):
            known[key] = value.__name__
        elif inspect.isclass(value) or inspect.isfunction(value):
            known[key] = f"{value.__module__}.{value.__qualname__}"
    return guard.static_reason([source], getattr(obj, "__name__", item.target), known)


def check(name: str, obj: Any) -> None:
    """Run the hidden cases of exercise ``name`` on ``obj`` and print a pass or fail per case with a hint.

    Never raises, so a notebook runs top to bottom before it is finished; a stub says "not attempted yet".
    """
    try:
        item = ITEMS.get(name)
        if item is None:
            print(f"check: unknown exercise {name!r}; the exercises are: {', '.join(ITEMS)}")
            return
        with guard.watch() as calls:
            outputs = collect(item, obj)
        delegation = _source_reason(item, obj)
        if calls and not delegation:
            delegation = f"{item.target} calls {', '.join(calls)}: implement the update yourself"
        results = evaluate(item, outputs, delegation)
    except Exception as err:  # the checker must never stop a learner's notebook
        print(f"check({name!r}): the checker could not run ({type(err).__name__}: {err})")
        return
    print(f"{item.title} [{name}]")
    if all(r.message == NOT_ATTEMPTED for r in results):
        print(f"  {NOT_ATTEMPTED}: {item.target} still raises NotImplementedError or is None")
        print(f"  0/{item.points} points")
        return
    for r in results:
        mark = "pass" if r.passed else "FAIL"
        print(f"  {mark}  {r.label}" + ("" if r.passed else f": {r.message}"))
    points = sum(r.points for r in results)
    print(f"  {points:g}/{item.points} points" + ("  - well done!" if points == item.points else ""))
