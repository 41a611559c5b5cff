"""Tests of --check (scripts/handout/check.py), with a stand-in make and grader (no QEMU)."""

import subprocess
from pathlib import Path

import pytest

from handout_fixtures import FAKE_RUBRIC, make_tree, run_cli
from handout.check import ChapterCheck, Checker, Grading


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
    check = ChapterCheck(1)
    grading = Grading(1, "c", 1, ok=True, score=1, max_score=40, tests=[
        {"name": "ch1.a", "score": 1, "max_score": 1, "status": "passed", "output": "passed (1/1 points)"},
        {"name": "ch1.b", "score": 0, "max_score": 39, "status": "failed", "output": "not implemented: b (0/39 points)"},
    ])  # fmt: skip
    Checker._judge_stubbed(None, check, 1, "c", grading)
    assert check.passed, check.problems
    assert check.notes[0] == 'ch1 (stubbed) [c]: 1/40 points without the student\'s code; 1 of its 2 scored items "not implemented"'
    assert "ch1 (stubbed) [c] earns without the student's code: ch1.a (1)" in check.notes


def judge_stubbed(*tests: tuple[str, float, float, str]) -> ChapterCheck:
    check = ChapterCheck(1)
    entries = [{"name": name, "score": score, "max_score": most, "status": "passed" if score == most else "failed",
                "output": f"{status} ({score:g}/{most:g} points)\ndetail"} for name, score, most, status in tests]
    grading = Grading(1, "c", 1, ok=True, score=sum(t[1] for t in tests), max_score=sum(t[2] for t in tests),
                              tests=entries)
    Checker._judge_stubbed(None, check, 1, "c", grading)
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
    check = ChapterCheck(2)
    tests = [{"name": f"ch1.t{i}", "score": 0, "max_score": 1, "status": "failed",
              "output": "did not run (0/1 points)"} for i in range(6)]
    tests.append({"name": "ch1.ok", "score": 1, "max_score": 1, "status": "passed", "output": "passed (1/1 points)"})
    grading = Grading(1, "c", 2, ok=True, score=1, max_score=7, tests=tests)
    Checker._judge_solved(None, check, 2, 1, 2, "c", grading)
    assert check.problems == [
        "ch1 (solved) on kernel 2, with ch2 unfinished, [c]: 1/7, not the full score:\n"
        "      did not run: 6 items (ch1.t0, ch1.t1, ch1.t2, ch1.t3 and 2 more)"
    ]
