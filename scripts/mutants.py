#!/usr/bin/env python3
"""mmlab mutation testing: does the grade catch realistic mistakes?

The promise of the grade is that a correct solution gets full marks and a
wrong one never does. The second half is checked here: grader/mutants.toml
lists mutants, each a small realistic mistake written as a rule (a file, a
text that occurs exactly once in it, and its replacement). Each mutant is
applied, alone, to a scratch copy of the tree; the kernel of the chapter the
file belongs to is built and graded there. A mutant is

  killed      the grade is not full: the tests caught the mistake;
  equivalent  the grade is full, and the catalogue says why that is right
              (`equivalent = "..."`: the mutant behaves like the original);
  host only   the grade is full, but `make host-test` fails on it: the host
              unit tests catch what the grade cannot see (QEMU flushes its
              whole TLB on any sfence.vma, say); not a gap, but no student
              loses a point for it, so the report lists them apart;
  SURVIVED    the grade is full, the host tests pass, and nothing explains
              it: a gap in the tests (also a "flaky kill": not full once,
              full when graded again);
  broken      the rule does not apply (its text is not found exactly once),
              or the mutant does not compile: an error in the catalogue.

A mutant with an explanation that is killed anyway is counted as killed, with
a warning that its `equivalent` is stale.

Usage:
    mutants.py [--only ID,...] [--jobs N] [--grade-jobs N] [--timeout-scale F]
               [--confirm N] [--no-baseline] [--build-only]
        run the catalogue (or the mutants named) and print the report; the
        last line is `mutants: K killed, E equivalent, S unexplained
        survivors, B broken (score K/(K+S))`. Exit 1 on any unexplained
        survivor or broken mutant. A killed mutant is graded again (--confirm
        N: N more times, default 1), and counts as a survivor if any of those
        gradings is full: on a loaded machine a boot can fail for reasons of
        its own.
    mutants.py --check
        check the catalogue's schema and that every rule applies exactly once
        to the tree as it is (no build, no QEMU); exit 1 on any problem.
    mutants.py --list
        list the mutants: id, chapter, file:line, what mistake.

In a student tree (one scripts/handout.py wrote: it has no catalogue, which
quotes the solution) --check has nothing to check and says so; a run is refused.

How a run goes: each worker (--jobs) copies the working tree once, without
build/ and .git/, into build/mutants/work/wN, with the chapters' objects from
build/chN so that builds are incremental. The unmutated tree is built and
graded first (the baseline: it must get a full score, or every mutant would
look killed). Then, for each mutant: apply the rule, `make kernel CH=n`, run
grader/grade.py n --no-build on the scratch tree, put the file back. Logs go
to build/mutants/<id>/ (the rule as a diff, make's output, the grader's report
and JSON, and the chapter's boot logs); the report to build/mutants/report.txt
and report.json.

Python 3.11+ standard library only. See grader/README.md, "Mutation testing".
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# Keys of a [[mutant]] entry.
REQUIRED_KEYS = ("id", "file", "find", "replace", "description")
OPTIONAL_KEYS = ("equivalent", "chapter")
ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
CHAPTER_DIR_RE = re.compile(r"ch([1-9][0-9]*)")
# The stamp scripts/handout.py leaves in a student tree.
HANDOUT_STAMP = ".handout"
# Directories, anywhere in a path, whose files are never mutated.
TEST_DIRS = ("tests", "hosttest")
# Not copied into a scratch tree.
SKIP_TOP = ("build", ".git")
SKIP_ANYWHERE = ("__pycache__", ".pytest_cache")

HOST_ONLY = "host only"
KILLED, STALE, EQUIVALENT, SURVIVED, BROKEN, BUILT = (
    "killed", "killed (stale)", "equivalent", "SURVIVED", "broken", "built",
)  # fmt: skip
FAILED_SHOWN = 3  # failed rubric items recorded per killed mutant
POINTS_SUFFIX_RE = re.compile(r"\s*\([0-9.]+/[0-9.]+ points\)\s*$")


class CatalogueError(Exception):
    """The catalogue cannot be read (not TOML, or malformed entries): nothing can run."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class RuleError(Exception):
    """A rule does not apply to the tree: its file is missing or its text is not found exactly once."""


class Fatal(Exception):
    """Something that stops the whole run (the baseline is not full, a scratch copy failed, ...)."""


# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """One rule of the catalogue."""

    id: str
    file: str  # relative to the tree, POSIX separators
    find: str
    replace: str
    description: str
    chapter: int  # the chapter graded: from the file, or the entry's `chapter`
    equivalent: str | None = None


def file_chapter(path: str) -> int | None:
    """The chapter a file belongs to: 1 for common/, N for chN/; None elsewhere."""
    top = path.split("/", 1)[0]
    if top == "common":
        return 1
    match = CHAPTER_DIR_RE.fullmatch(top)
    return int(match[1]) if match else None


def _file_problem(path: object) -> str | None:
    """Why @p path cannot be a mutant's file, or None."""
    if not isinstance(path, str) or not path:
        return "`file` must be a non-empty string"
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(part in ("", ".", "..") for part in parts):
        return f"`file` {path!r} must be a plain relative path (POSIX, no . or ..)"
    if file_chapter(path) is None:
        return f"`file` {path!r} is not under common/ or chN/"
    if any(part in TEST_DIRS for part in parts[:-1]):
        return f"`file` {path!r} is a test: tests are not mutated"
    return None


def parse_catalogue(data: dict, where: str = "catalogue") -> list[Mutant]:
    """The mutants of a parsed catalogue; CatalogueError listing every malformed entry."""
    problems: list[str] = []
    unknown_top = sorted(set(data) - {"mutant"})
    if unknown_top:
        problems.append(f"{where}: unknown top-level key(s) {', '.join(unknown_top)} (only [[mutant]] tables)")
    entries = data.get("mutant", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise CatalogueError(problems + [f"{where}: `mutant` must be an array of tables ([[mutant]])"])
    mutants: list[Mutant] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        name = entry.get("id") if isinstance(entry.get("id"), str) else "?"
        label = f"{where}: mutant #{index} ({name})"
        bad = [f"{label}: unknown key `{key}`" for key in sorted(set(entry) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))]
        for key in REQUIRED_KEYS:
            if key not in entry:
                bad.append(f"{label}: missing `{key}`")
            elif not isinstance(entry[key], str):
                bad.append(f"{label}: `{key}` must be a string")
        if bad:
            problems += bad
            continue
        if not ID_RE.fullmatch(entry["id"]):
            bad.append(f"{label}: `id` must be lowercase letters, digits, '.', '_' or '-' (it names a log directory)")
        elif entry["id"] in seen:
            bad.append(f"{label}: duplicate id (also mutant #{seen[entry['id']]})")
        else:
            seen[entry["id"]] = index
        file_problem = _file_problem(entry["file"])
        if file_problem:
            bad.append(f"{label}: {file_problem}")
        if not entry["find"]:
            bad.append(f"{label}: `find` is empty")
        if entry["find"] == entry["replace"]:
            bad.append(f"{label}: `replace` is the same as `find`: not a mutant")
        if not entry["description"].strip():
            bad.append(f"{label}: `description` is empty")
        equivalent = entry.get("equivalent")
        if "equivalent" in entry and (not isinstance(equivalent, str) or not equivalent.strip()):
            bad.append(f"{label}: `equivalent` must be a non-empty string saying why the mutant behaves the same")
        chapter = file_chapter(entry["file"]) if not file_problem else None
        if "chapter" in entry:
            wanted = entry["chapter"]
            if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 1:
                bad.append(f"{label}: `chapter` must be a chapter number (1, 2, ...)")
            elif chapter is not None and wanted < chapter:
                bad.append(f"{label}: `chapter` {wanted} cannot grade {entry['file']}: "
                           f"ch{wanted}'s kernel does not contain it")
            else:
                chapter = wanted
        if bad:
            problems += bad
            continue
        mutants.append(
            Mutant(entry["id"], entry["file"], entry["find"], entry["replace"], entry["description"].strip(),
                   chapter, equivalent.strip() if equivalent else None)
        )  # fmt: skip
    if problems:
        raise CatalogueError(problems)
    return mutants


def load_catalogue(path: Path) -> list[Mutant]:
    """Read and validate the catalogue at @p path (CatalogueError if it is malformed)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise CatalogueError([f"{path}: cannot read it: {err.strerror}"]) from err
    except tomllib.TOMLDecodeError as err:
        raise CatalogueError([f"{path}: not valid TOML: {err}"]) from err
    return parse_catalogue(data, str(path))


def occurrences(text: str, find: str) -> list[int]:
    """Every offset where @p find starts in @p text (overlapping ones too)."""
    found, start = [], 0
    while (index := text.find(find, start)) >= 0:
        found.append(index)
        start = index + 1
    return found


def locate(text: str, mutant: Mutant) -> int:
    """The offset of the mutant's text in @p text; RuleError unless it occurs exactly once."""
    found = occurrences(text, mutant.find)
    if not found:
        raise RuleError(f"{mutant.file}: the text to find is not there")
    if len(found) > 1:
        lines = ", ".join(str(text.count("\n", 0, index) + 1) for index in found[:5])
        raise RuleError(f"{mutant.file}: the text to find occurs {len(found)} times (lines {lines}), not once")
    return found[0]


def apply_rule(text: str, mutant: Mutant) -> str:
    """@p text with the mutant applied (RuleError unless its text occurs exactly once)."""
    index = locate(text, mutant)
    return text[:index] + mutant.replace + text[index + len(mutant.find) :]


def read_source(path: Path) -> str:
    """A source file's text, byte for byte (undecodable bytes survive a round trip)."""
    return path.read_bytes().decode("utf-8", "surrogateescape")


def write_source(path: Path, text: str) -> None:
    """Write @p text as read_source() read it."""
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def rule_line(root: Path, mutant: Mutant) -> int:
    """The line of the mutant's file where its text starts (RuleError if it does not apply)."""
    path = root / mutant.file
    if not path.is_file():
        raise RuleError(f"{mutant.file}: no such file")
    text = read_source(path)
    return text.count("\n", 0, locate(text, mutant)) + 1


def rule_diff(root: Path, mutant: Mutant) -> str:
    """The mutant as a unified diff against the tree at @p root."""
    before = read_source(root / mutant.file)
    after = apply_rule(before, mutant)
    return "".join(
        difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{mutant.file}", f"b/{mutant.file}")
    )


def rubric_chapters(rubric: Path) -> set[int] | None:
    """The chapters that have a section in the rubric, or None if it cannot be read."""
    try:
        data = tomllib.loads(Path(rubric).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return {int(match[1]) for key in data if (match := CHAPTER_DIR_RE.fullmatch(key))}


def check_rules(mutants: list[Mutant], root: Path, chapters: set[int] | None) -> dict[str, str]:
    """Why each mutant that does not apply to the tree at @p root cannot run, by id."""
    problems = {}
    for mutant in mutants:
        try:
            rule_line(root, mutant)
        except RuleError as err:
            problems[mutant.id] = str(err)
            continue
        if chapters is not None and mutant.chapter not in chapters:
            problems[mutant.id] = f"ch{mutant.chapter} has no section in the rubric: nothing grades it"
        elif not (root / f"ch{mutant.chapter}").is_dir():
            problems[mutant.id] = f"ch{mutant.chapter}/ is not in this tree"
    return problems


# ---------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------


@dataclass
class Result:
    """What happened to one mutant."""

    mutant: Mutant
    outcome: str = BROKEN
    detail: str = ""  # broken: why; killed: the first failed items
    failed: list[str] = field(default_factory=list)  # "item (status)", rubric order
    failed_count: int = 0
    line: int | None = None
    flaky: bool = False  # killed at first, then a full score when graded again (--confirm)
    build_time: float = 0.0
    grade_time: float = 0.0
    elapsed: float = 0.0


def classify(mutant: Mutant, *, rule_error: str | None = None, build_error: str | None = None,
             grade_error: str | None = None, full: bool | None = None) -> str:  # fmt: skip
    """The outcome of a mutant from what its run gave (see the module's docstring)."""
    if rule_error or build_error or grade_error:
        return BROKEN
    if full is None:
        return BUILT
    if full:
        return EQUIVALENT if mutant.equivalent else SURVIVED
    return STALE if mutant.equivalent else KILLED


@dataclass
class Totals:
    """The counts of the closing line."""

    killed: int = 0  # stale ones included
    host_only: int = 0
    equivalent: int = 0
    survived: int = 0
    broken: int = 0
    stale: int = 0
    built: int = 0

    @classmethod
    def of(cls, results: list[Result]) -> Totals:
        """Count @p results."""
        totals = cls()
        for result in results:
            if result.outcome in (KILLED, STALE):
                totals.killed += 1
                totals.stale += result.outcome == STALE
            elif result.outcome == EQUIVALENT:
                totals.equivalent += 1
            elif result.outcome == HOST_ONLY:
                totals.host_only += 1
            elif result.outcome == SURVIVED:
                totals.survived += 1
            elif result.outcome == BUILT:
                totals.built += 1
            else:
                totals.broken += 1
        return totals

    def closing(self) -> str:
        """The last line of a run."""
        return (
            f"mutants: {self.killed} killed, {self.host_only} caught by host tests only, {self.equivalent} equivalent, "
            f"{self.survived} unexplained survivors, {self.broken} broken "
            f"(score {self.killed}/{self.killed + self.host_only + self.survived} by the grade)"
        )

    @property
    def ok(self) -> bool:
        """True if the run passes: no unexplained survivor, no broken mutant."""
        return self.survived == 0 and self.broken == 0


def item_status(test: dict) -> str:
    """A rubric item's status in the grader's JSON: `passed`, or its output's first line (`timeout`, `skipped: ...`).

    The output is Markdown, its text in a fenced code block: the fence lines are not the first line.
    """
    if test.get("status") == "passed":
        return "passed"
    lines = [line for line in str(test.get("output") or "").strip().splitlines() if not line.startswith("```")]
    return POINTS_SUFFIX_RE.sub("", lines[0]) if lines else str(test.get("status", "failed"))


def item_label(test: dict) -> str:
    """A failed rubric item from the grader's JSON: `name (status)`."""
    return f"{test.get('name', '?')} ({item_status(test)})"


def _positive(value: object) -> bool:
    """True for a number above 0 (an item's max_score in the grader's JSON)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def read_grading(json_path: Path, exit_code: int | None) -> tuple[bool | None, list[str], str | None]:
    """(full, failed items, error) from a grader run that exited with @p exit_code and wrote @p json_path.

    The failed items are in rubric order, those worth points first.
    """
    if exit_code is None:
        return None, [], "grader/grade.py did not finish in time"
    if exit_code not in (0, 1):
        return None, [], f"grader/grade.py exited with code {exit_code}"
    try:
        data = json.loads(Path(json_path).read_text(encoding="utf-8"))
        tests = [test for test in data["tests"] if isinstance(test, dict)]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, [], f"grader/grade.py wrote no readable JSON results ({err})"
    # The chapter's own items first: a panic late in a boot also fails the
    # 0-point prerequisite suites that had not run yet, which says less.
    failing = [test for test in tests if test.get("status") != "passed"]
    failing.sort(key=lambda test: not _positive(test.get("max_score")))
    failed = [item_label(test) for test in failing]
    if (exit_code == 0) != (not failed):
        return None, failed, f"grader/grade.py exited with {exit_code} but its JSON has {len(failed)} failed item(s)"
    return exit_code == 0, failed, None


# ---------------------------------------------------------------------------
# Scratch trees
# ---------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment for make and the grader: no variables of a parent make leaking in."""
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CH", "OUT", "GRADEFLAGS", "MUTANTS", "JOBS"):
        env.pop(name, None)
    return env


def _ignore_for(root: Path):
    """shutil.copytree's ignore function: build/ and .git/ at the top, caches anywhere."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if name in SKIP_ANYWHERE}
        if Path(directory).resolve() == root.resolve():
            skipped |= {name for name in names if name in SKIP_TOP}
        return skipped

    return ignore


def newest_mtime(directory: Path) -> int:
    """The newest modification time (ns) of any file under @p directory (0 if none)."""
    newest = 0
    for dirpath, _, filenames in os.walk(directory):
        for name in filenames:
            try:
                newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime_ns)
            except FileNotFoundError:
                pass
    return newest


class Scratch:
    """A worker's copy of the tree, where one mutant at a time is applied, built, graded and put back."""

    def __init__(self, path: Path):
        self.path = path

    def create(self, root: Path, chapters: list[int]) -> None:
        """Copy the working tree of @p root (no build/, no .git/), and its chapters' objects."""
        if self.path.exists():
            shutil.rmtree(self.path)
        shutil.copytree(root, self.path, ignore=_ignore_for(root), symlinks=True)
        for number in chapters:
            objects = root / "build" / f"ch{number}"
            if objects.is_dir():  # copy2 keeps the times, so make sees them up to date
                shutil.copytree(objects, self.path / "build" / f"ch{number}", symlinks=True)

    def clone(self, other: Scratch) -> None:
        """Make this scratch a copy of @p other, objects included."""
        if self.path.exists():
            shutil.rmtree(self.path)
        shutil.copytree(other.path, self.path, symlinks=True)

    def write(self, rel: str, text: str) -> None:
        """Write a source file so that make sees it newer than anything it built from the old content.

        File times tick coarsely (a few ms): a file written in the tick its
        object was compiled would look up to date to make, and the next build
        would link the wrong object. So wait for the clock to pass the newest
        file of build/ before writing.
        """
        path = self.path / rel
        newest = newest_mtime(self.path / "build")
        write_source(path, text)
        while os.stat(path).st_mtime_ns <= newest:
            time.sleep(0.005)
            os.utime(path)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


@dataclass
class Options:
    """How to run the catalogue."""

    root: Path
    catalogue: Path
    rubric: Path | None  # None: each scratch tree's own (the tree as it was when copied)
    make: str = "make"
    qemu: str | None = None
    jobs: int = 1
    grade_jobs: int = 2
    timeout_scale: float | None = None
    baseline: bool = True
    build_only: bool = False
    confirm: int = 0  # more gradings a kill must survive (see _build_and_grade; the command line's default is 1)
    grade_timeout: float = 3600.0

    @property
    def out_dir(self) -> Path:
        """Where logs and the report go."""
        return self.root / "build" / "mutants"


class Runner:
    """Runs mutants on scratch trees, `jobs` at a time."""

    def __init__(self, options: Options, log=print):
        self.options = options
        self.log_fn = log
        self.print_lock = threading.Lock()
        self.stopping = threading.Event()
        self.processes: set[subprocess.Popen] = set()
        self.process_lock = threading.Lock()
        self.started = time.monotonic()

    def log(self, message: str) -> None:
        """Print one progress line."""
        with self.print_lock:
            self.log_fn(message, flush=True)

    # -- processes -----------------------------------------------------------------

    def run(self, argv: list[str], timeout: float) -> tuple[int | None, bytes]:
        """Run @p argv (output captured); its exit code (None if it ran out of time) and output.

        The child stays in our process group, so Ctrl-C reaches it (the grader
        then kills its QEMUs); on a timeout it gets SIGINT, then SIGKILL.
        """
        try:
            process = subprocess.Popen(
                argv, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
        except OSError as err:
            return 127, f"cannot run {argv[0]}: {err.strerror}\n".encode()
        with self.process_lock:
            self.processes.add(process)
        try:
            try:
                out, _ = process.communicate(timeout=timeout)
                return process.returncode, out
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)
                try:
                    out, _ = process.communicate(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    out, _ = process.communicate()
                return None, out
        finally:
            with self.process_lock:
                self.processes.discard(process)

    def make(self, scratch: Scratch, chapter: int) -> tuple[bool, bytes, float]:
        """`make kernel CH=chapter` in @p scratch: (succeeded, output, seconds)."""
        argv = [*shlex.split(self.options.make), "-C", str(scratch.path), "kernel", f"CH={chapter}"]
        start = time.monotonic()
        code, out = self.run(argv, self.options.grade_timeout)
        kernel = scratch.path / "build" / f"ch{chapter}" / "kernel.elf"
        return code == 0 and kernel.is_file(), out, time.monotonic() - start

    def grade(self, scratch: Scratch, chapter: int, json_path: Path) -> tuple[int | None, bytes, float]:
        """grader/grade.py on @p scratch's built kernel: (exit code, report, seconds)."""
        o = self.options
        # The scratch tree's grader and rubric: the tree as it was copied, even if the live one changes meanwhile.
        rubric = o.rubric or scratch.path / "grader" / "rubric.toml"
        argv = [
            sys.executable, str(scratch.path / "grader" / "grade.py"), str(chapter), "--root", str(scratch.path),
            "--rubric", str(rubric), "--no-build", "--jobs", str(o.grade_jobs), "--json", str(json_path),
        ]  # fmt: skip
        if o.qemu:
            argv += ["--qemu", o.qemu]
        if o.timeout_scale is not None:
            argv += ["--timeout-scale", str(o.timeout_scale)]
        json_path.unlink(missing_ok=True)
        start = time.monotonic()
        code, out = self.run(argv, o.grade_timeout)
        return code, out, time.monotonic() - start

    # -- the baseline ----------------------------------------------------------------

    def baseline(self, scratch: Scratch, chapters: list[int]) -> None:
        """Build (and unless told not to, grade) the unmutated tree: every chapter must be full."""
        out = self.options.out_dir / "baseline"
        out.mkdir(parents=True, exist_ok=True)
        for chapter in chapters:
            ok, output, seconds = self.make(scratch, chapter)
            (out / f"ch{chapter}-build.log").write_bytes(output)
            if not ok:
                raise Fatal(f"the unmutated tree does not build (ch{chapter}); see {out / f'ch{chapter}-build.log'}")
            if not self.options.baseline or self.options.build_only:
                self.log(f"baseline ch{chapter}: built in {seconds:.1f} s")
                continue
            json_path = out / f"ch{chapter}.json"
            code, report, grade_seconds = self.grade(scratch, chapter, json_path)
            (out / f"ch{chapter}-grade.txt").write_bytes(report)
            full, failed, error = read_grading(json_path, code)
            if error or not full:
                why = error or f"{len(failed)} item(s) failed: {', '.join(failed[:FAILED_SHOWN])}"
                raise Fatal(
                    f"the unmutated tree does not get a full score in ch{chapter} ({why}); every mutant would "
                    f"look killed. Fix the tree first (see {out / f'ch{chapter}-grade.txt'})"
                )
            self.log(f"baseline ch{chapter}: full score (build {seconds:.1f} s, grade {grade_seconds:.1f} s)")

    # -- one mutant ------------------------------------------------------------------

    def run_mutant(self, scratch: Scratch, mutant: Mutant) -> Result:
        """Apply, build, grade and revert one mutant in @p scratch."""
        result = Result(mutant)
        start = time.monotonic()
        out = self.options.out_dir / mutant.id
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        original = read_source(scratch.path / mutant.file) if (scratch.path / mutant.file).is_file() else None
        try:
            if original is None:
                raise RuleError(f"{mutant.file}: no such file")
            mutated = apply_rule(original, mutant)
            result.line = original.count("\n", 0, locate(original, mutant)) + 1
        except RuleError as err:
            result.outcome = classify(mutant, rule_error=str(err))
            result.detail = str(err)
            result.elapsed = time.monotonic() - start
            return result
        (out / "mutant.diff").write_text(rule_diff(scratch.path, mutant), encoding="utf-8")
        try:
            scratch.write(mutant.file, mutated)
            self._build_and_grade(scratch, mutant, result, out)
        finally:
            scratch.write(mutant.file, original)
        result.elapsed = time.monotonic() - start
        return result

    def _build_and_grade(self, scratch: Scratch, mutant: Mutant, result: Result, out: Path) -> None:
        """Build and grade the mutated scratch tree; fill @p result."""
        ok, output, result.build_time = self.make(scratch, mutant.chapter)
        (out / "build.log").write_bytes(output)
        if not ok:
            error = _first_error(output) or "make failed"
            result.outcome = classify(mutant, build_error=error)
            result.detail = f"does not compile: {error}"
            return
        if self.options.build_only:
            result.outcome = classify(mutant)
            return
        full, failed, error = self._grade_once(scratch, mutant, result, out, 1)
        result.failed, result.failed_count = failed[:FAILED_SHOWN], len(failed)
        if error:
            result.detail = error
        elif failed:
            more = f" (+{len(failed) - FAILED_SHOWN} more)" if len(failed) > FAILED_SHOWN else ""
            result.detail = ", ".join(failed[:FAILED_SHOWN]) + more
        # A kill must be the mutant's doing, not a boot that lost a race on a loaded machine:
        # with --confirm N, grade a killed mutant N more times; one full score and it survived.
        # (Every configuration again: an item passes on the sum of them, so a subset cannot say.)
        attempts = range(2, self.options.confirm + 2) if full is False and not error else range(0)
        for attempt in attempts:
            again, _, again_error = self._grade_once(scratch, mutant, result, out, attempt)
            if again_error:
                error = again_error
                result.detail = f"grading {attempt}: {again_error}"
                break
            if again:
                full = True
                result.flaky = True
                result.detail = (f"flaky kill: full score in grading {attempt} of {self.options.confirm + 1}; "
                                 f"grading 1 failed {result.detail}")
                break
        result.outcome = classify(mutant, grade_error=error, full=full)
        if full and result.outcome == SURVIVED and not result.flaky:
            self._host_tests(scratch, result, out)

    def _host_tests(self, scratch: Scratch, result: Result, out: Path) -> None:
        """A survivor of the grade: do the host unit tests catch it? (`make host-test` in @p scratch.)"""
        argv = [*shlex.split(self.options.make), "-C", str(scratch.path), "host-test"]
        start = time.monotonic()
        code, output = self.run(argv, self.options.grade_timeout)
        result.grade_time += time.monotonic() - start
        (out / "host-test.log").write_bytes(output)
        if code != 0:
            result.outcome = HOST_ONLY
            result.detail = "host tests: " + (_first_host_failure(output) or "make host-test failed")

    def _grade_once(self, scratch: Scratch, mutant: Mutant, result: Result, out: Path,
                    attempt: int) -> tuple[bool | None, list[str], str | None]:  # fmt: skip
        """Grade the built mutant once (attempt 1, 2, ...); keep its report, JSON and boot logs in @p out."""
        suffix = "" if attempt == 1 else f"-{attempt}"
        json_path = out / f"results{suffix}.json"
        for stale in (scratch.path / "build" / "grade").glob(f"ch{mutant.chapter}-*.log"):
            stale.unlink()  # so that only this grading's boot logs are kept
        code, report, seconds = self.grade(scratch, mutant.chapter, json_path)
        result.grade_time += seconds
        (out / f"grade{suffix}.txt").write_bytes(report)
        for log in (scratch.path / "build" / "grade").glob(f"ch{mutant.chapter}-*.log"):
            shutil.copyfile(log, out / f"{log.stem}{suffix}{log.suffix}")
        return read_grading(json_path, code)

    # -- all of them -------------------------------------------------------------------

    def run_all(self, mutants: list[Mutant]) -> list[Result]:
        """Run @p mutants (catalogue order in the results); Ctrl-C stops the run (KeyboardInterrupt)."""
        o = self.options
        chapters = sorted({mutant.chapter for mutant in mutants})
        work = o.out_dir / "work"
        scratches = [Scratch(work / f"w{index}") for index in range(max(1, min(o.jobs, len(mutants))))]
        self.log(f"mutants: {len(mutants)} mutant(s) of ch{', ch'.join(map(str, chapters))}; "
                 f"{len(scratches)} at a time, {o.grade_jobs} boot(s) each; logs in {o.out_dir}")  # fmt: skip
        try:
            scratches[0].create(o.root, chapters)
        except OSError as err:
            raise Fatal(f"cannot copy the tree into {scratches[0].path}: {err}") from err
        start = time.monotonic()
        self.baseline(scratches[0], chapters)
        self.baseline_time = time.monotonic() - start
        for scratch in scratches[1:]:
            scratch.clone(scratches[0])
        free: queue.Queue[Scratch] = queue.Queue()
        for scratch in scratches:
            free.put(scratch)
        # Mutants of one file, then one chapter, run one after another: fewer objects to rebuild.
        order = sorted(range(len(mutants)), key=lambda i: (mutants[i].chapter, mutants[i].file, i))
        results: list[Result | None] = [None] * len(mutants)
        done = 0

        def task(index: int) -> None:
            nonlocal done
            if self.stopping.is_set():
                return
            scratch = free.get()
            try:
                result = self.run_mutant(scratch, mutants[index])
            finally:
                free.put(scratch)
            if self.stopping.is_set():
                return
            results[index] = result
            with self.print_lock:
                done += 1
                self.log_fn(progress_line(done, len(mutants), result), flush=True)

        pool = ThreadPoolExecutor(max_workers=len(scratches))
        try:
            futures = [pool.submit(task, index) for index in order]
            for future in futures:
                future.result()
        except KeyboardInterrupt:
            self.stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
            self.interrupt_children()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [result for result in results if result is not None]

    def interrupt_children(self) -> None:
        """Stop every make and grader still running (SIGINT: the grader kills its QEMUs)."""
        with self.process_lock:
            running = list(self.processes)
        for process in running:
            try:
                process.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass


def _first_error(output: bytes) -> str | None:
    """The first compiler error line of make's output."""
    for line in output.decode("utf-8", "replace").splitlines():
        if "error" in line.lower():
            return line.strip()
    return None


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


def progress_line(done: int, total: int, result: Result) -> str:
    """One line per finished mutant, as it finishes."""
    width = len(str(total))
    detail = result.detail if result.outcome != EQUIVALENT else "equivalent: " + (result.mutant.equivalent or "")
    head = f"[{done:>{width}}/{total}] {result.outcome:<14} {result.mutant.id}  {result.elapsed:5.1f} s"
    return f"{head}  {_short(detail, 110)}"


def _first_host_failure(output: bytes | None) -> str | None:
    """The first line of `make host-test` output that says what failed."""
    lines = (output or b"").decode("utf-8", errors="replace").splitlines()
    for line in lines:
        if line.startswith("FAIL") or "no result after" in line or "ERROR: AddressSanitizer" in line:
            return line.strip()
    return None


def _short(text: str, limit: int) -> str:
    """@p text on one line, cut to @p limit characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def report_lines(results: list[Result], elapsed: float | None = None, baseline: float | None = None) -> list[str]:
    """The table, the warnings and the closing line."""
    lines = []
    if results:
        id_width = max(len(result.mutant.id) for result in results)
        lines.append(f"{'mutant':<{id_width}}  ch  {'outcome':<14}  {'time':>6}  detail")
        for result in results:
            m = result.mutant
            if result.outcome == EQUIVALENT:
                detail = f"equivalent: {m.equivalent}"
            elif result.outcome == SURVIVED and not result.flaky:
                where = f"{m.file}:{result.line}" if result.line else m.file
                detail = f"not caught: {m.description} ({where})"
            else:
                detail = result.detail
            head = f"{m.id:<{id_width}}  {m.chapter:>2}  {result.outcome:<14}  {result.elapsed:5.1f}s"
            lines.append(f"{head}  {_short(detail, 120)}")
    host = [result for result in results if result.outcome == HOST_ONLY]
    if host:
        lines.append("")
        lines.append("Caught by the host unit tests only (a student's grade does not see these mistakes):")
        for result in host:
            lines.append(f"  {result.mutant.id}: {_short(result.detail, 150)}")
    survivors = [result for result in results if result.outcome == SURVIVED]
    if survivors:
        lines.append("")
        lines.append("Unexplained survivors: the grade gives full marks to these mistakes. Add a test that catches")
        lines.append("each, or, if the mutant really behaves like the original, say why with `equivalent = \"...\"`:")
        for result in survivors:
            lines.append(f"  {result.mutant.id}: {result.mutant.description} ({result.mutant.file}:{result.line})")
    flaky = [result for result in results if result.flaky]
    if flaky:
        lines.append("")
        lines.append("Flaky kills (killed once, then given full marks: the failure was timing, not the mistake):")
        for result in flaky:
            lines.append(f"  {result.mutant.id}: {_short(result.detail, 150)}")
    for result in results:
        if result.outcome == STALE:
            lines.append(f"warning: {result.mutant.id} is explained as equivalent but was killed "
                         f"({_short(result.detail, 80)}): remove its `equivalent`")  # fmt: skip
    broken = [result for result in results if result.outcome == BROKEN]
    if broken:
        lines.append("")
        lines.append("Broken mutants (errors in the catalogue):")
        for result in broken:
            lines.append(f"  {result.mutant.id}: {result.detail}")
    timed = [result for result in results if result.outcome != BROKEN or result.build_time]
    if timed and elapsed is not None:
        mean = sum(result.elapsed for result in timed) / len(timed)
        build = sum(result.build_time for result in timed) / len(timed)
        grade = sum(result.grade_time for result in timed) / len(timed)
        base = f", baseline {baseline:.0f} s" if baseline is not None else ""
        lines.append("")
        lines.append(f"time: {len(results)} mutant(s) in {_duration(elapsed)}{base}; per mutant {mean:.1f} s "
                     f"(build {build:.1f} s, grade {grade:.1f} s)")  # fmt: skip
    lines.append(Totals.of(results).closing())
    return lines


def _duration(seconds: float) -> str:
    """12m05s, or 42 s."""
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds} s"


def report_json(results: list[Result]) -> dict:
    """The report as data (build/mutants/report.json)."""
    totals = Totals.of(results)
    return {
        "killed": totals.killed,
        "host_only": totals.host_only,
        "equivalent": totals.equivalent,
        "survived": totals.survived,
        "broken": totals.broken,
        "mutants": [
            {
                "id": result.mutant.id,
                "file": result.mutant.file,
                "line": result.line,
                "chapter": result.mutant.chapter,
                "description": result.mutant.description,
                "equivalent": result.mutant.equivalent,
                "outcome": result.outcome,
                "detail": result.detail,
                "failed": result.failed,
                "failed_count": result.failed_count,
                "flaky": result.flaky,
                "seconds": round(result.elapsed, 2),
                "build_seconds": round(result.build_time, 2),
                "grade_seconds": round(result.grade_time, 2),
            }
            for result in results
        ],
    }


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def default_root() -> Path:
    """The tree this script belongs to."""
    return Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="mutants.py", description="Mutation testing of the mmlab grade.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="check the catalogue and that every rule applies (no build)")
    mode.add_argument("--list", action="store_true", help="list the mutants")
    parser.add_argument("--only", action="append", default=[], metavar="ID,...", help="run only these mutants")
    parser.add_argument("--jobs", "-j", type=int, default=1,
                        help="mutants at once, each in its own scratch tree (default 1)")
    parser.add_argument("--grade-jobs", type=int, help="QEMU boots at once per grading (default: CPUs / jobs)")
    parser.add_argument("--timeout-scale", type=float, metavar="F",
                        help="passed to the grader: multiply its boot timeouts")
    parser.add_argument("--no-baseline", action="store_true", help="do not grade the unmutated tree first")
    parser.add_argument("--build-only", action="store_true", help="only check that every mutant compiles")
    parser.add_argument("--confirm", type=int, default=1, metavar="N",
                        help="grade each killed mutant N more times: a kill that does not reproduce is a survivor "
                             "(default 1; 0 to trust every kill)")
    parser.add_argument("--root", type=Path, default=default_root(), help="the mmlab tree (default: this script's)")
    parser.add_argument("--catalogue", type=Path, help="the catalogue (default: ROOT/grader/mutants.toml)")
    parser.add_argument("--rubric", type=Path, help="the rubric (default: ROOT/grader/rubric.toml)")
    parser.add_argument("--make", default="make", metavar="CMD", help="the make command (default: make)")
    parser.add_argument("--qemu", metavar="PATH", help="passed to the grader (default: its own)")
    return parser.parse_args(argv)


def select(mutants: list[Mutant], only: list[str]) -> list[Mutant]:
    """The mutants named by --only (all if none); ValueError naming unknown ids."""
    wanted = [name.strip() for value in only for name in value.split(",") if name.strip()]
    if not wanted:
        return mutants
    known = {mutant.id for mutant in mutants}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ValueError(f"no such mutant: {', '.join(unknown)}")
    return [mutant for mutant in mutants if mutant.id in set(wanted)]


def cmd_check(mutants: list[Mutant], root: Path, rubric: Path) -> int:
    """--check: every rule applies exactly once, every chapter is graded."""
    chapters = rubric_chapters(rubric)
    problems = [f"{mutant_id}: {problem}" for mutant_id, problem in check_rules(mutants, root, chapters).items()]
    if chapters is None:
        problems.append(f"{rubric}: cannot read the rubric")
    for problem in problems:
        print(f"mutants: check: {problem}")
    if problems:
        print(f"mutants: check: {len(problems)} problem(s) in {len(mutants)} mutant(s)")
        return EXIT_FAILED
    per = {}
    for mutant in mutants:
        per[mutant.chapter] = per.get(mutant.chapter, 0) + 1
    explained = sum(1 for mutant in mutants if mutant.equivalent)
    counts = ", ".join(f"ch{chapter} {count}" for chapter, count in sorted(per.items()))
    print(f"mutants: check: {len(mutants)} mutants OK ({counts}; {explained} explained as equivalent)")
    return EXIT_OK


def cmd_list(mutants: list[Mutant], root: Path) -> int:
    """--list: one line per mutant."""
    for mutant in mutants:
        try:
            where = f"{mutant.file}:{rule_line(root, mutant)}"
        except RuleError:
            where = f"{mutant.file}:?"
        mark = "  [equivalent]" if mutant.equivalent else ""
        print(f"{mutant.id}  ch{mutant.chapter}  {where}  {mutant.description}{mark}")
    return EXIT_OK


def cmd_run(mutants: list[Mutant], options: Options) -> int:
    """Run the mutants, print and save the report."""
    runner = Runner(options)
    start = time.monotonic()
    runner.baseline_time = None
    results = runner.run_all(mutants)
    elapsed = time.monotonic() - start
    if options.build_only:
        broken = [result for result in results if result.outcome == BROKEN]
        for result in broken:
            print(f"mutants: broken: {result.mutant.id}: {result.detail}")
        print(f"mutants: {len(results) - len(broken)} built, {len(broken)} broken ({_duration(elapsed)})")
        return EXIT_FAILED if broken else EXIT_OK
    lines = report_lines(results, elapsed, runner.baseline_time)
    print()
    print("\n".join(lines))
    options.out_dir.mkdir(parents=True, exist_ok=True)
    (options.out_dir / "report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (options.out_dir / "report.json").write_text(json.dumps(report_json(results), indent=2) + "\n", encoding="utf-8")
    return EXIT_OK if Totals.of(results).ok else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Run mutants.py with @p argv; return the exit code."""
    args = parse_args(argv)
    root = args.root.resolve()
    catalogue = args.catalogue or root / "grader" / "mutants.toml"
    rubric = args.rubric or root / "grader" / "rubric.toml"
    if (root / HANDOUT_STAMP).is_file():
        # A student tree (scripts/handout.py): stubs instead of the solution, and no catalogue.
        if args.check:
            print(f"mutants: check: {root} is a handout, not the reference tree: nothing to check")
            return EXIT_OK
        print(f"mutants.py: error: {root} is a handout: mutation testing runs in the reference tree", file=sys.stderr)
        return EXIT_USAGE
    try:
        mutants = load_catalogue(catalogue)
    except CatalogueError as err:
        for problem in err.problems:
            print(f"mutants: {'check: ' if args.check else ''}{problem}")
        print(f"mutants: {catalogue}: {len(err.problems)} problem(s) in the catalogue")
        return EXIT_FAILED if args.check else EXIT_USAGE
    if args.check:
        return cmd_check(mutants, root, rubric)
    try:
        mutants = select(mutants, args.only)
    except ValueError as err:
        print(f"mutants.py: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.list:
        return cmd_list(mutants, root)
    if args.jobs < 1 or (args.grade_jobs is not None and args.grade_jobs < 1) or args.confirm < 0:
        print("mutants.py: error: --jobs and --grade-jobs must be at least 1, --confirm at least 0", file=sys.stderr)
        return EXIT_USAGE
    if not mutants:
        print("mutants: the catalogue is empty")
        return EXIT_OK
    grade_jobs = args.grade_jobs or max(1, (os.cpu_count() or 1) // args.jobs)
    options = Options(
        root=root, catalogue=catalogue, rubric=args.rubric.resolve() if args.rubric else None, make=args.make,
        qemu=args.qemu, jobs=args.jobs,
        grade_jobs=grade_jobs, timeout_scale=args.timeout_scale, baseline=not args.no_baseline,
        build_only=args.build_only, confirm=args.confirm,
    )  # fmt: skip
    try:
        return cmd_run(mutants, options)
    except Fatal as err:
        print(f"mutants: error: {err}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mutants: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
