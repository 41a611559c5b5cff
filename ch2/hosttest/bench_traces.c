// HOSTTEST_SOURCES: ch2/src/slab.c ch2/src/slab_lists.c ch2/src/array_cache.c ch2/src/slab_cache.c ch2/src/slab_stats.c ch2/src/kmalloc.c ch2/src/slab_debug.c ch2/src/slab_offslab.c ch2/src/slab_reap.c ch2/hosttest/sim_frames.c ch1/src/buddy.c common/hosttest/host_kernel.c ch2/tests/trace_data.c ch2/tests/trace_replay.c
/*
 * The shipped traces against our kmalloc (over the simulated frame
 * allocator) and against glibc malloc, in one run, side by side: operations
 * per second (best of several timed replays) and utilization (peak live bytes
 * / peak bytes taken from below: frames for kmalloc, the arena plus mmapped
 * chunks for glibc, from mallinfo2()). Each glibc replay runs in a child
 * process of its own, so it starts from a fresh arena (glibc keeps what it
 * took from the system). Built by `make bench CH=2` with -O2, no sanitizers.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/heap_trace.h"
#include "slab_internal.h"

static void *k_alloc(size_t n) { return kmalloc(n); }
static void *k_realloc(void *p, size_t n) { return krealloc(p, n); }
static void k_free(void *p) { kfree(p); }
static uint64_t k_held(void) { return heap_frames_held() * PAGE_SIZE; }

static uint64_t g_held(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.arena + mi.hblkhd;
}

static const struct heap_ops kmalloc_ops = {k_alloc, k_realloc, k_free, k_held};
static const struct heap_ops glibc_ops = {malloc, realloc, free, g_held};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct result {
	double mops;   /* millions of operations per second */
	uint64_t util; /* per mille */
	int err;
};

static struct result run(const struct heap_trace *t, const struct heap_ops *h, bool ours)
{
	struct result r = {0};
	void **slot = calloc(t->nr_ids, sizeof(void *));
	uint32_t *size = calloc(t->nr_ids, sizeof(uint32_t));
	struct replay_stats st;
	if (ours)
		kmalloc_shrink();
	else
		malloc_trim(0);
	r.err = trace_replay(t, h, slot, size, REPLAY_CHECK | REPLAY_HELD, &st);
	r.util = replay_utilization(&st);
	double best = 1e9;
	for (int rep = 0; rep < 7; rep++) {
		double t0 = now();
		r.err |= trace_replay(t, h, slot, size, 0, &st);
		double dt = now() - t0;
		if (dt < best)
			best = dt;
	}
	r.mops = st.ops / best / 1e6;
	free(slot);
	free(size);
	return r;
}

/* glibc's replay in a fresh process; the result comes back through a pipe. */
static struct result run_in_child(const struct heap_trace *t)
{
	struct result r = {.err = -1};
	int fd[2];
	if (pipe(fd))
		return r;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		r = run(t, &glibc_ops, false);
		ssize_t n = write(fd[1], &r, sizeof(r));
		_exit(n == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
		r.err = -1;
	close(fd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return r;
}

int main(void)
{
	sim_frames_init(65536); /* 256 MiB */
	if (kmalloc_init()) {
		printf("kmalloc_init failed\n0 passed, 1 failed\n");
		return 1;
	}
	printf("ch2 host benchmark: the traces, kmalloc (over simulated frames) vs glibc malloc\n");
	printf("%-10s %7s %10s | %12s %8s | %12s %8s\n", "trace", "ops", "peak live", "kmalloc Mop/s", "util",
	       "glibc Mop/s", "util");
	int failed = 0;
	for (unsigned i = 0; i < heap_nr_traces; i++) {
		const struct heap_trace *t = heap_traces[i];
		struct result k = run(t, &kmalloc_ops, true);
		struct result g = run_in_child(t);
		failed += (k.err != 0) + (g.err != 0);
		printf("%-10s %7u %10lu | %12.1f %7.1f%% | %12.1f %7.1f%%%s\n", t->name, t->nr_ops,
		       (unsigned long)t->peak_live, k.mops, k.util / 10.0, g.mops, g.util / 10.0,
		       k.err || g.err ? "  REPLAY FAILED" : "");
	}
	printf("utilization = peak live bytes / peak bytes taken from below (frames; glibc arena + mmap)\n");
	printf("%u passed, %d failed\n", heap_nr_traces * 2 - failed, failed);
	return failed ? 1 : 0;
}
