"""Machine-readable results: Gradescope's results.json and JUnit XML.

Gradescope: https://gradescope-autograders.readthedocs.io/en/latest/specs/
(top-level score, execution_time, output, visibility; one entry per rubric
item in ``tests`` with name, number, score, max_score, status, output,
visibility; the format is mmgrade/gradescope.py's). JUnit: one <testsuite>
per chapter, one <testcase> per rubric item, a <skipped> for an item skipped
everywhere and a <failure> for any other item that did not earn its points.
"""

import json
import re
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .report import advice, config_list, points
from .score import ChapterResult, ItemResult
from .status import Status

XML_INVALID_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def item_text(result: ItemResult) -> str:
    """What a student reads about one item: status, configurations, details, then what to do
    (the blocking exercise and its hint, or the item's own hint: see report.advice)."""
    lines = [f"{result.text} ({points(result.earned)}/{points(result.item.points)} points)"]
    if result.configs:
        lines.append(f"configurations: {config_list(result)}")
    if not result.passed:
        lines += list(result.detail)
        lines += advice(result)
    return "\n".join(lines)


def gradescope(results: list[ChapterResult], elapsed: float, output: str) -> dict:
    """The Gradescope results object (format: mmgrade/gradescope.py); @p output: the report without colors."""
    from .gradescope import results as gradescope_results  # that module imports item_text from here

    return gradescope_results(results, elapsed, output)


def write_gradescope(path: Path, results: list[ChapterResult], elapsed: float, output: str) -> None:
    """Write the Gradescope results to @p path."""
    text = json.dumps(gradescope(results, elapsed, output), indent=2)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text + "\n", encoding="utf-8")


def junit(
    results: list[ChapterResult], elapsed: float, now: datetime | None = None, hostname: str | None = None
) -> ET.ElementTree:
    """The JUnit XML tree: one <testsuite> per chapter, one <testcase> per rubric item.

    A case that did not earn its points has a <failure> whose message is the
    status, its first detail and the configurations (see junit_message); an
    item skipped in every configuration (and earning nothing) has a <skipped>
    with the reason instead. Each case's time is its chapter's longest boot
    (case_time). Each suite has the host's name and the time the grading
    started: @p now (default: the present) less @p elapsed, in UTC, as
    ISO 8601 without a zone (the JUnit schemas' form).
    """
    started = (now or datetime.now(timezone.utc)).astimezone(timezone.utc) - timedelta(seconds=elapsed)
    host = hostname if hostname is not None else socket.gethostname() or "localhost"
    root = ET.Element("testsuites", name="mmlab", time=f"{elapsed:.3f}")
    for chapter in results:
        root.append(junit_suite(chapter, started.strftime("%Y-%m-%dT%H:%M:%S"), host))
    cases = [result for chapter in results for result in chapter.items]
    root.set("tests", str(len(cases)))
    root.set("failures", str(sum(1 for result in cases if _failed(result))))
    root.set("errors", "0")
    return ET.ElementTree(root)


def junit_suite(chapter: ChapterResult, timestamp: str, hostname: str) -> ET.Element:
    """One chapter's <testsuite>: its counts, time, timestamp and host, and a <testcase> per item."""
    suite = ET.Element(
        "testsuite",
        name=chapter.chapter.name,
        tests=str(len(chapter.items)),
        failures=str(sum(1 for result in chapter.items if _failed(result))),
        errors="0",
        skipped=str(sum(1 for result in chapter.items if result.status is Status.SKIPPED)),
        time=f"{chapter.elapsed:.3f}",
        timestamp=timestamp,
        hostname=xml_safe(hostname),
    )
    time = f"{case_time(chapter):.3f}"
    for result in chapter.items:
        case = ET.SubElement(suite, "testcase", classname=chapter.chapter.name, name=result.item.name, time=time)
        if result.status is Status.SKIPPED:
            skipped = ET.SubElement(case, "skipped", message=xml_safe(result.reason or "skipped"))
            skipped.text = xml_safe(item_text(result))
        elif _failed(result):
            failure = ET.SubElement(
                case, "failure", message=xml_safe(junit_message(result)), type=xml_safe(result.status.label)
            )
            failure.text = xml_safe(item_text(result))
    return suite


def case_time(chapter: ChapterResult) -> float:
    """The seconds a case of @p chapter took: its chapter's longest boot (0 with no boot).

    Every item is scored over every boot of its chapter, and the boots run
    at once, so the item's result waited for the longest of them; the
    kernel does not time each test unless asked (bootarg ktest_times).
    """
    return max((boot.elapsed for boot in chapter.boots), default=0.0)


def junit_message(result: ItemResult) -> str:
    """A failure's message: the status with its reason, the first detail line, and where.

    ``failed: a.c:42: expected 1, got 2 [2G-4]``, ``timeout: no power-off
    within 60 s, while running ch1.smp.race (test 2 of 3) [every configuration]``.
    """
    message = result.text
    if result.detail:
        message += f": {result.detail[0]}"
    if result.configs:
        message += f" [{config_list(result)}]"
    return message


def _failed(result: ItemResult) -> bool:
    """True if @p result is a JUnit failure: it earned nothing and was not skipped everywhere."""
    return not result.passed and result.status is not Status.SKIPPED


def xml_safe(text: str) -> str:
    """@p text without the characters XML 1.0 cannot hold (serial garbage has them)."""
    return XML_INVALID_RE.sub("\ufffd", text)


def write_junit(path: Path, results: list[ChapterResult], elapsed: float) -> None:
    """Write the JUnit XML to @p path."""
    tree = junit(results, elapsed)
    ET.indent(tree)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
