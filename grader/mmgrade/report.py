"""The terminal report: one table per chapter, what went wrong, and the closing line."""

import shlex
from pathlib import Path

from .build import BuildFailure
from .qemu import Boot
from .score import ChapterResult, ItemResult
from .status import Status

COLORS = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}
INDENT = "  "
DETAIL_INDENT = "      "


class Painter:
    """Wraps text in ANSI colors, or leaves it alone when colors are off."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, color: str) -> str:
        """@p text in @p color (a key of COLORS)."""
        if not self.enabled:
            return text
        return f"\033[{COLORS[color]}m{text}\033[0m"

    def status(self, status: Status, reason: str | None = None) -> str:
        """A status (and its reason) colored by what it means."""
        text = status.line(reason)
        if status is Status.PASSED:
            return self(text, "green")
        if status is Status.SKIPPED:
            return self(text, "yellow")
        return self(text, "red")


def render(results: list[ChapterResult], paint: Painter) -> str:
    """The whole terminal report, closing line included."""
    return "".join(chapter_block(result, paint) for result in results) + summary(results)


def chapter_block(result: ChapterResult, paint: Painter) -> str:
    """One chapter's part of the report (printed as soon as the chapter is graded)."""
    return "\n".join(chapter_lines(result, paint)) + "\n\n"


def summary(results: list[ChapterResult], timing: str = "") -> str:
    """The end of the report: the total over several chapters, @p timing (if any), then the closing line."""
    lines = failed_recap(results)
    if len(results) > 1:
        earned = sum(result.earned for result in results)
        total = sum(result.max_points for result in results)
        lines.append(f"total: {points(earned)}/{points(total)} points")
    if timing:
        lines.append(timing)
    lines.append(closing_line(results))
    return "\n".join(lines) + "\n"


RECAP_LIMIT = 10


def failed_recap(results: list[ChapterResult]) -> list[str]:
    """The failed items again, next to the closing line: a CI log that keeps only its tail still names them.

    ``failed: 2 items`` then a line per item (its status, the configurations
    it failed in), at most RECAP_LIMIT of them, then ``... and N more``; a
    chapter whose build failed is one line. Nothing when every item passed.
    """
    lines: list[str] = []
    count = 0
    for result in results:
        failed = [item for item in result.items if not item.passed]
        count += len(failed)
        if result.build_failure is not None and failed:
            lines.append(f"{INDENT}{result.chapter.name}: all {len(failed)} items: {Status.BUILD_FAILED.line()}")
            continue
        for item in failed:
            where = f"  [{config_list(item)}]" if item.configs else ""
            lines.append(f"{INDENT}{item.item.name}: {item.text}{where}")
    if not count:
        return []
    shown = lines[:RECAP_LIMIT]
    if len(lines) > RECAP_LIMIT:
        shown.append(f"{INDENT}... and {len(lines) - RECAP_LIMIT} more (in the tables above)")
    return [f"failed: {count} item{'s' if count != 1 else ''}"] + shown


def timing_line(elapsed: float, counts, jobs: int) -> str:
    """``time: 17.3 s wall, 16 boots for 33 configurations (11 shared, 0 confirmations), 4 at a time``.

    @p counts: schedule.Counts (boots made, shared by several chapters,
    confirmations, configurations graded).
    """
    if counts.boots == counts.configurations:
        boots = f"{counts.boots} boots"
    else:
        boots = (
            f"{counts.boots} boots for {counts.configurations} configurations "
            f"({counts.shared} shared, {counts.confirmations} confirmations)"
        )
    return f"time: {elapsed:.1f} s wall, {boots}, {jobs} at a time"


def closing_line(results: list[ChapterResult]) -> str:
    """``grade: N passed, N failed``, counting rubric items (CI reads this line)."""
    items = [item for result in results for item in result.items]
    passed = sum(1 for item in items if item.passed)
    return f"grade: {passed} passed, {len(items) - passed} failed"


def chapter_lines(result: ChapterResult, paint: Painter) -> list[str]:
    """One chapter's table and the problems below it."""
    chapter = result.chapter
    configs = ", ".join(boot.label for boot in result.boots)
    lines = [paint(f"{chapter.name}: {chapter.title}", "bold") + (f"  [{configs}]" if configs else "")]
    if result.build_failure is not None:
        lines.append(f"{INDENT}all {len(result.items)} items: {paint.status(Status.BUILD_FAILED)}")
        lines += build_lines(result.build_failure, paint)
    else:
        width = max((len(item.item.name) for item in result.items), default=0)
        hinted: set = set()
        for item in result.items:
            lines += item_lines(item, width, paint, hinted)
    for boot, reason in result.failed_boots():
        lines += boot_lines(boot, reason, paint)
    lines += unscored_lines(result, paint)
    lines.append(INDENT + paint(f"{chapter.name}: {points(result.earned)}/{points(result.max_points)} points", "bold"))
    return lines


def item_lines(result: ItemResult, width: int, paint: Painter, hinted: set | None = None) -> list[str]:
    """One item's row, then (if it failed on its own) its details and what to do (see advice()).

    An item that failed only because its boot or build did is a row alone:
    the boot's or build's own lines below the table say what happened.
    An exercise's hint is printed under the first item it blocks; @p hinted
    remembers those already printed (many items wait for one exercise).
    """
    score = f"{points(result.earned)}/{points(result.item.points)}"
    row = f"{INDENT}{result.item.name:<{width}}  {score:>7}  {paint.status(result.status, result.reason)}"
    if result.configs:
        row += f"  [{config_list(result)}]"
    lines = [row]
    if not result.passed and not result.by_boot:
        lines += [DETAIL_INDENT + line for line in result.detail]
        lines += [DETAIL_INDENT + paint(line, "yellow") for line in advice(result, hinted)]
    return lines


def advice(result: ItemResult, hinted: set | None = None) -> list[str]:
    """What to do about a failed item: what it waits for, or the item's own hint.

    An item that a stub made "not implemented" waits for that exercise:
    ``to do: ch3 exercise 4, unmap (stub at file:line)`` and the exercise's
    hint, not the test's own (which is about what the test checks). A real
    failure gets the item's hint; an item that did not run gets none. An
    exercise in @p hinted gets its "to do" line only, and is added to it.
    """
    if result.passed:
        return []
    if result.blockers:
        lines = []
        for blocker in result.blockers:
            lines.append(f"to do: {blocker.where()}")
            if blocker.exercise.hint and (hinted is None or blocker not in hinted):
                lines.append(f"hint: {blocker.exercise.hint}")
            if hinted is not None:
                hinted.add(blocker)
        return lines
    if result.item.hint and result.status is not Status.DID_NOT_RUN:
        return [f"hint: {result.item.hint}"]
    return []


def config_list(result: ItemResult) -> str:
    """The configurations an item failed in; those that failed differently say how."""
    own = (result.status, result.reason)
    if len(result.configs) == result.boots > 1 and all((status, reason) == own for _, status, reason in result.configs):
        return "every configuration"
    names = []
    for name, status, reason in result.configs:
        names.append(name if (status, reason) == own else f"{name}: {status.line(reason)}")
    return ", ".join(names)


def unscored_lines(result: ChapterResult, paint: Painter) -> list[str]:
    """One warning per suite that has tests no rubric item names."""
    by_suite: dict[str, tuple[list[str], set[str]]] = {}
    for test, configs in result.unscored.items():
        suite, name = test.rsplit(".", 1)
        names, seen_in = by_suite.setdefault(suite, ([], set()))
        names.append(name)
        seen_in.update(configs)
    lines = []
    for suite, (names, seen_in) in by_suite.items():
        where = ", ".join(boot.label for boot in result.boots if boot.label in seen_in)
        if len(seen_in) == len(result.boots) > 1:
            where = "every configuration"
        text = f"warning: unscored (not in the rubric): {suite}: {', '.join(names)} (ran in {where})"
        lines.append(INDENT + paint(text, "yellow"))
    return lines


def boot_lines(boot: Boot, reason: str, paint: Painter) -> list[str]:
    """A failed boot: why, its log, how to rerun it, and its last lines."""
    return [
        INDENT + paint(f"boot {boot.label} failed: {reason}", "red"),
        f"{DETAIL_INDENT}log: {display_path(boot.log_path)}",
        f"{DETAIL_INDENT}command: {shlex.join(boot.command)}",
        *tail_lines(tuple(boot.tail()), paint),
    ]


def build_lines(failure: BuildFailure, paint: Painter) -> list[str]:
    """A failed build: why, its log, and make's last lines."""
    lines = [INDENT + paint(f"build failed: {failure.summary}", "red")]
    if failure.log_path is not None:
        lines.append(f"{DETAIL_INDENT}log: {display_path(failure.log_path)}")
    return lines + tail_lines(failure.tail, paint)


def tail_lines(tail: tuple[str, ...], paint: Painter) -> list[str]:
    """The last lines of a log, quoted."""
    if not tail:
        return []
    return [f"{DETAIL_INDENT}last lines:"] + [paint(f"{DETAIL_INDENT}| {line}", "dim") for line in tail]


def display_path(path: Path) -> str:
    """@p path relative to the working directory when it is below it."""
    resolved, cwd = Path(path).resolve(), Path.cwd().resolve()
    return str(resolved.relative_to(cwd)) if resolved.is_relative_to(cwd) else str(resolved)


def points(value: float) -> str:
    """Points without a useless ``.0``."""
    return f"{value:g}"
