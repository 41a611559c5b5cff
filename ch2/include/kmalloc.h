/**
 * @file kmalloc.h
 * @brief ch2: the kernel heap — kmalloc() and kfree() for any size.
 *
 * Small requests (up to #KMALLOC_MAX_CACHE_SIZE bytes) are rounded up to one
 * of a few size classes and served from a slab cache per class (see slab.h);
 * larger ones go straight to ch1's frame allocator, rounded up to whole pages.
 * kfree() needs no size: the struct page_info of the frame that holds the
 * pointer says which slab (or which large block) it belongs to, as Linux's
 * struct page / struct slab does.
 *
 * Alignment: every pointer is aligned to 8 bytes, and to the largest power of
 * two that divides its size class (so kmalloc(2^n) is aligned to 2^n for n <=
 * 11, and large blocks to a page). kmalloc_aligned() asks for more.
 *
 * Errors: out of memory returns NULL and changes nothing; so does a size of 0
 * or one so large no frames could hold it. kfree(NULL) does nothing. Misuse
 * the heap detects (a pointer it never gave out; a double free, which outside
 * debug mode it sees only when an object is freed twice in a row or a large
 * block twice; an overflow into a red zone in debug mode: see heap_debug.h)
 * is reported on the console, counted and refused: such a misuse never
 * corrupts the heap and never panics.
 *
 * Every function here is safe on every hart at once.
 *
 * Reference: Linux include/linux/slab.h (kmalloc, krealloc, kcalloc, ksize),
 * rCore heap_allocator, Redox's kernel heap.
 */
#ifndef MMLAB_KMALLOC_H
#define MMLAB_KMALLOC_H

#include "types.h"

/** Flags for kmalloc_flags() and kmem_cache_alloc() (an OR of these, or 0). */
#define KMALLOC_ZERO	  0x1u /**< Fill the memory with zeros. */
#define KMALLOC_EMERGENCY 0x2u /**< New frames may come from ch1's emergency reserve. */

/** Largest request served by a slab cache; larger ones take whole frames. */
#define KMALLOC_MAX_CACHE_SIZE 3072
/** Smallest alignment of any kmalloc() result, in bytes. */
#define KMALLOC_MIN_ALIGN 8
/** Number of size classes (kmalloc-8 ... kmalloc-3072). */
#define KMALLOC_NR_CLASSES 16

/**
 * Allocate @p size bytes.
 * @return memory aligned as the file comment says (uninitialised), or NULL if
 *         @p size is 0 or memory ran out.
 */
void *kmalloc(size_t size);

/** kmalloc() of @p size bytes, zero-filled. */
void *kzalloc(size_t size);

/**
 * kmalloc() of @p size bytes with @p flags (#KMALLOC_ZERO, #KMALLOC_EMERGENCY).
 * @return as kmalloc().
 */
void *kmalloc_flags(size_t size, unsigned flags);

/**
 * Allocate an array of @p n elements of @p size bytes, zero-filled.
 * @return the array, or NULL if n * size is 0, overflows size_t, or does not fit.
 */
void *kcalloc(size_t n, size_t size);

/**
 * Allocate @p size bytes aligned to @p align bytes.
 * @p align must be a power of two; alignments up to a page come from the size
 * classes or from whole pages, larger ones (up to 2^MAX_ORDER pages) from a
 * naturally aligned buddy block.
 * @return the memory, or NULL if @p size is 0, @p align is not a power of
 *         two or is too large, or memory ran out.
 */
void *kmalloc_aligned(size_t size, size_t align);

/**
 * Resize the block @p p to @p size bytes, keeping its first min(old, new)
 * bytes. krealloc(NULL, n) is kmalloc(n); krealloc(p, 0) frees p and returns
 * NULL. Shrinking, or growing within the same size class (or the same number
 * of pages), stays in place; otherwise the block moves (in debug mode, so
 * does a block whose red zone is broken: freeing it reports the overflow).
 * @return the (possibly moved) block; NULL if memory ran out, in which case
 *         @p p is untouched and still allocated. A @p p the heap never gave
 *         out is reported as an invalid free and NULL is returned.
 */
void *krealloc(void *p, size_t size);

/**
 * Give back @p p, from kmalloc() and friends. No size needed.
 * kfree(NULL) does nothing. A pointer the heap did not give out, or gave out
 * and got back already (outside debug mode: only if freed twice in a row), is
 * reported (with the caller's address), counted and otherwise ignored.
 */
void kfree(const void *p);

/**
 * Usable size of the block @p p, in bytes: at least what was asked for (the
 * size class, or the pages of a large block; in debug mode exactly the
 * request, since the rest is a red zone). @return 0 for NULL or a pointer the
 * heap did not give out.
 */
size_t ksize(const void *p);

/**
 * Index of the size class that serves @p size bytes (0 for kmalloc-8), or -1
 * if @p size is 0 or above #KMALLOC_MAX_CACHE_SIZE. The student's exercise.
 */
int kmalloc_index(size_t size);

/** Bytes of size class @p index (0 .. KMALLOC_NR_CLASSES-1), or 0 if out of range. */
size_t kmalloc_class_size(int index);

/**
 * Switch debug mode for kmalloc() on (@p on true) or off (the `debug` bootarg switches it
 * on at boot). Blocks allocated from now on come from the debug size classes
 * (red zones, poisoning, caller tracking); blocks allocated before keep their
 * own mode until freed, so switching at any time is safe.
 * @return whether debug mode was on before.
 */
bool kmalloc_set_debug(bool on);

/** True if kmalloc() is in debug mode. */
bool kmalloc_debug(void);

/**
 * Give every frame the heap can spare back to ch1: drain every per-hart
 * object cache and release every empty slab. Also what the shrinker does.
 * @return frames released.
 */
uint64_t kmalloc_shrink(void);

/** Frames the heap holds right now (slabs of every cache, and large blocks). */
uint64_t heap_frames_held(void);

/** Print a line per cache that has objects (like Linux's /proc/slabinfo). */
void kmalloc_print_stats(void);

#endif
