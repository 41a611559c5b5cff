"""A grade of several chapters: shared boots, confirmations, order, progress (schedule.py, progress.py)."""

import io
import json
import re
from pathlib import Path

import pytest
from conftest import DATA, T, ktap_log, passing_suites

from mmgrade import progress, schedule

CH2 = """
[ch2]
title = "Second chapter"
ktest = "ch1.*,ch2.*"
timeout = 5
configs = [
  { name = "small", memory = "64M", smp = 1 },
  { name = "big", memory = "256M", smp = 2, bootargs = "debug" },
]

[[ch2.suite]]
name = "ch1.alpha"
points = 5

[[ch2.suite]]
name = "ch1.beta"
points = 5

[[ch2.suite]]
name = "ch1.smp"
points = 5

[[ch2.suite]]
name = "ch2.gamma"
tests = [
  { name = "g1", points = 85 },
]
"""


def two_chapters(tmp_path: Path, ch2: str = CH2) -> Path:
    """data/rubric.toml's ch1 and a ch2 that lists the same two machines and scores ch1.alpha too."""
    path = tmp_path / "two.toml"
    path.write_text((DATA / "rubric.toml").read_text() + ch2)
    return path


def ch2_log(smp: int, alpha_one_ok: bool = True, gamma_ok: bool = True) -> bytes:
    """What chapter 2's kernel prints: every ch1 suite, then its own."""
    suites = passing_suites(smp)
    suites["ch1.alpha"] = [T("one", ok=alpha_one_ok), T("two")]
    suites["ch2.gamma"] = [T("g1", ok=gamma_ok)]
    return ktap_log(suites)


def kernels(lab) -> list[str]:
    """Which chapter's kernel each boot ran, in the order they started."""
    return [Path(call[call.index("-kernel") + 1]).parent.name for call in lab.calls()]


def timing(graded) -> str:
    """The line before the closing line."""
    return graded.out.splitlines()[-2]


@pytest.fixture
def two(lab, tmp_path):
    """The lab with a ch2/ directory beside ch1/."""
    (lab.root / "ch2").mkdir()
    return lab


def test_one_boot_serves_both_chapters_on_the_same_machine(two, tmp_path):
    two.qemu({"serial": ch2_log(1)}, **{"256M/2": {"serial": ch2_log(2)}})
    graded = two.grade(rubric=two_chapters(tmp_path))
    assert graded.code == 0, graded.out
    assert sorted(kernels(two)) == ["ch2", "ch2"]  # ch1's kernel never booted
    assert "ch1: 100/100 points" in graded.out and "ch2: 100/100 points" in graded.out
    assert re.fullmatch(
        r"time: \d+\.\d s wall, 2 boots for 4 configurations \(2 shared, 0 confirmations\), \d+ at a time",
        timing(graded),
    )
    assert "unscored" not in graded.out  # ch2.gamma, in the shared boot, is not ch1's business


def test_a_lower_chapter_that_fails_in_the_shared_boot_is_confirmed_with_its_own_kernel(two, tmp_path):
    # ch2's kernel breaks ch1.alpha.one on the small machine; ch1's own kernel passes it.
    two.qemu(
        {"serial": ktap_log(passing_suites(1))},
        **{"ch2:64M/1": {"serial": ch2_log(1, alpha_one_ok=False)}, "256M/2": {"serial": ch2_log(2)}},
    )
    graded = two.grade(rubric=two_chapters(tmp_path))
    assert kernels(two).count("ch1") == 1 and kernels(two).count("ch2") == 2
    assert "ch1: 100/100 points" in graded.out  # a correct ch1 keeps its points
    assert "ch2: 95/100 points" in graded.out  # ch2's own item for ch1.alpha fails in its kernel
    assert "(2 shared, 1 confirmations)" in timing(graded)
    assert graded.code == 1


def test_a_wrong_lower_chapter_fails_in_its_own_kernel_too(two, tmp_path):
    broken = ktap_log({**passing_suites(1), "ch1.alpha": [T("one", ok=False), T("two")]})
    two.qemu(
        {"serial": broken},
        **{"ch2:64M/1": {"serial": ch2_log(1, alpha_one_ok=False)}, "256M/2": {"serial": ch2_log(2)}},
    )
    graded = two.grade(rubric=two_chapters(tmp_path))
    assert "ch1: 70/100 points" in graded.out
    assert re.search(r"ch1\.alpha\.one\s+0/30\s+failed\s+\[small\]", graded.out)


def test_different_machines_are_not_shared(two, tmp_path):
    ch2 = CH2.replace('bootargs = "debug"', 'bootargs = "other"')
    two.qemu({"serial": ch2_log(1)}, **{"256M/2": {"serial": ch2_log(2)}})
    graded = two.grade(rubric=two_chapters(tmp_path, ch2))
    assert sorted(kernels(two)) == ["ch1", "ch2", "ch2"]  # "big" differs in its bootargs
    assert "3 boots for 4 configurations (1 shared, 0 confirmations)" in timing(graded)


def test_a_higher_chapter_that_does_not_build_serves_nothing(two, tmp_path):
    two.make_mode = "fail:2"
    two.qemu({"serial": ktap_log(passing_suites(1))}, **{"256M/2": {"serial": ktap_log(passing_suites(2))}})
    graded = two.grade(rubric=two_chapters(tmp_path))
    assert sorted(kernels(two)) == ["ch1", "ch1"]
    assert "ch1: 100/100 points" in graded.out and "ch2: 0/100 points" in graded.out


def test_the_longest_boot_starts_first_by_the_last_grades_times(lab):
    lab.passing()
    times = lab.root / "build" / "grade" / "boot-times.json"
    times.parent.mkdir(parents=True)
    times.write_text(json.dumps({"ch1/small": 9.0, "ch1/big": 1.0}))
    lab.grade("-j", "1")
    assert [call[call.index("-m") + 1] for call in lab.calls()] == ["64M", "256M"]
    times.write_text(json.dumps({"ch1/small": 1.0, "ch1/big": 9.0}))
    (lab.root / "calls.jsonl").unlink()
    lab.grade("-j", "1")
    assert [call[call.index("-m") + 1] for call in lab.calls()] == ["256M", "64M"]
    assert set(json.loads(times.read_text())) == {"ch1/small", "ch1/big"}  # this grade's times, kept


def test_after_the_longest_short_and_long_boots_start_in_turn():
    jobs = list("ABCDEFGH")  # longest first
    assert schedule.start_order(jobs, 3) == list("ABHCGDFE")
    assert schedule.start_order(jobs, 1) == list("AHBGCFDE")
    assert schedule.start_order(jobs, 9) == jobs
    assert schedule.start_order([], 3) == []


def test_no_status_line_when_stderr_is_not_a_terminal(lab):
    lab.passing()
    graded = lab.grade()
    assert "grading:" not in graded.err and "\r" not in graded.err + graded.out
    assert not progress.wanted(io.StringIO(), verbose=False)


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_status_line_names_the_running_boots_and_counts_their_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    assert progress.wanted(Tty(), verbose=False) and not progress.wanted(Tty(), verbose=True)
    log = tmp_path / "ch5-64M-4.log"
    log.write_bytes(b"OpenSBI\nKTAP version 1\n    ok 1 a\n    not ok 2 b\nok 1 ch5.x\n    ok 1 c")
    shown = progress.Progress(True, Tty())
    for _ in range(3):
        shown.queued()
    shown.started("ch5/64M-4", log)
    assert re.fullmatch(r"grading: 0/3 boots, running ch5/64M-4 \(3 tests\), \d+\.\d s", shown.line())
    with open(log, "ab") as out:  # the unfinished line completes, one more comes
        out.write(b"\n    ok 2 d\n")
    assert "(5 tests)" in shown.line()
    shown.finished("ch5/64M-4")
    assert shown.line().startswith("grading: 1/3 boots, ")


def test_the_status_line_is_erased_before_a_report_and_at_the_end(tmp_path):
    stream = Tty()
    shown = progress.Progress(True, stream)
    shown._draw(shown.line())
    with shown.paused():
        assert stream.getvalue().endswith("\r\x1b[K")
        stream.write("report\n")
    shown.stop()
    assert stream.getvalue().count("\r\x1b[K") == 1  # nothing drawn since: nothing to erase


def test_a_shared_machine_may_have_another_name_in_each_chapter(two, tmp_path):
    two.qemu({"serial": ch2_log(1)}, **{"256M/2": {"serial": ch2_log(2)}})
    graded = two.grade(rubric=two_chapters(tmp_path, CH2.replace('name = "small"', 'name = "tiny"')))
    assert sorted(kernels(two)) == ["ch2", "ch2"]
    assert "ch1: 100/100 points" in graded.out and "ch2: 100/100 points" in graded.out
