"""Tests of scripts/linux_compare.py: the generator, its model, the output
parser and the diff (no QEMU; the last tests run the host side when a C
compiler and Linux are there)."""
import os
import platform
import shutil
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import linux_compare as lc  # noqa: E402

ARGS = {"m": 5, "u": 2, "p": 3, "r": 5, "a": 3, "s": 3, "w": 3}


# ---- the generator -------------------------------------------------------------

def test_a_seed_gives_the_same_sequence_every_time():
    assert lc.generate(7, 500) == lc.generate(7, 500)


def test_different_seeds_give_different_sequences():
    assert lc.generate(1, 200) != lc.generate(2, 200)


def test_a_sequence_has_the_calls_asked_for_and_ends_with_q():
    seq = lc.generate(3, 300)
    assert len(seq) == 301 and seq[-1] == "q"


def test_every_line_is_a_known_call_with_its_arguments():
    for line in lc.generate(4, 3000)[:-1]:
        op, *args = line.split()
        assert op in ARGS, line
        assert len(args) == ARGS[op], line
        for a in args:
            body = a[1:] if a[0] in "WTV" else a
            body = body[1:] if body[:1] in "+-" else body
            assert body == "" or all(c in "0123456789abcdef" for c in body), line


def test_every_kind_of_call_is_generated():
    ops = {line[0] for line in lc.generate(5, 3000)}
    assert ops >= set(ARGS) | {"q"}


def test_calls_that_must_fail_are_generated():
    seq = lc.generate(6, 5000)
    assert any(" T" in line for line in seq)  # above the user half
    assert any(" 0 3 " in line and line.startswith("m") for line in seq)  # len 0
    assert any(line.startswith("u") and line.endswith(" 0") for line in seq)  # munmap len 0
    assert any("V+" in line for line in seq)  # wrapping lengths


def test_writes_go_to_pages_the_model_says_are_writable():
    g = lc.Generator(8)
    for _ in range(3000):
        before = {p: st.prot for p, st in g.model.pages.items()}
        line = g.next()
        if line.startswith("w "):
            page = int(line.split()[1], 16)
            assert before[page] & lc.PROT_WRITE, line


def test_fixed_and_hinted_mappings_stay_inside_the_window():
    for line in lc.generate(9, 3000):
        parts = line.split()
        if parts[0] == "m" and parts[1].startswith("W+") and parts[2][0] not in "TV":
            start = int(parts[1][2:], 16)
            length = int(parts[2], 16)
            if start % lc.PAGE == 0 and length < 1 << 32:
                assert start + length <= lc.WINDOW_PAGES * lc.PAGE, line


# ---- the model ---------------------------------------------------------------

def test_mprotect_changes_pages_up_to_the_first_hole():
    m = lc.Model()
    m.map(0, 2, 3, False)
    m.map(3, 1, 3, False)
    assert m.protect(0, 4, 1) == "ENOMEM"
    assert m.perms() == {0: "r--p", 1: "r--p", 3: "rw-p"}


def test_mprotect_of_an_unmapped_start_changes_nothing():
    m = lc.Model()
    m.map(1, 2, 3, False)
    assert m.protect(0, 3, 1) == "ENOMEM"
    assert m.perms() == {1: "rw-p", 2: "rw-p"}


def test_a_region_cut_in_part_is_no_longer_intact():
    m = lc.Model()
    m.map(0, 4, 3, False)
    m.unmap(1, 1)
    assert m.intact_regions() == []


def test_a_region_next_to_a_mergeable_neighbour_is_not_intact():
    m = lc.Model()
    m.map(0, 2, 3, False)
    m.map(2, 2, 3, False)
    assert m.intact_regions() == []
    m.protect(2, 2, 1)  # the whole second region: both stay whole, no longer alike
    assert len(m.intact_regions()) == 2


def test_shared_regions_never_merge():
    m = lc.Model()
    m.map(0, 2, 3, True)
    m.map(2, 2, 3, True)
    assert len(m.intact_regions()) == 2


def test_move_keeps_prot_and_sharing():
    m = lc.Model()
    m.map(0, 2, 5, True)
    rid = next(iter(m.regions))
    m.move(rid, 10, 1)
    assert m.perms() == {10: "r-xs"}


# ---- the output and the diff -----------------------------------------------------

OUT = """mmlab: booting
@start 64
@ 1 w0
@M 0-3:rw-p:a40f9c
@ 2 ok
[kernel line]
@ 3 -ENOMEM
@M 0-1:r--p:1 1-2:rw-p:2 2-3:---p:- 4-5:rw-p:3 5-6:rw-p:4
@+ 7-8:--xp:-
@ 4 0
@end 4
"""


def test_parse_carries_the_window_over_and_joins_continuations():
    steps, ended, notes = lc.parse_output(OUT)
    assert ended and not notes
    assert [s.result for s in steps] == ["w0", "ok", "-ENOMEM", "0"]
    assert steps[0].window == steps[1].window == ("0-3:rw-p:a40f9c",)
    assert len(steps[2].window) == 6 and steps[3].window == steps[2].window


def test_parse_notes_a_call_out_of_order():
    _, _, notes = lc.parse_output("@ 1 0\n@ 3 0\n")
    assert notes


def test_parse_of_a_run_cut_short_has_no_end():
    steps, ended, _ = lc.parse_output("@start 64\n@ 1 w0\n@M 0-1:rw-p:1\npanic: boom\n")
    assert not ended and len(steps) == 1 and steps[0].window == ("0-1:rw-p:1",)


def test_window_perms_expands_ranges():
    assert lc.window_perms(("0-2:rw-p:1", "5-6:---p:-")) == {0: "rw-p", 1: "rw-p", 5: "---p"}


def test_first_difference_finds_results_windows_and_truncation():
    a, _, _ = lc.parse_output(OUT)
    b, _, _ = lc.parse_output(OUT)
    assert lc.first_difference(a, b) is None
    b[1].result = "skip"
    assert lc.first_difference(a, b) == 1
    c, _, _ = lc.parse_output(OUT.replace("4-5:rw-p:3", "4-5:rw-p:9"))
    assert lc.first_difference(a, c) == 2
    assert lc.first_difference(a, a[:2]) == 2


def test_report_names_the_seed_the_call_and_both_sides():
    a, _, _ = lc.parse_output(OUT)
    b, _, _ = lc.parse_output(OUT.replace("@ 3 -ENOMEM", "@ 3 0"))
    seq = ["m W 3000 3 32 0", "w 0 1 5", "p W 4000 1", "u W 1000", "q"]
    text = lc.report_difference(42, seq, a, b, 2, "")
    assert "seed 42" in text and "call 3: p W 4000 1" in text
    assert "linux: -ENOMEM" in text and "mmlab: 0" in text


def test_report_of_a_run_cut_short_shows_its_last_lines():
    a, _, _ = lc.parse_output(OUT)
    text = lc.report_difference(1, ["x"] * 5, a, a[:1], 1, "@ 1 w0\npanic: boom")
    assert "no result" in text and "panic: boom" in text


# ---- against the host's Linux (no QEMU) ----------------------------------------------

needs_linux = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64" or not shutil.which("cc"),
    reason="the host runner is for x86-64 Linux with a C compiler")


@needs_linux
def test_the_model_predicts_linux_page_by_page():
    exe = lc.build_host()
    states = []
    seq = lc.generate(11, 2000, states)
    steps, ended, notes = lc.parse_output(lc.run_host(exe, seq))
    assert ended and not notes and len(steps) == 2000
    for i, step in enumerate(steps):
        assert lc.window_perms(step.window) == states[i], (i + 1, seq[i])
    assert not [s for s in steps if s.result == "skip"]


@needs_linux
def test_the_host_runs_the_same_sequence_the_same_way_twice():
    exe = lc.build_host()
    seq = lc.generate(12, 1000)
    a, _, _ = lc.parse_output(lc.run_host(exe, seq))
    b, _, _ = lc.parse_output(lc.run_host(exe, seq))
    assert lc.first_difference(a, b) is None


def test_hashed_windows_parse_and_differ_as_the_windows_would():
    steps, ended, _ = lc.parse_output("@start 64\n@ 1 w0\n@H 1a2b\n@ 2 0\n@ 3 0\n@H 3c4d\n@end 3\n")
    assert ended and [s.window for s in steps] == [("#1a2b",), ("#1a2b",), ("#3c4d",)]
    other, _, _ = lc.parse_output("@start 64\n@ 1 w0\n@H 1a2b\n@ 2 0\n@H 9999\n@ 3 0\n@H 3c4d\n@end 3\n")
    assert lc.first_difference(steps, other) == 1


def test_the_host_runner_hashes_exactly_the_windows_it_would_print(tmp_path):
    exe = lc.build_host()
    seq = lc.generate(7, 300)
    full, _, _ = lc.parse_output(lc.run_host(exe, seq, views="full"))
    hashed, _, _ = lc.parse_output(lc.run_host(exe, seq, views="hash"))
    assert [s.result for s in full] == [s.result for s in hashed]
    # A window changes in the hashed run exactly where it changes in the full one.
    changes = lambda steps: [i for i in range(1, len(steps)) if steps[i].window != steps[i - 1].window]
    assert changes(full) == changes(hashed) and changes(full)
