"""The command line of scripts/handout.py: parse the options, run one mode, set the exit code."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from .check import cmd_check
from .errors import HandoutError, MarkerError
from .progress import cmd_progress
from .rubric import rubric_order
from .tree import Tree, default_root, read_stamp, read_tree, write_handout

def _stamp_chapter(root: Path) -> int | None:
    """The chapter of a handout tree (from its .handout file), or None for a reference tree."""
    stamp = read_stamp(root)
    return None if stamp is None else stamp.chapter


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
    order = rubric_order(tree.root, n)
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
                        help="seconds one build may take in --check and --progress (default 600); a grading's "
                        "boots have the rubric's timeouts (times MMLAB_TIMEOUT_SCALE)")
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
