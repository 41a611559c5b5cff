"""Tests of the command line of scripts/handout.py (scripts/handout/cli.py)."""


from handout_fixtures import handout_of, make_tree, run_cli
from handout.cli import main


def test_the_handout_is_stamped_and_check_does_nothing_there(tmp_path, capsys):
    out, _ = handout_of(tmp_path, 2, git=False)
    assert "chapter = 2" in (out / ".handout").read_text()
    assert main(["--check", "--root", str(out)]) == 0
    assert "handout-check: 0 passed, 0 failed" in capsys.readouterr().out
    assert main(["--ch", "2", "--out", str(tmp_path / "again"), "--root", str(out)]) == 1
    assert "already a handout" in capsys.readouterr().err


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
