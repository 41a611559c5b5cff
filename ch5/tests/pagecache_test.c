/*
 * ch5.pagecache: the page cache at the kernel level, over a file kept in a
 * kernel buffer (its own address_space_ops count every readpage and
 * writepage): a page is read from the store once and then served from the
 * cache; write() marks pages dirty and fsync writes exactly those; the size
 * grows with a write and shrinks with a truncate, which zeroes the tail and
 * drops the pages past the end; reclaim frees the oldest pages no one maps,
 * writing dirty ones first; shared mappings map the cache's own frames and
 * private ones copy on write; truncate takes pages out of mappings
 * (SIGBUS); and every frame comes back at the end.
 */
#include "../../ch4/tests/mm_test.h"
#include "cow.h"
#include "cpio.h"
#include "elf.h"
#include "mman.h"
#include "../src/pagecache_internal.h"
#include "string.h"

#define STORE_PAGES 8

/* A file in a kernel buffer. */
struct ram_file {
	struct address_space mapping;
	unsigned char bytes[STORE_PAGES * PAGE_SIZE];
	int reads, writes; /* a_ops calls */
};

static int ram_readpage(struct address_space *m, uint64_t index, void *kva)
{
	struct ram_file *rf = m->host;
	rf->reads++;
	memset(kva, 0, PAGE_SIZE);
	uint64_t off = index * PAGE_SIZE;
	if (off < m->size)
		memcpy(kva, rf->bytes + off, MIN(PAGE_SIZE, m->size - off));
	return 0;
}

static int ram_writepage(struct address_space *m, uint64_t index, const void *kva)
{
	struct ram_file *rf = m->host;
	rf->writes++;
	uint64_t off = index * PAGE_SIZE;
	if (off < m->size && off < sizeof(rf->bytes))
		memcpy(rf->bytes + off, kva, MIN(PAGE_SIZE, MIN(m->size, sizeof(rf->bytes)) - off));
	return 0;
}

static const struct address_space_ops ram_aops = {.readpage = ram_readpage, .writepage = ram_writepage};

static struct address_space *ram_mapping(struct file *f)
{
	return &((struct ram_file *)f->private_data)->mapping;
}
static const struct file_ops ram_fops = {0};
static const struct file_map_ops ram_fmops = {.mapping = ram_mapping};

/* A file of @size bytes, byte i = (i * 7 + 3), its cache empty. */
static struct ram_file *ram_file_new(uint64_t size)
{
	struct ram_file *rf = kmalloc(sizeof(*rf));
	if (!rf)
		return NULL;
	for (unsigned i = 0; i < sizeof(rf->bytes); i++)
		rf->bytes[i] = (unsigned char)(i * 7 + 3);
	rf->reads = rf->writes = 0;
	mapping_init(&rf->mapping, &ram_aops, rf, size);
	return rf;
}

static void ram_file_free(struct ram_file *rf)
{
	mapping_release(&rf->mapping);
	kfree(rf);
}

/* An open file (read and write) of @rf, mappable. */
static struct file *ram_open(struct ram_file *rf)
{
	static bool registered;
	if (!registered) {
		if (file_mapping_register(&ram_fops, &ram_fmops))
			return NULL;
		registered = true;
	}
	return file_alloc(&ram_fops, FMODE_READ | FMODE_WRITE, rf);
}

/* ftruncate as the file store does it: the cache first, then the blocks
 * past the end (here: the buffer's bytes) are gone. */
static int ram_truncate(struct ram_file *rf, uint64_t size)
{
	int err = filemap_truncate(&rf->mapping, size);
	if (!err && size < sizeof(rf->bytes))
		memset(rf->bytes + size, 0, sizeof(rf->bytes) - size);
	return err;
}

static long kread(struct ram_file *rf, uint64_t pos, void *buf, size_t n)
{
	return filemap_read(&rf->mapping, pos, io_kernel(buf), n);
}

static long kwrite(struct ram_file *rf, uint64_t pos, const void *buf, size_t n)
{
	return filemap_write(&rf->mapping, pos, io_kernel(buf), n);
}

static struct cache_page *cached(struct ram_file *rf, uint64_t index)
{
	spin_lock(&rf->mapping.lock);
	struct cache_page *cp = find_page(&rf->mapping, index);
	spin_unlock(&rf->mapping.lock);
	return cp;
}

/* The frame of cached page @index, 0 if it is not cached (a stubbed cache
 * must fail the test, not fault it). */
static paddr_t cached_pa(struct ram_file *rf, uint64_t index)
{
	struct cache_page *cp = cached(rf, index);
	return cp ? cp->pa : 0;
}

/* True if page @index is cached and dirty. */
static bool cached_dirty(struct ram_file *rf, uint64_t index)
{
	struct cache_page *cp = cached(rf, index);
	return cp && cp->dirty;
}

#define BEGIN(rf, size, before)                                                                              \
	uint64_t before = free_frames_settled();                                                             \
	struct ram_file *rf = ram_file_new(size);                                                            \
	KASSERT_NOT_NULL(rf)

#define END(rf, before)                                                                                      \
	do {                                                                                                 \
		ram_file_free(rf);                                                                           \
		KEXPECT_EQ(free_frames_settled(), before);                                                   \
	} while (0)

/* The index finds each page at its offset, whatever the offset, and
 * nothing at the offsets around; next-search goes in offset order; a
 * delete frees the nodes it empties. */
KTEST(ch5_pagecache, index_finds_pages_at_any_offset)
{
	static const uint64_t at[] = {0, 1, 63, 64, 4095, 4096, 262143, 262144, 1 << 20, (1 << 28) - 1};
	uint64_t before = free_frames_settled();
	struct page_index ix = {0};
	for (unsigned i = 0; i < ARRAY_SIZE(at); i++)
		KASSERT_EQ(page_index_insert(&ix, at[i], (void *)(uintptr_t)(at[i] * 8 + 8)), 0);
	KEXPECT_EQ(page_index_insert(&ix, 64, (void *)8), -EEXIST);
	for (unsigned i = 0; i < ARRAY_SIZE(at); i++) {
		KEXPECT_EQ((uintptr_t)page_index_lookup(&ix, at[i]), at[i] * 8 + 8);
		if (at[i] + 1 != at[(i + 1) % ARRAY_SIZE(at)])
			KEXPECT_NULL(page_index_lookup(&ix, at[i] + 1));
	}
	KEXPECT_NULL(page_index_lookup(&ix, 2));
	KEXPECT_NULL(page_index_lookup(&ix, 1ULL << 40));
	uint64_t found, from = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(at); i++) {
		KEXPECT_EQ((uintptr_t)page_index_next(&ix, from, &found), at[i] * 8 + 8);
		KEXPECT_EQ(found, at[i]);
		from = found + 1;
	}
	KEXPECT_NULL(page_index_next(&ix, from, &found));
	for (unsigned i = 0; i < ARRAY_SIZE(at); i++)
		KEXPECT_EQ((uintptr_t)page_index_delete(&ix, at[i]), at[i] * 8 + 8);
	KEXPECT_NULL(ix.root);
	KEXPECT_EQ(ix.height, 0);
	KEXPECT_EQ(free_frames_settled(), before);
}

/* The tree is as tall as its highest offset needs: 64 offsets a level. */
KTEST(ch5_pagecache, index_is_as_tall_as_its_highest_offset)
{
	struct page_index ix = {0};
	KASSERT_EQ(page_index_insert(&ix, 5, (void *)1), 0);
	KEXPECT_EQ(ix.height, 1);
	KASSERT_EQ(page_index_insert(&ix, 64, (void *)2), 0);
	KEXPECT_EQ(ix.height, 2);
	KASSERT_EQ(page_index_insert(&ix, 64 * 64, (void *)3), 0);
	KEXPECT_EQ(ix.height, 3);
	KEXPECT_EQ((uintptr_t)page_index_lookup(&ix, 5), 1); /* the old root went down a level intact */
	KEXPECT_EQ((uintptr_t)page_index_delete(&ix, 64 * 64), 3);
	KEXPECT_EQ(ix.height, 2);
	KEXPECT_EQ((uintptr_t)page_index_delete(&ix, 64), 2);
	KEXPECT_EQ(ix.height, 1);
	KEXPECT_EQ((uintptr_t)page_index_lookup(&ix, 5), 1);
	KEXPECT_EQ((uintptr_t)page_index_delete(&ix, 5), 1);
	KEXPECT_NULL(ix.root);
}

/* find_or_read_page() asks the store for a page once, indexes it and puts
 * it on the LRU; a page wholly past the end is zeros, without asking. */
KTEST(ch5_pagecache, a_page_is_read_once_then_found)
{
	BEGIN(rf, 2 * PAGE_SIZE, before);
	int err = 0;
	spin_lock(&rf->mapping.lock);
	struct cache_page *cp = find_or_read_page(&rf->mapping, 1, &err);
	struct cache_page *again = find_or_read_page(&rf->mapping, 1, &err);
	struct cache_page *past = find_or_read_page(&rf->mapping, 5, &err);
	spin_unlock(&rf->mapping.lock);
	KASSERT_NOT_NULL(cp);
	KEXPECT_TRUE(again == cp);
	KEXPECT_EQ(rf->reads, 1);
	KEXPECT_EQ(cp->index, 1);
	KEXPECT_TRUE(cp->mapping == &rf->mapping);
	KEXPECT_FALSE(cp->dirty);
	KEXPECT_EQ(((unsigned char *)pa_to_kva(cp->pa))[7], (unsigned char)((PAGE_SIZE + 7) * 7 + 3));
	KEXPECT_EQ(page_ref_count(pa_to_page(cp->pa)), 1); /* the cache's own reference */
	KASSERT_NOT_NULL(past);
	KEXPECT_EQ(((unsigned char *)pa_to_kva(past->pa))[0], 0);
	KEXPECT_EQ(rf->reads, 1); /* past the end: not asked */
	KEXPECT_EQ(rf->mapping.nrpages, 2);
	KEXPECT_TRUE(cached(rf, 1) == cp);
	END(rf, before);
}

/* read() goes to the store once per page, then to the cache; it stops at the end. */
KTEST(ch5_pagecache, read_fills_each_page_once)
{
	static unsigned char buf[4 * PAGE_SIZE];
	uint64_t size = 3 * PAGE_SIZE + 100;
	BEGIN(rf, size, before);
	KEXPECT_EQ(kread(rf, 10, buf, sizeof(buf)), (long)(size - 10));
	KEXPECT_EQ(buf[0], (unsigned char)(10 * 7 + 3));
	KEXPECT_EQ(buf[size - 11], (unsigned char)((size - 1) * 7 + 3));
	KEXPECT_EQ(rf->reads, 4);
	KEXPECT_EQ(rf->mapping.nrpages, 4);
	KEXPECT_EQ(kread(rf, 0, buf, sizeof(buf)), (long)size);
	KEXPECT_EQ(rf->reads, 4); /* all from the cache */
	KEXPECT_EQ(kread(rf, size, buf, 1), 0);
	KEXPECT_EQ(kread(rf, size + PAGE_SIZE, buf, 1), 0);
	END(rf, before);
}

/* write() dirties pages and grows the file; fsync writes exactly the dirty ones. */
KTEST(ch5_pagecache, write_dirties_and_fsync_writes_dirty_pages)
{
	BEGIN(rf, 4 * PAGE_SIZE, before);
	KEXPECT_EQ(kwrite(rf, PAGE_SIZE + 5, "hello", 5), 5);
	KEXPECT_EQ(kwrite(rf, 3 * PAGE_SIZE + 10, "world", 5), 5);
	KEXPECT_EQ(rf->mapping.nrpages, 2);
	KEXPECT_TRUE(cached_dirty(rf, 1));
	KEXPECT_EQ(filemap_fsync(&rf->mapping), 0);
	KEXPECT_EQ(rf->writes, 2);
	KEXPECT_EQ(memcmp(rf->bytes + PAGE_SIZE + 5, "hello", 5), 0);
	KEXPECT_NOT_NULL(cached(rf, 1));
	KEXPECT_FALSE(cached_dirty(rf, 1));
	KEXPECT_EQ(filemap_fsync(&rf->mapping), 0);
	KEXPECT_EQ(rf->writes, 2); /* nothing dirty any more */
	/* A write past the end grows the file to cover it. */
	KEXPECT_EQ(kwrite(rf, 5 * PAGE_SIZE + 1, "x", 1), 1);
	KEXPECT_EQ(rf->mapping.size, 5 * PAGE_SIZE + 2);
	char c = 1;
	KEXPECT_EQ(kread(rf, 5 * PAGE_SIZE, &c, 1), 1);
	KEXPECT_EQ(c, 0); /* the gap reads as zeros */
	END(rf, before);
}

/* truncate: the pages past the end go, the tail of the last one is zeroed,
 * and growing again shows zeros. */
KTEST(ch5_pagecache, truncate_drops_pages_and_zeroes_the_tail)
{
	static unsigned char buf[4 * PAGE_SIZE];
	BEGIN(rf, 4 * PAGE_SIZE, before);
	KEXPECT_EQ(kread(rf, 0, buf, sizeof(buf)), (long)sizeof(buf));
	KEXPECT_EQ(ram_truncate(rf, PAGE_SIZE + 100), 0);
	KEXPECT_EQ(rf->mapping.nrpages, 2);
	KEXPECT_NULL(cached(rf, 2));
	KEXPECT_EQ(kread(rf, 0, buf, sizeof(buf)), PAGE_SIZE + 100);
	KEXPECT_EQ(ram_truncate(rf, 3 * PAGE_SIZE), 0);
	KEXPECT_EQ(kread(rf, 0, buf, sizeof(buf)), 3 * PAGE_SIZE);
	KEXPECT_EQ(buf[PAGE_SIZE + 99], (unsigned char)((PAGE_SIZE + 99) * 7 + 3));
	bool zeros = true;
	for (unsigned i = PAGE_SIZE + 100; i < 3 * PAGE_SIZE; i++)
		zeros &= buf[i] == 0;
	KEXPECT_TRUE(zeros);
	END(rf, before);
}

/* Reclaim frees pages no one maps, oldest first, writing a dirty one first;
 * a page with a mapping's reference stays. */
KTEST(ch5_pagecache, reclaim_frees_unmapped_pages_oldest_first)
{
	static unsigned char buf[PAGE_SIZE];
	BEGIN(rf, STORE_PAGES * PAGE_SIZE, before);
	/* Drop what other files left cached, so that this file's pages are the oldest. */
	pagecache_reclaim(UINT64_MAX);
	/* Use order 2 (written: dirty), 0, 1, 3, 4, 5, then 1 again. */
	KEXPECT_EQ(kwrite(rf, 2 * PAGE_SIZE, "dirty", 5), 5);
	for (int i = 0; i < 6; i++)
		if (i != 2)
			KEXPECT_EQ(kread(rf, i * PAGE_SIZE, buf, 1), 1);
	KEXPECT_EQ(kread(rf, PAGE_SIZE, buf, 1), 1);
	KASSERT_NOT_NULL(cached(rf, 0));
	paddr_t held = cached(rf, 0)->pa;
	KEXPECT_EQ(frame_get(held), 0); /* as a mapping's PTE would */
	KEXPECT_EQ(pagecache_reclaim(3), 3);
	/* Oldest first: 2 (written back first), not 0 (held), 3 and 4; 5 and 1 stay. */
	KEXPECT_NULL(cached(rf, 2));
	KEXPECT_NOT_NULL(cached(rf, 0));
	KEXPECT_NULL(cached(rf, 3));
	KEXPECT_NULL(cached(rf, 4));
	KEXPECT_NOT_NULL(cached(rf, 5));
	KEXPECT_NOT_NULL(cached(rf, 1));
	KEXPECT_EQ(rf->writes, 1);
	KEXPECT_EQ(memcmp(rf->bytes + 2 * PAGE_SIZE, "dirty", 5), 0);
	KEXPECT_EQ(frame_put(held), 0);
	END(rf, before);
}

/* A shared mapping maps the cache's frame: a store is seen by read(), a
 * write() by the mapping; msync writes the store back; past the end is SIGBUS. */
KTEST(ch5_pagecache, shared_mapping_is_the_cache_page)
{
	static unsigned char buf[8];
	BEGIN(rf, 2 * PAGE_SIZE + 100, before);
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	struct file *f = ram_open(rf);
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(
		do_mmap_file(mm, UP(0), 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0),
		(long)UP(0));
	file_put(f); /* the area keeps its own reference */
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_READ), FAULT_RESOLVED);
	KASSERT_NOT_NULL(cached(rf, 1));
	KEXPECT_EQ(user_pa(mm, UP(1)), cached_pa(rf, 1));
	KEXPECT_FALSE(user_flags(mm, UP(1)) & PTE_W); /* until a store */
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_TRUE(user_flags(mm, UP(1)) & PTE_W);
	KEXPECT_TRUE(cached_dirty(rf, 1));
	poke(mm, UP(1) + 3, 0xab);
	KEXPECT_EQ(kread(rf, PAGE_SIZE + 3, buf, 1), 1);
	KEXPECT_EQ(buf[0], 0xab);
	KEXPECT_EQ(kwrite(rf, PAGE_SIZE + 4, "\xcd", 1), 1);
	KEXPECT_EQ(peek(mm, UP(1) + 4), 0xcd);
	KEXPECT_EQ(do_msync(mm, UP(0), 4 * PAGE_SIZE, MS_SYNC), 0);
	KEXPECT_EQ(rf->bytes[PAGE_SIZE + 3], 0xab);
	KEXPECT_FALSE(user_flags(mm, UP(1)) & PTE_W); /* cleaned: the next store dirties it again */
	/* Page 2 holds the last 100 bytes; page 3 is wholly past the end. */
	KEXPECT_EQ(mm_fault(mm, UP(2), ACCESS_READ), FAULT_RESOLVED);
	KEXPECT_EQ(peek(mm, UP(2) + 100), 0);
	KEXPECT_EQ(mm_fault(mm, UP(3), ACCESS_READ), FAULT_SIGBUS);
	mm_put(mm); /* the file's pages stay cached: END counts the frames */
	END(rf, before);
}

/* munmap of a shared mapping writes back the stores made through it. */
KTEST(ch5_pagecache, munmap_writes_a_shared_mapping_back)
{
	BEGIN(rf, 2 * PAGE_SIZE, before);
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	struct file *f = ram_open(rf);
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(
		do_mmap_file(mm, UP(0), 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0),
		(long)UP(0));
	file_put(f);
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	poke(mm, UP(0) + 1, 0x5a);
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_RESOLVED);
	poke(mm, UP(1) + 1, 0x5b);
	KEXPECT_EQ(do_munmap(mm, UP(0), PAGE_SIZE), 0); /* only the first page */
	KEXPECT_EQ(rf->bytes[1], 0x5a);
	KEXPECT_EQ(rf->bytes[PAGE_SIZE + 1], (unsigned char)((PAGE_SIZE + 1) * 7 + 3));
	mm_put(mm); /* exit writes the rest back */
	KEXPECT_EQ(rf->bytes[PAGE_SIZE + 1], 0x5b);
	END(rf, before);
}

/* A private mapping shares the cache's frame until a store, which copies:
 * the file never sees it. */
KTEST(ch5_pagecache, private_mapping_copies_on_write)
{
	BEGIN(rf, 2 * PAGE_SIZE, before);
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	struct file *f = ram_open(rf);
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(
		do_mmap_file(mm, UP(0), 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0),
		(long)UP(0));
	file_put(f);
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_READ), FAULT_RESOLVED);
	KEXPECT_EQ(user_pa(mm, UP(0)), cached_pa(rf, 0));
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_NE(user_pa(mm, UP(0)), cached_pa(rf, 0));
	KEXPECT_EQ(peek(mm, UP(0) + 9), (unsigned char)(9 * 7 + 3)); /* the copy has the bytes */
	poke(mm, UP(0) + 9, 0xee);
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_RESOLVED); /* a store first: a copy at once */
	KEXPECT_NE(user_pa(mm, UP(1)), cached_pa(rf, 1));
	KEXPECT_NOT_NULL(cached(rf, 0));
	KEXPECT_FALSE(cached_dirty(rf, 0));
	mm_put(mm); /* the file's pages stay cached: END counts the frames */
	KEXPECT_EQ(filemap_fsync(&rf->mapping), 0);
	KEXPECT_EQ(rf->writes, 0);
	KEXPECT_EQ(rf->bytes[9], (unsigned char)(9 * 7 + 3));
	END(rf, before);
}

/* truncate takes the pages past the new end out of every mapping, private
 * copies too: a touch there is SIGBUS. */
KTEST(ch5_pagecache, truncate_shrinks_every_mapping)
{
	BEGIN(rf, 3 * PAGE_SIZE, before);
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	struct file *f = ram_open(rf);
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(do_mmap_file(mm, UP(0), 3 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0),
		   (long)UP(0));
	KASSERT_EQ(
		do_mmap_file(mm, UP(8), 3 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0),
		(long)UP(8));
	file_put(f);
	for (int i = 0; i < 3; i++) {
		KEXPECT_EQ(mm_fault(mm, UP(i), ACCESS_READ), FAULT_RESOLVED);
		KEXPECT_EQ(mm_fault(mm, UP(8 + i), ACCESS_WRITE), FAULT_RESOLVED);
	}
	KEXPECT_EQ(ram_truncate(rf, PAGE_SIZE + 1), 0);
	KEXPECT_NE(user_pa(mm, UP(1)), 0);
	KEXPECT_EQ(user_pa(mm, UP(2)), 0);
	KEXPECT_EQ(user_pa(mm, UP(10)), 0);
	KEXPECT_EQ(peek(mm, UP(1) + 1), 0); /* the tail of the last page is zeroed */
	KEXPECT_EQ(mm_fault(mm, UP(2), ACCESS_READ), FAULT_SIGBUS);
	KEXPECT_EQ(mm_fault(mm, UP(10), ACCESS_READ), FAULT_SIGBUS);
	mm_put(mm); /* the file's pages stay cached: END counts the frames */
	END(rf, before);
}

/* A mapping of a file not open for writing: MAP_SHARED with PROT_WRITE is
 * EACCES, and so is mprotect to PROT_WRITE later; MAP_PRIVATE may write. */
KTEST(ch5_pagecache, shared_write_needs_a_writable_file)
{
	BEGIN(rf, PAGE_SIZE, before);
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	struct file *f = ram_open(rf);
	KASSERT_NOT_NULL(f);
	f->mode = FMODE_READ;
	KEXPECT_EQ(do_mmap_file(mm, UP(0), PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0),
		   -EACCES);
	KEXPECT_EQ(do_mmap_file(mm, UP(0), PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0), (long)UP(0));
	KEXPECT_EQ(do_mprotect(mm, UP(0), PAGE_SIZE, PROT_READ | PROT_WRITE), -EACCES);
	KEXPECT_EQ(do_mmap_file(mm, UP(2), PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0),
		   (long)UP(2));
	f->mode = FMODE_WRITE;
	KEXPECT_EQ(do_mmap_file(mm, UP(4), PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, f, 0), -EACCES);
	file_put(f);
	mm_put(mm); /* the file's pages stay cached: END counts the frames */
	END(rf, before);
}

/* Every store through a shared mapping reaches the file: one made through
 * a PTE that stayed writable after an fsync is written by munmap, and
 * mprotect back to writable leaves the PTE read-only, so that the next
 * store is seen (and fsync writes it). munmap takes the area off the
 * file's list of mappings. */
KTEST(ch5_pagecache, every_shared_store_reaches_the_file)
{
	BEGIN(rf, 2 * PAGE_SIZE, before);
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	struct file *f = ram_open(rf);
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(
		do_mmap_file(mm, UP(0), 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0),
		(long)UP(0));
	file_put(f);
	/* Page 0: a store, fsync, then a store through the PTE fsync left writable. */
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	poke(mm, UP(0) + 1, 0x11);
	KEXPECT_EQ(filemap_fsync(&rf->mapping), 0);
	KEXPECT_EQ(rf->bytes[1], 0x11);
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	poke(mm, UP(0) + 1, 0x22);
	/* Page 1: a store, msync, read-only, writable again: the next store faults. */
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_RESOLVED);
	poke(mm, UP(1) + 1, 0x33);
	KEXPECT_EQ(do_msync(mm, UP(1), PAGE_SIZE, MS_SYNC), 0);
	KEXPECT_EQ(rf->bytes[PAGE_SIZE + 1], 0x33);
	KEXPECT_EQ(do_mprotect(mm, UP(1), PAGE_SIZE, PROT_READ), 0);
	KEXPECT_EQ(do_mprotect(mm, UP(1), PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	KEXPECT_FALSE(user_flags(mm, UP(1)) & PTE_W);
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_RESOLVED);
	poke(mm, UP(1) + 1, 0x44);
	KEXPECT_EQ(filemap_fsync(&rf->mapping), 0);
	KEXPECT_EQ(rf->bytes[PAGE_SIZE + 1], 0x44);
	KEXPECT_EQ(do_munmap(mm, UP(0), 2 * PAGE_SIZE), 0);
	KEXPECT_EQ(rf->bytes[1], 0x22);
	spin_lock(&rf->mapping.lock);
	KEXPECT_TRUE(list_empty(&rf->mapping.i_mmap));
	spin_unlock(&rf->mapping.lock);
	mm_put(mm);
	END(rf, before);
}

/* A forked copy of a file mapping, and the piece of one split off by
 * mprotect, are mappings of the file too: truncate takes their pages past
 * the new end out (SIGBUS there). */
KTEST(ch5_pagecache, truncate_reaches_forked_and_split_mappings)
{
	BEGIN(rf, 3 * PAGE_SIZE, before);
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	struct file *f = ram_open(rf);
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(do_mmap_file(mm, UP(0), 3 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0),
		   (long)UP(0));
	file_put(f);
	for (int i = 0; i < 3; i++)
		KEXPECT_EQ(mm_fault(mm, UP(i), ACCESS_READ), FAULT_RESOLVED);
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	for (int i = 0; i < 3; i++)
		KEXPECT_EQ(mm_fault(child, UP(i), ACCESS_READ), FAULT_RESOLVED);
	/* The parent's area in two: [0, 1) and a copy for [1, 3). */
	KEXPECT_EQ(do_mprotect(mm, UP(1), 2 * PAGE_SIZE, PROT_READ | PROT_EXEC), 0);
	KEXPECT_NE(user_pa(mm, UP(2)), 0);
	KEXPECT_EQ(ram_truncate(rf, PAGE_SIZE + 1), 0);
	KEXPECT_NE(user_pa(child, UP(1)), 0);
	KEXPECT_EQ(user_pa(child, UP(2)), 0);
	KEXPECT_EQ(mm_fault(child, UP(2), ACCESS_READ), FAULT_SIGBUS);
	KEXPECT_NE(user_pa(mm, UP(1)), 0);
	KEXPECT_EQ(user_pa(mm, UP(2)), 0);
	KEXPECT_EQ(mm_fault(mm, UP(2), ACCESS_READ), FAULT_SIGBUS);
	mm_put(child);
	mm_put(mm);
	END(rf, before);
}

/* Bytes stored through a shared mapping past the end of the file (in the
 * page the end falls in) never become the file's: growing the file shows
 * zeros there, in read(), in the mapping and in the store. */
KTEST(ch5_pagecache, growing_a_file_zeroes_what_a_mapping_stored_past_the_end)
{
	BEGIN(rf, PAGE_SIZE + 100, before);
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	struct file *f = ram_open(rf);
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(
		do_mmap_file(mm, UP(0), 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0),
		(long)UP(0));
	file_put(f);
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_RESOLVED);
	poke(mm, UP(1) + 50, 0x11);  /* inside the file */
	poke(mm, UP(1) + 200, 0x77); /* past its end */
	KEXPECT_EQ(ram_truncate(rf, 2 * PAGE_SIZE), 0);
	unsigned char c = 1;
	KEXPECT_EQ(kread(rf, PAGE_SIZE + 200, &c, 1), 1);
	KEXPECT_EQ(c, 0);
	KEXPECT_EQ(peek(mm, UP(1) + 200), 0);
	KEXPECT_EQ(kread(rf, PAGE_SIZE + 50, &c, 1), 1);
	KEXPECT_EQ(c, 0x11);
	mm_put(mm); /* exit writes the page back */
	KEXPECT_EQ(rf->bytes[PAGE_SIZE + 50], 0x11);
	KEXPECT_EQ(rf->bytes[PAGE_SIZE + 200], 0);
	END(rf, before);
}

/* The file offset of the byte at @va in a segment of ELF image @img, or 0. */
static uint64_t image_offset_of(const unsigned char *img, vaddr_t va)
{
	struct elf64_ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;
		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && va >= ph.p_vaddr && va < ph.p_vaddr + ph.p_filesz)
			return ph.p_offset + (va - ph.p_vaddr);
	}
	return 0;
}

/* exec maps a program from its file's page cache, and the file (with its
 * cached pages) goes with the last mm that maps it; an image of its own
 * loaded under a program's name (a copy with one byte of text changed) is
 * not that file: its areas show its own bytes. */
KTEST(ch5_pagecache, exec_maps_a_programs_file_only_for_its_own_image)
{
	struct cpio_file cf;
	KASSERT_EQ(initramfs_find("hello", &cf), 0);
	struct elf_info info;
	uint64_t before = free_frames_settled();
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	KASSERT_EQ(elf_load(mm, cf.data, cf.size, "hello", &info), 0);
	KEXPECT_EQ(mm_fault(mm, info.entry, ACCESS_EXEC), FAULT_RESOLVED);
	spin_lock(&mm->lock);
	struct vma *text = mm_find_vma(mm, info.entry);
	KEXPECT_TRUE(text && file_area_of(text));
	spin_unlock(&mm->lock);
	mm_put(mm);
	KEXPECT_EQ(free_frames_settled(), before); /* the file and its pages are gone */

	unsigned char *copy = kmalloc(cf.size);
	KASSERT_NOT_NULL(copy);
	memcpy(copy, cf.data, cf.size);
	uint64_t off = image_offset_of(copy, info.entry);
	KASSERT_NE(off, 0);
	copy[off] ^= 0xff;
	mm = mm_create();
	KASSERT_NOT_NULL(mm);
	mm->eager = false;
	KASSERT_EQ(elf_load(mm, copy, cf.size, "hello", &info), 0);
	KEXPECT_EQ(mm_fault(mm, info.entry, ACCESS_EXEC), FAULT_RESOLVED);
	spin_lock(&mm->lock);
	text = mm_find_vma(mm, info.entry);
	KEXPECT_TRUE(text && !file_area_of(text));
	spin_unlock(&mm->lock);
	KEXPECT_EQ(peek(mm, info.entry), copy[off]);
	mm_put(mm);
	kfree(copy);
	KEXPECT_EQ(free_frames_settled(), before);
}

/* A file whose page i holds bytes (i & 0xff) ^ 0x5a, counting its reads. */
static int big_readpage(struct address_space *m, uint64_t index, void *kva)
{
	int *reads = m->host;
	(*reads)++;
	memset(kva, (int)((index & 0xff) ^ 0x5a), PAGE_SIZE);
	return 0;
}

static int big_writepage(struct address_space *m, uint64_t index, const void *kva)
{
	(void)m, (void)index, (void)kva;
	return 0;
}

static const struct address_space_ops big_aops = {.readpage = big_readpage, .writepage = big_writepage};

/* Pages far apart in a file of more pages than one node of the index holds
 * (a taller tree) are each found in their place, read once; truncating the
 * far ones away keeps the near ones cached; every frame comes back. */
KTEST(ch5_pagecache, a_file_of_many_pages_keeps_each_in_its_place)
{
	static const uint64_t at[] = {0, 1, 63, 64, 65, 4095, 4096, 4999};
	static struct address_space m;
	uint64_t before = free_frames_settled();
	int reads = 0;
	mapping_init(&m, &big_aops, &reads, 5000 * PAGE_SIZE);
	for (int round = 0; round < 2; round++)
		for (unsigned i = 0; i < ARRAY_SIZE(at); i++) {
			unsigned char c = 0;
			KEXPECT_EQ(filemap_read(&m, at[i] * PAGE_SIZE + 7, io_kernel(&c), 1), 1);
			KEXPECT_EQ(c, (unsigned char)((at[i] & 0xff) ^ 0x5a));
		}
	KEXPECT_EQ(reads, (int)ARRAY_SIZE(at)); /* the second round came from the cache */
	KEXPECT_EQ(m.nrpages, ARRAY_SIZE(at));
	KEXPECT_EQ(filemap_truncate(&m, 64 * PAGE_SIZE), 0);
	KEXPECT_EQ(m.nrpages, 3);
	for (unsigned i = 0; i < 3; i++) {
		unsigned char c = 0;
		KEXPECT_EQ(filemap_read(&m, at[i] * PAGE_SIZE, io_kernel(&c), 1), 1);
		KEXPECT_EQ(c, (unsigned char)((at[i] & 0xff) ^ 0x5a));
	}
	KEXPECT_EQ(reads, (int)ARRAY_SIZE(at)); /* still cached */
	mapping_release(&m);
	KEXPECT_EQ(free_frames_settled(), before);
}
