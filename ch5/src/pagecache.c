/*
 * The page cache's pages: finding one, reading one in, dropping one, and
 * the reclaim list they sit on, least recently used first. One cache_page
 * per cached page of a file (Linux keeps the same fields in struct page:
 * mapping, index, PG_dirty, lru); the frame's reference count says who else
 * maps it (ch1's page_info).
 *
 * Reference: Linux mm/filemap.c (filemap_get_pages, __filemap_add_folio,
 * filemap_remove_folio), mm/swap.c (the LRU lists, one here).
 */
#include "errno.h"
#include "initcall.h"
#include "frame.h"
#include "kmalloc.h"
#include "memlayout.h"
#include "pagecache_internal.h"
#include "panic.h"
#include "string.h"

/* Every evictable cached page, oldest first; guarded by lru_lock, which
 * nests inside a mapping's lock. */
static struct list_head lru = LIST_HEAD_INIT(lru);
static struct spinlock lru_lock = SPINLOCK_INIT("page cache lru");
static uint64_t nr_lru;

uint64_t pagecache_nr_pages(void) { return __atomic_load_n(&nr_lru, __ATOMIC_RELAXED); }

void mapping_init(struct address_space *mapping, const struct address_space_ops *a_ops, void *host,
		  uint64_t size)
{
	memset(mapping, 0, sizeof(*mapping));
	spin_init(&mapping->lock, "address_space");
	mapping->a_ops = a_ops;
	mapping->host = host;
	mapping->size = size;
	list_init(&mapping->i_mmap);
}

struct cache_page *find_page(struct address_space *m, uint64_t index)
{
	return page_index_lookup(&m->pages, index);
}

/* Pages of @m go on the reclaim list: those of an object with a backing
 * store (shm pages are never reclaimed, so never listed). */
static bool evictable(const struct address_space *m) { return m->a_ops->writepage != NULL; }

/* @cp was used: it becomes the youngest page on the reclaim list. */
static void lru_touch(struct cache_page *cp)
{
	if (!evictable(cp->mapping))
		return;
	spin_lock(&lru_lock);
	list_del(&cp->lru);
	list_add_tail(&cp->lru, &lru);
	spin_unlock(&lru_lock);
}

/* Put @cp on the reclaim list (add) or take it off. */
static void lru_link(struct cache_page *cp, bool add)
{
	if (!evictable(cp->mapping))
		return;
	spin_lock(&lru_lock);
	if (add) {
		list_add_tail(&cp->lru, &lru);
		nr_lru++;
	} else {
		list_del(&cp->lru);
		nr_lru--;
	}
	spin_unlock(&lru_lock);
}

/* LAB BEGIN ch5 page cache: find a page, or read it in and index it */
struct cache_page *find_or_read_page(struct address_space *m, uint64_t index, int *err)
{
	struct cache_page *cp = find_page(m, index);
	if (cp) {
		lru_touch(cp);
		return cp;
	}
	/* Allocate with the lock dropped: reclaim may then take pages of this
	 * very file (one file bigger than memory must still be writable). */
	spin_unlock(&m->lock);
	struct cache_page *new = kmalloc(sizeof(*new));
	paddr_t pa = new ? frame_alloc(0) : 0;
	spin_lock(&m->lock);
	if (!pa) {
		kfree(new);
		*err = -ENOMEM;
		return NULL;
	}
	cp = find_page(m, index);
	if (cp) { /* read in by someone else meanwhile */
		frame_free(pa);
		kfree(new);
		lru_touch(cp);
		return cp;
	}
	cp = new;
	*cp = (struct cache_page){.mapping = m, .index = index, .pa = pa};
	list_init(&cp->lru);
	/* A page wholly past the end holds nothing of the file yet. */
	*err = index * PAGE_SIZE >= m->size ? (memset(pa_to_kva(pa), 0, PAGE_SIZE), 0)
					    : m->a_ops->readpage(m, index, pa_to_kva(pa));
	if (!*err)
		*err = page_index_insert(&m->pages, index, cp);
	if (*err) {
		frame_free(pa);
		kfree(cp);
		return NULL;
	}
	m->nrpages++;
	lru_link(cp, true);
	return cp;
}
/* LAB STUB
struct cache_page *find_or_read_page(struct address_space *m, uint64_t index, int *err)
{
	TODO("ch5", "page_cache: find a cached page, or read it in and index it");
	(void)m, (void)index, (void)lru_touch, (void)lru_link;
	*err = -ENOMEM;
	return NULL;
}
LAB END */

void drop_page(struct cache_page *cp)
{
	struct address_space *m = cp->mapping;
	page_index_delete(&m->pages, cp->index);
	m->nrpages--;
	lru_link(cp, false);
	frame_put(cp->pa); /* a mapping that still maps the frame keeps it */
	kfree(cp);
}

int mapping_release(struct address_space *mapping)
{
	spin_lock(&mapping->lock);
	int err = write_range(mapping, 0, UINT64_MAX);
	struct cache_page *cp;
	uint64_t at;
	while ((cp = page_index_next(&mapping->pages, 0, &at)))
		drop_page(cp);
	spin_unlock(&mapping->lock);
	return err;
}

/*
 * Reclaim (the ch1 shrinker, pagecache_internal.h): give back up to @want
 * frames of pages that no one maps (a frame reference count of 1: the
 * cache's own), oldest first,
 * writing dirty ones back first (Linux's shrink_folio_list, with one list
 * and no second chance). A page whose mapping is busy (its lock held, maybe
 * by the very allocation that is reclaiming) is passed over, and so is a
 * dirty page whose store cannot take it now (a_ops->writepage's -EAGAIN).
 */
/* LAB BEGIN ch5 reclaim: free the oldest pages no one maps, writing dirty ones back first */
uint64_t pagecache_reclaim(uint64_t want)
{
	uint64_t freed = 0, budget = pagecache_nr_pages();
	while (freed < want && budget--) {
		spin_lock(&lru_lock);
		if (list_empty(&lru)) {
			spin_unlock(&lru_lock);
			break;
		}
		struct cache_page *cp = list_entry(lru.next, struct cache_page, lru);
		/* Rotate it to the young end: a page passed over is not met again this round. */
		list_del(&cp->lru);
		list_add_tail(&cp->lru, &lru);
		struct address_space *m = cp->mapping;
		bool locked = spin_trylock(&m->lock);
		spin_unlock(&lru_lock);
		if (!locked)
			continue;
		/* Under m->lock, cp is still m's (drop_page() needs that lock).
		 * A dirty page that cannot be written now (-EAGAIN: the
		 * allocation holds the store's lock) stays, and so does one
		 * whose write fails. */
		if (page_ref_count(pa_to_page(cp->pa)) == 1 && write_page(cp) == 0) {
			drop_page(cp);
			freed++;
		}
		spin_unlock(&m->lock);
	}
	return freed;
}
/* LAB STUB
uint64_t pagecache_reclaim(uint64_t want)
{
	TODO("ch5", "reclaim: give back cached pages that no one maps");
	(void)want;
	return 0;
}
LAB END */

static int reclaim_init(void) { return frames_register_shrinker(pagecache_reclaim); }
initcall(INIT_PROC, reclaim_init);
