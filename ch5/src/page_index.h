/*
 * The page cache's index (struct page_index, pagecache.h): a radix tree
 * from page offset to cache_page pointer. Pure logic over kmalloc, so the
 * host test (ch5/hosttest/test_page_index.c) builds it too. The caller
 * serialises the calls (address_space::lock).
 */
#ifndef MMLAB_PAGE_INDEX_H
#define MMLAB_PAGE_INDEX_H

#include "pagecache.h"

/** One node: #PC_FANOUT slots (children, or cache_page pointers at the bottom level). */
struct pc_node {
	void *slot[PC_FANOUT]; /**< Nodes one level down, or cache_page pointers at level 0. */
	unsigned count;	       /**< Slots in use: an empty node is freed. */
};

/* The entry at page offset @index, or NULL. */
void *page_index_lookup(const struct page_index *ix, uint64_t index);

/* Put @item (not NULL) at @index. @return 0, -EEXIST (something is there
 * already), or -ENOMEM (then the tree is as it was, but maybe taller). */
int page_index_insert(struct page_index *ix, uint64_t index, void *item);

/* Take the entry at @index out and return it (NULL if there was none);
 * nodes left empty are freed. */
void *page_index_delete(struct page_index *ix, uint64_t index);

/* The first entry at an offset >= @index, its offset in *@found; NULL if none. */
void *page_index_next(const struct page_index *ix, uint64_t index, uint64_t *found);

#endif
