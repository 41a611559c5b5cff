"""The Makefile's hook for user programs (ch4 on): a chapter adds chN/user/NAME.c
and gets a program NAME, and chN/user/tests/TOPIC.c a program chN.user.TOPIC,
built with the cross compiler against the chapters' chN/user/lib and packed
into the kernel image's cpio archive, with no rule of its own. Tried on a
copy of the tree (its real ch4/ and ch5/, with their user libraries and
programs) to whose ch5/ the test adds a library file, a program and a test
program."""

import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("riscv64-unknown-elf-gcc") is None or shutil.which("cpio") is None,
    reason="needs the cross compiler and cpio (scripts/setup.sh)",
)

FILES = {
    "ch5/user/lib/more.c": "int thrice(int x) { return 3 * x; }\n",
    # ch4's library (ulib.h) and ch5's (thrice) are both linked in.
    "ch5/user/second.c": '#include "ulib.h"\nint thrice(int x);\n'
    'int main(void) { return (int)strlen("ab") + thrice(1); }\n',
    "ch5/user/tests/topic.c": '#include "ktap.h"\nKTAP_SUITE("ch5.user.topic");\n'
    "TEST(one) { EXPECT_EQ(1, 1); }\n",
}
CH5_NAMES = ["ch5.user.topic", "second"]


def chapter_programs(ch):
    """The programs the real tree's chN/user makes: NAME.c and tests/TOPIC.c."""
    user = ROOT / ch / "user"
    return [p.stem for p in user.glob("*.c")] + [f"{ch}.user.{p.stem}" for p in user.glob("tests/*.c")]


def archive_order(names):
    return sorted(names, key=lambda n: n.encode())  # LC_ALL=C sort, as the Makefile packs them


def make(tree, *args, check=True):
    run = subprocess.run(["make", "-j2", *args], cwd=tree, capture_output=True, text=True)
    if check and run.returncode != 0:
        pytest.fail(f"make {' '.join(args)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return run


def archive_names(cpio):
    out = subprocess.run(["cpio", "-it", "--quiet"], input=cpio.read_bytes(), capture_output=True, check=True)
    return out.stdout.decode().split()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the tree's files (tracked and new, not build/) with the made-up user folders."""
    dst = tmp_path_factory.mktemp("tree")
    names = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in names:
        if name and not name.startswith("build/") and (ROOT / name).is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dst / name)
    for name, text in FILES.items():
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        (dst / name).write_text(text)
    return dst


@pytest.fixture(scope="module")
def ch5_kernel(tree):
    make(tree, "kernel", "CH=5")
    return tree / "build/ch5"


def test_the_real_chapter_has_programs_and_tests():
    names = chapter_programs("ch4")
    assert "hello" in names
    assert any(n.startswith("ch4.user.") for n in names)


def test_every_chapters_programs_are_packed(ch5_kernel):
    expected = archive_order(chapter_programs("ch4") + chapter_programs("ch5") + CH5_NAMES)
    assert archive_names(ch5_kernel / "initramfs.cpio") == expected


def test_a_test_program_is_named_after_its_chapter_and_topic(tree, ch5_kernel):
    names = archive_names(ch5_kernel / "initramfs.cpio")
    assert "ch5.user.topic" in names and "topic" not in names
    for test in (ROOT / "ch4/user/tests").glob("*.c"):
        assert f"ch4.user.{test.stem}" in names
    assert (ch5_kernel / "user/bin/ch5.user.topic").is_file()


def test_a_kernel_packs_only_its_chapters_programs(tree, ch5_kernel):
    make(tree, "initramfs", "CH=4")
    assert archive_names(tree / "build/ch4/initramfs.cpio") == archive_order(chapter_programs("ch4"))


def test_programs_are_static_riscv_executables_with_wx_pages(ch5_kernel, tmp_path):
    subprocess.run(["cpio", "-id", "--quiet"], input=(ch5_kernel / "initramfs.cpio").read_bytes(), cwd=tmp_path, check=True)
    for name in ("hello", "second", "ch5.user.topic"):
        with open(tmp_path / name, "rb") as f:
            elf = ELFFile(f)
            assert elf["e_machine"] == "EM_RISCV" and elf["e_type"] == "ET_EXEC"
            assert elf.get_section_by_name(".symtab") is None  # stripped in the archive
            loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
            assert not any(s["p_type"] == "PT_INTERP" for s in elf.iter_segments())
            assert min(s["p_vaddr"] for s in loads) >= 0x10000
            for seg in loads:
                assert seg["p_align"] == 4096
                flags = seg["p_flags"]
                assert not (flags & P_FLAGS.PF_W and flags & P_FLAGS.PF_X), f"{name}: a W+X segment"
            if name == "hello":  # the library's data (errno, environ): a writable segment of its own
                assert any(s["p_flags"] & P_FLAGS.PF_W for s in loads), "the data segment is missing"
        # The unstripped program, for gdb, starts at _start.
        with open(ch5_kernel / "user/bin" / name, "rb") as f:
            elf = ELFFile(f)
            start = elf.get_section_by_name(".symtab").get_symbol_by_name("_start")[0]
            assert elf["e_entry"] == start["st_value"]


def test_the_kernel_holds_the_archive(ch5_kernel):
    with open(ch5_kernel / "kernel.elf", "rb") as f:
        elf = ELFFile(f)
        syms = elf.get_section_by_name(".symtab")
        lo = syms.get_symbol_by_name("_initramfs_start")[0]["st_value"]
        hi = syms.get_symbol_by_name("_initramfs_end")[0]["st_value"]
        rodata = elf.get_section_by_name(".rodata")
        data = rodata.data()[lo - rodata["sh_addr"] : hi - rodata["sh_addr"]]
    cpio = (ch5_kernel / "initramfs.cpio").read_bytes()
    assert data[: len(cpio)] == cpio and len(data) - len(cpio) < 8


def test_a_deleted_program_leaves_the_archive(tree, ch5_kernel):
    extra = tree / "ch5/user/gone.c"
    extra.write_text("int main(void) { return 0; }\n")
    make(tree, "initramfs", "CH=5")
    assert "gone" in archive_names(ch5_kernel / "initramfs.cpio")
    extra.unlink()
    make(tree, "initramfs", "CH=5")
    assert "gone" not in archive_names(ch5_kernel / "initramfs.cpio")
    assert archive_names(ch5_kernel / "initramfs.cpio") == archive_order(chapter_programs("ch4") + chapter_programs("ch5") + CH5_NAMES)


def test_two_programs_of_one_name_are_an_error(tree):
    dup = tree / "ch5/user/hello.c"
    dup.write_text("int main(void) { return 0; }\n")
    try:
        run = make(tree, "initramfs", "CH=5", check=False)
    finally:
        dup.unlink()
    assert run.returncode != 0
    assert "two user programs have the same name" in run.stderr


def test_a_program_that_does_not_compile_fails_the_build(tree):
    bad = tree / "ch5/user/broken.c"
    bad.write_text("int main(void) { return undeclared; }\n")
    try:
        run = make(tree, "initramfs", "CH=5", check=False)
    finally:
        bad.unlink()
    assert run.returncode != 0
    assert "undeclared" in run.stderr
