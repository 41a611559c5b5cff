/*
 * Host unit test of ch4's area logic under AddressSanitizer: the AVL area
 * tree and mm_add_vma / mm_remove_range / mm_find_free / mm_clear, driven by
 * a mock backend that records which pages are mapped (the memory_set crate's
 * MockBackend), against a model that keeps, per page of a window, the area
 * it belongs to. A million random operations (with injected out-of-memory in
 * the backend's map and in the splits' allocations); after each one the tree's
 * invariants and the pages the operation touched are checked, and every few
 * thousand the whole window.
 *
 * The area logic compiles here because the page table and the frames stay
 * in the backends, mm.c and fork.c; the TLB flusher is a stand-in.
 */
// HOSTTEST_SOURCES: ch4/src/vma_tree.c ch4/src/vma.c ch4/src/area.c ch4/src/find_free.c ch4/src/remove.c common/hosttest/host_kernel.c
// HOSTTEST_INCLUDE_FIRST: ch3/hosttest/shim
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/hosttest/host_check.h"
#include "errno.h"
#include "kmalloc.h"
#include "mm.h"
#include "tlb.h"
#include "vma.h"
#include "vma_tree.h"

/* ---- stand-ins for the kernel ---------------------------------------------- */

int cpuid(void) { return 0; }
uint64_t harts_online_mask(void) { return 1; }

static bool fail_next_kmalloc; /* armed around mm calls only */
static long live_allocs;

void *kmalloc(size_t size)
{
	if (fail_next_kmalloc) {
		fail_next_kmalloc = false;
		return NULL;
	}
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

static unsigned long flushes_started, flushes_finished;
void tlb_flusher_init(struct tlb_flusher *fl, struct addr_space *as)
{
	memset(fl, 0, sizeof(*fl));
	fl->as = as;
	flushes_started++;
}
void tlb_flusher_finish(struct tlb_flusher *fl)
{
	(void)fl;
	flushes_finished++;
}

/* ---- the window, the model and the mock backend ------------------------------ */

#define NPAGES	 320
#define WIN_BASE USER_MIN
#define WIN_END	 (WIN_BASE + NPAGES * PAGE_SIZE)
#define VA(p)	 (WIN_BASE + (vaddr_t)(p)*PAGE_SIZE)
#define PG(va)	 ((long)(((va)-WIN_BASE) / PAGE_SIZE))

/* What the mock backend mapped: the owner tag of each page (0: none). */
static int mapped[NPAGES];
/* The model: the tag and prot of the area each page is in (0: none). */
static int model_tag[NPAGES];
static unsigned model_prot[NPAGES];
/* ... and the page's offset into its area's object (pgoff follows splits), in pages. */
static long model_off[NPAGES];

/* A backend's own object (vma::private_data): a tag, shared by the pieces of a split. */
struct mock_obj {
	int tag;
	int refs;
};
static long live_objs;

static bool fail_next_map;

static int mock_map(struct vma *vma, vaddr_t start, vaddr_t end)
{
	CHECK(start >= vma->start && end <= vma->end && start < end);
	if (fail_next_map) {
		fail_next_map = false;
		return -ENOMEM; /* having mapped nothing, as the contract says */
	}
	int tag = ((struct mock_obj *)vma->private_data)->tag;
	for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
		if (mapped[PG(va)])
			check_fail(__FILE__, __LINE__, "page %ld mapped twice", PG(va));
		mapped[PG(va)] = tag;
	}
	return 0;
}

static int mock_unmap(struct vma *vma, vaddr_t start, vaddr_t end, struct tlb_flusher *fl)
{
	CHECK(fl != NULL);
	CHECK(start >= vma->start && end <= vma->end && start < end);
	int tag = ((struct mock_obj *)vma->private_data)->tag;
	for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
		if (mapped[PG(va)] != tag)
			check_fail(__FILE__, __LINE__, "page %ld unmapped by tag %d, mapped by %d", PG(va),
				   tag, mapped[PG(va)]);
		mapped[PG(va)] = 0;
	}
	return 0;
}

static int mock_protect(struct vma *vma, vaddr_t start, vaddr_t end, unsigned prot, struct tlb_flusher *fl)
{
	(void)vma, (void)start, (void)end, (void)prot, (void)fl;
	return 0;
}

static int mock_fault(struct vma *vma, vaddr_t va, enum vm_access access)
{
	(void)vma, (void)va, (void)access;
	return -ENOMEM;
}

static void mock_close(struct vma *vma)
{
	struct mock_obj *o = vma->private_data;
	if (--o->refs == 0) {
		free(o);
		live_objs--;
	}
}

static bool fail_next_dup;

static int mock_dup(struct vma *copy, const struct vma *vma)
{
	if (fail_next_dup) {
		fail_next_dup = false;
		return -ENOMEM;
	}
	CHECK(copy->private_data == vma->private_data);
	((struct mock_obj *)vma->private_data)->refs++;
	return 0;
}

static const struct vm_backend mock_backend = {
	.name = "mock",
	.map = mock_map,
	.unmap = mock_unmap,
	.protect = mock_protect,
	.fault = mock_fault,
	.close = mock_close,
	.dup = mock_dup,
};

static int next_tag = 1;

static struct vma *new_area(vaddr_t start, vaddr_t end, unsigned prot)
{
	struct vma *vma = vma_alloc(start, end, prot, 0, &mock_backend);
	struct mock_obj *o = malloc(sizeof(*o));
	if (!vma || !o) {
		fprintf(stderr, "out of host memory\n");
		exit(2);
	}
	*o = (struct mock_obj){.tag = next_tag++, .refs = 1};
	live_objs++;
	vma->private_data = o;
	return vma;
}

/* ---- checking ------------------------------------------------------------------ */

static struct mm mm;

/* The tree agrees with the model at page @p. */
static void check_page(long p)
{
	if (p < 0 || p >= NPAGES)
		return;
	struct vma *v = vma_tree_find(&mm.vmas, VA(p));
	int tag = v ? ((struct mock_obj *)v->private_data)->tag : 0;
	bool off_ok = !v || (long)((v->pgoff + VA(p) - v->start) / PAGE_SIZE) == model_off[p];
	if (tag != model_tag[p] || mapped[p] != model_tag[p] || (v && v->prot != model_prot[p]) || !off_ok)
		check_fail(__FILE__, __LINE__, "page %ld: tree tag %d, mapped %d, model %d", p, tag,
			   mapped[p], model_tag[p]);
}

/* Areas in the model: maximal runs of one tag (the pieces of a split are
 * never adjacent: what split them is a hole, or a newer area between). */
static long model_areas(void)
{
	long n = 0;
	for (long p = 0; p < NPAGES; p++)
		n += model_tag[p] && (p == 0 || model_tag[p - 1] != model_tag[p]);
	return n;
}

static void check_all(void)
{
	for (long p = 0; p < NPAGES; p++)
		check_page(p);
	CHECK_EQ(vma_tree_check(&mm.vmas), (long)mm.nr_vmas);
	CHECK_EQ((long)mm.nr_vmas, model_areas());
	/* Walk: areas in order, each matching a model run exactly. */
	for (struct vma *v = vma_tree_first(&mm.vmas); v; v = vma_tree_next(v)) {
		long s = PG(v->start), e = PG(v->end);
		CHECK(v->mm == &mm);
		CHECK(s >= 0 && e <= NPAGES);
		CHECK(s == 0 || model_tag[s - 1] != model_tag[s]);
	}
}

/* ---- the operations, each against the model ------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15UL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static long rnd_range(long lo, long hi) { return lo + (long)(rnd() % (uint64_t)(hi - lo)); }

static unsigned long counts[8];

/* Remove pages [s, e) from the model. */
static void model_remove(long s, long e)
{
	for (long p = MAX(s, 0L); p < MIN(e, (long)NPAGES); p++)
		model_tag[p] = 0;
}

static bool model_busy(long s, long e)
{
	for (long p = s; p < e; p++)
		if (model_tag[p])
			return true;
	return false;
}

/* True if removing [s, e) must split one area in two (it needs an allocation). */
static bool model_needs_split(long s, long e)
{
	if (s == 0 || e >= NPAGES || !model_tag[s - 1])
		return false;
	for (long p = s; p <= e; p++)
		if (model_tag[p] != model_tag[s - 1])
			return false;
	return true;
}

static void op_add(void)
{
	long s = rnd_range(0, NPAGES), e = MIN((long)NPAGES, s + rnd_range(1, 24));
	bool replace = rnd() % 3 == 0;
	unsigned prot = rnd() % 8;
	struct vma *vma = new_area(VA(s), VA(e), prot);
	int tag = ((struct mock_obj *)vma->private_data)->tag;
	bool busy = model_busy(s, e);
	int want = 0;
	if (busy && !replace) {
		want = -EEXIST;
	} else {
		if (busy && model_needs_split(s, e) && rnd() % 8 == 0) {
			fail_next_kmalloc = true; /* the split's copy of the area */
			want = -ENOMEM;
		} else if (rnd() % 16 == 0) {
			fail_next_map = true;
			want = -ENOMEM;
			if (busy)
				model_remove(s, e); /* replaced, then the map failed: as MAP_FIXED */
		}
	}
	int got = mm_add_vma(&mm, vma, replace ? MM_ADD_REPLACE : 0);
	fail_next_kmalloc = fail_next_map = false;
	CHECK_EQ(got, want);
	if (got == 0) {
		for (long p = s; p < e; p++) {
			model_tag[p] = tag;
			model_prot[p] = prot;
			model_off[p] = p - s;
		}
		counts[0]++;
	} else {
		CHECK(vma->mm == NULL);
		vma_free(vma);
		counts[1]++;
	}
	for (long p = s - 1; p <= e; p++)
		check_page(p);
}

static void op_remove(void)
{
	long s = rnd_range(0, NPAGES), e = MIN((long)NPAGES, s + rnd_range(1, 16));
	int want = 0;
	if (model_needs_split(s, e) && rnd() % 4 == 0) {
		if (rnd() % 2)
			fail_next_kmalloc = true;
		else
			fail_next_dup = true;
		want = -ENOMEM;
	}
	int got = mm_remove_range(&mm, VA(s), VA(e));
	fail_next_kmalloc = fail_next_dup = false;
	CHECK_EQ(got, want);
	if (got == 0)
		model_remove(s, e);
	counts[got ? 3 : 2]++;
	for (long p = s - 1; p <= e; p++)
		check_page(p);
}

/* The model's answer to mm_find_free(hint, len, limit), by brute force. */
static vaddr_t model_find_free(vaddr_t hint, long len, vaddr_t limit)
{
	long lim = PG(limit);
	if (len <= 0 || lim < len)
		return 0;
	long h = PG(ALIGN_UP(hint, PAGE_SIZE));
	if (hint >= WIN_BASE && h + len <= lim && !model_busy(h, h + len))
		return VA(h);
	long run = 0;
	for (long p = lim - 1; p >= 0; p--) {
		run = model_tag[p] ? 0 : run + 1;
		if (run == len)
			return VA(p);
	}
	return 0;
}

static void op_find_free(void)
{
	/* The window must be the whole of the space the search sees: above it, an area blocks. */
	vaddr_t limit = VA(rnd_range(0, NPAGES + 1));
	long len = rnd_range(1, 40);
	vaddr_t hint = rnd() % 4 ? VA(rnd_range(0, NPAGES)) + (rnd() % 2 ? 0 : rnd() % PAGE_SIZE) : 0;
	spin_lock(&mm.lock);
	vaddr_t got = mm_find_free(&mm, hint, len * PAGE_SIZE, limit);
	spin_unlock(&mm.lock);
	vaddr_t want = model_find_free(hint, len, limit);
	if (got != want)
		check_fail(__FILE__, __LINE__,
			   "find_free(hint 0x%lx, %ld pages, limit 0x%lx) = 0x%lx, model 0x%lx", hint, len,
			   limit, got, want);
	else
		check_pass();
	counts[want ? 4 : 5]++;
}

static void op_clear(void)
{
	mm_clear(&mm);
	model_remove(0, NPAGES);
	CHECK_EQ((long)mm.nr_vmas, 0);
	CHECK(mm.vmas.root == NULL);
	counts[6]++;
}

/* ---- fixed cases ------------------------------------------------------------------ */

static void fixed_cases(void)
{
	check_context = "fixed";
	/* Outside the user range or unaligned. */
	struct vma *v = new_area(0, PAGE_SIZE, VM_READ);
	CHECK_EQ(mm_add_vma(&mm, v, 0), -EINVAL);
	v->start = USER_TOP - PAGE_SIZE;
	v->end = USER_TOP + PAGE_SIZE;
	CHECK_EQ(mm_add_vma(&mm, v, 0), -EINVAL);
	v->start = VA(1) + 1;
	v->end = VA(2);
	CHECK_EQ(mm_add_vma(&mm, v, 0), -EINVAL);
	vma_free(v);
	CHECK_EQ(mm_remove_range(&mm, VA(1), VA(1)), -EINVAL);
	CHECK_EQ(mm_remove_range(&mm, VA(1) + 1, VA(2)), -EINVAL);
	/* A middle split keeps both ends mapped, with the object shared. */
	v = new_area(VA(0), VA(10), VM_READ);
	CHECK_EQ(mm_add_vma(&mm, v, 0), 0);
	CHECK_EQ(mm_remove_range(&mm, VA(3), VA(5)), 0);
	struct vma *r = vma_tree_find(&mm.vmas, VA(5));
	CHECK(r && r != v && r->private_data == v->private_data);
	CHECK_EQ(((struct mock_obj *)v->private_data)->refs, 2);
	CHECK_EQ(v->end, VA(3));
	CHECK_EQ(r->pgoff, 5 * PAGE_SIZE);
	CHECK_EQ(mapped[4], 0);
	CHECK(mapped[5] != 0 && mapped[2] != 0);
	mm_clear(&mm);
	CHECK_EQ(live_objs, 0);
	for (long p = 0; p < NPAGES; p++)
		CHECK_EQ(mapped[p], 0);
	check_context = NULL;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 1000000;
	spin_init(&mm.lock, "mm");
	fixed_cases();
	long base_allocs = live_allocs, i;
	for (i = 0; i < rounds; i++) {
		unsigned r = rnd() % 100;
		if (r < 45)
			op_add();
		else if (r < 80)
			op_remove();
		else if (r < 99)
			op_find_free();
		else if (rnd() % 64 == 0)
			op_clear();
		CHECK_EQ(vma_tree_check(&mm.vmas), (long)mm.nr_vmas);
		if (i % 64 == 0)
			check_all();
		if (checks_failed > 20) {
			printf("stopping after round %ld\n", i);
			i++;
			break;
		}
	}
	check_all();
	CHECK_EQ(flushes_started, flushes_finished);
	mm_clear(&mm);
	CHECK_EQ(live_allocs, base_allocs);
	CHECK_EQ(live_objs, 0);
	printf("test_vma: %ld rounds: %lu adds, %lu refused; %lu removes, %lu refused; %lu searches found, "
	       "%lu found nothing; %lu clears\n",
	       i, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6]);
	return checks_done("test_vma");
}
