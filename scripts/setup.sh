#!/usr/bin/env bash
# Install what mmlab needs from Debian's packages, and only what is missing.
#
#   scripts/setup.sh          what `make grade` needs: the cross compiler, QEMU
#                             (with OpenSBI), dtc, cpio, python3, pyelftools (the
#                             build's symbol table, scripts/ksyms.py), make
#   scripts/setup.sh --test   also what `make test` needs: pytest, a host C
#                             compiler with sanitizers, Doxygen and its theme,
#                             graphviz, headless Chromium, clang-format, ccache,
#                             xmllint, Node.js and npm, and the workflow
#                             validator (npm packages pinned by
#                             scripts/workflow-check, into build/tools)
#   scripts/setup.sh --dev    also gdb-multiarch and bear (make gdb, editors)
#
# As root it runs apt-get; otherwise it prints the exact command and stops.
# Exit status: 0 when everything is there (or was installed), 1 otherwise,
# 2 for an unknown option.
set -euo pipefail

mode=${1:-grade}
case $mode in
grade | --test | --dev) ;;
*)
	echo "usage: scripts/setup.sh [--test | --dev]" >&2
	exit 2
	;;
esac
missing=()

# need PACKAGE TEST...: PACKAGE is missing unless the shell test succeeds.
need() {
	local pkg=$1
	shift
	"$@" >/dev/null 2>&1 || missing+=("$pkg")
}
have() { command -v "$1"; }

need make have make
need python3 have python3
# Debian's python3-* packages are seen only by /usr/bin/python3, which is the
# one the Makefile runs scripts/ksyms.py with.
need python3-pyelftools /usr/bin/python3 -c 'import elftools'
need gcc-riscv64-unknown-elf have riscv64-unknown-elf-gcc
need qemu-system-misc have qemu-system-riscv64
need qemu-system-data test -e /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin
need device-tree-compiler have dtc
# The archive of user programs linked into the kernel (Makefile, initramfs.cpio).
need cpio have cpio
if [ "$mode" = --test ] || [ "$mode" = --dev ]; then
	need python3-pytest /usr/bin/python3 -c 'import pytest'
	need gcc have gcc
	need libc6-dev test -e /usr/include/stdlib.h
	need doxygen have doxygen
	need graphviz have dot
	need doxygen-awesome-css test -e /usr/share/doxygen-awesome-css/doxygen-awesome.css
	need chromium have chromium
	need clang-format have clang-format
	# The handout and progress checks build the same sources in many trees (Makefile, CCACHE).
	need ccache have ccache
	# The grader's tests validate its JUnit XML against an XML Schema (grader/tests/test_export.py).
	need libxml2-utils have xmllint
	# The validator of `make workflow-check` runs on Node.js, installed with npm (below).
	need nodejs have node
	need npm have npm
fi
if [ "$mode" = --dev ]; then
	need gdb-multiarch have gdb-multiarch
	need bear have bear
fi

# workflow_tools: the validator of `make workflow-check`, exactly the npm
# packages scripts/workflow-check/package-lock.json pins, installed (npm ci)
# into build/tools/workflow-check unless that lock is already installed there.
workflow_tools() {
	local src dir log
	src=$(dirname "$0")/workflow-check
	dir=$(dirname "$0")/../build/tools/workflow-check
	if cmp -s "$src/package-lock.json" "$dir/package-lock.json" && [ -x "$dir/node_modules/.bin/action-validator" ]; then
		return 0
	fi
	rm -rf "$dir" && mkdir -p "$dir" && cp "$src/package.json" "$src/package-lock.json" "$dir/"
	log=$(mktemp)
	echo "mmlab: installing the workflow validator into build/tools/workflow-check (log: $log) ..."
	if ! npm ci --prefix "$dir" --no-audit --no-fund --ignore-scripts >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -f "$dir/package-lock.json"
		echo "mmlab: npm ci failed; the lines above say why (full log: $log)" >&2
		return 1
	fi
}

if [ ${#missing[@]} -eq 0 ]; then
	[ "$mode" = grade ] || workflow_tools
	exit
fi

echo "mmlab: missing Debian packages: ${missing[*]}"
if ! command -v apt-get >/dev/null; then
	echo "mmlab: no apt-get here. Install the equivalents of: ${missing[*]}" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "mmlab: run this, then try again:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
echo "mmlab: installing (log: $log) ..."
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "mmlab: apt-get failed; the lines above say why (full log: $log)" >&2
	exit 1
fi
echo "mmlab: installed ${missing[*]}"
[ "$mode" = grade ] || workflow_tools
