"""A stand-in for make in the grader's tests.

Usage: fake_make.py MODE -C ROOT kernel CH=N, where MODE is
  ok        create ROOT/build/chN/kernel.elf and succeed
  fail      print a compiler error and exit 2
  fail:N    fail so for chapter N only, build the others
  nokernel  succeed without creating the kernel
"""

import sys
from pathlib import Path


def main() -> int:
    """Build (or fail to build) the fake kernel."""
    mode, args = sys.argv[1], sys.argv[2:]
    root = Path(args[args.index("-C") + 1])
    chapter = next(arg for arg in args if arg.startswith("CH=")).split("=", 1)[1]
    print(f"make: Entering directory '{root}'")
    if mode == f"fail:{chapter}":
        mode = "fail"
    elif mode.startswith("fail:"):
        mode = "ok"
    if mode == "fail":
        print(f"ch{chapter}/src/buddy.c:42:5: error: expected ';' before '}}' token")
        print("make: *** [Makefile:80: build/ch1/src/buddy.o] Error 1")
        return 2
    if mode == "ok":
        kernel = root / "build" / f"ch{chapter}" / "kernel.elf"
        kernel.parent.mkdir(parents=True, exist_ok=True)
        kernel.write_bytes(b"\x7fELF fake")
    return 0


if __name__ == "__main__":
    sys.exit(main())
