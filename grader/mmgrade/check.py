"""``--check-rubric``: compare the rubric with the KTEST(...) uses in chN/tests/*.c.

``KTEST(ch1_buddy, split_merge)`` prints as test ``split_merge`` of suite
``ch1.buddy``: the first ``_`` of the suite identifier becomes ``.``, as the
kernel's test runner does it (common/lib/ktest.c).
"""

import re
from pathlib import Path

from .rubric import Chapter

KTEST_RE = re.compile(r"\bKTEST\s*\(\s*(?P<suite>\w+)\s*,\s*(?P<test>\w+)\s*\)")
COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
TOTAL_POINTS = 100


def printed_suite(identifier: str) -> str:
    """The suite name the kernel prints for a KTEST suite identifier (ch1_buddy -> ch1.buddy)."""
    return identifier.replace("_", ".", 1)


def declared_tests(root: Path, number: int, directory: str | None = None) -> dict[str, str]:
    """Every KTEST in ch<number>/tests/*.c (or <directory>/*.c): ``suite.test`` -> ``file:line``."""
    tests = {}
    for path in sorted((root / (directory or f"ch{number}/tests")).glob("*.c")):
        text = COMMENT_RE.sub(_blank_comment, path.read_text(encoding="utf-8", errors="replace"))
        for match in KTEST_RE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            key = f"{printed_suite(match['suite'])}.{match['test']}"
            tests.setdefault(key, f"{path.relative_to(root)}:{line}")
    return tests


def selected_test_dirs(chapter: Chapter) -> list[str]:
    """Test directories, besides the chapter's own, whose suites its ktest filter selects."""
    dirs = []
    for glob in chapter.ktest.split(","):
        prefix = glob.strip().split(".", 1)[0]
        if prefix == "common":
            dirs.append("common/tests")
        elif re.fullmatch(r"ch\d+", prefix) and prefix != chapter.name:
            dirs.append(f"{prefix}/tests")
    return dirs


def _blank_comment(match: re.Match) -> str:
    """A comment replaced by its newlines only, so line numbers stay right."""
    return "\n" * match.group(0).count("\n")


def check_chapter(chapter: Chapter, root: Path) -> list[str]:
    """Every disagreement between @p chapter's rubric items and its KTESTs.

    A chapter whose ``ktest`` filter also selects ``common.*`` or an earlier
    chapter's ``chK.*`` owns those tests too: each of their suites needs an
    item (a 0-point one: they are prerequisites, not this chapter's work).
    """
    tests = declared_tests(root, chapter.number)
    for directory in selected_test_dirs(chapter):
        tests.update(declared_tests(root, chapter.number, directory))
    suites = {key.rsplit(".", 1)[0] for key in tests}
    where = f"ch{chapter.number}/tests/*.c"
    problems = []
    for item in chapter.items:
        if item.test is not None and item.name not in tests:
            problems.append(f"{item.name}: rubric item with no KTEST({_ident(item.suite)}, {item.test}) in {where}")
        if item.test is None and item.suite not in suites:
            problems.append(f"{item.name}: whole-suite rubric item with no KTEST({_ident(item.suite)}, ...) in {where}")
    for item in chapter.items:
        if not item.suite.startswith(f"{chapter.name}.") and item.points:
            problems.append(f"{item.name}: another layer's suite, a prerequisite here: it must have 0 points")
    covered = {item.name for item in chapter.items}
    for key, location in tests.items():
        if key not in covered and key.rsplit(".", 1)[0] not in covered:
            problems.append(f"{key} ({location}): KTEST with no rubric item")
    if chapter.max_points != TOTAL_POINTS:
        problems.append(f"{chapter.name}: points add up to {chapter.max_points:g}, not {TOTAL_POINTS}")
    return problems


def unrubricated_chapters(root: Path, chapters: dict[int, Chapter]) -> list[str]:
    """Chapters whose tests directory has KTESTs but which have no rubric section."""
    problems = []
    for tests_dir in sorted(root.glob("ch*/tests")):
        match = re.fullmatch(r"ch(\d+)", tests_dir.parent.name)
        if match and int(match[1]) not in chapters and declared_tests(root, int(match[1])):
            problems.append(f"{tests_dir.parent.name}: has KTESTs but no [{tests_dir.parent.name}] section in the rubric")
    return problems


def _ident(suite: str) -> str:
    """The KTEST identifier of a printed suite name (ch1.buddy -> ch1_buddy)."""
    return suite.replace(".", "_", 1)
