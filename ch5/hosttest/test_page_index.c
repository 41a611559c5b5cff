/*
 * Host unit test of the page cache's index (ch5/src/page_index.c) under
 * AddressSanitizer: random inserts, deletes, lookups and next-searches
 * against a model (a sorted array of offsets), over offsets drawn from
 * small dense ranges, sparse ones and the top of the 2^28-page range, with
 * injected kmalloc failures. After every step the result is checked; every
 * 1,000 steps the whole tree is walked with page_index_next() against the
 * model, and its shape checked (height as low as the highest offset needs
 * after a delete, every node's count equal to its used slots, no empty
 * node). At the end every entry is deleted and no node may be left
 * allocated.
 *
 *   test_page_index [STEPS [SEED]]   (default 400,000 steps)
 */
// HOSTTEST_SOURCES: ch5/src/page_index.c common/hosttest/host_kernel.c
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/hosttest/host_check.h"
#include "errno.h"
#include "kmalloc.h"
#include "page_index.h"

/* ---- stand-ins ------------------------------------------------------------------ */

static long live_nodes;
static int fail_in; /* > 0: the fail_in-th kmalloc from now fails */

void *kmalloc(size_t size)
{
	if (fail_in > 0 && --fail_in == 0)
		return NULL;
	live_nodes++;
	return malloc(size);
}

void kfree(const void *p)
{
	if (p)
		live_nodes--;
	free((void *)p);
}

/* ---- the model: sorted offsets ------------------------------------------------- */

#define MODEL_MAX 20000
static uint64_t model[MODEL_MAX];
static int model_n;

static int model_find(uint64_t index)
{
	int lo = 0, hi = model_n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (model[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool model_has(uint64_t index)
{
	int i = model_find(index);
	return i < model_n && model[i] == index;
}

/* The item stored for an offset: a distinct, checkable pointer. */
static void *item_of(uint64_t index) { return (void *)(uintptr_t)(index * 8 + 0x1000); }

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* An offset: mostly dense near 0, some sparse, some near the top. */
static uint64_t pick_index(void)
{
	switch (rnd() % 8) {
	case 0:
		return (1ULL << 28) - 1 - rnd() % 64;
	case 1:
		return rnd() % (1ULL << 28);
	case 2:
		return rnd() % 100000;
	default:
		return rnd() % 300;
	}
}

/* ---- whole-tree checks ---------------------------------------------------------- */

/* Check node @n of @level: counts, no empty node; returns the entries under it. */
static long check_node(const struct pc_node *n, unsigned level)
{
	unsigned used = 0;
	long entries = 0;
	for (int i = 0; i < PC_FANOUT; i++) {
		if (!n->slot[i])
			continue;
		used++;
		entries += level ? check_node(n->slot[i], level - 1) : 1;
	}
	CHECK_EQ(n->count, used);
	CHECK(used > 0);
	return entries;
}

static void check_all(const struct page_index *ix)
{
	uint64_t at = 0, found;
	int i = 0;
	void *item;
	while ((item = page_index_next(ix, at, &found))) {
		if (i >= model_n) {
			CHECK(!"an entry the model does not have");
			break;
		}
		CHECK_EQ(found, model[i]);
		CHECK(item == item_of(found));
		i++;
		at = found + 1;
	}
	CHECK_EQ(i, model_n);
	if (!ix->root) {
		CHECK_EQ(ix->height, 0);
		CHECK_EQ(model_n, 0);
		return;
	}
	CHECK_EQ(check_node(ix->root, ix->height - 1), model_n);
}

/* After a delete, the height is exactly what the highest offset needs: a
 * delete drops the levels a smaller tree does without. (An insert that
 * failed may leave the tree a level taller until the next delete.) */
static bool maybe_tall;

static void check_height(const struct page_index *ix)
{
	if (!model_n || !ix->root || maybe_tall)
		return;
	uint64_t top = model[model_n - 1];
	unsigned need = 1;
	while (need * 6 < 64 && top >> (need * 6))
		need++;
	CHECK_EQ(ix->height, need);
}

int main(int argc, char **argv)
{
	long steps = argc > 1 ? atol(argv[1]) : 400000;
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x9e3779b97f4a7c15ULL;
	struct page_index ix = {0};
	long inserts = 0, deletes = 0, lookups = 0, nexts = 0, failed_allocs = 0;

	/* Edges first: empty tree, offset 0, the top offset. */
	CHECK(page_index_lookup(&ix, 0) == NULL);
	CHECK(page_index_delete(&ix, 5) == NULL);
	uint64_t f;
	CHECK(page_index_next(&ix, 0, &f) == NULL);

	for (long s = 0; s < steps; s++) {
		uint64_t index = pick_index();
		unsigned op = rnd() % 10;
		if (op < 4 && model_n < MODEL_MAX) {
			bool inject = rnd() % 16 == 0;
			fail_in = inject ? 1 + (int)(rnd() % 4) : 0;
			long before = live_nodes;
			int err = page_index_insert(&ix, index, item_of(index));
			bool failed = fail_in == 0 && inject;
			fail_in = 0;
			if (err == -ENOMEM) {
				CHECK(failed);
				failed_allocs++;
				maybe_tall = true;
				/* Nothing of the path is left behind (a taller root may be). */
				CHECK(page_index_lookup(&ix, index) ==
				      (model_has(index) ? item_of(index) : NULL));
				(void)before;
			} else if (model_has(index)) {
				CHECK_EQ(err, -EEXIST);
			} else {
				CHECK_EQ(err, 0);
				int i = model_find(index);
				memmove(&model[i + 1], &model[i], (model_n - i) * sizeof(model[0]));
				model[i] = index;
				model_n++;
				inserts++;
				maybe_tall = true; /* a high offset needs its levels; a delete will say */
			}
		} else if (op < 7) {
			/* Delete: usually an offset that is there. */
			if (model_n && rnd() % 4)
				index = model[rnd() % model_n];
			void *got = page_index_delete(&ix, index);
			if (model_has(index)) {
				CHECK(got == item_of(index));
				int i = model_find(index);
				memmove(&model[i], &model[i + 1], (model_n - i - 1) * sizeof(model[0]));
				model_n--;
				deletes++;
				maybe_tall = false;
			} else {
				CHECK(got == NULL);
			}
		} else if (op < 9) {
			if (model_n && rnd() % 2)
				index = model[rnd() % model_n];
			void *got = page_index_lookup(&ix, index);
			CHECK(got == (model_has(index) ? item_of(index) : NULL));
			lookups++;
		} else {
			uint64_t found = 0;
			void *got = page_index_next(&ix, index, &found);
			int i = model_find(index);
			if (i < model_n) {
				CHECK(got == item_of(model[i]));
				CHECK_EQ(found, model[i]);
			} else {
				CHECK(got == NULL);
			}
			nexts++;
		}
		if (s % 1000 == 999) {
			check_all(&ix);
			check_height(&ix);
		}
		if (checks_failed > 20)
			break;
	}
	check_all(&ix);
	/* Empty it: every node must go. */
	while (model_n) {
		CHECK(page_index_delete(&ix, model[model_n - 1]) == item_of(model[model_n - 1]));
		model_n--;
	}
	CHECK(ix.root == NULL);
	CHECK_EQ(ix.height, 0);
	CHECK_EQ(live_nodes, 0);
	printf("test_page_index: %ld steps: %ld inserts, %ld deletes, %ld lookups, %ld next-searches, %ld "
	       "injected "
	       "allocation failures\n",
	       steps, inserts, deletes, lookups, nexts, failed_allocs);
	return checks_done("test_page_index");
}
