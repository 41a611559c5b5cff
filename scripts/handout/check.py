"""The handout check: write every chapter's handout, build it, and grade it.

The grading is the grader's own, in-process: this module imports mmgrade
from the tree's grader/ and calls mmgrade.schedule.grade_chapter with the
handout's grader/rubric.toml (a copy of the tree's), reading the results
it returns (each item's Status and reason), not a printed table.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HandoutError, run_reporting
from .grader import Chapter, ChapterResult, ItemResult, RubricError, Status
from .grader import grading as mmgrading
from .grader import schedule as mmschedule
from .grader import load as load_rubric
from .grader import report as mmreport
from .markers import CHAPTER_DIR_RE
from .tree import Tree, write_handout

# The share of a chapter's points its stubs may earn on their own.
STUB_POINTS_LIMIT = 0.10
# The variables of a parent make that must not leak into the builds (make handout-check runs this).
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CH", "OUT", "GRADEFLAGS")


def child_env() -> dict[str, str]:
    """The environment for make and the grader: no make variables leaking in from a parent make."""
    env = dict(os.environ)
    for name in MAKE_VARIABLES:
        env.pop(name, None)
    return env


def grade_chapter(chapter: Chapter, settings: mmgrading.Settings, rubric: dict[int, Chapter]) -> ChapterResult:
    """Build (unless settings say not), boot and score one chapter: the grader's own grade_chapter.

    The one place the check calls the grader; the tests put a stand-in here.
    """
    return mmschedule.grade_chapter(chapter, settings, rubric)


def timeout_scale() -> float:
    """MMLAB_TIMEOUT_SCALE (as grade.py reads it), or 1."""
    value = os.environ.get("MMLAB_TIMEOUT_SCALE", "1")
    try:
        scale = float(value)
    except ValueError:
        raise HandoutError(f"MMLAB_TIMEOUT_SCALE={value!r} is not a number") from None
    if scale <= 0:
        raise HandoutError("MMLAB_TIMEOUT_SCALE must be positive")
    return scale


@dataclass
class Grading:
    """One chapter of a handout tree graded in one configuration: the grader's item results."""

    ch: int
    config: str
    kernel: int  # the chapter whose kernel was booted
    ok: bool = False  # the grader ran and returned its results
    score: float = 0.0
    max_score: float = 0.0
    items: list[ItemResult] = field(default_factory=list)
    error: str | None = None
    elapsed: float = 0.0
    output: str = ""  # the grader's report, as grade.py would print it


@dataclass
class ChapterCheck:
    """The outcome of one chapter's handout check."""

    ch: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def passed(self) -> bool:
        """True if nothing went wrong."""
        return not self.problems


class Checker:
    """Runs the handout check of every chapter; builds and boots share `jobs` slots."""

    def __init__(self, tree: Tree, jobs: int, keep: bool, timeout: float, configs: dict[int, str] | None = None,
                 log=print):  # fmt: skip
        self.tree = tree
        self.jobs = max(1, jobs)
        self.keep = keep
        self.timeout = timeout
        self.forced_configs = configs or {}
        self.slots = threading.Semaphore(self.jobs)
        self.print_lock = threading.Lock()
        self.log_fn = log
        self.workdir = Path(tempfile.mkdtemp(prefix="mmlab-handout-check-"))
        self.started = time.monotonic()

    def log(self, message: str) -> None:
        """Print one progress line, with the time since the start."""
        with self.print_lock:
            self.log_fn(f"[{time.monotonic() - self.started:5.0f}s] {message}", flush=True)

    # -- the grader's interface ------------------------------------------------

    def pick_configs(self, handout: Path) -> dict[int, str]:
        """One grader configuration per chapter, from the handout's grader/rubric.toml.

        --config chN=NAME wins; otherwise the first configuration with 2 harts
        (the machine's default, and SMP tests run there), else the first one.
        """
        import tomllib

        rubric = handout / "grader" / "rubric.toml"
        try:
            data = tomllib.loads(rubric.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise HandoutError(f"cannot read the grader's configurations from {rubric}: {err}") from err
        picked = {}
        for key, table in data.items():
            match = CHAPTER_DIR_RE.match(key)
            if not match or not isinstance(table, dict):
                continue
            ch = int(match[1])
            configs = [c for c in table.get("configs", []) if isinstance(c, dict) and isinstance(c.get("name"), str)]
            names = [c["name"] for c in configs]
            if ch in self.forced_configs:
                if self.forced_configs[ch] not in names:
                    raise HandoutError(f"--config ch{ch}={self.forced_configs[ch]}: no such configuration "
                                       f"(ch{ch} has {', '.join(names) or 'none'})")
                picked[ch] = self.forced_configs[ch]
            elif configs:
                two = [c["name"] for c in configs if c.get("smp") == 2]
                picked[ch] = (two or names)[0]
        return picked

    def run(self, argv: list[str], cwd: Path, timeout: float) -> tuple[int | None, str, float]:
        """Run @p argv in one of the job slots; return its exit code (None on timeout), output, time."""
        with self.slots:
            start = time.monotonic()
            try:
                process = subprocess.Popen(
                    argv, cwd=cwd, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            except OSError as err:
                return 127, f"cannot run {argv[0]}: {err.strerror}", 0.0
            try:
                out, _ = process.communicate(timeout=timeout)
                code: int | None = process.returncode
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                out, _ = process.communicate()
                code = None
            return code, out.decode("utf-8", "replace"), time.monotonic() - start

    def grade(self, handout: Path, ch: int, config: str, kernel_of: int | None = None, built: bool = False,
              label: str | None = None) -> Grading:  # fmt: skip
        """Grade chapter @p ch of @p handout in one configuration, in one job slot, with the grader's API.

        With @p kernel_of, boot chapter @p kernel_of's kernel instead of chapter
        @p ch's (an earlier chapter's tests on a later, unfinished layer): the
        grader then runs on a scratch root that holds that kernel as build/chN.
        With @p built, the kernel is built already (the grader does not run make).
        @p label names the grader's report (.out) in the work directory.
        """
        result = Grading(ch, config, kernel_of or ch)
        label = label or f"{handout.name}-grade-ch{ch}" + (f"-on-kernel{kernel_of}" if kernel_of else "")
        root, build = handout, not built
        if kernel_of:
            kernel = handout / "build" / f"ch{kernel_of}" / "kernel.elf"
            if not kernel.is_file():
                result.error = f"no kernel of chapter {kernel_of} to boot (its build failed)"
                return result
            root, build = self.workdir / label, False
            (root / "build" / f"ch{ch}").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kernel, root / "build" / f"ch{ch}" / "kernel.elf")
        rubric_path = handout / "grader" / "rubric.toml"
        try:
            rubric = load_rubric(rubric_path)
        except RubricError as err:
            result.error = f"the grader cannot read its rubric: {err}"
            return result
        chapter = rubric.get(ch)
        if chapter is None or config not in [c.name for c in chapter.configs]:
            result.error = f"{rubric_path} has no configuration {config} of chapter {ch}"
            return result
        settings = mmgrading.Settings(
            root=root.resolve(), qemu=os.environ.get("MMLAB_QEMU", "qemu-system-riscv64"), make="make", jobs=1,
            timeout_scale=timeout_scale(), build=build, only=(config,), verbose=False, env=child_env(),
        )  # fmt: skip
        with self.slots:
            start = time.monotonic()
            graded = grade_chapter(chapter, settings, rubric)
            result.elapsed = time.monotonic() - start
        result.output = mmreport.render([graded], mmreport.Painter(False))
        (self.workdir / f"{label}.out").write_text(result.output)
        result.ok = True
        result.items = list(graded.items)
        result.score = sum(item.earned for item in result.items)
        result.max_score = sum(item.item.points for item in result.items)
        return result

    # -- one chapter -------------------------------------------------------------

    def check_chapter(self, n: int) -> ChapterCheck:
        """Write, build and grade chapter @p n's handout."""
        check = ChapterCheck(n)
        check.elapsed = run_reporting(lambda: self._check_chapter(n, check), check.problems)
        return check

    def build(self, n: int, out: Path):
        """Build handout @p n's kernels, as `make kernels` would, without the
        disassembly (OBJDUMP=true: nothing here reads it). The most stubbed
        handout (the first chapter's) builds every kernel; the others build
        kernels 1..n, the ones they grade: a later kernel of theirs is made
        of the same files, stubbed alike, as in that first handout or in
        its own chapter's. @return (exit code or None, output, seconds)."""
        upto = [c for c in self.tree.chapters if n == min(self.tree.chapters) or c <= n]
        script = " && ".join(f"make -C {shlex.quote(str(out))} --no-print-directory kernel CH={c} OBJDUMP=true"
                             for c in upto)
        return self.run(["bash", "-c", script], out, self.timeout)

    def _check_chapter(self, n: int, check: ChapterCheck) -> None:
        out = self.workdir / f"ch{n}"
        handout = write_handout(self.tree, n, out, force=False, git=True)
        mine = [ex for ex in handout.exercises if ex.ch == n]
        self.log(f"ch{n}: handout written: {len(handout.files)} files, {len(mine)} TODO(ch{n}) exercises")
        if not mine:
            check.problems.append(f"chapter {n} has no LAB exercise: its handout is the full solution")
        if not (out / f"ch{n}" / "README.md").is_file():
            check.notes.append(f"warning: ch{n}/README.md, where the handout's README sends the student, is missing")

        code, output, elapsed = self.build(n, out)
        (self.workdir / f"ch{n}-build.log").write_text(output)
        warnings = [line for line in output.splitlines() if "warning:" in line]
        if code != 0:
            # Go on: the gradings build the kernels they need, and say which of those fail.
            errors = [line for line in output.splitlines() if re.search(r"\berror\b|\*\*\*", line, re.I)]
            tail = "\n".join("      " + line for line in (errors or output.strip().splitlines())[-12:])
            what = "timed out" if code is None else f"failed (exit code {code})"
            check.problems.append(f"the handout's build (make kernel) {what}:\n{tail}")
            self.log(f"ch{n}: handout build {what} ({elapsed:.0f}s)")
        elif warnings:
            check.problems.append("the handout's build warns:\n" + "\n".join("      " + w for w in warnings[:10]))
        else:
            check.notes.append(f"build: kernels warning-free ({elapsed:.0f}s)")
            self.log(f"ch{n}: handout built ({elapsed:.0f}s)")

        configs = self.pick_configs(out)
        jobs = []  # (chapter graded, its kernel or None, config)
        for k in [c for c in self.tree.chapters if c <= n]:
            if k not in configs:
                check.problems.append(f"grader/rubric.toml has no [ch{k}] configuration: chapter {k} cannot be graded")
                continue
            jobs.append((k, None, configs[k]))
            if k < n:
                jobs.append((k, n, configs[k]))
        with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
            futures = [(k, on, c, pool.submit(self.grade, out, k, c, on)) for k, on, c in jobs]
            gradings = [(k, on, c, f.result()) for k, on, c, f in futures]
        for k, on, config, grading in gradings:
            what = f"ch{k} on kernel {on}" if on else f"ch{k}"
            score = f"{grading.score:g}/{grading.max_score:g}" if grading.ok else "no result"
            self.log(f"ch{n}: graded {what} [{config}]: {score} ({grading.elapsed:.0f}s)")
            if k < n:
                self._judge_solved(check, n, k, on, config, grading)
            else:
                self._judge_stubbed(check, n, config, grading)

    def _judge_solved(self, check: ChapterCheck, n: int, k: int, on: int | None, config: str, grading: Grading) -> None:
        """An earlier chapter in chapter n's handout: every item passes (or is skipped in this configuration)."""
        what = (f"ch{k} (solved) on kernel {on}, with ch{n} unfinished," if on else f"ch{k} (solved)") + f" [{config}]"
        if not grading.ok:
            check.problems.append(f"{what}: {grading.error}")
            return
        lost = [r for r in grading.items if r.earned < r.item.points]
        skipped = [r for r in lost if r.status is Status.SKIPPED]
        failed = [r for r in lost if r.status is not Status.SKIPPED]
        if failed:
            check.problems.append(
                f"{what}: {grading.score:g}/{grading.max_score:g}, not the full score:\n" + by_status(failed)
            )
            return
        note = f"{what}: {grading.score:g}/{grading.max_score:g}"
        if skipped:
            note += f" (skipped in this configuration: {', '.join(r.item.name for r in skipped)})"
        else:
            note += ", full score"
        check.notes.append(note)

    def _judge_stubbed(self, check: ChapterCheck, n: int, config: str, grading: Grading) -> None:
        """Chapter n itself, stubbed: not implemented, no timeout, at most 10% of its points."""
        what = f"ch{n} (stubbed) [{config}]"
        if not grading.ok:
            check.problems.append(f"{what}: {grading.error}")
            return
        scored = [r for r in grading.items if r.item.points > 0]

        def named(results: list[ItemResult], limit: int = 6) -> str:
            names = [r.item.name for r in results]
            more = f" and {len(names) - limit} more" if len(names) > limit else ""
            return ", ".join(names[:limit]) + more

        def having(*statuses: Status) -> list[ItemResult]:
            return [r for r in scored if r.status in statuses]

        timeouts = having(Status.TIMEOUT)
        panics = having(Status.PANIC)
        not_impl = having(Status.NOT_IMPLEMENTED)
        earned = [r for r in grading.items if r.earned > 0]
        skipped = having(Status.SKIPPED)
        expected = (Status.NOT_IMPLEMENTED, Status.TIMEOUT, Status.PANIC, Status.SKIPPED)
        others = [r for r in scored if r.earned < r.item.points and r.status not in expected]
        check.notes.insert(
            0,
            f"{what}: {grading.score:g}/{grading.max_score:g} points without the student's code; "
            f"{len(not_impl)} of its {len(scored)} scored items \"not implemented\"",
        )
        unbuilt = having(Status.BUILD_FAILED)
        if unbuilt:
            check.problems.append(f"{what}: the kernel does not build ({len(unbuilt)} items: build failed)")
            return
        if timeouts:
            check.problems.append(f"{what}: a stub hangs the kernel: timeout in {named(timeouts)}")
        if panics:
            detail = panics[0].text
            check.problems.append(f"{what}: a stub crashes the kernel ({detail}) in {named(panics)}")
        earned_names = ", ".join(f"{r.item.name} ({r.earned:g})" for r in earned)
        if grading.score > STUB_POINTS_LIMIT * grading.max_score + 1e-9:
            check.problems.append(
                f"{what}: the stubs earn {grading.score:g} of {grading.max_score:g} points "
                f"(more than {STUB_POINTS_LIMIT:.0%}): {earned_names}"
            )
        elif earned:
            check.notes.append(f"{what} earns without the student's code: {earned_names}")
        if not not_impl and not (timeouts or panics):
            check.problems.append(f"{what}: no item is reported \"not implemented\" (do the stubs call TODO()?)")
        if skipped:
            check.notes.append(f"{what}: skipped in this configuration: {named(skipped)}")
        if others:
            check.notes.append(f"warning: {what} fails without saying \"not implemented\":\n" + by_status(others))

    # -- all chapters -------------------------------------------------------------

    def check_all(self, chapters: list[int]) -> list[ChapterCheck]:
        """Check @p chapters in parallel (each waits for a job slot for its builds and boots)."""
        with ThreadPoolExecutor(max_workers=max(1, len(chapters))) as pool:
            results = list(pool.map(self.check_chapter, chapters))
        return results

    def cleanup(self) -> None:
        """Remove the work directory unless asked to keep it."""
        if self.keep:
            self.log(f"kept the handouts and logs in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def by_status(results: list[ItemResult | tuple[str, str]], indent: str = "      ", limit: int = 12) -> str:
    """Lines `name: status`, or `status: N items (a, b, ...)` where many items share a status.

    @p results: ItemResults, or (name, status as printed) pairs.
    """
    groups: dict[str, list[str]] = {}
    for result in results:
        name, status = (result.item.name, result.text) if isinstance(result, ItemResult) else result
        groups.setdefault(status, []).append(name)
    lines = []
    for status, names in groups.items():
        if len(names) <= 2:
            lines += [f"{indent}{name}: {status}" for name in names]
        else:
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            lines.append(f"{indent}{status}: {len(names)} items ({shown})")
    if len(lines) > limit:
        lines = lines[:limit] + [f"{indent}... and {len(lines) - limit} more"]
    return "\n".join(lines)


def cmd_check(tree: Tree, chapters: list[int], jobs: int, keep: bool, timeout: float, configs: dict[int, str]) -> int:
    """Check every chapter's handout; print a summary and `handout-check: N passed, N failed`."""
    start = time.monotonic()
    print(f"handout-check: {tree.root}: chapters {', '.join(map(str, chapters))}; "
          f"{len(tree.regions)} marked regions in {len(tree.sources)} files, all well-formed; {jobs} job(s)")
    for warning in tree.warnings:
        print(f"warning: {warning}")
    checker = Checker(tree, jobs, keep, timeout, configs)
    results = checker.check_all(chapters)
    failed = [r for r in results if not r.passed]
    checker.cleanup()
    if failed and not keep:
        print("(rerun with --keep to read the handouts, build logs and boot logs of a failure)")
    print()
    for result in results:
        verdict = "ok" if result.passed else "FAILED"
        print(f"chapter {result.ch}: {verdict} ({result.elapsed:.0f}s)")
        for note in result.notes:
            print(f"    {note}")
        for problem in result.problems:
            print(f"  x {problem}")
    print(f"handout-check: {len(results) - len(failed)} passed, {len(failed)} failed "
          f"({time.monotonic() - start:.0f}s)")
    return 1 if failed else 0
