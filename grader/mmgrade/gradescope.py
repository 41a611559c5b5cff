"""Gradescope's results.json: what --json writes, and what the autograder writes when there is no grade.

The format: https://gradescope-autograders.readthedocs.io/en/latest/specs/
(top level: score, execution_time, output, output_format, visibility,
stdout_visibility, tests; a test: name, number, score, max_score, status,
output, output_format, visibility).

Text is Markdown (output_format "md"): a line or two of prose, and the
grader's own text (the report's table, diagnostics, compiler errors) in
fenced code blocks, so that it shows exactly as written, in a fixed-width
font, whatever characters it holds (`*`, `_`, `#`, `<`: C and KTAP are full
of them).

Names: one chapter graded, a test is named as its rubric item
(``ch1.buddy.exhaustion``); several, the chapter comes first (``ch2:
ch1.buddy.exhaustion``), as a later chapter's rubric scores earlier
chapters' suites again under the same names.

Visibility: each test has its rubric item's (rubric.VISIBILITIES). When an
item is not "visible", the top-level output (shown to students at once)
lists only the visible items instead of the whole report, and the
autograder's stdout (the full report) is hidden from students.

Scores: each rounded to PLACES decimals; the top-level score is the sum of
the tests' scores (math.fsum, rounded alike), so that Gradescope's total is
the sum a student can add up from the tests.
"""

import math
import re

from .report import points
from .rubric import Chapter
from .score import ChapterResult, ItemResult
from .status import Status

FORMAT = "md"
PLACES = 6
# A failed build: how many lines of the compiler's output, from its first error on, each item shows.
ERROR_LINES = 20
ERROR_RE = re.compile(r"(^|\s|:)(fatal )?error:|^make(\[\d+\])?: \*\*\*|Error \d+$")


def code_block(text: str) -> str:
    """@p text as a Markdown fenced code block, with a fence longer than any run of backticks in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def score_value(value: float) -> float | int:
    """A score rounded to PLACES decimals; an int when it is whole (3, not 3.0)."""
    rounded = round(value, PLACES)
    return int(rounded) if rounded == int(rounded) else rounded


def total(scores: list[float | int]) -> float | int:
    """The sum of @p scores, as exact as floats allow, rounded like each score."""
    return score_value(math.fsum(scores))


def item_name(chapter: Chapter, name: str, several: bool) -> str:
    """A test's name: the rubric item's, after its chapter when @p several chapters are graded."""
    return f"{chapter.name}: {name}" if several else name


def compiler_errors(chapter: ChapterResult) -> list[str]:
    """A failed build's errors: the build log from its first error on (ERROR_LINES lines), else make's last lines."""
    failure = chapter.build_failure
    if failure is None:
        return []
    lines: list[str] = []
    if failure.log_path is not None:
        try:
            lines = failure.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
    first = next((index for index, line in enumerate(lines) if ERROR_RE.search(line)), None)
    if first is None:
        return list(failure.tail)
    return lines[first : first + ERROR_LINES]


def item_output(chapter: ChapterResult, result: ItemResult) -> str:
    """One test's Markdown: its status, points, configurations, details and what to do (export.item_text)."""
    from .export import item_text  # export imports this module when it writes JSON

    text = item_text(result)
    if result.status is Status.BUILD_FAILED:
        errors = compiler_errors(chapter)
        text += "\n" + ("the compiler said:\n" + "\n".join(errors) if errors else "make printed nothing")
    return code_block(text)


def top_output(results: list[ChapterResult], report: str) -> str:
    """The Markdown shown above the tests: the report, or (some item not visible) the visible items only."""
    hidden = [item for chapter in results for item in chapter.items if item.item.visibility != "visible"]
    if not hidden:
        return code_block(report)
    several = len(results) > 1
    lines = []
    for chapter in results:
        for result in chapter.items:
            if result.item.visibility == "visible":
                name = item_name(chapter.chapter, result.item.name, several)
                lines.append(f"{name}  {points(result.earned)}/{points(result.item.points)}  {result.text}")
    note = f"{len(hidden)} more test(s) show their results later (after the due date, or once grades are published)"
    return code_block("\n".join(lines) if lines else "(no test is shown now)") + f"\n\n{note}."


def results(chapters: list[ChapterResult], elapsed: float, report: str) -> dict:
    """The results object of a grading of @p chapters; @p report is the terminal report without colors."""
    several = len(chapters) > 1
    tests = []
    for chapter in chapters:
        for index, result in enumerate(chapter.items, start=1):
            tests.append(
                {
                    "name": item_name(chapter.chapter, result.item.name, several),
                    "number": f"{chapter.chapter.number}.{index}",
                    "score": score_value(result.earned),
                    "max_score": score_value(result.item.points),
                    "status": "passed" if result.passed else "failed",
                    "output": item_output(chapter, result),
                    "output_format": FORMAT,
                    "visibility": result.item.visibility,
                }
            )
    everything_visible = all(test["visibility"] == "visible" for test in tests)
    return {
        "score": total([test["score"] for test in tests]),
        "execution_time": round(elapsed),
        "output": top_output(chapters, report),
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "visibility": "visible",
        "stdout_visibility": "visible" if everything_visible else "hidden",
        "tests": tests,
    }


def unscored(chapters: list[Chapter], reason: str, elapsed: float, log: str = "") -> dict:
    """The results object when there is no grade (the grader did not finish): every item 0, saying why.

    @p reason: why, in plain text; @p log: what the grader printed (its last lines are shown).
    """
    several = len(chapters) > 1
    tests = []
    for chapter in chapters:
        for index, item in enumerate(chapter.items, start=1):
            tests.append(
                {
                    "name": item_name(chapter, item.name, several),
                    "number": f"{chapter.number}.{index}",
                    "score": 0,
                    "max_score": score_value(item.points),
                    "status": "failed",
                    "output": code_block(f"not graded (0/{points(item.points)} points): {reason}"),
                    "output_format": FORMAT,
                    "visibility": item.visibility,
                }
            )
    output = "**Not graded.**\n\n" + code_block(reason)
    if log.strip():
        output += "\n\nThe grader's last lines:\n\n" + code_block("\n".join(log.rstrip().splitlines()[-30:]))
    return {
        "score": 0,
        "execution_time": round(elapsed),
        "output": output,
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "visibility": "visible",
        "stdout_visibility": "hidden" if any(test["visibility"] != "visible" for test in tests) else "visible",
        "tests": tests,
    }
