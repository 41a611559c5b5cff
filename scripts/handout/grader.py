"""The grader's own package, mmgrade (in the tree's grader/), as the check and --progress use it.

They grade a handout in-process through mmgrade's API and read the result
objects it returns (ItemResult: the rubric item, its Status and reason,
the points earned), never grade.py's printed table.
"""

import sys

from .tree import default_root

# scripts/handout/ -> the tree, whose grader/ holds mmgrade.
GRADER_DIR = default_root() / "grader"
if str(GRADER_DIR) not in sys.path:
    sys.path.insert(0, str(GRADER_DIR))

from mmgrade import grading, report, schedule  # noqa: E402
from mmgrade.rubric import Chapter, Item, RubricError, load  # noqa: E402
from mmgrade.score import ChapterResult, ItemResult  # noqa: E402
from mmgrade.status import Status  # noqa: E402

__all__ = ["Chapter", "ChapterResult", "GRADER_DIR", "Item", "ItemResult", "RubricError", "Status", "grading",
           "load", "report", "schedule"]  # fmt: skip
