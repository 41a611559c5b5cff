"""What the grader reads from the graded tree's C sources: the KTEST()s and the stubs.

``KTEST(ch1_buddy, split_merge)`` prints as test ``split_merge`` of suite
``ch1.buddy``: the first ``_`` of the suite identifier becomes ``.``, as the
kernel's test runner does it (common/lib/ktest.c). The runner runs a suite's
tests in source order (it sorts by suite, then by the KTEST's line; one
suite per file), so a test's number in its suite names it.

A handout stub calls ``TODO("chN", "<name>: <what>")`` (common/include/
panic.h); <name>, the text before the first ':', is the stub's name, which
the rubric's ``[[chN.exercise]]`` entries use (``todo = "<name>"``). In the
reference tree the stubs sit in ``LAB STUB`` comments; in a student tree
they are live code after a ``/* TODO(chN): ... */`` comment. Either way the
call's text is there, so one scan finds them in both.

An external suite (``ktest_add_suite("common.external", fn, arg)``: a suite
whose tests are not KTESTs) is found by the name it is added with, when that
is a string literal. A user test program, chN/user/tests/TOPIC.c, is the
external suite ``chN.user.TOPIC``: the build names the program so and the
kernel adds a suite for every such program of its initramfs.
"""

import re
from dataclasses import dataclass
from pathlib import Path

KTEST_RE = re.compile(r"\bKTEST\s*\(\s*(?P<suite>\w+)\s*,\s*(?P<test>\w+)\s*\)")
COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
ADD_SUITE_RE = re.compile(r'\bktest_add_suite\s*\(\s*"(?P<suite>[^"\n]+)"')
TODO_CALL_RE = re.compile(r'\bTODO\s*\(\s*"ch(?P<chapter>\d+)"\s*,\s*"(?P<what>[^"\n]*)"')
STUB_SUFFIXES = (".c", ".h", ".S")
USER_TEST_RE = re.compile(r"^\s*TEST\s*\(\s*(?P<test>\w+)\s*\)", re.M)
# The test the kernel adds at the end of every user suite: the free-frame count came back.
USER_SUITE_LAST_TEST = "frames_returned"


@dataclass(frozen=True)
class Declared:
    """One KTEST(...) in a test file: its printed suite and test name, and where it is."""

    suite: str
    test: str
    path: str
    line: int

    @property
    def key(self) -> str:
        """``suite.test``."""
        return f"{self.suite}.{self.test}"

    @property
    def location(self) -> str:
        """``path:line``."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Stub:
    """One TODO("chN", "<what>") call in chN/src: its name, its text and where it is."""

    chapter: int
    what: str
    location: str

    @property
    def name(self) -> str:
        """The stub's name: what it says before the first ':'."""
        return todo_name(self.what)


def printed_suite(identifier: str) -> str:
    """The suite name the kernel prints for a KTEST suite identifier (ch1_buddy -> ch1.buddy)."""
    return identifier.replace("_", ".", 1)


def todo_name(what: str) -> str:
    """The name of a stub from its TODO text: ``pt_unmap`` from ``pt_unmap: unmap a range``."""
    return what.split(":", 1)[0].strip()


def ktests_in(root: Path, directory: str) -> list[Declared]:
    """Every KTEST in <directory>/*.c under @p root (comments ignored), by file then line."""
    found = []
    for path in sorted((root / directory).glob("*.c")):
        text = COMMENT_RE.sub(_blank_comment, path.read_text(encoding="utf-8", errors="replace"))
        rel = path.relative_to(root).as_posix()
        for match in KTEST_RE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Declared(printed_suite(match["suite"]), match["test"], rel, line))
    return found


def external_suites_in(root: Path, directory: str) -> dict[str, str]:
    """Every ktest_add_suite("<name>", ...) in <directory>/*.c (comments ignored): name -> ``file:line``."""
    found = {}
    for path in sorted((root / directory).glob("*.c")):
        text = COMMENT_RE.sub(_blank_comment, path.read_text(encoding="utf-8", errors="replace"))
        rel = path.relative_to(root).as_posix()
        for match in ADD_SUITE_RE.finditer(text):
            found.setdefault(match["suite"], f"{rel}:{text.count(chr(10), 0, match.start()) + 1}")
    return found


def user_suites_in(root: Path, chapter: str) -> dict[str, str]:
    """Every user test program <chapter>/user/tests/TOPIC.c: ``<chapter>.user.TOPIC`` -> ``file:1``."""
    tests = root / chapter / "user" / "tests"
    return {f"{chapter}.user.{path.stem}": f"{path.relative_to(root).as_posix()}:1" for path in sorted(tests.glob("*.c"))}


def user_tests_in(root: Path, chapter: str) -> list[Declared]:
    """The tests of every user test program of @p chapter (``TEST(name)`` of ch4/user/lib/ktap.h),
    in the order the program runs them (source order), each suite ending with the test the
    kernel's runner adds, ``frames_returned``."""
    found = []
    for path in sorted((root / chapter / "user" / "tests").glob("*.c")):
        text = COMMENT_RE.sub(_blank_comment, path.read_text(encoding="utf-8", errors="replace"))
        rel, suite = path.relative_to(root).as_posix(), f"{chapter}.user.{path.stem}"
        for match in USER_TEST_RE.finditer(text):
            found.append(Declared(suite, match["test"], rel, text.count("\n", 0, match.start()) + 1))
        found.append(Declared(suite, USER_SUITE_LAST_TEST, rel, 1))
    return found


def kernel_test_dirs(root: Path, number: int) -> list[str]:
    """The test directories built into chapter @p number's kernel: common/tests, ch1/tests .. chN/tests."""
    return ["common/tests"] + [f"ch{k}/tests" for k in range(1, number + 1) if (root / f"ch{k}").is_dir()]


def run_order(root: Path, number: int) -> dict[str, list[str]]:
    """Each suite of chapter @p number's kernel -> its tests in the order the runner runs them.

    A suite declared in more than one file is left out: the runner sorts
    its tests by line alone, so their order cannot be told from here.
    """
    by_suite: dict[str, list[Declared]] = {}
    for test in (t for directory in kernel_test_dirs(root, number) for t in ktests_in(root, directory)):
        by_suite.setdefault(test.suite, []).append(test)
    order = {}
    for k in range(1, number + 1):
        for test in user_tests_in(root, f"ch{k}"):
            order.setdefault(test.suite, []).append(test.test)
    for suite, tests in by_suite.items():
        if len({test.path for test in tests}) == 1:
            order[suite] = [test.test for test in sorted(tests, key=lambda test: test.line)]
    return order


def find_stubs(root: Path, number: int) -> list[Stub]:
    """Every TODO("ch<number>", ...) call in ch<number>/src (any depth; .c, .h, .S), by file then line."""
    src = root / f"ch{number}" / "src"
    stubs = []
    for path in sorted(src.rglob("*") if src.is_dir() else []):
        if path.suffix not in STUB_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(root).as_posix()
        for match in TODO_CALL_RE.finditer(text):
            if int(match["chapter"]) == number:
                line = text.count("\n", 0, match.start()) + 1
                stubs.append(Stub(number, match["what"], f"{rel}:{line}"))
    return stubs


def _blank_comment(match: re.Match) -> str:
    """A comment replaced by its newlines only, so line numbers stay right."""
    return "\n" * match.group(0).count("\n")
