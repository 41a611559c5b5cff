"""Machine-readable results: Gradescope's results.json and JUnit XML.

Gradescope: https://gradescope-autograders.readthedocs.io/en/latest/specs/
(top-level score, execution_time, output, visibility; one entry per rubric
item in ``tests`` with name, number, score, max_score, status, output,
visibility). JUnit: one <testsuite> per chapter, one <testcase> per rubric
item, a <failure> for each item that did not earn its points.
"""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .report import advice, config_list, points
from .score import ChapterResult, ItemResult

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


def junit(results: list[ChapterResult], elapsed: float) -> ET.ElementTree:
    """The JUnit XML tree: one suite per chapter, one case per rubric item."""
    root = ET.Element("testsuites", name="mmlab", time=f"{elapsed:.3f}")
    for chapter in results:
        failed = [result for result in chapter.items if not result.passed]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=chapter.chapter.name,
            tests=str(len(chapter.items)),
            failures=str(len(failed)),
            errors="0",
            time=f"{chapter.elapsed:.3f}",
        )
        for result in chapter.items:
            case = ET.SubElement(suite, "testcase", classname=chapter.chapter.name, name=result.item.name)
            if not result.passed:
                status = xml_safe(result.text)
                failure = ET.SubElement(case, "failure", message=status, type=xml_safe(result.status.label))
                failure.text = xml_safe(item_text(result))
    root.set("tests", str(sum(len(chapter.items) for chapter in results)))
    root.set("failures", str(sum(1 for chapter in results for result in chapter.items if not result.passed)))
    return ET.ElementTree(root)


def xml_safe(text: str) -> str:
    """@p text without the characters XML 1.0 cannot hold (serial garbage has them)."""
    return XML_INVALID_RE.sub("\ufffd", text)


def write_junit(path: Path, results: list[ChapterResult], elapsed: float) -> None:
    """Write the JUnit XML to @p path."""
    tree = junit(results, elapsed)
    ET.indent(tree)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
