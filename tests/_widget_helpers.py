"""Shared by the headless widget tests: the values that exercise a control, and a sweep over all of an app's."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import ipywidgets as w
import numpy as np
import pytest


def control_values(control: w.Widget) -> list:
    """Values that reach both ends of a control, a point in between and every option, ending at its default."""
    default = control.value
    if isinstance(control, w.FloatLogSlider):
        lo, hi = control.base**control.min, control.base**control.max
        values = [lo, hi, float(np.sqrt(lo * hi))]
    elif isinstance(control, w.IntSlider | w.FloatSlider):
        mid = control.min + round((control.max - control.min) / 2 / control.step) * control.step
        values = [control.min, control.max, mid]
    elif isinstance(control, w.SelectionSlider | w.Dropdown):
        options = list(control.options)
        values = [options[0], options[-1], options[len(options) // 2]] + options[1:-1]
    elif isinstance(control, w.Checkbox):
        values = [not default]
    else:
        raise TypeError(f"no test values for {type(control).__name__}")
    return values + [default]


def sweep(app, check: Callable) -> None:
    """Set every control to each of its test values; after each change the picture must have changed, no
    warning may escape, and ``check(app)`` must pass."""
    check(app)
    for name, control in app.controls.items():
        for value in control_values(control):
            if value == control.value:
                continue
            before = app.image.value
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                control.value = value
            assert control.value == pytest.approx(value) if isinstance(value, float) else control.value == value
            assert app.image.value != before, f"{name}={value!r} did not change the picture"
            assert app.image.value[:8] == b"\x89PNG\r\n\x1a\n"
            check(app)
