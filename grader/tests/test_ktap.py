"""The KTAP reader on its own: results, diagnostics, skips, stubs, panics, garbage, benchmarks."""

from conftest import BANNER, DATA, T, ktap_log

from mmgrade import ktap


def parse_file(name: str) -> ktap.KtapRun:
    """Parse a log from tests/data after OpenSBI's banner."""
    return ktap.parse(ktap.decode(BANNER + (DATA / name).read_bytes()))


def test_example_from_the_design():
    run = parse_file("example.log")
    assert run.complete and run.planned == 2 and run.panic is None
    buddy = run.suites["ch1.buddy"]
    assert buddy.complete and [r.ok for r in buddy.results] == [True, False, False]
    assert buddy.result("exhaustion").explanation() == [
        "ch1/tests/buddy_test.c:42: expected frames_nr_free() == before (1234), got 1233"
    ]
    assert buddy.result("alloc_order").todo() == "buddy split"
    assert buddy.result("split_merge").diagnostics == []
    concurrent = run.suites["ch1.smp"].result("concurrent")
    assert concurrent.ok and concurrent.skip_reason == "needs 2 harts"


def test_diagnostics_belong_to_the_next_result_only():
    log = ktap_log({"ch1.a": [T("x", ok=False, diag=("first",)), T("y", ok=False, diag=("second",))]})
    run = ktap.parse(ktap.decode(log))
    assert run.suites["ch1.a"].result("x").diagnostics == ["first"]
    assert run.suites["ch1.a"].result("y").diagnostics == ["second"]


def test_fault_comes_first_and_todo_is_left_out():
    result = ktap.TestResult("ch1.a", "x", False, diagnostics=["TODO(ch1): merge", "a.c:1: expected x", "fault: load page fault at pc 0x1"])
    assert result.explanation() == ["fault: load page fault at pc 0x1", "a.c:1: expected x"]
    assert result.todo() == "merge"


def test_watchdog_comes_first_with_where_the_harts_were():
    lines = [
        "partial line",
        "watchdog: the test ran 8000 ms without finishing: abandoned",
        "hart 0: buddy_claim+0x9a (ch1/src/buddy.c:398)",
        "hart 0:   called from frames_alloc_at+0x40 (ch1/src/frame.c:300)",
        "hart 1: idle",
    ]
    result = ktap.TestResult("ch1.a", "x", False, diagnostics=lines)
    assert result.explanation() == lines[1:4]
    assert result.explanation(limit=5) == lines[1:] + lines[:1]


def test_panic_inside_a_test_and_where_it_stopped():
    run = parse_file("panic.log")
    assert run.panic.startswith("BUG_ON(page->state != PAGE_FREE_HEAD)")
    assert not run.complete
    assert run.position() == "while running ch1.buddy test #2"


def test_bare_panic_line_is_found():
    run = ktap.parse("OpenSBI v1.1\npanic: out of frames for page_info (hart 0, pc 0x80200000)\n")
    assert run.panic == "out of frames for page_info (hart 0, pc 0x80200000)"
    assert run.position() == "before the first test"


def test_garbage_bytes_are_ignored():
    log = ktap_log({"ch1.a": [T("x"), T("y")]})
    noisy = log.replace(b"    ok 2 y", b"\xff\xfe\x00\x1b[0m\x80garbage\r\n    ok 2 y")
    run = ktap.parse(ktap.decode(b"\x00\xc3\x28" + noisy))
    assert run.complete and [r.name for r in run.tests()] == ["x", "y"]


def test_benchmarks():
    text = "# bench ch1.order0_alloc_free: 212 instructions/op\n# bench: 1 benchmark(s) run\n"
    assert ktap.parse(text).benches == [ktap.Bench("ch1.order0_alloc_free", "212", "instructions/op")]


def test_unfinished_suite_is_not_complete():
    run = ktap.parse(ktap.decode(ktap_log({"ch1.a": [T("x"), T("y")]}).split(b"    ok 2")[0]))
    assert not run.suites["ch1.a"].complete and not run.complete
    assert run.position() == "while running ch1.a test #2"


def test_lines_end_at_line_feeds_only():
    # A form feed or NEL in a diagnostic must not cut the line: the piece after
    # it would read as the suite's own result and close the suite early.
    log = ktap_log({"ch1.a": [T("x", diag=("dump: \x0cnot ok 1 ch1.a",)), T("y")]})
    run = ktap.parse(ktap.decode(log.replace(b"\x0c", b"\x0c\xc2\x85")))
    assert run.complete and run.suite_results == 1
    assert [r.name for r in run.suites["ch1.a"].results] == ["x", "y"]


def test_a_failure_is_not_hidden_by_a_later_pass():
    first = ktap_log({"ch1.a": [T("x", ok=False, diag=("a.c:1: expected 1",)), T("y")]})
    again = ktap_log({"ch1.a": [T("x"), T("y")]}, banner=False)
    suite = ktap.parse(ktap.decode(first + again)).suites["ch1.a"]
    assert not suite.result("x").ok and suite.result("x").diagnostics == ["a.c:1: expected 1"]
    assert suite.result("y").ok


def test_the_running_test_is_named_from_the_sources():
    run = parse_file("panic.log")
    suite = run.suites["ch1.buddy"]
    names = [result.name for result in suite.results] + ["zeroed_frames", "third"]
    assert run.position({"ch1.buddy": names[: suite.planned]}) == (
        f"while running ch1.buddy.{names[len(suite.results)]} (test {len(suite.results) + 1} of {suite.planned})"
    )


def test_sources_that_do_not_match_the_run_give_a_number():
    run = ktap.parse(ktap.decode(ktap_log({"ch1.a": [T("x"), T("y")]}).split(b"    ok 2")[0]))
    assert run.position({"ch1.a": ["x", "y"]}) == "while running ch1.a.y (test 2 of 2)"
    assert run.position({"ch1.a": ["x", "y", "z"]}) == "while running ch1.a test #2"  # the plan says 2
    assert run.position({"ch1.a": ["w", "y"]}) == "while running ch1.a test #2"  # test 1 is not w
    assert run.position({"ch1.b": ["x", "y"]}) == "while running ch1.a test #2"


def test_stub_names_its_chapter():
    result = ktap.TestResult("ch3.a", "x", False, diagnostics=["TODO(ch3): pt_unmap: unmap a range"])
    assert result.stub() == (3, "pt_unmap: unmap a range")
    assert result.todo() == "pt_unmap: unmap a range"
    assert ktap.TestResult("ch3.a", "x", False, diagnostics=["a.c:1: expected x"]).stub() is None


def test_a_panic_inside_a_test_is_printed_at_column_0():
    # common/lib/panic.c drops the test's "    # " prefix: the line starts with "panic:".
    log = ktap_log({"ch1.a": [T("x"), T("y")]}).split(b"    ok 2")[0] + b"panic: BUG_ON(x) (hart 1, pc 0x8020)\r\n"
    run = ktap.parse(ktap.decode(log))
    assert run.panic == "BUG_ON(x) (hart 1, pc 0x8020)"
    assert run.position({"ch1.a": ["x", "y"]}) == "while running ch1.a.y (test 2 of 2)"


def test_a_bare_todo_line_is_a_diagnostic_of_the_next_result():
    # A stub reached from a user program's system call prints TODO(...) without "# ".
    text = "KTAP version 1\n1..1\n    # Subtest: ch4.user.fork\n    1..2\n    TODO(ch4): mm_fork: copy a page\n    not ok 1 returns_twice\n    TODO(ch4) is not a stub line\n"
    run = ktap.parse(text)
    assert run.suites["ch4.user.fork"].result("returns_twice").stub() == (4, "mm_fork: copy a page")


def test_a_suite_that_never_began_keeps_what_it_printed():
    # A user test program that could not exec prints no subtest block: only its
    # stubs' lines, the runner's reason and the suite's own result.
    text = "KTAP version 1\n1..2\n    TODO(ch4): mm_put: free\n    # ch4.user.brk: could not run: error -8\nnot ok 1 ch4.user.brk\nok 2 ch4.user.fork\n"
    run = ktap.parse(text)
    brk = run.suites["ch4.user.brk"]
    assert brk.finished and brk.results == [] and brk.stub() == (4, "mm_put: free")
    assert brk.diagnostics == ["TODO(ch4): mm_put: free", "ch4.user.brk: could not run: error -8"]
    assert "ch4.user.fork" not in run.suites  # a passing suite with no block stays unknown
