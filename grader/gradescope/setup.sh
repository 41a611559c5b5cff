#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image
# (Ubuntu 22.04 by default), with the zip's contents in /autograder/source.
# What grading needs comes from the tree's own list, scripts/setup.sh (the
# cross compiler, QEMU, dtc, cpio, python3, pyelftools, make); the grader
# also needs Python 3.11 (tomllib), which Ubuntu 22.04 has as python3.11
# beside its python3 (3.10): run_autograder then runs the grader with it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/tree/scripts/setup.sh"
if ! /usr/bin/python3 -c 'import tomllib' 2>/dev/null && ! command -v python3.11 >/dev/null; then
	echo "mmlab: installing python3.11 (the grader needs tomllib)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3.11
fi
