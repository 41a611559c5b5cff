"""Shared fixtures of the tests of scripts/handout.py: small reference trees, a stand-in rubric, the CLI runner."""

import contextlib
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SCRIPTS))

from handout.cli import main  # noqa: E402
from handout.tree import Handout, read_tree, write_handout  # noqa: E402

HAVE_GIT = subprocess.run(["git", "--version"], capture_output=True).returncode == 0
needs_git = pytest.mark.skipif(not HAVE_GIT, reason="git is not installed")


BUDDY_C = """\
#include "frame.h"

int buddy_split(int order)
{
	int got = 0;
	/* LAB BEGIN ch1 split a free block down to the order asked for */
	while (order > 0) {
		order--;
		got++;
	}
	/* LAB STUB
	TODO("ch1", "buddy alloc: split a free block");
	return 0;
	LAB END */
	return got;
}

/* LAB BEGIN ch1 merge a freed block with its buddy */
static int merge(int x) { return x + 1; }
/* LAB STUB
static int merge(int x) { TODO("ch1", "buddy free: merge"); return x; }
LAB END */
"""


KMALLOC_C = """\
#include "heap.h"

void *kmalloc(unsigned long size)
{
		/* LAB BEGIN ch2 pick the slab cache for the size */
		return slab_alloc(size);
		/* LAB STUB
		TODO("ch2", "kmalloc: pick a slab cache");
		(void)size;
		return NULL;
		LAB END */
}
"""


PAGING_S = """\
#include "asmdefs.h"
# Don't mind the apostrophe in this assembler comment.
	.globl enable_paging
enable_paging:
	/* LAB BEGIN ch3 install the kernel page table */
	csrw satp, a0
	sfence.vma
	/* LAB STUB
	li a0, -38
	LAB END */
	ret
"""


# `make kernel CH=n` (and `make kernels`): each "kernel" is the text of its
# chapters' sources (the stand-in grader reads it).
FAKE_MAKEFILE = """\
kernel:
\t@mkdir -p build/ch$(CH)
\t@cat $(foreach c,$(shell seq 1 $(CH)),ch$(c)/src/*) > build/ch$(CH)/kernel.elf
kernels:
\t@for c in 1 2 3; do $(MAKE) --no-print-directory kernel CH=$$c || exit 1; done
"""


def make_tree(root: Path, extra: dict[str, str] | None = None) -> Path:
    """A small reference tree: common/, ch1..ch3 with one marked file each, a README."""
    files = {
        "README.md": "# mmlab\n\nThe lab.\n",
        "Makefile": FAKE_MAKEFILE,
        "common/include/panic.h": "#define TODO(ch, what) do { } while (0)\n",
        "common/lib/main.c": "/* LAB is a word that appears here, harmlessly */\nint main(void) { return 0; }\n",
        "ch1/README.md": "# ch1\n",
        "ch1/include/frame.h": "int buddy_split(int order);\n",
        "ch1/src/buddy.c": BUDDY_C,
        "ch1/tests/buddy_test.c": "/* tests */\n",
        "ch2/src/kmalloc.c": KMALLOC_C,
        "ch3/src/paging.S": PAGING_S,
        "docs/notes.txt": "Explains markers: LAB BEGIN chN what / LAB END.\n",
    }
    files.update(extra or {})
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def handout_of(tmp_path: Path, n: int, tree_root: Path | None = None, **kwargs) -> tuple[Path, Handout]:
    root = tree_root or make_tree(tmp_path / "ref")
    out = tmp_path / f"out{n}"
    result = write_handout(read_tree(root), n, out, **kwargs)
    return out, result


def run_cli(*args: str, tmp: Path | None = None) -> subprocess.CompletedProcess:
    """Run handout.py; with @p tmp, its work directories go there (a failed --progress keeps its own)."""
    script = SCRIPTS / "handout.py"
    env = dict(os.environ, TMPDIR=str(tmp)) if tmp else None
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env)



def run_main(*args: str, tmp: Path | None = None) -> subprocess.CompletedProcess:
    """Run handout.py's main() in this process (so that a test's stand-in grader is the one it calls).

    Its output is captured (from every thread) and returned as run_cli()
    returns a child's; with @p tmp, its work directories go there.
    """
    out, err = io.StringIO(), io.StringIO()
    saved = tempfile.tempdir
    tempfile.tempdir = str(tmp) if tmp else saved
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit:  # argparse's usage errors
                code = exit.code
    finally:
        tempfile.tempdir = saved
    return subprocess.CompletedProcess(["handout.py", *args], code, out.getvalue(), err.getvalue())


FAKE_RUBRIC = "".join(f'[ch{n}]\ntitle = "c{n}"\nconfigs = [{{ name = "smp1", memory = "128M", smp = 1 }}, '
                      f'{{ name = "smp2", memory = "128M", smp = 2 }}]\n'
                      for n in (1, 2, 3))


PROGRESS_RUBRIC = FAKE_RUBRIC + """
[[ch1.exercise]]
todo = "buddy free"
title = "merge"
hint = "h"

[[ch1.exercise]]
todo = "buddy alloc"
title = "split"
hint = "h"

[[ch2.exercise]]
todo = "kmalloc"
title = "pick a cache"
hint = "h"
"""


needs_make = pytest.mark.skipif(subprocess.run(["make", "--version"], capture_output=True).returncode != 0,
                                reason="no make")  # fmt: skip
