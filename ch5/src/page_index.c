/*
 * The page cache's radix tree (page_index.h). Level 0 is the bottom: its
 * slots hold cache_page pointers; a node at level l holds nodes of level
 * l - 1, and the 6 bits of the page offset at bit 6 * l pick the slot.
 * The tree is as tall as the highest offset needs: inserting past what it
 * covers puts new roots on top, the old root in their slot 0.
 *
 * Reference: Linux lib/xarray.c (the same shape, without marks, multi-index
 * entries or RCU); xv6's bmap does the same for a file's blocks with a
 * fixed two levels.
 */
#include "errno.h"
#include "kmalloc.h"
#include "page_index.h"
#include "string.h"

#define PC_SHIFT 6

/* Offsets a tree of @height levels covers: [0, 64^height), saturating. */
static uint64_t covered(unsigned height)
{
	return height * PC_SHIFT >= 64 ? UINT64_MAX : 1ULL << (height * PC_SHIFT);
}

/* The slot of @index at @level. */
static unsigned slot_of(uint64_t index, unsigned level)
{
	return (index >> (level * PC_SHIFT)) & (PC_FANOUT - 1);
}

static struct pc_node *node_new(void)
{
	struct pc_node *n = kmalloc(sizeof(*n));
	if (n)
		memset(n, 0, sizeof(*n));
	return n;
}

/* LAB BEGIN ch5 page cache index: walk down the radix tree; grow it on top and fill in nodes to insert */
void *page_index_lookup(const struct page_index *ix, uint64_t index)
{
	if (!ix->root || index >= covered(ix->height))
		return NULL;
	struct pc_node *n = ix->root;
	for (unsigned level = ix->height - 1; level > 0; level--) {
		n = n->slot[slot_of(index, level)];
		if (!n)
			return NULL;
	}
	return n->slot[slot_of(index, 0)];
}

/* Grow @ix until it covers @index: each new root holds the old one in slot 0. */
static int grow(struct page_index *ix, uint64_t index)
{
	while (index >= covered(ix->height) || !ix->root) {
		struct pc_node *top = node_new();
		if (!top)
			return -ENOMEM;
		if (ix->root) {
			top->slot[0] = ix->root;
			top->count = 1;
		}
		ix->root = top;
		ix->height++;
	}
	return 0;
}

int page_index_insert(struct page_index *ix, uint64_t index, void *item)
{
	int err = grow(ix, index);
	if (err)
		return err;
	/* Allocate the missing nodes of the path first, so that a failure
	 * leaves no empty node behind. */
	struct pc_node *spare[16];
	unsigned need = 0, got = 0;
	struct pc_node *n = ix->root;
	for (unsigned level = ix->height - 1; level > 0 && n; level--)
		if (!(n = n->slot[slot_of(index, level)]))
			need = level;
	while (got < need && (spare[got] = node_new()))
		got++;
	if (got < need) {
		while (got)
			kfree(spare[--got]);
		return -ENOMEM;
	}
	n = ix->root;
	for (unsigned level = ix->height - 1; level > 0; level--) {
		void **slot = &n->slot[slot_of(index, level)];
		if (!*slot) {
			*slot = spare[--got];
			n->count++;
		}
		n = *slot;
	}
	void **leaf = &n->slot[slot_of(index, 0)];
	if (*leaf)
		return -EEXIST;
	*leaf = item;
	n->count++;
	return 0;
}
/* LAB STUB
void *page_index_lookup(const struct page_index *ix, uint64_t index)
{
	TODO("ch5", "page cache index: look a page up in the radix tree");
	(void)ix, (void)index, (void)slot_of, (void)covered;
	return NULL;
}

int page_index_insert(struct page_index *ix, uint64_t index, void *item)
{
	TODO("ch5", "page cache index: insert a page into the radix tree");
	(void)ix, (void)index, (void)item, (void)node_new;
	return -ENOMEM;
}
LAB END */

void *page_index_delete(struct page_index *ix, uint64_t index)
{
	if (!ix->root || index >= covered(ix->height))
		return NULL;
	struct pc_node *path[16];
	struct pc_node *n = ix->root;
	for (unsigned level = ix->height - 1; level > 0; level--) {
		path[level] = n;
		n = n->slot[slot_of(index, level)];
		if (!n)
			return NULL;
	}
	void *item = n->slot[slot_of(index, 0)];
	if (!item)
		return NULL;
	n->slot[slot_of(index, 0)] = NULL;
	/* Free the nodes this leaves empty, bottom up. */
	for (unsigned level = 0; level < ix->height && --n->count == 0; level++) {
		kfree(n);
		if (level + 1 == ix->height) {
			ix->root = NULL;
			ix->height = 0;
			break;
		}
		n = path[level + 1];
		n->slot[slot_of(index, level + 1)] = NULL;
	}
	/* A root with only slot 0 used is a level too many: drop it. */
	while (ix->height > 1 && ix->root->count == 1 && ix->root->slot[0]) {
		struct pc_node *old = ix->root;
		ix->root = old->slot[0];
		ix->height--;
		kfree(old);
	}
	return item;
}

/* The first entry at an offset >= @index under node @n of @level, which
 * covers offsets from @base. */
static void *next_in(const struct pc_node *n, unsigned level, uint64_t base, uint64_t index, uint64_t *found)
{
	uint64_t span = 1ULL << (level * PC_SHIFT);
	unsigned first = index > base ? slot_of(index, level) : 0;
	for (unsigned i = first; i < PC_FANOUT; i++) {
		if (!n->slot[i])
			continue;
		uint64_t at = base + i * span;
		if (level == 0) {
			*found = at;
			return n->slot[i];
		}
		void *item = next_in(n->slot[i], level - 1, at, index > at ? index : at, found);
		if (item)
			return item;
	}
	return NULL;
}

void *page_index_next(const struct page_index *ix, uint64_t index, uint64_t *found)
{
	if (!ix->root || index >= covered(ix->height))
		return NULL;
	return next_in(ix->root, ix->height - 1, 0, index, found);
}
