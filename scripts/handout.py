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
        (the kernels it grades, warning-free; the first chapter's handout, the
        most stubbed, builds them all), then grade in QEMU, one configuration per
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
        in one configuration (the first with 2 harts: 256M-2), once: a result
        that would change from one grading to the next is a bug of the kernel
        or its tests, for this check to show. Prints, per chapter, a
        Markdown section: the items that pass with no exercise done, those
        each exercise turns green, any that go red again (a bug), and those not
        green even when all are done. --write puts it into chN/README.md
        between `<!-- progress: begin -->` and `<!-- progress: end -->`;
        --check fails, with a diff, if the guide's section differs. It also
        fails on a build or grading failure, an item red again, an earlier
        layer's item red at any step, or an item (not skipped) red at the end.
        Closes with `progress: N passed, N failed (T s)`.

The code is the package scripts/handout/: markers.py (reading the markers),
render.py (a source and the README section of a handout), tree.py (the
tree's files; writing a handout), rubric.py (the rubric's exercises),
check.py (--check: builds, then grades in-process with the grader's own
package grader/mmgrade, brought in by grader.py, reading its result objects:
each item's Status and reason), progress.py (--progress) and cli.py (this
command line). This file only runs it.

Python 3 standard library only.
"""

import sys

from handout.cli import main  # scripts/ is sys.path[0]: the package scripts/handout/ wins over this file

if __name__ == "__main__":
    sys.exit(main())
