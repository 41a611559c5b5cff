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
 * The rule (SLAB's): objects of at least OFF_SLAB_MIN_SIZE (1/32 of a frame,
 * so the header costs at most a 32nd of what it saves) whose one-frame tail
 * is too short for the header. The header cache itself keeps its headers on
 * its slabs (its objects are small), so getting a header never needs
 * another, and it releases an empty slab at once: it holds one header per
 * slab of the whole heap, and a kept empty slab of headers would be a frame
 * the heap never gives back by itself.
 */
#include "slab_internal.h"

#define OFF_SLAB_MIN_SIZE (PAGE_SIZE / 32)

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

/*
 * Whether @p priv (a page_info.private word, any value) may be read as an
 * off-slab header: all of it in one allocated frame of RAM, so that reading
 * it cannot fault. page_to_slab() then checks what it says (the magic, and
 * that its block holds the pointer), as it does for a header on the slab.
 */
bool slab_header_readable(uintptr_t priv)
{
	paddr_t pa = heap_kva_to_pa((const void *)priv);
	if (!pa || (priv & (PAGE_SIZE - 1)) > PAGE_SIZE - sizeof(struct slab))
		return false;
	struct page_info *page = pa_to_page(pa);
	return page && page->state != PAGE_RESERVED && page->state != PAGE_FREE_HEAD;
}
