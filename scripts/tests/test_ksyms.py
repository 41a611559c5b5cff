"""Tests of scripts/ksyms.py, the generator of the kernel's symbol and line table.

The table it writes is read back by the kernel's own lookup code
(common/lib/ksyms.c, compiled for the host: it is plain C over the table) and
must say what binutils' addr2line and nm say, instruction by instruction:

- for a small program built here with the host gcc (two files of one
  basename, a header inlined into both);
- for a kernel: build/chN/kernel.elf when one is built, else chapter 1 built
  into a scratch directory, with the cross binutils.

Also: the opcode decoder of ksyms.py agrees with pyelftools' own (on the
small program; on a kernel the addr2line comparison covers it), its walk of
.debug_line finds the programs the units point to, --check
accepts the table of the ELF and refuses any other, and an empty table finds
nothing. Needs pyelftools (run under /usr/bin/python3), gcc and binutils.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
elftools = pytest.importorskip("elftools", reason="pyelftools is missing (scripts/setup.sh installs it)")
import ksyms  # noqa: E402
from elftools.elf.elffile import ELFFile  # noqa: E402

needs_gcc = pytest.mark.skipif(not shutil.which("gcc") or not shutil.which("addr2line"), reason="no host gcc/binutils")
CROSS = "riscv64-unknown-elf-"
needs_cross = pytest.mark.skipif(not shutil.which(CROSS + "gcc"), reason="no riscv64-unknown-elf toolchain")

HELPER_H = """\
static inline __attribute__((always_inline)) int helper(int x)
{
	int y = x * 7;
	if (y > 100)
		y -= 3;
	return y ^ (x << 2);
}
"""
A_DUP_C = """\
#include "helper.h"
int a_dup(int x)
{
	int s = 0;
	for (int i = 0; i < x; i++)
		s += helper(i);
	return s;
}
"""
B_DUP_C = """\
#include "helper.h"
static __attribute__((noinline)) int b_local(int x) { return helper(x) + 1; }
int b_dup(int x)
{
	switch (x) {
	case 0:
		return 7;
	case 1:
		return b_local(x) * 3;
	case 2:
		return helper(x) - b_local(x + 1);
	}
	if (x > 3)
		return b_local(x - 1) * 2;
	return helper(x);
}
"""
MAIN_C = """\
int a_dup(int x);
int b_dup(int x);
static int __attribute__((noinline)) fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int main(int argc, char **argv)
{
	(void)argv;
	return a_dup(argc) + b_dup(argc) + fib(argc);
}
"""

# Looks addresses (hex, one a line on stdin) up with common/lib/ksyms.c.
DRIVER_C = """\
#include <stdio.h>
#include <stdlib.h>
#include "ksyms.h"
int main(void)
{
	char line[64], buf[KSYM_BUF_SIZE];
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long pc = strtoul(line, NULL, 16);
		struct ksym k;
		ksym_snprint(buf, sizeof(buf), pc);
		if (!ksym_lookup(pc, &k))
			printf("%lx - 0 - 0 %s\\n", pc, buf);
		else
			printf("%lx %s %lu %s %d %s\\n", pc, k.name, (unsigned long)k.offset, k.file ? k.file : "-",
			       k.line, buf);
	}
	return 0;
}
"""


def run(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout


def build_driver(tmp: Path, table_c: Path) -> Path:
    (tmp / "driver.c").write_text(DRIVER_C)
    exe = tmp / "lookup"
    run(["gcc", "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-fno-pie", "-no-pie",
         "-iquote", str(ROOT / "common" / "include"), "-o", str(exe),
         str(tmp / "driver.c"), str(ROOT / "common" / "lib" / "ksyms.c"), str(table_c)])
    return exe


def lookups(exe: Path, addrs: list[int]) -> dict[int, tuple]:
    """addr -> (name or None, offset, file or None, line, ksym_snprint text)."""
    out = {}
    text = run([str(exe)], input="".join(f"{a:x}\n" for a in addrs))
    for line in text.splitlines():
        pc, name, off, file, ln, printed = line.split(" ", 5)
        out[int(pc, 16)] = (None if name == "-" else name, int(off), None if file == "-" else file, int(ln), printed)
    return out


def instructions(objdump: str, elf: Path, lo: int, hi: int) -> list[int]:
    text = run([objdump, "-d", "--no-show-raw-insn", "-j", ".text", str(elf)])
    addrs = [int(m, 16) for m in re.findall(r"^\s*([0-9a-f]+):", text, re.M)]
    return [a for a in addrs if lo <= a < hi]


def addr2line(tool: str, elf: Path, addrs: list[int], comp: Path) -> dict[int, tuple]:
    """addr -> (file relative to comp or None, line or 0), as addr2line says."""
    text = run([tool, "-e", str(elf)], input="".join(f"{a:x}\n" for a in addrs))
    out = {}
    for a, line in zip(addrs, text.splitlines()):
        where = line.split(" (discriminator")[0]
        file, _, ln = where.rpartition(":")
        ln = int(ln) if ln.isdigit() else 0
        if file.startswith(str(comp) + "/"):
            file = file[len(str(comp)) + 1 :]
        if file != "??":
            # Built with -ffile-prefix-map=ROOT=. (the Makefile's PREFIX_MAP), the
            # compile directory is ".", and addr2line joins relative paths as
            # they are: "./x", "ch4/tests/../../ch3/x".
            file = os.path.normpath(file)
        out[a] = (None if file == "??" or not ln else file, ln)
    return out


def nm_functions(tool: str, elf: Path) -> list[tuple[int, int, str]]:
    """(start, size, name) of every sized code symbol, as nm -S says."""
    out = []
    for line in run([tool, "-S", "--defined-only", str(elf)]).splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT" and int(parts[1], 16):
            out.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    return out


def table_for(elf: Path, out: Path, ldscript=None) -> Path:
    args = [str(elf), "-o", str(out)] + (["--ldscript", str(ldscript)] if ldscript else [])
    assert ksyms.main(args) == 0
    return out


def compare(elf: Path, table_c: Path, tmp: Path, binutils: str, comp: Path, tolerate=None):
    """Every instruction of .text: our file, line and name against addr2line and nm.
    @p tolerate(ours, theirs) may excuse a known addr2line slip; returns what it excused."""
    with open(elf, "rb") as f:
        lo, hi = ksyms.text_range(ELFFile(f))
    addrs = instructions(binutils + "objdump", elf, lo, hi)
    assert len(addrs) > 20
    ours = lookups(build_driver(tmp, table_c), addrs)
    theirs = addr2line(binutils + "addr2line", elf, addrs, comp)
    wrong, excused = [], []
    for a in addrs:
        name, off, file, line, printed = ours[a]
        # No function covers alignment padding (nm agrees, below): no line either.
        if name is not None and (file, line) != theirs[a]:
            (excused if tolerate and tolerate((file, line), theirs[a]) else wrong).append((hex(a), name, file, line, theirs[a]))
        want = f"{name}+0x{off:x}" + (f" ({file}:{line})" if file else "") if name else f"0x{a:x}"
        assert printed == want
    assert not wrong, f"{len(wrong)} of {len(addrs)} differ from addr2line, e.g. {wrong[:5]}"
    # Names: the first, middle and last byte of every sized symbol nm lists
    # name it (or an alias, or an assembly label inside it).
    aliases, probe = {}, {}
    for start, size, sym in nm_functions(binutils + "nm", elf):
        aliases.setdefault(start, set()).add(sym)
        for a in (start, start + size // 2, start + size - 1):
            probe[a] = (start, size)
    got = lookups(tmp / "lookup", sorted(probe))
    for a, (start, size) in probe.items():
        name, off = got[a][:2]
        assert name is not None, f"nothing at {a:x} in {aliases[start]}"
        assert (name in aliases[start] and off == a - start) or start < a - off < start + size, (hex(a), got[a])
    return addrs, excused


@pytest.fixture
def program(tmp_path):
    """A host program built with gcc -O2 -g; returns (elf, its directory)."""
    src = tmp_path / "src"
    for rel, text in {"inc/helper.h": HELPER_H, "a/dup.c": A_DUP_C, "b/dup.c": B_DUP_C, "main.c": MAIN_C}.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    run(["gcc", "-O2", "-g", "-fno-pie", "-no-pie", "-fno-omit-frame-pointer", "-Iinc", "-o", "prog",
         "a/dup.c", "b/dup.c", "main.c"], cwd=src)
    return src / "prog", src


@needs_gcc
def test_host_program_matches_addr2line(program, tmp_path):
    elf, src = program
    table = table_for(elf, tmp_path / "table.c")
    addrs, excused = compare(elf, table, tmp_path, "", src)
    assert not excused
    text = table.read_text()
    for f in ("a/dup.c", "b/dup.c", "inc/helper.h", "main.c"):  # full relative paths, not basenames
        assert f"/* {f} */" in text
    names = lookups(tmp_path / "lookup", addrs)
    assert {"a/dup.c", "b/dup.c", "inc/helper.h"} <= {v[2] for v in names.values()}


@needs_gcc
def test_fast_decoder_agrees_with_pyelftools(program):
    elf, _ = program
    with open(elf, "rb") as f:
        e = ELFFile(f)
        lo, hi = ksyms.text_range(e)
        fast = ksyms.line_rows(e, lo, hi, None, fast=True)
        slow = ksyms.line_rows(e, lo, hi, None, fast=False)
    assert fast == slow and len(fast[0]) > 20


def same_programs(elf: Path):
    """Walking .debug_line finds the programs the units point to, with the same files."""
    with open(elf, "rb") as f:
        e = ELFFile(f)
        dwarf = e.get_dwarf_info()
        walked = ksyms.walk_line_programs(dwarf, e.get_section_by_name(".debug_line").data())
        if walked is None:
            pytest.skip("this pyelftools cannot walk .debug_line: ksyms.py takes the public way")

        def key(progs):
            return sorted(
                (p.program_start_offset, p.program_end_offset, comp, ksyms.file_names(p.header, comp, None))
                for p, comp in progs
            )

        assert key(walked) == key(ksyms.unit_line_programs(dwarf))


@needs_gcc
def test_walked_line_programs_are_the_units(program):
    same_programs(program[0])


@needs_gcc
def test_check_accepts_its_table_and_refuses_another(program, tmp_path, capsys):
    elf, _ = program
    table = table_for(elf, tmp_path / "table.c")
    assert ksyms.main(["--check", str(table), str(elf)]) == 0
    text = table.read_text()
    first = re.search(r"\{0x([0-9a-f]+), ", text)
    table.write_text(text.replace(first.group(0), f"{{0x{int(first.group(1), 16) + 2:x}, ", 1))
    assert ksyms.main(["--check", str(table), str(elf)]) == 1
    err = capsys.readouterr().err
    assert "is not the table of" in err and "kernel.ld" in err


@needs_gcc
def test_empty_table_finds_nothing(tmp_path):
    assert ksyms.main(["--empty", "-o", str(tmp_path / "empty.c")]) == 0
    exe = build_driver(tmp_path, tmp_path / "empty.c")
    assert lookups(exe, [0, 0x401000, 0xFFFFFFFF80200000]) == {
        0: (None, 0, None, 0, "0x0"),
        0x401000: (None, 0, None, 0, "0x401000"),
        0xFFFFFFFF80200000: (None, 0, None, 0, "0xffffffff80200000"),
    }


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A built kernel: the last chapter's in build/, else chapter 1's built
    into a scratch directory (as `make kernel` would)."""
    built = sorted(ROOT.glob("build/ch[0-9]*/kernel.elf"))
    if built:
        kdir = built[-1].parent
    else:
        if not shutil.which(CROSS + "gcc"):
            pytest.skip("no riscv64-unknown-elf toolchain")
        build = tmp_path_factory.mktemp("build")
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES")}
        subprocess.run(["make", "-C", str(ROOT), "-j2", f"BUILD={build}", "kernel", "CH=1"], check=True,
                       capture_output=True, env=env)
        kdir = build / "ch1"
    return kdir / "kernel.elf"


def binutils_slip(ours, theirs) -> bool:
    """binutils 2.40's addr2line names the unit's own .c file for a header's
    out-of-line static function (ch3_test.h's count_leaf, at the start of its
    sequence) where the line table, as readelf decodes it, names the header:
    the same line, a .c for our .h."""
    return ours[1] == theirs[1] and ours[0].endswith(".h") and theirs[0] and theirs[0].endswith(".c")


@needs_cross
def test_kernel_table_matches_addr2line(kernel, tmp_path):
    # The table of this ksyms.py (the build's may predate an edit of it).
    table = table_for(kernel, tmp_path / "table.c", ROOT / "common/boot/kernel.ld")
    addrs, excused = compare(kernel, table, tmp_path, CROSS, ROOT, tolerate=binutils_slip)
    assert len(excused) * 100 <= len(addrs), f"{len(excused)} excused of {len(addrs)}: {excused[:5]}"


@needs_cross
def test_kernel_walked_line_programs_are_the_units(kernel):
    same_programs(kernel)
