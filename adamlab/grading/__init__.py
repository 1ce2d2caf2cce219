"""Graded exercises: instant feedback (``check``), the batch grader and exercise generation.

In an exercise notebook::

    from adamlab.grading import check
    check("adam", adam_step)
"""

from adamlab.grading.check import check
from adamlab.grading.items import ITEMS

__all__ = ["check", "ITEMS"]
