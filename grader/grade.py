#!/usr/bin/env python3
"""Grade mmlab chapters: build each kernel, boot it under QEMU, score its KTAP output.

Usage (from the repository root; Python 3.11+ standard library only):

    grader/grade.py                  grade every chapter of the rubric that exists
    grader/grade.py 1 3              grade ch1 and ch3
    grader/grade.py 1 --only 64M-1   boot one configuration of ch1
    grader/grade.py --json results.json --junit junit.xml
    grader/grade.py --check-rubric   rubric items vs KTEST()s in chN/tests/*.c
    grader/grade.py --bench 1        run ch1's benchmarks (-icount shift=0)

Other options: --root DIR, --rubric FILE, --jobs N, --qemu PATH (env
MMLAB_QEMU), --make CMD, --no-build, --timeout-scale FLOAT (env
MMLAB_TIMEOUT_SCALE), -v. Boot logs go to build/grade/chN-<config>.log.

The report ends with `grade: N passed, N failed` (rubric items). Exit status:
0 full score, 1 anything less (or a --check-rubric mismatch, or a failed
--bench), 2 a bad command line or rubric, 130 interrupted.
See grader/README.md for the rubric and the rules.
"""

import sys
from pathlib import Path

if sys.version_info < (3, 11):
    sys.exit(f"grade.py: needs Python 3.11 or later (for tomllib), not {sys.version.split()[0]}")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mmgrade.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
