/*
 * ch2: off-slab headers — where a slab's struct slab goes when keeping it in
 * the slab would cost an object (Bonwick 1994, section 3.2: large objects'
 * slab data kept apart; Linux mm/slab.c up to 6.7: CFLGS_OFF_SLAB,
 * set_off_slab_cache(), OFF_SLAB_MIN_SIZE).
 *
 * A slab's header normally sits in its block's last bytes, in the tail that
 * the objects leave over. Objects whose size divides the block leave no
 * tail: a 2048-byte cache fits 2 objects in a frame, but only 1 beside the
 * 56-byte header, and even at order 2 it loses one object in 8. Linux SLUB
 * has no header in the slab at all (struct slab overlays struct page); our
 * page_info has one word for us, so, as Linux SLAB did, such a cache keeps
 * its headers off the slab, as objects of a cache of their own,
 * slab_header_cache, and page_info.private names the header wherever it is.
 *
 * The rule (SLAB's, with its own threshold): objects of at least
 * OFF_SLAB_MIN_SIZE whose one-frame tail is too short for the header. Linux
 * SLAB's threshold was 1/32 of a frame; ours is 1/8, where an on-slab header
 * would cost at least the 1/8 that calculate_order() tolerates: a header off
 * the slab costs kfree() a look-up of its own (slab_header_readable()),
 * which smaller objects, whose on-slab header costs less, do not repay.
 *
 * The header cache keeps its own headers on its slabs (its objects are
 * small), so getting a header never needs another, and it gives an empty
 * slab back at once: a kept empty slab of headers would be a frame that no
 * shrink of the caches it serves gives back.
 */
#include "slab_internal.h"

#define OFF_SLAB_MIN_SIZE (PAGE_SIZE / 8)

struct kmem_cache slab_header_cache; /* struct slab of the off-slab caches */

bool want_off_slab(const struct kmem_cache *s)
{
	return s != &slab_header_cache && s->size >= OFF_SLAB_MIN_SIZE &&
	       PAGE_SIZE % s->size < sizeof(struct slab);
}

/* Set up slab_header_cache (slab_init(), once). */
void slab_header_init(void)
{
	kmem_cache_init(&slab_header_cache, "slab_header", sizeof(struct slab), 8,
			SLAB_KMALLOC | SLAB_NO_CPU_CACHE);
}

struct slab *slab_header_alloc(unsigned kflags)
{
	return slab_alloc(&slab_header_cache, 0, kflags & ~KMALLOC_ZERO, RET_IP);
}

void slab_header_free(struct slab *slab)
{
	slab_free(&slab_header_cache, virt_to_slab(slab), slab, RET_IP);
	if (READ_ONCE(slab_header_cache.nr_empty))
		kmem_cache_shrink(&slab_header_cache);
}
