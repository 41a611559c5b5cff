"""Tests of scripts/mutants.py: the catalogue, rules, outcomes, --check, and whole runs on a fake tree.

No cross compiler and no QEMU: fakes/mutant_make.py stands in for make (a
source holding /*KILL*/ or /*HANG*/ makes a kernel that fails a test or hangs,
one holding #error does not compile) and fakes/mutant_qemu.py for QEMU. The
real grader (grader/grade.py) grades the fake boots.
"""

import json
import os
import shlex
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent.parent
FAKES = TESTS / "fakes"
sys.path.insert(0, str(TESTS.parent))
import mutants  # noqa: E402
from mutants import (  # noqa: E402
    BROKEN, BUILT, EQUIVALENT, HOST_ONLY, KILLED, STALE, SURVIVED, CatalogueError, Mutant, RuleError,
)  # fmt: skip

RUBRIC = """\
[ch1]
title = "one"
ktest = "ch1.*"
timeout = 3
configs = [{ name = "64M-1", memory = "64M", smp = 1 }]

[[ch1.suite]]
name = "ch1.suite"
tests = [{ name = "one", points = 50 }, { name = "two", points = 50 }]

[ch2]
title = "two"
ktest = "ch2.*"
timeout = 3
configs = [{ name = "64M-1", memory = "64M", smp = 1 }]

[[ch2.suite]]
name = "ch2.suite"
points = 100
"""

SOURCES = {
    "common/lib/util.c": "int util(int x)\n{\n\treturn x + 1;\n}\n",
    "ch1/src/frames.c": "int frames(int n)\n{\n\tif (n < 0)\n\t\treturn -1;\n\treturn n * 2;\n}\n",
    "ch2/src/heap.c": "int heap(int n)\n{\n\treturn n;\n}\n",
    "ch1/tests/frames_test.c": "int test(void) { return 0; }\n",
}


def entry(id: str, file: str, find: str, replace: str, **extra: object) -> str:
    """One [[mutant]] table."""
    lines = ["[[mutant]]", f"id = {json.dumps(id)}", f"file = {json.dumps(file)}", f"find = {json.dumps(find)}",
             f"replace = {json.dumps(replace)}", f"description = {json.dumps('the mistake of ' + id)}"]  # fmt: skip
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    return "\n".join(lines) + "\n\n"


def mutant(id: str = "m", file: str = "ch1/src/frames.c", find: str = "n * 2", replace: str = "n * 3",
           chapter: int = 1, equivalent: str | None = None) -> Mutant:  # fmt: skip
    """A Mutant, as the catalogue would give it."""
    return Mutant(id, file, find, replace, "a mistake", chapter, equivalent)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small mmlab-like tree: sources, a rubric, the real grader (linked), no catalogue yet."""
    for name in ("MMLAB_QEMU", "MMLAB_TIMEOUT_SCALE", "MAKEFLAGS"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "tree"
    for rel, text in SOURCES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "rubric.toml").write_text(RUBRIC)
    (root / "grader").symlink_to(REPO / "grader")
    return root


def write_catalogue(root: Path, text: str) -> Path:
    """Write the catalogue of @p root's tests."""
    path = root / "mutants.toml"
    path.write_text(text)
    return path


def run(root: Path, *args: str, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """mutants.py's main() on @p root with the fakes; (exit code, stdout)."""
    capsys.readouterr()
    argv = ["--root", str(root), "--catalogue", str(root / "mutants.toml"), "--rubric", str(root / "rubric.toml")]
    if "--check" not in args and "--list" not in args:
        make = f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKES / 'mutant_make.py'))}"
        qemu = root / "fake-qemu"
        fake = shlex.quote(str(FAKES / "mutant_qemu.py"))
        qemu.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {fake} \"$@\"\n")
        qemu.chmod(0o755)
        argv += ["--make", make, "--qemu", str(qemu), "--grade-jobs", "1"]
    code = mutants.main(argv + list(args))
    return code, capsys.readouterr().out


# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------


def test_catalogue_entries_and_chapters() -> None:
    data = {
        "mutant": [
            {"id": "a", "file": "common/lib/x.c", "find": "1", "replace": "2", "description": " off by one "},
            {"id": "b", "file": "ch3/src/y.c", "find": "<", "replace": "<=", "description": "d", "equivalent": "why"},
            {"id": "c.d_e-1", "file": "common/include/z.h", "find": "a", "replace": "", "description": "d",
             "chapter": 2},
        ]
    }
    got = mutants.parse_catalogue(data)
    assert [(m.id, m.chapter, m.equivalent, m.description) for m in got] == [
        ("a", 1, None, "off by one"),
        ("b", 3, "why", "d"),
        ("c.d_e-1", 2, None, "d"),
    ]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"colour": "red"}, "unknown key `colour`"),
        ({"find": None}, "missing `find`"),
        ({"replace": 3}, "`replace` must be a string"),
        ({"id": "Bad Id"}, "`id` must be lowercase"),
        ({"file": "ch1/tests/buddy_test.c"}, "tests are not mutated"),
        ({"file": "ch1/hosttest/test_buddy.c"}, "tests are not mutated"),
        ({"file": "grader/grade.py"}, "not under common/ or chN/"),
        ({"file": "ch1/../common/x.c"}, "plain relative path"),
        ({"file": "/abs/ch1/x.c"}, "plain relative path"),
        ({"find": ""}, "`find` is empty"),
        ({"replace": "x < y"}, "same as `find`"),
        ({"description": "  "}, "`description` is empty"),
        ({"equivalent": ""}, "`equivalent` must be a non-empty string"),
        ({"chapter": 1, "file": "ch2/src/slab.c"}, "ch1's kernel does not contain it"),
        ({"chapter": "2"}, "`chapter` must be a chapter number"),
        ({"chapter": True}, "`chapter` must be a chapter number"),
    ],
)
def test_catalogue_problems(fields: dict, message: str) -> None:
    good = {"id": "m", "file": "ch2/src/x.c", "find": "x < y", "replace": "x <= y", "description": "d"}
    bad = {**good, **fields}
    bad = {key: value for key, value in bad.items() if value is not None}
    with pytest.raises(CatalogueError) as caught:
        mutants.parse_catalogue({"mutant": [good | {"id": "ok"}, bad]}, "cat.toml")
    assert len(caught.value.problems) == 1
    assert message in caught.value.problems[0]
    assert caught.value.problems[0].startswith("cat.toml: mutant #2 (")


def test_catalogue_duplicate_ids_and_top_level_keys() -> None:
    one = {"id": "m", "file": "ch2/src/x.c", "find": "a", "replace": "b", "description": "d"}
    with pytest.raises(CatalogueError) as caught:
        mutants.parse_catalogue({"mutant": [one, dict(one)], "mutants": []})
    problems = "\n".join(caught.value.problems)
    assert "unknown top-level key(s) mutants" in problems
    assert "duplicate id (also mutant #1)" in problems
    with pytest.raises(CatalogueError, match="array of tables"):
        mutants.parse_catalogue({"mutant": {"id": "m"}})


def test_catalogue_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("[[mutant]\nid = 1\n")
    with pytest.raises(CatalogueError, match="not valid TOML"):
        mutants.load_catalogue(path)
    with pytest.raises(CatalogueError, match="cannot read it"):
        mutants.load_catalogue(tmp_path / "missing.toml")


def test_the_project_catalogue_is_well_formed() -> None:
    found = mutants.load_catalogue(REPO / "grader" / "mutants.toml")
    assert len(found) >= 60
    assert mutants.check_rules(found, REPO, mutants.rubric_chapters(REPO / "grader" / "rubric.toml")) == {}


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------


def test_apply_rule_replaces_the_one_occurrence() -> None:
    text = "int f(int n)\n{\n\treturn n * 2;\n}\n"
    assert mutants.apply_rule(text, mutant(find="\treturn n * 2;\n", replace="")) == "int f(int n)\n{\n}\n"
    assert mutants.apply_rule(text, mutant(find="n * 2", replace="n*3")) == text.replace("n * 2", "n*3")


def test_apply_rule_refuses_missing_and_repeated_text() -> None:
    text = "a < b;\nc < d;\n\na < b;\n"
    with pytest.raises(RuleError, match="not there"):
        mutants.apply_rule(text, mutant(find="x > y"))
    with pytest.raises(RuleError, match=r"occurs 2 times \(lines 1, 4\)"):
        mutants.apply_rule(text, mutant(find="a < b"))
    # Overlapping occurrences count too: "aa" is twice in "aaa".
    with pytest.raises(RuleError, match="occurs 2 times"):
        mutants.apply_rule("aaa", mutant(find="aa"))


def test_rule_line_and_diff(tree: Path) -> None:
    m = mutant(find="n * 2", replace="n * 3")
    assert mutants.rule_line(tree, m) == 5
    diff = mutants.rule_diff(tree, m)
    assert "--- a/ch1/src/frames.c" in diff and "-\treturn n * 2;" in diff and "+\treturn n * 3;" in diff
    with pytest.raises(RuleError, match="no such file"):
        mutants.rule_line(tree, mutant(file="ch1/src/gone.c"))


def test_check_rules(tree: Path) -> None:
    found = [
        mutant("fine"),
        mutant("gone", find="n * 4"),
        mutant("twice", file="common/lib/util.c", find="x"),
        mutant("nochapter", file="ch2/src/heap.c", find="return n;", chapter=7),
    ]
    problems = mutants.check_rules(found, tree, {1, 2})
    assert set(problems) == {"gone", "twice", "nochapter"}
    assert "not there" in problems["gone"]
    assert "occurs" in problems["twice"]
    assert "ch7 has no section in the rubric" in problems["nochapter"]


# ---------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "equivalent, kwargs, outcome",
    [
        (None, {"full": False}, KILLED),
        (None, {"full": True}, SURVIVED),
        ("same", {"full": True}, EQUIVALENT),
        ("same", {"full": False}, STALE),
        (None, {"rule_error": "not there"}, BROKEN),
        ("same", {"build_error": "error: x"}, BROKEN),
        (None, {"grade_error": "exit 2", "full": None}, BROKEN),
        (None, {}, BUILT),
    ],
)
def test_classify(equivalent: str | None, kwargs: dict, outcome: str) -> None:
    assert mutants.classify(mutant(equivalent=equivalent), **kwargs) == outcome


def test_totals_and_closing_line() -> None:
    results = [mutants.Result(mutant(str(i)), outcome) for i, outcome in
               enumerate([KILLED, KILLED, STALE, EQUIVALENT, HOST_ONLY, SURVIVED, BROKEN])]  # fmt: skip
    totals = mutants.Totals.of(results)
    assert totals.closing() == ("mutants: 3 killed, 1 caught by host tests only, 1 equivalent, "
                                "1 unexplained survivors, 1 broken (score 3/5 by the grade)")  # fmt: skip
    assert not totals.ok
    assert mutants.Totals.of(results[:5]).ok  # caught by a host test: not a gap


def write_results(path: Path, statuses: dict[str, str], points: dict[str, float] | None = None) -> None:
    """A grader JSON file with one item per name (5 points each unless @p points says otherwise)."""
    points = points or {}
    tests = [{"name": name, "status": "passed" if status == "passed" else "failed", "max_score": points.get(name, 5),
              "output": f"{status} (0/{points.get(name, 5)} points)\nconfigurations: all"}
             for name, status in statuses.items()]  # fmt: skip
    path.write_text(json.dumps({"score": 0, "tests": tests}))


def test_read_grading(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_results(path, {"a.x": "passed", "a.y": "passed"})
    assert mutants.read_grading(path, 0) == (True, [], None)
    write_results(path, {"a.x": "passed", "a.y": "timeout", "a.z": "failed"})
    assert mutants.read_grading(path, 1) == (False, ["a.y (timeout)", "a.z (failed)"], None)
    assert mutants.read_grading(path, 0)[2].startswith("grader/grade.py exited with 0 but")
    assert mutants.read_grading(path, 2)[2] == "grader/grade.py exited with code 2"
    assert mutants.read_grading(path, None)[2] == "grader/grade.py did not finish in time"
    assert "no readable JSON" in mutants.read_grading(tmp_path / "none.json", 1)[2]


def test_read_grading_puts_items_worth_points_first(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    statuses = {"common.machine": "panic", "common.smp": "panic", "ch2.trace.long": "panic", "ch2.b": "failed"}
    write_results(path, statuses, points={"common.machine": 0, "common.smp": 0})
    assert mutants.read_grading(path, 1)[1] == [
        "ch2.trace.long (panic)", "ch2.b (failed)", "common.machine (panic)", "common.smp (panic)",
    ]  # fmt: skip


def test_select() -> None:
    found = [mutant("a"), mutant("b"), mutant("c")]
    assert mutants.select(found, []) == found
    assert [m.id for m in mutants.select(found, ["c,a", " b "])] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="no such mutant: x"):
        mutants.select(found, ["a,x"])


def test_scratch_write_is_newer_than_every_object(tmp_path: Path) -> None:
    scratch = mutants.Scratch(tmp_path / "w0")
    (scratch.path / "build" / "ch1").mkdir(parents=True)
    (scratch.path / "src").mkdir()
    obj = scratch.path / "build" / "ch1" / "x.o"
    obj.write_text("o")
    ahead = time.time_ns() + 50_000_000  # an object stamped 50 ms ahead (a coarse clock tick, exaggerated)
    os.utime(obj, ns=(ahead, ahead))
    scratch.write("src/x.c", "int x;\n")
    assert (scratch.path / "src" / "x.c").read_text() == "int x;\n"
    assert os.stat(scratch.path / "src" / "x.c").st_mtime_ns > ahead


def test_report_lines() -> None:
    results = [
        mutants.Result(mutant("k"), KILLED, detail="ch1.suite.one (failed)", elapsed=2.0, line=3),
        mutants.Result(mutant("e", equivalent="same code"), EQUIVALENT, elapsed=2.0, line=3),
        mutants.Result(mutant("s"), SURVIVED, elapsed=2.0, line=5),
        mutants.Result(mutant("st", equivalent="same"), STALE, detail="ch1.suite.one (failed)", elapsed=2.0),
        mutants.Result(mutant("b"), BROKEN, detail="does not compile: x.c:1: error"),
    ]
    text = "\n".join(mutants.report_lines(results, 10.0, 3.0))
    assert "equivalent: same code" in text
    assert "not caught: a mistake (ch1/src/frames.c:5)" in text
    assert "Unexplained survivors" in text and "  s: a mistake (ch1/src/frames.c:5)" in text
    assert "warning: st is explained as equivalent but was killed" in text
    assert "  b: does not compile: x.c:1: error" in text
    assert "time: 5 mutant(s) in 10 s, baseline 3 s" in text
    assert text.splitlines()[-1] == ("mutants: 2 killed, 0 caught by host tests only, 1 equivalent, "
                                     "1 unexplained survivors, 1 broken (score 2/3 by the grade)")  # fmt: skip


# ---------------------------------------------------------------------------
# --check and --list
# ---------------------------------------------------------------------------


def test_check_ok(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, entry("a", "ch1/src/frames.c", "n * 2", "n * 3")
                    + entry("b", "common/lib/util.c", "x + 1", "x - 1", equivalent="why not"))  # fmt: skip
    code, out = run(tree, "--check", capsys=capsys)
    assert code == 0
    assert out.strip() == "mutants: check: 2 mutants OK (ch1 2; 1 explained as equivalent)"


def test_check_reports_rules_that_no_longer_apply(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, entry("a", "ch1/src/frames.c", "n * 4", "n * 3") + entry("b", "ch1/src/gone.c", "x", "y"))
    code, out = run(tree, "--check", capsys=capsys)
    assert code == 1
    assert "mutants: check: a: ch1/src/frames.c: the text to find is not there" in out
    assert "mutants: check: b: ch1/src/gone.c: no such file" in out
    assert out.splitlines()[-1] == "mutants: check: 2 problem(s) in 2 mutant(s)"


def test_check_reports_a_malformed_catalogue(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, entry("a", "ch1/tests/frames_test.c", "return 0", "return 1"))
    code, out = run(tree, "--check", capsys=capsys)
    assert code == 1
    assert "tests are not mutated" in out
    # A run refuses to start on it (a usage error), a check fails (1).
    code, out = run(tree, capsys=capsys)
    assert code == 2


def test_a_handout_tree_has_nothing_to_check(tree: Path, capsys: pytest.CaptureFixture) -> None:
    (tree / ".handout").write_text("mmlab handout for chapter 2\nchapter = 2\n")
    code, out = run(tree, "--check", capsys=capsys)
    assert code == 0
    assert out.strip() == f"mutants: check: {tree} is a handout, not the reference tree: nothing to check"
    code, _ = run(tree, capsys=capsys)
    assert code == 2


def test_list(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, entry("a", "ch1/src/frames.c", "n * 2", "n * 3", equivalent="e"))
    code, out = run(tree, "--list", capsys=capsys)
    assert code == 0
    assert out == "a  ch1  ch1/src/frames.c:5  the mistake of a  [equivalent]\n"


# ---------------------------------------------------------------------------
# Whole runs (fake make, fake QEMU, the real grader)
# ---------------------------------------------------------------------------


CATALOGUE = (
    entry("killed", "ch1/src/frames.c", "return n * 2;", "return n * 2; /*KILL*/")
    + entry("survivor", "ch1/src/frames.c", "n * 2", "n + n")
    + entry("host-only", "ch1/src/frames.c", "if (n < 0)", "if (n < 0) /*HOSTFAIL*/")
    + entry("explained", "common/lib/util.c", "x + 1", "1 + x", equivalent="addition commutes")
    + entry("stale", "ch2/src/heap.c", "return n;", "return n; /*KILL*/", equivalent="it is not")
    + entry("common-in-ch2", "common/lib/util.c", "return x + 1;", "return x + 1; /*KILL*/", chapter=2)
    + entry("not-there", "ch1/src/frames.c", "n * 7", "n * 8")
    + entry("no-compile", "ch2/src/heap.c", "return n;", "#error nope\n\treturn n;")
)


def test_run_classifies_every_kind_of_mutant(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, CATALOGUE)
    before = {rel: (tree / rel).read_text() for rel in SOURCES}
    code, out = run(tree, "--jobs", "2", capsys=capsys)
    assert code == 1, out
    table = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in
             {"killed", "survivor", "host-only", "explained", "stale", "common-in-ch2", "not-there",
              "no-compile"}}  # fmt: skip
    assert " killed " in table["killed"] and "ch1.suite.one (failed)" in table["killed"]
    assert " SURVIVED " in table["survivor"]
    assert " host only " in table["host-only"] and "the host test saw it" in table["host-only"]
    assert "Caught by the host unit tests only" in out and "  host-only: host tests: FAIL" in out
    assert " equivalent " in table["explained"] and "addition commutes" in table["explained"]
    assert " killed (stale) " in table["stale"] and "ch2.suite (failed)" in table["stale"]
    assert " killed " in table["common-in-ch2"] and "  2  " in table["common-in-ch2"]
    assert " broken " in table["not-there"] and "not there" in table["not-there"]
    assert " broken " in table["no-compile"] and "does not compile" in table["no-compile"]
    assert "warning: stale is explained as equivalent but was killed" in out
    assert out.splitlines()[-1] == ("mutants: 3 killed, 1 caught by host tests only, 1 equivalent, "
                                    "1 unexplained survivors, 2 broken (score 3/5 by the grade)")  # fmt: skip
    # The tree itself is never touched; the logs and the report are in build/mutants.
    assert {rel: (tree / rel).read_text() for rel in SOURCES} == before
    logs = tree / "build" / "mutants"
    assert "+\treturn n * 2; /*KILL*/" in (logs / "killed" / "mutant.diff").read_text()
    assert (logs / "killed" / "ch1-64M-1.log").is_file()
    assert "grade: 1 passed, 1 failed" in (logs / "killed" / "grade.txt").read_text()
    assert "error: #error" in (logs / "no-compile" / "build.log").read_text()
    report = json.loads((logs / "report.json").read_text())
    assert (report["killed"], report["equivalent"], report["survived"], report["broken"]) == (3, 1, 1, 2)
    assert (logs / "report.txt").read_text().splitlines()[-1] == out.splitlines()[-1]
    # Every scratch tree is back to the original sources.
    for scratch in (logs / "work").iterdir():
        assert {rel: (scratch / rel).read_text() for rel in SOURCES} == before


def test_run_only_some_and_all_caught(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, CATALOGUE)
    code, out = run(tree, "--only", "killed,explained", capsys=capsys)
    assert code == 0, out
    assert out.splitlines()[-1] == ("mutants: 1 killed, 0 caught by host tests only, 1 equivalent, "
                                    "0 unexplained survivors, 0 broken (score 1/1 by the grade)")  # fmt: skip
    assert "baseline ch1: full score" in out


def test_run_unknown_mutant(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, CATALOGUE)
    capsys.readouterr()
    code = mutants.main(["--root", str(tree), "--catalogue", str(tree / "mutants.toml"), "--only", "killed,nobody"])
    assert code == 2
    assert "no such mutant: nobody" in capsys.readouterr().err


def test_run_a_hanging_mutant_is_killed_by_the_timeout(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, entry("hang", "ch1/src/frames.c", "return n * 2;", "return n * 2; /*HANG*/"))
    code, out = run(tree, "--timeout-scale", "0.5", capsys=capsys)
    assert code == 0, out
    assert "ch1.suite.one (timeout)" in out


def test_run_refuses_a_tree_that_is_not_full_to_begin_with(tree: Path, capsys: pytest.CaptureFixture) -> None:
    (tree / "ch1" / "src" / "frames.c").write_text("int frames(int n) { return n; } /*KILL*/\n")
    write_catalogue(tree, entry("a", "ch1/src/frames.c", "return n;", "return n + 1;"))
    code, out = run(tree, capsys=capsys)
    assert code == 2
    assert "the unmutated tree does not get a full score in ch1" in out


def test_confirm_a_kill_that_does_not_reproduce_survives(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, entry("flaky", "ch1/src/frames.c", "return n * 2;", "return n * 2; /*FLAKY*/")
                    + entry("killed", "ch1/src/frames.c", "return n * 2;", "return n * 2; /*KILL*/"))  # fmt: skip
    code, out = run(tree, "--confirm", "0", capsys=capsys)
    assert code == 0, out
    assert out.splitlines()[-1].startswith("mutants: 2 killed, 0 caught by host tests only, 0 equivalent, 0 unexplained")
    code, out = run(tree, "--confirm", "2", capsys=capsys)
    assert code == 1, out
    assert out.splitlines()[-1] == ("mutants: 1 killed, 0 caught by host tests only, 0 equivalent, "
                                    "1 unexplained survivors, 0 broken (score 1/2 by the grade)")  # fmt: skip
    assert "flaky kill: full score in grading 2 of 3; grading 1 failed ch1.suite.one (failed)" in out
    assert "Flaky kills" in out
    logs = tree / "build" / "mutants"
    assert (logs / "flaky" / "grade-2.txt").is_file() and not (logs / "flaky" / "grade-3.txt").exists()
    assert (logs / "killed" / "grade-3.txt").is_file() and (logs / "killed" / "ch1-64M-1-3.log").is_file()
    code, out = run(tree, capsys=capsys)  # the default: one more grading
    assert code == 1
    assert out.splitlines()[-1] == ("mutants: 1 killed, 0 caught by host tests only, 0 equivalent, "
                                    "1 unexplained survivors, 0 broken (score 1/2 by the grade)")  # fmt: skip
    assert json.loads((logs / "report.json").read_text())["mutants"][0]["flaky"] is True


def test_build_only(tree: Path, capsys: pytest.CaptureFixture) -> None:
    write_catalogue(tree, CATALOGUE)
    code, out = run(tree, "--build-only", capsys=capsys)
    assert code == 1
    assert "mutants: broken: not-there:" in out and "mutants: broken: no-compile: does not compile" in out
    assert out.splitlines()[-1].startswith("mutants: 6 built, 2 broken")
