"""Tests of scripts/handout.py on small fixture trees (no QEMU, no cross compiler)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import handout  # noqa: E402

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


# `make kernels`: each "kernel" is the text of its chapters' sources (the stand-in grader reads it).
FAKE_MAKEFILE = """\
kernels:
\t@mkdir -p build/ch1 build/ch2 build/ch3
\t@cat ch1/src/* > build/ch1/kernel.elf
\t@cat ch1/src/* ch2/src/* > build/ch2/kernel.elf
\t@cat ch1/src/* ch2/src/* ch3/src/* > build/ch3/kernel.elf
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


def test_the_mutant_catalogue_is_not_shipped(tmp_path):
    root = make_tree(tmp_path / "ref", {"grader/mutants.toml": 'find = "return got;"\n'})
    out, result = handout_of(tmp_path, 2, tree_root=root, git=False)
    assert not (out / "grader" / "mutants.toml").exists()
    assert "grader/mutants.toml" not in result.files


def handout_of(tmp_path: Path, n: int, tree_root: Path | None = None, **kwargs) -> tuple[Path, handout.Handout]:
    root = tree_root or make_tree(tmp_path / "ref")
    out = tmp_path / f"out{n}"
    result = handout.write_handout(handout.read_tree(root), n, out, **kwargs)
    return out, result


# ---------------------------------------------------------------------------
# The transformation
# ---------------------------------------------------------------------------


def test_chapter1_stubs_every_chapter(tmp_path):
    out, _ = handout_of(tmp_path, 1, git=False)
    buddy = (out / "ch1/src/buddy.c").read_text()
    assert buddy == textwrap.dedent("""\
        #include "frame.h"

        int buddy_split(int order)
        {
        	int got = 0;
        	/* TODO(ch1): split a free block down to the order asked for */
        	TODO("ch1", "buddy alloc: split a free block");
        	return 0;
        	return got;
        }

        /* TODO(ch1): merge a freed block with its buddy */
        static int merge(int x) { TODO("ch1", "buddy free: merge"); return x; }
        """)
    kmalloc = (out / "ch2/src/kmalloc.c").read_text()
    assert "\t\t/* TODO(ch2): pick the slab cache for the size */\n\t\tTODO(\"ch2\"" in kmalloc
    assert "slab_alloc" not in kmalloc
    paging = (out / "ch3/src/paging.S").read_text()
    assert "\t/* TODO(ch3): install the kernel page table */\n\tli a0, -38\n\tret\n" in paging
    assert "csrw satp" not in paging


def test_earlier_chapters_keep_the_solution(tmp_path):
    out, result = handout_of(tmp_path, 3, git=False)
    buddy = (out / "ch1/src/buddy.c").read_text()
    assert "\twhile (order > 0) {\n\t\torder--;" in buddy
    assert "TODO" not in buddy and "LAB" not in buddy
    assert "static int merge(int x) { return x + 1; }\n" in buddy
    kmalloc = (out / "ch2/src/kmalloc.c").read_text()
    assert kmalloc == "#include \"heap.h\"\n\nvoid *kmalloc(unsigned long size)\n{\n\t\treturn slab_alloc(size);\n}\n"
    paging = (out / "ch3/src/paging.S").read_text()
    assert "/* TODO(ch3): install the kernel page table */" in paging
    assert [(e.path, e.line, e.ch) for e in result.exercises] == [("ch3/src/paging.S", 5, 3)]


def test_middle_chapter(tmp_path):
    out, result = handout_of(tmp_path, 2, git=False)
    assert "TODO" not in (out / "ch1/src/buddy.c").read_text()
    assert "/* TODO(ch2)" in (out / "ch2/src/kmalloc.c").read_text()
    assert "/* TODO(ch3)" in (out / "ch3/src/paging.S").read_text()
    assert sorted((e.ch, e.path, e.line) for e in result.exercises) == [
        (2, "ch2/src/kmalloc.c", 5),
        (3, "ch3/src/paging.S", 5),
    ]


def test_exercise_lines_point_at_the_todo_comments(tmp_path):
    out, result = handout_of(tmp_path, 1, git=False)
    for ex in result.exercises:
        line = (out / ex.path).read_text().splitlines()[ex.line - 1]
        assert line.strip() == f"/* TODO(ch{ex.ch}): {ex.what} */"


def test_no_markers_left_and_other_files_copied_verbatim(tmp_path):
    root = make_tree(tmp_path / "ref")
    for n in (1, 2, 3):
        out, result = handout_of(tmp_path, n, tree_root=root, git=False)
        assert handout.leftover_markers(out, result.files) == []
        for rel in result.files:
            if rel.endswith((".c", ".h", ".S")):
                assert not handout.TOKEN_RE.search((out / rel).read_text()), rel
        assert (out / "docs/notes.txt").read_text() == (root / "docs/notes.txt").read_text()
        assert (out / "common/lib/main.c").read_text() == (root / "common/lib/main.c").read_text()
        assert (out / "Makefile").read_text() == (root / "Makefile").read_text()


def test_a_copy_of_a_solution_is_refused(tmp_path):
    # An editor's backup is not scanned (not .c): copied as it is, it would hand out the solution.
    root = make_tree(tmp_path / "ref", {"ch1/src/buddy.c~": BUDDY_C, "notes/kmalloc-idea.txt": KMALLOC_C})
    with pytest.raises(handout.HandoutError, match=r"give away solutions: ch1/src/buddy.c~ \(the solution of "
                       r"ch1/src/buddy.c:6\)\. Remove"):
        handout.write_handout(handout.read_tree(root), 1, tmp_path / "out1", git=False)
    # For chapter 2 that solution is handed out anyway; a one-line one is not looked for.
    out, _ = handout_of(tmp_path, 2, tree_root=root, git=False)
    assert (out / "ch1/src/buddy.c~").read_text() == BUDDY_C


def test_modes_and_crlf_are_kept(tmp_path):
    root = make_tree(tmp_path / "ref")
    crlf = BUDDY_C.replace("\n", "\r\n")
    (root / "ch1/src/buddy.c").write_bytes(crlf.encode())
    (root / "scripts").mkdir()
    (root / "scripts/run.sh").write_text("#!/bin/sh\n")
    (root / "scripts/run.sh").chmod(0o755)
    out, _ = handout_of(tmp_path, 1, tree_root=root, git=False)
    text = (out / "ch1/src/buddy.c").read_bytes().decode()
    assert "\t/* TODO(ch1): split a free block down to the order asked for */\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert os.access(out / "scripts/run.sh", os.X_OK)


# ---------------------------------------------------------------------------
# Malformed markers
# ---------------------------------------------------------------------------

BAD = {
    "begin_without_stub": ("\t/* LAB BEGIN ch1 do it */\n\tx();\n", 1, "without LAB STUB and LAB END"),
    "begin_without_end": ("/* LAB BEGIN ch1 do it */\nx();\n/* LAB STUB\ny();\n", 1, "without LAB END"),
    "nested": ("/* LAB BEGIN ch1 a */\n/* LAB BEGIN ch1 b */\n", 2, "nested LAB BEGIN"),
    "nested_in_stub": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\n/* LAB BEGIN ch1 b */\nLAB END */\n", 3, "nested"),
    "stub_alone": ("int x;\n/* LAB STUB\nLAB END */\n", 2, "LAB STUB without a LAB BEGIN"),
    "end_alone": ("int x;\n/* LAB END */\n", 2, "LAB END without"),
    "end_before_stub": ("/* LAB BEGIN ch1 a */\nx();\nLAB END */\n", 3, "LAB END before LAB STUB"),
    "two_stubs": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\n/* LAB STUB\nLAB END */\n", 3, "a second LAB STUB"),
    "no_such_chapter": ("/* LAB BEGIN ch7 a */\n/* LAB STUB\nLAB END */\n", 1, "chapter ch7 does not exist"),
    "no_what": ("/* LAB BEGIN ch1 */\n/* LAB STUB\nLAB END */\n", 1, "says nothing to do"),
    "no_chapter": ("/* LAB BEGIN split it */\n/* LAB STUB\nLAB END */\n", 1, "malformed LAB BEGIN"),
    "in_line_comment": ("// LAB BEGIN ch1 a\n", 1, "outside a /* */ comment"),
    "in_string": ('const char *s = "LAB BEGIN ch1 a";\n', 1, "outside a /* */ comment"),
    "in_code": ("#define LAB_BEGIN 1\nint LAB BEGIN;\n", 2, "outside a /* */ comment"),
    "code_before_begin": ("x(); /* LAB BEGIN ch1 a */\n", 1, "malformed LAB BEGIN"),
    "multiline_begin": ("/* LAB BEGIN ch1 a\n   more */\n", 1, "malformed LAB BEGIN"),
    "begin_in_doc_comment": ("/**\n * LAB BEGIN ch1 a\n */\n", 2, "malformed LAB BEGIN"),
    "stub_with_text": ("/* LAB BEGIN ch1 a */\n/* LAB STUB return 0;\nLAB END */\n", 2, "malformed LAB STUB"),
    "stub_closed": ("/* LAB BEGIN ch1 a */\n/* LAB STUB */\nLAB END */\n", 2, "malformed LAB STUB"),
    "stub_in_code": ("/* LAB BEGIN ch1 a */\nLAB STUB\n", 2, "outside a /* */ comment"),
    "stub_closes_comment": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\nx(); */\nLAB END */\n", 3, "cannot hold /* or */"),
    "end_with_code": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\nreturn 0; LAB END */\n", 3, "malformed LAB END"),
    "end_not_closing": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\nLAB END\n*/\n", 3, "malformed LAB END"),
    "two_on_a_line": ("/* LAB BEGIN ch1 a */ /* LAB STUB\nLAB END */\n", 1, "several LAB markers"),
    "wrong_todo_chapter": ('/* LAB BEGIN ch1 a */\n/* LAB STUB\nTODO("ch2", "x");\nLAB END */\n', 2, 'TODO("ch2"'),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_markers_are_errors_with_file_and_line(tmp_path, name):
    text, line, message = BAD[name]
    root = make_tree(tmp_path / "ref", {"ch1/src/bad.c": "int before;\n" + text})
    with pytest.raises(handout.MarkerError) as info:
        handout.read_tree(root)
    problems = info.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"ch1/src/bad.c:{line + 1}: "), problems
    assert message in problems[0]


@pytest.mark.parametrize(
    "rel, message",
    [
        ("common/lib/oops.c", "common/ is never stubbed"),
        ("ch1/tests/oops_test.c", "tests are never stubbed"),
        ("ch1/hosttest/test_oops.c", "tests are never stubbed"),
        ("grader/helper.c", "grader/ is never stubbed"),
        ("ch2/src/oops.c", "a ch1 exercise in ch2/"),
    ],
)
def test_markers_where_none_may_be(tmp_path, rel, message):
    text = '/* LAB BEGIN ch1 a */\nx();\n/* LAB STUB\nTODO("ch1", "a");\nLAB END */\n'
    root = make_tree(tmp_path / "ref", {rel: text})
    with pytest.raises(handout.MarkerError) as info:
        handout.read_tree(root)
    assert info.value.problems == [f"{rel}:1: {info.value.problems[0].split(': ', 1)[1]}"]
    assert message in info.value.problems[0]


def test_every_bad_file_is_reported(tmp_path):
    root = make_tree(
        tmp_path / "ref",
        {"ch1/src/a.c": "/* LAB STUB\nLAB END */\n", "ch2/src/b.h": "\n\n/* LAB BEGIN ch2 x */\n"},
    )
    with pytest.raises(handout.MarkerError) as info:
        handout.read_tree(root)
    assert [p.split(": ")[0] for p in info.value.problems] == ["ch1/src/a.c:1", "ch2/src/b.h:3"]


def test_literals_and_comments_do_not_confuse_the_lexer(tmp_path):
    tricky = textwrap.dedent("""\
        char q = '"';
        const char *s = "/* not a comment";
        char c = '\\'';
        /* a comment with "quotes */
        /* LAB BEGIN ch1 tricky */
        x = '/';
        /* LAB STUB
        TODO("ch1", "tricky");
        LAB END */
        """)
    root = make_tree(tmp_path / "ref", {"ch1/src/tricky.c": tricky})
    tree = handout.read_tree(root)
    assert [r.what for r in tree.regions if r.path == "ch1/src/tricky.c"] == ["tricky"]


def test_a_stub_without_todo_is_a_warning(tmp_path):
    root = make_tree(tmp_path / "ref")
    tree = handout.read_tree(root)
    assert len(tree.warnings) == 1
    assert tree.warnings[0].startswith("ch3/src/paging.S:5: ")
    assert 'TODO("ch3"' in tree.warnings[0]


# ---------------------------------------------------------------------------
# The output directory, the README, git
# ---------------------------------------------------------------------------


def test_refuses_a_non_empty_out(tmp_path):
    root = make_tree(tmp_path / "ref")
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    tree = handout.read_tree(root)
    with pytest.raises(handout.HandoutError, match="exists and is not empty.*--force"):
        handout.write_handout(tree, 1, out, git=False)
    assert (out / "precious.txt").read_text() == "keep me"
    handout.write_handout(tree, 1, out, force=True, git=False)
    assert not (out / "precious.txt").exists()
    assert (out / "ch1/src/buddy.c").is_file()


def test_an_empty_out_is_fine(tmp_path):
    root = make_tree(tmp_path / "ref")
    (tmp_path / "out").mkdir()
    handout.write_handout(handout.read_tree(root), 1, tmp_path / "out", git=False)
    assert (tmp_path / "out/Makefile").is_file()


@pytest.mark.parametrize("where", [".", "..", "ch1/handout"])
def test_refuses_an_out_in_or_around_the_tree(tmp_path, where):
    root = make_tree(tmp_path / "ref")
    with pytest.raises(handout.HandoutError):
        handout.write_handout(handout.read_tree(root), 1, root / where, force=True, git=False)
    assert (root / "ch1/src/buddy.c").read_text() == BUDDY_C


def test_unknown_chapter(tmp_path):
    root = make_tree(tmp_path / "ref")
    with pytest.raises(handout.HandoutError, match="no chapter 4"):
        handout.write_handout(handout.read_tree(root), 4, tmp_path / "out", git=False)


def test_readme_section_appended(tmp_path):
    out, _ = handout_of(tmp_path, 1, git=False)
    readme = (out / "README.md").read_text()
    assert readme.startswith("# mmlab\n\nThe lab.\n\n" + handout.README_BEGIN)
    assert "You are working on chapter 1: start with [ch1/README.md](ch1/README.md)." in readme
    assert "- `ch1/src/buddy.c:6`: split a free block down to the order asked for" in readme
    assert "- `ch1/src/buddy.c:12`: merge a freed block with its buddy" in readme
    assert "`make grade CH=1` grades your work" in readme
    assert "TODO(ch2)" in readme and "TODO(ch3)" in readme  # later chapters named, not listed
    assert "kmalloc.c" not in readme
    assert readme.endswith(handout.README_END + "\n")


def test_readme_section_replaced(tmp_path):
    marked = f"# mmlab\n\nintro\n\n{handout.README_BEGIN}\nold text\n{handout.README_END}\n\n## After\n"
    root = make_tree(tmp_path / "ref", {"README.md": marked})
    out, _ = handout_of(tmp_path, 2, tree_root=root, git=False)
    readme = (out / "README.md").read_text()
    assert "old text" not in readme
    assert readme.startswith("# mmlab\n\nintro\n\n" + handout.README_BEGIN)
    assert readme.endswith(handout.README_END + "\n\n## After\n")
    assert "You are working on chapter 2: start with [ch2/README.md](ch2/README.md)." in readme
    assert "- `ch2/src/kmalloc.c:5`: pick the slab cache for the size" in readme
    assert "(ch1) come solved" in readme


def test_readme_lists_the_exercises_in_rubric_order(tmp_path):
    root = make_tree(tmp_path / "ref", {"grader/rubric.toml": PROGRESS_RUBRIC})
    out, result = handout_of(tmp_path, 1, tree_root=root, git=False)
    readme = (out / "README.md").read_text()
    assert "do them in this order, the guide's" in readme
    assert readme.index("1. `ch1/src/buddy.c:12`: merge") < readme.index("2. `ch1/src/buddy.c:6`: split")
    assert [(ex.name, ex.line) for ex in result.exercises if ex.ch == 1] == [("buddy alloc", 6), ("buddy free", 12)]


def test_readme_created_when_missing(tmp_path):
    root = make_tree(tmp_path / "ref")
    (root / "README.md").unlink()
    out, _ = handout_of(tmp_path, 3, tree_root=root, git=False)
    assert "You are working on chapter 3" in (out / "README.md").read_text()


def test_the_handout_is_stamped_and_check_does_nothing_there(tmp_path, capsys):
    out, _ = handout_of(tmp_path, 2, git=False)
    assert "chapter = 2" in (out / ".handout").read_text()
    assert handout.main(["--check", "--root", str(out)]) == 0
    assert "handout-check: 0 passed, 0 failed" in capsys.readouterr().out
    assert handout.main(["--ch", "2", "--out", str(tmp_path / "again"), "--root", str(out)]) == 1
    assert "already a handout" in capsys.readouterr().err


@needs_git
def test_git_repository_with_one_commit(tmp_path, monkeypatch):
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.gitconfig identity
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    out, result = handout_of(tmp_path, 1)
    assert result.committed
    assert git(out, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(out, "log", "-1", "--format=%s|%an <%ae>").strip() == "mmlab handout for chapter 1|mmlab <mmlab@localhost>"
    assert git(out, "status", "--porcelain") == ""
    tracked = set(git(out, "ls-files").split())
    assert {"README.md", ".handout", "ch1/src/buddy.c", "common/lib/main.c"} <= tracked


@needs_git
def test_git_author_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Teacher")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.org")
    out, _ = handout_of(tmp_path, 1)
    assert git(out, "log", "-1", "--format=%an <%ae>").strip() == "Ada Teacher <ada@example.org>"


@needs_git
def test_files_come_from_git_ls_files(tmp_path):
    root = make_tree(tmp_path / "ref", {".gitignore": "/build/\n*.o\n"})
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "reference")
    (root / "ch1/src/new.c").write_text("int fresh;\n")  # untracked, not ignored: part of the tree
    (root / "ch1/src/buddy.o").write_text("junk")  # ignored
    (root / "build/ch1").mkdir(parents=True)
    (root / "build/ch1/kernel.elf").write_text("elf")
    (root / "docs/notes.txt").unlink()  # deleted from the work tree
    out, result = handout_of(tmp_path, 1, tree_root=root, git=False)
    assert "ch1/src/new.c" in result.files
    assert not (out / "ch1/src/buddy.o").exists()
    assert not (out / "build").exists()
    assert not (out / "docs/notes.txt").exists()
    assert not (out / ".git").exists()
    assert (out / ".gitignore").is_file()


def test_walk_skips_build_and_git(tmp_path):
    root = make_tree(tmp_path / "ref")
    (root / "build/ch1").mkdir(parents=True)
    (root / "build/ch1/x.c").write_text("/* LAB STUB\n")  # would be an error if scanned
    (root / ".git").mkdir()
    (root / ".git/config").write_text("")
    files = handout.list_files(root)
    assert not any(f.startswith(("build/", ".git/")) for f in files)
    assert "ch1/src/buddy.c" in files


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def run_cli(*args: str, tmp: Path | None = None) -> subprocess.CompletedProcess:
    """Run handout.py; with @p tmp, its work directories go there (a failed --progress keeps its own)."""
    script = Path(__file__).resolve().parent.parent / "handout.py"
    env = dict(os.environ, TMPDIR=str(tmp)) if tmp else None
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env)


def test_cli_writes_a_handout(tmp_path):
    root = make_tree(tmp_path / "ref")
    out = tmp_path / "student"
    done = run_cli("--ch", "1", "--out", str(out), "--root", str(root), "--no-git")
    assert done.returncode == 0, done.stderr
    assert "ch1/src/buddy.c:6: split a free block down to the order asked for" in done.stdout
    again = run_cli("--ch", "1", "--out", str(out), "--root", str(root), "--no-git")
    assert again.returncode == 1
    assert "exists and is not empty" in again.stderr


def test_cli_reports_marker_errors(tmp_path):
    root = make_tree(tmp_path / "ref", {"ch2/src/x.c": "\n/* LAB BEGIN ch2 x */\n"})
    done = run_cli("--ch", "1", "--out", str(tmp_path / "o"), "--root", str(root))
    assert done.returncode == 1
    assert "error: ch2/src/x.c:2: LAB BEGIN ch2 without LAB STUB and LAB END" in done.stderr
    assert not (tmp_path / "o").exists()
    lint = run_cli("--lint", "--root", str(root))
    assert lint.returncode == 1 and "ch2/src/x.c:2" in lint.stderr


def test_cli_lint_lists_exercises(tmp_path):
    root = make_tree(tmp_path / "ref")
    done = run_cli("--lint", "--root", str(root))
    assert done.returncode == 0, done.stderr
    assert "ch1: 2 exercise(s)" in done.stdout
    assert "  ch2/src/kmalloc.c:5: pick the slab cache for the size" in done.stdout


def test_cli_needs_one_mode(tmp_path):
    assert run_cli("--root", str(tmp_path)).returncode == 2
    assert run_cli("--ch", "1", "--root", str(tmp_path)).returncode == 2


# ---------------------------------------------------------------------------
# --check, with a stand-in make and grader (no QEMU)
# ---------------------------------------------------------------------------

FAKE_GRADER = '''\
import argparse, json, pathlib, re
p = argparse.ArgumentParser()
p.add_argument("ch", type=int)
p.add_argument("--only", action="append")
p.add_argument("--json")
p.add_argument("--root", default=".")
p.add_argument("--rubric")
p.add_argument("--no-build", action="store_true")
a = p.parse_args()
assert a.only == ["smp2"], a.only
kernel = (pathlib.Path(a.root) / f"build/ch{a.ch}/kernel.elf").read_text()
stubbed = re.findall(r"TODO\\(ch%d\\): (.*) \\*/" % a.ch, kernel)
unfinished_later = re.search(r"TODO\\(ch[0-9]+\\)", kernel)
mode = pathlib.Path("mode").read_text().strip()
tests = [{"name": f"ch{a.ch}.t{i}", "score": 0 if stubbed else 5, "max_score": 5, "status": "failed" if stubbed else "passed",
          "output": (f"not implemented: {stubbed[0]}" if stubbed else "passed") + " (0/5 points)"} for i in range(10)]
if stubbed and mode == "generous":
    tests[0].update(score=5, status="passed", output="passed (5/5 points)")
    tests[1].update(score=5, status="passed", output="passed (5/5 points)")
if stubbed and mode == "hang":
    tests[3]["output"] = "timeout (0/5 points)\\nno power-off within 60 s"
if not stubbed and mode == "broken" and a.ch == 1:
    tests[2].update(score=0, status="failed", output="failed (0/5 points)")
if not stubbed and mode == "fragile" and unfinished_later:
    tests[4].update(score=0, status="failed", output="did not run (0/5 points)")
if not stubbed and mode == "skips":
    tests[5].update(score=0, status="failed", output="skipped: needs 4 harts (0/5 points)")
json.dump({"score": sum(t["score"] for t in tests), "tests": tests}, open(a.json, "w"))
'''

FAKE_RUBRIC = "".join(f'[ch{n}]\ntitle = "c{n}"\nconfigs = [{{ name = "smp1", memory = "128M", smp = 1 }}, '
                      f'{{ name = "smp2", memory = "128M", smp = 2 }}]\n'
                      for n in (1, 2, 3))


def check_tree(tmp_path: Path, mode: str = "good") -> Path:
    return make_tree(
        tmp_path / "ref",
        {"grader/grade.py": FAKE_GRADER, "grader/rubric.toml": FAKE_RUBRIC, "mode": mode,
         "ch2/README.md": "# ch2\n", "ch3/README.md": "# ch3\n"},
    )


@pytest.mark.skipif(subprocess.run(["make", "--version"], capture_output=True).returncode != 0, reason="no make")
def test_check_passes_on_a_good_tree(tmp_path):
    done = run_cli("--check", "--root", str(check_tree(tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("handout-check: 3 passed, 0 failed")
    assert "chapter 3: ok" in done.stdout
    assert "ch1 (solved) [smp2]: 50/50" in done.stdout
    assert "ch3 (stubbed) [smp2]: 0/50 points" in done.stdout


@pytest.mark.parametrize(
    "mode, chapter, messages",
    [
        ("generous", 1, ["ch1 (stubbed) [smp2]: the stubs earn 10 of 50 points (more than 10%): ch1.t0 (5), ch1.t1 (5)"]),
        ("hang", 2, ["ch2 (stubbed) [smp2]: a stub hangs the kernel: timeout in ch2.t3"]),
        ("broken", 2, [
            "x ch1 (solved) [smp2]: 45/50, not the full score:\n      ch1.t2: failed",
            "x ch1 (solved) on kernel 2, with ch2 unfinished, [smp2]: 45/50, not the full score:\n      ch1.t2: failed",
        ]),
        ("fragile", 3, [
            "    ch1 (solved) [smp2]: 50/50, full score",
            "x ch1 (solved) on kernel 3, with ch3 unfinished, [smp2]: 45/50, not the full score:\n"
            "      ch1.t4: did not run",
            "x ch2 (solved) on kernel 3, with ch3 unfinished, [smp2]: 45/50, not the full score:\n"
            "      ch2.t4: did not run",
        ]),
    ],
)  # fmt: skip
def test_check_reports_what_a_chapter_gets_wrong(tmp_path, mode, chapter, messages):
    done = run_cli("--check", "--ch", str(chapter), "--root", str(check_tree(tmp_path, mode)))
    assert done.returncode == 1, done.stdout
    assert f"chapter {chapter}: FAILED" in done.stdout
    for message in messages:
        assert message in done.stdout
    assert done.stdout.splitlines()[-1].startswith("handout-check: 0 passed, 1 failed")


def test_check_tolerates_skips_in_the_one_configuration(tmp_path):
    done = run_cli("--check", "--ch", "2", "--root", str(check_tree(tmp_path, "skips")))
    assert done.returncode == 0, done.stdout
    assert "ch1 (solved) [smp2]: 45/50 (skipped in this configuration: ch1.t5)" in done.stdout


def test_check_config_option(tmp_path):
    done = run_cli("--check", "--ch", "1", "--config", "ch1=nope", "--root", str(check_tree(tmp_path)))
    assert done.returncode == 1
    assert "--config ch1=nope: no such configuration (ch1 has smp1, smp2)" in done.stdout


def test_check_fails_on_bad_markers(tmp_path):
    root = check_tree(tmp_path)
    (root / "ch1/src/bad.c").write_text("/* LAB BEGIN ch1 x */\n")
    done = run_cli("--check", "--root", str(root))
    assert done.returncode == 1
    assert "ch1/src/bad.c:1" in done.stderr
    assert done.stdout.splitlines()[-1] == "handout-check: 0 passed, 1 failed"


def test_judge_stubbed_lists_earning_tests():
    check = handout.ChapterCheck(1)
    grading = handout.Grading(1, "c", 1, ok=True, score=1, max_score=40, tests=[
        {"name": "ch1.a", "score": 1, "max_score": 1, "status": "passed", "output": "passed (1/1 points)"},
        {"name": "ch1.b", "score": 0, "max_score": 39, "status": "failed", "output": "not implemented: b (0/39 points)"},
    ])  # fmt: skip
    handout.Checker._judge_stubbed(None, check, 1, "c", grading)
    assert check.passed, check.problems
    assert check.notes[0] == 'ch1 (stubbed) [c]: 1/40 points without the student\'s code; 1 of its 2 scored items "not implemented"'
    assert "ch1 (stubbed) [c] earns without the student's code: ch1.a (1)" in check.notes


def judge_stubbed(*tests: tuple[str, float, float, str]) -> handout.ChapterCheck:
    check = handout.ChapterCheck(1)
    entries = [{"name": name, "score": score, "max_score": most, "status": "passed" if score == most else "failed",
                "output": f"{status} ({score:g}/{most:g} points)\ndetail"} for name, score, most, status in tests]
    grading = handout.Grading(1, "c", 1, ok=True, score=sum(t[1] for t in tests), max_score=sum(t[2] for t in tests),
                              tests=entries)
    handout.Checker._judge_stubbed(None, check, 1, "c", grading)
    return check


def test_judge_stubbed_wants_not_implemented():
    check = judge_stubbed(("ch1.a", 0, 5, "failed"), ("common.x", 0, 0, "passed"))
    assert check.problems == ['ch1 (stubbed) [c]: no item is reported "not implemented" (do the stubs call TODO()?)']
    assert check.notes[0].endswith('0 of its 1 scored items "not implemented"')
    assert any('fails without saying "not implemented":\n      ch1.a: failed' in n for n in check.notes)


def test_judge_stubbed_panic_and_skips():
    check = judge_stubbed(("ch1.a", 0, 5, "panic"), ("ch1.b", 0, 5, "not implemented: b"),
                          ("ch1.c", 0, 5, "skipped: needs 4 harts"))
    assert check.problems == ["ch1 (stubbed) [c]: a stub crashes the kernel (panic) in ch1.a"]
    assert "ch1 (stubbed) [c]: skipped in this configuration: ch1.c" in check.notes
    assert not any("fails without" in n for n in check.notes)


def test_judge_stubbed_many_timeouts_are_summarised():
    check = judge_stubbed(*[(f"ch1.t{i}", 0, 1, "timeout") for i in range(9)])
    assert check.problems == [
        "ch1 (stubbed) [c]: a stub hangs the kernel: timeout in ch1.t0, ch1.t1, ch1.t2, ch1.t3, ch1.t4, ch1.t5 and 3 more"
    ]


def test_judge_solved_lists_failures_by_status():
    check = handout.ChapterCheck(2)
    tests = [{"name": f"ch1.t{i}", "score": 0, "max_score": 1, "status": "failed",
              "output": "did not run (0/1 points)"} for i in range(6)]
    tests.append({"name": "ch1.ok", "score": 1, "max_score": 1, "status": "passed", "output": "passed (1/1 points)"})
    grading = handout.Grading(1, "c", 2, ok=True, score=1, max_score=7, tests=tests)
    handout.Checker._judge_solved(None, check, 2, 1, 2, "c", grading)
    assert check.problems == [
        "ch1 (solved) on kernel 2, with ch2 unfinished, [c]: 1/7, not the full score:\n"
        "      did not run: 6 items (ch1.t0, ch1.t1, ch1.t2, ch1.t3 and 2 more)"
    ]


# ---------------------------------------------------------------------------
# Partial solutions and trees updated in place (what --progress builds on)
# ---------------------------------------------------------------------------


def test_a_solved_region_keeps_its_solution(tmp_path):
    root = make_tree(tmp_path / "ref")
    tree = handout.read_tree(root)
    split = next(r for r in tree.regions if "split" in r.what)
    out, result = handout_of(tmp_path, 1, root, git=False, solved=frozenset({split.where}))
    buddy = (out / "ch1/src/buddy.c").read_text()
    assert "order--;" in buddy and 'TODO("ch1", "buddy alloc' not in buddy
    assert 'TODO("ch1", "buddy free: merge")' in buddy
    assert [ex.what for ex in result.exercises if ex.ch == 1] == ["merge a freed block with its buddy"]


def test_an_update_rewrites_only_what_changed(tmp_path):
    root = make_tree(tmp_path / "ref")
    tree = handout.read_tree(root)
    out = tmp_path / "out"
    handout.write_handout(tree, 1, out, git=False)
    old = {rel: (out / rel).stat().st_mtime_ns for rel in ("ch1/src/buddy.c", "ch2/src/kmalloc.c", "Makefile")}
    for rel in old:
        os.utime(out / rel, ns=(1, 1))
    split = next(r for r in tree.regions if "split" in r.what)
    result = handout.write_handout(tree, 1, out, git=False, solved=frozenset({split.where}), update=True)
    assert "ch1/src/buddy.c" in result.changed and "README.md" in result.changed
    assert "ch2/src/kmalloc.c" not in result.changed and "Makefile" not in result.changed
    assert (out / "ch2/src/kmalloc.c").stat().st_mtime_ns == 1 and (out / "Makefile").stat().st_mtime_ns == 1
    assert (out / "ch1/src/buddy.c").stat().st_mtime_ns > 1
    with pytest.raises(handout.HandoutError, match="not empty"):
        handout.write_handout(tree, 1, out, git=False)


# ---------------------------------------------------------------------------
# --progress, with a stand-in make and grader (no QEMU)
# ---------------------------------------------------------------------------

# `make kernel CH=N`: the "kernel" is the text of chapters 1..N's sources.
PROGRESS_MAKEFILE = FAKE_MAKEFILE + """
kernel:
\t@mkdir -p build/ch$(CH)
\t@if [ -e fail-build ]; then echo 'ch1/src/buddy.c:3: error: oops'; exit 2; fi
\t@cat $(foreach c,$(shell seq 1 $(CH)),ch$(c)/src/*) > build/ch$(CH)/kernel.elf
"""

# Passes an item when the stubs it "needs" are gone from the kernel, unless one
# it is "broken_by" is gone too; "flaky" fails an item's first pass once.
PROGRESS_GRADER = '''\
import argparse, json, pathlib, re
p = argparse.ArgumentParser()
p.add_argument("ch", type=int)
p.add_argument("--only", action="append")
p.add_argument("--json")
p.add_argument("--no-build", action="store_true")
a = p.parse_args()
assert a.only == ["smp2"] and a.no_build, (a.only, a.no_build)
kernel = pathlib.Path(f"build/ch{a.ch}/kernel.elf").read_text()
left = set(re.findall(r'TODO\\("ch[0-9]+", "([^":]+)', kernel))
tests = []
for item in json.loads(pathlib.Path("rules.json").read_text()):
    ok = not set(item.get("needs", [])) & left and not set(item.get("broken_by", [])) - left
    ok = ok and not item.get("skipped")
    mark = pathlib.Path("flaked-" + item["name"])
    if ok and item.get("flaky") and not mark.exists():
        mark.write_text("once")
        ok = False
    status = "passed" if ok else ("skipped: needs 4 harts" if item.get("skipped") else "not implemented: x")
    tests.append({"name": item["name"], "score": item["points"] if ok else 0, "max_score": item["points"],
                  "status": "passed" if ok else "failed", "output": f"{status} (0/1 points)"})
json.dump({"tests": tests}, open(a.json, "w"))
'''

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

RULES = [
    {"name": "common.boot", "points": 0},
    {"name": "ch1.buddy.free_only", "points": 10, "needs": ["buddy free"]},
    {"name": "ch1.buddy.both", "points": 20, "needs": ["buddy free", "buddy alloc"]},
    {"name": "ch1.buddy.given", "points": 5},
    {"name": "ch1.smp", "points": 15, "needs": ["buddy free", "buddy alloc"]},
    {"name": "ch1.big.one", "points": 30, "needs": ["buddy alloc"]},
    {"name": "ch1.big.two", "points": 20, "needs": ["buddy alloc"]},
    {"name": "ch1.big.skipped", "points": 0, "skipped": True},
]

GUIDE = "# ch1\n\n## The exercises\n\n1. merge\n2. split\n\n<!-- progress: begin -->\nold\n<!-- progress: end -->\n\n## More\n"


def progress_tree(tmp_path: Path, rules=None, guide: str = GUIDE) -> Path:
    root = make_tree(tmp_path / "ref", {
        "Makefile": PROGRESS_MAKEFILE, "grader/grade.py": PROGRESS_GRADER, "grader/rubric.toml": PROGRESS_RUBRIC,
        "rules.json": json.dumps(RULES if rules is None else rules), "ch1/README.md": guide,
    })  # fmt: skip
    return root


needs_make = pytest.mark.skipif(subprocess.run(["make", "--version"], capture_output=True).returncode != 0,
                                reason="no make")  # fmt: skip


@needs_make
def test_progress_prints_what_each_exercise_turns_green(tmp_path):
    root = progress_tree(tmp_path)
    done = run_cli("--progress", "--ch", "1", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| no exercise | `ch1.buddy`: given | 5 | 5 |" in done.stdout
    assert "| 1. merge | `ch1.buddy`: free_only | 10 | 15 |" in done.stdout
    assert "| 2. split | `ch1.buddy`: both; `ch1.smp` (whole suite); `ch1.big`: one, two | 85 | 100 |" in done.stdout
    assert "Not green in smp2 even with every exercise done: `ch1.big.skipped` (skipped: needs 4 harts)" in done.stdout
    assert "The earlier layers' suites (0 points here) pass at every step." in done.stdout
    assert done.stdout.splitlines()[-1].startswith("progress: 1 passed, 0 failed")
    assert (root / "ch1/README.md").read_text() == GUIDE  # printing writes nothing


@needs_make
def test_progress_write_then_check(tmp_path):
    root = progress_tree(tmp_path)
    stale = run_cli("--progress", "--ch", "1", "--check", "--root", str(root), tmp=tmp_path)
    assert stale.returncode == 1
    assert "ch1/README.md: the progress section is stale (run scripts/handout.py --progress --ch 1 --write)" in stale.stdout
    assert "-old" in stale.stdout and "+| 1. merge | `ch1.buddy`: free_only | 10 | 15 |" in stale.stdout
    written = run_cli("--progress", "--ch", "1", "--write", "--root", str(root), tmp=tmp_path)
    assert written.returncode == 0, written.stdout
    assert "ch1/README.md: progress section written" in written.stdout
    guide = (root / "ch1/README.md").read_text()
    assert guide.startswith("# ch1\n\n## The exercises\n\n1. merge\n2. split\n\n<!-- progress: begin -->\n")
    assert guide.endswith("<!-- progress: end -->\n\n## More\n") and "old" not in guide
    checked = run_cli("--progress", "--ch", "1", "--check", "--root", str(root), tmp=tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert "ch1/README.md: progress section up to date" in checked.stdout


@needs_make
def test_progress_write_needs_the_markers(tmp_path):
    root = progress_tree(tmp_path, guide="# ch1\n")
    done = run_cli("--progress", "--ch", "1", "--write", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1
    assert "ch1/README.md has no <!-- progress: begin --> ... <!-- progress: end --> markers" in done.stdout
    check = run_cli("--progress", "--ch", "1", "--check", "--root", str(root), tmp=tmp_path)
    assert "ch1/README.md has no progress section" in check.stdout


@needs_make
def test_progress_finds_an_item_that_goes_red_again(tmp_path):
    rules = RULES + [{"name": "ch1.buddy.fragile", "points": 0, "broken_by": ["buddy alloc"]}]
    done = run_cli("--progress", "--ch", "1", "--root", str(progress_tree(tmp_path, rules)), tmp=tmp_path)
    assert done.returncode == 1
    assert "**red again (a bug):** `ch1.buddy`: fragile" in done.stdout
    assert "x ch1: 1 item(s) pass before exercise 2, split and not after it:\n      ch1.buddy.fragile: not implemented: x" in done.stdout


@needs_make
def test_progress_reports_a_test_that_fails_once(tmp_path):
    # Never graded twice: a result that changes from one grading to the next is a bug to show.
    root = progress_tree(tmp_path)
    (root / "flaked-ch1.buddy.given").write_text("")  # given passes at step 0 ...
    grader = (root / "grader/grade.py").read_text()
    (root / "grader/grade.py").write_text(grader.replace(
        'mark = pathlib.Path("flaked-" + item["name"])',
        'mark = pathlib.Path("flaked-" + item["name"])\n'
        '    if ok and item["name"] == "ch1.buddy.given" and "buddy free" not in left and not pathlib.Path("once").exists():\n'
        '        pathlib.Path("once").write_text(""); ok = False',
    ))  # ... and fails once right after merge
    done = run_cli("--progress", "--ch", "1", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1, done.stdout
    assert "ch1.buddy.given: not implemented: x" in done.stdout
    assert "warning" not in done.stdout


@needs_make
def test_progress_reports_a_build_failure(tmp_path):
    root = progress_tree(tmp_path)
    (root / "fail-build").write_text("")
    done = run_cli("--progress", "--ch", "1", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1
    assert "x ch1 with no exercise done: make kernel CH=1 failed (exit code 2):" in done.stdout
    assert "ch1/src/buddy.c:3: error: oops" in done.stdout


@needs_make
def test_progress_needs_an_exercise_per_stub(tmp_path):
    root = progress_tree(tmp_path)
    done = run_cli("--progress", "--ch", "3", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1
    assert "lists no [[ch3.exercise]]" in done.stdout
    (root / "grader/rubric.toml").write_text(PROGRESS_RUBRIC + '[[ch3.exercise]]\ntodo = "satp"\ntitle = "t"\nhint = "h"\n')
    done = run_cli("--progress", "--ch", "3", "--root", str(root), tmp=tmp_path)
    assert "ch3/src/paging.S:5: the stub calls no TODO(): it must name one exercise" in done.stdout
    assert 'exercise "satp" of grader/rubric.toml has no ch3 region' in done.stdout


def test_progress_command_line_mistakes(tmp_path):
    root = make_tree(tmp_path / "ref")
    assert run_cli("--progress", "--write", "--check", "--root", str(root), tmp=tmp_path).returncode == 2
    assert run_cli("--progress", "--lint", "--root", str(root), tmp=tmp_path).returncode == 2
    assert run_cli("--write", "--root", str(root)).returncode == 2
    (root / ".handout").write_text("chapter = 1\n")
    done = run_cli("--progress", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1 and "--progress runs in the reference tree" in done.stderr
    done = run_cli("--progress", "--check", "--root", str(root), tmp=tmp_path)  # make handout-check in a student tree
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "progress: 0 passed, 0 failed"


def step(solved: int, passed: dict[str, float], failed: dict[str, float], status: str = "failed") -> "handout.StepResult":
    items = list(passed) + list(failed)
    statuses = {**{i: "passed" for i in passed}, **{i: status for i in failed}}
    return handout.StepResult(solved, items, statuses, {**passed, **failed})


def test_progress_section_groups_items_by_suite():
    exercises = [handout.RubricExercise("a", "first"), handout.RubricExercise("b", "second")]
    progress = handout.ChapterProgress(4, "cfg", exercises, [
        step(0, {"common.x": 0}, {"ch4.s.one": 1, "ch4.s.two": 2, "ch4.t.x": 3, "ch4.w": 4}),
        step(1, {"common.x": 0, "ch4.s.one": 1, "ch4.s.two": 2}, {"ch4.t.x": 3, "ch4.w": 4}),
        step(2, {"common.x": 0, "ch4.s.one": 1, "ch4.s.two": 2, "ch4.w": 4}, {"ch4.t.x": 3}, "skipped: why"),
    ])  # fmt: skip
    progress.analyse()
    assert progress.problems == []
    section = handout.progress_section(progress)
    assert "| no exercise | nothing | 0 | 0 |" in section
    assert "| 1. first | `ch4.s` (all 2) | 3 | 3 |" in section
    assert "| 2. second | `ch4.w` (whole suite) | 4 | 7 |" in section
    assert "`ch4.t.x` (skipped: why)" in section
    assert section.startswith(handout.PROGRESS_BEGIN) and section.endswith(handout.PROGRESS_END + "\n")


def test_progress_problems_in_the_data():
    exercises = [handout.RubricExercise("a", "first")]
    progress = handout.ChapterProgress(4, "cfg", exercises, [
        step(0, {"ch4.s.one": 1}, {"common.x": 0, "ch4.s.two": 2}),
        step(1, {}, {"common.x": 0, "ch4.s.one": 1, "ch4.s.two": 2}),
    ])  # fmt: skip
    progress.analyse()
    assert progress.problems == [
        "ch4: 1 item(s) pass before exercise 1, first and not after it:\n      ch4.s.one: failed",
        "ch4: earlier layers fail with no ch4 exercise done: common.x",
        "ch4: ch4.s.one is not green with every exercise done: failed",
        "ch4: ch4.s.two is not green with every exercise done: failed",
    ]
    assert "**Earlier layers red at some step (a bug):** `common.x` (whole suite)." in handout.progress_section(progress)


def test_replace_and_read_the_progress_section():
    text = "a\n<!-- progress: begin -->\nold\n<!-- progress: end -->\nb\n"
    section = "<!-- progress: begin -->\nnew\n<!-- progress: end -->\n"
    assert handout.replace_progress(text, section, "g") == "a\n" + section + "b\n"
    assert handout.current_progress(text) == "<!-- progress: begin -->\nold\n<!-- progress: end -->\n"
    assert handout.current_progress("a\n") is None
    with pytest.raises(handout.HandoutError, match="g has no"):
        handout.replace_progress("a\n", section, "g")
