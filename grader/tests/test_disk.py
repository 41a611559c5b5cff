"""A chapter with a disk: a fresh image per boot, attached to QEMU, and the host-side disk check after it."""

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest
from conftest import DATA, GRADER, T, cut, ktap_log, passing_suites

from mmgrade import mmfs
from mmgrade.rubric import RubricError, load

BIG = "256M/2"
SYNCED = "4096 * 'B', 4096 * 'a', 100 * 'D'"
DISK = """
[ch1.disk]
size = "1M"
inodes = 64
files = [
  { name = "pattern.dat", content = "13288 * pattern" },
  { name = "synced.dat", content = "8292 * 'a'" },
  { name = "empty.dat", content = "" },
]

[[ch1.disk_check]]
name = "ch1.disk.synced"
points = 2
after = "ch1.beta"
file = "synced.dat"
expect = "4096 * 'B', 4096 * 'a', 100 * 'D'"
hint = "synced hint"
"""


@pytest.fixture
def rubric(tmp_path):
    """The tests' rubric with a disk and a disk check (ch1.beta gives up 2 points: still 100)."""
    path = tmp_path / "disk.toml"
    path.write_text((DATA / "rubric.toml").read_text().replace("points = 20\n", "points = 18\n", 1) + DISK)
    return path


def row(out: str, item: str) -> str:
    return next(line for line in out.splitlines() if line.split()[:1] == [item])


def details(out: str, item: str) -> list[str]:
    """The lines under @p item's row, up to the next row."""
    lines = out.splitlines()
    at = lines.index(row(out, item)) + 1
    below = []
    while at < len(lines) and lines[at].startswith("      "):
        below.append(lines[at].strip())
        at += 1
    return below


def writing(lab, spec=SYNCED, **more):
    """A fake qemu whose 'kernel' passes every test and leaves synced.dat as @p spec."""
    disk = {"write": {"synced.dat": spec}} if spec is not None else {}
    return lab.qemu(
        {"serial": ktap_log(passing_suites(1)), "disk": disk, **more},
        **{BIG: {"serial": ktap_log(passing_suites(2)), "disk": disk, **more}},
    )


# --- the rubric ------------------------------------------------------------------------


def test_the_rubric_keys(rubric):
    ch1 = load(rubric)[1]
    assert ch1.disk.size == 1 << 20 and ch1.disk.inodes == 64
    assert [(f.name, len(f.data())) for f in ch1.disk.files] == [("pattern.dat", 13288), ("synced.dat", 8292), ("empty.dat", 0)]
    check = ch1.items[-1]
    assert (check.name, check.points, check.hint, check.test) == ("ch1.disk.synced", 2, "synced hint", None)
    assert (check.disk_check.file, check.disk_check.after) == ("synced.dat", "ch1.beta")
    assert ch1.max_points == 100 and check.visibility == "visible"


def test_a_disk_check_has_a_visibility(rubric):
    rubric.write_text(rubric.read_text().replace('hint = "synced hint"', 'hint = "h"\nvisibility = "hidden"'))
    assert load(rubric)[1].items[-1].visibility == "hidden"
    rubric.write_text(rubric.read_text().replace('visibility = "hidden"', 'visibility = "later"'))
    with pytest.raises(RubricError, match="visibility 'later' is not one of"):
        load(rubric)


@pytest.mark.parametrize(
    "change, message",
    [
        (('size = "1M"', 'size = "1X"'), "not a size"),
        (('size = "1M"', 'size = "8K"'), "no room for data"),
        (('size = "1M"', 'size = "32K"'), "the seed files do not fit: the files need"),
        (("inodes = 64", "inodes = 4"), "3 files need 5 inodes"),
        (("13288 * pattern", "13288 * patern"), "bad content run"),
        (('name = "empty.dat"', 'name = "a/b"'), "bad file name"),
        (('name = "empty.dat"', 'name = "synced.dat"'), "given twice"),
        (('{ name = "empty.dat", content = "" }', '{ name = "empty.dat" }'), "missing 'content'"),
        (("inodes = 64", "inodes = 64\ncolour = 1"), "unknown key"),
        (('name = "ch1.disk.synced"', 'name = "disk.synced"'), "starts with 'ch1.'"),
        (('name = "ch1.disk.synced"', 'name = "ch1.beta"'), "given twice"),
        (("expect = \"4096", "expect = \"4096 x"), "bad content run"),
        (('file = "synced.dat"', 'file = ""'), "bad file name"),
        (("points = 2\n", ""), "missing 'points'"),
    ],
)
def test_rubric_mistakes(rubric, change, message):
    text = rubric.read_text()
    assert change[0] in text
    rubric.write_text(text.replace(*change, 1))
    with pytest.raises(RubricError, match=message):
        load(rubric)


def test_a_disk_check_needs_a_disk(rubric):
    text = rubric.read_text()
    rubric.write_text(text[: text.index("[ch1.disk]")] + text[text.index("[[ch1.disk_check]]") :])
    with pytest.raises(RubricError, match="disk_check items need a disk"):
        load(rubric)


def test_check_rubric_accepts_a_disk_check(lab, rubric):
    (lab.root / "ch1/tests/t.c").write_text(
        "KTEST(ch1_alpha, one) { }\nKTEST(ch1_alpha, two) { }\nKTEST(ch1_beta, b1) { }\nKTEST(ch1_smp, concurrent) { }\n"
    )
    assert lab.grade("--check-rubric", rubric=rubric).out == "check-rubric: ch1 OK\n"
    rubric.write_text(rubric.read_text().replace('after = "ch1.beta"', 'after = "ch1.user.disk"'))
    graded = lab.grade("--check-rubric", rubric=rubric)
    assert graded.code == 1
    assert graded.out.splitlines()[0] == (
        "check-rubric: ch1.disk.synced: disk check after ch1.user.disk, which is no user test program ch1/user/tests/disk.c"
    )


# --- the image and QEMU's command line ----------------------------------------------------


def test_a_fresh_image_is_attached_to_every_boot(lab, rubric):
    writing(lab)
    graded = lab.grade(rubric=rubric)
    assert graded.code == 0, graded.out
    assert row(graded.out, "ch1.disk.synced").split()[1:] == ["2/2", "passed"]
    assert graded.closing == "grade: 5 passed, 0 failed"
    for call in lab.calls():
        name = "small" if call[call.index("-m") + 1] == "64M" else "big"
        image = lab.root / f"build/grade/ch1-{name}.img"
        at = call.index("-drive")
        assert call[at : at + 4] == [
            "-drive", f"file={image},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0"
        ]  # fmt: skip
        assert call.index("-drive") < call.index("-append")
        after = mmfs.Image.open(image)
        assert after.read("synced.dat") == mmfs.render(mmfs.parse_content(SYNCED))
        assert after.read("pattern.dat") == mmfs.render(mmfs.parse_content("13288 * pattern"))
        assert after.read("empty.dat") == b""
    # the next grading starts from the seed again: a kernel that writes nothing fails
    writing(lab, spec=None)
    graded = lab.grade(rubric=rubric)
    assert row(graded.out, "ch1.disk.synced").split()[1:] == ["0/2", "failed", "[every", "configuration]"]
    assert details(graded.out, "ch1.disk.synced")[0] == (
        "synced.dat: 4196 byte(s) differ, the first at offset 0: expected 0x42 'B', found 0x61 'a' "
        "(run 1 of the expectation, 4096 * 'B' at [0, 4096))"
    )


def test_no_disk_no_drive(lab):
    lab.passing()
    lab.grade()
    assert all("-drive" not in call for call in lab.calls())


def test_a_path_with_a_comma(tmp_path):
    from mmgrade import disk

    assert disk.qemu_args(tmp_path / "a,b.img")[1] == f"file={tmp_path}/a,,b.img,if=none,format=raw,id=d0"


def test_an_image_that_cannot_be_made(lab, rubric):
    writing(lab)
    (lab.root / "build/grade").mkdir(parents=True)
    (lab.root / "build/grade/ch1-small.img").mkdir()  # in the way
    graded = lab.grade("--only", "small", rubric=rubric)
    assert "qemu failed to start" in row(graded.out, "ch1.alpha.one")
    assert f"boot small failed: qemu failed to start: cannot make the disk image {lab.root}/build/grade/ch1-small.img" in graded.out
    assert lab.calls() == []


def test_the_bench_boot_has_a_disk_too(lab, rubric):
    lab.qemu({"serial": b"# bench ch1.x: 5 instructions\r\n", "disk": {"write": {"synced.dat": "1 * 'x'"}}})
    graded = lab.grade("--bench", "1", rubric=rubric)
    assert graded.code == 0, graded.out
    call = lab.calls()[0]
    assert call[call.index("-drive") + 1].startswith(f"file={lab.root}/build/grade/ch1-bench.img,")
    assert mmfs.Image.open(lab.root / "build/grade/ch1-bench.img").read("synced.dat") == b"x"


# --- the check's verdicts ------------------------------------------------------------------


def test_a_wrong_byte(lab, rubric):
    writing(lab, "4096 * 'B', 4000 * 'a', 96 * 'B', 100 * 'D'")
    graded = lab.grade("--only", "small", rubric=rubric)
    assert graded.code == 1
    assert row(graded.out, "ch1.disk.synced").split()[1:] == ["0/2", "failed", "[small]"]
    assert details(graded.out, "ch1.disk.synced") == [
        "synced.dat: 96 byte(s) differ, the first at offset 8096: expected 0x61 'a', found 0x42 'B' "
        "(run 2 of the expectation, 4096 * 'a' at [4096, 8192))",
        f"image: {lab.root}/build/grade/ch1-small.img",
        "hint: synced hint",
    ]


def test_a_wrong_size(lab, rubric):
    writing(lab, "4096 * 'B', 4096 * 'a', 4096 * 'D'")
    graded = lab.grade("--only", "small", rubric=rubric)
    assert details(graded.out, "ch1.disk.synced")[:2] == ["synced.dat: size 12288, expected 8292", f"image: {lab.root}/build/grade/ch1-small.img"]
    writing(lab, "4096 * 'B', 10 * 'a'")
    graded = lab.grade("--only", "small", rubric=rubric)
    assert details(graded.out, "ch1.disk.synced")[0] == "synced.dat: size 4106, expected 8292"
    writing(lab, "100 * 'x'")
    graded = lab.grade("--only", "small", rubric=rubric)
    assert details(graded.out, "ch1.disk.synced")[:2] == [
        "synced.dat: size 100, expected 8292",
        "synced.dat: 100 byte(s) differ, the first at offset 0: expected 0x42 'B', found 0x78 'x' (run 1 of the expectation, 4096 * 'B' at [0, 4096))",
    ]


def test_a_damaged_image_fails_the_check(lab, rubric):
    writing(lab, SYNCED, disk={"write": {"synced.dat": SYNCED}, "corrupt": "leak"})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert row(graded.out, "ch1.disk.synced").split()[1:3] == ["0/2", "failed"]
    first = details(graded.out, "ch1.disk.synced")[0]
    assert first.startswith("fsck of the disk image: bitmap: block(s) ") and first.endswith("marked in use, but no inode uses them (leaked)")


def test_an_image_that_is_no_longer_mmfs(lab, rubric):
    writing(lab, SYNCED, disk={"raw": [0, "00000000"]})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert details(graded.out, "ch1.disk.synced")[0].startswith("the disk image cannot be read: ")
    assert "bad magic 0x00000000" in details(graded.out, "ch1.disk.synced")[0]


def test_a_missing_file(lab, rubric):
    writing(lab)
    rubric.write_text(rubric.read_text().replace('file = "synced.dat"', 'file = "gone.dat"'))
    graded = lab.grade("--only", "small", rubric=rubric)
    assert details(graded.out, "ch1.disk.synced")[0] == "gone.dat is not on the disk (files: pattern.dat, synced.dat, empty.dat)"


def test_a_boot_that_never_reached_the_suite_did_not_run_it(lab, rubric):
    log = cut(ktap_log(passing_suites(1)), "    KTAP version 1\r\n    # Subtest: ch1.beta")
    writing(lab)  # the fake writes the disk: only the missing suite decides
    lab.qemu({"serial": log, "exit": 0, "disk": {"write": {"synced.dat": SYNCED}}})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert row(graded.out, "ch1.disk.synced").split()[1:] == ["0/2", "did", "not", "run", "[small]"]
    assert details(graded.out, "ch1.disk.synced") == []  # the boot's own lines say why
    assert "boot small failed: did not run: kernel powered off early (exit code 0), after suite ch1.alpha" in graded.out


def test_a_panic_before_the_suite(lab, rubric, tmp_path):
    panic = b"panic: BUG_ON(x) at ch1/src/a.c:3 (hart 0, pc 0x80200000)\r\n"
    lab.qemu({"serial": cut(ktap_log(passing_suites(1)), "    ok 2 two") + panic, "exit": 2})
    graded = lab.grade("--only", "small", "--json", str(tmp_path / "r.json"), rubric=rubric)
    assert row(graded.out, "ch1.disk.synced").split()[1:] == ["0/2", "did", "not", "run", "[small]"]
    test = next(t for t in json.loads((tmp_path / "r.json").read_text())["tests"] if t["name"] == "ch1.disk.synced")
    assert test["output"].splitlines()[:4] == [
        "```text",
        "did not run (0/2 points)",
        "configurations: small",
        "not run: ch1.beta did not run to its end in this boot (panic: BUG_ON(x) at ch1/src/a.c:3 (hart 0, pc 0x80200000))",
    ]


def test_a_suite_that_ran_but_did_not_finish(lab, rubric):
    """The run completed, but the suite printed fewer results than it planned."""
    log = ktap_log(passing_suites(1)).replace(b"    1..2\r\n    ok 1 b1", b"    1..3\r\n    ok 1 b1")
    lab.qemu({"serial": log, "disk": {"write": {"synced.dat": SYNCED}}})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert details(graded.out, "ch1.disk.synced")[0] == "not run: ch1.beta did not run to its end in this boot"


def test_a_failed_suite_and_a_later_panic_are_noted(lab, rubric):
    suites = passing_suites(1)
    suites["ch1.beta"][1] = T("b2", ok=False, diag=("b.c:9: expected x",))
    log = cut(ktap_log(suites), "    KTAP version 1\r\n    # Subtest: ch1.smp") + b"panic: later\r\n"
    lab.qemu({"serial": log, "exit": 2, "disk": {"write": {"synced.dat": "8292 * 'a'"}}})
    graded = lab.grade("--only", "small", rubric=rubric)
    lines = details(graded.out, "ch1.disk.synced")
    assert lines[0].startswith("synced.dat: 4196 byte(s) differ, the first at offset 0")
    assert lines[1:3] == [
        "note: ch1.beta itself failed in this boot",
        "note: the boot then ended badly (panic): the image may be caught mid-update",
    ]


def test_a_passing_disk_despite_a_failed_suite(lab, rubric):
    suites = passing_suites(1)
    suites["ch1.beta"][1] = T("b2", ok=False)
    lab.qemu({"serial": ktap_log(suites), "exit": 1, "disk": {"write": {"synced.dat": SYNCED}}})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert row(graded.out, "ch1.disk.synced").split()[1:] == ["2/2", "passed"]


def test_without_after_a_finished_boot_is_enough(lab, rubric):
    rubric.write_text(rubric.read_text().replace('after = "ch1.beta"\n', ""))
    writing(lab)
    assert lab.grade(rubric=rubric).code == 0
    log = cut(ktap_log(passing_suites(1)), "    KTAP version 1\r\n    # Subtest: ch1.smp")
    lab.qemu({"serial": log, "exit": 0, "disk": {"write": {"synced.dat": SYNCED}}})
    graded = lab.grade("--only", "small", rubric=rubric)
    assert row(graded.out, "ch1.disk.synced").split()[2:5] == ["did", "not", "run"]


# --- machine-readable output -----------------------------------------------------------------


def test_json_and_junit(lab, rubric, tmp_path):
    writing(lab, "4096 * 'B', 4096 * 'a', 99 * 'D', 1 * 0")
    lab.grade("--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "j.xml"), rubric=rubric)
    results = json.loads((tmp_path / "r.json").read_text())
    test = next(t for t in results["tests"] if t["name"] == "ch1.disk.synced")
    assert (test["number"], test["score"], test["max_score"], test["status"]) == ("1.5", 0, 2, "failed")
    assert test["output"].splitlines()[:4] == [
        "```text",
        "failed (0/2 points)",
        "configurations: every configuration",
        "synced.dat: 1 byte(s) differ, the first at offset 8291: expected 0x44 'D', found 0x00 "
        "(run 3 of the expectation, 100 * 'D' at [8192, 8292))",
    ]
    assert test["output"].splitlines()[-2:] == ["hint: synced hint", "```"]
    assert results["score"] == 98
    cases = {case.get("name"): case for case in ET.parse(tmp_path / "j.xml").getroot().iter("testcase")}
    failure = cases["ch1.disk.synced"].find("failure")
    assert failure.get("message") == (
        "failed: synced.dat: 1 byte(s) differ, the first at offset 8291: expected 0x44 'D', found 0x00 "
        "(run 3 of the expectation, 100 * 'D' at [8192, 8292)) [every configuration]"
    )
    assert "offset 8291" in failure.text


# --- scripts/qemu.sh and make --------------------------------------------------------------------


def fake_qemu_on_path(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "qemu-system-riscv64"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}


def test_qemu_sh_attaches_a_disk(tmp_path):
    env = fake_qemu_on_path(tmp_path)
    script = str(GRADER.parent / "scripts/qemu.sh")
    plain = subprocess.run([script, "k.elf"], env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert "-drive" not in plain
    env["DISK"] = str(tmp_path / "my,disk.img")
    args = subprocess.run([script, "k.elf", "-s"], env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    at = args.index("-drive")
    assert args[at : at + 4] == ["-drive", f"file={tmp_path}/my,,disk.img,if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0"]
    assert args[-1] == "-s"
