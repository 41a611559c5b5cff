#!/usr/bin/env python3
"""The Linux comparison of chapter 5 (issue 14): the same random sequences of
mmap/munmap/mprotect/mremap/madvise/msync calls and memory writes run on mmlab
and on the Linux kernel of this machine, and must give the same results.

    python3 scripts/linux_compare.py --seeds 1,2,3 --calls 10000
    make linux-compare

Three parts:

- the generator (generate()): a seeded sequence of calls inside a window of
  WINDOW_PAGES pages, with fixed addresses and hints inside it, and calls
  that must fail (length 0, unaligned, overflowing lengths, unknown flags or
  prot bits, both or neither of MAP_PRIVATE and MAP_SHARED, addresses above
  the user half). A model of the window (Model) keeps the writes on pages
  that are writable and mremap on whole regions whose result cannot depend
  on where Linux's merge rules put area boundaries.
- the drivers: ch5/user/mmcompare.c runs a sequence and prints each result
  and the window page by page; built with the host's cc it runs on Linux
  (run_host()), built into the initramfs it runs on mmlab, booted with
  init=mmcompare, the sequence streamed over the serial line (run_mmlab()).
- the diff (parse_output(), first_difference()): the first call where the
  two part, with both results and both maps.

Numbers in a sequence are relative where the two systems differ: W is the
window's address, T the top of the user half, V is -W (see mmcompare.c). One
QEMU boot per seed, all at once, each under a timeout.
"""

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join("ch5", "user", "mmcompare.c")
HOST_EXE = os.path.join("build", "host", "mmcompare")
KERNEL = os.path.join("build", "ch5", "kernel.elf")

PAGE = 4096
WINDOW_PAGES = 64  # as mmcompare.c
SLOTS = 8
GUARD_PAGES = 8  # past the window's end: never mapped, so ranges may run into it

PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE = 0x01, 0x02, 0x03
MAP_FIXED, MAP_ANONYMOUS = 0x10, 0x20
MAP_DENYWRITE, MAP_EXECUTABLE = 0x0800, 0x1000
MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK, MAP_STACK = 0x4000, 0x8000, 0x10000, 0x20000
MAP_SYNC, MAP_FIXED_NOREPLACE, MAP_UNINITIALIZED = 0x80000, 0x100000, 0x4000000
MREMAP_MAYMOVE, MREMAP_FIXED = 1, 2
MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED = 0, 1, 2, 3, 4
MS_ASYNC, MS_INVALIDATE, MS_SYNC = 1, 2, 4

# Flags that mean the same on x86-64 and riscv64 and leave no trace in the
# maps listing or the areas' fate (not MAP_LOCKED: it changes madvise's
# results; not MAP_GROWSDOWN; not MAP_HUGETLB: it depends on the host's
# huge pages; not 0x40/0x80: MAP_32BIT/MAP_ABOVE4G on x86-64).
HARMLESS_FLAGS = [MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK, MAP_STACK, MAP_DENYWRITE, MAP_EXECUTABLE,
                  MAP_UNINITIALIZED]
# Bits no Linux knows for mmap (ignored with MAP_PRIVATE/MAP_SHARED).
UNKNOWN_FLAGS = [0x200000, 0x400000, 0x800000, 0x1000000, 0x2000000]
# Map types that are errors: neither (0), and undefined ones. 3 is
# MAP_SHARED_VALIDATE (EINVAL for anonymous memory), 8 is MAP_DROPPABLE
# since Linux 6.11 (not generated).
BAD_TYPES = [0, 4, 5, 6, 7, 9, 0xf]
# prot bits no Linux knows (mmap ignores them, mprotect refuses them; not
# 0x8, PROT_SEM, which mprotect accepts).
UNKNOWN_PROT = [0x10, 0x20, 0x40, 0x100, 0x1000]
# Lengths that overflow on both systems whatever their user halves.
HUGE_LENGTHS = ["fffffffffffff001", "ffffffffffffffff", "fffffffffffff000", "8000000000000000"]


def hexv(v):
    return format(v, "x")


def waddr(page, off=0):
    """The window address of @page (+ @off bytes), as the sequence writes it."""
    return "W+" + hexv(page * PAGE + off)


@dataclass
class Region:
    """What one successful mmap (or mremap) made, while nothing has split it."""
    start: int  # page
    npages: int
    valid: bool = True


@dataclass
class PageState:
    prot: int
    shared: bool
    region: int


@dataclass
class Model:
    """The window as Linux's semantics make it: page -> PageState."""
    pages: dict = field(default_factory=dict)
    regions: dict = field(default_factory=dict)
    next_region: int = 0

    def free(self, start, n):
        return all(p not in self.pages for p in range(start, start + n))

    def _touch(self, touched):
        """Pages @touched lose their state's region: regions cut in part go invalid."""
        by_region = {}
        for p in touched:
            st = self.pages.get(p)
            if st is not None:
                by_region.setdefault(st.region, set()).add(p)
        for rid, ps in by_region.items():
            r = self.regions.get(rid)
            if r and len(ps) != r.npages:
                r.valid = False

    def _forget_empty_regions(self):
        alive = {st.region for st in self.pages.values()}
        for rid in list(self.regions):
            if rid not in alive:
                del self.regions[rid]

    def map(self, start, n, prot, shared):
        """A new mapping of @n pages at page @start (replacing what was there)."""
        self._touch(range(start, start + n))
        rid = self.next_region
        self.next_region += 1
        for p in range(start, start + n):
            self.pages[p] = PageState(prot, shared, rid)
        self.regions[rid] = Region(start, n)
        self._forget_empty_regions()

    def unmap(self, start, n):
        self._touch(range(start, start + n))
        for p in range(start, start + n):
            self.pages.pop(p, None)
        self._forget_empty_regions()

    def protect(self, start, n, prot):
        """Linux's mprotect on a valid range: change pages up to the first hole.
        Returns what the call returns (0 or 'ENOMEM')."""
        if start not in self.pages:
            return "ENOMEM"
        changed = []
        for p in range(start, start + n):
            if p not in self.pages:
                break
            changed.append(p)
        self._touch(changed)
        for p in changed:
            self.pages[p].prot = prot
        return 0 if len(changed) == n else "ENOMEM"

    def split_flags(self, start, n):
        """madvise advice that changes an area's flags (and so splits it)."""
        self._touch([p for p in range(start, start + n) if p in self.pages])

    def mergeable(self, a, b):
        """Could Linux have merged pages @a and @b into one area?"""
        sa, sb = self.pages.get(a), self.pages.get(b)
        if sa is None or sb is None:
            return False
        return not sa.shared and not sb.shared and sa.prot == sb.prot

    def intact_regions(self):
        """Regions that are exactly one Linux area: made by one call, never
        cut, with no neighbour Linux could have merged them with."""
        out = []
        for rid, r in self.regions.items():
            if not r.valid:
                continue
            first, last = r.start, r.start + r.npages - 1
            if self.mergeable(first - 1, first) or self.mergeable(last, last + 1):
                continue
            out.append((rid, r))
        return out

    def perms(self):
        """The window as the maps listing shows it: page -> "rw-p"."""
        return {p: ("r" if st.prot & PROT_READ else "-") + ("w" if st.prot & PROT_WRITE else "-") +
                ("x" if st.prot & PROT_EXEC else "-") + ("s" if st.shared else "p")
                for p, st in self.pages.items() if p < WINDOW_PAGES}

    def move(self, rid, new_start, new_n):
        """mremap of region @rid to @new_n pages at @new_start (the old pages go)."""
        r = self.regions[rid]
        st = self.pages[r.start]
        prot, shared = st.prot, st.shared
        for p in range(r.start, r.start + r.npages):
            self.pages.pop(p, None)
        del self.regions[rid]
        self.map(new_start, new_n, prot, shared)


# The kinds of call and how often each comes (the generator's gen_<kind>).
KINDS = {"mmap": 22, "munmap": 10, "mprotect": 14, "write": 24, "madvise": 7, "msync": 3, "mremap": 8,
         "error": 12}


class Generator:
    """Writes a sequence of calls (the lines mmcompare.c reads)."""

    def __init__(self, seed, kinds=None):
        self.rng = random.Random(seed)
        self.model = Model()
        self.kinds = set(kinds or KINDS)

    # ---- helpers -----------------------------------------------------------
    def span(self, limit=WINDOW_PAGES, most=16):
        """A page range inside [0, limit): (start, pages)."""
        start = self.rng.randrange(limit)
        n = 1 + min(int(self.rng.expovariate(1 / 3)), most - 1, limit - start - 1)
        return start, n

    def mapped_span(self, most=16):
        """Usually a page range over mapped pages (so that calls meet areas
        more often than holes), else any: (start, pages) as span()."""
        mapped = sorted(self.model.pages)
        if not mapped or self.rng.random() < 0.4:
            return self.span(WINDOW_PAGES + GUARD_PAGES, most=24)
        start = self.rng.choice(mapped)
        run = 1
        while start + run in self.model.pages and run < most:
            run += 1
        # mostly inside the mapped run, sometimes a little past it
        n = self.rng.randrange(1, run + 1) + (self.rng.randrange(3) if self.rng.random() < 0.2 else 0)
        return start, n

    def length(self, n):
        """@n pages in bytes, sometimes not a whole number of pages (rounded up)."""
        return n * PAGE - (self.rng.randrange(1, PAGE) if self.rng.random() < 0.2 else 0)

    def prot(self):
        return self.rng.choice([0, 1, 2, 3, 3, 3, 4, 5, 6, 7, 1, 3])

    # ---- calls -------------------------------------------------------------
    def gen_mmap(self):
        rng, m = self.rng, self.model
        start, n = self.span()
        prot = self.prot()
        shared = rng.random() < 0.3
        flags = (MAP_SHARED if shared else MAP_PRIVATE) | MAP_ANONYMOUS
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            flags |= rng.choice(HARMLESS_FLAGS)
        if rng.random() < 0.05:
            flags |= rng.choice(UNKNOWN_FLAGS)
        call_prot = prot | (rng.choice(UNKNOWN_PROT) if rng.random() < 0.05 else 0)
        kind = rng.choice(["fixed", "fixed", "noreplace", "hint", "hint0"])
        if kind == "hint0":
            addr = "0"
        else:
            addr = waddr(start)
        if kind == "fixed":
            flags |= MAP_FIXED
            m.map(start, n, prot, shared)
        elif kind == "noreplace":
            flags |= MAP_FIXED_NOREPLACE | (MAP_FIXED if rng.random() < 0.3 else 0)
            if m.free(start, n):
                m.map(start, n, prot, shared)
        elif kind == "hint":
            if m.free(start, n):
                m.map(start, n, prot, shared)
        # hint0 and a hint on a used range: outside the window ("out", unmapped again)
        return f"m {addr} {hexv(self.length(n))} {hexv(call_prot)} {hexv(flags)} 0"

    def gen_munmap(self):
        start, n = self.span(WINDOW_PAGES + GUARD_PAGES, most=24)
        self.model.unmap(start, n)
        return f"u {waddr(start)} {hexv(self.length(n))}"

    def gen_mprotect(self):
        rng = self.rng
        start, n = self.mapped_span()
        prot = self.prot()
        if rng.random() < 0.03:
            # to the end of memory: up to the first hole (past the window at most)
            self.model.protect(start, WINDOW_PAGES + GUARD_PAGES - start, prot)
            return f"p {waddr(start)} 8000000000000000 {hexv(prot)}"
        self.model.protect(start, n, prot)
        return f"p {waddr(start)} {hexv(self.length(n))} {hexv(prot)}"

    def gen_madvise(self):
        rng = self.rng
        start, n = self.mapped_span()
        advice = rng.choice([MADV_DONTNEED, MADV_DONTNEED, MADV_DONTNEED, MADV_WILLNEED, MADV_NORMAL,
                             MADV_RANDOM, MADV_SEQUENTIAL])
        if advice in (MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL):
            self.model.split_flags(start, n)
        return f"a {waddr(start)} {hexv(self.length(n))} {hexv(advice)}"

    def gen_msync(self):
        start, n = self.mapped_span()
        flags = self.rng.choice([MS_ASYNC, MS_SYNC, MS_INVALIDATE, MS_ASYNC | MS_INVALIDATE,
                                 MS_SYNC | MS_INVALIDATE, 0])
        return f"s {waddr(start)} {hexv(self.length(n))} {hexv(flags)}"

    def gen_write(self):
        writable = sorted(p for p, st in self.model.pages.items() if st.prot & PROT_WRITE)
        if not writable:
            return self.gen_mmap()
        page = self.rng.choice(writable)
        return f"w {hexv(page)} {hexv(self.rng.randrange(SLOTS))} {hexv(self.rng.getrandbits(64))}"

    def gen_mremap(self):
        rng, m = self.rng, self.model
        intact = m.intact_regions()
        if not intact:
            return self.gen_mmap()
        rid, r = rng.choice(intact)
        shared = m.pages[r.start].shared
        old = r.npages
        what = rng.choice(["shrink", "same", "grow", "grow", "fixed"])
        if what == "grow" and shared:
            what = "shrink"  # a shared anonymous area cannot grow past its size on Linux (SIGBUS)
        if what == "shrink" and old == 1:
            what = "same"
        if what == "shrink":
            new = rng.randrange(1, old)
            m.unmap(r.start + new, old - new)  # the region is cut at its end ...
            r.npages, r.valid = new, True  # ... but stays one area
            flags = rng.choice([0, MREMAP_MAYMOVE])
            return f"r {waddr(r.start)} {hexv(old * PAGE)} {hexv(self.length(new))} {flags} 0"
        if what == "same":
            flags = rng.choice([0, MREMAP_MAYMOVE])
            return f"r {waddr(r.start)} {hexv(old * PAGE)} {hexv(old * PAGE)} {flags} 0"
        if what == "grow":
            room = WINDOW_PAGES - (r.start + old)
            if room <= 0:
                return f"r {waddr(r.start)} {hexv(old * PAGE)} {hexv(old * PAGE)} 0 0"
            new = old + 1 + rng.randrange(min(room, 8))
            flags = rng.choice([0, MREMAP_MAYMOVE])
            if m.free(r.start + old, new - old):
                m.move(rid, r.start, new)
            elif flags & MREMAP_MAYMOVE:
                m.unmap(r.start, old)  # moved out of the window, and unmapped there
            return f"r {waddr(r.start)} {hexv(old * PAGE)} {hexv(self.length(new))} {flags} 0"
        # MREMAP_FIXED: to a place in the window that does not overlap the old one
        # (a shared one may shrink on the way, not grow)
        new = rng.randrange(1, old + 1) if shared else max(1, old + rng.randrange(-2, 3))
        target = rng.randrange(WINDOW_PAGES - new + 1)
        if target < r.start + old and r.start < target + new:
            return (f"r {waddr(r.start)} {hexv(old * PAGE)} {hexv(new * PAGE)} "
                    f"{MREMAP_MAYMOVE | MREMAP_FIXED} {waddr(target)}")  # overlap: EINVAL
        m.unmap(target, new)
        m.move(rid, target, new)
        return (f"r {waddr(r.start)} {hexv(old * PAGE)} {hexv(new * PAGE)} "
                f"{MREMAP_MAYMOVE | MREMAP_FIXED} {waddr(target)}")

    def gen_error(self):
        """A call that must fail (or do nothing) the same way on both systems."""
        rng = self.rng
        page = rng.randrange(WINDOW_PAGES)
        a = waddr(page)
        anon = MAP_PRIVATE | MAP_ANONYMOUS
        cases = [
            # mmap
            lambda: f"m {a} 0 3 {hexv(anon | rng.choice([0, MAP_FIXED]))} 0",  # len 0
            lambda: f"m {waddr(page, rng.randrange(1, PAGE))} 1000 3 {hexv(anon | MAP_FIXED)} 0",
            lambda: f"m {waddr(page, rng.randrange(1, PAGE))} 1000 3 "
                    f"{hexv(anon | MAP_FIXED_NOREPLACE)} 0",
            lambda: f"m {a} 1000 3 {hexv(anon)} {hexv(rng.choice([1, 0x10, 0x800, 0xfff]))}",  # offset
            lambda: f"m {a} {rng.choice(HUGE_LENGTHS)} 3 {hexv(anon | rng.choice([0, MAP_FIXED]))} 0",
            lambda: f"m 0 {rng.choice(HUGE_LENGTHS)} 3 {hexv(anon)} 0",
            lambda: f"m 0 T+1000 3 {hexv(anon)} 0",  # longer than the user half
            lambda: f"m {a} T 3 {hexv(anon | MAP_FIXED)} 0",  # past the top from the window
            lambda: f"m {a} 1000 3 {hexv(MAP_ANONYMOUS | rng.choice(BAD_TYPES))} 0",  # no type
            lambda: f"m {a} 1000 3 {hexv(MAP_ANONYMOUS | MAP_SHARED_VALIDATE)} 0",  # both
            lambda: f"m {a} 1000 3 "
                    f"{hexv(MAP_ANONYMOUS | MAP_SHARED_VALIDATE | rng.choice(UNKNOWN_FLAGS + [MAP_SYNC]))} 0",
            # no MAP_ANONYMOUS, fd -1
            lambda: f"m {a} 1000 3 {hexv(MAP_PRIVATE | rng.choice([0, MAP_FIXED]))} 0",
            lambda: f"m {rng.choice(['T', 'T+1000', 'T+100000', 'V'])} 1000 3 "
                    f"{hexv(anon | rng.choice([MAP_FIXED, MAP_FIXED_NOREPLACE]))} 0",  # above the user half
            lambda: f"m T-1000 2000 3 {hexv(anon | MAP_FIXED)} 0",  # across the top
            lambda: f"m {rng.choice(['T', 'T+1000'])} 1000 3 {hexv(anon)} 0",  # a hint above: ignored
            # munmap
            lambda: f"u {a} 0",
            lambda: f"u {waddr(page, rng.randrange(1, PAGE))} 1000",
            lambda: f"u {a} {rng.choice(HUGE_LENGTHS + ['T'])}",
            lambda: f"u {rng.choice(['T', 'T+1000', 'V'])} 1000",
            lambda: "u T-1000 2000",
            # mprotect
            lambda: f"p {waddr(page, rng.randrange(1, PAGE))} 1000 3",
            lambda: f"p {a} 1000 {hexv(rng.choice(UNKNOWN_PROT) | self.prot())}",
            lambda: f"p {a} 0 {hexv(self.prot())}",  # len 0: nothing, 0
            lambda: f"p {a} V+1000 3",  # wraps
            lambda: f"p {a} {rng.choice(['fffffffffffff001', 'ffffffffffffffff'])} 3",
            lambda: f"p {rng.choice(['T', 'T+1000', 'V'])} 1000 3",
            # madvise
            lambda: f"a {waddr(page, rng.randrange(1, PAGE))} 1000 4",
            lambda: f"a {a} 1000 {hexv(rng.choice([5, 6, 7, 1000, 0xffff]))}",
            lambda: f"a {a} 0 4",
            lambda: f"a {a} V+1000 4",
            lambda: f"a {a} {rng.choice(['fffffffffffff001', 'ffffffffffffffff'])} 4",
            lambda: f"a {rng.choice(['T', 'T+1000'])} 1000 {rng.choice([0, 3, 4])}",
            # msync
            lambda: f"s {waddr(page, rng.randrange(1, PAGE))} 1000 1",
            lambda: f"s {a} 1000 "
                    f"{hexv(rng.choice([MS_ASYNC | MS_SYNC, 8, 0x10, MS_ASYNC | MS_SYNC | MS_INVALIDATE]))}",
            lambda: f"s {a} 0 4",
            lambda: f"s {a} V+1000 4",
            lambda: f"s {rng.choice(['T', 'T+1000'])} 1000 4",
            # mremap on what is not mapped or with bad arguments (no area is looked at, or none is found)
            lambda: f"r {waddr(page, rng.randrange(1, PAGE))} 1000 2000 1 0",
            lambda: f"r {a} 1000 0 1 0",  # new length 0
            lambda: f"r {a} 1000 2000 {rng.choice([8, 0x10, 0x100])} 0",  # unknown flags
            # MREMAP_FIXED without MREMAP_MAYMOVE
            lambda: f"r {a} 1000 2000 {MREMAP_FIXED} {waddr((page + 8) % WINDOW_PAGES)}",
            lambda: f"r {rng.choice(['T', 'T+1000'])} 1000 2000 1 0",
        ]
        line = rng.choice(cases)()
        if line.startswith("r ") and line.split()[1] == a and (page in self.model.pages):
            # mremap of a mapped page depends on the area around it: not that one
            return f"r {waddr(page, 8)} 1000 2000 1 0"
        return line

    def next(self):
        kinds = [k for k in KINDS if k in self.kinds]
        r = self.rng.random() * sum(KINDS[k] for k in kinds)
        for k in kinds:
            r -= KINDS[k]
            if r < 0:
                break
        return getattr(self, "gen_" + k)()


def generate(seed, calls, states=None, kinds=None):
    """The sequence of seed @seed: @calls lines, then "q". If @states is a
    list, the model's window after each call (Model.perms()) is appended to
    it. @kinds: only those kinds of call (KINDS), for a look at one family."""
    g = Generator(seed, kinds)
    seq = []
    for _ in range(calls):
        seq.append(g.next())
        if states is not None:
            states.append(g.model.perms())
    return seq + ["q"]


# ---- the output --------------------------------------------------------------

@dataclass
class Step:
    """Call n's result and the window after it (a tuple of ranges)."""
    result: str
    window: tuple


def parse_output(text):
    """The steps of one run's output: (steps, ended, notes). Lines that are not
    mmcompare's (the kernel's) are skipped; a window is carried over from the
    last call that printed one."""
    steps, window, ended, notes = [], (), False, []
    cur_ranges = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("@"):
            continue
        if line.startswith("@ "):
            if cur_ranges is not None:
                window = tuple(cur_ranges)
                steps[-1].window = window
                cur_ranges = None
            parts = line.split(" ", 2)
            if len(parts) < 3 or not parts[1].isdigit() or int(parts[1]) != len(steps) + 1:
                notes.append(f"unexpected line: {line}")
                continue
            steps.append(Step(parts[2], window))
        elif line.startswith("@M"):
            cur_ranges = line[2:].split()
        elif line.startswith("@+") and cur_ranges is not None:
            cur_ranges += line[2:].split()
        elif line.startswith("@H"):
            cur_ranges = ["#" + line[2:].strip()]  # a hash of the window ("v hash")
        elif line.startswith("@end"):
            ended = True
        elif line.startswith("@error"):
            notes.append(line)
    if cur_ranges is not None and steps:
        steps[-1].window = tuple(cur_ranges)
    return steps, ended, notes


def first_difference(a, b):
    """The index of the first step where runs @a and @b (parse_output()) part, or None."""
    for i in range(min(len(a), len(b))):
        if a[i].result != b[i].result or a[i].window != b[i].window:
            return i
    if len(a) != len(b):
        return min(len(a), len(b))
    return None


def window_perms(window):
    """A window of parse_output() as page -> perms."""
    out = {}
    for r in window:
        span, perms, _ = r.split(":")
        first, end = (int(x) for x in span.split("-"))
        for p in range(first, end):
            out[p] = perms
    return out


def format_window(window):
    return " ".join(window) if window else "(nothing mapped)"


def report_difference(seed, seq, host, guest, i, guest_text, context=5):
    """Text that shows where the runs of seed @seed part, at call @i (0-based)."""
    out = [f"seed {seed}: the runs part at call {i + 1}: {seq[i] if i < len(seq) else '(end)'}"]
    out.append("  calls before it:")
    for j in range(max(0, i - context), i):
        out.append(f"    {j + 1}: {seq[j]}  -> {host[j].result}")
    if i < len(host):
        out.append(f"  linux: {host[i].result}")
        out.append(f"         {format_window(host[i].window)}")
    else:
        out.append("  linux: (no result)")
    if i < len(guest):
        out.append(f"  mmlab: {guest[i].result}")
        out.append(f"         {format_window(guest[i].window)}")
    else:
        out.append("  mmlab: (no result; the run's last lines:)")
        out += ["    | " + line for line in guest_text.splitlines()[-15:]]
    if i > 0:
        out.append(f"  the window before it (both): {format_window(host[i - 1].window)}")
    return "\n".join(out)


# ---- the drivers -------------------------------------------------------------

def build_host(cc="cc"):
    """Build the host runner if its source is newer; returns its path."""
    exe = os.path.join(ROOT, HOST_EXE)
    src = os.path.join(ROOT, SOURCE)
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        subprocess.run([cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-DMMCOMPARE_HOST",
                        "-o", exe, src], check=True)
    return exe


def with_mode(seq, views):
    """@seq with the line that tells mmcompare how to print windows first:
    @views "hash" (an @H line: fast over the guest's serial line) or "full"."""
    return [f"v {views}"] + list(seq)


def run_host(exe, seq, timeout=120, views="full"):
    """The host runner's output for sequence @seq."""
    p = subprocess.run([exe], input="\n".join(with_mode(seq, views)) + "\n", capture_output=True, text=True,
                       timeout=timeout)
    return p.stdout + p.stderr


def run_mmlab(kernel, seq, timeout, mem="256M", smp=1, views="full"):
    """Boot @kernel with init=mmcompare, stream @seq once the program has
    started (the console's set-up would drop bytes that came before), and
    return everything it printed. QEMU is killed after @timeout seconds."""
    cmd = ["qemu-system-riscv64", "-machine", "virt", "-bios", "default", "-no-reboot", "-nographic",
           "-seed", "1", "-m", mem, "-smp", str(smp), "-kernel", kernel, "-append", "init=mmcompare"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started = threading.Event()
    chunks = []

    def reader():
        for line in iter(p.stdout.readline, b""):
            chunks.append(line)
            if not started.is_set() and b"@start" in line:
                started.set()
        started.set()

    def writer():
        started.wait()
        try:
            p.stdin.write(("\n".join(with_mode(seq, views)) + "\n").encode())
            p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    threads = [threading.Thread(target=reader, daemon=True), threading.Thread(target=writer, daemon=True)]
    for t in threads:
        t.start()
    try:
        p.wait(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        timed_out = True
    threads[0].join(5)
    text = b"".join(chunks).decode(errors="replace")
    if timed_out:
        text += f"\n(linux_compare: QEMU killed after {timeout} s)\n"
    return text


def compare_seed(seed, calls, host_exe, kernel, timeout, save=None, kinds=None):
    """Run seed @seed on both; returns (ok, message, host_seconds, guest_seconds)."""
    seq = generate(seed, calls, kinds=kinds)
    t0 = time.monotonic()
    host_text = run_host(host_exe, seq, views="hash")
    t1 = time.monotonic()
    host, host_end, host_notes = parse_output(host_text)
    if not host_end or host_notes or len(host) != calls:
        return False, (f"seed {seed}: the host run is not complete ({len(host)} of {calls} calls)"
                       f" {host_notes[:3]}\n" + "\n".join(host_text.splitlines()[-5:])), t1 - t0, 0
    skips = sum(1 for s in host if s.result == "skip")
    if kernel is None:
        return True, f"seed {seed}: host only, {calls} calls, {skips} writes skipped", t1 - t0, 0
    guest_text = run_mmlab(kernel, seq, timeout, views="hash")
    t2 = time.monotonic()
    if save:
        os.makedirs(save, exist_ok=True)
        for name, text in (("seq", "\n".join(seq) + "\n"), ("linux", host_text), ("mmlab", guest_text)):
            with open(os.path.join(save, f"seed{seed}.{name}.txt"), "w") as f:
                f.write(text)
    guest, guest_end, _ = parse_output(guest_text)
    i = first_difference(host, guest)
    if i is None and not guest_end:
        i = len(guest)
    if i is not None:
        # The runs printed hashes of the windows: run both again up to the
        # call where they part, printing the windows themselves.
        upto = seq[:i + 1] + [line for line in seq[-1:] if line == "q"]  # "q": the program ends
        host_full, _, _ = parse_output(run_host(host_exe, upto))
        guest_text = run_mmlab(kernel, upto, timeout)
        guest_full, _, _ = parse_output(guest_text)
        j = first_difference(host_full, guest_full)
        j = i if j is None else j
        return False, report_difference(seed, seq, host_full, guest_full, j, guest_text), t1 - t0, t2 - t1
    return True, f"seed {seed}: {calls} calls, identical ({skips} writes skipped)", t1 - t0, t2 - t1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default 1,2,3)")
    ap.add_argument("--calls", type=int, default=10000, help="calls per seed (default 10000)")
    ap.add_argument("--kernel", default=KERNEL, help=f"the ch5 kernel (default {KERNEL})")
    ap.add_argument("--host-only", action="store_true", help="run the host side only (no QEMU)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per boot (default 300)")
    ap.add_argument("--jobs", type=int, default=0, help="boots at once (default: every seed at once)")
    ap.add_argument("--only", metavar="KINDS",
                    help=f"only these kinds of call, comma-separated (of {','.join(KINDS)}); a sequence "
                         "differs from the full one")
    ap.add_argument("--save", metavar="DIR", help="write each seed's sequence and both outputs here")
    ap.add_argument("--print", dest="print_seq", action="store_true",
                    help="print the sequence of the first seed and stop")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    kinds = None
    if args.only:
        kinds = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            ap.error(f"--only: unknown kinds {unknown}; known: {', '.join(KINDS)}")
    if args.print_seq:
        print("\n".join(generate(seeds[0], args.calls, kinds=kinds)))
        return 0
    exe = build_host()
    kernel = None if args.host_only else args.kernel
    if kernel and not os.path.exists(kernel):
        print(f"linux_compare: no kernel at {kernel} (make kernel CH=5)")
        return 2
    start = time.monotonic()
    results = [None] * len(seeds)
    slots = threading.Semaphore(args.jobs if args.jobs > 0 else len(seeds))

    def one(k):
        with slots:
            results[k] = compare_seed(seeds[k], args.calls, exe, kernel, args.timeout, args.save, kinds)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = 0
    for ok, msg, th, tg in results:
        print(msg)
        print(f"  (linux {th:.1f} s, mmlab {tg:.1f} s)")
        failed += not ok
    wall = time.monotonic() - start
    print(f"linux-compare: {len(seeds) - failed} of {len(seeds)} seeds identical, "
          f"{args.calls} calls each, {wall:.1f} s wall")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
