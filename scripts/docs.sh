#!/usr/bin/env bash
# The reference site: build it, check it.
#
#   scripts/docs.sh build   build/docs/html from common/, every chapter present
#                           and the guides; fails on any Doxygen warning, on a
#                           header without an @file block, an undocumented enum
#                           value, or a function parameter its comment never names
#   scripts/docs.sh check   build, then: no broken internal link in the site, and
#                           headless Chromium loads the main page and a chapter
#                           guide with no console error (screenshots go to
#                           build/docs/screenshot-*.png)
#
# Run from anywhere; `make docs` and `make docs-check` call it. Every finding is
# printed as `file:line: message` and makes the exit status 1.
# Environment: DOXYGEN, CHROMIUM, PYTHON (default /usr/bin/python3 or python3),
# MMLAB_AWESOME (the doxygen-awesome-css directory).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-build}
out=$root/build/docs
html=$out/html
doxygen=${DOXYGEN:-doxygen}
python=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
awesome=${MMLAB_AWESOME:-/usr/share/doxygen-awesome-css}

die() { echo "docs: $*" >&2; exit 1; }

need_tools() {
	command -v "$doxygen" >/dev/null || die "doxygen not found (scripts/setup.sh --test installs it)"
	command -v dot >/dev/null || die "dot (graphviz) not found (scripts/setup.sh --test installs it)"
	[ -e "$awesome/doxygen-awesome.css" ] ||
		die "doxygen-awesome-css not found in $awesome (scripts/setup.sh --test installs it)"
}

build() {
	need_tools
	local start=$SECONDS fail=0
	rm -rf "$html" "$out/xml" "$out/gen" "$out"/screenshot-*.png
	mkdir -p "$out/gen"

	# The chapters present (a handout may hold fewer), in numeric order.
	local chapters=() c
	for c in $(ls -d ch[1-9]* 2>/dev/null | sort -V); do
		[ -d "$c" ] && chapters+=("$c")
	done

	# Checks Doxygen 1.9.4 cannot make: @file blocks, enum values; the guides.
	"$python" docs/check_site.py headers "$root" "${chapters[@]}" || fail=1
	"$python" docs/check_site.py chapters "$root" "$out/gen/chapters.md" "${chapters[@]}" || fail=1

	# What Doxygen reads (docs/Doxyfile says how), as paths relative to the
	# root, where Doxygen runs. The pages come first, in the order of the
	# site's tree view: the main page, the shared pages, the chapter list (the
	# guides hang below it), any other page of docs/.
	local input=() includes=(common/include) p d
	for p in index boot layout layers chapters testing handout conventions; do
		if [ $p = chapters ]; then
			input+=(build/docs/gen/chapters.md)
		elif [ -f "docs/$p.md" ]; then
			input+=("docs/$p.md")
		fi
	done
	for p in docs/*.md; do
		case " ${input[*]} " in *" $p "*) ;; *) input+=("$p") ;; esac
	done
	input+=(common/include common/lib)
	for c in "${chapters[@]}"; do
		for d in include src; do [ -d "$c/$d" ] && input+=("$c/$d"); done
		[ -d "$c/include" ] && includes+=("$c/include")
		# The guide as the site shows it (docs/check_site.py chapters).
		[ -f "build/docs/gen/$c/README.md" ] && input+=("build/docs/gen/$c/README.md")
	done
	MMLAB_INPUT=$(printf '"%s" ' "${input[@]}")
	MMLAB_INCLUDES=$(printf '"%s" ' "${includes[@]}")
	export MMLAB_INPUT MMLAB_INCLUDES MMLAB_AWESOME=$awesome

	if ! "$doxygen" docs/Doxyfile >"$out/doxygen.log" 2>&1; then
		fail=1
		grep -v '^$' "$out/doxygen.log" >&2 || true
	fi
	# Warnings, one line each (Doxygen continues some on indented lines), each
	# once, with paths relative to the root so that they read file:line.
	if [ -s "$out/warnings.log" ]; then
		fail=1
		sed "s|$root/||g; s|build/docs/gen/\(ch[0-9]*/README.md\)|\1|g" "$out/warnings.log" | awk '
			/^[ \t]/ { sub(/^[ \t]+/, ""); line = line (line ~ /:$/ ? " " : ", ") $0; next }
			{ if (line != "" && !seen[line]++) print line; line = $0 }
			END { if (line != "" && !seen[line]++) print line }' >&2
	fi
	[ -f "$html/index.html" ] || die "Doxygen made no build/docs/html/index.html (see $out/doxygen.log)"
	"$python" docs/check_site.py params "$root" "$out/xml" || fail=1

	if [ $fail -ne 0 ]; then
		echo "docs: the site has problems (listed above); it is in build/docs/html" >&2
		return 1
	fi
	echo "docs: build/docs/html/index.html ($(ls "$html"/*.html | wc -l) pages, chapters: ${chapters[*]:-none}, $((SECONDS - start)) s)"
}

check() {
	local start=$SECONDS
	local chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
	[ -n "$chromium" ] || die "chromium not found (scripts/setup.sh --test installs it)"
	build
	"$python" docs/check_site.py links "$html" --xml "$out/xml" --diagrams docs/diagrams
	"$python" docs/check_site.py browser --chromium "$chromium" --html "$html" --shots "$out"
	echo "docs: check passed in $((SECONDS - start)) s"
}

case $mode in
build) build ;;
check) check ;;
*) die "usage: scripts/docs.sh build|check" ;;
esac
