"""A stand-in for make in the tests of scripts/mutants.py.

Usage: mutant_make.py -C ROOT kernel CH=N, or mutant_make.py -C ROOT
host-test. For host-test, it fails like a host test if a source under ROOT
holds /*HOSTFAIL*/, and succeeds otherwise. For kernel, it reads the sources
a kernel of chapter N is made of (common/ and ch1/ .. chN/, *.c and *.h) and
  - fails like a compiler if one holds `#error`;
  - otherwise writes ROOT/build/chN/kernel.elf (and an object file) saying
    how the fake kernel will behave in mutant_qemu.py: KILL if a source holds
    /*KILL*/, HANG if one holds /*HANG*/, FLAKY (fails its first boot only)
    if one holds /*FLAKY*/, else OK.
"""

import sys
from pathlib import Path


def main() -> int:
    """Build (or fail to build) the fake kernel."""
    args = sys.argv[1:]
    root = Path(args[args.index("-C") + 1])
    if "host-test" in args:
        for path in sorted(p for p in root.rglob("*.c") if "build" not in p.relative_to(root).parts):
            if "/*HOSTFAIL*/" in path.read_text():
                print(f"FAIL {path.relative_to(root)}:1: the host test saw it")
                return 2
        print("host tests: all passed")
        return 0
    chapter = int(next(arg for arg in args if arg.startswith("CH=")).split("=", 1)[1])
    dirs = [root / "common"] + [root / f"ch{n}" for n in range(1, chapter + 1)]
    sources = sorted(p for d in dirs if d.is_dir() for p in d.rglob("*") if p.suffix in (".c", ".h"))
    behaviour = "OK"
    for path in sources:
        text = path.read_text()
        if "#error" in text:
            print(f"{path.relative_to(root)}:1:2: error: #error in the source")
            print(f"make: *** [Makefile:60: build/ch{chapter}/obj/x.o] Error 1")
            return 2
        if "/*KILL*/" in text:
            behaviour = "KILL"
        elif "/*HANG*/" in text and behaviour == "OK":
            behaviour = "HANG"
        elif "/*FLAKY*/" in text and behaviour == "OK":
            behaviour = "FLAKY"
    out = root / "build" / f"ch{chapter}"
    (out / "obj").mkdir(parents=True, exist_ok=True)
    (out / "obj" / "all.o").write_text(behaviour)
    (out / "kernel.elf").write_text(behaviour)
    (out / "boots").unlink(missing_ok=True)  # a new kernel has not booted yet (FLAKY counts boots)
    print(f"  LD      build/ch{chapter}/kernel.elf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
