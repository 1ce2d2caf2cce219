"""Runs inside a submission's own kernel, after its cells: collects the graded answers' outputs as JSON.

Only plain numbers leave the kernel; the grader judges them in its own process.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from adamlab.grading import guard
from adamlab.grading.items import ITEMS, collect


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return {
            "__array__": [x if math.isfinite(x) else str(x) for x in value.astype(np.float64).ravel().tolist()],
            "shape": list(value.shape),
        }
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def run(names: list[str], namespace: dict[str, Any], out_path: str) -> None:
    results: dict[str, Any] = {}
    for name in names:
        item = ITEMS[name]
        if item.target not in namespace:
            results[name] = {"missing": f"the notebook defines no {item.target}"}
            continue
        try:
            with guard.watch() as calls:
                outputs = collect(item, namespace[item.target])
            results[name] = {"outputs": _plain(outputs), "calls": calls}
        except BaseException as err:  # noqa: BLE001 - one broken answer must not hide the others
            results[name] = {"missing": f"collecting {item.target} failed: {type(err).__name__}: {err}"[:300]}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(results, f)


def load(data: Any) -> Any:
    """The inverse of _plain, for the grader: nested dicts with arrays rebuilt (no pickle, no code)."""
    if isinstance(data, dict):
        if "__array__" in data:
            flat = np.array([float(x) for x in data["__array__"]], dtype=np.float64)
            return flat.reshape([int(n) for n in data["shape"]])
        return {k: load(v) for k, v in data.items()}
    return data
