"""The Gradescope autograder (scripts/gradescope.py): the zip, and run_autograder on four kinds of submission.

The zip of chapter 1 (the fastest to grade) is built once from this tree
and unzipped once; each case runs its run_autograder in a fake autograder
root of its own (MMLAB_AUTOGRADER_ROOT) whose source/ is that one copy, with
the real cross compiler and QEMU, and reads results/results.json.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from handout_fixtures import SCRIPTS  # first: it puts scripts/ on sys.path

from gradescope import find_student_files  # noqa: E402 - scripts/gradescope.py

ROOT = SCRIPTS.parent
TOOLS = ("riscv64-unknown-elf-gcc", "qemu-system-riscv64", "dtc", "make")
needs_tools = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in TOOLS), reason="needs the cross compiler, QEMU, dtc and make"
)
# Gradescope's default limit for one submission.
GRADESCOPE_LIMIT = 600


def unzip(archive: Path, dest: Path) -> None:
    """Extract @p archive into @p dest with each file's mode, as Gradescope's unzip does."""
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            path = Path(zipped.extract(info, dest))
            path.chmod((info.external_attr >> 16) & 0o777)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """Chapter 1's autograder zip, built from this tree and unzipped: what Gradescope puts in /autograder/source."""
    out = tmp_path_factory.mktemp("zip")
    done = subprocess.run([sys.executable, str(SCRIPTS / "gradescope.py"), "zip", "--ch", "1", "--out", str(out)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    source = tmp_path_factory.mktemp("source")
    unzip(out / "ch1-autograder.zip", source)
    return source


def autograde(tmp_path: Path, source: Path, files: dict[str, str], **env: str) -> tuple[dict, str, float]:
    """Run run_autograder on a submission of @p files; its results.json, its stdout and the seconds it took."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "source").symlink_to(source)
    for rel, text in files.items():
        (root / "submission" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / rel).write_text(text)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MMLAB_")}
    environment.update(env, MMLAB_AUTOGRADER_ROOT=str(root))
    start = time.monotonic()
    done = subprocess.run([str(source / "run_autograder")], env=environment, capture_output=True, text=True,
                          timeout=GRADESCOPE_LIMIT)  # fmt: skip
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done.stdout, elapsed


def buddy_c() -> str:
    """The reference solution of chapter 1's exercises."""
    return (ROOT / "ch1" / "src" / "buddy.c").read_text()


def test_the_zip_holds_the_handout_and_no_solution(source):
    assert os.access(source / "run_autograder", os.X_OK) and os.access(source / "setup.sh", os.X_OK)
    assert "tree/scripts/setup.sh" in (source / "setup.sh").read_text()
    stub = (source / "tree" / "ch1" / "src" / "buddy.c").read_text()
    assert 'TODO("ch1", "buddy_alloc: split' in stub and "LAB" not in stub
    assert "free_list_add(b, idx + order_size(o), o);" in buddy_c()
    assert "free_list_add(b, idx + order_size(o), o);" not in stub
    assert not (source / "tree" / "grader" / "mutants.toml").exists()
    assert "student_file = ch1/src/buddy.c\n" in (source / "tree" / ".handout").read_text()


@needs_tools
def test_a_solved_submission_gets_full_marks(tmp_path, source):
    results, stdout, _ = autograde(tmp_path, source, {"work/ch1/src/buddy.c": buddy_c(), "work/README.md": "mine"})
    assert results["score"] == 100 == sum(test["score"] for test in results["tests"])
    assert all(test["status"] == "passed" for test in results["tests"]) and len(results["tests"]) > 20
    assert "from your submission: ch1/src/buddy.c (your work/ch1/src/buddy.c)" in results["output"]
    assert "ignored (1 file(s)" in results["output"] and "  work/README.md" in results["output"]
    assert "grade: " in stdout and results["output_format"] == "md"


@needs_tools
def test_a_stubbed_submission_gets_zero_not_implemented(tmp_path, source):
    stub = (source / "tree" / "ch1" / "src" / "buddy.c").read_text()
    results, _, _ = autograde(tmp_path, source, {"buddy.c": stub})
    assert results["score"] == 0
    scored = [test for test in results["tests"] if test["max_score"] > 0]
    assert all(test["status"] == "failed" for test in scored)
    assert any("not implemented: free_block" in test["output"] for test in scored)
    assert "from your submission: ch1/src/buddy.c (your buddy.c)" in results["output"]


@needs_tools
def test_a_submission_that_does_not_compile_gets_zero_and_the_compilers_error(tmp_path, source):
    broken = buddy_c().replace("\tmark_alloc(b, idx, order, 0);\n", "\tmark_alloc(b, idx, order, 0)\n", 1)
    results, _, _ = autograde(tmp_path, source, {"ch1/src/buddy.c": broken})
    assert results["score"] == 0 and len(results["tests"]) > 20
    for test in results["tests"]:
        assert test["output"].startswith("```text\nbuild failed (0/")
        assert "ch1/src/buddy.c:" in test["output"] and "error: expected ';'" in test["output"]


@needs_tools
def test_a_submission_that_hangs_gets_zero_and_the_timeout_in_time(tmp_path, source):
    # free_block runs as the boot frees every frame: the kernel hangs before any test
    hang = "static int free_block(struct buddy *b, uint64_t idx, unsigned order)\n{\n"
    assert hang in buddy_c()
    submission = {"ch1/src/buddy.c": buddy_c().replace(hang, hang + "\tfor (;;)\n\t\t;\n", 1)}
    results, _, elapsed = autograde(tmp_path, source, submission, MMLAB_TIMEOUT_SCALE="0.05")
    assert results["score"] == 0 and elapsed < GRADESCOPE_LIMIT
    scored = [test for test in results["tests"] if test["max_score"] > 0]
    assert all(test["output"].startswith("```text\ntimeout (0/") for test in scored)
    assert all("no power-off within 3 s" in test["output"] for test in scored)


@needs_tools
def test_past_the_deadline_the_grade_is_stopped_and_the_results_say_so(tmp_path, source):
    results, _, elapsed = autograde(tmp_path, source, {"hello.txt": "hi"}, MMLAB_GRADESCOPE_DEADLINE="1")
    assert results["score"] == 0 and elapsed < 20
    assert "NOT in your submission, graded as handed out (its stubs): ch1/src/buddy.c" in results["output"]
    assert "did not finish within 1 s (MMLAB_GRADESCOPE_DEADLINE)" in results["output"]
    assert len(results["tests"]) > 20 and all(test["score"] == 0 for test in results["tests"])
    assert all("not graded (0/" in test["output"] for test in results["tests"])


def test_student_files_are_found_by_path_under_one_folder_or_by_name():
    wanted = ("ch1/src/buddy.c", "ch1/src/frame.c")
    assert find_student_files(["ch1/src/buddy.c", "x/ch1/src/frame.c"], wanted) == {"ch1/src/buddy.c": "ch1/src/buddy.c"}
    repo = ["mmlab-main/ch1/src/buddy.c", "mmlab-main/ch1/src/frame.c", "mmlab-main/README.md"]
    assert find_student_files(repo, wanted) == {"ch1/src/buddy.c": repo[0], "ch1/src/frame.c": repo[1]}
    assert find_student_files(["buddy.c", "notes/frame.c"], wanted) == {"ch1/src/buddy.c": "buddy.c"}
    assert find_student_files(["a/b/ch1/src/buddy.c"], wanted) == {}
    same_name = ("ch1/src/util.c", "ch2/src/util.c")
    assert find_student_files(["util.c"], same_name) == {}
