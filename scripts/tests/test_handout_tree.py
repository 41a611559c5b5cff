"""Tests of writing a handout (scripts/handout/tree.py, render.py): stubs, solutions, README, git, updates in place."""

import os
import textwrap

import pytest

from handout_fixtures import BUDDY_C, KMALLOC_C, PROGRESS_RUBRIC, git, handout_of, make_tree, needs_git
from handout.errors import HandoutError
from handout.markers import TOKEN_RE
from handout.render import README_BEGIN, README_END
from handout.tree import leftover_markers, list_files, read_stamp, read_tree, student_files, write_handout


def test_the_mutant_catalogue_is_not_shipped(tmp_path):
    root = make_tree(tmp_path / "ref", {"grader/mutants.toml": 'find = "return got;"\n'})
    out, result = handout_of(tmp_path, 2, tree_root=root, git=False)
    assert not (out / "grader" / "mutants.toml").exists()
    assert "grader/mutants.toml" not in result.files


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


def test_the_stamp_lists_the_files_holding_the_chapters_own_exercises(tmp_path):
    extra = {"ch2/src/slab.c": KMALLOC_C.replace("kmalloc", "slab_get"), "ch2/src/given.c": "int given;\n"}
    root = make_tree(tmp_path / "ref", extra)
    out, _ = handout_of(tmp_path, 2, tree_root=root, git=False)
    stamp = read_stamp(out)
    assert stamp.chapter == 2 and stamp.student_files == ("ch2/src/kmalloc.c", "ch2/src/slab.c")
    assert list(stamp.student_files) == student_files(read_tree(root), 2)
    assert "student_file = ch2/src/kmalloc.c\n" in (out / ".handout").read_text()
    assert read_stamp(handout_of(tmp_path, 1, tree_root=root, git=False)[0]).student_files == ("ch1/src/buddy.c",)
    assert read_stamp(root) is None


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
        assert leftover_markers(out, result.files) == []
        for rel in result.files:
            if rel.endswith((".c", ".h", ".S")):
                assert not TOKEN_RE.search((out / rel).read_text()), rel
        assert (out / "docs/notes.txt").read_text() == (root / "docs/notes.txt").read_text()
        assert (out / "common/lib/main.c").read_text() == (root / "common/lib/main.c").read_text()
        assert (out / "Makefile").read_text() == (root / "Makefile").read_text()


def test_a_copy_of_a_solution_is_refused(tmp_path):
    # An editor's backup is not scanned (not .c): copied as it is, it would hand out the solution.
    root = make_tree(tmp_path / "ref", {"ch1/src/buddy.c~": BUDDY_C, "notes/kmalloc-idea.txt": KMALLOC_C})
    with pytest.raises(HandoutError, match=r"give away solutions: ch1/src/buddy.c~ \(the solution of "
                       r"ch1/src/buddy.c:6\)\. Remove"):
        write_handout(read_tree(root), 1, tmp_path / "out1", git=False)
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


def test_refuses_a_non_empty_out(tmp_path):
    root = make_tree(tmp_path / "ref")
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    tree = read_tree(root)
    with pytest.raises(HandoutError, match="exists and is not empty.*--force"):
        write_handout(tree, 1, out, git=False)
    assert (out / "precious.txt").read_text() == "keep me"
    write_handout(tree, 1, out, force=True, git=False)
    assert not (out / "precious.txt").exists()
    assert (out / "ch1/src/buddy.c").is_file()


def test_an_empty_out_is_fine(tmp_path):
    root = make_tree(tmp_path / "ref")
    (tmp_path / "out").mkdir()
    write_handout(read_tree(root), 1, tmp_path / "out", git=False)
    assert (tmp_path / "out/Makefile").is_file()


@pytest.mark.parametrize("where", [".", "..", "ch1/handout"])
def test_refuses_an_out_in_or_around_the_tree(tmp_path, where):
    root = make_tree(tmp_path / "ref")
    with pytest.raises(HandoutError):
        write_handout(read_tree(root), 1, root / where, force=True, git=False)
    assert (root / "ch1/src/buddy.c").read_text() == BUDDY_C


def test_unknown_chapter(tmp_path):
    root = make_tree(tmp_path / "ref")
    with pytest.raises(HandoutError, match="no chapter 4"):
        write_handout(read_tree(root), 4, tmp_path / "out", git=False)


def test_readme_section_appended(tmp_path):
    out, _ = handout_of(tmp_path, 1, git=False)
    readme = (out / "README.md").read_text()
    assert readme.startswith("# mmlab\n\nThe lab.\n\n" + README_BEGIN)
    assert "You are working on chapter 1: start with [ch1/README.md](ch1/README.md)." in readme
    assert "- `ch1/src/buddy.c:6`: split a free block down to the order asked for" in readme
    assert "- `ch1/src/buddy.c:12`: merge a freed block with its buddy" in readme
    assert "`make grade CH=1` grades your work" in readme
    assert "TODO(ch2)" in readme and "TODO(ch3)" in readme  # later chapters named, not listed
    assert "kmalloc.c" not in readme
    assert readme.endswith(README_END + "\n")


def test_readme_section_replaced(tmp_path):
    marked = f"# mmlab\n\nintro\n\n{README_BEGIN}\nold text\n{README_END}\n\n## After\n"
    root = make_tree(tmp_path / "ref", {"README.md": marked})
    out, _ = handout_of(tmp_path, 2, tree_root=root, git=False)
    readme = (out / "README.md").read_text()
    assert "old text" not in readme
    assert readme.startswith("# mmlab\n\nintro\n\n" + README_BEGIN)
    assert readme.endswith(README_END + "\n\n## After\n")
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
    files = list_files(root)
    assert not any(f.startswith(("build/", ".git/")) for f in files)
    assert "ch1/src/buddy.c" in files


def test_a_solved_region_keeps_its_solution(tmp_path):
    root = make_tree(tmp_path / "ref")
    tree = read_tree(root)
    split = next(r for r in tree.regions if "split" in r.what)
    out, result = handout_of(tmp_path, 1, root, git=False, solved=frozenset({split.where}))
    buddy = (out / "ch1/src/buddy.c").read_text()
    assert "order--;" in buddy and 'TODO("ch1", "buddy alloc' not in buddy
    assert 'TODO("ch1", "buddy free: merge")' in buddy
    assert [ex.what for ex in result.exercises if ex.ch == 1] == ["merge a freed block with its buddy"]


def test_an_update_rewrites_only_what_changed(tmp_path):
    root = make_tree(tmp_path / "ref")
    tree = read_tree(root)
    out = tmp_path / "out"
    write_handout(tree, 1, out, git=False)
    old = {rel: (out / rel).stat().st_mtime_ns for rel in ("ch1/src/buddy.c", "ch2/src/kmalloc.c", "Makefile")}
    for rel in old:
        os.utime(out / rel, ns=(1, 1))
    split = next(r for r in tree.regions if "split" in r.what)
    result = write_handout(tree, 1, out, git=False, solved=frozenset({split.where}), update=True)
    assert "ch1/src/buddy.c" in result.changed and "README.md" in result.changed
    assert "ch2/src/kmalloc.c" not in result.changed and "Makefile" not in result.changed
    assert (out / "ch2/src/kmalloc.c").stat().st_mtime_ns == 1 and (out / "Makefile").stat().st_mtime_ns == 1
    assert (out / "ch1/src/buddy.c").stat().st_mtime_ns > 1
    with pytest.raises(HandoutError, match="not empty"):
        write_handout(tree, 1, out, git=False)
