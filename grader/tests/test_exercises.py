"""Telling a stuck student where to go: the exercise behind a stub, and the test a boot stopped in."""

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import DATA, T, cut, ktap_log, passing_suites

from mmgrade import sources
from mmgrade.rubric import RubricError, load

EXERCISES = """
[[ch1.exercise]]
todo = "free_block"
title = "merge"
hint = "merge hint"

[[ch1.exercise]]
todo = "buddy_alloc"
title = "split"
hint = "split hint"
"""

# ch1/src/buddy.c as a student gets it: the LAB markers are gone, each region
# reads /* TODO(ch1): ... */ and then its stub.
STUDENT_BUDDY_C = """\
#include "buddy.h"

pfn_t buddy_alloc(struct buddy *b, unsigned order)
{
\t/* TODO(ch1): split: take the smallest free block >= order, split it down */
\t(void)b, (void)order;
\tTODO("ch1", "buddy_alloc: split a free block down to the order asked for");
\treturn BUDDY_NO_PFN;
}

static int free_block(struct buddy *b, uint64_t idx, unsigned order)
{
\t/* TODO(ch1): merge: free a block, merging it with its free buddy */
\tTODO("ch1", "free_block: free a block and merge it with its buddy");
\treturn -ENOSYS;
}
"""

# The same file in the reference tree: the stubs sit in LAB STUB comments.
REFERENCE_BUDDY_C = """\
pfn_t buddy_alloc(struct buddy *b, unsigned order)
{
\t/* LAB BEGIN ch1 split: take the smallest free block >= order */
\treturn split(b, order);
\t/* LAB STUB
\tTODO("ch1", "buddy_alloc: split a free block down to the order asked for");
\treturn BUDDY_NO_PFN;
\tLAB END */
}
"""

MATCHING_TESTS = """\
KTEST(ch1_alpha, one) { }
KTEST(ch1_alpha, two) { }
KTEST(ch1_beta, b1) { }
KTEST(ch1_smp, concurrent) { }
"""


@pytest.fixture
def rubric(tmp_path):
    """The test rubric with two ch1 exercises (merge taught first)."""
    path = tmp_path / "exercises.toml"
    path.write_text((DATA / "rubric.toml").read_text() + EXERCISES)
    return path


def stubbed(what: str) -> T:
    """ch1.alpha.two blocked by a stub that printed TODO(ch1): what."""
    return T("two", ok=False, diag=(f"TODO(ch1): {what}", "a.c:3: expected pa != 0 (0), got 0"))


def with_two(smp: int, test: T) -> bytes:
    suites = passing_suites(smp)
    suites["ch1.alpha"][1] = test
    return ktap_log(suites)


def lines_after(out: str, item: str, count: int) -> list[str]:
    """The @p count lines under the row of @p item, stripped."""
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == [item])
    return [line.strip() for line in lines[at + 1 : at + 1 + count]]


# --- the rubric ----------------------------------------------------------------


def test_exercises_load_in_order(rubric):
    ch1 = load(rubric)[1]
    assert [(e.todo, e.title, e.hint) for e in ch1.exercises] == [
        ("free_block", "merge", "merge hint"),
        ("buddy_alloc", "split", "split hint"),
    ]
    number, exercise = ch1.exercise("buddy_alloc")
    assert number == 2 and exercise.title == "split"
    assert ch1.exercise("nope") is None
    assert load(DATA / "rubric.toml")[1].exercises == ()


@pytest.mark.parametrize(
    "change, message",
    [
        (('title = "merge"', 'title = "merge"\nwhere = "x"'), "unknown key"),
        (('todo = "buddy_alloc"', 'todo = "free_block"'), "given twice"),
        (('todo = "free_block"', 'todo = "free_block: merge"'), "text before ':'"),
        (('hint = "merge hint"\n', ""), "missing 'hint'"),
    ],
)
def test_exercise_mistakes_are_reported(rubric, change, message):
    rubric.write_text(rubric.read_text().replace(*change, 1))
    with pytest.raises(RubricError, match=message):
        load(rubric)


def test_every_real_stub_has_an_exercise():
    real = load(DATA.parent.parent / "rubric.toml")
    for number in (1, 2, 3):
        assert real[number].exercises, f"ch{number} lists no exercise"


# --- the report -------------------------------------------------------------------


def test_stubbed_test_shows_the_exercise_not_its_own_hint(lab, rubric, tmp_path):
    (lab.root / "ch1/src").mkdir()
    (lab.root / "ch1/src/buddy.c").write_text(STUDENT_BUDDY_C)
    stub = stubbed("buddy_alloc: split a free block down to the order asked for")
    lab.qemu({"serial": with_two(1, stub)}, **{"256M/2": {"serial": with_two(2, stub), "exit": 1}})
    graded = lab.grade("--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "j.xml"), rubric=rubric)
    item = "ch1.alpha.two"
    assert lines_after(graded.out, item, 2) == [
        "to do: ch1 exercise 2, split (stub at ch1/src/buddy.c:7)",
        "hint: split hint",
    ]
    assert "two hint" not in graded.out
    two = next(t for t in json.loads((tmp_path / "r.json").read_text())["tests"] if t["name"] == item)
    assert two["output"].splitlines() == [
        "```text",
        "not implemented: buddy_alloc: split a free block down to the order asked for (0/30 points)",
        "configurations: every configuration",
        "to do: ch1 exercise 2, split (stub at ch1/src/buddy.c:7)",
        "hint: split hint",
        "```",
    ]
    case = next(c for c in ET.parse(tmp_path / "j.xml").getroot().iter("testcase") if c.get("name") == item)
    assert "hint: split hint" in case.find("failure").text and "two hint" not in case.find("failure").text


def test_a_real_failure_keeps_the_tests_hint(lab, rubric):
    diag = "a.c:9: expected 3, got 4"
    lab.qemu({"serial": with_two(1, T("two", ok=False, diag=(diag,))), "exit": 1})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert lines_after(graded.out, "ch1.alpha.two", 2) == [diag, "hint: two hint"]
    assert "to do:" not in graded.out


def test_the_stub_is_found_in_a_reference_tree_too(lab, rubric):
    (lab.root / "ch1/src/sub").mkdir(parents=True)
    (lab.root / "ch1/src/sub/buddy.c").write_text(REFERENCE_BUDDY_C)
    lab.qemu({"serial": with_two(1, stubbed("buddy_alloc: split"))})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert lines_after(graded.out, "ch1.alpha.two", 1) == [
        "to do: ch1 exercise 2, split (stub at ch1/src/sub/buddy.c:6)"
    ]


def test_an_exercise_hint_is_printed_once_per_chapter(lab, rubric):
    suites = passing_suites(1)
    suites["ch1.alpha"] = [T("one", ok=False, diag=("TODO(ch1): free_block: merge",)),
                           T("two", ok=False, diag=("TODO(ch1): free_block: merge",))]  # fmt: skip
    suites["ch1.beta"][0] = T("b1", ok=False, diag=("TODO(ch1): free_block: merge",))
    lab.qemu({"serial": ktap_log(suites), "exit": 1})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert graded.out.count("hint: merge hint") == 1
    assert graded.out.count("to do: ch1 exercise 1, merge") == 3  # the whole-suite item ch1.beta too
    assert "alpha hint" not in graded.out and "beta hint" not in graded.out
    assert lines_after(graded.out, "ch1.beta", 2) == ["test b1", "to do: ch1 exercise 1, merge"]


def test_a_stub_the_rubric_does_not_know_keeps_the_tests_hint(lab, rubric):
    lab.qemu({"serial": with_two(1, stubbed("frames_alloc_at: claim"))})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert lines_after(graded.out, "ch1.alpha.two", 1) == ["hint: two hint"]


def test_an_exercise_whose_stub_is_gone_has_no_location(lab, rubric):
    lab.qemu({"serial": with_two(1, stubbed("free_block: merge"))})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert lines_after(graded.out, "ch1.alpha.two", 2) == ["to do: ch1 exercise 1, merge", "hint: merge hint"]


def test_different_stubs_in_different_configurations(lab, rubric):
    lab.qemu(
        {"serial": with_two(1, stubbed("free_block: merge"))},
        **{"256M/2": {"serial": with_two(2, stubbed("buddy_alloc: split")), "exit": 1}},
    )
    graded = lab.grade(rubric=rubric)
    assert lines_after(graded.out, "ch1.alpha.two", 4) == [
        "to do: ch1 exercise 1, merge", "hint: merge hint", "to do: ch1 exercise 2, split", "hint: split hint",
    ]  # fmt: skip


# --- --check-rubric ------------------------------------------------------------------


def test_check_rubric_wants_an_exercise_per_stub_and_a_stub_per_exercise(lab, rubric):
    (lab.root / "ch1/tests/all_test.c").write_text(MATCHING_TESTS)
    (lab.root / "ch1/src").mkdir()
    (lab.root / "ch1/src/buddy.c").write_text(
        REFERENCE_BUDDY_C + '/* LAB STUB\nTODO("ch1", "buddy_claim: claim a range");\nLAB END */\n'
    )
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert graded.code == 1
    assert graded.out.splitlines() == [
        'check-rubric: ch1/src/buddy.c:11: TODO("ch1", "buddy_claim: claim a range") has no [[ch1.exercise]] '
        'entry with todo = "buddy_claim"',
        'check-rubric: ch1 exercise "free_block": no stub TODO("ch1", "free_block: ...") in ch1/src',
        "check-rubric: 2 problem(s)",
    ]


def test_check_rubric_ok_with_exercises(lab, rubric):
    (lab.root / "ch1/tests/all_test.c").write_text(MATCHING_TESTS)
    (lab.root / "ch1/src").mkdir()
    (lab.root / "ch1/src/buddy.c").write_text(STUDENT_BUDDY_C)
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert graded.out == "check-rubric: ch1 OK\n"


def test_check_rubric_in_a_later_chapters_handout(lab, rubric):
    (lab.root / "ch1/tests/all_test.c").write_text(MATCHING_TESTS)
    (lab.root / ".handout").write_text("mmlab handout for chapter 2\nchapter = 2\n")
    assert lab.grade("--check-rubric", rubric=rubric).code == 0  # ch1 comes solved: no stub left
    (lab.root / ".handout").write_text("chapter = 1\n")
    assert "no stub" in lab.grade("--check-rubric", rubric=rubric).out


# --- where a boot stopped ----------------------------------------------------------


def test_a_timeout_names_the_running_test(lab):
    (lab.root / "ch1/tests/alpha_test.c").write_text("KTEST(ch1_alpha, one) { }\n\nKTEST(ch1_alpha, two) { }\n")
    log = cut(ktap_log(passing_suites(1)), "    ok 2 two")
    lab.qemu({"serial": log, "hang": True}, **{"256M/2": {"serial": ktap_log(passing_suites(2))}})
    graded = lab.grade("--timeout-scale", "0.2")
    assert "no power-off within 1 s, while running ch1.alpha.two (test 2 of 2)" in graded.out


def test_an_early_power_off_names_the_running_test_of_an_earlier_layer(lab):
    (lab.root / "common/tests").mkdir(parents=True)
    (lab.root / "common/tests/alpha_test.c").write_text("KTEST(ch1_alpha, one) { }\nKTEST(ch1_alpha, two) { }\n")
    lab.qemu({"serial": cut(ktap_log(passing_suites(1)), "    ok 2 two"), "exit": 1})
    graded = lab.grade("--only", "small")
    assert "kernel powered off early (exit code 1), while running ch1.alpha.two (test 2 of 2)" in graded.out


def test_run_order_follows_the_runner(tmp_path):
    (tmp_path / "ch1/tests").mkdir(parents=True)
    (tmp_path / "ch2/tests").mkdir(parents=True)
    (tmp_path / "ch1/tests/b_test.c").write_text("/* KTEST(ch1_b, commented) */\nKTEST(ch1_b, z) { }\nKTEST(ch1_b, a) { }\n")
    (tmp_path / "ch1/tests/split1.c").write_text("KTEST(ch1_split, x) { }\n")
    (tmp_path / "ch1/tests/split2.c").write_text("KTEST(ch1_split, y) { }\n")
    (tmp_path / "ch2/tests/c_test.c").write_text("KTEST(ch2_c, only) { }\n")
    assert sources.run_order(tmp_path, 1) == {"ch1.b": ["z", "a"]}  # a suite in two files has no known order
    assert sources.run_order(tmp_path, 2) == {"ch1.b": ["z", "a"], "ch2.c": ["only"]}


def test_todo_names():
    assert sources.todo_name("pt_unmap: unmap a range") == "pt_unmap"
    assert sources.todo_name("merge") == "merge"
