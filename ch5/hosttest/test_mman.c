/*
 * Host unit test of ch5's mmap family under AddressSanitizer: do_mmap,
 * do_munmap, do_mprotect, do_mremap, do_madvise and do_msync, with the
 * splitting and merging of areas underneath, driven by a million random
 * calls (most of them in a window of NPAGES pages, many of them wrong on
 * purpose) against a model of what Linux 6.x answers and leaves behind.
 *
 * The model keeps, per page of the window: mapped or not, the permissions
 * asked for, private or shared, and the bytes at a few fixed places of the
 * page (a private page's own; a shared page's live in its shared object, a
 * shmem file on Linux: the object outlives munmap of part of it, and
 * mremap that grows a shared mapping over offsets it still holds shows
 * them again). After every call: the result and errno; the tree sorted,
 * disjoint, balanced, with no two neighbours that vma_mergeable() says
 * could be one area (merging is complete); every page the call could touch
 * (and every page every 64 calls) against the model: its area, its
 * permissions, its PTE (never more access than asked), its bytes; the
 * number of areas the model's merge rule gives; mm->nr_pages; and a fake
 * TLB (what user accesses cached) holds no translation the page table no
 * longer gives: whatever a call took away was flushed. Injected failures
 * of kmalloc, frame_alloc and the page-table allocator: a call that fails
 * with -ENOMEM may leave each page of its range as it was, as it would
 * have become, or (mmap MAP_FIXED, mremap) unmapped, never anything else,
 * and never a page outside its range changed.
 *
 * Underneath run the real ch4 areas and anonymous backend and ch3's page
 * table, over fake physical memory (as ch4/hosttest/test_cow.c): the
 * "physical address" of host address h is h - DIRECT_MAP_BASE.
 *
 *   test_mman [ROUNDS [SEED]]     (default 1,000,000 rounds)
 */
// HOSTTEST_SOURCES: ch5/src/mmap.c ch5/src/file_backend.c ch5/src/writeback.c ch5/src/pagecache.c ch5/src/page_index.c ch5/src/munmap.c ch5/src/mprotect.c ch5/src/mremap.c ch5/src/move.c ch5/src/madvise.c ch5/src/msync.c ch5/src/merge.c ch5/src/split.c ch4/src/cow.c ch4/src/anon.c ch4/src/fork.c ch4/src/fault.c ch4/src/mm.c ch4/src/vma.c ch4/src/vma_tree.c ch4/src/area.c ch4/src/remove.c ch4/src/find_free.c ch3/src/pagetable.c ch3/src/walk.c ch3/src/map.c ch3/src/unmap.c ch3/src/protect.c ch3/src/query.c ch3/src/split.c ch3/src/inject.c ch3/src/tlb_batch.c common/hosttest/host_kernel.c
// HOSTTEST_INCLUDE_FIRST: ch3/hosttest/shim
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../common/hosttest/host_check.h"
#include "addr_space.h"
#include "errno.h"
#include "file.h"
#include "frame.h"
#include "kmalloc.h"
#include "memlayout.h"
#include "mm.h"
#include "page.h"
#include "pagetable.h"
#include "../../ch3/src/ptalloc.h"
#include "tlb.h"
#include "vma.h"
#include "vma_tree.h"

/* The host's <sys/mman.h> defines the same names with the same values;
 * the kernel's header is the one under test. */
#undef PROT_NONE
#undef PROT_READ
#undef PROT_WRITE
#undef PROT_EXEC
#undef MAP_SHARED
#undef MAP_PRIVATE
#undef MAP_SHARED_VALIDATE
#undef MAP_TYPE
#undef MAP_FIXED
#undef MAP_ANONYMOUS
#undef MAP_GROWSDOWN
#undef MAP_DENYWRITE
#undef MAP_EXECUTABLE
#undef MAP_LOCKED
#undef MAP_NORESERVE
#undef MAP_POPULATE
#undef MAP_NONBLOCK
#undef MAP_STACK
#undef MAP_HUGETLB
#undef MAP_SYNC
#undef MAP_FIXED_NOREPLACE
#undef MAP_UNINITIALIZED
#undef MAP_FAILED
#undef MREMAP_MAYMOVE
#undef MREMAP_FIXED
#undef MREMAP_DONTUNMAP
#undef MADV_NORMAL
#undef MADV_RANDOM
#undef MADV_SEQUENTIAL
#undef MADV_WILLNEED
#undef MADV_DONTNEED
#undef MS_ASYNC
#undef MS_INVALIDATE
#undef MS_SYNC
#include "mman.h"

/* Linux's bits that mmlab does not define: PROT_SEM (mprotect accepts it, generic
 * arch_validate_prot) and the PROT_GROWS* pair (mprotect strips them first). */
#define L_PROT_SEM	 0x8
#define L_PROT_GROWSDOWN 0x01000000
#define L_PROT_GROWSUP	 0x02000000

/* ---- injected failures: the n-th allocation of any kind from now fails ------ */

static long fail_countdown;
static unsigned long injected;

static bool alloc_fails(void)
{
	if (fail_countdown > 0 && --fail_countdown == 0) {
		injected++;
		return true;
	}
	return false;
}

/* ---- fake physical memory ---------------------------------------------------- */

#define NFRAMES 4096

enum fstate { F_FREE, F_TABLE, F_DATA, F_ZERO };

static uint8_t (*arena)[PAGE_SIZE];
static struct page_info pages[NFRAMES];
static uint8_t fstate[NFRAMES];
static int free_stack[NFRAMES], nfree;
static long data_in_use, tables_in_use;

static paddr_t frame_pa(long i) { return (paddr_t)(uintptr_t)arena[i] - DIRECT_MAP_BASE; }

static long frame_index_of(paddr_t pa)
{
	uintptr_t h = (uintptr_t)(pa + DIRECT_MAP_BASE);
	uintptr_t base = (uintptr_t)arena;
	if (h < base || h >= base + (uintptr_t)NFRAMES * PAGE_SIZE || (h - base) % PAGE_SIZE) {
		fprintf(stderr, "bad frame address 0x%lx\n", (unsigned long)pa);
		abort();
	}
	return (long)((h - base) / PAGE_SIZE);
}

static long take_frame(enum fstate st)
{
	if (nfree == 0) {
		fprintf(stderr, "fake memory exhausted\n");
		abort();
	}
	long i = free_stack[--nfree];
	fstate[i] = st;
	return i;
}

static void tlb_check_free(long i); /* the fake TLB: nobody may still cache frame @i */

static void give_frame(long i)
{
	tlb_check_free(i);
	memset(arena[i], 0x5a, PAGE_SIZE); /* poison: a use after free shows */
	fstate[i] = F_FREE;
	pages[i].refcount = 0;
	free_stack[nfree++] = (int)i;
}

uint64_t frames_nr_total(void) { return NFRAMES; }

paddr_t frame_alloc(unsigned flags)
{
	if (alloc_fails())
		return 0;
	long i = take_frame(F_DATA);
	pages[i].refcount = 1;
	memset(arena[i], (flags & FRAME_ZERO) ? 0 : 0xa5, PAGE_SIZE);
	data_in_use++;
	return frame_pa(i);
}

int frame_free(paddr_t pa)
{
	long i = frame_index_of(pa);
	if (fstate[i] != F_DATA || pages[i].refcount != 1) {
		check_fail(__FILE__, __LINE__, "frame_free of frame %ld: state %d refcount %d", i, fstate[i],
			   pages[i].refcount);
		return -EINVAL;
	}
	give_frame(i);
	data_in_use--;
	return 0;
}

struct page_info *pa_to_page(paddr_t pa) { return &pages[frame_index_of(ALIGN_DOWN(pa, PAGE_SIZE))]; }

int frame_get(paddr_t pa)
{
	long i = frame_index_of(pa);
	if (fstate[i] != F_DATA || pages[i].refcount < 1) {
		check_fail(__FILE__, __LINE__, "frame_get of frame %ld: state %d refcount %d", i, fstate[i],
			   pages[i].refcount);
		return -EINVAL;
	}
	if (pages[i].refcount == INT32_MAX)
		return -EOVERFLOW;
	pages[i].refcount++;
	return 0;
}

int frame_put(paddr_t pa)
{
	long i = frame_index_of(pa);
	if (fstate[i] != F_DATA || pages[i].refcount < 1) {
		check_fail(__FILE__, __LINE__, "frame_put of frame %ld: state %d refcount %d", i, fstate[i],
			   pages[i].refcount);
		return -EINVAL;
	}
	if (--pages[i].refcount == 0) {
		pages[i].refcount = 1;
		return frame_free(pa);
	}
	return 0;
}

paddr_t pt_table_alloc(void)
{
	if (pt_alloc_should_fail() || alloc_fails())
		return 0;
	long i = take_frame(F_TABLE);
	memset(arena[i], 0, PAGE_SIZE);
	tables_in_use++;
	return frame_pa(i);
}

void pt_table_free(paddr_t pa)
{
	long i = frame_index_of(pa);
	if (fstate[i] != F_TABLE) {
		check_fail(__FILE__, __LINE__, "pt_table_free of frame %ld in state %d", i, fstate[i]);
		return;
	}
	give_frame(i);
	tables_in_use--;
}

pte_t *pt_table_kva(paddr_t pa) { return pa_to_kva(pa); }

/* The zero page: frame 0 of the arena, never handed out. */
static long zero_index;
paddr_t zero_page_pa(void) { return frame_pa(zero_index); }
bool is_zero_page(paddr_t pa) { return ALIGN_DOWN(pa, PAGE_SIZE) == zero_page_pa(); }
static bool eager_default;
bool vm_eager_default(void) { return eager_default; }

static void memory_init(void)
{
	arena = mmap(NULL, (size_t)NFRAMES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (arena == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	for (long i = NFRAMES - 1; i >= 1; i--)
		give_frame(i);
	zero_index = 0;
	fstate[0] = F_ZERO;
	pages[0].refcount = 1;
	memset(arena[0], 0, PAGE_SIZE);
}

/* ---- the rest of the kernel ---------------------------------------------------- */

int cpuid(void) { return 0; }
uint64_t harts_online_mask(void) { return 1; }
void sfence_vma_all(void) {}
void sfence_vma_va(vaddr_t va) { (void)va; }

static long live_allocs;

/* The page cache is linked in (mmap.c maps files too) but no file is
 * mapped here: ch5/hosttest/test_pagecache.c tests that half. */
void file_get(struct file *f)
{
	(void)f;
	abort();
}
void file_put(struct file *f)
{
	(void)f;
	abort();
}
int frames_register_shrinker(frame_shrinker_fn fn)
{
	(void)fn;
	return 0;
}

void *kmalloc(size_t size)
{
	if (alloc_fails())
		return NULL;
	live_allocs++;
	return malloc(size);
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(const void *p)
{
	if (p)
		live_allocs--;
	free((void *)p);
}

static unsigned long flushes;
static void tlb_drop(const struct tlb_flusher *fl);

/* tlb.c's finish without the instructions: drop the fake TLB's entries, free the tables. */
void tlb_flusher_finish(struct tlb_flusher *fl)
{
	if (tlb_flusher_empty(fl))
		return;
	flushes++;
	tlb_drop(fl);
	while (fl->tables) {
		paddr_t t = fl->tables;
		fl->tables = pt_table_kva(t)[0];
		pt_table_free(t);
	}
	tlb_flusher_init(fl, fl->as);
}

struct addr_space kernel_as;

int addr_space_init(struct addr_space *as)
{
	*as = (struct addr_space){0};
	return pt_init(&as->pt);
}

int addr_space_destroy(struct addr_space *as)
{
	pt_destroy(&as->pt);
	return 0;
}

int addr_space_activate(struct addr_space *as)
{
	(void)as;
	return 0;
}

/* ---- the window and the model ------------------------------------------------------ */

#define NPAGES	  96
#define WIN_BASE  0x40000000UL /* 1 GiB: far from USER_MIN and MMAP_BASE */
#define WIN_END	  (WIN_BASE + NPAGES * PAGE_SIZE)
#define VA(p)	  (WIN_BASE + (vaddr_t)(long)(p)*PAGE_SIZE)
#define NSLOT	  8 /* 64-bit values a page holds for the model, at k * 512 */
#define MAXOBJ	  512
#define OBJ_PAGES 16 /* a shared mapping is made of at most this many pages */

/* One page of the window, as the model sees it. */
struct mpage {
	bool map;
	bool shared;
	uint8_t prot;	   /* VM_* as asked */
	int obj;	   /* shared: its object */
	long off;	   /* shared: its page in the object */
	uint64_t v[NSLOT]; /* private: its values */
};

/* A MAP_SHARED mapping's memory (Linux: a shmem file of the mapping's size). */
struct mobj {
	bool live;
	long size; /* pages */
	uint64_t v[OBJ_PAGES][NSLOT];
};

static struct mpage cur[NPAGES], nxt[NPAGES];
static struct mobj objs[MAXOBJ];
static struct mm *mm;

static uint64_t rng = 0x853c49e6748fea9bUL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static long rnd_range(long lo, long hi) { return lo + (long)(rnd() % (uint64_t)(hi - lo)); }

/* The values page @pg of the model holds (NULL: a shared page past its object's end). */
static const uint64_t *model_values(const struct mpage *pg)
{
	static const uint64_t zeros[NSLOT];
	if (!pg->map)
		return zeros;
	if (!pg->shared)
		return pg->v;
	return pg->off < objs[pg->obj].size ? objs[pg->obj].v[pg->off] : NULL;
}

/* Objects no page holds any more are gone (Linux frees the shmem file). */
static void objs_collect(void)
{
	static bool held[MAXOBJ];
	memset(held, 0, sizeof(held));
	for (int p = 0; p < NPAGES; p++)
		if (cur[p].map && cur[p].shared)
			held[cur[p].obj] = true;
	for (int o = 0; o < MAXOBJ; o++)
		if (!held[o])
			objs[o].live = false;
}

static int obj_new(long size)
{
	objs_collect();
	for (int o = 0; o < MAXOBJ; o++) {
		if (!objs[o].live) {
			memset(&objs[o], 0, sizeof(objs[o]));
			objs[o].live = true;
			objs[o].size = size;
			return o;
		}
	}
	fprintf(stderr, "test_mman: out of model objects\n");
	exit(2);
}

/* May pages @a and @b (b right after a) be one area? mmlab's rule (merge.c):
 * the same permissions and kind. (Linux keeps apart what different mmaps
 * made, by anon_vma or shmem file: its areas differ, its pages do not.) */
static bool model_joinable(const struct mpage *a, const struct mpage *b)
{
	return a->map && b->map && a->prot == b->prot && a->shared == b->shared;
}

/* The first page of the model area holding page @p of model @m. */
static long area_first(const struct mpage *m, long p)
{
	while (p > 0 && model_joinable(&m[p - 1], &m[p]))
		p--;
	return p;
}

static long area_end(const struct mpage *m, long p)
{
	while (p + 1 < NPAGES && model_joinable(&m[p], &m[p + 1]))
		p++;
	return p + 1;
}

static long model_areas(const struct mpage *m)
{
	long n = 0;
	for (long p = 0; p < NPAGES; p++)
		n += m[p].map && (p == 0 || !model_joinable(&m[p - 1], &m[p]));
	return n;
}

static bool model_free(const struct mpage *m, long s, long e)
{
	for (long p = s; p < e; p++)
		if (p >= 0 && p < NPAGES && m[p].map)
			return false;
	return true;
}

/* ---- the fake TLB ---------------------------------------------------------------- */

/* What a user access cached per page: the frame (index + 1; 0: nothing) and the PTE's bits. */
static long tlb_frame[NPAGES];
static unsigned tlb_perm[NPAGES];

static void tlb_fill(long p, pte_t pte)
{
	tlb_frame[p] = frame_index_of(pte_pa(pte)) + 1;
	tlb_perm[p] = pte & (PTE_R | PTE_W | PTE_X | PTE_U);
}

static void tlb_drop(const struct tlb_flusher *fl)
{
	if (!mm || fl->as != &mm->as)
		return;
	for (long p = 0; p < NPAGES; p++) {
		bool hit = fl->all;
		for (unsigned k = 0; k < fl->n && !hit; k++)
			hit = fl->va[k] == VA(p);
		if (hit)
			tlb_frame[p] = 0;
	}
}

static void tlb_check_free(long i)
{
	for (long p = 0; p < NPAGES; p++)
		if (tlb_frame[p] == i + 1) {
			check_fail(__FILE__, __LINE__, "frame %ld freed while page %ld may still be cached",
				   i, p);
			tlb_frame[p] = 0;
		}
}

static pte_t *leaf(vaddr_t va)
{
	int level = 0;
	pte_t *p = pt_walk(&mm->as.pt, va, &level, false);
	return p && pte_valid(*p) && pte_is_leaf(*p) && level == 0 ? p : NULL;
}

/* After a call: every cached translation is still what the table gives, or more. */
static void tlb_check(const char *what)
{
	for (long p = 0; p < NPAGES; p++) {
		if (!tlb_frame[p])
			continue;
		pte_t *pte = leaf(VA(p));
		bool ok = pte && frame_index_of(pte_pa(*pte)) + 1 == tlb_frame[p] &&
			  (tlb_perm[p] & ~(unsigned)*pte) == 0;
		if (!ok) {
			check_fail(__FILE__, __LINE__, "%s: page %ld still cached (perm 0x%x), PTE now 0x%lx",
				   what, p, tlb_perm[p], pte ? (unsigned long)*pte : 0UL);
			tlb_frame[p] = 0;
		}
	}
}

/* ---- checking one page against the model ------------------------------------------ */

static unsigned long counts[32];
enum {
	C_MMAP,
	C_MMAP_ERR,
	C_MMAP_OUT,
	C_MUNMAP,
	C_MUNMAP_ERR,
	C_MPROTECT,
	C_MPROTECT_ERR,
	C_MREMAP,
	C_MREMAP_ERR,
	C_MREMAP_MOVE,
	C_MADVISE,
	C_MADVISE_ERR,
	C_MSYNC,
	C_MSYNC_ERR,
	C_READ,
	C_WRITE,
	C_INJECTED,
	C_NOMEM,
	C_MISMATCH,
	C_UNMERGED,
	C_MREMAP_SKIPPED,
};

static const char *op_text; /* what the current call was, for messages */

/* The values page @va holds now, through the page table (false: not present). */
static bool actual_values(vaddr_t va, uint64_t out[NSLOT])
{
	pte_t *pte = leaf(va);
	if (!pte) {
		memset(out, 0, NSLOT * sizeof(uint64_t));
		return false;
	}
	const uint8_t *frame = pa_to_kva(pte_pa(*pte));
	for (int k = 0; k < NSLOT; k++)
		memcpy(&out[k], frame + k * 512, sizeof(uint64_t));
	return true;
}

/*
 * Does page @va of the mm agree with model page @m? @why gets the first
 * difference. Its area, its permissions, its kind; a present PTE gives no
 * more than the area asked for (none at all for PROT_NONE) and holds the
 * model's values; an absent private page must be all zeros in the model.
 */
static bool page_agrees(vaddr_t va, const struct mpage *m, char *why, size_t whylen)
{
	struct vma *v = mm_find_vma(mm, va);
	if (!m->map) {
		if (v)
			snprintf(why, whylen, "mapped (area [0x%lx, 0x%lx) prot %u), model unmapped",
				 v->start, v->end, v->prot);
		else if (leaf(va))
			snprintf(why, whylen, "no area, but a PTE 0x%lx", (unsigned long)*leaf(va));
		return !v && !leaf(va);
	}
	if (!v) {
		snprintf(why, whylen, "not mapped, model prot %u %s", m->prot,
			 m->shared ? "shared" : "private");
		return false;
	}
	if (v->prot != m->prot || !!(v->flags & VM_SHARED) != m->shared) {
		snprintf(why, whylen, "area prot %u flags 0x%x, model prot %u %s", v->prot, v->flags, m->prot,
			 m->shared ? "shared" : "private");
		return false;
	}
	pte_t *pte = leaf(va);
	if (pte) {
		unsigned allowed = vm_prot_to_pte(m->prot);
		unsigned has = *pte & (PTE_R | PTE_W | PTE_X);
		bool user = *pte & PTE_U;
		if (user && (has & ~allowed)) {
			snprintf(why, whylen, "PTE 0x%lx gives more than prot %u", (unsigned long)*pte,
				 m->prot);
			return false;
		}
		if (m->prot == VM_NONE && user) {
			snprintf(why, whylen, "PROT_NONE page with a user PTE 0x%lx", (unsigned long)*pte);
			return false;
		}
	}
	uint64_t got[NSLOT];
	bool present = actual_values(va, got);
	const uint64_t *want = model_values(m);
	if (!want || (!present && m->shared))
		return true; /* past a shared object's end (SIGBUS on Linux), or not visible here */
	if (memcmp(got, want, sizeof(got)) != 0) {
		int k = 0;
		while (got[k] == want[k])
			k++;
		snprintf(why, whylen, "%s: slot %d holds 0x%lx, model 0x%lx", present ? "present" : "absent",
			 k, (unsigned long)got[k], (unsigned long)want[k]);
		return false;
	}
	return true;
}

static void check_page(long p, const struct mpage *m)
{
	char why[200];
	if (page_agrees(VA(p), &m[p], why, sizeof(why)))
		check_pass();
	else {
		check_fail(__FILE__, __LINE__, "after %s: page %ld: %s", op_text, p, why);
		counts[C_MISMATCH]++;
	}
}

/*
 * A call that failed for want of memory may leave an area split with both
 * pieces alike (so does Linux, whose failed __split_vma keeps the split it
 * did): such pairs are counted, not failed, until the tree is clean again.
 */
static bool tolerate_unmerged;

/* The tree: sorted, disjoint, inside the window, no two neighbours mergeable. */
static void check_tree(void)
{
	CHECK_EQ(vma_tree_check(&mm->vmas), (long)mm->nr_vmas);
	struct vma *prev = NULL;
	long unmerged = 0;
	for (struct vma *v = vma_tree_first(&mm->vmas); v; prev = v, v = vma_tree_next(v)) {
		if (v->start < WIN_BASE || v->end > WIN_END || v->start >= v->end || v->mm != mm)
			check_fail(__FILE__, __LINE__, "after %s: area [0x%lx, 0x%lx) out of the window",
				   op_text, v->start, v->end);
		if (prev && prev->end > v->start)
			check_fail(__FILE__, __LINE__,
				   "after %s: areas [0x%lx, 0x%lx) and [0x%lx, 0x%lx) overlap", op_text,
				   prev->start, prev->end, v->start, v->end);
		if (prev && prev->end == v->start && vma_mergeable(prev, v)) {
			unmerged++;
			if (!tolerate_unmerged)
				check_fail(__FILE__, __LINE__,
					   "after %s: areas [0x%lx, 0x%lx) and [0x%lx, 0x%lx) are mergeable, "
					   "not merged",
					   op_text, prev->start, prev->end, v->start, v->end);
		}
	}
	if (tolerate_unmerged && unmerged)
		counts[C_UNMERGED]++;
	tolerate_unmerged = unmerged != 0;
}

/* Everything: every page, the area count, the frames. */
static void check_all(void)
{
	long present = 0;
	for (long p = 0; p < NPAGES; p++) {
		check_page(p, cur);
		pte_t *pte = leaf(VA(p));
		present += pte && !is_zero_page(pte_pa(*pte));
	}
	check_tree();
	if (!tolerate_unmerged && (long)mm->nr_vmas != model_areas(cur))
		check_fail(__FILE__, __LINE__, "after %s: %ld areas, the model has %ld", op_text,
			   (long)mm->nr_vmas, model_areas(cur));
	CHECK_EQ((long)mm->nr_pages, present);
	/* One mm, no fork: a frame in use is a present page (shared objects may hold more). */
	CHECK(data_in_use >= present);
}

/* ---- calls -------------------------------------------------------------------------- */

static char op_buf[200];

/* Pages [s, e) of the window (clipped) that a call may change. */
static long touch_s, touch_e;
static bool may_unmap_on_failure;

static void touch(long s, long e)
{
	touch_s = MAX(0L, MIN(touch_s, s));
	touch_e = MIN((long)NPAGES, MAX(touch_e, e));
}

/*
 * Judge call result @got against the model's @want (nxt[] holding what the
 * call should leave). An injected failure may instead give -ENOMEM with
 * each touched page as before, as after, or (@may_unmap_on_failure)
 * unmapped. Then cur = what is.
 */
static bool trace; /* MMAN_TRACE set: print every call and its result */

/* The areas of the mm, for a trace. */
static void dump_areas(void)
{
	for (struct vma *v = vma_tree_first(&mm->vmas); v; v = vma_tree_next(v))
		printf("    [W%+ld, W%+ld) prot %u flags 0x%x\n", (long)(v->start - WIN_BASE),
		       (long)(v->end - WIN_BASE), v->prot, v->flags);
}

static void judge(long got, long want)
{
	if (trace) {
		printf("%s = %ld (model %ld)%s\n", op_text, got, want, injected ? " injected" : "");
		dump_areas();
	}
	bool nomem_ok = injected && got == -ENOMEM;
	if (got != want && !nomem_ok) {
		check_fail(__FILE__, __LINE__, "%s = %ld, model %ld", op_text, got, want);
		counts[C_MISMATCH]++;
	} else
		check_pass();
	if (injected)
		counts[C_INJECTED]++;
	char why[200];
	for (long p = 0; p < NPAGES; p++) {
		bool in = p >= touch_s && p < touch_e;
		if (nomem_ok && in) {
			static const struct mpage none;
			if (page_agrees(VA(p), &cur[p], why, sizeof(why)))
				continue;
			if (page_agrees(VA(p), &nxt[p], why, sizeof(why))) {
				cur[p] = nxt[p];
				continue;
			}
			if (may_unmap_on_failure && page_agrees(VA(p), &none, why, sizeof(why))) {
				cur[p] = none;
				continue;
			}
			check_fail(__FILE__, __LINE__,
				   "after %s = -ENOMEM (injected): page %ld neither as before nor as after",
				   op_text, p);
		} else if (nomem_ok) {
			check_page(p, cur); /* a failed call changes nothing outside its range */
		} else if (got == want) {
			if (in || p == touch_s - 1 || p == touch_e)
				check_page(p, nxt);
			cur[p] = nxt[p];
		}
	}
	if (nomem_ok) {
		counts[C_NOMEM]++;
		tolerate_unmerged = true;
	}
	check_tree();
	tlb_check(op_text);
}

/* Arm an injected failure now and then. */
static void maybe_inject(void)
{
	injected = 0;
	fail_countdown = rnd() % 12 == 0 ? rnd_range(1, 6) : 0;
}

static void disarm(void) { fail_countdown = 0; }

/* Begin a call that may change pages [s, e). */
static void begin(long s, long e, bool unmap_on_failure)
{
	memcpy(nxt, cur, sizeof(cur));
	touch_s = NPAGES;
	touch_e = 0;
	touch(s, e);
	may_unmap_on_failure = unmap_on_failure;
}

/* A mapping the call made outside the window ([va, va + n pages), model @pg): check it, unmap it. */
static void check_outside(vaddr_t va, long n, const struct mpage *pg)
{
	char why[200];
	for (long i = 0; i < n; i++)
		if (!page_agrees(va + (vaddr_t)i * PAGE_SIZE, &pg[i], why, sizeof(why)))
			check_fail(__FILE__, __LINE__, "after %s: page at 0x%lx: %s", op_text,
				   va + (vaddr_t)i * PAGE_SIZE, why);
	CHECK_EQ(do_munmap(mm, va, (size_t)n * PAGE_SIZE), 0);
	CHECK(mm_find_vma(mm, va) == NULL);
}

/* Where mm_find_free's top-down search lands for @n pages with only the window mapped. */
static vaddr_t top_down(long n) { return MMAP_BASE - (vaddr_t)n * PAGE_SIZE; }

/* Pages from @s that a range call covers: most often within the mapped run at @s. */
static long pick_len(long s, long max)
{
	long run = 0;
	while (s + run < NPAGES && cur[s + run].map)
		run++;
	if (run && rnd() % 3)
		return rnd_range(1, MIN(run, max) + 1);
	return rnd_range(1, max + 1);
}

/* A random page index in or just around the window. */
static long pick_page(void)
{
	long p = rnd_range(0, NPAGES);
	if (rnd() % 2) /* most often a mapped one */
		for (int t = 0; t < 4 && !cur[p].map; t++)
			p = rnd_range(0, NPAGES);
	return p;
}

static void op_mmap(void)
{
	long s = pick_page();
	long n = rnd_range(1, MIN(17L, NPAGES - s + 1));
	vaddr_t addr = VA(s);
	size_t len = (size_t)n * PAGE_SIZE - (rnd() % 4 == 0 ? (size_t)rnd_range(1, PAGE_SIZE) : 0);
	unsigned long prot = rnd() % 8;
	unsigned long flags = MAP_ANONYMOUS | (rnd() % 5 == 0 ? MAP_SHARED : MAP_PRIVATE);
	uint64_t off = 0;
	unsigned r = rnd() % 16;
	bool fixed = r < 7, noreplace = r == 7 || r == 8, hint = r >= 9 && r < 14;
	if (fixed)
		flags |= MAP_FIXED;
	if (noreplace)
		flags |= MAP_FIXED_NOREPLACE;
	if (!fixed && !noreplace && !hint)
		addr = 0;
	if (hint && rnd() % 3 == 0)
		addr += (vaddr_t)rnd_range(1, PAGE_SIZE); /* Linux rounds a hint down */
	if (rnd() % 6 == 0)
		flags |= MAP_POPULATE;
	if (rnd() % 8 == 0)
		flags |= MAP_NORESERVE;
	if (rnd() % 10 == 0)
		prot |= rnd() % 2 ? 0x10 : 0x100; /* mmap ignores what it does not know */
	/* One mistake at a time, now and then. Linux checks the type last (do_mmap's
	 * switch on MAP_TYPE comes after the range and MAP_FIXED_NOREPLACE's EEXIST). */
	long want = 0, late = 0;
	switch (rnd() % 40) {
	case 0:
		len = 0;
		want = -EINVAL;
		break;
	case 1:
		off = (uint64_t)rnd_range(1, PAGE_SIZE);
		want = -EINVAL;
		break;
	case 2:
		flags &= ~(unsigned long)MAP_TYPE; /* neither private nor shared */
		late = -EINVAL;
		break;
	case 3:
		flags = (flags & ~(unsigned long)MAP_TYPE) | (rnd() % 2 ? 0x4 : 0x7);
		late = -EINVAL;
		break;
	case 4:
		flags = (flags & ~(unsigned long)MAP_TYPE) | MAP_SHARED_VALIDATE;
		late = -EINVAL; /* Linux: anonymous memory knows no MAP_SHARED_VALIDATE */
		break;
	case 5:
		len = (size_t)-rnd_range(1, 2 * PAGE_SIZE); /* rounds up past 2^64 */
		want = -ENOMEM;
		break;
	case 6:
		len = USER_TOP + (size_t)rnd_range(0, 4) * PAGE_SIZE;
		want = -ENOMEM;
		break;
	case 7:
		if (fixed || noreplace) {
			addr += (vaddr_t)rnd_range(1, PAGE_SIZE);
			want = -EINVAL;
		}
		break;
	case 8:
		if (fixed || noreplace) {
			addr = USER_TOP - PAGE_SIZE * (vaddr_t)rnd_range(0, n);
			want = -ENOMEM;
		}
		break;
	case 9:
		off = (uint64_t)rnd_range(1, 1 << 20) * PAGE_SIZE; /* ignored for anonymous memory */
		break;
	case 10:
		off = (uint64_t)-PAGE_SIZE; /* pgoff + pages cannot wrap from a byte offset: ignored */
		break;
	case 11:
		flags = (flags & ~(unsigned long)MAP_TYPE) | MAP_SHARED | MAP_GROWSDOWN;
		late = -EINVAL;
		break;
	}
	bool shared = (flags & MAP_TYPE) == MAP_SHARED;
	long pages = (long)(ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE);
	vaddr_t at = 0;
	if (want == 0 && (fixed || noreplace)) {
		at = addr;
		if (noreplace && !model_free(cur, s, s + pages))
			want = -EEXIST;
	} else if (want == 0 && !late) {
		vaddr_t h = ALIGN_DOWN(addr, PAGE_SIZE);
		long hs = (long)(h - WIN_BASE) / (long)PAGE_SIZE;
		at = h && model_free(cur, hs, hs + pages) ? h : top_down(pages);
	}
	snprintf(op_buf, sizeof(op_buf), "mmap(W%+ld, %#zx, %#lx, %#lx, -1, %#lx)", (long)(addr - WIN_BASE),
		 len, prot, flags, (unsigned long)off);
	op_text = op_buf;
	long as = (long)(at - WIN_BASE) / (long)PAGE_SIZE;
	bool inside = want == 0 && !late && at >= WIN_BASE && at < WIN_END;
	begin(inside ? as : 0, inside ? as + pages : 0, fixed);
	struct mpage fresh = {.map = true, .shared = shared, .prot = (uint8_t)(prot & VM_PROT_MASK)};
	if (shared)
		fresh.obj = want == 0 && !late ? obj_new(pages) : 0;
	if (inside)
		for (long i = 0; i < pages; i++) {
			nxt[as + i] = fresh;
			nxt[as + i].off = i;
		}
	if (want == 0)
		want = late ? late : (long)at;
	maybe_inject();
	long got = do_mmap(mm, addr, len, prot, flags, -1, off);
	disarm();
	if (want >= 0 && got == want && !inside) {
		counts[C_MMAP_OUT]++;
		static struct mpage out[OBJ_PAGES];
		for (long i = 0; i < pages; i++) {
			out[i] = fresh;
			out[i].off = i;
		}
		check_outside(at, pages, out);
		got = want = 0;
	} else if (want >= 0 && got == want && (flags & MAP_POPULATE) && (prot & (PROT_READ | PROT_WRITE)) &&
		   !injected) { /* populating is best effort: out of memory leaves pages to fault later */
		for (long i = 0; i < pages; i++)
			if (!leaf(at + (vaddr_t)i * PAGE_SIZE))
				check_fail(__FILE__, __LINE__, "after %s: page %ld not populated", op_text,
					   i);
	}
	judge(got, want);
	counts[got >= 0 ? C_MMAP : C_MMAP_ERR]++;
}

static void op_munmap(void)
{
	long s = pick_page(), n = pick_len(s, 23);
	vaddr_t addr = VA(s);
	size_t len = (size_t)n * PAGE_SIZE - (rnd() % 4 == 0 ? (size_t)rnd_range(1, PAGE_SIZE) : 0);
	long want = 0;
	switch (rnd() % 16) {
	case 0:
		len = 0;
		want = -EINVAL;
		break;
	case 1:
		addr += (vaddr_t)rnd_range(1, PAGE_SIZE);
		want = -EINVAL;
		break;
	case 2:
		len = (size_t)-PAGE_SIZE * (size_t)rnd_range(1, 4); /* huge: ArceOS and Asterinas panicked */
		want = -EINVAL;
		break;
	case 3:
		addr = USER_TOP - PAGE_SIZE * (vaddr_t)rnd_range(0, 2);
		want = (vaddr_t)len > USER_TOP - addr ? -EINVAL : 0;
		break;
	}
	snprintf(op_buf, sizeof(op_buf), "munmap(W%+ld, %#zx)", (long)(addr - WIN_BASE), len);
	op_text = op_buf;
	long e = s + (long)(ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE);
	begin(want == 0 && addr == VA(s) ? s : 0, want == 0 && addr == VA(s) ? e : 0, false);
	for (long p = touch_s; p < touch_e; p++)
		nxt[p] = (struct mpage){0};
	maybe_inject();
	long got = do_munmap(mm, addr, len);
	disarm();
	judge(got, want);
	counts[got ? C_MUNMAP_ERR : C_MUNMAP]++;
}

static void op_mprotect(void)
{
	long s = pick_page(), n = pick_len(s, 19);
	vaddr_t addr = VA(s);
	size_t len = (size_t)n * PAGE_SIZE - (rnd() % 4 == 0 ? (size_t)rnd_range(1, PAGE_SIZE) : 0);
	unsigned long prot = rnd() % 8;
	long want = 0;
	switch (rnd() % 24) {
	case 0:
		len = 0; /* nothing to do, even over a hole */
		break;
	case 1:
		addr += (vaddr_t)rnd_range(1, PAGE_SIZE);
		want = -EINVAL;
		break;
	case 2:
		prot |= rnd() % 2 ? 0x10 : 0x80;
		want = -EINVAL;
		break;
	case 3:
		len = (size_t)-PAGE_SIZE * (size_t)rnd_range(1, 4) - (size_t)rnd_range(0, 2) * PAGE_SIZE;
		want = -ENOMEM; /* the range wraps */
		break;
	case 4:
		prot |= L_PROT_SEM; /* known to Linux: accepted, no effect */
		break;
	case 5:
		addr = USER_TOP - PAGE_SIZE * (vaddr_t)rnd_range(0, 3);
		want = -ENOMEM; /* nothing mapped up there */
		break;
	}
	snprintf(op_buf, sizeof(op_buf), "mprotect(W%+ld, %#zx, %#lx)", (long)(addr - WIN_BASE), len, prot);
	op_text = op_buf;
	long e = s + (long)(ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE);
	bool real = want == 0 && len && addr == VA(s);
	begin(real ? s : 0, real ? MIN(e, (long)NPAGES) : 0, false);
	if (real) {
		/* Linux: a hole at the start changes nothing; the pages before a later hole change. */
		if (!cur[s].map)
			want = -ENOMEM;
		else {
			long p = s;
			for (; p < e && p < NPAGES && cur[p].map; p++)
				nxt[p].prot = (uint8_t)(prot & VM_PROT_MASK);
			if (p < e)
				want = -ENOMEM;
		}
	}
	maybe_inject();
	long got = do_mprotect(mm, addr, len, prot);
	disarm();
	judge(got, want);
	counts[got ? C_MPROTECT_ERR : C_MPROTECT]++;
}

static void op_madvise(void)
{
	long s = pick_page(), n = pick_len(s, 19);
	vaddr_t addr = VA(s);
	size_t len = (size_t)n * PAGE_SIZE - (rnd() % 4 == 0 ? (size_t)rnd_range(1, PAGE_SIZE) : 0);
	static const int advice_set[] = {MADV_DONTNEED, MADV_DONTNEED, MADV_DONTNEED,  MADV_WILLNEED,
					 MADV_NORMAL,	MADV_RANDOM,   MADV_SEQUENTIAL};
	int advice = advice_set[rnd() % 7];
	long want = 0;
	switch (rnd() % 20) {
	case 0:
		len = 0;
		break;
	case 1:
		addr += (vaddr_t)rnd_range(1, PAGE_SIZE);
		want = -EINVAL;
		break;
	case 2:
		advice = rnd() % 2 ? 5 + (int)(rnd() % 3) : 1000; /* no such advice */
		want = -EINVAL;
		break;
	case 3:
		len = (size_t)-PAGE_SIZE * (size_t)rnd_range(1, 4) - (size_t)rnd_range(0, 2) * PAGE_SIZE;
		want = -EINVAL; /* madvise says EINVAL for a wrapping range */
		break;
	}
	snprintf(op_buf, sizeof(op_buf), "madvise(W%+ld, %#zx, %d)", (long)(addr - WIN_BASE), len, advice);
	op_text = op_buf;
	long e = s + (long)(ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE);
	bool real = want == 0 && len && addr == VA(s);
	begin(real ? s : 0, real ? MIN(e, (long)NPAGES) : 0, false);
	if (real) {
		for (long p = s; p < e; p++) {
			if (p >= NPAGES || !cur[p].map)
				want = -ENOMEM; /* the mapped parts are advised all the same */
			else if (advice == MADV_DONTNEED && !cur[p].shared)
				memset(nxt[p].v, 0, sizeof(nxt[p].v));
		}
	}
	maybe_inject();
	long got = do_madvise(mm, addr, len, advice);
	disarm();
	judge(got, want);
	counts[got ? C_MADVISE_ERR : C_MADVISE]++;
}

static void op_msync(void)
{
	long s = pick_page(), n = pick_len(s, 19);
	vaddr_t addr = VA(s);
	size_t len = (size_t)n * PAGE_SIZE - (rnd() % 4 == 0 ? (size_t)rnd_range(1, PAGE_SIZE) : 0);
	static const int flag_set[] = {0, MS_ASYNC, MS_SYNC, MS_INVALIDATE, MS_SYNC | MS_INVALIDATE};
	int flags = flag_set[rnd() % 5];
	long want = 0;
	switch (rnd() % 10) {
	case 0:
		len = 0;
		break;
	case 1:
		addr += (vaddr_t)rnd_range(1, PAGE_SIZE);
		want = -EINVAL;
		break;
	case 2:
		flags = MS_SYNC | MS_ASYNC;
		want = -EINVAL;
		break;
	case 3:
		flags = 8 << (rnd() % 4);
		want = -EINVAL;
		break;
	case 4:
		len = (size_t)-PAGE_SIZE * (size_t)rnd_range(1, 4) - (size_t)rnd_range(0, 2) * PAGE_SIZE;
		want = -ENOMEM;
		break;
	}
	snprintf(op_buf, sizeof(op_buf), "msync(W%+ld, %#zx, %d)", (long)(addr - WIN_BASE), len, flags);
	op_text = op_buf;
	long e = s + (long)(ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE);
	if (want == 0 && len)
		for (long p = s; p < e; p++)
			if (p >= NPAGES || !cur[p].map)
				want = -ENOMEM;
	begin(0, 0, false);
	maybe_inject();
	long got = do_msync(mm, addr, len, flags);
	disarm();
	judge(got, want);
	counts[got ? C_MSYNC_ERR : C_MSYNC]++;
}

/*
 * Linux's shared anonymous memory is a shmem file: mremap that grows a
 * MAP_SHARED mapping maps the file's next pages, which another part of the
 * mapping may still show (or a part unmapped before left behind), and past
 * the file's end a touch is SIGBUS. mmlab's shared areas have no file: the
 * new pages are new memory. The model follows mmlab unless MMAN_LINUX_SHMEM
 * is set (then it shows where the two differ).
 */
static bool linux_shmem;

/* Model pages [0, n) of a mapping that mremap makes from old pages @from (n_old of them). */
static void remap_pages(struct mpage *dst, const struct mpage *from, long n_old, long n)
{
	int fresh_obj = -1;
	for (long i = 0; i < n; i++) {
		if (i < n_old) {
			dst[i] = from[i];
			continue;
		}
		dst[i] = from[n_old - 1]; /* same prot and kind */
		memset(dst[i].v, 0, sizeof(dst[i].v));
		if (!dst[i].shared)
			continue;
		if (linux_shmem) {
			dst[i].off = from[n_old - 1].off + (i - n_old + 1); /* the file's next pages */
		} else {
			if (fresh_obj < 0)
				fresh_obj = obj_new(n - n_old);
			dst[i].obj = fresh_obj;
			dst[i].off = i - n_old;
		}
	}
}

static void op_mremap(void)
{
	/* Whether mremap finds one area depends on the boundaries: not while a failed call's split stays. */
	if (tolerate_unmerged) {
		counts[C_MREMAP_SKIPPED]++;
		return;
	}
	long s = pick_page();
	if (!cur[s].map && rnd() % 4)
		return;
	/* Mostly an old range inside one area; now and then one that is not. */
	long as = area_first(cur, s), ae = cur[s].map ? area_end(cur, s) : s + 1;
	long os = rnd() % 3 ? rnd_range(as, ae) : s;
	long on = rnd_range(1, MAX(2L, ae - os + 1));
	if (rnd() % 8 == 0)
		on += rnd_range(1, 4);
	long nn = rnd() % 3 == 0 ? rnd_range(1, on + 1) : on + rnd_range(0, 8);
	nn = MAX(1L, MIN(nn, NPAGES - os)); /* growing in place stays in the window */
	unsigned long flags = rnd() % 3 ? MREMAP_MAYMOVE : 0;
	vaddr_t new_addr = 0;
	long ns = 0;
	if (rnd() % 4 == 0) {
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		ns = rnd_range(0, NPAGES - nn + 1);
		new_addr = VA(ns);
	}
	vaddr_t addr = VA(os);
	size_t old_len = (size_t)on * PAGE_SIZE, new_len = (size_t)nn * PAGE_SIZE;
	if (rnd() % 4 == 0)
		new_len -= (size_t)rnd_range(0, PAGE_SIZE);
	long want = 0;
	switch (rnd() % 24) {
	case 0:
		flags |= 8 << (rnd() % 4);
		want = -EINVAL;
		break;
	case 1:
		addr += (vaddr_t)rnd_range(1, PAGE_SIZE);
		want = -EINVAL;
		break;
	case 2:
		new_len = 0;
		want = -EINVAL;
		break;
	case 3:
		if (flags & MREMAP_FIXED) {
			new_addr += (vaddr_t)rnd_range(1, PAGE_SIZE);
			want = -EINVAL;
		}
		break;
	case 4:
		if (flags & MREMAP_FIXED) {
			flags = MREMAP_FIXED; /* FIXED without MAYMOVE */
			want = -EINVAL;
		}
		break;
	}
	snprintf(op_buf, sizeof(op_buf), "mremap(W%+ld, %#zx, %#zx, %lu, W%+ld)", (long)(addr - WIN_BASE),
		 old_len, new_len, flags, (long)(new_addr - WIN_BASE));
	op_text = op_buf;
	bool fixed = flags & MREMAP_FIXED;
	if (want == 0 && fixed && ns < os + on && os < ns + nn)
		want = -EINVAL; /* old and new overlap */
	/*
	 * Linux 6.x (mm/mremap.c check_prep_vma): an area must hold addr; what
	 * moves or grows ([addr, addr + old_len) to grow, the first new_len
	 * bytes of it to move) must lie in that one area; a shrink in place
	 * unmaps the tail across any boundary. All checked before anything changes.
	 */
	if (want == 0 && !cur[os].map)
		want = -EFAULT;
	long need = fixed ? MIN(on, nn) : nn > on ? on : 0;
	if (want == 0 && os + need > area_end(cur, os))
		want = -EFAULT;
	long ae_old = want == 0 ? area_end(cur, os) : 0;
	static struct mpage moved[NPAGES + 16];
	long outside_n = 0;
	vaddr_t outside_at = 0;
	bool grow_in_place = false;
	begin(os, os + on, false);
	if (want == 0) {
		if (fixed) {
			touch(ns, ns + nn);
			may_unmap_on_failure = true;
			remap_pages(moved, &cur[os], MIN(on, nn), nn);
			for (long p = os; p < os + on && p < NPAGES; p++)
				nxt[p] = (struct mpage){0};
			for (long i = 0; i < nn; i++)
				nxt[ns + i] = moved[i];
			want = (long)new_addr;
		} else if (nn <= on) {
			for (long p = os + nn; p < os + on && p < NPAGES; p++)
				nxt[p] = (struct mpage){0};
			want = (long)addr;
		} else if (os + on == ae_old && model_free(cur, os + on, os + nn) && os + nn <= NPAGES) {
			grow_in_place = true;
			touch(os, os + nn);
			remap_pages(moved, &cur[os], on, nn);
			for (long i = on; i < nn; i++)
				nxt[os + i] = moved[i];
			want = (long)addr;
		} else if (flags & MREMAP_MAYMOVE) {
			remap_pages(moved, &cur[os], on, nn);
			for (long p = os; p < os + on; p++)
				nxt[p] = (struct mpage){0};
			outside_at = top_down(nn);
			outside_n = nn;
			want = (long)outside_at;
		} else
			want = -ENOMEM;
	}
	maybe_inject();
	long got = do_mremap(mm, addr, old_len, new_len, flags, new_addr);
	disarm();
	if (injected && grow_in_place && (flags & MREMAP_MAYMOVE) && got == (long)top_down(nn)) {
		/* Out of memory for the pages of the growth in place (a shared area's):
		 * moving instead is a fair answer too. */
		memcpy(nxt, cur, sizeof(cur));
		for (long p = os; p < os + on; p++)
			nxt[p] = (struct mpage){0};
		outside_at = top_down(nn);
		outside_n = nn;
		want = got;
	}
	if (outside_n && got == want) {
		check_outside(outside_at, outside_n, moved);
		counts[C_MREMAP_MOVE]++;
	} else if (got > 0 && got != want && (vaddr_t)got >= MMAP_BASE - (1UL << 30)) {
		/* Moved where the model did not expect: report it (judge does), then tidy up. */
		do_munmap(mm, (vaddr_t)got, new_len);
	}
	judge(got, want);
	counts[got < 0 ? C_MREMAP_ERR : C_MREMAP]++;
}

/* A user store: fault it in if the PTE does not allow it, then write a value. */
static void op_write(void)
{
	long p = pick_page();
	snprintf(op_buf, sizeof(op_buf), "write to W%+ld", (long)(p * PAGE_SIZE));
	op_text = op_buf;
	pte_t *pte = leaf(VA(p));
	bool allowed = cur[p].map && (cur[p].prot & VM_WRITE);
	if (allowed && cur[p].shared && cur[p].off >= objs[cur[p].obj].size)
		return; /* past the object's end: SIGBUS on Linux */
	if (!pte || !(*pte & PTE_W) || !(*pte & PTE_U)) {
		enum fault_result r = mm_fault(mm, VA(p) + (vaddr_t)rnd_range(0, PAGE_SIZE), ACCESS_WRITE);
		enum fault_result want = !cur[p].map ? FAULT_NO_AREA
					 : allowed   ? FAULT_RESOLVED
						     : FAULT_PERMISSION;
		if (r != want)
			check_fail(__FILE__, __LINE__, "%s: fault %s, model %s", op_text,
				   fault_result_name(r), fault_result_name(want));
		if (r != FAULT_RESOLVED || !allowed)
			return;
		pte = leaf(VA(p));
		if (!pte || !(*pte & PTE_W)) {
			check_fail(__FILE__, __LINE__, "%s: resolved, not writable", op_text);
			return;
		}
	} else if (!allowed) {
		check_fail(__FILE__, __LINE__, "%s: writable PTE 0x%lx, model prot %u", op_text,
			   (unsigned long)*pte, cur[p].prot);
		return;
	}
	CHECK(!is_zero_page(pte_pa(*pte)));
	tlb_fill(p, *pte);
	int k = (int)(rnd() % NSLOT);
	uint64_t v = rnd();
	memcpy((uint8_t *)pa_to_kva(pte_pa(*pte)) + k * 512, &v, sizeof(v));
	if (cur[p].shared)
		objs[cur[p].obj].v[cur[p].off][k] = v;
	else
		cur[p].v[k] = v;
	counts[C_WRITE]++;
}

/* A user load: fault it in if needed (PROT_WRITE alone reads too), then compare. */
static void op_read(void)
{
	long p = pick_page();
	snprintf(op_buf, sizeof(op_buf), "read of W%+ld", (long)(p * PAGE_SIZE));
	op_text = op_buf;
	bool allowed = cur[p].map && (cur[p].prot & (VM_READ | VM_WRITE));
	if (allowed && cur[p].shared && cur[p].off >= objs[cur[p].obj].size)
		return;
	pte_t *pte = leaf(VA(p));
	if (!pte || !(*pte & PTE_R) || !(*pte & PTE_U)) {
		enum fault_result r = mm_fault(mm, VA(p) + (vaddr_t)rnd_range(0, PAGE_SIZE), ACCESS_READ);
		enum fault_result want = !cur[p].map ? FAULT_NO_AREA
					 : allowed   ? FAULT_RESOLVED
						     : FAULT_PERMISSION;
		if (r != want)
			check_fail(__FILE__, __LINE__, "%s: fault %s, model %s", op_text,
				   fault_result_name(r), fault_result_name(want));
		if (r != FAULT_RESOLVED || !allowed)
			return;
		pte = leaf(VA(p));
		if (!pte) {
			check_fail(__FILE__, __LINE__, "%s: resolved, not mapped", op_text);
			return;
		}
	}
	tlb_fill(p, *pte);
	check_page(p, cur);
	counts[C_READ]++;
}

/* ---- fixed cases ------------------------------------------------------------------- */

/*
 * The area limit (vm.max_map_count): area 0 of three pages, then single
 * pages with one-page gaps, until MM_MAX_VMAS areas exist. Then a new area,
 * a split by munmap and a split by mprotect are refused with -ENOMEM and
 * change nothing; what needs no new area still works; unmapping one area
 * makes room for one more.
 */
static void test_area_limit(void)
{
	check_context = "area limit";
	struct mm *m = mm_create();
	CHECK(m != NULL);
	const unsigned long pr = MAP_PRIVATE | MAP_ANONYMOUS;
	vaddr_t base = 0x100000000UL;
#define AREA(i) (base + (vaddr_t)(2 * (i) + 2) * PAGE_SIZE) /* area i >= 1 */
	CHECK_EQ(do_mmap(m, base, 3 * PAGE_SIZE, PROT_READ, pr | MAP_FIXED_NOREPLACE, -1, 0), (long)base);
	long made = 1;
	for (long i = 1; i < (long)MM_MAX_VMAS; i++) {
		if (do_mmap(m, AREA(i), PAGE_SIZE, PROT_READ, pr | MAP_FIXED_NOREPLACE, -1, 0) !=
		    (long)AREA(i))
			break;
		made++;
	}
	CHECK_EQ(made, MM_MAX_VMAS);
	CHECK_EQ((long)m->nr_vmas, MM_MAX_VMAS);
	CHECK_EQ(vma_tree_check(&m->vmas), MM_MAX_VMAS);
	/* A new area: refused, wherever it would go. */
	CHECK_EQ(do_mmap(m, AREA(MM_MAX_VMAS), PAGE_SIZE, PROT_READ, pr | MAP_FIXED, -1, 0), -ENOMEM);
	CHECK_EQ(do_mmap(m, 0, PAGE_SIZE, PROT_READ, pr, -1, 0), -ENOMEM);
	/* The middle of area 0: a split, refused, and area 0 is whole and as it was. */
	CHECK_EQ(do_munmap(m, base + PAGE_SIZE, PAGE_SIZE), -ENOMEM);
	CHECK_EQ(do_mprotect(m, base + PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE), -ENOMEM);
	struct vma *v = mm_find_vma(m, base + PAGE_SIZE);
	CHECK(v && v->start == base && v->end == base + 3 * PAGE_SIZE && v->prot == VM_READ);
	CHECK_EQ((long)m->nr_vmas, MM_MAX_VMAS);
	/* No new area needed: a whole area re-protected, a whole area unmapped. */
	CHECK_EQ(do_mprotect(m, base, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	CHECK_EQ(do_munmap(m, AREA(5), PAGE_SIZE), 0);
	CHECK_EQ((long)m->nr_vmas, MM_MAX_VMAS - 1);
	/* One free slot: a gap filled alike merges three areas into one. */
	CHECK_EQ(do_mmap(m, AREA(7) + PAGE_SIZE, PAGE_SIZE, PROT_READ, pr | MAP_FIXED, -1, 0),
		 (long)(AREA(7) + PAGE_SIZE));
	CHECK_EQ((long)m->nr_vmas, MM_MAX_VMAS - 2);
	v = mm_find_vma(m, AREA(8));
	CHECK(v && v->start == AREA(7) && v->end == AREA(8) + PAGE_SIZE);
	/* Two free slots: the middle of area 0 re-protected splits it in three. */
	CHECK_EQ(do_mprotect(m, base + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
	CHECK_EQ((long)m->nr_vmas, MM_MAX_VMAS);
	CHECK_EQ(vma_tree_check(&m->vmas), MM_MAX_VMAS);
	/* ... and back: one area again, two slots free. */
	CHECK_EQ(do_mprotect(m, base + PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	CHECK_EQ((long)m->nr_vmas, MM_MAX_VMAS - 2);
#undef AREA
	mm_put(m);
	check_context = NULL;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 1000000;
	if (argc > 2)
		rng = (strtoull(argv[2], NULL, 0) + 1) * 0x9e3779b97f4a7c15UL | 1; /* another sequence */
	check_max_failures = 40;
	trace = getenv("MMAN_TRACE") != NULL;
	linux_shmem = getenv("MMAN_LINUX_SHMEM") != NULL;
	int full_every = getenv("MMAN_FULL") ? 1 : 64; /* MMAN_FULL: every page after every call */
	memory_init();
	long base_allocs = live_allocs, base_tables = tables_in_use;
	long i;
	for (int pass = 0; pass < 2; pass++) {
		/* Most rounds lazy (pages appear on first touch), the rest eager. */
		long n = pass == 0 ? rounds * 4 / 5 : rounds - rounds * 4 / 5;
		eager_default = pass == 1;
		mm = mm_create();
		eager_default = false;
		if (!mm) {
			printf("test_mman: mm_create failed\n");
			return 1;
		}
		memset(cur, 0, sizeof(cur));
		memset(tlb_frame, 0, sizeof(tlb_frame));
		for (i = 0; i < n; i++) {
			unsigned r = rnd() % 100;
			if (r < 22)
				op_mmap();
			else if (r < 34)
				op_munmap();
			else if (r < 50)
				op_mprotect();
			else if (r < 60)
				op_mremap();
			else if (r < 68)
				op_madvise();
			else if (r < 71)
				op_msync();
			else if (r < 86)
				op_write();
			else
				op_read();
			if (i % full_every == 0)
				check_all();
		}
		check_all();
		op_text = "the last munmap";
		CHECK_EQ(do_munmap(mm, WIN_BASE, NPAGES * PAGE_SIZE), 0);
		CHECK_EQ((long)mm->nr_vmas, 0);
		CHECK_EQ((long)mm->nr_pages, 0);
		memset(tlb_frame, 0, sizeof(tlb_frame));
		mm_put(mm);
		mm = NULL;
	}
	CHECK_EQ(data_in_use, 0);
	test_area_limit();
	CHECK_EQ(data_in_use, 0);
	CHECK_EQ(tables_in_use, base_tables);
	CHECK_EQ(live_allocs, base_allocs);
	printf("test_mman: %ld rounds: mmap %lu (%lu refused, %lu placed top-down), munmap %lu (%lu), "
	       "mprotect %lu (%lu), mremap %lu (%lu; %lu moved; %lu skipped), madvise %lu (%lu), msync %lu "
	       "(%lu), "
	       "%lu writes, %lu reads; %lu calls with an injected failure (%lu gave -ENOMEM; alike areas "
	       "left "
	       "unmerged after %lu calls); %lu flushes\n",
	       rounds, counts[C_MMAP], counts[C_MMAP_ERR], counts[C_MMAP_OUT], counts[C_MUNMAP],
	       counts[C_MUNMAP_ERR], counts[C_MPROTECT], counts[C_MPROTECT_ERR], counts[C_MREMAP],
	       counts[C_MREMAP_ERR], counts[C_MREMAP_MOVE], counts[C_MREMAP_SKIPPED], counts[C_MADVISE],
	       counts[C_MADVISE_ERR], counts[C_MSYNC], counts[C_MSYNC_ERR], counts[C_WRITE], counts[C_READ],
	       counts[C_INJECTED], counts[C_NOMEM], counts[C_UNMERGED], flushes);
	return checks_done("test_mman");
}
