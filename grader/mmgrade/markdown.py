"""The report as Markdown (GitHub's flavour), for a CI job's summary page (grade.py --markdown).

Per chapter: a heading with its points, the configurations booted, a table
of items (name, points, status, configurations), then what went wrong as
the terminal report says it: each failed item's details and advice, each
failed boot (log, command, last lines) and a failed build. Text that comes
from the graded kernel or the build (test diagnostics, stub texts, skip
reasons, log lines) is never read as Markdown: in table cells and prose
every ASCII punctuation character is backslash-escaped, and quoted output
sits in fenced code blocks whose fence is longer than any run of backticks
inside. Control characters (serial garbage) become U+FFFD.
"""

import re
import shlex
from pathlib import Path

from .build import BuildFailure
from .qemu import Boot
from .report import advice, closing_line, config_list, display_path, points, unscored_lines
from .score import ChapterResult, ItemResult
from .status import Status

PUNCTUATION_RE = re.compile(r"([!-/:-@\[-`{-~])")
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
BACKTICKS_RE = re.compile("`+")
MARKS = {Status.PASSED: "✅", Status.SKIPPED: "⚠️"}
FAILED_MARK = "❌"


def render(results: list[ChapterResult]) -> str:
    """The whole report in Markdown: a title with the total, each chapter, then the closing line."""
    earned = sum(result.earned for result in results)
    total = sum(result.max_points for result in results)
    parts = [f"## mmlab grade: {points(earned)}/{points(total)} points\n"]
    parts += [chapter_section(result) for result in results]
    parts.append(f"`{closing_line(results)}`\n")
    return "\n".join(parts)


def write(path: Path, results: list[ChapterResult]) -> None:
    """Append the Markdown report to @p path (GitHub's step summary file is appended to)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as summary:
        summary.write(render(results))


def chapter_section(result: ChapterResult) -> str:
    """One chapter: heading, configurations, the table of items, then what went wrong."""
    chapter = result.chapter
    score = f"{points(result.earned)}/{points(result.max_points)} points"
    lines = [f"### {chapter.name}: {escape(chapter.title)}: {score}", ""]
    if result.boots:
        lines += ["Configurations: " + ", ".join(escape(boot.label) for boot in result.boots), ""]
    lines += item_table(result.items)
    lines += problem_lines(result)
    return "\n".join(lines) + "\n"


def item_table(items: list[ItemResult]) -> list[str]:
    """The table of a chapter's items, and a blank line after it."""
    lines = ["| item | points | status | configurations |", "|---|---:|---|---|"]
    for item in items:
        mark = MARKS.get(item.status, FAILED_MARK)
        where = escape(config_list(item)) if item.configs else ""
        score = f"{points(item.earned)}/{points(item.item.points)}"
        lines.append(f"| {escape(item.item.name)} | {score} | {mark} {escape(item.text)} | {where} |")
    return lines + [""]


def problem_lines(result: ChapterResult) -> list[str]:
    """Below the table: the failed items' details and advice, the build or the failed boots, warnings."""
    lines: list[str] = []
    if result.build_failure is not None:
        lines += build_lines(result.build_failure)
    hinted: set = set()
    for item in result.items:
        if not item.passed and not item.by_boot:
            lines += item_lines(item, hinted)
    for boot, reason in result.failed_boots():
        lines += boot_lines(boot, reason)
    for warning in unscored_lines(result, _plain):
        lines += [escape(warning.strip()), ""]
    return lines


def item_lines(result: ItemResult, hinted: set) -> list[str]:
    """A failed item: its name and status, its details quoted, then what to do (report.advice)."""
    where = f" \\[{escape(config_list(result))}\\]" if result.configs else ""
    lines = [f"**{escape(result.item.name)}**: {escape(result.text)}{where}", ""]
    if result.detail:
        lines += fenced(result.detail) + [""]
    for line in advice(result, hinted):
        lines += [f"- {escape(line)}"]
    return lines + ([""] if lines[-1] else [])


def boot_lines(boot: Boot, reason: str) -> list[str]:
    """A failed boot: why, its log, how to rerun it, and its last lines quoted."""
    lines = [
        f"**boot {escape(boot.label)} failed**: {escape(reason)}",
        "",
        f"- log: {code(display_path(boot.log_path))}",
        f"- command: {code(shlex.join(boot.command))}",
        "",
    ]
    tail = boot.tail()
    return lines + (["Last lines:", ""] + fenced(tail) + [""] if tail else [])


def build_lines(failure: BuildFailure) -> list[str]:
    """A failed build: why, its log, and make's last lines quoted."""
    lines = [f"**build failed**: {escape(failure.summary)}", ""]
    if failure.log_path is not None:
        lines += [f"- log: {code(display_path(failure.log_path))}", ""]
    return lines + (fenced(failure.tail) + [""] if failure.tail else [])


def escape(text: str) -> str:
    """@p text as literal Markdown on one line: punctuation backslash-escaped, controls replaced."""
    one_line = " ".join(clean(text).splitlines())
    return PUNCTUATION_RE.sub(r"\\\1", one_line)


def code(text: str) -> str:
    """@p text as an inline code span (delimited by more backticks than it holds)."""
    text = " ".join(clean(text).splitlines())
    ticks = "`" * (max((len(run) for run in BACKTICKS_RE.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fenced(lines: tuple[str, ...] | list[str]) -> list[str]:
    """@p lines in a fenced code block whose fence no line inside can close."""
    body = [clean(line) for line in lines]
    longest = max((len(run) for line in body for run in BACKTICKS_RE.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *body, fence]


def clean(text: str) -> str:
    """@p text with control characters but tab and line feed replaced by U+FFFD."""
    return CONTROL_RE.sub("\ufffd", text)


def _plain(text: str, _color: str) -> str:
    """A report.Painter stand-in that paints nothing."""
    return text
