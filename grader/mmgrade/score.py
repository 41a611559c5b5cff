"""Apply the rubric to a chapter's boots.

Each rubric item gets an outcome in every configuration, then the outcomes
are combined:

* an item fails if it failed, was not implemented, did not run, timed out or
  panicked in any configuration (the first such configuration, in rubric
  order, gives the status; every one of them is listed);
* otherwise it passes if it passed in at least one configuration, the
  configurations where it was skipped not counting;
* skipped in every configuration, it passes only with ``allow_skip = true``,
  and otherwise is skipped (with the first configuration's reason) and earns nothing.

A whole-suite item passes in a configuration when the suite printed every
test it planned and each passed; any skipped test makes the suite skipped in
that configuration; a failed test fails it.
"""

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from . import disk
from .build import BuildFailure
from .ktap import SuiteRun
from .qemu import Boot
from .rubric import Chapter, Item
from .status import Status

MAX_DETAIL_LINES = 5


@dataclass(frozen=True)
class Outcome:
    """An item's status in one configuration, the reason that goes with it, and its details.

    reason is what a stub said (NOT_IMPLEMENTED) or why a test was skipped
    (SKIPPED), None for the other statuses. by_boot is True when the status
    comes from the boot as a whole (a panic, a timeout, an early power-off, a build failure), not from the item's own result.
    todo is the stub that made it "not implemented": its chapter and what it printed.
    """

    status: Status
    detail: tuple[str, ...] = ()
    by_boot: bool = False
    todo: tuple[int, str] | None = None
    reason: str | None = None

    @property
    def passed(self) -> bool:
        """True if the item passed in this configuration."""
        return self.status is Status.PASSED

    @property
    def skipped(self) -> bool:
        """True if the item was skipped in this configuration."""
        return self.status is Status.SKIPPED

    @property
    def text(self) -> str:
        """The status as the report prints it, reason included."""
        return self.status.line(self.reason)


@dataclass
class ItemResult:
    """An item's final status over every configuration, and the points it earned.

    reason goes with status (see Outcome). configs lists the configurations
    it failed (or was skipped) in, with the status and reason in each; boots is how many configurations were booted in all.
    todos are the stubs that blocked it (chapter, what), first seen first;
    blockers the exercises they belong to, once looked up (see exercises.py).
    """

    item: Item
    status: Status
    earned: float
    configs: list[tuple[str, Status, str | None]] = field(default_factory=list)
    detail: tuple[str, ...] = ()
    by_boot: bool = False
    boots: int = 0
    todos: tuple[tuple[int, str], ...] = ()
    blockers: list = field(default_factory=list)
    reason: str | None = None

    @property
    def passed(self) -> bool:
        """True if the item earned its points."""
        return self.status is Status.PASSED

    @property
    def text(self) -> str:
        """The status as the report prints it, reason included: ``not implemented: unmap: ...``."""
        return self.status.line(self.reason)


@dataclass
class ChapterResult:
    """Everything the reports need about one chapter."""

    chapter: Chapter
    items: list[ItemResult]
    boots: list[Boot] = field(default_factory=list)
    build_failure: BuildFailure | None = None
    unscored: dict[str, list[str]] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def earned(self) -> float:
        """Points earned over every item."""
        return sum(result.earned for result in self.items)

    @property
    def max_points(self) -> float:
        """Points available over every item."""
        return self.chapter.max_points

    def failed_boots(self) -> list[tuple[Boot, str]]:
        """The boots that did not run to the end, with what went wrong."""
        failed = []
        for boot in self.boots:
            failure = boot.failure()
            if failure is not None:
                failed.append((boot, f"{failure.status.label}: {failure.detail}"))
        return failed


def score_chapter(chapter: Chapter, boots: list[Boot]) -> ChapterResult:
    """Grade every item of @p chapter against @p boots (one per configuration)."""
    items = []
    for item in chapter.items:
        outcomes = {boot.label: item_outcome(boot, item) for boot in boots}
        items.append(combine(item, outcomes))
    return ChapterResult(chapter, items, boots=boots, unscored=unscored_tests(chapter, boots))


def build_failed(chapter: Chapter, failure: BuildFailure) -> ChapterResult:
    """The result of a chapter whose kernel could not be built: every item fails."""
    items = [ItemResult(item, Status.BUILD_FAILED, 0, detail=(failure.summary,), by_boot=True) for item in chapter.items]
    return ChapterResult(chapter, items, build_failure=failure)


def item_outcome(boot: Boot, item: Item) -> Outcome:
    """The outcome of @p item in one boot."""
    if item.disk_check is not None:
        return disk_outcome(boot, item)
    if item.test is None:
        outcome = suite_outcome(boot, item.suite)
    else:
        outcome = test_outcome(boot, item.suite, item.test)
    if outcome.skipped and item.allow_skip:
        return Outcome(Status.PASSED)
    return outcome


def test_outcome(boot: Boot, suite: str, test: str) -> Outcome:
    """The outcome of test @p suite.@p test in one boot."""
    run = boot.ktap.suites.get(suite)
    result = run.result(test) if run else None
    if result is None:
        if run is not None and run.finished and run.stub() is not None:
            return Outcome(Status.NOT_IMPLEMENTED, todo=run.stub(), reason=run.stub()[1])
        return missing_outcome(boot, f"{suite}.{test}")
    if result.skipped:
        return Outcome(Status.SKIPPED, reason=result.skip_reason)
    if result.ok:
        return Outcome(Status.PASSED)
    stub = result.stub()
    if stub is not None:
        return Outcome(Status.NOT_IMPLEMENTED, todo=stub, reason=stub[1])
    return Outcome(Status.FAILED, tuple(result.explanation()) or ("(the test printed no diagnostic)",))


def suite_outcome(boot: Boot, suite: str) -> Outcome:
    """The outcome of a whole suite in one boot."""
    run = boot.ktap.suites.get(suite)
    if run is None or not run.complete:
        if run is not None and boot.failure() is None:
            return Outcome(Status.DID_NOT_RUN, (_unfinished(run),))
        return missing_outcome(boot, suite)
    if not run.results:
        if run.stub() is not None:
            return Outcome(Status.NOT_IMPLEMENTED, todo=run.stub(), reason=run.stub()[1])
        return Outcome(Status.DID_NOT_RUN, (f"{suite} ran no test",))
    outcomes = [(result.name, test_outcome(boot, suite, result.name)) for result in run.results]
    for name, outcome in outcomes:
        if not outcome.passed and not outcome.skipped:
            detail = tuple(f"{name}: {line}" for line in outcome.detail) or (f"test {name}",)
            return Outcome(outcome.status, detail, todo=outcome.todo, reason=outcome.reason)
    for name, outcome in outcomes:
        if outcome.skipped:
            return Outcome(outcome.status, (f"test {name}",), reason=outcome.reason)
    return Outcome(Status.PASSED)


def disk_outcome(boot: Boot, item: Item) -> Outcome:
    """The outcome of a disk check in one boot: the file read out of the boot's image.

    A boot that did not run the check's ``after`` suite to its end (or,
    without one, did not finish) makes it "did not run", not a diff of a disk
    nobody wrote. Otherwise fsck, then the file's size and bytes decide; a
    failure also says when the suite itself failed or was skipped, or the
    boot broke down later (the image may be caught mid-update).
    """
    check = item.disk_check
    failure = boot.failure()
    run = boot.ktap.suites.get(check.after) if check.after else None
    if (check.after and (run is None or not run.complete)) or (not check.after and failure is not None):
        what = f"{check.after} did not run to its end in this boot" if check.after else "the boot did not finish"
        if failure is not None:
            why = failure.detail if failure.status is Status.DID_NOT_RUN else f"{failure.status.label}: {failure.detail}"
            return Outcome(Status.DID_NOT_RUN, (f"not run: {what} ({why})",), by_boot=True)
        return Outcome(Status.DID_NOT_RUN, (f"not run: {what}",))
    if boot.disk is None:
        return Outcome(Status.DID_NOT_RUN, ("not run: no disk image was attached to this boot",))
    problems = disk.check(boot.disk, check)
    if not problems:
        return Outcome(Status.PASSED)
    if run is not None:
        outcome = suite_outcome(boot, check.after)
        if not outcome.passed:
            problems.append(f"note: {check.after} itself {outcome.text} in this boot")
    if failure is not None:
        problems.append(f"note: the boot then ended badly ({failure.status.label}): the image may be caught mid-update")
    problems.append(f"image: {boot.disk}")
    return Outcome(Status.FAILED, tuple(problems))


def _unfinished(run: SuiteRun) -> str:
    """Say how far a suite that never finished got, in a run that did."""
    if run.planned is None:
        return f"{run.name} printed {len(run.results)} results and no plan"
    return f"{run.name} printed {len(run.results)} of {run.planned} results"


def missing_outcome(boot: Boot, name: str) -> Outcome:
    """The outcome of something that a boot did not report: why it is missing."""
    failure = boot.failure()
    if failure is not None:
        return Outcome(failure.status, (failure.detail,), by_boot=True)
    return Outcome(Status.DID_NOT_RUN, (f"{name} is not in the output, though the run completed",))


def combine(item: Item, outcomes: dict[str, Outcome]) -> ItemResult:
    """Combine an item's outcomes, by configuration name, into its result."""
    bad = {name: outcome for name, outcome in outcomes.items() if not (outcome.passed or outcome.skipped)}
    if bad:
        first = next(iter(bad.values()))
        configs = [(name, outcome.status, outcome.reason) for name, outcome in bad.items()]
        by_boot = all(outcome.by_boot for outcome in bad.values())
        todos = tuple(dict.fromkeys(outcome.todo for outcome in bad.values() if outcome.todo is not None))
        return ItemResult(
            item, first.status, 0, configs, _details(bad), by_boot, len(outcomes), todos, reason=first.reason
        )
    if any(outcome.passed for outcome in outcomes.values()):
        return ItemResult(item, Status.PASSED, item.points)
    first = next(iter(outcomes.values()))
    configs = [(name, outcome.status, outcome.reason) for name, outcome in outcomes.items()]
    return ItemResult(item, first.status, 0, configs, boots=len(outcomes), reason=first.reason)


def _details(bad: dict[str, Outcome]) -> tuple[str, ...]:
    """The first bad configuration's details, then the first line of each different one."""
    outcomes = list(bad.items())
    first = outcomes[0][1]
    lines = list(first.detail)
    for name, outcome in outcomes[1:]:
        if outcome != first and outcome.detail:
            line = f"{name}: {outcome.detail[0]}"
            if line not in lines:
                lines.append(line)
    return tuple(lines[:MAX_DETAIL_LINES])


def unscored_tests(chapter: Chapter, boots: list[Boot]) -> dict[str, list[str]]:
    """Tests of the chapter's ``ktest`` seen in the output that no rubric item covers, with the
    configurations they ran in (a boot shared with a later chapter runs that chapter's tests too)."""
    covered_tests = {item.name for item in chapter.items if item.test is not None}
    covered_suites = {item.suite for item in chapter.items if item.test is None}
    globs = [glob.strip() for glob in chapter.ktest.split(",") if glob.strip()]
    unscored: dict[str, list[str]] = {}
    for boot in boots:
        for result in boot.ktap.tests():
            if not any(fnmatchcase(result.suite, glob) for glob in globs):
                continue
            if result.key not in covered_tests and result.suite not in covered_suites:
                configs = unscored.setdefault(result.key, [])
                if boot.label not in configs:
                    configs.append(boot.label)
    return unscored
