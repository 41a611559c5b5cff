"""grade.py end to end, with a fake qemu and a fake make: every way a kernel can fail."""

import json
import random
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from conftest import DATA, GRADER, T, alive, cut, ktap_log, passing_suites

SMALL, BIG = "64M/1", "256M/2"


def row(out: str, item: str) -> str:
    """The table row of rubric item @p item."""
    return next(line for line in out.splitlines() if line.split()[:1] == [item])


def with_alpha_two(smp: int, test: T) -> bytes:
    """The passing log with ch1.alpha.two replaced by @p test."""
    suites = passing_suites(smp)
    suites["ch1.alpha"][1] = test
    return ktap_log(suites)


def wait_until_dead(pids: list[int]) -> None:
    """Assert that every process in @p pids is gone within 2 s (SIGKILL lands asynchronously)."""
    deadline = time.monotonic() + 2
    while [pid for pid in pids if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not [pid for pid in pids if alive(pid)]


# --- passing ----------------------------------------------------------------


def test_passing_run(lab):
    lab.passing()
    graded = lab.grade()
    assert graded.code == 0
    assert graded.closing == "grade: 4 passed, 0 failed"
    assert "ch1: 100/100 points" in graded.out
    for name in ("one", "two"):
        assert row(graded.out, f"ch1.alpha.{name}").split()[1:] == ["30/30", "passed"]
    assert (lab.root / "build/grade/ch1-small.log").read_bytes().startswith(b"\r\nOpenSBI")
    assert (lab.root / "build/grade/ch1-big.log").exists()


def test_qemu_command_line(lab):
    lab.passing()
    lab.grade()
    calls = {call[call.index("-m") + 1]: call for call in lab.calls()}
    small = calls["64M"]
    kernel = str(lab.root / "build/ch1/kernel.elf")
    assert small == [
        "-machine", "virt", "-bios", "default", "-no-reboot", "-nographic", "-monitor", "none", "-serial", "stdio",
        "-kernel", kernel, "-m", "64M", "-smp", "1", "-seed", "1", "-append", "ktest=ch1.*",
    ]  # fmt: skip
    assert calls["256M"][-1] == "ktest=ch1.* debug"


def test_grade_py_as_a_script(lab):
    qemu = lab.passing()
    make = f"{sys.executable} {GRADER / 'tests/fakes/fake_make.py'} ok"
    done = subprocess.run(
        [str(GRADER / "grade.py"), "--root", str(lab.root), "--rubric", str(DATA / "rubric.toml"), "--qemu", str(qemu), "--make", make],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "grade: 4 passed, 0 failed"
    assert "\033[" not in done.stdout


def test_colors_only_on_a_terminal(lab, monkeypatch):
    lab.passing()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert "\033[32mpassed\033[0m" in lab.grade().out
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in lab.grade().out


# --- failing tests ------------------------------------------------------------


def test_failed_test_shows_its_diagnostic_and_hint(lab):
    diag = "ch1/tests/alpha_test.c:42: expected frames_nr_free() == before (1234), got 1233"
    lab.qemu(
        {"serial": ktap_log(passing_suites(1))},
        **{BIG: {"serial": with_alpha_two(2, T("two", ok=False, diag=(diag,))), "exit": 1}},
    )
    graded = lab.grade()
    assert graded.code == 1
    assert graded.closing == "grade: 3 passed, 1 failed"
    assert row(graded.out, "ch1.alpha.two").split()[1:] == ["0/30", "failed", "[big]"]
    lines = graded.out.splitlines()
    at = lines.index(row(graded.out, "ch1.alpha.two"))
    assert lines[at + 1].strip() == diag
    assert lines[at + 2].strip() == "hint: two hint"
    assert "ch1: 70/100 points" in graded.out
    # named again by the closing line, for a CI log that keeps only its tail
    assert lines[-4:-2] == ["failed: 1 item", "  ch1.alpha.two: failed  [big]"]


def test_the_recap_names_every_failure_up_to_its_limit(lab, monkeypatch):
    from mmgrade import report, rubric, score

    lab.qemu({"serial": random.Random(1).randbytes(4096)})
    graded = lab.grade("--only", "small")
    tail = graded.out.splitlines()[-7:]
    assert tail[0] == "failed: 4 items" and tail[-1] == "grade: 0 passed, 4 failed"
    assert [line.split(":")[0] for line in tail[1:5]] == [f"  ch1.{n}" for n in ("alpha.one", "alpha.two", "beta", "smp.concurrent")]

    def result(n: int) -> score.ItemResult:
        return score.ItemResult(rubric.Item("s", f"t{n}", 1, "", False), report.Status.FAILED, 0)

    chapter = rubric.Chapter(9, "t", "", "", 1, (), ())
    recap = report.failed_recap([score.ChapterResult(chapter, [result(n) for n in range(12)])])
    assert recap[0] == "failed: 12 items" and len(recap) == 1 + report.RECAP_LIMIT + 1
    assert recap[-2:] == ["  s.t9: failed", "  ... and 2 more (in the tables above)"]
    assert report.failed_recap([score.ChapterResult(chapter, [])]) == []


def test_fault_is_shown_first(lab):
    fault = "fault: store page fault at pc 0xffffffff80201234, address 0x0; the test is abandoned"
    lab.qemu({"serial": with_alpha_two(1, T("two", ok=False, diag=("freeing 3 frames", fault)))})
    graded = lab.grade("--only", "small")
    lines = graded.out.splitlines()
    assert lines[lines.index(row(graded.out, "ch1.alpha.two")) + 1].strip() == fault


def test_not_implemented_stub(lab):
    stub = T("two", ok=False, diag=("TODO(ch1): buddy split", "a.c:3: expected pa != 0 (0), got 0"))
    lab.qemu({"serial": with_alpha_two(1, stub)}, **{BIG: {"serial": with_alpha_two(2, stub), "exit": 1}})
    graded = lab.grade()
    assert "0/30  not implemented: buddy split  [every configuration]" in row(graded.out, "ch1.alpha.two")
    assert graded.code == 1


def test_suite_that_never_began_is_not_implemented_by_its_stub(lab):
    """A user test program that could not exec (a stub refused) prints no subtest block, only
    the stub's bare TODO line and its suite's result: its items are "not implemented"."""
    log = ktap_log(passing_suites(1)).decode()
    begin, end = log.index("    KTAP version 1"), log.index("ok 1 ch1.alpha\r\n") + len("ok 1 ch1.alpha\r\n")
    log = log[:begin] + "    TODO(ch1): buddy split\r\n    # ch1.alpha: could not run: error -38\r\nnot ok 1 ch1.alpha\r\n" + log[end:]
    lab.qemu({"serial": log.encode(), "exit": 1})
    graded = lab.grade("--only", "small")
    assert "0/30  not implemented: buddy split" in row(graded.out, "ch1.alpha.one")
    assert "0/30  not implemented: buddy split" in row(graded.out, "ch1.alpha.two")
    assert graded.code == 1


def test_whole_suite_item_fails_with_its_test(lab):
    suites = passing_suites(1)
    suites["ch1.beta"][1] = T("b2", ok=False, diag=("b.c:9: expected x",))
    lab.qemu({"serial": ktap_log(suites), "exit": 1})
    graded = lab.grade("--only", "small")
    assert row(graded.out, "ch1.beta").split()[1:3] == ["0/20", "failed"]
    assert "b2: b.c:9: expected x" in graded.out


# --- boots that go wrong --------------------------------------------------------


def test_kernel_panic(lab):
    panic = "    # panic: BUG_ON(x) at ch1/src/buddy.c:120 (hart 0, pc 0xffffffff80203a1c)\r\n"
    log = cut(ktap_log(passing_suites(1)), "    ok 2 two") + panic.encode()
    lab.qemu({"serial": log, "exit": 2}, **{BIG: {"serial": ktap_log(passing_suites(2))}})
    graded = lab.grade()
    assert row(graded.out, "ch1.alpha.one").split()[2] == "passed"
    assert row(graded.out, "ch1.alpha.two").split()[1:] == ["0/30", "panic", "[small]"]
    assert "hint: two hint" not in graded.out  # the boot's own lines say what happened
    assert "boot small failed: panic: BUG_ON(x) at ch1/src/buddy.c:120" in graded.out
    assert "log: build/grade/ch1-small.log" in graded.out
    assert "| " + panic.rstrip() in graded.out
    assert graded.closing == "grade: 1 passed, 3 failed"


def test_hang_is_killed_with_its_process_group(lab):
    log = cut(ktap_log(passing_suites(1)), "    ok 2 two")
    lab.qemu({"serial": log, "hang": True, "child": True}, **{BIG: {"serial": ktap_log(passing_suites(2))}})
    start = time.monotonic()
    graded = lab.grade("--timeout-scale", "0.3")
    assert time.monotonic() - start < 4
    assert row(graded.out, "ch1.alpha.two").split()[2:] == ["timeout", "[small]"]
    assert "no power-off within 1.5 s, while running ch1.alpha test #2" in graded.out
    pids = lab.fake_pids()
    assert len(pids) == 3  # two fakes, one child
    wait_until_dead(pids)


def test_ctrl_c_kills_every_qemu(lab):
    lab.qemu({"serial": b"OpenSBI v1.1\r\n", "hang": True, "child": True})
    make = f"{sys.executable} {GRADER / 'tests/fakes/fake_make.py'} ok"
    grader = subprocess.Popen(
        [sys.executable, str(GRADER / "grade.py"), "--root", str(lab.root), "--rubric", str(DATA / "rubric.toml"),
         "--qemu", str(lab.qemu_path), "--make", make, "--jobs", "2", "--timeout-scale", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # A shell's background job starts with SIGINT ignored, and Python then
        # keeps it so: give the grader the default, as on a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    # Generous limits: on a loaded 2-core machine starting four processes can
    # take seconds; what is tested is that the interrupt kills them all.
    deadline = time.monotonic() + 30
    while len(lab.fake_pids()) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    grader.send_signal(signal.SIGINT)
    _, err = grader.communicate(timeout=30)
    assert grader.returncode == 130 and b"interrupted" in err
    wait_until_dead(lab.fake_pids())


def test_garbage_only(lab):
    lab.qemu({"serial": random.Random(1).randbytes(4096)})
    graded = lab.grade("--only", "small")
    assert graded.code == 1
    assert graded.closing == "grade: 0 passed, 4 failed"
    assert "kernel powered off early (exit code 0), before the first test" in graded.out


def test_garbage_between_lines_is_harmless(lab, tmp_path):
    noise = b"\xff\xfe\x1b[31m\x80\x00 stray\r\n"
    logs = {smp: ktap_log(passing_suites(smp)).replace(b"    ok 1", noise + b"    ok 1") for smp in (1, 2)}
    lab.qemu({"serial": logs[1]}, **{BIG: {"serial": logs[2]}})
    graded = lab.grade("--junit", str(tmp_path / "j.xml"))
    assert graded.code == 0
    ET.parse(tmp_path / "j.xml")


def test_early_power_off(lab):
    log = cut(ktap_log(passing_suites(1)), "    KTAP version 1\r\n    # Subtest: ch1.smp")
    lab.qemu({"serial": log, "exit": 0}, **{BIG: {"serial": ktap_log(passing_suites(2))}})
    graded = lab.grade()
    assert row(graded.out, "ch1.smp.concurrent").split()[2:] == ["did", "not", "run", "[small]"]
    assert "kernel powered off early (exit code 0), after suite ch1.beta" in graded.out
    assert row(graded.out, "ch1.beta").split()[2] == "passed"


def test_qemu_dies(lab):
    lab.qemu({"serial": cut(ktap_log(passing_suites(1)), "    ok 2 two"), "exit": 3})
    graded = lab.grade("--only", "small")
    assert "QEMU died (exit code 3), while running ch1.alpha test #2" in graded.out


def test_qemu_binary_missing(lab):
    lab.qemu_path = lab.root / "no-such-qemu"
    graded = lab.grade()
    assert graded.closing == "grade: 0 passed, 4 failed"
    assert "qemu failed to start" in row(graded.out, "ch1.alpha.one")
    assert f"cannot run {lab.root / 'no-such-qemu'}: No such file or directory" in graded.out


def test_qemu_rejects_its_arguments(lab):
    error = (
        "qemu-system-riscv64: -m 64X: Parameter 'size' expects a non-negative number below 2^64\n"
        "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
    )
    lab.qemu({"stderr": error, "exit": 1})
    graded = lab.grade("--only", "small")
    assert "qemu failed to start" in row(graded.out, "ch1.beta")
    assert "boot small failed: qemu failed to start: qemu-system-riscv64: -m 64X: Parameter 'size'" in graded.out
    assert error.encode() in (lab.root / "build/grade/ch1-small.log").read_bytes()


def test_build_failure(lab):
    lab.passing()
    lab.make_mode = "fail"
    graded = lab.grade()
    assert graded.closing == "grade: 0 passed, 4 failed"
    assert "  all 4 items: build failed" in graded.out
    assert "| ch1/src/buddy.c:42:5: error: expected ';' before '}' token" in graded.out
    assert "log: build/grade/ch1-build.log" in graded.out
    assert lab.calls() == []


def test_no_build_without_a_kernel(lab):
    lab.passing()
    graded = lab.grade("--no-build")
    assert f"build failed: no kernel at {lab.root / 'build/ch1/kernel.elf'}" in graded.out
    assert graded.code == 1


# --- rubric rules ----------------------------------------------------------------


def test_rubric_test_that_never_ran_and_an_unscored_one(lab):
    def log(smp):
        suites = passing_suites(smp)
        suites["ch1.alpha"] = [T("one"), T("three")]
        return ktap_log(suites)

    lab.qemu({"serial": log(1)}, **{BIG: {"serial": log(2)}})
    graded = lab.grade()
    assert row(graded.out, "ch1.alpha.two").endswith("did not run  [every configuration]")
    assert "ch1.alpha.two is not in the output, though the run completed" in graded.out
    assert "hint: two hint" not in graded.out
    assert "warning: unscored (not in the rubric): ch1.alpha: three (ran in every configuration)" in graded.out
    assert graded.closing == "grade: 3 passed, 1 failed"


def test_silent_kernel_scores_nothing(lab):
    lab.qemu({"serial": b"KTAP version 1\r\n1..0\r\n"})
    graded = lab.grade()
    assert graded.closing == "grade: 0 passed, 4 failed"


def test_skip_everywhere_earns_nothing(lab):
    lab.qemu({"serial": ktap_log(passing_suites(1))})
    graded = lab.grade()
    assert row(graded.out, "ch1.smp.concurrent").endswith("0/20  skipped: needs 2 harts  [every configuration]")
    assert graded.code == 1


def test_skip_allowed_by_the_rubric(lab, tmp_path):
    rubric = tmp_path / "allow.toml"
    rubric.write_text((DATA / "rubric.toml").read_text().replace('name = "ch1.smp"', 'name = "ch1.smp"\nallow_skip = true'))
    lab.qemu({"serial": ktap_log(passing_suites(1))})
    assert lab.grade(rubric=rubric).code == 0


def test_failure_where_not_skipped_counts(lab):
    suites = passing_suites(2)
    suites["ch1.smp"] = [T("concurrent", ok=False, diag=("lost 3 frames",))]
    lab.qemu({"serial": ktap_log(passing_suites(1))}, **{BIG: {"serial": ktap_log(suites), "exit": 1}})
    graded = lab.grade()
    assert row(graded.out, "ch1.smp.concurrent").split()[1:] == ["0/20", "failed", "[big]"]


def test_configurations_boot_in_parallel_and_one_fails(lab):
    lab.qemu(
        {"serial": ktap_log(passing_suites(1)), "sleep": 1},
        **{BIG: {"serial": with_alpha_two(2, T("two", ok=False, diag=("boom",))), "sleep": 1, "exit": 1}},
    )
    start = time.monotonic()
    graded = lab.grade("--jobs", "2")
    assert time.monotonic() - start < 1.9
    assert row(graded.out, "ch1.alpha.two").split()[2:] == ["failed", "[big]"]
    assert graded.closing == "grade: 3 passed, 1 failed"


def test_only_one_configuration(lab):
    lab.passing()
    graded = lab.grade("--only", "big")
    assert [call[call.index("-m") + 1] for call in lab.calls()] == ["256M"]
    assert graded.code == 0
    assert lab.grade("--only", "huge").code == 2


def test_environment_overrides(lab, monkeypatch):
    qemu = lab.qemu({"serial": cut(ktap_log(passing_suites(1)), "    ok 2 two"), "hang": True})
    lab.qemu_path = None
    monkeypatch.setenv("MMLAB_QEMU", str(qemu))
    monkeypatch.setenv("MMLAB_TIMEOUT_SCALE", "0.2")
    graded = lab.grade("--only", "small")
    assert "no power-off within 1 s" in graded.out


def test_two_chapters(lab, tmp_path):
    ch1 = (DATA / "rubric.toml").read_text()
    ch2 = ch1.replace("ch1", "ch2").replace('"64M"', '"512M"').replace('"256M"', '"1G"')
    (tmp_path / "two.toml").write_text(ch1 + "\n" + ch2)
    (lab.root / "ch2").mkdir()
    logs = {smp: ktap_log(passing_suites(smp)) for smp in (1, 2)}
    lab.qemu(
        {"serial": logs[1]},
        **{BIG: {"serial": logs[2]}, "512M/1": {"serial": logs[1].replace(b"ch1.", b"ch2.")},
           "1G/2": {"serial": logs[2].replace(b"ch1.", b"ch2.")}},
    )  # fmt: skip
    graded = lab.grade(rubric=tmp_path / "two.toml")
    assert graded.code == 0
    assert graded.out.index("ch1: Test chapter") < graded.out.index("ch2: Test chapter")
    total, timing, closing = graded.out.splitlines()[-3:]
    assert (total, closing) == ("total: 200/200 points", "grade: 8 passed, 0 failed")
    assert re.fullmatch(r"time: \d+\.\d s wall, 4 boots, \d+ at a time", timing)


def test_chapter_selection(lab):
    lab.passing()
    graded = lab.grade("ch7")
    assert graded.code == 2 and "ch7 has no section in the rubric" in graded.err
    (lab.root / "ch1" / "tests").rmdir()
    (lab.root / "ch1").rmdir()
    graded = lab.grade()
    assert graded.code == 2 and "no chapter of the rubric has a directory" in graded.err


# --- machine-readable output --------------------------------------------------------


def test_gradescope_json(lab, tmp_path):
    lab.qemu({"serial": with_alpha_two(1, T("two", ok=False, diag=("a.c:1: expected \x1b", "x")))})
    lab.grade("--only", "small", "--json", str(tmp_path / "results.json"))
    results = json.loads((tmp_path / "results.json").read_text())
    assert isinstance(results["score"], (int, float)) and isinstance(results["execution_time"], int)
    assert results["output_format"] == results["test_output_format"] == "md"
    assert results["output"].startswith("```text\n") and "grade: 2 passed, 2 failed\n```" in results["output"]
    assert results["score"] == sum(test["score"] for test in results["tests"]) == 50
    for test in results["tests"]:
        assert set(test) == {"name", "number", "score", "max_score", "status", "output", "output_format", "visibility"}
        assert test["status"] in ("passed", "failed") and test["visibility"] == "visible"
        assert 0 <= test["score"] <= test["max_score"]
    two = next(test for test in results["tests"] if test["name"] == "ch1.alpha.two")
    assert two["output"].startswith("```text\nfailed (0/30 points)") and "hint: two hint" in two["output"]


def test_junit_xml(lab, tmp_path):
    lab.qemu({"serial": with_alpha_two(1, T("two", ok=False, diag=("bad \x01 byte",)))})
    lab.grade("--only", "small", "--junit", str(tmp_path / "junit.xml"))
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites" and root.get("tests") == "4" and root.get("failures") == "1"
    suite = root.find("testsuite")
    assert suite.get("name") == "ch1" and suite.get("skipped") == "1"
    failures = {case.get("name"): case.find("failure") for case in suite.iter("testcase")}
    assert failures["ch1.alpha.one"] is None
    assert failures["ch1.alpha.two"].get("message") == "failed: bad \ufffd byte [small]"
    assert failures["ch1.smp.concurrent"] is None
