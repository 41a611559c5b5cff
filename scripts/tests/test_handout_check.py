"""Tests of --check (scripts/handout/check.py), with a stand-in make and grader (no QEMU)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from handout_fixtures import FAKE_MAKEFILE, FAKE_RUBRIC, make_tree, run_main
from handout import check as check_module
from handout.check import ChapterCheck, Checker, Grading
from handout.grader import ChapterResult, Item, ItemResult, Status


def result(name: str, earned: float, points: float, status: Status, reason: str | None = None) -> ItemResult:
    """A grader's result for rubric item @p name (``suite.test``)."""
    suite, test = name.rsplit(".", 1)
    return ItemResult(Item(suite, test, points, "", False), status, earned, reason=reason)


def stand_in_grader(mode: str):
    """The grader's grade_chapter, played from the "kernel" (its chapters' sources, see FAKE_MAKEFILE).

    Ten items of 5 points each: "not implemented" while the chapter's own stubs
    are in the kernel, else passed; @p mode adds one way a chapter goes wrong.
    """

    def grade_chapter(chapter, settings, rubric):
        assert settings.only == ("smp2",), settings.only
        ch = chapter.number
        kernel = (settings.root / f"build/ch{ch}/kernel.elf").read_text()
        stubbed = re.findall(r"TODO\(ch%d\): (.*) \*/" % ch, kernel)
        unfinished_later = re.search(r"TODO\(ch[0-9]+\)", kernel)
        outcomes = [(Status.NOT_IMPLEMENTED, stubbed[0]) if stubbed else (Status.PASSED, None)] * 10
        if stubbed and mode == "generous":
            outcomes[0] = outcomes[1] = (Status.PASSED, None)
        if stubbed and mode == "hang":
            outcomes[3] = (Status.TIMEOUT, None)
        if not stubbed and mode == "broken" and ch == 1:
            outcomes[2] = (Status.FAILED, None)
        if not stubbed and mode == "fragile" and unfinished_later:
            outcomes[4] = (Status.DID_NOT_RUN, None)
        if not stubbed and mode == "skips":
            outcomes[5] = (Status.SKIPPED, "needs 4 harts")
        items = [result(f"ch{ch}.t{i}", 5 if status is Status.PASSED else 0, 5, status, reason)
                 for i, (status, reason) in enumerate(outcomes)]  # fmt: skip
        return ChapterResult(chapter, items)

    return grade_chapter


def check_tree(tmp_path: Path, monkeypatch, mode: str = "good") -> Path:
    """A tree to check, graded by stand_in_grader(@p mode)."""
    monkeypatch.setattr(check_module, "grade_chapter", stand_in_grader(mode))
    return make_tree(
        tmp_path / "ref",
        {"grader/rubric.toml": FAKE_RUBRIC, "ch2/README.md": "# ch2\n", "ch3/README.md": "# ch3\n"},
    )


@pytest.mark.skipif(subprocess.run(["make", "--version"], capture_output=True).returncode != 0, reason="no make")
def test_check_passes_on_a_good_tree(tmp_path, monkeypatch):
    done = run_main("--check", "--root", str(check_tree(tmp_path, monkeypatch)))
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
def test_check_reports_what_a_chapter_gets_wrong(tmp_path, monkeypatch, mode, chapter, messages):
    done = run_main("--check", "--ch", str(chapter), "--root", str(check_tree(tmp_path, monkeypatch, mode)))
    assert done.returncode == 1, done.stdout
    assert f"chapter {chapter}: FAILED" in done.stdout
    for message in messages:
        assert message in done.stdout
    assert done.stdout.splitlines()[-1].startswith("handout-check: 0 passed, 1 failed")


def test_check_tolerates_skips_in_the_one_configuration(tmp_path, monkeypatch):
    done = run_main("--check", "--ch", "2", "--root", str(check_tree(tmp_path, monkeypatch, "skips")))
    assert done.returncode == 0, done.stdout
    assert "ch1 (solved) [smp2]: 45/50 (skipped in this configuration: ch1.t5)" in done.stdout


def test_check_config_option(tmp_path, monkeypatch):
    done = run_main("--check", "--ch", "1", "--config", "ch1=nope", "--root", str(check_tree(tmp_path, monkeypatch)))
    assert done.returncode == 1
    assert "--config ch1=nope: no such configuration (ch1 has smp1, smp2)" in done.stdout


def test_check_fails_on_bad_markers(tmp_path, monkeypatch):
    root = check_tree(tmp_path, monkeypatch)
    (root / "ch1/src/bad.c").write_text("/* LAB BEGIN ch1 x */\n")
    done = run_main("--check", "--root", str(root))
    assert done.returncode == 1
    assert "ch1/src/bad.c:1" in done.stderr
    assert done.stdout.splitlines()[-1] == "handout-check: 0 passed, 1 failed"


def test_judge_stubbed_lists_earning_tests():
    check = ChapterCheck(1)
    grading = Grading(1, "c", 1, ok=True, score=1, max_score=40, items=[
        result("ch1.a", 1, 1, Status.PASSED),
        result("ch1.b", 0, 39, Status.NOT_IMPLEMENTED, "b"),
    ])  # fmt: skip
    Checker._judge_stubbed(None, check, 1, "c", grading)
    assert check.passed, check.problems
    assert check.notes[0] == 'ch1 (stubbed) [c]: 1/40 points without the student\'s code; 1 of its 2 scored items "not implemented"'
    assert "ch1 (stubbed) [c] earns without the student's code: ch1.a (1)" in check.notes


def judge_stubbed(*tests: tuple[str, float, float, Status] | tuple[str, float, float, Status, str]) -> ChapterCheck:
    check = ChapterCheck(1)
    grading = Grading(1, "c", 1, ok=True, score=sum(t[1] for t in tests), max_score=sum(t[2] for t in tests),
                      items=[result(*test) for test in tests])
    Checker._judge_stubbed(None, check, 1, "c", grading)
    return check


def test_judge_stubbed_wants_not_implemented():
    check = judge_stubbed(("ch1.a", 0, 5, Status.FAILED), ("common.x", 0, 0, Status.PASSED))
    assert check.problems == ['ch1 (stubbed) [c]: no item is reported "not implemented" (do the stubs call TODO()?)']
    assert check.notes[0].endswith('0 of its 1 scored items "not implemented"')
    assert any('fails without saying "not implemented":\n      ch1.a: failed' in n for n in check.notes)


def test_judge_stubbed_panic_and_skips():
    check = judge_stubbed(("ch1.a", 0, 5, Status.PANIC), ("ch1.b", 0, 5, Status.NOT_IMPLEMENTED, "b"),
                          ("ch1.c", 0, 5, Status.SKIPPED, "needs 4 harts"))
    assert check.problems == ["ch1 (stubbed) [c]: a stub crashes the kernel (panic) in ch1.a"]
    assert "ch1 (stubbed) [c]: skipped in this configuration: ch1.c" in check.notes
    assert not any("fails without" in n for n in check.notes)


def test_judge_stubbed_many_timeouts_are_summarised():
    check = judge_stubbed(*[(f"ch1.t{i}", 0, 1, Status.TIMEOUT) for i in range(9)])
    assert check.problems == [
        "ch1 (stubbed) [c]: a stub hangs the kernel: timeout in ch1.t0, ch1.t1, ch1.t2, ch1.t3, ch1.t4, ch1.t5 and 3 more"
    ]


def test_judge_solved_lists_failures_by_status():
    check = ChapterCheck(2)
    items = [result(f"ch1.t{i}", 0, 1, Status.DID_NOT_RUN) for i in range(6)]
    items.append(result("ch1.ok", 1, 1, Status.PASSED))
    grading = Grading(1, "c", 2, ok=True, score=1, max_score=7, items=items)
    Checker._judge_solved(None, check, 2, 1, 2, "c", grading)
    assert check.problems == [
        "ch1 (solved) on kernel 2, with ch2 unfinished, [c]: 1/7, not the full score:\n"
        "      did not run: 6 items (ch1.t0, ch1.t1, ch1.t2, ch1.t3 and 2 more)"
    ]


# ---------------------------------------------------------------------------
# The real grader (mmgrade, in-process) on a stand-in QEMU
# ---------------------------------------------------------------------------

# Boots the "kernel" (its chapters' sources, as the grader's `make kernel` left them): a test whose stub
# is still in it prints the stub's TODO line.
STAND_IN_QEMU = """\
#!{python}
import os, re, sys
args = sys.argv[1:]
kernel = open(args[args.index("-kernel") + 1]).read()
if "built by make kernel" not in kernel:  # the grader's own build did not run
    sys.exit(1)
stubs = re.findall(r'TODO\\("ch1", "([^"]+)"', kernel)
lines = ["KTAP version 1", "1..1", "    KTAP version 1", "    # Subtest: ch1.alpha", "    1..2"]
for number, (test, stub) in enumerate((("one", "buddy alloc"), ("two", "buddy free")), start=1):
    what = next((s for s in stubs if s.startswith(stub)), None)
    if what is None or (test == "two" and os.environ.get("STAND_IN_QEMU") == "generous"):
        lines.append(f"    ok {{number}} {{test}}")
    else:
        lines += [f"    # TODO(ch1): {{what}}", f"    not ok {{number}} {{test}}"]
lines.append("not ok 1 ch1.alpha")
print("".join(line + "\\r\\n" for line in lines), end="")
"""

REAL_RUBRIC = """\
[ch1]
title = "c1"
configs = [{ name = "smp1", memory = "128M", smp = 1 }, { name = "smp2", memory = "128M", smp = 2 }]

[[ch1.suite]]
name = "ch1.alpha"
tests = [{ name = "one", points = 60 }, { name = "two", points = 40 }]
"""

KERNEL_MAKEFILE = """\
kernel:
\t@mkdir -p build/ch$(CH)
\t@cat ch1/src/* > build/ch$(CH)/kernel.elf
\t@echo "built by make kernel" >> build/ch$(CH)/kernel.elf
kernels:
\t@for c in 1 2 3; do $(MAKE) --no-print-directory kernel CH=$$c || exit 1; done
"""


def graded_by_mmgrade(tmp_path: Path, monkeypatch, qemu_mode: str = "") -> Path:
    """A tree whose ch1 the real grader grades, booting STAND_IN_QEMU."""
    qemu = tmp_path / "qemu"
    qemu.write_text(STAND_IN_QEMU.format(python=sys.executable))
    qemu.chmod(0o755)
    monkeypatch.setenv("MMLAB_QEMU", str(qemu))
    monkeypatch.setenv("STAND_IN_QEMU", qemu_mode)
    monkeypatch.setenv("MAKEFLAGS", "-n")  # a parent make's (make -n): must not reach the builds
    return make_tree(tmp_path / "ref", {"grader/rubric.toml": REAL_RUBRIC, "Makefile": KERNEL_MAKEFILE})


@pytest.mark.skipif(subprocess.run(["make", "--version"], capture_output=True).returncode != 0, reason="no make")
def test_check_grades_with_the_grader_itself(tmp_path, monkeypatch):
    done = run_main("--check", "--ch", "1", "--root", str(graded_by_mmgrade(tmp_path, monkeypatch)), tmp=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ('ch1 (stubbed) [smp2]: 0/100 points without the student\'s code; 2 of its 2 scored items '
            '"not implemented"') in done.stdout
    assert done.stdout.splitlines()[-1].startswith("handout-check: 1 passed, 0 failed")


@pytest.mark.skipif(subprocess.run(["make", "--version"], capture_output=True).returncode != 0, reason="no make")
def test_check_reads_the_grader_s_points(tmp_path, monkeypatch):
    root = graded_by_mmgrade(tmp_path, monkeypatch, "generous")
    done = run_main("--check", "--ch", "1", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1, done.stdout
    assert ("x ch1 (stubbed) [smp2]: the stubs earn 40 of 100 points (more than 10%): ch1.alpha.two (40)"
            in done.stdout)
    assert 'ch1 (stubbed) [smp2]: 40/100 points without the student\'s code; 1 of its 2 scored items' in done.stdout

