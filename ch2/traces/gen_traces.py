#!/usr/bin/env python3
"""Generate ch2's heap traces, deterministically (Python 3 standard library only).

Writes ch2/traces/<name>.rep (text, one operation a line, CS:APP malloc-lab
style) and ch2/tests/trace_data.c (the same traces as C arrays the kernel and
the host benchmark replay). Run from anywhere:

    python3 ch2/traces/gen_traces.py          # rewrite both
    python3 ch2/traces/gen_traces.py --check  # exit 1 if the files are stale

Trace format:
    # comment lines
    a <id> <size>     allocate <size> bytes as block <id>
    r <id> <size>     reallocate block <id> to <size> bytes
    f <id>            free block <id>
Every id is allocated before it is used, freed at most once per allocation,
and every block is freed by the end. Ids are dense, 0 .. ids-1, and reused.
"""
import argparse
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CH2 = os.path.dirname(HERE)
C_OUT = os.path.join(CH2, "tests", "trace_data.c")


class Trace:
    """Builds a trace, tracking live blocks and handing out dense ids."""

    def __init__(self, name, what):
        self.name, self.what = name, what
        self.ops = []
        self.live = {}  # id -> size
        self.free_ids = []
        self.next_id = 0

    def alloc(self, size):
        if self.free_ids:
            i = self.free_ids.pop()
        else:
            i = self.next_id
            self.next_id += 1
        self.live[i] = size
        self.ops.append(("a", i, size))
        return i

    def realloc(self, i, size):
        self.live[i] = size
        self.ops.append(("r", i, size))

    def free(self, i):
        del self.live[i]
        self.free_ids.append(i)
        self.ops.append(("f", i, 0))

    def free_all(self, rng=None):
        ids = list(self.live)
        if rng:
            rng.shuffle(ids)
        for i in ids:
            self.free(i)

    def peak_live(self):
        live, peak, sizes = 0, 0, {}
        for op, i, size in self.ops:
            if op == "a":
                live += size
                sizes[i] = size
            elif op == "r":
                live += size - sizes[i]
                sizes[i] = size
            else:
                live -= sizes.pop(i)
            peak = max(peak, live)
        return peak


def small_objects():
    """Many small objects: a cache of 8..128-byte records that grows, churns and empties."""
    rng = random.Random(1)
    t = Trace("small", "many small objects (8-128 B): grow to 5000, churn, free all")
    sizes = [8, 12, 16, 16, 24, 24, 32, 32, 32, 40, 48, 48, 64, 64, 80, 96, 128]
    for _ in range(5000):
        t.alloc(rng.choice(sizes))
    for _ in range(4000):
        if rng.random() < 0.5 and t.live:
            t.free(rng.choice(list(t.live)))
        else:
            t.alloc(rng.choice(sizes))
    t.free_all(rng)
    return t


def mixed_sizes():
    """Mixed sizes: mostly small, some page-sized, a few large, with a bounded live set."""
    rng = random.Random(2)
    t = Trace("mixed", "mixed sizes (8 B-64 KiB, mostly small), live set around 1500 blocks")

    def size():
        r = rng.random()
        if r < 0.70:
            return rng.randint(8, 256)
        if r < 0.95:
            return rng.randint(257, 4096)
        return rng.randint(4097, 65536)

    for _ in range(1500):
        t.alloc(size())
    for _ in range(7000):
        if rng.random() < 0.5:
            t.free(rng.choice(list(t.live)))
        else:
            t.alloc(size())
    t.free_all(rng)
    return t


def realloc_heavy():
    """Growing buffers (strings, vectors): realloc by small steps and by doubling, some shrinks."""
    rng = random.Random(3)
    t = Trace("realloc", "realloc-heavy: 150 buffers grown step by step to 40 B-48 KiB, some shrunk")
    bufs = [t.alloc(rng.randint(8, 32)) for _ in range(150)]
    for _ in range(6000):
        b = rng.choice(bufs)
        cur = t.live[b]
        r = rng.random()
        if r < 0.55:
            new = cur + rng.randint(1, 64)  # append a little
        elif r < 0.75:
            new = cur * 2  # vector doubling
        elif r < 0.90:
            new = max(8, cur // 2)  # shrink to fit
        else:
            t.alloc(rng.randint(16, 128))  # a temporary on the side
            t.free(t.ops[-1][1])
            continue
        if new > 48 * 1024:
            new = rng.randint(40, 200)  # a buffer that got too big is reset
        t.realloc(b, new)
    t.free_all(rng)
    return t


def tree():
    """A binary search tree built from random keys, then torn down post-order; twice."""
    rng = random.Random(4)
    t = Trace("tree", "a binary tree of 2000 nodes with key strings, built then torn down, twice")
    for node_size, key_lo, key_hi in ((48, 8, 40), (64, 100, 300)):
        root = None
        nodes = {}  # node id -> [key, left, right, key_block]
        for _ in range(2000):
            key = rng.random()
            n = t.alloc(node_size)
            kb = t.alloc(rng.randint(key_lo, key_hi))
            nodes[n] = [key, None, None, kb]
            if root is None:
                root = n
                continue
            cur = root
            while True:
                side = 1 if key < nodes[cur][0] else 2
                if nodes[cur][side] is None:
                    nodes[cur][side] = n
                    break
                cur = nodes[cur][side]
        stack, order = [root], []
        while stack:  # post-order without recursion: reverse of (node, right, left)
            n = stack.pop()
            order.append(n)
            for child in (nodes[n][1], nodes[n][2]):
                if child is not None:
                    stack.append(child)
        for n in reversed(order):
            t.free(nodes[n][3])
            t.free(n)
    return t


def long_short():
    """Long-lived objects trickle in among bursts of short-lived temporaries (fragmentation)."""
    rng = random.Random(5)
    t = Trace("longshort", "long-lived (1 in 8) among short-lived blocks, 24 B-2 KiB; long ones freed last")
    long_lived, short = [], []
    for _ in range(9000):
        size = rng.choice([24, 32, 56, 100, 160, 200, 400, 700, 1000, 2000])
        b = t.alloc(size)
        if rng.random() < 0.125:
            long_lived.append(b)
        else:
            short.append(b)
        while len(short) > rng.randint(5, 40):
            t.free(short.pop(rng.randrange(len(short))))
    for b in short:
        t.free(b)
    rng.shuffle(long_lived)
    for b in long_lived:
        t.free(b)
    return t


TRACES = [small_objects, mixed_sizes, realloc_heavy, tree, long_short]


def rep_text(t):
    lines = [
        "# mmlab heap trace: %s" % t.name,
        "# %s" % t.what,
        "# generated by ch2/traces/gen_traces.py; do not edit",
        "# ids %d ops %d peak-live-bytes %d" % (t.next_id, len(t.ops), t.peak_live()),
    ]
    for op, i, size in t.ops:
        lines.append("%s %d %d" % (op, i, size) if op != "f" else "f %d" % i)
    return "\n".join(lines) + "\n"


KIND = {"a": 0, "r": 1, "f": 2}


def c_text(traces):
    out = [
        "/*",
        " * Heap traces as C arrays, GENERATED by ch2/traces/gen_traces.py from the",
        " * same generator that wrote ch2/traces/NAME.rep. Do not edit: change the script",
        " * and run `python3 ch2/traces/gen_traces.py`.",
        " *",
        " * Each operation is two words: (kind << 28) | id, then the size in bytes",
        " * (kind 0 alloc, 1 realloc, 2 free). See heap_trace.h.",
        " */",
        '#include "heap_trace.h"',
        "",
    ]
    for t in traces:
        out.append("static const uint32_t trace_%s_ops[] = {" % t.name)
        words = []
        for op, i, size in t.ops:
            words += ["0x%x" % ((KIND[op] << 28) | i), "%d" % size]
        for k in range(0, len(words), 12):
            out.append("\t" + ", ".join(words[k:k + 12]) + ",")
        out.append("};")
        out.append("")
        out.append("static const struct heap_trace trace_%s = {" % t.name)
        out.append('\t.name = "%s",' % t.name)
        out.append('\t.what = "%s",' % t.what)
        out.append("\t.nr_ids = %d," % t.next_id)
        out.append("\t.nr_ops = %d," % len(t.ops))
        out.append("\t.peak_live = %d," % t.peak_live())
        out.append("\t.ops = trace_%s_ops," % t.name)
        out.append("};")
        out.append("")
    out.append("const struct heap_trace *const heap_traces[] = {")
    for t in traces:
        out.append("\t&trace_%s," % t.name)
    out.append("};")
    out.append("const unsigned heap_nr_traces = %d;" % len(traces))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the generated files are out of date")
    args = ap.parse_args()
    traces = [make() for make in TRACES]
    files = {os.path.join(HERE, t.name + ".rep"): rep_text(t) for t in traces}
    files[C_OUT] = c_text(traces)
    stale = []
    for path, text in files.items():
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            stale.append(path)
            if not args.check:
                with open(path, "w") as f:
                    f.write(text)
    for t in traces:
        print("%-10s %6d ops %5d ids peak live %8d B  %s" % (t.name, len(t.ops), t.next_id, t.peak_live(), t.what))
    if args.check and stale:
        print("stale: " + " ".join(os.path.relpath(p) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
