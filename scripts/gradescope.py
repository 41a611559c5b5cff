#!/usr/bin/env python3
"""mmlab on Gradescope: write a chapter's autograder zip, and grade a submission with it.

    gradescope.py zip [--ch N ...] [--out DIR]
        write DIR/chN-autograder.zip (DIR: build/gradescope) for each chapter
        (default: every chapter of the tree). The zip holds setup.sh and
        run_autograder (from grader/gradescope/) and tree/: chapter N's
        handout, exactly what its students got (scripts/handout.py: earlier
        chapters solved, N and later stubbed, no solution of N or later).
    gradescope.py run
        what run_autograder runs for every submission: grade it, and write
        results.json, whatever happens.

The run, in the autograder root ($MMLAB_AUTOGRADER_ROOT, default /autograder):
source/ holds the zip's contents, submission/ the student's upload,
results/results.json is the output.

1. Copy source/tree to a pristine work tree (mmlab/ in the root).
2. Take from submission/ the files the handout's stamp lists (tree.student_files:
   those holding the chapter's exercises), by their path in the tree, also
   under one leading folder (a zipped folder, a repository), or by their
   name alone at the top (files uploaded one by one) when that name is one
   student file's. A student file that is not there stays as handed out
   (stubbed); every other file of the submission is ignored. The output
   names all three kinds.
3. grade.py N --root <work> --json ..., with --jobs the CPUs the container
   may use, under an overall deadline (MMLAB_GRADESCOPE_DEADLINE seconds from
   the start, default DEFAULT_DEADLINE: under Gradescope's default limit of 10
   minutes). Past it, grade.py gets SIGINT (it kills its QEMUs) and then
   SIGKILL, and the results say so.
4. results.json: grade.py's (mmgrade/gradescope.py's format), with the
   submission's summary first; or, when the grader wrote none (deadline,
   crash, a rubric it cannot read), every item at 0 saying why
   (mmgrade.gradescope.unscored). An exception in this script ends the same
   way: Gradescope never finds results.json missing.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from handout.check import child_env  # scripts/ is sys.path[0]
from handout.errors import HandoutError
from handout.tree import Tree, default_root, leaked_solutions, read_stamp, read_tree, write_handout

DEFAULT_DEADLINE = 540.0
# After SIGINT, how long grade.py has to kill its QEMUs and stop.
GRACE = 10.0
ZIP_SCRIPTS = ("setup.sh", "run_autograder")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every entry's date: the same tree makes the same zip
IGNORED_SHOWN = 20


# -- the zip ---------------------------------------------------------------------------------


def build_zip(tree: Tree, n: int, out_dir: Path) -> Path:
    """Write @p out_dir/chN-autograder.zip: setup.sh, run_autograder and chapter @p n's handout as tree/."""
    staging = out_dir / f".ch{n}-staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        write_handout(tree, n, staging / "tree", git=False)
        for name in ZIP_SCRIPTS:
            shutil.copy2(tree.root / "grader" / "gradescope" / name, staging / name)
        files = sorted(path.relative_to(staging).as_posix() for path in staging.rglob("*") if path.is_file())
        stubbed = [region for region in tree.regions if region.ch >= n]
        leaks = leaked_solutions(staging, files, stubbed)
        if leaks:
            raise HandoutError("the autograder zip would give away solutions: " + ", ".join(leaks))
        zip_path = out_dir / f"ch{n}-autograder.zip"
        write_zip(staging, files, zip_path)
        return zip_path
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_zip(src: Path, files: list[str], dest: Path) -> None:
    """Zip @p files of @p src into @p dest, in order, each with its mode and the same date."""
    partial = dest.with_name(dest.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in files:
            info = zipfile.ZipInfo(rel, date_time=ZIP_DATE)
            info.external_attr = ((src / rel).stat().st_mode & 0o777 | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (src / rel).read_bytes())
    partial.replace(dest)


def cmd_zip(chapters: list[int] | None, out_dir: Path) -> int:
    """Write the zip of each chapter; print where."""
    tree = read_tree(default_root())
    for n in chapters or tree.chapters:
        path = build_zip(tree, n, out_dir)
        size = path.stat().st_size
        print(f"gradescope: {path} ({size // 1024} KiB): upload it as chapter {n}'s autograder")
    return 0


# -- the submission --------------------------------------------------------------------------


@dataclass
class Placement:
    """Where each student file came from: the submission (taken), nowhere (missing); what was ignored."""

    taken: dict[str, str] = field(default_factory=dict)  # tree path -> path in the submission
    missing: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def submitted_files(submission: Path) -> tuple[list[str], list[str]]:
    """The submission's regular files, and its other entries (symlinks, devices), relative, sorted."""
    files, others = [], []
    for path in sorted(submission.rglob("*")) if submission.is_dir() else []:
        rel = path.relative_to(submission).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            others.append(rel)
        elif path.is_file():
            files.append(rel)
    return files, others


def find_student_files(files: list[str], wanted: tuple[str, ...]) -> dict[str, str]:
    """{tree path: submission path} for each of @p wanted found in @p files.

    By its path, at the top or under the one leading folder that holds the
    most of them; failing that, by its name at the top (or in that folder)
    when no other wanted file has that name.
    """
    present = set(files)
    folders = sorted({rel.split("/", 1)[0] + "/" for rel in files if "/" in rel})
    prefix = max([""] + folders, key=lambda p: sum(p + rel in present for rel in wanted))
    found = {rel: prefix + rel for rel in wanted if prefix + rel in present}
    names = [rel.rsplit("/", 1)[-1] for rel in wanted]
    for rel in wanted:
        name = rel.rsplit("/", 1)[-1]
        if rel in found or names.count(name) > 1:
            continue
        for candidate in (name, prefix + name):
            if candidate in present and candidate not in found.values():
                found[rel] = candidate
                break
    return found


def place_submission(submission: Path, work: Path, wanted: tuple[str, ...]) -> Placement:
    """Copy the student files of @p submission into @p work; the rest stays as handed out."""
    files, others = submitted_files(submission)
    found = find_student_files(files, wanted)
    placement = Placement()
    for rel in wanted:
        if rel in found:
            (work / rel).write_bytes((submission / found[rel]).read_bytes())
            placement.taken[rel] = found[rel]
        else:
            placement.missing.append(rel)
    used = set(found.values())
    placement.ignored = [rel for rel in files if rel not in used] + others
    return placement


def placement_text(n: int, placement: Placement) -> str:
    """The submission's summary, as the results show it first."""
    lines = [f"chapter {n}: graded are your {', '.join(list(placement.taken) + placement.missing) or 'nothing'}"]
    for rel, where in placement.taken.items():
        lines.append(f"  from your submission: {rel}" + (f" (your {where})" if where != rel else ""))
    for rel in placement.missing:
        lines.append(f"  NOT in your submission, graded as handed out (its stubs): {rel}")
    if placement.ignored:
        shown = placement.ignored[:IGNORED_SHOWN]
        more = len(placement.ignored) - len(shown)
        lines.append(f"ignored ({len(placement.ignored)} file(s): only the files above are graded):")
        lines += [f"  {rel}" for rel in shown] + ([f"  ... and {more} more"] if more else [])
    return "\n".join(lines)


# -- grading ---------------------------------------------------------------------------------


def cpu_limit() -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup CPU quota (a container's limit)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = None
    try:
        limit, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        quota = None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        try:
            limit = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
            period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
            quota = limit / period if limit > 0 else None
        except (OSError, ValueError):
            pass
    return max(1, min(cpus, math.ceil(quota)) if quota else cpus)


def env_number(name: str, default: float) -> float:
    """The positive number in environment variable @p name, or @p default."""
    value = os.environ.get(name, "")
    try:
        number = float(value) if value else default
    except ValueError:
        raise HandoutError(f"{name}={value!r} is not a number") from None
    if number <= 0:
        raise HandoutError(f"{name} must be positive")
    return number


def run_grader(argv: list[str], seconds: float) -> tuple[int | None, str]:
    """Run @p argv, its output copied to ours; its exit code (None: stopped at the deadline) and output."""
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=child_env(),
        start_new_session=True,
    )  # fmt: skip
    chunks: list[str] = []

    def copy() -> None:
        for raw in process.stdout:
            text = raw.decode("utf-8", "replace")
            chunks.append(text)
            sys.stdout.write(text)
            sys.stdout.flush()

    reader = threading.Thread(target=copy, daemon=True)
    reader.start()
    code: int | None
    try:
        code = process.wait(timeout=max(seconds, 0.1))
    except subprocess.TimeoutExpired:
        code = None
        _signal_group(process, signal.SIGINT)  # grade.py kills its QEMUs on Ctrl-C
        try:
            process.wait(timeout=GRACE)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    reader.join(timeout=5)
    return code, "".join(chunks)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    """Send @p sig to the process group @p process leads, if it is still there."""
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def rubric_chapters(work: Path, n: int) -> list:
    """Chapter @p n of the work tree's rubric (for results without a grade), or none if it cannot be read."""
    from mmgrade.rubric import RubricError, load

    try:
        chapters = load(work / "grader" / "rubric.toml")
    except RubricError:
        return []
    return [chapters[n]] if n in chapters else []


@dataclass
class Autograder:
    """The autograder's directories, and when it started."""

    root: Path
    start: float = field(default_factory=time.monotonic)

    @property
    def results(self) -> Path:
        """results/results.json."""
        return self.root / "results" / "results.json"

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.start

    def write(self, results: dict) -> None:
        """Write results.json."""
        self.results.parent.mkdir(parents=True, exist_ok=True)
        self.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    def grade(self) -> dict:
        """Grade the submission; the results object."""
        from mmgrade.gradescope import code_block, unscored

        deadline = env_number("MMLAB_GRADESCOPE_DEADLINE", DEFAULT_DEADLINE)
        source = self.root / "source" / "tree"
        stamp = read_stamp(source)
        if stamp is None or not stamp.chapter:
            raise HandoutError(f"{source} is not a handout (no chapter in its .handout stamp)")
        work = self.root / "mmlab"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(source, work, symlinks=True)
        placement = place_submission(self.root / "submission", work, stamp.student_files)
        summary = placement_text(stamp.chapter, placement)
        print(summary, flush=True)
        json_path = work / "build" / "gradescope" / "results.json"
        jobs = int(env_number("MMLAB_GRADESCOPE_JOBS", cpu_limit()))
        argv = [sys.executable, str(work / "grader" / "grade.py"), str(stamp.chapter), "--root", str(work),
                "--jobs", str(jobs), "--json", str(json_path)]  # fmt: skip
        code, log = run_grader(argv, deadline - self.elapsed())
        if code is None:
            reason = (f"the grade did not finish within {deadline:g} s (MMLAB_GRADESCOPE_DEADLINE) and was stopped: "
                      "a kernel that hangs, or a machine much slower than expected")  # fmt: skip
            results = unscored(rubric_chapters(work, stamp.chapter), reason, self.elapsed(), log)
        elif code in (0, 1) and json_path.is_file():
            results = json.loads(json_path.read_text(encoding="utf-8"))
        else:
            reason = f"the grader stopped with exit code {code} and wrote no results"
            results = unscored(rubric_chapters(work, stamp.chapter), reason, self.elapsed(), log)
        results["output"] = "Your submission:\n\n" + code_block(summary) + "\n\n" + results["output"]
        return results


def cmd_run() -> int:
    """Grade the submission in the autograder root; results.json is written whatever happens."""
    autograder = Autograder(Path(os.environ.get("MMLAB_AUTOGRADER_ROOT", "/autograder")))
    sys.path.insert(0, str(default_root() / "grader"))
    try:
        results = autograder.grade()
    except Exception as err:  # noqa: BLE001 - whatever it is, the student gets results saying so
        reason = f"the autograder failed: {type(err).__name__}: {err}"
        print(reason, file=sys.stderr)
        results = {
            "score": 0,
            "execution_time": round(autograder.elapsed()),
            "output": f"Not graded: {reason}. Tell your teacher.",
            "output_format": "text",
            "tests": [],
        }
    autograder.write(results)
    print(f"gradescope: score {results['score']}, results in {autograder.results}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description="mmlab's Gradescope autograder: write its zip, or run it.")
    modes = parser.add_subparsers(dest="mode", required=True)
    zip_mode = modes.add_parser("zip", help="write build/gradescope/chN-autograder.zip")
    zip_mode.add_argument("--ch", type=int, action="append", metavar="N", help="the chapter (repeatable; default: all)")
    zip_mode.add_argument("--out", type=Path, default=default_root() / "build" / "gradescope", metavar="DIR")
    modes.add_parser("run", help="grade /autograder/submission (what run_autograder runs)")
    args = parser.parse_args(argv)
    if args.mode == "run":
        return cmd_run()
    try:
        return cmd_zip(args.ch, args.out)
    except HandoutError as err:
        print(f"gradescope: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
