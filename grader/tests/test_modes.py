"""The other modes of grade.py: --check-rubric and --bench."""

import re
from pathlib import Path

import pytest
from conftest import DATA
from mmgrade.rubric import RubricError, load

MATCHING = """\
#include "ktest.h"

KTEST(ch1_alpha, one) { }
KTEST(ch1_alpha, two) { }
KTEST(ch1_beta, b1) { }
KTEST( ch1_smp , concurrent ) { }
"""

BENCH_OUTPUT = (
    b"OpenSBI v1.1\r\n"
    b"# bench ch1.order0_alloc_free: 212 instructions/op\r\n"
    b"# bench ch1.order9_alloc_free: 1840 instructions/op\r\n"
    b"# bench: 2 benchmark(s) run\r\n"
)


def test_check_rubric_ok(lab):
    (lab.root / "ch1/tests/all_test.c").write_text(MATCHING)
    graded = lab.grade("--check-rubric")
    assert graded.code == 0
    assert graded.out == "check-rubric: ch1 OK\n"


def test_check_rubric_mismatches(lab):
    text = MATCHING.replace("KTEST(ch1_alpha, two) { }", "// KTEST(ch1_alpha, two) is gone\n/* KTEST(ch1_alpha, two) */")
    (lab.root / "ch1/tests/all_test.c").write_text(text + "\nKTEST(ch1_gamma, extra) { }\n")
    (lab.root / "ch2/tests").mkdir(parents=True)
    (lab.root / "ch2/tests/x_test.c").write_text("KTEST(ch2_heap, kmalloc) { }\n")
    graded = lab.grade("--check-rubric")
    assert graded.code == 1
    assert graded.out.splitlines() == [
        "check-rubric: ch2: has KTESTs but no [ch2] section in the rubric",
        "check-rubric: ch1.alpha.two: rubric item with no KTEST(ch1_alpha, two) in ch1/tests/*.c",
        "check-rubric: ch1.gamma.extra (ch1/tests/all_test.c:9): KTEST with no rubric item",
        "check-rubric: 3 problem(s)",
    ]
    assert "ch2" not in lab.grade("--check-rubric", "1").out


def test_check_rubric_external_suites(lab, tmp_path):
    """A suite added with ktest_add_suite("...") stands for its rubric item, and needs one."""
    rubric = tmp_path / "ext.toml"
    rubric.write_text((DATA / "rubric.toml").read_text() + '\n[[ch1.suite]]\nname = "ch1.user"\npoints = 0\n')
    (lab.root / "ch1/tests/all_test.c").write_text(MATCHING)
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert "check-rubric: ch1.user: whole-suite rubric item with no KTEST(ch1_user, ...) in ch1/tests/*.c" in graded.out
    added = 'static int init(void)\n{\n\t/* ktest_add_suite("ch1.gone", f, 0) */\n\treturn ktest_add_suite( "ch1.user", f, 0);\n}\n'
    (lab.root / "ch1/tests/ext_test.c").write_text(added)
    assert lab.grade("--check-rubric", rubric=rubric).out == "check-rubric: ch1 OK\n"
    (lab.root / "ch1/tests/ext_test.c").write_text(added + 'int more(void) { return ktest_add_suite("ch1.more", f, 0); }\n')
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert graded.out.splitlines() == [
        "check-rubric: ch1.more (ch1/tests/ext_test.c:6): external suite (ktest_add_suite) with no rubric item",
        "check-rubric: 1 problem(s)",
    ]


def test_check_rubric_user_test_programs(lab, tmp_path):
    """chN/user/tests/TOPIC.c is the suite chN.user.TOPIC: it needs a rubric item and stands for one."""
    rubric = tmp_path / "user.toml"
    rubric.write_text((DATA / "rubric.toml").read_text() + '\n[[ch1.suite]]\nname = "ch1.user.fork"\npoints = 0\n')
    (lab.root / "ch1/tests/all_test.c").write_text(MATCHING)
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert "check-rubric: ch1.user.fork: whole-suite rubric item with no user test program ch1/user/tests/fork.c" in graded.out
    (lab.root / "ch1/user/tests").mkdir(parents=True)
    (lab.root / "ch1/user/tests/fork.c").write_text("int main(void) { return 0; }\n")
    assert lab.grade("--check-rubric", rubric=rubric).out == "check-rubric: ch1 OK\n"
    (lab.root / "ch1/user/tests/pipe.c").write_text('KTAP_SUITE("ch1.user.pipe");\nTEST(eof)\n{\n}\n')
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert graded.out.splitlines() == [
        "check-rubric: ch1.user.pipe (ch1/user/tests/pipe.c:1): user test program with no rubric item",
        "check-rubric: 1 problem(s)",
    ]
    # Test by test: every TEST(), and the kernel's frames_returned, each need an item.
    per_test = rubric.read_text() + '\n[[ch1.suite]]\nname = "ch1.user.pipe"\ntests = [{ name = "eof", points = 0 }, { name = "gone", points = 0 }]\n'
    rubric.write_text(per_test)
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert graded.out.splitlines() == [
        "check-rubric: ch1.user.pipe.gone: rubric item with no TEST(gone) in ch1/user/tests/pipe.c",
        "check-rubric: ch1.user.pipe.frames_returned (ch1/user/tests/pipe.c:1): user test with no rubric item",
        "check-rubric: 2 problem(s)",
    ]


def test_check_rubric_points_and_whole_suites(lab, tmp_path):
    rubric = tmp_path / "short.toml"
    rubric.write_text((DATA / "rubric.toml").read_text().replace("points = 20\n", "points = 15\n", 1))
    (lab.root / "ch1/tests/all_test.c").write_text(MATCHING.replace("KTEST(ch1_beta, b1) { }", ""))
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert "check-rubric: ch1.beta: whole-suite rubric item with no KTEST(ch1_beta, ...) in ch1/tests/*.c" in graded.out
    assert "check-rubric: ch1: points add up to 95, not 100" in graded.out


def test_bench(lab):
    lab.qemu({"serial": BENCH_OUTPUT})
    graded = lab.grade("--bench", "1")
    assert graded.code == 0
    assert "ch1.order0_alloc_free           212  instructions/op" in graded.out
    (call,) = lab.calls()
    assert call[call.index("-m") + 1 :] == ["256M", "-smp", "1", "-seed", "1", "-icount", "shift=0", "-append", "bench=ch1.*"]
    assert (lab.root / "build/grade/ch1-bench.log").exists()


def test_bench_without_results_fails(lab):
    lab.qemu({"serial": b"# bench: 0 benchmark(s) run\r\n", "exit": 1})
    graded = lab.grade("--bench", "ch1")
    assert graded.code == 1
    assert "boot bench failed: no '# bench' line was printed (exit code 1)" in graded.out


def test_bench_with_a_failing_exit_code(lab):
    lab.qemu({"serial": BENCH_OUTPUT, "exit": 1})
    graded = lab.grade("--bench", "1")
    assert graded.code == 1
    assert "boot bench failed: kernel powered off with exit code 1" in graded.out


def test_bench_boot_failure(lab):
    lab.qemu({"serial": b"panic: no memory node in the device tree\r\n", "exit": 2})
    graded = lab.grade("--bench", "1")
    assert graded.code == 1
    assert "boot bench failed: panic: no memory node in the device tree" in graded.out


def test_bench_build_failure(lab):
    lab.qemu({"serial": BENCH_OUTPUT})
    lab.make_mode = "fail"
    graded = lab.grade("--bench", "1")
    assert graded.code == 1 and "build failed: " in graded.out and lab.calls() == []


TARGETS = """
[[ch1.target]]
bench = "ch1.order0_alloc_free"
at_most = 250
anchor = "ch1.order9_alloc_free"

[[ch1.target]]
bench = "ch1.order9_alloc_free"
at_most = 1000

[[ch1.target]]
bench = "ch1.util"
at_least = 0.9
"""


def test_bench_targets(lab, tmp_path):
    """Each target's figure beside its bound and anchor, "meets", "short" or "no figure"; never a failure."""
    rubric = tmp_path / "targets.toml"
    rubric.write_text((DATA / "rubric.toml").read_text() + TARGETS)
    lab.qemu({"serial": BENCH_OUTPUT})
    graded = lab.grade("--bench", "1", rubric=rubric)
    assert graded.code == 0
    lines = graded.out.splitlines()
    start = lines.index("ch1 targets:")
    assert lines[start + 1].split() == ["ch1.order0_alloc_free", "212", "at", "most", "250", "meets", "anchor", "ch1.order9_alloc_free:", "1840", "(8.7x", "ours)"]
    assert lines[start + 2].split() == ["ch1.order9_alloc_free", "1840", "at", "most", "1000", "short"]
    assert lines[start + 3].split() == ["ch1.util", "-", "at", "least", "0.9", "no", "figure"]
    assert lines[start + 4] == "ch1: 1 of 3 targets met"


def test_bench_without_targets_prints_none(lab):
    lab.qemu({"serial": BENCH_OUTPUT})
    assert "targets" not in lab.grade("--bench", "1").out


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('bench = "ch1.x"\n', "give exactly one of at_most and at_least"),
        ('bench = "ch1.x"\nat_most = 1\nat_least = 2\n', "give exactly one of at_most and at_least"),
        ('bench = "ch1.x"\nat_most = "fast"\n', "at_most"),
        ('bench = "ch1.x"\nat_most = 1\nwithin = 2\n', "within"),
    ],
)
def test_bad_targets_are_refused(tmp_path, entry, message):
    rubric = tmp_path / "bad.toml"
    rubric.write_text((DATA / "rubric.toml").read_text() + "\n[[ch1.target]]\n" + entry)
    with pytest.raises(RubricError, match=message):
        load(rubric)


def test_the_shipped_targets_name_benchmarks_the_kernel_prints():
    """Every [[chN.target]] of the real rubric names a figure some KBENCH reports (kbench_report("chN_x"))."""
    root = Path(__file__).resolve().parents[2]
    reported = set()
    for source in root.glob("ch*/tests/*.c"):
        reported |= {name.replace("_", ".", 1) for name in re.findall(r'kbench_report\(\s*"(\w+)"', source.read_text())}
    for chapter in load(root / "grader/rubric.toml").values():
        for target in chapter.targets:
            assert target.bench in reported, target
            assert not target.anchor or target.anchor in reported, target
