#!/usr/bin/env python3
"""Boot the multi-hart configurations many times, many at once: a boot race shows up.

A correct kernel must pass every boot, however the host schedules QEMU's
threads. The host is overloaded on purpose, so the boot timeout and the
kernel's per-test watchdog are scaled (--timeout-scale, default 3): a test
that is merely slow under that load is not what this looks for. Races at boot (OpenSBI v1.1 starting a hart at _start, see
common/boot/entry.S) show up about once in 40 to 100 boots under load, so
one grade proves nothing; this runs each rubric configuration with at least
--min-harts harts --count times, --jobs boots at once (more QEMUs than cores),
and reports every boot that did not end with every test passed.

Usage (from the repository root; `make stress` runs it):
    scripts/stress_boot.py [CH ...] [--count N] [--jobs J] [--min-harts H]

Kernels must be built (`make kernels`). Logs of failed boots are kept in
build/stress/. Exit status 0 only if every boot passed.
"""

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "grader"))

from mmgrade import build, disk, dtb, qemu  # noqa: E402
from mmgrade.grading import WATCHDOG_MS  # noqa: E402
from mmgrade.rubric import load  # noqa: E402


def parse_args(argv):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", type=int, help="chapters (default: every one the rubric has)")
    parser.add_argument("--count", type=int, default=100, help="boots per configuration (default 100)")
    parser.add_argument("--jobs", type=int, default=3 * (os.cpu_count() or 1), help="boots at once (default 3 x CPUs)")
    parser.add_argument("--min-harts", type=int, default=4, help="configurations with at least this many harts")
    parser.add_argument(
        "--timeout-scale", type=float, default=3.0,
        help="scale the boot timeout and the per-test watchdog (default 3: the host is overloaded on purpose)",
    )  # fmt: skip
    parser.add_argument("--qemu", default=os.environ.get("MMLAB_QEMU", "qemu-system-riscv64"))
    return parser.parse_args(argv)


def plan(args):
    """Every (chapter, config, command, index) to boot."""
    chapters = load(ROOT / "grader" / "rubric.toml")
    boots = []
    for number, chapter in chapters.items():
        if args.chapters and number not in args.chapters:
            continue
        kernel = build.kernel_path(ROOT, number)
        if not kernel.is_file():
            sys.exit(f"stress: no {kernel}: run make kernels first")
        for config in chapter.configs:
            if config.smp < args.min_harts:
                continue
            extra = ()
            if config.dtb:
                path = ROOT / "build" / "stress" / f"{chapter.name}-{config.name}.dtb"
                extra = ("-dtb", str(dtb.make(args.qemu, config.memory, config.smp, config.dtb, path)))
            watchdog = f"ktest_timeout={round(WATCHDOG_MS * args.timeout_scale)}"
            bootargs = " ".join(p for p in (f"ktest={chapter.ktest}", watchdog, config.bootargs) if p)
            argv = qemu.command(args.qemu, kernel, config.memory, config.smp, bootargs, extra)
            for i in range(args.count):
                boots.append((chapter, config, argv, i, chapter.timeout * args.timeout_scale))
    return boots


def run_one(item):
    """Boot once; return None if every test passed, else (label, reason, log)."""
    chapter, config, argv, i, timeout = item
    log = ROOT / "build" / "stress" / f"{chapter.name}-{config.name}-{i}.log"
    image = None
    if chapter.disk is not None:  # a fresh disk image per boot, as the grader attaches
        image = disk.make(chapter.disk, log.with_suffix(".img"))
        argv = [*argv, *disk.qemu_args(image)]
    boot = qemu.run(config.name, argv, log, timeout)
    failure = boot.failure()
    failed_tests = [t.key for t in boot.ktap.tests() if not t.ok]
    if failure is None and boot.exit_code == 0 and not failed_tests:
        log.unlink()
        if image:
            image.unlink()
        return None
    reason = f"{failure.status}: {failure.detail}" if failure else f"exit code {boot.exit_code}, failed: {failed_tests[:3]}"
    return f"{chapter.name}/{config.name} #{i}", reason, log


def main(argv=None):
    """Run the boots; print each failure and the totals."""
    args = parse_args(argv)
    boots = plan(args)
    configs = sorted({f"{c.name}/{k.name}" for c, k, *_ in boots})
    print(f"stress: {len(boots)} boots ({args.count} each of {', '.join(configs)}), {args.jobs} at once "
          f"on {os.cpu_count()} CPUs", flush=True)  # fmt: skip
    start = time.monotonic()
    failures = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done, result in enumerate(pool.map(run_one, boots), start=1):
            if result is not None:
                failures.append(result)
                print(f"stress: FAILED {result[0]}: {result[1]} (log: {result[2]})", flush=True)
            if done % 50 == 0:
                print(f"stress: {done}/{len(boots)} boots, {len(failures)} failed", flush=True)
    elapsed = time.monotonic() - start
    print(f"stress: {len(boots)} boots, {len(failures)} failed, {elapsed:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
