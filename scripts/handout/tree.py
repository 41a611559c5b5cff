"""The reference tree (its files, chapters and regions) and writing a handout of it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HandoutError, MarkerError
from .markers import CHAPTER_DIR_RE, SCANNED_SUFFIXES, TOKEN_RE, Region, SourceFile, parse_source
from .render import Exercise, merge_readme, readme_section, render
from .rubric import rubric_order

# Never copied into a handout (nor scanned).
EXCLUDED_TOP = ("build",)
EXCLUDED_ANYWHERE = (".git", "__pycache__", ".pytest_cache")
# A handout tree carries this file: `--check` then has nothing to do.
STAMP = ".handout"
# Maintainers' files that quote the solution: never in a handout.
# grader/mutants.toml holds mistakes written as rules over the solution's text.
NOT_SHIPPED = ("grader/mutants.toml",)
FALLBACK_AUTHOR = ("mmlab", "mmlab@localhost")
# A stubbed solution of at least this many non-blank lines may appear in no file of the handout.
LEAK_MIN_LINES = 3


def default_root() -> Path:
    """The tree this script belongs to: scripts/handout/tree.py -> the directory that holds scripts/."""
    return Path(__file__).resolve().parents[2]


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


def student_files(tree: Tree, n: int) -> list[str]:
    """The files a student of chapter @p n changes: those holding chapter n's regions (exercises).

    Only those: the other files of chN/src are given code that the tests,
    the guide and later chapters rely on as written (frame counters the
    tests read, the helpers an exercise calls), so a submission that changed
    them would change what is measured, not do the exercise; a helper of the
    student's own goes into an exercise's file. The handout writes this list
    into its stamp (STAMP, `student_file = path` lines), and the Gradescope
    autograder (scripts/gradescope.py) takes exactly these files from a
    submission, reading them back with read_stamp().
    """
    return sorted({region.path for region in tree.regions if region.ch == n})


@dataclass(frozen=True)
class Stamp:
    """What a handout's STAMP says: its chapter and the files its student changes."""

    chapter: int
    student_files: tuple[str, ...]


def stamp_text(n: int, files: list[str]) -> str:
    """The STAMP of chapter @p n's handout, whose student changes @p files."""
    lines = [
        f"mmlab handout for chapter {n}",
        f"chapter = {n}",
        "# scripts/handout.py wrote this tree; `make handout-check` runs in the reference tree only.",
        "# The files a student of this chapter changes (the Gradescope autograder takes these from a submission):",
    ]
    return "\n".join(lines + [f"student_file = {rel}" for rel in files]) + "\n"


def read_stamp(root: Path) -> Stamp | None:
    """The STAMP of the handout at @p root, or None if @p root is no handout (a reference tree)."""
    path = root / STAMP
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    chapter = re.search(r"^chapter\s*=\s*([0-9]+)", text, re.M)
    files = re.findall(r"^student_file\s*=\s*(\S.*?)\s*$", text, re.M)
    return Stamp(int(chapter[1]) if chapter else 0, tuple(files))


@dataclass
class Handout:
    """What write_handout made."""

    out: Path
    ch: int
    files: list[str]
    exercises: list[Exercise]
    committed: bool
    changed: list[str] = field(default_factory=list)  # the files written (all of them in a new OUT)


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
    merged = merge_readme(existing, readme_section(n, exercises, tree.chapters, rubric_order(tree.root, n)))
    stamp = stamp_text(n, student_files(tree, n))
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
