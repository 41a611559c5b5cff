"""--progress: which rubric items each exercise turns green, and the guides' tables of it."""

from __future__ import annotations

import difflib
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .check import Checker, Grading, by_status
from .errors import HandoutError, run_reporting
from .grader import Status
from .markers import Region, stub_names
from .rubric import RubricExercise, rubric_exercises
from .tree import Tree, read_text, write_handout

PROGRESS_BEGIN = "<!-- progress: begin -->"
PROGRESS_END = "<!-- progress: end -->"


def exercise_regions(tree: Tree, n: int, exercises: list[RubricExercise]) -> list[list[Region]]:
    """For each of @p exercises, the regions of chapter @p n whose stub it names.

    Every region must name exactly one exercise and every exercise have a
    region, or the order cannot be followed: a HandoutError says which.
    """
    groups: dict[str, list[Region]] = {exercise.todo: [] for exercise in exercises}
    problems = []
    for region in (r for r in tree.regions if r.ch == n):
        names = stub_names(region)
        if len(names) != 1:
            what = "calls no TODO()" if not names else f"calls TODO() for {', '.join(names)}"
            problems.append(f"{region.where}: the stub {what}: it must name one exercise")
        elif names[0] not in groups:
            problems.append(f'{region.where}: stub "{names[0]}" has no [[ch{n}.exercise]] in grader/rubric.toml')
        else:
            groups[names[0]].append(region)
    unused = [name for name, got in groups.items() if not got]
    problems += [f'exercise "{name}" of grader/rubric.toml has no ch{n} region' for name in unused]
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise HandoutError(f"ch{n}: the exercises and the stubs do not match:\n{listed}")
    return [groups[exercise.todo] for exercise in exercises]


@dataclass
class StepResult:
    """Chapter N graded with its first `solved` exercises done: every rubric item's outcome."""

    solved: int
    items: list[str]  # every rubric item, in rubric order
    statuses: dict[str, Status]  # item -> its status
    points: dict[str, float]  # item -> its points
    reasons: dict[str, str | None] = field(default_factory=dict)  # item -> its status's reason, if any

    @classmethod
    def from_grading(cls, solved: int, grading: Grading) -> StepResult:
        """The step's outcomes from the grader's item results."""
        names = [result.item.name for result in grading.items]
        statuses = {result.item.name: result.status for result in grading.items}
        points = {result.item.name: result.item.points for result in grading.items}
        reasons = {result.item.name: result.reason for result in grading.items}
        return cls(solved, names, statuses, points, reasons)

    def text(self, item: str) -> str:
        """@p item's status as the grader prints it: ``passed``, ``skipped: needs 4 harts``, ..."""
        return self.statuses[item].line(self.reasons.get(item))

    @property
    def passed(self) -> set[str]:
        """The items that passed."""
        return {name for name, status in self.statuses.items() if status is Status.PASSED}


@dataclass
class ChapterProgress:
    """The exercises of one chapter solved one by one, and what each step graded."""

    ch: int
    config: str = ""
    exercises: list[RubricExercise] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def complete(self) -> bool:
        """True if every step was built and graded."""
        return bool(self.exercises) and len(self.steps) == len(self.exercises) + 1

    def own(self, item: str) -> bool:
        """True for the chapter's own items (not an earlier layer's prerequisite)."""
        return item.startswith(f"ch{self.ch}.")

    def turned_green(self, j: int) -> list[str]:
        """The chapter's items that pass after step @p j and did not before it (all that pass at step 0)."""
        before = self.steps[j - 1].passed if j else set()
        return [i for i in self.steps[j].items if self.own(i) and i in self.steps[j].passed and i not in before]

    def turned_red(self, j: int, step: StepResult | None = None) -> list[str]:
        """Items (prerequisites too) that passed before step @p j and do not after it: a bug.

        @p step: a grading of step j to compare instead of the one recorded.
        """
        step = step or self.steps[j]
        if j == 0:
            return []
        return [i for i in step.items if i in self.steps[j - 1].passed and i not in step.passed]

    def never_green(self) -> list[str]:
        """The chapter's items that do not pass in this configuration even with every exercise done."""
        last = self.steps[-1]
        return [i for i in last.items if self.own(i) and i not in last.passed]

    def analyse(self) -> None:
        """Add a problem for each thing the data says is wrong (needs every step)."""
        for j in range(len(self.steps)):
            red = self.turned_red(j)
            if red:
                what = f"exercise {j}, {self.exercises[j - 1].title}"
                self.problems.append(f"ch{self.ch}: {len(red)} item(s) pass before {what} and not after it:\n"
                                     + by_status([(i, self.steps[j].text(i)) for i in red]))  # fmt: skip
        prereq_red = [i for i in self.steps[0].items if not self.own(i) and i not in self.steps[0].passed]
        if prereq_red:
            listed = ", ".join(prereq_red)
            self.problems.append(f"ch{self.ch}: earlier layers fail with no ch{self.ch} exercise done: {listed}")
        last = self.steps[-1]
        for item in self.never_green():
            if last.statuses[item] is not Status.SKIPPED:
                self.problems.append(f"ch{self.ch}: {item} is not green with every exercise done: {last.text(item)}")


def _item_groups(names: list[str], all_items: list[str]) -> str:
    """``suite`` (all N) / ``suite``: a, b / ``suite`` (whole suite), for items in rubric order."""
    suites: dict[str, list[str]] = {}
    for name in names:
        suite = name if name not in all_items or _is_suite(name, all_items) else name.rsplit(".", 1)[0]
        suites.setdefault(suite, []).append(name)
    parts = []
    for suite, members in suites.items():
        if members == [suite]:
            parts.append(f"`{suite}` (whole suite)")
            continue
        everyone = [i for i in all_items if i.rsplit(".", 1)[0] == suite]
        tests = [m.rsplit(".", 1)[1] for m in members]
        if members == everyone and len(everyone) > 1:
            parts.append(f"`{suite}` (all {len(everyone)})")
        else:
            parts.append(f"`{suite}`: {', '.join(tests)}")
    return "; ".join(parts)


def _is_suite(name: str, all_items: list[str]) -> bool:
    """True if rubric item @p name is a whole suite (no item is named inside it, as suite.test is)."""
    return name.count(".") == 1 and not any(i.startswith(name + ".") for i in all_items)


def progress_section(progress: ChapterProgress) -> str:
    """The Markdown section of chN/README.md that says which items each exercise turns green."""
    n, steps = progress.ch, progress.steps
    items = steps[-1].items
    points = steps[-1].points
    lines = [
        PROGRESS_BEGIN,
        f"<!-- Written by `scripts/handout.py --progress --ch {n} --write`; `make progress-check` "
        "(part of `make handout-check`) fails when it no longer says what happens. Do not edit by hand. -->",
        "",
        f"Which rubric items go green as you go, measured with the exercises solved one by one in the "
        f"order above and ch{n} graded after each (`grader/grade.py {n} --only {progress.config}`):",
        "",
        "| done | turns green | points | in all |",
        "|---|---|---|---|",
    ]
    total = 0.0
    for j, step in enumerate(steps):
        green = progress.turned_green(j)
        gained = sum(points.get(i, 0.0) for i in green)
        total += gained - sum(points.get(i, 0.0) for i in progress.turned_red(j) if progress.own(i))
        cell = _item_groups(green, items) if green else "nothing"
        red = progress.turned_red(j)
        if red:
            cell += f"; **red again (a bug):** {_item_groups(red, items)}"
        done = "no exercise" if j == 0 else f"{j}. {progress.exercises[j - 1].title}"
        lines.append(f"| {done} | {cell} | {gained:g} | {total:g} |")
    never = progress.never_green()
    if never:
        why = "; ".join(f"`{i}` ({steps[-1].text(i)})" for i in never)
        lines += ["", f"Not green in {progress.config} even with every exercise done: {why}; "
                  "the grader's other configurations run it."]  # fmt: skip
    prereqs = [i for i in items if not progress.own(i)]
    if prereqs:
        red = [i for i in prereqs if any(i not in step.passed for step in steps)]
        if red:
            lines += ["", f"**Earlier layers red at some step (a bug):** {_item_groups(red, items)}."]
        else:
            lines += ["", "The earlier layers' suites (0 points here) pass at every step."]
    lines.append(PROGRESS_END)
    return "\n".join(lines) + "\n"


def replace_progress(text: str, section: str, where: str) -> str:
    """@p text (a guide) with its progress section replaced by @p section."""
    start = text.find(PROGRESS_BEGIN)
    end = text.find(PROGRESS_END, start if start >= 0 else 0)
    if start < 0 or end < 0:
        raise HandoutError(f"{where} has no {PROGRESS_BEGIN} ... {PROGRESS_END} markers: put them where "
                           "the progress section goes (in 'The exercises')")  # fmt: skip
    stop = end + len(PROGRESS_END)
    if text[stop : stop + 1] == "\n":
        stop += 1
    return text[:start] + section + text[stop:]


def current_progress(text: str) -> str | None:
    """The progress section of a guide as it stands (markers included), or None."""
    start = text.find(PROGRESS_BEGIN)
    end = text.find(PROGRESS_END, start if start >= 0 else 0)
    if start < 0 or end < 0:
        return None
    return text[start : end + len(PROGRESS_END)] + "\n"


def _newer_than(root: Path, files: list[str], reference: Path) -> None:
    """Make each of @p files newer than @p reference, so that make rebuilds from it."""
    if not reference.exists():
        return
    floor = reference.stat().st_mtime_ns
    for rel in files:
        path = root / rel
        if path.is_file() and not path.is_symlink() and path.stat().st_mtime_ns <= floor:
            os.utime(path, ns=(floor + 1_000_000, floor + 1_000_000))


class ProgressRunner(Checker):
    """Solves each chapter's exercises one by one in rubric order, building and grading after each.

    One tree per chapter, updated in place from step to step, so each build
    after the first recompiles only the files of the exercise just solved.
    Chapters run in parallel; builds and boots share the `jobs` slots.
    """

    def chapter(self, n: int) -> ChapterProgress:
        """The progress of chapter @p n, problems included (never raises)."""
        progress = ChapterProgress(n)
        progress.elapsed = run_reporting(lambda: self._chapter(n, progress), progress.problems)
        return progress

    def _chapter(self, n: int, progress: ChapterProgress) -> None:
        configs = self.pick_configs(self.tree.root)
        if n not in configs:
            raise HandoutError(f"grader/rubric.toml has no [ch{n}] configuration: chapter {n} cannot be graded")
        progress.config = configs[n]
        progress.exercises = rubric_exercises(self.tree.root, n)
        groups = exercise_regions(self.tree, n, progress.exercises)
        out = self.workdir / f"progress-ch{n}"
        kernel = out / "build" / f"ch{n}" / "kernel.elf"
        for j in range(len(groups) + 1):
            solved = frozenset(region.where for group in groups[:j] for region in group)
            handout = write_handout(self.tree, n, out, git=False, solved=solved, update=j > 0)
            _newer_than(out, handout.changed, kernel)
            what = "no exercise done" if j == 0 else f"exercise {j} ({progress.exercises[j - 1].title}) done"
            # OBJDUMP=true: no kernel.asm (nobody reads it here), a second less per step.
            argv = ["make", "-C", str(out), "kernel", f"CH={n}", "OBJDUMP=true"]
            code, output, elapsed = self.run(argv, out, self.timeout)
            (self.workdir / f"progress-ch{n}-step{j}-build.log").write_text(output)
            if code != 0:
                tail = "\n".join("      " + line for line in output.strip().splitlines()[-12:])
                raise HandoutError(f"ch{n} with {what}: make kernel CH={n} failed (exit code {code}):\n{tail}")
            step, seconds = self._grade_once(out, progress, j, what)
            progress.steps.append(step)
            score = sum(step.points[i] for i in step.passed)
            self.log(f"ch{n}: {what}: built ({elapsed:.0f}s), graded [{progress.config}]: {score:g} points, "
                     f"{len(progress.turned_green(j))} item(s) turned green ({seconds:.0f}s)")  # fmt: skip
        progress.analyse()

    def _grade_once(self, out: Path, progress: ChapterProgress, j: int, what: str) -> tuple[StepResult, float]:
        """Grade step @p j once; keep its boot log in the work directory.

        Never graded twice: a result that changes from one grading to the
        next is a bug of the kernel or its tests, for this check to show.
        """
        n, config = progress.ch, progress.config
        label = f"progress-ch{n}-step{j}"
        grading = self.grade(out, n, config, built=True, label=label)
        boot_log = out / "build" / "grade" / f"ch{n}-{config}.log"
        if boot_log.is_file():
            shutil.copyfile(boot_log, self.workdir / f"{label}-{config}.log")
        if not grading.ok:
            raise HandoutError(f"ch{n} with {what}: {grading.error}")
        return StepResult.from_grading(j, grading), grading.elapsed


def cmd_progress(tree: Tree, chapters: list[int], action: str | None, jobs: int, keep: bool, timeout: float,
                 configs: dict[int, str]) -> int:  # fmt: skip
    """--progress: measure, then print (no action), --write or --check each chapter's guide section."""
    start = time.monotonic()
    print(f"progress: {tree.root}: chapters {', '.join(map(str, chapters))}; {jobs} job(s)", flush=True)
    runner = ProgressRunner(tree, jobs, keep, timeout, configs)
    # The chapter with the most exercises has the longest chain of steps: it starts first.
    longest_first = sorted(chapters, key=lambda n: -sum(1 for r in tree.regions if r.ch == n))
    with ThreadPoolExecutor(max_workers=max(1, len(chapters))) as pool:
        futures = {n: pool.submit(runner.chapter, n) for n in longest_first}
        results = [futures[n].result() for n in chapters]
    failed = 0
    for progress in results:
        problems = list(progress.problems)
        if progress.complete:
            problems += _apply_progress(tree.root, progress, action)
        print(f"\nchapter {progress.ch}: {'FAILED' if problems else 'ok'} ({progress.elapsed:.0f}s)")
        for note in progress.notes:
            print(f"    {note}")
        for problem in problems:
            print(f"  x {problem}")
        failed += bool(problems)
    # A failure may not come back on a second run (a flaky test): keep what shows it.
    runner.keep = runner.keep or bool(failed) or any(progress.notes for progress in results)
    runner.cleanup()
    print(f"progress: {len(results) - failed} passed, {failed} failed ({time.monotonic() - start:.0f}s)")
    return 1 if failed else 0


def _apply_progress(root: Path, progress: ChapterProgress, action: str | None) -> list[str]:
    """Print, write or check chapter's progress section; return the problems."""
    section = progress_section(progress)
    guide = root / f"ch{progress.ch}" / "README.md"
    where = guide.relative_to(root).as_posix()
    if action is None:
        print(f"\n{where}:\n{section}", end="")
        return []
    if not guide.is_file():
        return [f"{where} is missing"]
    text = read_text(guide)
    if action == "write":
        try:
            updated = replace_progress(text, section, where)
        except HandoutError as err:
            return [str(err)]
        if updated != text:
            guide.write_bytes(updated.encode("utf-8", "surrogateescape"))
        print(f"{where}: progress section {'written' if updated != text else 'already up to date'}")
        return []
    current = current_progress(text)
    if current is None:
        return [f"{where} has no progress section ({PROGRESS_BEGIN} ... {PROGRESS_END}): "
                f"run scripts/handout.py --progress --ch {progress.ch} --write"]  # fmt: skip
    if current == section:
        print(f"{where}: progress section up to date")
        return []
    diff = difflib.unified_diff(current.splitlines(), section.splitlines(), f"{where} (now)", "measured", lineterm="")
    return [f"{where}: the progress section is stale (run scripts/handout.py --progress --ch {progress.ch} --write):\n"
            + "\n".join("      " + line for line in diff)]  # fmt: skip
