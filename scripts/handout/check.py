"""The handout check: write every chapter's handout, build it, and grade it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HandoutError
from .markers import CHAPTER_DIR_RE
from .tree import Tree, write_handout

# The share of a chapter's points its stubs may earn on their own.
STUB_POINTS_LIMIT = 0.10
# The grader's Gradescope output starts "<status> (<earned>/<max> points)".
POINTS_SUFFIX_RE = re.compile(r"\s*\([0-9.]+/[0-9.]+ points\)$")


def child_env() -> dict[str, str]:
    """The environment for make and the grader: no make variables leaking in from a parent make."""
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CH", "OUT", "GRADEFLAGS"):
        env.pop(name, None)
    return env


@dataclass
class Grading:
    """One run of grader/grade.py in a handout tree."""

    ch: int
    config: str
    kernel: int  # the chapter whose kernel was booted
    ok: bool = False  # the grader ran and wrote its JSON
    score: float = 0.0
    max_score: float = 0.0
    tests: list[dict] = field(default_factory=list)
    exit_code: int | None = None
    error: str | None = None
    elapsed: float = 0.0
    output: str = ""


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
        """Grade chapter @p ch of @p handout in one configuration; read the grader's JSON.

        With @p kernel_of, boot chapter @p kernel_of's kernel instead of chapter
        @p ch's (an earlier chapter's tests on a later, unfinished layer): the
        grader then runs on a scratch root that holds that kernel as build/chN.
        With @p built, the kernel is built already (the grader does not run make).
        @p label names the grader's output files in the work directory.
        """
        result = Grading(ch, config, kernel_of or ch)
        label = label or f"{handout.name}-grade-ch{ch}" + (f"-on-kernel{kernel_of}" if kernel_of else "")
        json_path = self.workdir / f"{label}.json"
        argv = [sys.executable, str(handout / "grader" / "grade.py"), str(ch), "--only", config, "--json", str(json_path)]
        if built and not kernel_of:
            argv.append("--no-build")
        if kernel_of:
            kernel = handout / "build" / f"ch{kernel_of}" / "kernel.elf"
            if not kernel.is_file():
                result.error = f"no kernel of chapter {kernel_of} to boot (its build failed)"
                return result
            scratch = self.workdir / label
            (scratch / "build" / f"ch{ch}").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kernel, scratch / "build" / f"ch{ch}" / "kernel.elf")
            argv += ["--root", str(scratch), "--rubric", str(handout / "grader" / "rubric.toml"), "--no-build"]
        code, output, elapsed = self.run(argv, handout, self.timeout)
        result.exit_code, result.output, result.elapsed = code, output, elapsed
        (self.workdir / f"{label}.out").write_text(output)
        if code is None:
            result.error = f"grader/grade.py did not finish within {self.timeout:g} s"
            return result
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            tail = "\n".join("      " + line for line in output.strip().splitlines()[-8:])
            result.error = f"grader/grade.py wrote no JSON results (exit code {code}; {err}); it said:\n{tail}"
            return result
        result.ok = True
        result.tests = [t for t in data.get("tests", []) if isinstance(t, dict)]
        result.score = sum(item_points(t, "score") for t in result.tests)
        result.max_score = sum(item_points(t, "max_score") for t in result.tests)
        return result

    # -- one chapter -------------------------------------------------------------

    def check_chapter(self, n: int) -> ChapterCheck:
        """Write, build and grade chapter @p n's handout."""
        check = ChapterCheck(n)
        start = time.monotonic()
        try:
            self._check_chapter(n, check)
        except HandoutError as err:
            check.problems.append(str(err))
        except Exception as err:  # noqa: BLE001 - report it, do not lose the other chapters
            check.problems.append(f"internal error in handout.py: {type(err).__name__}: {err}")
        check.elapsed = time.monotonic() - start
        return check

    def _check_chapter(self, n: int, check: ChapterCheck) -> None:
        out = self.workdir / f"ch{n}"
        handout = write_handout(self.tree, n, out, force=False, git=True)
        mine = [ex for ex in handout.exercises if ex.ch == n]
        self.log(f"ch{n}: handout written: {len(handout.files)} files, {len(mine)} TODO(ch{n}) exercises")
        if not mine:
            check.problems.append(f"chapter {n} has no LAB exercise: its handout is the full solution")
        if not (out / f"ch{n}" / "README.md").is_file():
            check.notes.append(f"warning: ch{n}/README.md, where the handout's README sends the student, is missing")

        code, output, elapsed = self.run(["make", "-C", str(out), "kernels"], out, self.timeout)
        (self.workdir / f"ch{n}-build.log").write_text(output)
        warnings = [line for line in output.splitlines() if "warning:" in line]
        if code != 0:
            # Go on: the gradings build the kernels they need, and say which of those fail.
            errors = [line for line in output.splitlines() if re.search(r"\berror\b|\*\*\*", line, re.I)]
            tail = "\n".join("      " + line for line in (errors or output.strip().splitlines())[-12:])
            what = "timed out" if code is None else f"failed (exit code {code})"
            check.problems.append(f"the handout's build (make kernels) {what}:\n{tail}")
            self.log(f"ch{n}: handout build {what} ({elapsed:.0f}s)")
        elif warnings:
            check.problems.append("the handout's build warns:\n" + "\n".join("      " + w for w in warnings[:10]))
        else:
            check.notes.append(f"build: make kernels warning-free ({elapsed:.0f}s)")
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
        statuses = [(t, status_line(t)) for t in grading.tests]
        lost = [(t, s) for t, s in statuses if item_points(t, "score") < item_points(t, "max_score")]
        skipped = [(t, s) for t, s in lost if s.startswith("skipped")]
        failed = [(t, s) for t, s in lost if not s.startswith("skipped")]
        if failed:
            check.problems.append(
                f"{what}: {grading.score:g}/{grading.max_score:g}, not the full score:\n" + by_status(failed)
            )
            return
        note = f"{what}: {grading.score:g}/{grading.max_score:g}"
        if skipped:
            note += f" (skipped in this configuration: {', '.join(str(t.get('name')) for t, _ in skipped)})"
        else:
            note += ", full score"
        check.notes.append(note)

    def _judge_stubbed(self, check: ChapterCheck, n: int, config: str, grading: Grading) -> None:
        """Chapter n itself, stubbed: not implemented, no timeout, at most 10% of its points."""
        what = f"ch{n} (stubbed) [{config}]"
        if not grading.ok:
            check.problems.append(f"{what}: {grading.error}")
            return
        statuses = [(t, status_line(t)) for t in grading.tests if item_points(t, "max_score") > 0]

        def named(pairs, limit: int = 6) -> str:
            names = [str(t.get("name")) for t, _ in pairs]
            more = f" and {len(names) - limit} more" if len(names) > limit else ""
            return ", ".join(names[:limit]) + more

        timeouts = [(t, s) for t, s in statuses if s.startswith("timeout")]
        panics = [(t, s) for t, s in statuses if s.startswith("panic")]
        not_impl = [(t, s) for t, s in statuses if s.startswith("not implemented")]
        earned = [t for t in grading.tests if item_points(t, "score") > 0]
        skipped = [(t, s) for t, s in statuses if s.startswith("skipped")]
        others = [(t, s) for t, s in statuses
                  if item_points(t, "score") < item_points(t, "max_score")
                  and not s.startswith(("not implemented", "timeout", "panic", "skipped"))]  # fmt: skip
        check.notes.insert(
            0,
            f"{what}: {grading.score:g}/{grading.max_score:g} points without the student's code; "
            f"{len(not_impl)} of its {len(statuses)} scored items \"not implemented\"",
        )
        unbuilt = [(t, s) for t, s in statuses if s.startswith("build failed")]
        if unbuilt:
            check.problems.append(f"{what}: the kernel does not build ({len(unbuilt)} items: build failed)")
            return
        if timeouts:
            check.problems.append(f"{what}: a stub hangs the kernel: timeout in {named(timeouts)}")
        if panics:
            detail = panics[0][1]
            check.problems.append(f"{what}: a stub crashes the kernel ({detail}) in {named(panics)}")
        earned_names = ", ".join(f"{t.get('name')} ({item_points(t, 'score'):g})" for t in earned)
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


def item_points(test: dict, key: str) -> float:
    try:
        return float(test.get(key) or 0)
    except (TypeError, ValueError):
        return 0.0


def by_status(pairs: list[tuple[dict, str]], indent: str = "      ", limit: int = 12) -> str:
    """Lines `name: status`, or `status: N items (a, b, ...)` where many items share a status."""
    groups: dict[str, list[str]] = {}
    for test, status in pairs:
        groups.setdefault(status, []).append(str(test.get("name")))
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


def status_line(test: dict) -> str:
    """A grader test entry's status line: its `status` field, else the first line of its output."""
    status = test.get("status")
    output = str(test.get("output") or "").strip()
    first = POINTS_SUFFIX_RE.sub("", output.splitlines()[0]) if output else ""
    if isinstance(status, str) and status not in ("passed", "failed"):
        return status
    return first or str(status or "")


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
