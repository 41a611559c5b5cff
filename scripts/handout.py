#!/usr/bin/env python3
"""mmlab student handout: write a tree with chapters n.. stubbed, and check it.

The reference solution lives in the tree; each exercise sits between markers
in the chapters' C and assembly sources:

    /* LAB BEGIN ch1 split a free block down to the order asked for */
    ... the solution ...
    /* LAB STUB
    TODO("ch1", "buddy alloc: split a free block");
    return 0;
    LAB END */

The BEGIN line is a one-line comment of its own; the STUB line opens a
comment that holds the stub (so a stub line holds no /* or */; use //) and
the END line, holding nothing else, closes it. The handout for chapter n
keeps the solution of every region of an earlier chapter (markers removed)
and replaces every region of chapter n or later by the comment
``/* TODO(chN): <what to do> */`` at the BEGIN line's indentation followed by
the stub lines verbatim. A stub calls TODO("chN", "<what>") (common/include/
panic.h), which prints `TODO(chN): <what>` so the grader says "not implemented".

Rules, each broken one an error with file:line: markers only in /* */
comments, balanced, not nested; chN names an existing chN/ directory and the
region lies in chN/ itself; no marker in common/, grader/ or any tests/ or
hosttest/ directory. Files scanned: *.c, *.h, *.S of the tree (`git ls-files`:
tracked files and untracked ones .gitignore does not exclude; a walk outside
git), never build/ or .git/. A handout in which any file still holds the
solution of a stubbed region (of 3 lines or more: an editor's backup of a
marked source, say) is refused.

Usage:
    handout.py --ch N --out DIR [--force] [--no-git]
        write the handout of chapter N into DIR (refused if DIR is not empty,
        unless --force): a git repository with one commit, a README section
        saying where to start, and a .handout stamp.
    handout.py --lint
        check the markers only and list the exercises (no build, no QEMU).
    handout.py --check [--ch N ...] [--jobs J] [--config chN=NAME] [--keep]
        for every chapter N (in parallel): write its handout, build it
        (make kernels, warning-free), then grade in QEMU, one configuration per
        chapter: each earlier chapter K at full score, both on kernel K and on
        kernel N (an unfinished layer must not stop the layers below it), and
        chapter N with "not implemented" results, no timeout or panic, and at
        most 10% of its points. Closes with `handout-check: N passed, N failed`
        (N counts chapters); exits 1 on any failure.
    handout.py --progress [--ch N ...] [--write | --check] [--jobs J] [--config chN=NAME] [--keep]
        which rubric items each exercise turns green. For every chapter N (in
        parallel), with e1..ek its [[chN.exercise]] entries of grader/rubric.toml
        in order (each names a stub: the text before ':' in its TODO()), write
        the trees in which the chapters before N are solved and e1..ej of
        chapter N too (the rest stubbed), for j = 0..k, one tree updated in
        place so that each build but the first recompiles one exercise's
        files; build chapter N's kernel (make kernel CH=N) and grade chapter N
        in one configuration (the first with 2 harts: 256M-2). A step where an
        item that passed goes red, or whose boot failed, is graded again (twice
        at most), and called flaky (a warning) if a later grading is clean. Prints, per chapter, a
        Markdown section: the items that pass with no exercise done, those
        each exercise turns green, any that go red again (a bug), and those not
        green even when all are done. --write puts it into chN/README.md
        between `<!-- progress: begin -->` and `<!-- progress: end -->`;
        --check fails, with a diff, if the guide's section differs. It also
        fails on a build or grading failure, an item red again, an earlier
        layer's item red at any step, or an item (not skipped) red at the end.
        Closes with `progress: N passed, N failed (T s)`.

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import difflib
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

# Files whose markers are read and transformed.
SCANNED_SUFFIXES = (".c", ".h", ".S")
# Top-level directories that are never stubbed: a marker there is an error.
NEVER_STUBBED_TOP = ("common", "grader")
# Directory names, anywhere in a path, that hold tests: never stubbed either.
NEVER_STUBBED_DIRS = ("tests", "hosttest")
# Never copied into a handout (nor scanned).
EXCLUDED_TOP = ("build",)
EXCLUDED_ANYWHERE = (".git", "__pycache__", ".pytest_cache")

README_BEGIN = "<!-- mmlab-handout: begin (written by scripts/handout.py) -->"
README_END = "<!-- mmlab-handout: end -->"
# A handout tree carries this file: `--check` then has nothing to do.
STAMP = ".handout"
# Maintainers' files that quote the solution: never in a handout.
# grader/mutants.toml holds mistakes written as rules over the solution's text.
NOT_SHIPPED = ("grader/mutants.toml",)
FALLBACK_AUTHOR = ("mmlab", "mmlab@localhost")
# The share of a chapter's points its stubs may earn on their own.
STUB_POINTS_LIMIT = 0.10
# A stubbed solution of at least this many non-blank lines may appear in no file of the handout.
LEAK_MIN_LINES = 3

CHAPTER_DIR_RE = re.compile(r"^ch([1-9][0-9]*)$")
TOKEN_RE = re.compile(r"\bLAB[ \t]+(BEGIN|STUB|END)\b")
BEGIN_RE = re.compile(
    r"^(?P<indent>[ \t]*)/\*[ \t]*LAB[ \t]+BEGIN[ \t]+ch(?P<ch>[0-9]+)(?:[ \t]+(?P<what>.*?))?[ \t]*\*/[ \t]*$"
)
STUB_RE = re.compile(r"^[ \t]*/\*[ \t]*LAB[ \t]+STUB[ \t]*$")
END_RE = re.compile(r"^[ \t]*LAB[ \t]+END[ \t]*\*/[ \t]*$")
TODO_CALL_RE = re.compile(r"\bTODO\s*\(\s*\"ch([0-9]+)\"")
# The grader's Gradescope output starts "<status> (<earned>/<max> points)".
POINTS_SUFFIX_RE = re.compile(r"\s*\([0-9.]+/[0-9.]+ points\)$")


class HandoutError(Exception):
    """Something the user must fix; the message says what (and where, as file:line)."""


class MarkerError(HandoutError):
    """Malformed markers: one `file:line: message` per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# ---------------------------------------------------------------------------
# Reading the markers
# ---------------------------------------------------------------------------


@dataclass
class Region:
    """One exercise: its chapter, what to do, and its lines (1-based numbers)."""

    path: str
    ch: int
    what: str
    indent: str
    begin: int
    stub_at: int
    end: int
    solution: list[str]
    stub: list[str]

    @property
    def where(self) -> str:
        """``path:line`` of the BEGIN marker."""
        return f"{self.path}:{self.begin}"


@dataclass
class SourceFile:
    """A scanned file split into plain text and regions, in order."""

    path: str
    parts: list  # str (a line, with its newline) or Region
    newline: str = "\n"

    @property
    def regions(self) -> list[Region]:
        """The file's regions, in order."""
        return [part for part in self.parts if isinstance(part, Region)]


def lex_states(line: str, in_comment: bool) -> tuple[list[str], bool]:
    """Say, for every character of @p line, where it is: code, comment or literal.

    Returns one state per character ('code', 'block', 'line', 'literal') and
    whether a /* */ comment is still open at the end of the line. A quote that
    does not close on the same line (an apostrophe in an assembler comment,
    say) is taken as plain code, so one odd line cannot derail the rest.
    """
    states = ["code"] * len(line)
    i = 0
    n = len(line)
    while i < n:
        if in_comment:
            close = line.find("*/", i)
            stop = n if close < 0 else close + 2
            for j in range(i, stop):
                states[j] = "block"
            if close < 0:
                return states, True
            in_comment = False
            i = stop
            continue
        ch = line[i]
        two = line[i : i + 2]
        if two == "/*":
            states[i] = states[i + 1] = "block"
            in_comment = True
            i += 2
            continue
        if two == "//":
            for j in range(i, n):
                states[j] = "line"
            return states, False
        if ch in "\"'":
            j = i + 1
            while j < n and line[j] != ch:
                j += 2 if line[j] == "\\" else 1
            if j < n and (ch == '"' or j - i <= 8):
                for k in range(i, j + 1):
                    states[k] = "literal"
                i = j + 1
                continue
        i += 1
    return states, in_comment


def _location_problem(path: str, ch: int, chapters: set[int]) -> str | None:
    """Why a region of chapter @p ch may not sit in @p path, or None if it may."""
    parts = path.split("/")
    if parts[0] in NEVER_STUBBED_TOP:
        return f"{parts[0]}/ is never stubbed: it may hold no LAB markers"
    if any(part in NEVER_STUBBED_DIRS for part in parts[:-1]):
        return "tests are never stubbed: a test file may hold no LAB markers"
    if ch not in chapters:
        have = ", ".join(f"ch{c}" for c in sorted(chapters)) or "none"
        return f"chapter ch{ch} does not exist (chapters here: {have})"
    match = CHAPTER_DIR_RE.match(parts[0])
    if match and int(match[1]) != ch:
        return (
            f"a ch{ch} exercise in {parts[0]}/: a chapter's exercises belong in its own directory "
            f"(a chapter does not edit another's files)"
        )
    return None


def parse_source(path: str, text: str, chapters: set[int]) -> tuple[SourceFile, list[str], list[str]]:
    """Split @p text (the file at @p path) into lines and regions.

    Returns the file, its problems (`path:line: message`, parsing stops at the
    first) and warnings.
    """
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    parts: list = []
    problems: list[str] = []
    warnings: list[str] = []
    in_comment = False
    region: Region | None = None
    mode = "out"  # out, solution, stub

    def problem(ln: int, message: str) -> tuple[SourceFile, list[str], list[str]]:
        problems.append(f"{path}:{ln}: {message}")
        return SourceFile(path, parts, newline), problems, warnings

    for ln, raw in enumerate(lines, 1):
        body = raw.rstrip("\r\n")
        start_in_comment = in_comment
        states, in_comment = lex_states(body, in_comment)
        tokens = [(m[1], m.start(), states[m.start()]) for m in TOKEN_RE.finditer(body)]
        if len(tokens) > 1:
            return problem(ln, "several LAB markers on one line: each marker is a line of its own")
        token = tokens[0] if tokens else None
        kind = token[0] if token else None
        in_block = token is not None and token[2] == "block"

        if mode == "out":
            if kind is None:
                parts.append(raw)
            elif kind == "BEGIN":
                if not in_block:
                    return problem(ln, "LAB BEGIN outside a /* */ comment: write /* LAB BEGIN chN <what to do> */")
                match = BEGIN_RE.match(body)
                if start_in_comment or not match:
                    return problem(
                        ln,
                        "malformed LAB BEGIN: the line must be exactly one comment "
                        "/* LAB BEGIN chN <what to do> */",
                    )
                if not match["what"]:
                    return problem(ln, f"LAB BEGIN ch{match['ch']} says nothing to do: add <what to do> after it")
                ch = int(match["ch"])
                where = _location_problem(path, ch, chapters)
                if where:
                    return problem(ln, where)
                region = Region(path, ch, match["what"], match["indent"], ln, 0, 0, [], [])
                mode = "solution"
            elif kind == "STUB":
                return problem(ln, "LAB STUB without a LAB BEGIN before it")
            else:
                return problem(ln, "LAB END without a LAB BEGIN and LAB STUB before it")
        elif mode == "solution":
            assert region is not None
            if kind is None:
                region.solution.append(raw)
            elif kind == "BEGIN":
                return problem(ln, f"nested LAB BEGIN: the region opened at {region.where} has no LAB STUB yet")
            elif kind == "END":
                return problem(ln, f"LAB END before LAB STUB (region opened at {region.where})")
            else:
                if not in_block:
                    return problem(ln, "LAB STUB outside a /* */ comment: the line must be `/* LAB STUB`")
                if start_in_comment or not STUB_RE.match(body):
                    return problem(
                        ln,
                        "malformed LAB STUB: the line must start with `/* LAB STUB` and hold nothing "
                        "else (the stub follows on the next lines; LAB END */ closes it)",
                    )
                region.stub_at = ln
                mode = "stub"
        else:  # stub
            assert region is not None
            if kind == "BEGIN":
                return problem(ln, f"nested LAB BEGIN inside the stub of the region opened at {region.where}")
            if kind == "STUB":
                return problem(ln, f"a second LAB STUB in the region opened at {region.where}")
            if kind == "END":
                if not END_RE.match(body) or not start_in_comment:
                    return problem(
                        ln,
                        "malformed LAB END: the line must hold only `LAB END */` "
                        f"(region opened at {region.where})",
                    )
                region.end = ln
                problem_text = _stub_problem(region)
                if problem_text:
                    return problem(region.stub_at, problem_text)
                if not any(TODO_CALL_RE.search(line) for line in region.stub):
                    warnings.append(
                        f"{region.where}: the stub of this ch{region.ch} region does not call "
                        f'TODO("ch{region.ch}", ...): nothing will say it is not implemented'
                    )
                parts.append(region)
                region = None
                mode = "out"
            else:
                if "/*" in body or "*/" in body:
                    return problem(
                        ln,
                        "a stub line cannot hold /* or */ (the stub sits inside a comment in the "
                        f"reference tree; use // comments) (region opened at {region.where})",
                    )
                region.stub.append(raw)
    if mode != "out":
        assert region is not None
        missing = "LAB STUB and LAB END" if mode == "solution" else "LAB END"
        return problem(region.begin, f"LAB BEGIN ch{region.ch} without {missing} (the file ends at line {len(lines)})")
    return SourceFile(path, parts, newline), problems, warnings


def _stub_problem(region: Region) -> str | None:
    """A stub's TODO() must name the region's own chapter."""
    for line in region.stub:
        for match in TODO_CALL_RE.finditer(line):
            if int(match[1]) != region.ch:
                return (
                    f'the stub of a ch{region.ch} region calls TODO("ch{match[1]}", ...): '
                    f'write TODO("ch{region.ch}", ...)'
                )
    return None


# ---------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------


def default_root() -> Path:
    """The tree this script belongs to (its parent's parent)."""
    return Path(__file__).resolve().parent.parent


def chapters_of(root: Path) -> list[int]:
    """The chapter numbers present: one per chN/ directory."""
    found = []
    for entry in root.iterdir():
        match = CHAPTER_DIR_RE.match(entry.name)
        if match and entry.is_dir():
            found.append(int(match[1]))
    return sorted(found)


def _excluded(rel: str) -> bool:
    parts = rel.split("/")
    return parts[0] in EXCLUDED_TOP or any(part in EXCLUDED_ANYWHERE for part in parts)


def list_files(root: Path) -> list[str]:
    """The tree's files, relative to @p root, sorted.

    In a git work tree whose top is @p root: `git ls-files` (tracked files, plus
    untracked ones that .gitignore does not exclude: work not committed yet is
    part of the tree). Otherwise a walk. Never build/ nor .git.
    """
    names = _git_files(root)
    if names is None:
        names = []
        for dirpath, dirnames, filenames in os.walk(root):
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir + "/"
            dirnames[:] = sorted(d for d in dirnames if not _excluded(rel_dir + d))
            names.extend(rel_dir + f for f in filenames)
    files = []
    for rel in names:
        full = root / rel
        if _excluded(rel) or not (full.is_symlink() or full.is_file()):
            continue  # deleted, a submodule, or excluded
        files.append(rel)
    return sorted(set(files))


def _git_files(root: Path) -> list[str] | None:
    """`git ls-files` of @p root, or None if @p root is not the top of a git work tree."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if not top or Path(top).resolve() != root.resolve():
            return None
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]


def is_scanned(rel: str) -> bool:
    """True for the files whose markers are read: .c, .h, .S."""
    return rel.endswith(SCANNED_SUFFIXES)


def read_text(path: Path) -> str:
    """A file's text (UTF-8; undecodable bytes survive a round trip)."""
    return path.read_bytes().decode("utf-8", "surrogateescape")


@dataclass
class Tree:
    """A reference tree read and checked: its files, chapters and regions."""

    root: Path
    chapters: list[int]
    files: list[str]
    sources: dict[str, SourceFile]  # scanned files that hold regions
    warnings: list[str] = field(default_factory=list)

    @property
    def regions(self) -> list[Region]:
        """Every region, by file then line."""
        return [region for path in sorted(self.sources) for region in self.sources[path].regions]


def read_tree(root: Path) -> Tree:
    """List and parse the tree at @p root; raise MarkerError listing every problem."""
    root = root.resolve()
    chapters = chapters_of(root)
    files = list_files(root)
    sources: dict[str, SourceFile] = {}
    problems: list[str] = []
    warnings: list[str] = []
    for rel in files:
        if not is_scanned(rel) or (root / rel).is_symlink():
            continue
        text = read_text(root / rel)
        if "LAB" not in text:
            continue
        source, file_problems, file_warnings = parse_source(rel, text, set(chapters))
        problems.extend(file_problems)
        warnings.extend(file_warnings)
        if source.regions and not file_problems:
            sources[rel] = source
    if problems:
        raise MarkerError(problems)
    return Tree(root, chapters, files, sources, warnings)


# ---------------------------------------------------------------------------
# Writing a handout
# ---------------------------------------------------------------------------


@dataclass
class Exercise:
    """A TODO left in a handout: where (in the handout), what, and its stub's name (see stub_names)."""

    path: str
    line: int
    ch: int
    what: str
    name: str = ""


def render(source: SourceFile, n: int, solved: frozenset[str] = frozenset()) -> tuple[str, list[Exercise]]:
    """The text of @p source in chapter @p n's handout, and the TODOs it holds.

    Regions of chapters before @p n keep their solution, and so do those whose
    `where` is in @p solved (a partly solved chapter, for --progress).
    """
    out: list[str] = []
    exercises: list[Exercise] = []
    for part in source.parts:
        if isinstance(part, str):
            out.append(part)
        elif part.ch < n or part.where in solved:
            out.extend(part.solution)
        else:
            name = (stub_names(part) or [""])[0]
            exercises.append(Exercise(source.path, len(out) + 1, part.ch, part.what, name))
            out.append(f"{part.indent}/* TODO(ch{part.ch}): {part.what} */{source.newline}")
            out.extend(part.stub)
    return "".join(out), exercises


def readme_section(n: int, exercises: list[Exercise], chapters: list[int], order: list[str] | None = None) -> str:
    """The README text that tells a student of chapter @p n where to start.

    With @p order (the stub names of the rubric's exercises, in the guide's
    order) the exercises are listed, numbered, in that order; else by file.
    """
    mine = [ex for ex in exercises if ex.ch == n]
    if order:
        mine.sort(key=lambda ex: order.index(ex.name) if ex.name in order else len(order))
    later = sorted({ex.ch for ex in exercises if ex.ch > n})
    solved = [c for c in chapters if c < n]
    lines = [
        README_BEGIN,
        f"## Your handout: chapter {n}",
        "",
        f"You are working on chapter {n}: start with [ch{n}/README.md](ch{n}/README.md).",
    ]
    if solved:
        names = ", ".join(f"ch{c}" for c in solved)
        lines.append(f"The chapters before it ({names}) come solved: your kernel stands on them.")
    if order and mine:
        lines += ["", f"The exercises are the `TODO(ch{n})` comments in these places; do them in this order, the "
                  f"guide's (its table says which tests each one turns green):", ""]  # fmt: skip
        lines += [f"{i}. `{ex.path}:{ex.line}`: {ex.what}" for i, ex in enumerate(mine, start=1)]
    elif mine:
        lines += ["", f"The exercises are the `TODO(ch{n})` comments in:", ""]
        lines += [f"- `{ex.path}:{ex.line}`: {ex.what}" for ex in mine]
    else:
        lines += ["", f"The exercises are the `TODO(ch{n})` comments in:", ""]
        lines.append("- (none: this chapter has no marked exercise)")
    lines += [
        "",
        f"Until you write them, each stub prints `TODO(ch{n}): <what>` when it is reached",
        'and the grader reports its tests as "not implemented: <what>", with the exercise',
        "to do, where its stub is, and a hint.",
        "",
        f"`make grade CH={n}` grades your work; `make run CH={n}` boots your kernel and",
        f"`make gdb CH={n}` debugs it.",
    ]
    if later:
        names = ", ".join(f"`TODO(ch{c})`" for c in later)
        lines += ["", f"The later chapters' stubs ({names}) are for later: leave them for now."]
    lines.append(README_END)
    return "\n".join(lines) + "\n"


def merge_readme(existing: str | None, section: str) -> str:
    """@p existing README text with the handout section replaced, or appended."""
    if existing is None:
        return "# mmlab\n\n" + section
    start = existing.find(README_BEGIN)
    end = existing.find(README_END, start if start >= 0 else 0)
    if start >= 0 and end >= 0:
        stop = end + len(README_END)
        if existing[stop : stop + 1] == "\n":
            stop += 1
        return existing[:start] + section + existing[stop:]
    if not existing.endswith("\n"):
        existing += "\n"
    return existing + "\n" + section


def _check_out(root: Path, out: Path, force: bool, clear: bool = True) -> None:
    """Refuse an OUT that is the tree itself, holds it, lies inside it (but in build/) or is not empty.

    With @p force a non-empty OUT is emptied first, or (not @p clear) kept as it is.
    """
    root_r, out_r = root.resolve(), out.resolve()
    if out_r == root_r or out_r in root_r.parents:
        raise HandoutError(f"OUT {out} is the reference tree or holds it: choose another directory")
    if root_r in out_r.parents and out_r.relative_to(root_r).parts[0] != "build":
        raise HandoutError(f"OUT {out} is inside the reference tree: put it elsewhere (or under build/)")
    if out.exists() and not out.is_dir():
        raise HandoutError(f"OUT {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise HandoutError(f"OUT {out} exists and is not empty: choose a new directory, or pass --force to replace it")
        for entry in out.iterdir() if clear else []:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def leftover_markers(out: Path, files: list[str]) -> list[str]:
    """`file:line` of any LAB marker left in the handout's scanned files."""
    found = []
    for rel in files:
        if not is_scanned(rel) or (out / rel).is_symlink():
            continue
        for ln, line in enumerate(read_text(out / rel).splitlines(), 1):
            if TOKEN_RE.search(line):
                found.append(f"{rel}:{ln}")
    return found


def _code_lines(text: str) -> str:
    """@p text's non-blank lines, stripped, each between newlines (so that `in` matches whole lines)."""
    return "\n" + "".join(line.strip() + "\n" for line in text.splitlines() if line.strip())


def leaked_solutions(out: Path, files: list[str], stubbed: list[Region]) -> list[str]:
    """`file (the solution of path:line)` for each handout file holding a stubbed region's solution.

    A copy of a marked source that is not itself scanned (an editor's
    `buddy.c~`, a `buddy.c.orig` left by patch: untracked files are part of
    the tree) would otherwise hand the solution out verbatim. Solutions of
    fewer than LEAK_MIN_LINES non-blank lines are too short to tell from
    ordinary code, and are not looked for.
    """
    needles = []
    for region in stubbed:
        needle = _code_lines("".join(region.solution))
        if needle.count("\n") - 1 >= LEAK_MIN_LINES:
            needles.append((region, needle))
    found = []
    for rel in files if needles else []:
        if not (out / rel).is_symlink():
            text = _code_lines(read_text(out / rel))
            found += [f"{rel} (the solution of {region.where})" for region, needle in needles if needle in text]
    return found


@dataclass
class Handout:
    """What write_handout made."""

    out: Path
    ch: int
    files: list[str]
    exercises: list[Exercise]
    committed: bool
    changed: list[str] = field(default_factory=list)  # the files written (all of them in a new OUT)


def _rubric_order(root: Path, n: int) -> list[str] | None:
    """The stub names of chapter @p n's exercises in rubric order, or None if the rubric lists none."""
    try:
        return [exercise.todo for exercise in rubric_exercises(root, n)]
    except HandoutError:
        return None


def _put_bytes(dst: Path, data: bytes, mode_of: Path | None = None) -> bool:
    """Write @p data to @p dst unless it already holds exactly that; True if it wrote.

    Leaving an unchanged file alone keeps its modification time, so that
    make, in a tree updated in place (--progress), rebuilds only what changed.
    """
    if dst.is_symlink():
        dst.unlink()
    elif dst.is_file() and dst.read_bytes() == data:
        return False
    dst.write_bytes(data)
    if mode_of is not None:
        shutil.copymode(mode_of, dst)
    return True


def _put_symlink(dst: Path, target: str) -> bool:
    """Make @p dst a symlink to @p target unless it is one already; True if it changed."""
    if dst.is_symlink() and os.readlink(dst) == target:
        return False
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    os.symlink(target, dst)
    return True


def write_handout(tree: Tree, n: int, out: Path, force: bool = False, git: bool = True,
                  solved: frozenset[str] = frozenset(), update: bool = False) -> Handout:  # fmt: skip
    """Write chapter @p n's handout of @p tree into @p out (a git repository with one commit).

    @p solved: regions (by `where`) of chapter n or later handed out solved
    anyway (--progress). @p update: @p out may hold an earlier handout of the
    same tree, which is updated in place: only the files whose contents change
    are written (Handout.changed lists them).
    """
    if n not in tree.chapters:
        have = ", ".join(str(c) for c in tree.chapters) or "none"
        raise HandoutError(f"there is no chapter {n} in {tree.root} (chapters: {have})")
    out = Path(out)
    _check_out(tree.root, out, force or update, clear=not update)
    out.mkdir(parents=True, exist_ok=True)
    exercises: list[Exercise] = []
    written = []
    changed = []
    for rel in tree.files:
        if rel in (STAMP, "README.md") or rel in NOT_SHIPPED:
            continue
        src, dst = tree.root / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            wrote = _put_symlink(dst, os.readlink(src))
        elif rel in tree.sources:
            text, found = render(tree.sources[rel], n, solved)
            wrote = _put_bytes(dst, text.encode("utf-8", "surrogateescape"), src)
            exercises.extend(found)
        else:
            wrote = _put_bytes(dst, src.read_bytes(), src)
        written.append(rel)
        changed += [rel] if wrote else []
    readme = tree.root / "README.md"
    existing = read_text(readme) if readme.is_file() else None
    merged = merge_readme(existing, readme_section(n, exercises, tree.chapters, _rubric_order(tree.root, n)))
    stamp = (
        f"mmlab handout for chapter {n}\nchapter = {n}\n"
        "# scripts/handout.py wrote this tree; `make handout-check` runs in the reference tree only.\n"
    )
    for rel, data in (("README.md", merged.encode("utf-8", "surrogateescape")), (STAMP, stamp.encode())):
        changed += [rel] if _put_bytes(out / rel, data) else []
    written += ["README.md", STAMP]
    left = leftover_markers(out, written)
    if left:
        raise HandoutError("LAB markers are left in the handout (a bug in handout.py): " + ", ".join(left))
    stubbed = [region for region in tree.regions if region.ch >= n and region.where not in solved]
    leaks = leaked_solutions(out, written, stubbed)
    if leaks:
        raise HandoutError("the handout would give away solutions: " + ", ".join(leaks)
                           + ". Remove those files from the tree (or have .gitignore exclude them)")
    committed = False
    if git:
        _git_commit(out, f"mmlab handout for chapter {n}")
        committed = True
    return Handout(out, n, sorted(written), exercises, committed, changed)


def _git_commit(out: Path, message: str) -> None:
    """Make @p out a git repository holding everything in it as one commit."""
    env = dict(os.environ)
    for who in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{who}_NAME", os.environ.get("GIT_AUTHOR_NAME") or FALLBACK_AUTHOR[0])
        env.setdefault(f"GIT_{who}_EMAIL", os.environ.get("GIT_AUTHOR_EMAIL") or FALLBACK_AUTHOR[1])
        if not env[f"GIT_{who}_NAME"]:
            env[f"GIT_{who}_NAME"] = FALLBACK_AUTHOR[0]
        if not env[f"GIT_{who}_EMAIL"]:
            env[f"GIT_{who}_EMAIL"] = FALLBACK_AUTHOR[1]
    steps = [
        ["git", "-c", "init.defaultBranch=main", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", message],
    ]
    for argv in steps:
        try:
            done = subprocess.run(argv, cwd=out, env=env, capture_output=True, text=True)
        except OSError as err:
            raise HandoutError(f"cannot run git to make the handout a repository: {err.strerror}") from err
        if done.returncode != 0:
            raise HandoutError(f"{' '.join(argv)} failed in {out}: {(done.stderr or done.stdout).strip()}")


# ---------------------------------------------------------------------------
# The check: build and grade every chapter's handout
# ---------------------------------------------------------------------------


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
        result.score = sum(_points(t, "score") for t in result.tests)
        result.max_score = sum(_points(t, "max_score") for t in result.tests)
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
        statuses = [(t, _status(t)) for t in grading.tests]
        lost = [(t, s) for t, s in statuses if _points(t, "score") < _points(t, "max_score")]
        skipped = [(t, s) for t, s in lost if s.startswith("skipped")]
        failed = [(t, s) for t, s in lost if not s.startswith("skipped")]
        if failed:
            check.problems.append(
                f"{what}: {grading.score:g}/{grading.max_score:g}, not the full score:\n" + _by_status(failed)
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
        statuses = [(t, _status(t)) for t in grading.tests if _points(t, "max_score") > 0]

        def named(pairs, limit: int = 6) -> str:
            names = [str(t.get("name")) for t, _ in pairs]
            more = f" and {len(names) - limit} more" if len(names) > limit else ""
            return ", ".join(names[:limit]) + more

        timeouts = [(t, s) for t, s in statuses if s.startswith("timeout")]
        panics = [(t, s) for t, s in statuses if s.startswith("panic")]
        not_impl = [(t, s) for t, s in statuses if s.startswith("not implemented")]
        earned = [t for t in grading.tests if _points(t, "score") > 0]
        skipped = [(t, s) for t, s in statuses if s.startswith("skipped")]
        others = [(t, s) for t, s in statuses
                  if _points(t, "score") < _points(t, "max_score")
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
        earned_names = ", ".join(f"{t.get('name')} ({_points(t, 'score'):g})" for t in earned)
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
            check.notes.append(f"warning: {what} fails without saying \"not implemented\":\n" + _by_status(others))

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


def _points(test: dict, key: str) -> float:
    try:
        return float(test.get(key) or 0)
    except (TypeError, ValueError):
        return 0.0


def _by_status(pairs: list[tuple[dict, str]], indent: str = "      ", limit: int = 12) -> str:
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


def _status(test: dict) -> str:
    """A grader test entry's status line: its `status` field, else the first line of its output."""
    status = test.get("status")
    output = str(test.get("output") or "").strip()
    first = POINTS_SUFFIX_RE.sub("", output.splitlines()[0]) if output else ""
    if isinstance(status, str) and status not in ("passed", "failed"):
        return status
    return first or str(status or "")


# ---------------------------------------------------------------------------
# --progress: which tests each exercise turns green
# ---------------------------------------------------------------------------

PROGRESS_BEGIN = "<!-- progress: begin -->"
PROGRESS_END = "<!-- progress: end -->"
TODO_TEXT_RE = re.compile(r'\bTODO\s*\(\s*"ch([0-9]+)"\s*,\s*"([^"\n]*)"')


@dataclass(frozen=True)
class RubricExercise:
    """One [[chN.exercise]] entry of the rubric: its stub's name and its short title."""

    todo: str
    title: str


def rubric_exercises(root: Path, n: int) -> list[RubricExercise]:
    """Chapter @p n's exercises, in the order grader/rubric.toml (and the guide) lists them."""
    import tomllib

    rubric = root / "grader" / "rubric.toml"
    try:
        data = tomllib.loads(rubric.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HandoutError(f"cannot read the exercises from {rubric}: {err}") from err
    entries = data.get(f"ch{n}", {}).get("exercise", [])
    exercises = [RubricExercise(str(e.get("todo")), str(e.get("title", e.get("todo")))) for e in entries
                 if isinstance(e, dict) and e.get("todo")]  # fmt: skip
    if not exercises:
        raise HandoutError(
            f"{rubric} lists no [[ch{n}.exercise]]: there is no order to solve chapter {n}'s exercises in"
        )
    return exercises


def stub_names(region: Region) -> list[str]:
    """The names of the stubs a region's stub calls: TODO("chN", "<name>: ...") -> <name>."""
    names = [match[2].split(":", 1)[0].strip() for line in region.stub for match in TODO_TEXT_RE.finditer(line)]
    return list(dict.fromkeys(names))


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
    statuses: dict[str, str]  # item -> its status line
    points: dict[str, float]  # item -> its points

    @classmethod
    def from_grading(cls, solved: int, grading: Grading) -> StepResult:
        """The step's outcomes from the grader's JSON."""
        names = [str(t.get("name")) for t in grading.tests]
        statuses = {
            name: "passed" if t.get("status") == "passed" else _status(t) for name, t in zip(names, grading.tests)
        }
        points = {name: _points(t, "max_score") for name, t in zip(names, grading.tests)}
        return cls(solved, names, statuses, points)

    @property
    def passed(self) -> set[str]:
        """The items that passed."""
        return {name for name, status in self.statuses.items() if status == "passed"}


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
                                     + _by_status([({"name": i}, self.steps[j].statuses[i]) for i in red]))  # fmt: skip
        prereq_red = [i for i in self.steps[0].items if not self.own(i) and i not in self.steps[0].passed]
        if prereq_red:
            listed = ", ".join(prereq_red)
            self.problems.append(f"ch{self.ch}: earlier layers fail with no ch{self.ch} exercise done: {listed}")
        last = self.steps[-1]
        for item in self.never_green():
            status = last.statuses[item]
            if not status.startswith("skipped"):
                self.problems.append(f"ch{self.ch}: {item} is not green with every exercise done: {status}")


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
        why = "; ".join(f"`{i}` ({steps[-1].statuses[i]})" for i in never)
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
        start = time.monotonic()
        try:
            self._chapter(n, progress)
        except HandoutError as err:
            progress.problems.append(str(err))
        except Exception as err:  # noqa: BLE001 - report it, do not lose the other chapters
            progress.problems.append(f"internal error in handout.py: {type(err).__name__}: {err}")
        progress.elapsed = time.monotonic() - start
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


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _stamp_chapter(root: Path) -> int | None:
    """The chapter of a handout tree (from its .handout file), or None for a reference tree."""
    stamp = root / STAMP
    if not stamp.is_file():
        return None
    match = re.search(r"^chapter\s*=\s*([0-9]+)", stamp.read_text(errors="replace"), re.M)
    return int(match[1]) if match else 0


def cmd_lint(tree: Tree) -> int:
    """Print the exercises per chapter."""
    for ch in tree.chapters:
        regions = [r for r in tree.regions if r.ch == ch]
        print(f"ch{ch}: {len(regions)} exercise(s)")
        for region in regions:
            print(f"  {region.where}: {region.what}")
    for warning in tree.warnings:
        print(f"warning: {warning}")
    print(f"handout markers: {len(tree.regions)} regions in {len(tree.sources)} files, all well-formed")
    return 0


def cmd_handout(tree: Tree, n: int, out: Path, force: bool, git: bool) -> int:
    """Write one handout and say where the student starts."""
    handout = write_handout(tree, n, out, force=force, git=git)
    for warning in tree.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    mine = [ex for ex in handout.exercises if ex.ch == n]
    order = _rubric_order(tree.root, n)
    if order:
        mine.sort(key=lambda ex: order.index(ex.name) if ex.name in order else len(order))
    print(f"handout for chapter {n}: {len(handout.files)} files in {out}"
          + (" (a git repository, one commit)" if handout.committed else ""))
    if not mine:
        print(f"warning: chapter {n} has no marked exercise (no LAB BEGIN ch{n}): its code is handed out solved",
              file=sys.stderr)
    print(f"ch{n} exercises ({len(mine)}{', in the order of grader/rubric.toml' if order else ''}):")
    for ex in mine:
        print(f"  {ex.path}:{ex.line}: {ex.what}")
    later = [ex for ex in handout.exercises if ex.ch > n]
    if later:
        print(f"later chapters stubbed: {len(later)} TODO(s)")
    return 0


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


def _parse_configs(values: list[str]) -> dict[int, str]:
    """{N: NAME} from --config chN=NAME options."""
    configs = {}
    for value in values:
        match = re.fullmatch(r"(?:ch)?([0-9]+)=(\S+)", value.strip())
        if not match:
            raise HandoutError(f"--config {value}: write chN=NAME, e.g. ch1=256M-2")
        configs[int(match[1])] = match[2]
    return configs


def _chosen_chapters(tree: Tree, wanted: list[int] | None) -> list[int]:
    """The chapters --ch names (every chapter of the tree if none), each checked to exist."""
    chapters = sorted(set(wanted)) if wanted else tree.chapters
    missing = [c for c in chapters if c not in tree.chapters]
    if missing:
        raise HandoutError(f"no chapter {', '.join(map(str, missing))} in {tree.root}")
    if not chapters:
        raise HandoutError(f"{tree.root} has no chapter (no chN/ directory)")
    return chapters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the student handout of chapter N (chapters before N solved, N.. stubbed), "
        "or check every chapter's handout.",
    )
    parser.add_argument("--ch", type=int, action="append", metavar="N",
                        help="the chapter the handout is for (with --check: check only these; repeatable)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="where to write the handout (a new or empty directory)")
    parser.add_argument("--force", action="store_true", help="replace the contents of a non-empty OUT")
    parser.add_argument("--no-git", action="store_true", help="do not make the handout a git repository")
    parser.add_argument("--check", action="store_true",
                        help="check every chapter's handout: markers, build, grading (boots QEMU)")
    parser.add_argument("--lint", action="store_true", help="check the markers only and list the exercises")
    parser.add_argument("--progress", action="store_true",
                        help="solve each chapter's exercises one by one (rubric order), build and grade after each, "
                        "and print which items each turns green (with --write: into chN/README.md; with --check: "
                        "fail if chN/README.md says otherwise)")
    parser.add_argument("--write", action="store_true", help="with --progress: write the section into chN/README.md")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 2,
                        help="builds and boots at once in --check (default: the number of CPUs)")
    parser.add_argument("--keep", action="store_true", help="keep --check's handouts and logs (their path is printed)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds one build or one grading may take in --check (default 600)")
    parser.add_argument("--config", action="append", default=[], metavar="chN=NAME",
                        help="the grader configuration --check boots chapter N in (default: the first with 2 harts)")
    parser.add_argument("--root", type=Path, default=None, help="the reference tree (default: this script's tree)")
    args = parser.parse_args(argv)
    root = (args.root or default_root()).resolve()
    if args.progress:
        if args.lint or args.out or (args.check and args.write):
            parser.error("--progress takes --ch N, and --write or --check (not both), not --lint or --out")
    elif args.write:
        parser.error("--write goes with --progress")
    elif sum(bool(x) for x in (args.check, args.lint, args.out)) != 1:
        parser.error("give one of --ch N --out DIR, --check, --lint or --progress")
    try:
        stamped = _stamp_chapter(root)
        if stamped is not None:
            if args.progress and not args.check:
                raise HandoutError(f"{root} is a handout (chapter {stamped}): --progress runs in the reference tree")
            if args.progress:
                print(f"progress: {root} is a handout (chapter {stamped}), not the reference tree: nothing to check")
                print("progress: 0 passed, 0 failed")
                return 0
            if args.check or args.lint:
                print(f"handout-check: {root} is a handout (chapter {stamped}), not the reference tree: "
                      "nothing to check")
                print("handout-check: 0 passed, 0 failed")
                return 0
            raise HandoutError(f"{root} is already a handout (chapter {stamped}): make handouts from the reference tree")
        tree = read_tree(root)
        if args.lint:
            return cmd_lint(tree)
        if args.progress:
            action = "write" if args.write else "check" if args.check else None
            return cmd_progress(tree, _chosen_chapters(tree, args.ch), action, args.jobs, args.keep, args.timeout,
                                _parse_configs(args.config))  # fmt: skip
        if args.check:
            chapters = _chosen_chapters(tree, args.ch)
            return cmd_check(tree, chapters, args.jobs, args.keep, args.timeout, _parse_configs(args.config))
        if not args.ch or len(args.ch) != 1:
            parser.error("--out needs exactly one --ch N")
        return cmd_handout(tree, args.ch[0], args.out, args.force, not args.no_git)
    except MarkerError as err:
        for problem in err.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"handout: {len(err.problems)} marker problem(s); see the format at the top of scripts/handout.py",
              file=sys.stderr)
        if args.check or args.progress:
            print(f"{'progress' if args.progress else 'handout-check'}: 0 passed, 1 failed")
        return 1
    except HandoutError as err:
        print(f"error: {err}", file=sys.stderr)
        if args.check or args.progress:
            print(f"{'progress' if args.progress else 'handout-check'}: 0 passed, 1 failed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
