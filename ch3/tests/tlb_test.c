/*
 * ch3.tlb: the flusher batches page flushes and falls back to a full flush;
 * removing or downgrading a kernel mapping reaches every hart's TLB.
 */
#include "ch3_test.h"

KTEST(ch3_tlb, flusher_batches_pages)
{
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, false);
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
	tlb_flusher_init(&fl, false);
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
	tlb_flusher_init(&fl, false);
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
	tlb_flusher_init(&fl, false);
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
	KEXPECT_EQ(tlb_shootdown(T_VA, PAGE_SIZE), 0);
	KEXPECT_EQ(tlb_shootdown(0, -1UL), 0);
	struct tlb_stats mid = tlb_get_stats();
	KEXPECT_EQ(mid.remote_calls - before.remote_calls, 2 * calls);
	KEXPECT_EQ(mid.remote_full - before.remote_full, calls);
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, true);
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
	/* A gigabyte of the kernel_map() range that nothing uses: a page there takes 2 tables. */
	vaddr_t va = KSPACE_VMAP_BASE + 2 * GIGAPAGE_SIZE;
	paddr_t frame = frame_alloc(FRAME_ZERO);
	KASSERT_NE(frame, 0);
	uint64_t free_before = frames_nr_free();
	uint64_t calls = harts_online() > 1 ? 1 : 0;
	/* A new mapping replaces no entry any TLB may hold: no flush anywhere. */
	struct tlb_stats s0 = tlb_get_stats();
	int mapped = kernel_map(va, frame, PAGE_SIZE, PT_KERNEL_RW);
	struct tlb_stats s1 = tlb_get_stats();
	KEXPECT_EQ(mapped, 0);
	KEXPECT_EQ(s1.remote_calls - s0.remote_calls, 0);
	if (!mapped)
		KEXPECT_EQ(kernel_unmap(va, PAGE_SIZE), 0);
	KEXPECT_EQ(frames_nr_free(), free_before);
	/* Out of memory at the second table: the map rolls back, unlinking the
	 * first, which a hart may have cached: every other hart flushes all. */
	pt_inject_alloc_failure(2);
	struct tlb_stats s2 = tlb_get_stats();
	int err = kernel_map(va, frame, PAGE_SIZE, PT_KERNEL_RW);
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
