/*
 * ch3.tlb: the flusher batches page flushes and falls back to a full flush;
 * removing or downgrading a kernel mapping reaches every hart's TLB; a
 * shootdown for a user address space reaches the harts of its mask only.
 */
#include "ch3_test.h"

KTEST(ch3_tlb, flusher_batches_pages)
{
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, NULL);
	KEXPECT_TRUE(tlb_flusher_empty(&fl));
	struct tlb_stats before = tlb_get_stats();
	for (int i = 0; i < 3; i++)
		tlb_flusher_add(&fl, T_VA + i * PAGE_SIZE, PAGE_SIZE);
	KEXPECT_EQ(fl.n, 3);
	KEXPECT_FALSE(fl.all);
	tlb_flusher_finish(&fl);
	struct tlb_stats after = tlb_get_stats();
	KEXPECT_EQ(after.page_flushes - before.page_flushes, 3);
	KEXPECT_EQ(after.full_flushes - before.full_flushes, 0);
	KEXPECT_EQ(after.remote_calls - before.remote_calls, 0);
	KEXPECT_TRUE(tlb_flusher_empty(&fl));
	tlb_flusher_add(NULL, T_VA, PAGE_SIZE); /* allowed: nothing to do */
}

KTEST(ch3_tlb, flusher_full_past_threshold)
{
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, NULL);
	struct tlb_stats before = tlb_get_stats();
	for (int i = 0; i < TLB_FLUSH_BATCH; i++)
		tlb_flusher_add(&fl, T_VA + i * PAGE_SIZE, PAGE_SIZE);
	KEXPECT_FALSE(fl.all);
	tlb_flusher_add(&fl, T_VA + TLB_FLUSH_BATCH * PAGE_SIZE, PAGE_SIZE);
	KEXPECT_TRUE(fl.all);
	tlb_flusher_finish(&fl);
	struct tlb_stats after = tlb_get_stats();
	KEXPECT_EQ(after.page_flushes - before.page_flushes, 0);
	KEXPECT_EQ(after.full_flushes - before.full_flushes, 1);
}

KTEST(ch3_tlb, unmap_flushes_each_leaf)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	/* A neighbour keeps the tables, so only leaves change. */
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 9 * PAGE_SIZE, PTE_R | PTE_W), 0);
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, NULL);
	KASSERT_EQ(pt_unmap(&s.pt, T_VA + PAGE_SIZE, 8 * PAGE_SIZE, &fl), 0);
	KEXPECT_EQ(fl.n, 8);
	KEXPECT_FALSE(fl.all);
	KEXPECT_EQ(fl.va[7], T_VA + 8 * PAGE_SIZE);
	tlb_flusher_finish(&fl);
	SCRATCH_END(s);
}

KTEST(ch3_tlb, tables_freed_after_flush)
{
	/* Freeing a table changes a non-leaf PTE: full flush, and the frame waits for it. */
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, PTE_R | PTE_W), 0);
	uint64_t mapped = frames_nr_free();
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, NULL);
	struct tlb_stats before = tlb_get_stats();
	KASSERT_EQ(pt_unmap(&s.pt, T_VA, PAGE_SIZE, &fl), 0);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	KEXPECT_TRUE(fl.all);
	KEXPECT_EQ(fl.nr_tables, 2);
	KEXPECT_EQ(frames_nr_free(), mapped); /* not yet */
	tlb_flusher_finish(&fl);
	KEXPECT_EQ(frames_nr_free(), mapped + 2);
	struct tlb_stats after = tlb_get_stats();
	KEXPECT_EQ(after.full_flushes - before.full_flushes, 1);
	KEXPECT_EQ(after.tables_freed - before.tables_freed, 2);
	SCRATCH_END(s);
}

KTEST(ch3_tlb, shootdown_only_other_harts)
{
	/* This hart flushes itself with sfence.vma: the SBI call is for the
	 * others, and with no other hart online there is no call at all. */
	uint64_t calls = harts_online() > 1 ? 1 : 0;
	struct tlb_stats before = tlb_get_stats();
	KEXPECT_EQ(tlb_shootdown(&kernel_as, T_VA, PAGE_SIZE), 0);
	KEXPECT_EQ(tlb_shootdown(&kernel_as, 0, -1UL), 0);
	struct tlb_stats mid = tlb_get_stats();
	KEXPECT_EQ(mid.remote_calls - before.remote_calls, 2 * calls);
	KEXPECT_EQ(mid.remote_full - before.remote_full, calls);
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &kernel_as);
	tlb_flusher_add(&fl, T_VA, PAGE_SIZE);
	tlb_flusher_finish(&fl);
	struct tlb_stats after = tlb_get_stats();
	KEXPECT_EQ(after.page_flushes - mid.page_flushes, 1);
	KEXPECT_EQ(after.remote_calls - mid.remote_calls, calls);
	KEXPECT_EQ(after.remote_full - mid.remote_full, 0);
}

KTEST(ch3_tlb, kernel_map_flushes_only_a_rollback)
{
	KSPACE_REQUIRE();
	/* A gigabyte of the kernel_map() range that nothing uses: its level-1
	 * table is there from boot, and two pages across a 2 MiB boundary take
	 * two level-0 tables. */
	vaddr_t va = KSPACE_VMAP_BASE + 2 * GIGAPAGE_SIZE + MEGAPAGE_SIZE - PAGE_SIZE;
	paddr_t frame = frame_alloc(FRAME_ZERO);
	KASSERT_NE(frame, 0);
	uint64_t free_before = frames_nr_free();
	uint64_t calls = harts_online() > 1 ? 1 : 0;
	/* A new mapping replaces no entry any TLB may hold: no flush anywhere. */
	struct tlb_stats s0 = tlb_get_stats();
	int mapped = kernel_map(va, frame, 2 * PAGE_SIZE, PT_KERNEL_RW);
	struct tlb_stats s1 = tlb_get_stats();
	KEXPECT_EQ(mapped, 0);
	KEXPECT_EQ(s1.remote_calls - s0.remote_calls, 0);
	if (!mapped)
		KEXPECT_EQ(kernel_unmap(va, 2 * PAGE_SIZE), 0);
	KEXPECT_EQ(frames_nr_free(), free_before);
	/* Out of memory at the second table: the map rolls back, unlinking the
	 * first, which a hart may have cached: every other hart flushes all.
	 * (The second page maps the frame after ours: never touched.) */
	pt_inject_alloc_failure(2);
	struct tlb_stats s2 = tlb_get_stats();
	int err = kernel_map(va, frame, 2 * PAGE_SIZE, PT_KERNEL_RW);
	struct tlb_stats s3 = tlb_get_stats();
	pt_inject_alloc_failure(0);
	KEXPECT_EQ(err, -ENOMEM);
	KEXPECT_EQ(s3.remote_calls - s2.remote_calls, calls);
	KEXPECT_EQ(s3.remote_full - s2.remote_full, calls);
	KEXPECT_EQ(frames_nr_free(), free_before);
	KEXPECT_EQ(kernel_unmap(va, PAGE_SIZE), -ENOENT);
	frame_free(frame);
}

/* Map a fresh frame at @va in the kernel space, with a word in it every hart reads. */
static paddr_t map_test_page(vaddr_t va)
{
	paddr_t frame = frame_alloc(FRAME_ZERO);
	if (!frame)
		return 0;
	*(uint64_t *)pa_to_kva(frame) = 0x5eed5eed5eed5eedUL;
	if (kernel_map(va, frame, PAGE_SIZE, PT_KERNEL_RW)) {
		frame_free(frame);
		return 0;
	}
	return frame;
}

KTEST(ch3_tlb, shootdown_on_unmap)
{
	KSPACE_REQUIRE();
	KTEST_REQUIRE_HARTS(2);
	vaddr_t va = KSPACE_VMAP_BASE + 16 * PAGE_SIZE;
	paddr_t frame = map_test_page(va);
	KASSERT_NE(frame, 0);
	/* Every hart reads it: the translation is now in every TLB. */
	struct hart_probes p = {.addr = (void *)va};
	on_each_hart(hart_probe, &p);
	uint64_t online = harts_online_mask();
	for (int h = 0; h < MAX_HARTS; h++) {
		if (online & (1UL << h)) {
			KEXPECT_EQ(p.err[h], 0);
			KEXPECT_EQ(p.value[h], 0x5eed5eed5eed5eedUL);
		}
	}
	struct tlb_stats before = tlb_get_stats();
	KEXPECT_EQ(kernel_unmap(va, PAGE_SIZE), 0);
	KEXPECT_GT(tlb_get_stats().remote_calls, before.remote_calls);
	/* Every hart must now fault: no stale entry may survive. */
	on_each_hart(hart_probe, &p);
	for (int h = 0; h < MAX_HARTS; h++) {
		if (online & (1UL << h)) {
			KEXPECT_EQ(p.err[h], -EFAULT);
			KEXPECT_EQ(p.fault[h].scause, CAUSE_LOAD_PAGE_FAULT);
			KEXPECT_EQ(p.fault[h].stval, va);
		}
	}
	frame_free(frame);
}

KTEST(ch3_tlb, shootdown_on_downgrade)
{
	KSPACE_REQUIRE();
	KTEST_REQUIRE_HARTS(2);
	vaddr_t va = KSPACE_VMAP_BASE + 32 * PAGE_SIZE;
	paddr_t frame = map_test_page(va);
	KASSERT_NE(frame, 0);
	/* Every hart writes it: a writable translation in every TLB. */
	struct hart_probes p = {.addr = (void *)va, .write = true};
	on_each_hart(hart_probe, &p);
	uint64_t online = harts_online_mask();
	for (int h = 0; h < MAX_HARTS; h++)
		if (online & (1UL << h))
			KEXPECT_EQ(p.err[h], 0);
	KEXPECT_EQ(kernel_protect(va, PAGE_SIZE, PT_KERNEL_RO), 0);
	on_each_hart(hart_probe, &p);
	for (int h = 0; h < MAX_HARTS; h++) {
		if (online & (1UL << h)) {
			KEXPECT_EQ(p.err[h], -EFAULT);
			KEXPECT_EQ(p.fault[h].scause, CAUSE_STORE_PAGE_FAULT);
			KEXPECT_EQ(p.fault[h].stval, va);
		}
	}
	/* Reads still work everywhere. */
	p.write = false;
	on_each_hart(hart_probe, &p);
	for (int h = 0; h < MAX_HARTS; h++)
		if (online & (1UL << h))
			KEXPECT_EQ(p.err[h], 0);
	KEXPECT_EQ(kernel_unmap(va, PAGE_SIZE), 0);
	frame_free(frame);
}

/* on_each_hart() work: the harts in @mask switch to @as (and read @va there if set). */
struct switch_work {
	struct addr_space *as;
	uint64_t mask;
	vaddr_t va;
	struct hart_probes probes;
};

static void switch_some(void *arg, int hart)
{
	struct switch_work *w = arg;
	if (!(w->mask & (1UL << hart)))
		return;
	w->probes.err[hart] = addr_space_activate(w->as);
	if (!w->probes.err[hart] && w->va) {
		w->probes.addr = (void *)w->va;
		hart_probe(&w->probes, hart);
	}
}

/* Lowest online hart other than this one, or -1. */
static int other_hart(void)
{
	uint64_t others = harts_online_mask() & ~(1UL << cpuid());
	return others ? __builtin_ctzl(others) : -1;
}

/* Remote fences hart @hart was sent between @a and @b. */
static uint64_t fences_to(struct tlb_stats a, struct tlb_stats b, int hart)
{
	return b.remote_fences[hart] - a.remote_fences[hart];
}

KTEST(ch3_tlb, addr_space_mask_follows_satp)
{
	KSPACE_REQUIRE();
	uint64_t me = 1UL << cpuid();
	KEXPECT_TRUE(addr_space_current() == &kernel_as);
	KEXPECT_EQ(kernel_as.harts, harts_online_mask()); /* every hart switched at boot */
	struct addr_space as;
	uint64_t free_before = frames_nr_free();
	KASSERT_EQ(addr_space_init(&as), 0);
	KEXPECT_EQ(as.harts, 0);
	KEXPECT_EQ(as.pt.kernel_half, PT_HALF_SHARED);
	KEXPECT_EQ(kspace_check_kernel_half(&as.pt), 0);
	/* In the mask from activation on; out of the old space's mask. */
	KASSERT_EQ(addr_space_activate(&as), 0);
	KEXPECT_EQ(csr_read(satp), satp_sv39(as.pt.root));
	KEXPECT_TRUE(addr_space_current() == &as);
	KEXPECT_EQ(as.harts, me);
	KEXPECT_EQ(kernel_as.harts & me, 0);
	KEXPECT_EQ(addr_space_destroy(&as), -EBUSY); /* still in use */
	KEXPECT_EQ(addr_space_activate(&kernel_as), 0);
	KEXPECT_EQ(csr_read(satp), kspace_satp());
	KEXPECT_EQ(as.harts, 0);
	KEXPECT_EQ(kernel_as.harts & me, me);
	KEXPECT_EQ(addr_space_destroy(&kernel_as), -EBUSY);
	KEXPECT_EQ(addr_space_destroy(&as), 0);
	KEXPECT_EQ(frames_nr_free(), free_before);
	/* A page table without the kernel half cannot be run. */
	struct addr_space bare = {.harts = 0};
	KASSERT_EQ(pt_init(&bare.pt), 0);
	KEXPECT_EQ(addr_space_activate(&bare), -EINVAL);
	KEXPECT_EQ(bare.harts, 0);
	pt_destroy(&bare.pt);
}

KTEST(ch3_tlb, shootdown_space_on_one_hart)
{
	/* A space only this hart runs: its changes interrupt no other hart. */
	KSPACE_REQUIRE();
	struct addr_space as;
	KASSERT_EQ(addr_space_init(&as), 0);
	paddr_t frame = frame_alloc(FRAME_ZERO);
	KASSERT_NE(frame, 0);
	KASSERT_EQ(pt_map(&as.pt, T_VA, frame, PAGE_SIZE, PTE_R | PTE_W), 0);
	KASSERT_EQ(addr_space_activate(&as), 0);
	uint64_t v = 1;
	KEXPECT_EQ(probe_read64((void *)T_VA, &v), 0); /* reachable, and now in this TLB */
	KEXPECT_EQ(v, 0);
	struct tlb_stats before = tlb_get_stats();
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &as);
	KEXPECT_EQ(pt_unmap(&as.pt, T_VA, PAGE_SIZE, &fl), 0);
	tlb_flusher_finish(&fl);
	KEXPECT_EQ(tlb_shootdown(&as, T_VA, PAGE_SIZE), 0);
	struct tlb_stats after = tlb_get_stats();
	KEXPECT_EQ(probe_read64((void *)T_VA, &v), -EFAULT); /* flushed here */
	KEXPECT_EQ(addr_space_activate(&kernel_as), 0);
	KEXPECT_EQ(after.remote_calls - before.remote_calls, 0);
	for (int h = 0; h < MAX_HARTS; h++)
		KEXPECT_EQ(fences_to(before, after, h), 0);
	KEXPECT_EQ(after.full_flushes - before.full_flushes, 1); /* its tables went */
	KEXPECT_EQ(addr_space_destroy(&as), 0);
	frame_free(frame);
}

KTEST(ch3_tlb, shootdown_space_on_two_harts)
{
	/* A space two harts run: a change reaches exactly the other one. */
	KSPACE_REQUIRE();
	KTEST_REQUIRE_HARTS(2);
	int other = other_hart();
	uint64_t both = 1UL << cpuid() | 1UL << other;
	static struct switch_work w;
	struct addr_space as;
	KASSERT_EQ(addr_space_init(&as), 0);
	paddr_t frame = frame_alloc(FRAME_ZERO);
	KASSERT_NE(frame, 0);
	*(uint64_t *)pa_to_kva(frame) = 0x5eed5eed5eed5eedUL;
	/* Two pages, so that unmapping one frees no table: a page flush. */
	KASSERT_EQ(pt_map(&as.pt, T_VA, frame, 2 * PAGE_SIZE, PTE_R | PTE_W), 0);
	w = (struct switch_work){.as = &as, .mask = both, .va = T_VA};
	on_each_hart(switch_some, &w); /* both read T_VA: in both TLBs */
	KEXPECT_EQ(as.harts, both);
	KEXPECT_EQ(w.probes.err[other], 0);
	KEXPECT_EQ(w.probes.value[other], 0x5eed5eed5eed5eedUL);
	struct tlb_stats before = tlb_get_stats();
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &as);
	KEXPECT_EQ(pt_unmap(&as.pt, T_VA, PAGE_SIZE, &fl), 0);
	tlb_flusher_finish(&fl);
	struct tlb_stats after = tlb_get_stats();
	KEXPECT_EQ(after.remote_calls - before.remote_calls, 1);
	KEXPECT_EQ(after.remote_full - before.remote_full, 0);
	for (int h = 0; h < MAX_HARTS; h++)
		KEXPECT_EQ(fences_to(before, after, h), h == other ? 1 : 0);
	/* ... and it did flush there: the other hart faults now. */
	on_each_hart(switch_some, &w);
	KEXPECT_EQ(w.probes.err[other], -EFAULT);
	KEXPECT_EQ(w.probes.fault[other].scause, CAUSE_LOAD_PAGE_FAULT);
	w = (struct switch_work){.as = &kernel_as, .mask = both};
	on_each_hart(switch_some, &w);
	KEXPECT_EQ(as.harts, 0);
	KEXPECT_EQ(addr_space_destroy(&as), 0);
	frame_free(frame);
}

KTEST(ch3_tlb, shootdown_kernel_space_all_harts)
{
	/* Kernel mappings are global: every other online hart is fenced, also
	 * one that runs a user address space. */
	KSPACE_REQUIRE();
	static struct switch_work w;
	struct addr_space as;
	KASSERT_EQ(addr_space_init(&as), 0);
	int other = other_hart();
	if (other >= 0) {
		w = (struct switch_work){.as = &as, .mask = 1UL << other};
		on_each_hart(switch_some, &w);
		KEXPECT_EQ(as.harts, 1UL << other);
		KEXPECT_EQ(kernel_as.harts & (1UL << other), 0);
	}
	struct tlb_stats before = tlb_get_stats();
	KEXPECT_EQ(tlb_shootdown(&kernel_as, KSPACE_VMAP_BASE, PAGE_SIZE), 0);
	struct tlb_stats after = tlb_get_stats();
	uint64_t others = harts_online_mask() & ~(1UL << cpuid());
	KEXPECT_EQ(after.remote_calls - before.remote_calls, others ? 1 : 0);
	for (int h = 0; h < MAX_HARTS; h++)
		KEXPECT_EQ(fences_to(before, after, h), others >> h & 1);
	if (other >= 0) {
		w = (struct switch_work){.as = &kernel_as, .mask = 1UL << other};
		on_each_hart(switch_some, &w);
	}
	KEXPECT_EQ(addr_space_destroy(&as), 0);
}
