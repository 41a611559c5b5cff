"""Read the kernel's serial output: KTAP version 1 results, panics, benchmarks.

The kernel prints two levels of KTAP (see common/include/ktest.h): a
top-level plan with one result per suite, and, indented, one subtest block
per suite with one result per test. Diagnostic lines (``# ...``) belong to
the next result line; so does a handout stub's ``TODO(chN): ...`` line,
``#`` or not (printk inside a test adds the ``#``; a user test program's
system call or an external suite's set-up prints it bare). Diagnostics
before a suite's own result line that no test took are the suite's: a suite
that could not start at all (a user test program that did not exec) says
there why. Anything that is not KTAP (OpenSBI's banner, garbage
bytes, stray output) is ignored here; the full text stays in the boot log.
"""

import re
from dataclasses import dataclass, field

RESULT_RE = re.compile(
    r"^(?P<indent>\s*)(?P<ok>ok|not ok)\s+(?P<number>\d+)"
    r"(?:\s+(?:-\s+)?(?P<name>[^#]*?))?\s*(?:#\s*(?P<directive>.*))?$"
)
PLAN_RE = re.compile(r"^(?P<indent>\s*)1\.\.(?P<count>\d+)\s*$")
SUBTEST_RE = re.compile(r"^\s*#\s*Subtest:\s*(?P<suite>\S+)")
DIAGNOSTIC_RE = re.compile(r"^\s*#\s?(?P<text>.*)$")
PANIC_RE = re.compile(r"^\s*(?:#\s*)?panic:\s*(?P<message>.*)$")
BENCH_RE = re.compile(r"^\s*#\s*bench\s+(?P<name>\S+):\s*(?P<value>\S+)\s*(?P<unit>.*)$")
SKIP_RE = re.compile(r"^SKIP\b\s*(?P<reason>.*)$", re.IGNORECASE)
TODO_RE = re.compile(r"TODO\(ch(?P<chapter>\d+)\):\s*(?P<what>.*)$")
FAULT_RE = re.compile(r"^(?:fault|watchdog):")


@dataclass
class TestResult:
    """One test's result line and the diagnostics printed before it."""

    suite: str
    name: str
    ok: bool
    skip_reason: str | None = None
    diagnostics: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The test's full name, ``suite.test``."""
        return f"{self.suite}.{self.name}"

    @property
    def skipped(self) -> bool:
        """True for a ``# SKIP`` result."""
        return self.skip_reason is not None

    def todo(self) -> str | None:
        """What the handout stub said it lacks (``TODO(chN): what``), if it did."""
        stub = self.stub()
        return stub[1] if stub else None

    def stub(self) -> tuple[int, str] | None:
        """The first stub the test ran into: its chapter N and what (``TODO(chN): what``)."""
        return _first_stub(self.diagnostics)

    def explanation(self, limit: int = 3) -> list[str]:
        """The diagnostics worth showing for a failure, no TODO lines.

        A fault or the watchdog comes first, with the lines after it (where
        each hart was), then what the test printed before it.
        """
        lines = [line for line in self.diagnostics if not TODO_RE.search(line)]
        first = next((i for i, line in enumerate(lines) if FAULT_RE.match(line)), 0)
        return (lines[first:] + lines[:first])[:limit]


@dataclass
class SuiteRun:
    """One suite's subtest block as far as it was printed."""

    name: str
    planned: int | None = None
    results: list[TestResult] = field(default_factory=list)
    finished: bool = False
    diagnostics: list[str] = field(default_factory=list)  # printed after its last test, before its own result

    @property
    def complete(self) -> bool:
        """True if the suite printed its result and every test it planned."""
        return self.finished and (self.planned is None or len(self.results) >= self.planned)

    def result(self, test: str) -> TestResult | None:
        """The result of the test called @p test, if it was printed.

        Printed more than once (two KTESTs of one name, a kernel that rebooted
        and ran again), a failure wins over a pass: a later ``ok`` of the same
        name must not hide it. Otherwise the last result counts.
        """
        found = [result for result in self.results if result.name == test]
        failed = [result for result in found if not result.ok]
        return (failed or found)[-1] if found else None

    def stub(self) -> tuple[int, str] | None:
        """The first stub the suite's own diagnostics name (chapter, what), if any."""
        return _first_stub(self.diagnostics)


@dataclass
class Bench:
    """One ``# bench <name>: <value> <unit>`` line."""

    name: str
    value: str
    unit: str


@dataclass
class KtapRun:
    """Everything the grader reads from one boot's serial output."""

    planned: int | None = None
    suites: dict[str, SuiteRun] = field(default_factory=dict)
    suite_results: int = 0
    panic: str | None = None
    benches: list[Bench] = field(default_factory=list)
    open_suite: SuiteRun | None = None  # the suite whose own result line has not come yet

    @property
    def complete(self) -> bool:
        """True if the top-level plan was printed and every suite it planned reported."""
        return self.planned is not None and self.suite_results >= self.planned

    def tests(self) -> list[TestResult]:
        """Every test result, in output order."""
        return [result for suite in self.suites.values() for result in suite.results]

    def position(self, order: dict[str, list[str]] | None = None) -> str:
        """Where the run stopped, for a timeout or an early exit.

        Inside a suite, the test that was running is the one after its last
        result: with @p order (suite -> its tests in the order the runner
        runs them, read from the sources) it is named,
        ``while running ch1.buddy.zeroed_frames (test 4 of 9)``; without, or
        when the sources do not match the suite's plan, it is a number,
        ``while running ch1.buddy test #4``.
        """
        if self.open_suite is not None:
            return f"while running {_running(self.open_suite, (order or {}).get(self.open_suite.name))}"
        if self.suites:
            return f"after suite {list(self.suites)[-1]}"
        return "before the first test"


def _first_stub(lines: list[str]) -> tuple[int, str] | None:
    """The first ``TODO(chN): what`` of @p lines as (N, what), or None."""
    for line in lines:
        match = TODO_RE.search(line)
        if match:
            return int(match["chapter"]), match["what"].strip()
    return None


def _running(suite: SuiteRun, names: list[str] | None) -> str:
    """The test of @p suite that was running when output stopped, named from @p names if they fit."""
    number = len(suite.results) + 1
    total = suite.planned if suite.planned is not None else len(names or [])
    fits = names is not None and len(names) == total and number <= total
    fits = fits and all(result.name == names[index] for index, result in enumerate(suite.results))
    if not fits:
        return f"{suite.name} test #{number}"
    return f"{suite.name}.{names[number - 1]} (test {number} of {total})"


def decode(raw: bytes) -> str:
    """Decode serial bytes; invalid UTF-8 becomes U+FFFD, NULs are dropped."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "")


def parse(text: str) -> KtapRun:
    """Parse a boot's serial output (already decoded) into a KtapRun.

    Lines end at LF only (the UART's CR LF included): str.splitlines() would
    also cut at stray bytes such as FF, FS or NEL, and the piece after one
    could then read as a KTAP line.
    """
    run = KtapRun()
    pending: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip("\r\n\t ")
        if _parse_line(run, line, pending):
            pending = []
    return run


def _parse_line(run: KtapRun, line: str, pending: list[str]) -> bool:
    """Apply one line to @p run; return True when pending diagnostics were consumed."""
    panic = PANIC_RE.match(line)
    if panic and run.panic is None:
        run.panic = panic["message"].strip()
    bench = BENCH_RE.match(line)
    if bench:
        run.benches.append(Bench(bench["name"], bench["value"], bench["unit"].strip()))
        return False
    subtest = SUBTEST_RE.match(line)
    if subtest:
        run.open_suite = run.suites.setdefault(subtest["suite"], SuiteRun(subtest["suite"]))
        return True
    plan = PLAN_RE.match(line)
    if plan:
        _apply_plan(run, bool(plan["indent"]), int(plan["count"]))
        return False
    result = RESULT_RE.match(line)
    if result:
        _apply_result(run, result, pending)
        return True
    diagnostic = DIAGNOSTIC_RE.match(line)
    if diagnostic:
        pending.append(diagnostic["text"].strip())
    elif TODO_RE.search(line):
        pending.append(line.strip())
    return False


def _apply_plan(run: KtapRun, nested: bool, count: int) -> None:
    """Record a ``1..N`` line: the open suite's plan if indented, else the run's."""
    if nested and run.open_suite is not None:
        run.open_suite.planned = count
    elif not nested and run.planned is None:
        run.planned = count


def _apply_result(run: KtapRun, match: re.Match, pending: list[str]) -> None:
    """Record an ``ok``/``not ok`` line: a test's if indented, else a suite's."""
    ok = match["ok"] == "ok"
    name = (match["name"] or "").strip()
    if not match["indent"]:
        run.suite_results += 1
        suite = run.suites.get(name)
        if suite is None and name and not ok:
            suite = run.suites[name] = SuiteRun(name)  # it failed before its subtest block began
        if suite is not None:
            suite.finished = True
            suite.diagnostics = list(pending)
        run.open_suite = None
        return
    if run.open_suite is None:
        return
    run.open_suite.results.append(
        TestResult(
            suite=run.open_suite.name,
            name=name,
            ok=ok,
            skip_reason=_skip_reason(match["directive"]),
            diagnostics=list(pending),
        )
    )


def _skip_reason(directive: str | None) -> str | None:
    """The reason of a ``# SKIP reason`` directive, or None if the test was not skipped."""
    skip = SKIP_RE.match((directive or "").strip())
    if skip is None:
        return None
    return skip["reason"].strip() or "no reason given"
