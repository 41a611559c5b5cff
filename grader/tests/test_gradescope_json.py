"""Gradescope's results.json (mmgrade/gradescope.py): names, visibility, scores, Markdown, a failed build."""

import json
import math

from conftest import DATA, T, ktap_log, passing_suites

from mmgrade import gradescope
from mmgrade.rubric import Chapter, Config, Item
from mmgrade.score import ChapterResult, ItemResult
from mmgrade.status import Status


def chapter(number: int, items: list[Item]) -> Chapter:
    """A chapter of @p items, one configuration."""
    return Chapter(number, f"ch{number}", f"ch{number}.*", f"ch{number}.*", 60, (Config("a", "64M", 1),), tuple(items))


def item(name: str, points: float, visibility: str = "visible") -> Item:
    """A test item named suite.test."""
    suite, test = name.rsplit(".", 1)
    return Item(suite, test, points, "", False, visibility=visibility)


def graded(ch: Chapter, passed: set[str]) -> ChapterResult:
    """@p ch with the items named in @p passed passed, the others failed."""
    results = []
    for one in ch.items:
        ok = one.name in passed
        results.append(ItemResult(one, Status.PASSED if ok else Status.FAILED, one.points if ok else 0, boots=1))
    return ChapterResult(ch, results)


def test_several_chapters_prefix_the_chapter_so_names_stay_unique():
    ch1 = chapter(1, [item("ch1.buddy.exhaustion", 5)])
    ch2 = chapter(2, [item("ch1.buddy.exhaustion", 0), item("ch2.slab.alloc", 100)])
    both = gradescope.results([graded(ch1, set()), graded(ch2, {"ch2.slab.alloc"})], 1.0, "report")
    names = [test["name"] for test in both["tests"]]
    assert names == ["ch1: ch1.buddy.exhaustion", "ch2: ch1.buddy.exhaustion", "ch2: ch2.slab.alloc"]
    assert [test["number"] for test in both["tests"]] == ["1.1", "2.1", "2.2"]
    alone = gradescope.results([graded(ch2, set())], 1.0, "report")
    assert [test["name"] for test in alone["tests"]] == ["ch1.buddy.exhaustion", "ch2.slab.alloc"]


def test_the_score_is_the_sum_of_the_tests_scores_with_fractional_points():
    points = [98.25, 1.75, 0.1, 0.1, 0.1]
    items = [item(f"ch1.s.t{index}", value) for index, value in enumerate(points)]
    result = gradescope.results([graded(chapter(1, items), {one.name for one in items})], 0.4, "r")
    scores = [test["score"] for test in result["tests"]]
    assert scores == points and sum(points) == 100.29999999999998  # the naive float sum is off
    assert result["score"] == 100.3 == round(math.fsum(scores), gradescope.PLACES)
    assert result["execution_time"] == 0
    whole = gradescope.results([graded(chapter(1, items), {"ch1.s.t0", "ch1.s.t1"})], 0.4, "r")
    assert whole["score"] == 100 and isinstance(whole["score"], int)


def test_visibility_per_item_and_a_hidden_item_stays_out_of_the_summary():
    items = [item("ch1.s.shown", 50), item("ch1.s.unseen", 30, "hidden"), item("ch1.s.afterwards", 20, "after_due_date")]
    result = gradescope.results([graded(chapter(1, items), {"ch1.s.shown"})], 1, "ch1.s.unseen 0/30 failed")
    assert [test["visibility"] for test in result["tests"]] == ["visible", "hidden", "after_due_date"]
    assert "ch1.s.shown" in result["output"] and "unseen" not in result["output"] and "afterwards" not in result["output"]
    assert "2 more test(s)" in result["output"] and result["stdout_visibility"] == "hidden"
    everyone = gradescope.results([graded(chapter(1, [item("ch1.s.shown", 100)]), set())], 1, "the report")
    assert everyone["output"] == "```text\nthe report\n```" and everyone["stdout_visibility"] == "visible"


def test_a_code_block_outlasts_the_backticks_in_its_text():
    block = gradescope.code_block("a ``` b ```` c\n")
    assert block.startswith("`````text\na ``` b ```` c\n`````") and block.endswith("\n`````")


def test_unscored_gives_every_item_zero_and_the_reason():
    ch1 = chapter(1, [item("ch1.s.a", 1.75), item("ch1.s.b", 98.25, "hidden")])
    result = gradescope.unscored([ch1], "the grade did not finish in 540 s", 541.2, "line 1\nlast line\n")
    assert result["score"] == 0 and result["execution_time"] == 541
    assert [(test["score"], test["max_score"], test["status"]) for test in result["tests"]] == [
        (0, 1.75, "failed"),
        (0, 98.25, "failed"),
    ]
    assert all("the grade did not finish in 540 s" in test["output"] for test in result["tests"])
    assert "last line" in result["output"] and result["tests"][1]["visibility"] == "hidden"


def test_a_failed_build_shows_the_compilers_error_in_every_test(lab, tmp_path):
    lab.make_mode = "fail"
    lab.passing()
    lab.grade("--json", str(tmp_path / "results.json"))
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["score"] == 0 and len(result["tests"]) == 4
    for test in result["tests"]:
        assert test["output"].startswith("```text\nbuild failed (0/")
        assert "the compiler said:\nch1/src/buddy.c:42:5: error: expected ';' before '}' token" in test["output"]


def test_visibility_goes_from_the_rubric_to_the_json(lab, tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text((DATA / "rubric.toml").read_text().replace('hint = "beta hint"', 'visibility = "after_published"'))
    lab.qemu({"serial": ktap_log(passing_suites(1)), "exit": 0})
    lab.grade("--only", "small", "--json", str(tmp_path / "results.json"), rubric=rubric)
    result = json.loads((tmp_path / "results.json").read_text())
    visibility = {test["name"]: test["visibility"] for test in result["tests"]}
    assert visibility == {
        "ch1.alpha.one": "visible",
        "ch1.alpha.two": "visible",
        "ch1.beta": "after_published",
        "ch1.smp.concurrent": "visible",
    }
    assert "ch1.beta" not in result["output"] and "ch1.alpha.one" in result["output"]


def test_a_passed_item_says_its_points(lab, tmp_path):
    lab.qemu({"serial": ktap_log({**passing_suites(1), "ch1.alpha": [T("one"), T("two")]}), "exit": 0})
    lab.grade("--only", "small", "--json", str(tmp_path / "results.json"))
    one = json.loads((tmp_path / "results.json").read_text())["tests"][0]
    assert one["output"] == "```text\npassed (30/30 points)\n```" and one["score"] == 30
