#!/usr/bin/python3
"""mmlab kernel symbol table: write the C source of the table that lets the
kernel name a pc itself, as `pt_query+0x30 (ch3/src/query.c:21)`.

It reads a linked ELF (the kernel's first link) and writes a C file that
defines `ksym_table` (common/include/ksyms.h says what each field means):

- the function symbols of .text, sorted: offset, size and name;
- the line table (DWARF's .debug_line): for each address where the source
  position changes, the file (a path relative to the source tree: ch3/src/
  query.c, common/include/list.h for an inlined header function) and line.

The build links the kernel twice (see the Makefile): first with an empty
table, then with the one made from that first link. The table sits last in
.rodata (common/boot/kernel.ld), so no address in .text moves between the
links, and --check proves it: it makes the table again from the final ELF and
fails if it is not the one linked in.

Compactness: ch3's kernel has about 36,000 line rows. A row is kept only where
the answer changes (the last row at an address; not one that repeats the
previous file and line), and rows are packed in blocks of BLOCK_ROWS: the
block index holds each block's first offset (a binary search finds the block),
and inside a block each row is a few LEB128 bytes of deltas, decoded from the
block's start (what ksyms.c does). See the numbers in the generated file's
first comment.

DWARF is read with pyelftools (Debian's python3-pyelftools: run this with
/usr/bin/python3), which gives the full paths that readelf's decoded lines
shorten to basenames. This runs twice a build, so it is made fast: pyelftools
parses each line program's header (file and directory tables), found by
walking .debug_line rather than through each unit's DIEs; the opcodes are
decoded here (pyelftools' decoder takes a second a kernel). 0.2 s for ch3's
kernel. scripts/tests/test_ksyms.py checks both shortcuts against
pyelftools' public way, and the result against addr2line.

Usage:
    ksyms.py ELF -o OUT.c [--ldscript kernel.ld]   the table of ELF
    ksyms.py --empty -o OUT.c                      an empty table (first link)
    ksyms.py --check TABLE.c ELF [--ldscript ...]  exit 1 unless TABLE.c is ELF's table
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass

try:
    from elftools.elf.elffile import ELFFile
except ImportError:  # pragma: no cover: depends on the machine
    sys.exit(
        "ksyms.py: pyelftools is missing: run scripts/setup.sh (Debian's python3-pyelftools, "
        "seen by /usr/bin/python3 only)"
    )

BLOCK_ROWS = 32  # line rows per block: ksyms.c decodes at most this many per lookup
# sizeof struct ksym_table, ksym_func, ksym_block, a file's uint32_t (ksyms.h)
TABLE_BYTES, FUNC_BYTES, BLOCK_BYTES, FILE_BYTES = 80, 12, 8, 4


@dataclass(frozen=True)
class Func:
    off: int
    size: int
    name: str


@dataclass(frozen=True)
class Row:
    off: int
    file: str | None  # None with line 0: no source position here
    line: int


# ---- symbols ----------------------------------------------------------------


def ldscript_symbols(path: str | None) -> set[str]:
    """Names the linker script assigns (`_text_start = .;`): section bounds, not functions."""
    if not path:
        return set()
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    return set(re.findall(r"([A-Za-z_.$][\w.$]*)\s*=", text))


def text_range(elf: ELFFile) -> tuple[int, int]:
    """[start, end) of the code: _text_start/_text_end if defined, else the .text section."""
    symtab = elf.get_section_by_name(".symtab")
    found = {}
    for name in ("_text_start", "_text_end"):
        syms = symtab.get_symbol_by_name(name) if symtab else None
        if syms:
            found[name] = syms[0]["st_value"]
    if len(found) == 2:
        return found["_text_start"], found["_text_end"]
    text = elf.get_section_by_name(".text")
    if text is None:
        sys.exit("ksyms.py: no .text section")
    return text["sh_addr"], text["sh_addr"] + text["sh_size"]


def functions(elf: ELFFile, lo: int, hi: int, ignore: set[str]) -> list[Func]:
    """The code symbols in [lo, hi), one per address, sorted.

    FUNC symbols, and the labels of assembly code (NOTYPE), less mapping
    symbols ($x...), local labels (.L...) and linker-script names. Where two
    share an address, a FUNC beats a label, a global beats a local, then the
    first name in sort order. A symbol without a size ends where the next begins.
    """
    symtab = elf.get_section_by_name(".symtab")
    if symtab is None:
        sys.exit("ksyms.py: the ELF has no symbol table")
    best: dict[int, tuple] = {}
    for sym in symtab.iter_symbols():
        kind, bind = sym["st_info"]["type"], sym["st_info"]["bind"]
        name, addr = sym.name, sym["st_value"]
        if kind not in ("STT_FUNC", "STT_NOTYPE") or sym["st_shndx"] in ("SHN_UNDEF", "SHN_ABS"):
            continue
        if not name or name[0] in "$." or name in ignore or not lo <= addr < hi:
            continue
        rank = (kind != "STT_FUNC", bind != "STB_GLOBAL", name)
        if addr not in best or rank < best[addr][0]:
            best[addr] = (rank, sym["st_size"] if kind == "STT_FUNC" else 0)
    addrs = sorted(best)
    out = []
    for i, addr in enumerate(addrs):
        (_, _, name), size = best[addr]
        end = addrs[i + 1] if i + 1 < len(addrs) else hi
        out.append(Func(addr - lo, size or end - addr, name))
    return out


# ---- line table ---------------------------------------------------------------


def leb128(data: bytes, pos: int, signed: bool = False) -> tuple[int, int]:
    """The LEB128 number at @p pos (DWARF 5, 7.6): (value, position after it)."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value - (1 << shift) if signed and byte & 0x40 else value, pos


def uleb(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 number: (value, position after it)."""
    return leb128(data, pos)


def sleb(data: bytes, pos: int) -> tuple[int, int]:
    """A signed LEB128 number: (value, position after it)."""
    return leb128(data, pos, signed=True)


def decode_rows(data: bytes, start: int, end: int, header, little: bool) -> list[tuple[int, int, int, bool]]:
    """Run one line-number program (DWARF 5 section 6.2.5; also 2 to 4):
    (address, file index, line, end_sequence) for every row it emits."""
    min_len = header["minimum_instruction_length"]
    if header.get("maximum_operations_per_instruction", 1) != 1:
        sys.exit("ksyms.py: VLIW line programs (max_ops > 1) are not supported")
    line_base, line_range, base = header["line_base"], header["line_range"], header["opcode_base"]
    lengths = header["standard_opcode_lengths"]
    order = "little" if little else "big"
    rows = []
    addr, file, line = 0, 1, 1
    pos = start
    while pos < end:
        op = data[pos]
        pos += 1
        if op >= base:  # special opcode: advance both, emit a row
            adj = op - base
            addr += min_len * (adj // line_range)
            line += line_base + adj % line_range
            rows.append((addr, file, line, False))
        elif op == 0:  # extended opcode
            size, pos = uleb(data, pos)
            sub, arg = data[pos], pos + 1
            pos += size
            if sub == 1:  # DW_LNE_end_sequence
                rows.append((addr, file, line, True))
                addr, file, line = 0, 1, 1
            elif sub == 2:  # DW_LNE_set_address
                addr = int.from_bytes(data[arg:pos], order)
            elif sub == 3:  # DW_LNE_define_file
                sys.exit("ksyms.py: DW_LNE_define_file is not supported")
            # 4 (set_discriminator) and vendor opcodes change no row
        elif op == 1:  # DW_LNS_copy
            rows.append((addr, file, line, False))
        elif op == 2:  # DW_LNS_advance_pc
            n, pos = uleb(data, pos)
            addr += min_len * n
        elif op == 3:  # DW_LNS_advance_line
            n, pos = sleb(data, pos)
            line += n
        elif op == 4:  # DW_LNS_set_file
            file, pos = uleb(data, pos)
        elif op == 8:  # DW_LNS_const_add_pc
            addr += min_len * ((255 - base) // line_range)
        elif op == 9:  # DW_LNS_fixed_advance_pc
            addr += int.from_bytes(data[pos : pos + 2], order)
            pos += 2
        else:  # set_column, negate_stmt, ...: skip the operands
            for _ in range(lengths[op - 1]):
                _, pos = uleb(data, pos)
    return rows


def text(value) -> str:
    """A DWARF string as str (pyelftools gives bytes)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def comp_dir(cu, header) -> str:
    """The unit's compile directory: DWARF 5 keeps it as directory 0, earlier ones in the DIE."""
    if header["version"] >= 5 and header["include_directory"]:
        return text(header["include_directory"][0])
    attr = cu.get_top_DIE().attributes.get("DW_AT_comp_dir")
    return text(attr.value) if attr else ""


def file_names(header, comp: str, root: str | None) -> dict[int, str]:
    """File index -> path relative to @p root (default: the compile directory
    @p comp), or absolute when the file lies outside it."""
    version = header["version"]
    dirs = [text(d) for d in header["include_directory"]]
    root = root or comp
    names = {}
    for i, entry in enumerate(header["file_entry"]):
        d = entry["dir_index"]  # DWARF 5: 0-based, 0 = comp; before: 1-based, 0 = comp
        directory = dirs[d] if version >= 5 else (dirs[d - 1] if d else comp)
        path = os.path.normpath(os.path.join(comp, directory, text(entry["name"])))
        rel = os.path.relpath(path, root)
        names[i if version >= 5 else i + 1] = path if rel.startswith("..") else rel
    return names


def unit_line_programs(dwarf) -> list[tuple]:
    """(line program, compile directory) of every unit, the public way."""
    out = []
    for cu in dwarf.iter_CUs():
        prog = dwarf.line_program_for_CU(cu)
        if prog is not None:
            out.append((prog, comp_dir(cu, prog.header)))
    return out


def walk_line_programs(dwarf, data: bytes) -> list[tuple] | None:
    """unit_line_programs() in a fiftieth of the time, or None if it cannot.

    The public way parses each unit's first DIE, and so its abbreviation
    table, only to find where its line program starts: 0.3 s of a kernel's
    0.45. Here the programs, which lie back to back in .debug_line, are
    walked with pyelftools' own (private) header parser. Anything unexpected
    (another pyelftools, a gap, DWARF before 5, whose compile directory is
    in the DIE) returns None, and the caller takes the public way.
    test_ksyms.py checks that both ways give the same rows.
    """
    parse = getattr(dwarf, "_parse_line_program_at_offset", None)
    if parse is None:
        return None
    out, off = [], 0
    try:
        while off < len(data):
            prog = parse(off, dwarf.structs)
            if prog.header["version"] < 5 or prog.program_end_offset <= off:
                return None
            out.append((prog, comp_dir(None, prog.header)))
            off = prog.program_end_offset
    except Exception:  # noqa: BLE001: the public way is always there
        return None
    return out


def line_rows(elf: ELFFile, lo: int, hi: int, root: str | None, fast: bool = True) -> tuple[list[Row], int]:
    """The line table for [lo, hi): sorted, the last row at each address, rows
    that repeat the previous file and line dropped, gaps between sequences
    (and their ends) as line 0. Also how many rows DWARF has there."""
    if not elf.has_dwarf_info():
        return [], 0
    dwarf = elf.get_dwarf_info()
    section = elf.get_section_by_name(".debug_line")
    data = section.data() if section is not None else b""
    sequences = []
    for prog, comp in (walk_line_programs(dwarf, data) if fast else None) or unit_line_programs(dwarf):
        names = file_names(prog.header, comp, root)
        if fast:
            raw = decode_rows(data, prog.program_start_offset, prog.program_end_offset, prog.header, elf.little_endian)
        else:  # pyelftools' own decoder, for the tests
            raw = [
                (e.state.address, e.state.file, e.state.line, e.state.end_sequence)
                for e in prog.get_entries()
                if e.state is not None
            ]
        seq = []
        for addr, file, line, end in raw:
            seq.append(Row(addr, None if end or line == 0 else names.get(file, "??"), 0 if end else line))
            if end:
                sequences.append(seq)
                seq = []
    rows: list[Row] = []
    dwarf_rows = 0
    for seq in sorted(sequences, key=lambda s: s[0].off):
        for r in seq:
            if not lo <= r.off <= hi or (r.off == hi and r.line):
                continue
            dwarf_rows += 1
            r = Row(r.off - lo, r.file, r.line)
            if rows and rows[-1].off == r.off:
                rows[-1] = r  # only the last row at an address covers any code
            elif not rows or rows[-1].off < r.off:
                rows.append(r)
            # else: overlaps a sequence already taken (code discarded at link): skip
    kept: list[Row] = []
    for r in rows:
        if not kept or (kept[-1].file, kept[-1].line) != (r.file, r.line):
            kept.append(r)
    return kept, dwarf_rows


# ---- the C source ---------------------------------------------------------------


def uleb_bytes(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def encode(rows: list[Row], file_index: dict[str, int]) -> tuple[list[tuple[int, int]], bytes]:
    """Blocks (first offset, stream position) and the row stream, as ksyms.c decodes it.

    A row is uleb(offset - previous offset), then uleb(zigzag(line - previous
    line) << 1 | new_file), then uleb(file) if new_file. A block starts from
    offset = its first offset, line 0, no file.
    """
    blocks, stream = [], bytearray()
    for i, r in enumerate(rows):
        if i % BLOCK_ROWS == 0:
            blocks.append((r.off, len(stream)))
            off, line, file = r.off, 0, None
        delta = r.line - line
        zigzag = delta * 2 if delta >= 0 else -delta * 2 - 1
        new_file = r.line != 0 and r.file != file
        stream += uleb_bytes(r.off - off) + uleb_bytes(zigzag << 1 | new_file)
        if new_file:
            stream += uleb_bytes(file_index[r.file])
            file = r.file
        off, line = r.off, r.line
    return blocks, bytes(stream)


def c_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '\\0"'


def render(base: int, size: int, funcs: list[Func], rows: list[Row], dwarf_rows: int = 0) -> str:
    """The C source of the table (deterministic: the --check compares text)."""
    files = sorted({r.file for r in rows if r.file})
    file_index = {f: i for i, f in enumerate(files)}
    strings, where = [], {}
    pos = 0
    for s in [f.name for f in funcs] + files:
        if s not in where:
            where[s] = pos
            strings.append(s)
            pos += len(s.encode()) + 1
    blocks, stream = encode(rows, file_index)
    pool = pos + 1 if strings else 0  # C adds a NUL after the last literal
    total = TABLE_BYTES + FUNC_BYTES * len(funcs) + BLOCK_BYTES * len(blocks) + len(stream) + FILE_BYTES * len(files) + pool
    out = [
        "/*",
        " * Generated by scripts/ksyms.py from the kernel's first link: do not edit.",
        f" * {len(funcs)} functions; {len(rows)} line rows (of DWARF's {dwarf_rows}) in {len(blocks)} blocks",
        f" * of {BLOCK_ROWS}; {len(files)} files. {total} bytes: header {TABLE_BYTES}, functions "
        f"{FUNC_BYTES * len(funcs)}, blocks {BLOCK_BYTES * len(blocks)},",
        f" * rows {len(stream)}, files {FILE_BYTES * len(files)}, strings {pool}.",
        " */",
        '#include "ksyms.h"',
        "",
        '#define KSYMS_SECTION __attribute__((section(".ksyms"), aligned(8)))',
        "",
    ]
    if funcs:
        out.append("static const struct ksym_func funcs[] KSYMS_SECTION = {")
        out += [f"\t{{0x{f.off:x}, 0x{f.size:x}, {where[f.name]}}}, /* {f.name} */" for f in funcs]
        out += ["};", ""]
    if blocks:
        out.append("static const struct ksym_block blocks[] KSYMS_SECTION = {")
        out += [f"\t{{0x{o:x}, {p}}}," for o, p in blocks]
        out += ["};", ""]
        out.append("static const uint8_t rows[] KSYMS_SECTION = {")
        for i in range(0, len(stream), 16):
            out.append("\t" + ", ".join(f"0x{b:02x}" for b in stream[i : i + 16]) + ",")
        out += ["};", ""]
    if files:
        out.append("static const uint32_t files[] KSYMS_SECTION = {")
        out += [f"\t{where[f]}, /* {f} */" for f in files]
        out += ["};", ""]
    if strings:
        out.append("static const char strings[] KSYMS_SECTION =")
        out += [f"\t{c_string(s)}" for s in strings]
        out[-1] += ";"
        out.append("")
    have = bool(funcs or rows)
    out += [
        "const struct ksym_table ksym_table KSYMS_SECTION = {",
        f"\t.base = 0x{base:x},",
        f"\t.text_size = 0x{size:x},",
        f"\t.nfuncs = {len(funcs)},",
        f"\t.nrows = {len(rows)},",
        f"\t.nblocks = {len(blocks)},",
        f"\t.nfiles = {len(files)},",
        f"\t.rows_size = {len(stream)},",
        f"\t.strings_size = {pos},",
    ]
    if have:
        out += [
            f"\t.funcs = {'funcs' if funcs else 'NULL'},",
            f"\t.blocks = {'blocks' if blocks else 'NULL'},",
            f"\t.rows = {'rows' if blocks else 'NULL'},",
            f"\t.files = {'files' if files else 'NULL'},",
            "\t.strings = strings,",
        ]
    out += ["};", ""]
    return "\n".join(out)


def table_source(path: str, ldscript: str | None, root: str | None) -> str:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        lo, hi = text_range(elf)
        funcs = functions(elf, lo, hi, ldscript_symbols(ldscript))
        rows, dwarf_rows = line_rows(elf, lo, hi, root)
    return render(lo, hi - lo, funcs, rows, dwarf_rows)


def write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or check) the kernel's symbol and line table as C.")
    parser.add_argument("elf", nargs="?", help="the linked kernel")
    parser.add_argument("-o", "--output", help="the C file to write")
    parser.add_argument("--empty", action="store_true", help="write an empty table (the first link's)")
    parser.add_argument("--check", metavar="TABLE", help="exit 1 unless TABLE is the table of ELF")
    parser.add_argument("--ldscript", help="the linker script: the names it defines are not functions")
    parser.add_argument("--root", help="file names relative to ROOT (default: each unit's compile directory)")
    args = parser.parse_args(argv)
    if args.empty:
        if not args.output:
            parser.error("--empty needs -o")
        write(args.output, render(0, 0, [], []))
        return 0
    if not args.elf or not (args.output or args.check):
        parser.error("give ELF and -o OUT, or --check TABLE ELF")
    text = table_source(args.elf, args.ldscript, args.root)
    if args.output:
        write(args.output, text)
        return 0
    with open(args.check) as f:
        linked = f.read()
    if linked == text:
        return 0
    old, new = linked.splitlines(), text.splitlines()
    n = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    print(
        f"ksyms.py: the symbol table linked into {args.elf} is not the table of {args.elf} itself:\n"
        f"  {args.check}:{n + 1}: {old[n] if n < len(old) else '(end)'}\n"
        f"  from {args.elf}:    {new[n] if n < len(new) else '(end)'}\n"
        "Code moved between the two links. The table must stay the last input of .rodata\n"
        "(common/boot/kernel.ld), where it moves no code, and the build must use -mno-relax.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
