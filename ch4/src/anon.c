/*
 * The anonymous backend: memory that reads as zeros until written. Its
 * pages appear on first touch (the zero page for a read, a zeroed frame for
 * a write: cow.c), or all when the area is mapped if the mm is eager
 * (xv6's uvmalloc); unmapping gives the frames back (Linux's anonymous
 * VMAs; ArceOS Backend::Alloc, populate false or true).
 */
#include "cow.h"
#include "errno.h"
#include "frame.h"
#include "memlayout.h"
#include "mm_internal.h"
#include "pagetable.h"
#include "panic.h"
#include "string.h"
#include "tlb.h"

/* The page table an area's pages go into. */
static struct pagetable *vma_pt(struct vma *vma) { return &vma->mm->as.pt; }

/* LAB BEGIN ch4 anonymous memory: map a zeroed frame per page; unmap and give the frames back */

int anon_map_page(struct vma *vma, vaddr_t va, const void *src, size_t len)
{
	paddr_t pa = frame_alloc(FRAME_ZERO);
	if (!pa)
		return -ENOMEM;
	if (len)
		memcpy(pa_to_kva(pa), src, len);
	int err = pt_map(vma_pt(vma), va, pa, PAGE_SIZE, vm_page_perm(vma->prot));
	if (err) {
		frame_free(pa);
		return err;
	}
	vma->mm->nr_pages++;
	return 0;
}

static int anon_map(struct vma *vma, vaddr_t start, vaddr_t end)
{
	/* A shared area is populated even in a lazy mm, even under PROT_NONE:
	 * fork shares only the pages present, and a page each side faulted in
	 * alone would not be shared. */
	bool populate = (vma->mm->eager && vm_prot_to_pte(vma->prot)) || (vma->flags & VM_SHARED);
	if (!populate)
		return 0; /* lazy (the first touch maps), or no access (a guard, PROT_NONE) */
	for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
		int err = anon_map_page(vma, va, NULL, 0);
		if (err) {
			/* Another thread of the mm may have touched what is mapped. */
			struct tlb_flusher fl;
			tlb_flusher_init(&fl, &vma->mm->as);
			if (va > start)
				anon_unmap(vma, start, va, &fl);
			tlb_flusher_finish(&fl);
			return err;
		}
	}
	return 0;
}

/* Pages taken down per round: their frames go back after one flush. */
#define UNMAP_BATCH 32

struct unmap_batch {
	vaddr_t va[UNMAP_BATCH];
	paddr_t pa[UNMAP_BATCH];
	int n;
};

/* pt_visit() callback: note a leaf; stop when the batch is full. */
static int collect_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct unmap_batch *b = arg;
	(void)level; /* user pages are 4 KiB: areas are mapped page by page */
	if (!pte_valid(*pte))
		return 0;
	b->va[b->n] = va;
	b->pa[b->n] = pte_pa(*pte);
	return ++b->n == UNMAP_BATCH;
}

int anon_unmap(struct vma *vma, vaddr_t start, vaddr_t end, struct tlb_flusher *fl)
{
	struct unmap_batch b;
	for (vaddr_t cur = start; cur < end;) {
		b.n = 0;
		int more = pt_visit(vma_pt(vma), cur, end, collect_leaf, &b);
		/* One pt_unmap() per run of consecutive pages: each call checks
		 * whether the tables it emptied can go, a scan of 512 entries. */
		for (int i = 0, j; i < b.n; i = j) {
			for (j = i + 1; j < b.n && b.va[j] == b.va[j - 1] + PAGE_SIZE; j++)
				;
			pt_unmap(vma_pt(vma), b.va[i], (j - i) * PAGE_SIZE, fl);
		}
		/* No hart may reach a frame through a stale TLB entry once it is
		 * free for someone else: flush first (Linux's mmu_gather). */
		if (fl)
			tlb_flusher_finish(fl);
		for (int i = 0; i < b.n; i++) {
			if (is_zero_page(b.pa[i]))
				continue;   /* never ours: not counted, never freed */
			frame_put(b.pa[i]); /* the last reference frees it */
			vma->mm->nr_pages--;
		}
		if (!more)
			break;
		cur = b.va[b.n - 1] + PAGE_SIZE;
	}
	return 0;
}
/* LAB STUB
int anon_map_page(struct vma *vma, vaddr_t va, const void *src, size_t len)
{
	TODO("ch4", "anon_backend: map a new zeroed page");
	(void)vma, (void)va, (void)src, (void)len;
	return -ENOSYS;
}

static int anon_map(struct vma *vma, vaddr_t start, vaddr_t end)
{
	TODO("ch4", "anon_backend: map a zeroed frame per page");
	(void)vma, (void)start, (void)end;
	return -ENOSYS;
}

int anon_unmap(struct vma *vma, vaddr_t start, vaddr_t end, struct tlb_flusher *fl)
{
	TODO("ch4", "anon_backend: unmap the pages and free their frames");
	(void)vma, (void)start, (void)end, (void)fl;
	return -ENOSYS;
}
LAB END */

struct protect_arg {
	unsigned perm;
	struct tlb_flusher *fl;
};

/* pt_visit() callback: give a leaf the new permissions and note it for the flush. */
static int protect_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct protect_arg *p = arg;
	if (pte_valid(*pte)) {
		/* A copy-on-write page stays read-only: its first write breaks it. */
		pte_t cow = *pte & PTE_COW;
		*pte = pte_make_leaf(pte_pa(*pte), cow ? p->perm & ~PTE_W : p->perm) | cow;
		tlb_flusher_add(p->fl, va, level_size(level));
	}
	return 0;
}

int anon_protect(struct vma *vma, vaddr_t start, vaddr_t end, unsigned prot, struct tlb_flusher *fl)
{
	/* PROT_NONE keeps the pages, in leaves no access can use (PTE_PROT_NONE). */
	struct protect_arg p = {vm_page_perm(prot), fl};
	pt_visit(vma_pt(vma), start, end, protect_leaf, &p);
	return 0;
}

/* A new private page at @va: a zeroed frame. */
static int anon_map_new(struct vma *vma, vaddr_t va) { return anon_map_page(vma, va, NULL, 0); }

static int anon_fault(struct vma *vma, vaddr_t va, enum vm_access access)
{
	/* A shared area's pages are the same frames in every mm: never the zero page. */
	return private_fault(vma, va, access, !(vma->flags & VM_SHARED), anon_map_new);
}

/*
 * anon_map(), unless the range is one it would populate (as it is mapped:
 * an eager mm's accessible areas, every shared one) and larger than all of
 * RAM: that could only end in -ENOMEM after taking and zeroing every free
 * frame (a second and more under QEMU for a few hundred MiB), so it is
 * -ENOMEM at once, as Linux refuses an "obvious overcommit"
 * (__vm_enough_memory(), mm/util.c: more pages than RAM and swap).
 */
static int anon_map_unless_larger_than_ram(struct vma *vma, vaddr_t start, vaddr_t end)
{
	bool populated = (vma->flags & VM_SHARED) || (vm_prot_to_pte(vma->prot) && vma->mm->eager);
	if (populated && (end - start) / PAGE_SIZE > frames_nr_total())
		return -ENOMEM;
	return anon_map(vma, start, end);
}

const struct vm_backend anon_backend = {
	.name = "anon",
	.map = anon_map_unless_larger_than_ram,
	.unmap = anon_unmap,
	.protect = anon_protect,
	.fault = anon_fault,
};
