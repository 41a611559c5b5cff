"""A stand-in for qemu-system-riscv64 in the tests of scripts/mutants.py.

It boots the fake kernel that mutant_make.py wrote (-kernel build/chN/kernel.elf):
chapter N's suite `chN.suite` with tests `one` and `two`, as KTAP on stdout.
OK: both pass (exit 0); KILL: `one` fails (exit 1); HANG: prints the start
and sleeps until the grader kills it; FLAKY: like KILL on the kernel's first
boot, like OK afterwards (boots are counted in build/chN/boots).
"""

import sys
import time
from pathlib import Path


def main() -> int:
    """Act out the fake kernel."""
    args = sys.argv[1:]
    kernel = Path(args[args.index("-kernel") + 1])
    chapter = kernel.parent.name  # chN
    behaviour = kernel.read_text()
    if behaviour == "FLAKY":
        boots = kernel.parent / "boots"
        count = int(boots.read_text()) if boots.exists() else 0
        boots.write_text(str(count + 1))
        behaviour = "KILL" if count == 0 else "OK"
    lines = ["OpenSBI v1.2", "KTAP version 1", "1..1", "    KTAP version 1", f"    # Subtest: {chapter}.suite"]
    lines.append("    1..2")
    if behaviour == "HANG":
        sys.stdout.write("".join(line + "\r\n" for line in lines))
        sys.stdout.flush()
        while True:
            time.sleep(60)
    one_ok = behaviour != "KILL"
    if not one_ok:
        lines.append(f"    # {chapter}/tests/x.c:1: expected 1 == 2")
    verdict = "ok" if one_ok else "not ok"
    lines += [f"    {verdict} 1 one", "    ok 2 two", f"{verdict} 1 {chapter}.suite"]
    sys.stdout.write("".join(line + "\r\n" for line in lines))
    return 0 if one_ok else 1


if __name__ == "__main__":
    sys.exit(main())
