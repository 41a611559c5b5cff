/**
 * @file vma_tree.h
 * @brief The areas of an address space, in an AVL tree keyed by start.
 *
 * Areas never overlap, so ordering by start orders them by end too, and
 * "the area holding va" is the last area whose start is <= va, if its end is
 * above va. Every operation is O(log n) (an AVL tree is at most 1.44 log2 n
 * deep). Linux keeps its VMAs in a maple tree (lib/maple_tree.c), earlier in
 * a red-black tree; ArceOS and the memory_set crate use a BTreeMap.
 * Caller holds the mm's lock for all of these.
 */
#ifndef MMLAB_VMA_TREE_H
#define MMLAB_VMA_TREE_H

#include "mm.h"
#include "vma.h"

/** The area of tree @p t that contains @p va, or NULL. */
struct vma *vma_tree_find(const struct vma_tree *t, vaddr_t va);

/** The first area of tree @p t with end > @p va, or NULL (Linux's find_vma()). */
struct vma *vma_tree_find_after(const struct vma_tree *t, vaddr_t va);

/**
 * Insert @p vma, which must not overlap any area of @p t.
 * @return 0, or -EEXIST if it overlaps (then @p t is unchanged).
 */
int vma_tree_insert(struct vma_tree *t, struct vma *vma);

/** Remove @p vma, which is in @p t. */
void vma_tree_remove(struct vma_tree *t, struct vma *vma);

/** The lowest area, or NULL if @p t is empty. */
struct vma *vma_tree_first(const struct vma_tree *t);

/** The highest area of tree @p t, or NULL. */
struct vma *vma_tree_last(const struct vma_tree *t);

/** The area after @p vma in address order, or NULL. */
struct vma *vma_tree_next(const struct vma *vma);

/** The area before @p vma in address order, or NULL. */
struct vma *vma_tree_prev(const struct vma *vma);

/**
 * Check the invariants of tree @p t (order, no overlap, parent links, heights,
 * balance); for tests.
 * @return the number of areas, or -1 if an invariant is broken.
 */
long vma_tree_check(const struct vma_tree *t);

#endif
