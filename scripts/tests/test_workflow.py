"""The GitHub Actions workflow a handout ships (.github/workflows/grade.yml) and its validator (make workflow-check)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from handout_fixtures import handout_of, make_tree
from handout.tree import list_files

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "grade.yml"
VALIDATOR = REPO / "build" / "tools" / "workflow-check" / "node_modules" / ".bin" / "action-validator"


def validate(path: Path) -> subprocess.CompletedProcess:
    """Run the pinned validator on @p path; fail (never skip) when it is not installed."""
    if not VALIDATOR.exists():
        pytest.fail(f"{VALIDATOR.relative_to(REPO)} is missing: run scripts/setup.sh --test")
    return subprocess.run([str(VALIDATOR), str(path)], capture_output=True, text=True, check=False)


def test_the_workflow_is_valid():
    done = validate(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "find, replace, complaint",
    [
        ("permissions:", "permision:", "Additional property 'permision' is not allowed"),
        ("  push:\n", "  pushh:\n", "Additional property 'pushh' is not allowed"),
        ("on:\n  push:\n  pull_request:\n  workflow_dispatch:\n", "on: 42\n", '"path": "/on"'),
        ("    runs-on: ubuntu-24.04\n", "", '"path": "/jobs/grade/runs-on"'),
        ("    timeout-minutes: 45\n", "    timeout-minute: 45\n", "Additional property 'timeout-minute'"),
        ("    container: debian:12\n", "    container: [debian, 12]\n", '"path": "/jobs/grade/container"'),
    ],
)
def test_the_validator_catches_mistakes(tmp_path, find, replace, complaint):
    text = WORKFLOW.read_text()
    assert text.count(find) == 1
    broken = tmp_path / "grade.yml"
    broken.write_text(text.replace(find, replace))
    done = validate(broken)
    assert done.returncode != 0
    assert complaint in done.stdout + done.stderr


def test_the_workflow_grades_and_keeps_the_results():
    text = WORKFLOW.read_text()
    grade = text.index('make grade GRADEFLAGS="--junit build/grade/junit.xml --markdown $GITHUB_STEP_SUMMARY"')
    upload = text.index("uses: actions/upload-artifact@")
    assert grade < upload and "if: always()" in text[grade:upload]
    assert "build/grade/junit.xml\n" in text[upload:] and "build/grade/*.log\n" in text[upload:]
    # The packages come from the tree's own script, and are cached before grading (which may fail).
    assert text.index("run: bash scripts/setup.sh") < text.index("uses: actions/cache/save@") < grade
    assert "timeout-minutes:" in text


def test_the_handout_ships_the_workflow(tmp_path):
    if shutil.which("git") is not None and (REPO / ".git").exists():
        assert ".github/workflows/grade.yml" in list_files(REPO)
    root = make_tree(tmp_path / "ref", {".github/workflows/grade.yml": WORKFLOW.read_text()})
    out, result = handout_of(tmp_path, 1, tree_root=root, git=False)
    assert ".github/workflows/grade.yml" in result.files
    assert (out / ".github/workflows/grade.yml").read_text() == WORKFLOW.read_text()
