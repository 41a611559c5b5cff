"""Device trees for machines that QEMU's virt board does not make by itself.

A rubric configuration may name a recipe (``dtb = "holes"``). The grader then
asks QEMU for the device tree it would pass with the configuration's -m and
-smp (``-machine virt,dumpdtb=FILE``), turns it into source with dtc, lets the
recipe edit the source, compiles it back with dtc, and boots with ``-dtb``.
QEMU still backs all of -m with RAM; the device tree decides what the kernel
is told is RAM, which is how a real board with holes in its memory map looks.

Recipes:

* ``holes``: RAM in three ranges with two holes, listed highest first (the
  device tree's order is not address order). With -m M at base B:
  [B, B + M/4), a hole of M/8, [B + 3M/8, B + 5M/8 - 0x5000), a hole, and
  [B + 3M/4 + 0x3000, B + M). The first hole starts and ends on 4 MiB
  boundaries (whole sections of page_info are missing: nothing may reach
  across); the second does not (a section is part RAM, part hole, at each
  edge). OpenSBI, the kernel and the device tree stay in RAM.
"""

import re
import shutil
import subprocess
from pathlib import Path

MEMORY_NODE_RE = re.compile(
    r"\tmemory@(?P<unit>[0-9a-f]+) \{\n"
    r"\t\tdevice_type = \"memory\";\n"
    r"\t\treg = <0x(?P<base_hi>[0-9a-f]+) 0x(?P<base_lo>[0-9a-f]+) 0x(?P<size_hi>[0-9a-f]+) 0x(?P<size_lo>[0-9a-f]+)>;\n"
    r"\t\};\n"
)


class DtbError(Exception):
    """The device tree could not be made; the message says why and what to do."""


def memory_node(base: int, size: int) -> str:
    """The source of one /memory node for [base, base + size)."""
    return (
        f"\tmemory@{base:x} {{\n"
        f'\t\tdevice_type = "memory";\n'
        f"\t\treg = <{base >> 32:#x} {base & 0xFFFFFFFF:#x} {size >> 32:#x} {size & 0xFFFFFFFF:#x}>;\n"
        f"\t}};\n"
    )


def holes(source: str) -> str:
    """The ``holes`` recipe: one /memory node becomes three, highest first, with two holes."""
    matches = list(MEMORY_NODE_RE.finditer(source))
    if len(matches) != 1:
        raise DtbError(f"holes: expected one /memory node in QEMU's device tree, found {len(matches)}")
    match = matches[0]
    base = int(match["base_hi"], 16) << 32 | int(match["base_lo"], 16)
    size = int(match["size_hi"], 16) << 32 | int(match["size_lo"], 16)
    ranges = [
        (base, base + size // 4),
        (base + size * 3 // 8, base + size * 5 // 8 - 0x5000),
        (base + size * 3 // 4 + 0x3000, base + size),
    ]
    nodes = "\n".join(memory_node(start, end - start) for start, end in reversed(ranges))
    return source[: match.start()] + nodes + source[match.end() :]


RECIPES = {"holes": holes}


def _run(argv: list[str], what: str) -> None:
    """Run @p argv; raise DtbError with its stderr if it fails."""
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DtbError(f"{what}: cannot run {argv[0]}: {err}") from err
    if done.returncode != 0:
        raise DtbError(f"{what} failed: {done.stderr.decode(errors='replace').strip()}")


def make(qemu: str, memory: str, smp: int, recipe: str, out: Path) -> Path:
    """Write the device tree of @p recipe for -m @p memory -smp @p smp to @p out; return it."""
    if recipe not in RECIPES:
        raise DtbError(f"no device-tree recipe {recipe!r} (known: {', '.join(sorted(RECIPES))})")
    dtc = shutil.which("dtc")
    if dtc is None:
        raise DtbError("dtc not found: install Debian's device-tree-compiler (scripts/setup.sh does)")
    out.parent.mkdir(parents=True, exist_ok=True)
    dumped = out.with_suffix(".qemu.dtb")
    _run(
        [qemu, "-machine", f"virt,dumpdtb={dumped}", "-m", memory, "-smp", str(smp), "-seed", "1", "-nographic",
         "-bios", "default"],
        "QEMU's dumpdtb",
    )  # fmt: skip
    source = out.with_suffix(".qemu.dts")
    _run([dtc, "-q", "-I", "dtb", "-O", "dts", "-o", str(source), str(dumped)], "dtc (dtb to dts)")
    edited = out.with_suffix(".dts")
    edited.write_text(RECIPES[recipe](source.read_text(encoding="utf-8")), encoding="utf-8")
    _run([dtc, "-q", "-I", "dts", "-O", "dtb", "-o", str(out), str(edited)], "dtc (dts to dtb)")
    return out
