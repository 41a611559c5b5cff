"""Tests of --progress (scripts/handout/progress.py), with a stand-in make and grader (no QEMU)."""

import json
import re
from pathlib import Path

import pytest

from handout_fixtures import FAKE_MAKEFILE, PROGRESS_RUBRIC, make_tree, needs_make, run_main
from handout import check as check_module
from handout.errors import HandoutError
from handout.grader import ChapterResult, Item, ItemResult, Status
from handout.progress import ChapterProgress, PROGRESS_BEGIN, PROGRESS_END, StepResult, current_progress, progress_section, replace_progress
from handout.rubric import RubricExercise


# `make kernel CH=N`: the "kernel" is the text of chapters 1..N's sources.
PROGRESS_MAKEFILE = FAKE_MAKEFILE + """
kernel:
\t@mkdir -p build/ch$(CH)
\t@if [ -e fail-build ]; then echo 'ch1/src/buddy.c:3: error: oops'; exit 2; fi
\t@cat $(foreach c,$(shell seq 1 $(CH)),ch$(c)/src/*) > build/ch$(CH)/kernel.elf
"""


def stand_in_grader(fail_once_after: str | None = None):
    """The grader's grade_chapter, played from rules.json and the "kernel" (its chapters' sources).

    Passes an item when the stubs it "needs" are gone from the kernel, unless
    one it is "broken_by" is gone too; "flaky" fails an item's first pass once.
    With @p fail_once_after (a stub's name), ch1.buddy.given fails once, at
    the first step where that stub is gone.
    """

    def grade_chapter(chapter, settings, rubric):
        assert settings.only == ("smp2",) and not settings.build, (settings.only, settings.build)
        root = settings.root
        kernel = (root / f"build/ch{chapter.number}/kernel.elf").read_text()
        left = set(re.findall(r'TODO\("ch[0-9]+", "([^":]+)', kernel))
        results = []
        for item in json.loads((root / "rules.json").read_text()):
            ok = not set(item.get("needs", [])) & left and not set(item.get("broken_by", [])) - left
            ok = ok and not item.get("skipped")
            mark = root / ("flaked-" + item["name"])
            once = root / "once"
            if ok and item["name"] == "ch1.buddy.given" and fail_once_after not in left | {None} and not once.exists():
                once.write_text("")
                ok = False
            if ok and item.get("flaky") and not mark.exists():
                mark.write_text("once")
                ok = False
            status, reason = (Status.PASSED, None) if ok else (
                (Status.SKIPPED, "needs 4 harts") if item.get("skipped") else (Status.NOT_IMPLEMENTED, "x"))
            suite, test = item["name"].rsplit(".", 1) if item["name"].count(".") > 1 else (item["name"], None)
            rubric_item = Item(suite, test, item["points"], "", False)
            results.append(ItemResult(rubric_item, status, item["points"] if ok else 0, reason=reason))
        return ChapterResult(chapter, results)

    return grade_chapter


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


def progress_tree(tmp_path: Path, monkeypatch, rules=None, guide: str = GUIDE, fail_once_after=None) -> Path:
    """A tree whose exercises --progress solves one by one, graded by stand_in_grader()."""
    monkeypatch.setattr(check_module, "grade_chapter", stand_in_grader(fail_once_after))
    root = make_tree(tmp_path / "ref", {
        "Makefile": PROGRESS_MAKEFILE, "grader/rubric.toml": PROGRESS_RUBRIC,
        "rules.json": json.dumps(RULES if rules is None else rules), "ch1/README.md": guide,
    })  # fmt: skip
    return root


@needs_make
def test_progress_prints_what_each_exercise_turns_green(tmp_path, monkeypatch):
    root = progress_tree(tmp_path, monkeypatch)
    done = run_main("--progress", "--ch", "1", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| no exercise | `ch1.buddy`: given | 5 | 5 |" in done.stdout
    assert "| 1. merge | `ch1.buddy`: free_only | 10 | 15 |" in done.stdout
    assert "| 2. split | `ch1.buddy`: both; `ch1.smp` (whole suite); `ch1.big`: one, two | 85 | 100 |" in done.stdout
    assert "Not green in smp2 even with every exercise done: `ch1.big.skipped` (skipped: needs 4 harts)" in done.stdout
    assert "The earlier layers' suites (0 points here) pass at every step." in done.stdout
    assert done.stdout.splitlines()[-1].startswith("progress: 1 passed, 0 failed")
    assert (root / "ch1/README.md").read_text() == GUIDE  # printing writes nothing


@needs_make
def test_progress_write_then_check(tmp_path, monkeypatch):
    root = progress_tree(tmp_path, monkeypatch)
    stale = run_main("--progress", "--ch", "1", "--check", "--root", str(root), tmp=tmp_path)
    assert stale.returncode == 1
    assert "ch1/README.md: the progress section is stale (run scripts/handout.py --progress --ch 1 --write)" in stale.stdout
    assert "-old" in stale.stdout and "+| 1. merge | `ch1.buddy`: free_only | 10 | 15 |" in stale.stdout
    written = run_main("--progress", "--ch", "1", "--write", "--root", str(root), tmp=tmp_path)
    assert written.returncode == 0, written.stdout
    assert "ch1/README.md: progress section written" in written.stdout
    guide = (root / "ch1/README.md").read_text()
    assert guide.startswith("# ch1\n\n## The exercises\n\n1. merge\n2. split\n\n<!-- progress: begin -->\n")
    assert guide.endswith("<!-- progress: end -->\n\n## More\n") and "old" not in guide
    checked = run_main("--progress", "--ch", "1", "--check", "--root", str(root), tmp=tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert "ch1/README.md: progress section up to date" in checked.stdout


@needs_make
def test_progress_write_needs_the_markers(tmp_path, monkeypatch):
    root = progress_tree(tmp_path, monkeypatch, guide="# ch1\n")
    done = run_main("--progress", "--ch", "1", "--write", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1
    assert "ch1/README.md has no <!-- progress: begin --> ... <!-- progress: end --> markers" in done.stdout
    check = run_main("--progress", "--ch", "1", "--check", "--root", str(root), tmp=tmp_path)
    assert "ch1/README.md has no progress section" in check.stdout


@needs_make
def test_progress_finds_an_item_that_goes_red_again(tmp_path, monkeypatch):
    rules = RULES + [{"name": "ch1.buddy.fragile", "points": 0, "broken_by": ["buddy alloc"]}]
    done = run_main("--progress", "--ch", "1", "--root", str(progress_tree(tmp_path, monkeypatch, rules)), tmp=tmp_path)
    assert done.returncode == 1
    assert "**red again (a bug):** `ch1.buddy`: fragile" in done.stdout
    assert "x ch1: 1 item(s) pass before exercise 2, split and not after it:\n      ch1.buddy.fragile: not implemented: x" in done.stdout


@needs_make
def test_progress_reports_a_test_that_fails_once(tmp_path, monkeypatch):
    # Never graded twice: a result that changes from one grading to the next is a bug to show.
    root = progress_tree(tmp_path, monkeypatch, fail_once_after="buddy free")  # given passes at step 0 ...
    (root / "flaked-ch1.buddy.given").write_text("")  # ... and fails once right after merge
    done = run_main("--progress", "--ch", "1", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1, done.stdout
    assert "ch1.buddy.given: not implemented: x" in done.stdout
    assert "warning" not in done.stdout


@needs_make
def test_progress_reports_a_build_failure(tmp_path, monkeypatch):
    root = progress_tree(tmp_path, monkeypatch)
    (root / "fail-build").write_text("")
    done = run_main("--progress", "--ch", "1", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1
    assert "x ch1 with no exercise done: make kernel CH=1 failed (exit code 2):" in done.stdout
    assert "ch1/src/buddy.c:3: error: oops" in done.stdout


@needs_make
def test_progress_needs_an_exercise_per_stub(tmp_path, monkeypatch):
    root = progress_tree(tmp_path, monkeypatch)
    done = run_main("--progress", "--ch", "3", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1
    assert "lists no [[ch3.exercise]]" in done.stdout
    (root / "grader/rubric.toml").write_text(PROGRESS_RUBRIC + '[[ch3.exercise]]\ntodo = "satp"\ntitle = "t"\nhint = "h"\n')
    done = run_main("--progress", "--ch", "3", "--root", str(root), tmp=tmp_path)
    assert "ch3/src/paging.S:5: the stub calls no TODO(): it must name one exercise" in done.stdout
    assert 'exercise "satp" of grader/rubric.toml has no ch3 region' in done.stdout


def test_progress_command_line_mistakes(tmp_path):
    root = make_tree(tmp_path / "ref")
    assert run_main("--progress", "--write", "--check", "--root", str(root), tmp=tmp_path).returncode == 2
    assert run_main("--progress", "--lint", "--root", str(root), tmp=tmp_path).returncode == 2
    assert run_main("--write", "--root", str(root)).returncode == 2
    (root / ".handout").write_text("chapter = 1\n")
    done = run_main("--progress", "--root", str(root), tmp=tmp_path)
    assert done.returncode == 1 and "--progress runs in the reference tree" in done.stderr
    done = run_main("--progress", "--check", "--root", str(root), tmp=tmp_path)  # make handout-check in a student tree
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "progress: 0 passed, 0 failed"


def step(solved: int, passed: dict[str, float], failed: dict[str, float], status: Status = Status.FAILED,
         reason: str | None = None) -> StepResult:
    items = list(passed) + list(failed)
    statuses = {**{i: Status.PASSED for i in passed}, **{i: status for i in failed}}
    return StepResult(solved, items, statuses, {**passed, **failed}, {i: reason for i in failed})


def test_progress_section_groups_items_by_suite():
    exercises = [RubricExercise("a", "first"), RubricExercise("b", "second")]
    progress = ChapterProgress(4, "cfg", exercises, [
        step(0, {"common.x": 0}, {"ch4.s.one": 1, "ch4.s.two": 2, "ch4.t.x": 3, "ch4.w": 4}),
        step(1, {"common.x": 0, "ch4.s.one": 1, "ch4.s.two": 2}, {"ch4.t.x": 3, "ch4.w": 4}),
        step(2, {"common.x": 0, "ch4.s.one": 1, "ch4.s.two": 2, "ch4.w": 4}, {"ch4.t.x": 3}, Status.SKIPPED, "why"),
    ])  # fmt: skip
    progress.analyse()
    assert progress.problems == []
    section = progress_section(progress)
    assert "| no exercise | nothing | 0 | 0 |" in section
    assert "| 1. first | `ch4.s` (all 2) | 3 | 3 |" in section
    assert "| 2. second | `ch4.w` (whole suite) | 4 | 7 |" in section
    assert "`ch4.t.x` (skipped: why)" in section
    assert section.startswith(PROGRESS_BEGIN) and section.endswith(PROGRESS_END + "\n")


def test_progress_problems_in_the_data():
    exercises = [RubricExercise("a", "first")]
    progress = ChapterProgress(4, "cfg", exercises, [
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
    assert "**Earlier layers red at some step (a bug):** `common.x` (whole suite)." in progress_section(progress)


def test_replace_and_read_the_progress_section():
    text = "a\n<!-- progress: begin -->\nold\n<!-- progress: end -->\nb\n"
    section = "<!-- progress: begin -->\nnew\n<!-- progress: end -->\n"
    assert replace_progress(text, section, "g") == "a\n" + section + "b\n"
    assert current_progress(text) == "<!-- progress: begin -->\nold\n<!-- progress: end -->\n"
    assert current_progress("a\n") is None
    with pytest.raises(HandoutError, match="g has no"):
        replace_progress("a\n", section, "g")
