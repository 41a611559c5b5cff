/*
 * ch5.shm: the System V segment table at the kernel level, where a user
 * test cannot look: ids given out as Linux's ipc_idr_alloc does (a cycle
 * over 64 slots, the sequence number stepping on the wrap), the SHMMNI
 * limit, lookups by key, and that a segment marked for removal leaves the
 * table with its last attachment (by shmdt, or by the address space
 * going, as at exit) and gives every frame back; and that the runner's
 * clean-up after a suite (shm_destroy_orphaned()) takes only unattached ones.
 */
#include "../../ch4/tests/mm_test.h"
#include "mman.h"
#include "shm.h"

#define SLOT(id) ((id) & ((1 << SHM_ID_SHIFT) - 1))
#define SEQ(id)	 ((id) >> SHM_ID_SHIFT)

KTEST(ch5_shm, ids_cycle_over_64_slots_then_the_sequence_steps)
{
	uint64_t before = free_frames_settled();
	int n0 = shm_nr_segments();
	KASSERT_LE(n0, 40); /* the cycle is 64 slots while fewer than 43 are used */
	long first = shm_get(IPC_PRIVATE, 1, 0600);
	KASSERT_GE(first, 0);
	KEXPECT_EQ(shm_rmid((int)first), 0);
	long id = first;
	int wrapped_at = -1;
	for (int i = 1; i <= SHM_MIN_CYCLE && wrapped_at < 0; i++) {
		long next = shm_get(IPC_PRIVATE, 1, 0600);
		KASSERT_GE(next, 0);
		KEXPECT_EQ(shm_rmid((int)next), 0);
		if (SLOT(next) < SLOT(id)) { /* wrapped: the sequence moves on */
			KEXPECT_EQ(SEQ(next), (SEQ(id) + 1) % SHM_SEQ_MAX);
			wrapped_at = i;
		} else {
			KEXPECT_EQ(SLOT(next), SLOT(id) + 1); /* the next slot, not the freed one */
			KEXPECT_EQ(SEQ(next), SEQ(id));
		}
		id = next;
	}
	KEXPECT_GT(wrapped_at, 0); /* within one cycle */
	struct shmid64_ds ds;
	KEXPECT_EQ(shm_stat((int)first, &ds), -EINVAL); /* stale */
	KEXPECT_EQ(shm_nr_segments(), n0);
	KEXPECT_EQ(free_frames_settled(), before);
}

KTEST(ch5_shm, at_most_shmmni_segments)
{
	uint64_t before = free_frames_settled();
	int n0 = shm_nr_segments();
	static int ids[SHMMNI];
	int n = 0;
	long r;
	while ((r = shm_get(IPC_PRIVATE, PAGE_SIZE, 0600)) >= 0 && n < SHMMNI)
		ids[n++] = (int)r;
	KEXPECT_EQ(r, -ENOSPC);
	KEXPECT_EQ(n + n0, SHMMNI);
	KEXPECT_EQ(shm_nr_segments(), SHMMNI);
	KEXPECT_EQ(shm_total_pages() >= (unsigned long)n, true);
	/* Every id is distinct and names its own segment. */
	struct shmid64_ds ds;
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += shm_stat(ids[i], &ds) != 0 || SLOT(ids[i]) >= SHM_SLOTS;
	KEXPECT_EQ(bad, 0);
	for (int i = 0; i < n; i++)
		bad += shm_rmid(ids[i]) != 0;
	KEXPECT_EQ(bad, 0);
	KEXPECT_EQ(shm_nr_segments(), n0);
	KEXPECT_EQ(free_frames_settled(), before);
}

KTEST(ch5_shm, keys_find_their_segment_and_private_never)
{
	uint64_t before = free_frames_settled();
	long a = shm_get(0x1234, PAGE_SIZE, IPC_CREAT | 0600);
	long b = shm_get(0x5678, PAGE_SIZE, IPC_CREAT | 0600);
	long p = shm_get(IPC_PRIVATE, PAGE_SIZE, 0600);
	KASSERT_GE(a, 0);
	KASSERT_GE(b, 0);
	KASSERT_GE(p, 0);
	KEXPECT_NE(a, b);
	KEXPECT_EQ(shm_get(0x1234, 0, 0), a);
	KEXPECT_EQ(shm_get(0x5678, 0, 0), b);
	long q = shm_get(IPC_PRIVATE, PAGE_SIZE, 0600); /* always a new one */
	KASSERT_GE(q, 0);
	KEXPECT_NE(q, p);
	KEXPECT_EQ(shm_nr_segments() >= 4, true);
	KEXPECT_EQ(shm_rmid((int)a), 0);
	KEXPECT_EQ(shm_get(0x1234, 0, 0), -ENOENT);
	KEXPECT_EQ(shm_get(0x5678, 0, 0), b); /* the other stays */
	KEXPECT_EQ(shm_rmid((int)b), 0);
	KEXPECT_EQ(shm_rmid((int)p), 0);
	KEXPECT_EQ(shm_rmid((int)q), 0);
	KEXPECT_EQ(free_frames_settled(), before);
}

/* Attach @id in @mm at UP(0) and dirty @pages pages through the page table. */
static long attach_and_touch(struct mm *mm, int id, int pages)
{
	long r = shm_attach(mm, id, UP(0), 0);
	for (int i = 0; r == (long)UP(0) && i < pages; i++)
		if (mm_fault(mm, UP(i), ACCESS_WRITE) != FAULT_RESOLVED ||
		    !poke(mm, UP(i), (unsigned char)(i + 1)))
			return -1;
	return r;
}

KTEST(ch5_shm, a_marked_segment_goes_with_its_last_shmdt)
{
	MM_BEGIN_LAZY(mm, before);
	int n0 = shm_nr_segments();
	long id = shm_get(IPC_PRIVATE, 4 * PAGE_SIZE, 0600);
	KASSERT_GE(id, 0);
	KASSERT_EQ(attach_and_touch(mm, (int)id, 4), (long)UP(0));
	struct shmid64_ds ds;
	KEXPECT_EQ(shm_stat((int)id, &ds), 0);
	KEXPECT_EQ(ds.shm_nattch, 1);
	KEXPECT_EQ(shm_rmid((int)id), 0);
	KEXPECT_EQ(shm_nr_segments(), n0 + 1); /* attached: it stays */
	KEXPECT_EQ(shm_stat((int)id, &ds), 0);
	KEXPECT_EQ(ds.shm_perm.mode, 0600 | SHM_DEST);
	KEXPECT_EQ(peek(mm, UP(3)), 4);
	uint64_t attached = free_frames_settled();
	KEXPECT_EQ(shm_detach(mm, UP(0)), 0);
	KEXPECT_EQ(shm_nr_segments(), n0);
	KEXPECT_EQ(shm_stat((int)id, &ds), -EINVAL);
	KEXPECT_GE(free_frames_settled(), attached + 4); /* its pages went with it */
	KEXPECT_EQ(shm_detach(mm, UP(0)), -EINVAL);
	MM_END(mm, before);
}

KTEST(ch5_shm, a_marked_segment_goes_with_the_address_space)
{
	MM_BEGIN_LAZY(mm, before);
	int n0 = shm_nr_segments();
	long id = shm_get(IPC_PRIVATE, 3 * PAGE_SIZE, 0600);
	KASSERT_GE(id, 0);
	KASSERT_EQ(attach_and_touch(mm, (int)id, 3), (long)UP(0));
	/* A second mm made by fork counts as an attachment of its own. */
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	struct shmid64_ds ds;
	KEXPECT_EQ(shm_stat((int)id, &ds), 0);
	KEXPECT_EQ(ds.shm_nattch, 2);
	KEXPECT_EQ(peek(child, UP(2)) == 3 || peek(child, UP(2)) == -1,
		   true); /* shared, maybe not yet mapped */
	KEXPECT_EQ(shm_rmid((int)id), 0);
	mm_put(child); /* exit of one: the other keeps it */
	KEXPECT_EQ(shm_stat((int)id, &ds), 0);
	KEXPECT_EQ(ds.shm_nattch, 1);
	KEXPECT_EQ(shm_nr_segments(), n0 + 1);
	MM_END(mm, before); /* the last: table, pages and all */
	KEXPECT_EQ(shm_nr_segments(), n0);
	KEXPECT_EQ(shm_stat((int)id, &ds), -EINVAL);
}

KTEST(ch5_shm, orphans_go_with_the_runners_clean_up_and_attached_ones_stay)
{
	MM_BEGIN_LAZY(mm, before);
	long kept = shm_get(IPC_PRIVATE, 2 * PAGE_SIZE, 0600);
	long orphan = shm_get(0x4f525048, PAGE_SIZE, IPC_CREAT | 0600);
	KASSERT_GE(kept, 0);
	KASSERT_GE(orphan, 0);
	KASSERT_EQ(attach_and_touch(mm, (int)kept, 2), (long)UP(0));
	int n0 = shm_nr_segments();
	int removed = shm_destroy_orphaned();
	KEXPECT_GE(removed, 1); /* the orphan, and any an earlier test left */
	KEXPECT_EQ(shm_nr_segments(), n0 - removed);
	struct shmid64_ds ds;
	KEXPECT_EQ(shm_stat((int)orphan, &ds), -EINVAL);
	KEXPECT_EQ(shm_get(0x4f525048, 0, 0), -ENOENT); /* its key is free */
	KEXPECT_EQ(shm_stat((int)kept, &ds), 0);	/* attached: it stays */
	KEXPECT_EQ(peek(mm, UP(1)), 2);
	KEXPECT_EQ(shm_destroy_orphaned(), 0);
	KEXPECT_EQ(shm_rmid((int)kept), 0);
	MM_END(mm, before); /* the last attachment takes it */
	KEXPECT_EQ(shm_stat((int)kept, &ds), -EINVAL);
}
