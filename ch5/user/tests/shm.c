/*
 * ch5.user.shm: System V shared memory as Linux gives it. A segment is
 * shared between parent and child both ways and between two unrelated
 * (exec'd) processes that find it by key; IPC_STAT's attach count follows
 * shmat, fork, munmap splits and shmdt; IPC_RMID keeps the memory while it
 * is attached, hides the key at once and frees the pages with the last
 * detach; SHM_RDONLY attachments fault on a store; ids of removed segments
 * stay invalid; every error is Linux's. Each expectation was checked on a
 * Linux host (x86_64, whose struct shmid_ds has riscv64's layout).
 * Every test removes the segments it made, on every path (see SEGMENT):
 * the runner counts the frames.
 */
#include "shm.h"
#include "utest5.h"

KTAP_SUITE("ch5.user.shm");

/* Keys of this suite's segments (any value but IPC_PRIVATE). */
#define KEY_A	  0x6d6d6c01
#define KEY_B	  0x6d6d6c02
#define KEY_PEERS 0x6d6d6c03

/* Poll a shared long until it holds @want (the other process writes it). */
static bool wait_value(volatile long *p, long want)
{
	for (long i = 0; i < 2000000; i++) {
		if (*p == want)
			return true;
		if (i % 64 == 0)
			sched_yield();
	}
	return *p == want;
}

/* The attach count of @id (-1 if IPC_STAT fails). */
static long nattch(int id)
{
	struct shmid_ds ds;
	return shmctl(id, IPC_STAT, &ds) ? -1 : (long)ds.shm_nattch;
}

/*
 * A segment outlives its process (Linux keeps it until IPC_RMID), so one a
 * failed test leaves behind would be found by the next (KEY_A, say) and
 * fail it too. SEGMENT declares a segment id that is removed when the
 * test returns by any path, an ASSERT's early return too, as Linux's
 * __free() (include/linux/cleanup.h) does with GCC's cleanup attribute.
 * After the test's own IPC_RMID the id is stale and the removal is -EINVAL.
 * (What a killed program leaves, the runner removes: shm_destroy_orphaned().)
 */
static void remove_segment(const int *id)
{
	if (*id >= 0)
		(void)sys_shmctl(*id, IPC_RMID, NULL);
}
#define SEGMENT __attribute__((cleanup(remove_segment))) int

/* shmat at a place of the kernel's choosing; NULL if it failed. */
static char *attach(int id, int flags)
{
	long r = sys_shmat(id, NULL, flags);
	return mm_err(r) ? NULL : AS_PTR(r);
}

TEST(an_id_of_a_removed_segment_stays_invalid)
{
	/* Slots are reused as Linux does (cyclically, the sequence number
	 * stepping on each wrap): no id is given twice in 200 segments.
	 * This test runs first because it touches no shared page: before
	 * exercise 10 (file_fault) a test's first touch is a SIGBUS that
	 * ends the program, and the tests after it never run. */
	static int ids[200];
	int n = 0;
	for (; n < 200; n++) {
		ids[n] = shmget(IPC_PRIVATE, 1, 0600);
		if (ids[n] < 0 || shmctl(ids[n], IPC_RMID, NULL))
			break;
	}
	EXPECT_EQ(n, 200);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(sys_shmat(ids[i], NULL, 0), -EINVAL);
		for (int j = 0; j < i; j++)
			if (ids[j] == ids[i])
				EXPECT_NE(ids[j], ids[i]);
	}
	EXPECT_GT(ids[n - 1] >> 15, ids[0] >> 15); /* the sequence moved on */
}

TEST(parent_and_child_share_a_segment_both_ways)
{
	SEGMENT id = shmget(IPC_PRIVATE, PAGES(2), IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	volatile long *p = (volatile long *)attach(id, 0);
	ASSERT_TRUE(p != NULL);
	EXPECT_TRUE(page_zero((const char *)p, 0) && page_zero((const char *)p, 1)); /* new memory is zero */
	p[0] = 11;
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		bool ok = wait_value(&p[1], 22); /* the parent writes after the fork */
		ok &= p[0] == 11;
		p[2] = 33;
		p[PAGE_SIZE / sizeof(long)] = 44; /* a page nobody touched before */
		/* A second attachment of the child's own sees the same bytes. */
		volatile long *q = (volatile long *)attach(id, 0);
		ok &= q != NULL && q != p && q[1] == 22;
		if (q) {
			q[3] = 55;
			ok &= p[3] == 55 && shmdt((void *)q) == 0;
		}
		_exit(ok ? 0 : 1);
	}
	p[1] = 22;
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(p[2], 33);
	EXPECT_EQ(p[3], 55);
	EXPECT_EQ(p[PAGE_SIZE / sizeof(long)], 44);
	EXPECT_EQ(shmdt((void *)p), 0);
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(unrelated_processes_share_a_segment_found_by_key)
{
	/* Two exec'd programs, nothing inherited but the key's number. */
	EXPECT_EQ(sys_shmget(KEY_PEERS, 0, 0), -ENOENT);
	char key[16];
	snprintf(key, sizeof(key), "%d", KEY_PEERS);
	pid_t pids[2];
	const char *roles[2] = {"reader", "writer"};
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			char *const argv[] = {"shmpeer", (char *)roles[i], key, NULL};
			char *const envp[] = {NULL};
			execve("shmpeer", argv, envp);
			_exit(127);
		}
	}
	for (int i = 0; i < 2; i++) {
		int status = -1;
		EXPECT_EQ(waitpid(pids[i], &status, 0), pids[i]);
		EXPECT_EQ(status, 0); /* exit codes: shmpeer.c */
	}
	/* The writer made it; both detached (and exited). */
	SEGMENT id = shmget(KEY_PEERS, 0, 0);
	ASSERT_GE(id, 0);
	EXPECT_EQ(nattch(id), 0);
	volatile long *p = (volatile long *)attach(id, SHM_RDONLY);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(p[1], 0x414e53574552L); /* the reader's answer */
	EXPECT_EQ(shmdt((void *)p), 0);
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(ipc_stat_reports_the_segment)
{
	SEGMENT id = shmget(KEY_A, 5000, IPC_CREAT | IPC_EXCL | 0640);
	ASSERT_GE(id, 0);
	struct shmid_ds ds;
	memset(&ds, 0xff, sizeof(ds));
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.__key, KEY_A);
	EXPECT_EQ(ds.shm_perm.mode, 0640);
	EXPECT_EQ(ds.shm_perm.__seq, (unsigned)id >> 15);
	EXPECT_EQ(ds.shm_segsz, 5000); /* as asked, not rounded */
	EXPECT_EQ(ds.shm_cpid, getpid());
	EXPECT_EQ(ds.shm_lpid, 0); /* no shmat yet */
	EXPECT_EQ(ds.shm_nattch, 0);
	/* IPC_SET takes the permission bits. */
	ds.shm_perm.mode = 0604 | SHM_DEST; /* not a permission bit: ignored */
	EXPECT_EQ(shmctl(id, IPC_SET, &ds), 0);
	EXPECT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.mode, 0604);
	/* 5000 bytes: two pages mapped, nothing after them. */
	ASSERT_EQ(clear_free_range(), 0);
	ASSERT_EQ(sys_shmat(id, (void *)FREE_ADDR, 0), (long)FREE_ADDR); /* written below */
	char *p = (char *)FREE_ADDR;
	EXPECT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_lpid, getpid());
	EXPECT_EQ(ds.shm_nattch, 1);
	p[PAGE_SIZE + 1000] = 7;
	EXPECT_EQ(p[PAGE_SIZE + 1000], 7);
	EXPECT_READ_FAULTS(p + PAGES(2), 1);
	/* The probe's child attached by fork and detached by exiting: the
	 * last operator is the child now (Linux's shm_close sets it). */
	EXPECT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_NE(ds.shm_lpid, getpid());
	EXPECT_GT(ds.shm_lpid, 0);
	EXPECT_EQ(ds.shm_nattch, 1);
	EXPECT_EQ(shmdt(p), 0);
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(nattch_counts_attaches_forks_and_detaches)
{
	SEGMENT id = shmget(IPC_PRIVATE, PAGES(3), 0600);
	ASSERT_GE(id, 0);
	EXPECT_EQ(nattch(id), 0);
	char *a = attach(id, 0);
	ASSERT_TRUE(a != NULL);
	EXPECT_EQ(nattch(id), 1);
	char *b = attach(id, SHM_RDONLY);
	ASSERT_TRUE(b != NULL);
	EXPECT_EQ(nattch(id), 2);
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;
		bool ok = nattch(id) == 4; /* the child's copies of both */
		ok &= shmdt(b) == 0 && nattch(id) == 3;
		read(go[0], &c, 1);
		_exit(ok ? 0 : 1);
	}
	(void)write(go[1], "x", 1);
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(nattch(id), 2); /* the child's exit took its attachment */
	/* munmap of a middle page splits an attachment: two areas, two
	 * attaches (Linux counts vma_open on the split). */
	EXPECT_EQ(munmap(a + PAGE_SIZE, PAGE_SIZE), 0);
	EXPECT_EQ(nattch(id), 3);
	EXPECT_EQ(shmdt(a), 0); /* takes both pieces */
	EXPECT_EQ(areas_in((unsigned long)a, (unsigned long)a + PAGES(3)), 0);
	EXPECT_EQ(nattch(id), 1);
	EXPECT_EQ(shmdt(b), 0);
	EXPECT_EQ(nattch(id), 0);
	close(go[0]);
	close(go[1]);
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(shmdt_finds_an_attachment_whose_first_page_is_gone)
{
	/* Linux's shmdt takes the first shm area at or above addr whose
	 * offset is its distance from addr: a piece left by munmap. */
	SEGMENT id = shmget(IPC_PRIVATE, PAGES(3), 0600);
	ASSERT_GE(id, 0);
	char *a = attach(id, 0);
	ASSERT_TRUE(a != NULL);
	EXPECT_EQ(munmap(a, PAGE_SIZE), 0);
	EXPECT_EQ(nattch(id), 1);
	EXPECT_EQ(shmdt(a), 0);
	EXPECT_EQ(nattch(id), 0);
	EXPECT_EQ(areas_in((unsigned long)a, (unsigned long)a + PAGES(3)), 0);
	EXPECT_EQ(sys_shmdt(a), -EINVAL); /* nothing left there */
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(rmid_keeps_the_memory_until_the_last_detach)
{
	const unsigned long n = 16;
	SEGMENT id = shmget(KEY_B, PAGES(n), IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	char *p = attach(id, 0);
	ASSERT_TRUE(p != NULL);
	for (unsigned long i = 0; i < n; i++)
		fill_page(p, i, 0x51);
	long before = mmlab_free_frames();
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
	struct shmid_ds ds;
	EXPECT_EQ(shmctl(id, IPC_STAT, &ds), 0); /* the id lives on while attached */
	EXPECT_EQ(ds.shm_perm.mode, 0600 | SHM_DEST);
	EXPECT_EQ(ds.shm_perm.__key, 0); /* IPC_PRIVATE: its key is free */
	EXPECT_EQ(ds.shm_nattch, 1);
	EXPECT_EQ(sys_shmget(KEY_B, 0, 0), -ENOENT);
	for (unsigned long i = 0; i < n; i++)
		EXPECT_TRUE(page_has(p, i, 0x51));
	EXPECT_LT(mmlab_free_frames() - before, (long)n); /* nothing freed */
	/* The key makes a different segment now. */
	SEGMENT id2 = shmget(KEY_B, PAGES(1), IPC_CREAT | IPC_EXCL | 0600);
	EXPECT_GE(id2, 0);
	EXPECT_NE(id2, id);
	/* Linux lets a marked segment be attached while it is attached. */
	char *q = attach(id, 0);
	EXPECT_TRUE(q != NULL && page_has(q, 3, 0x51));
	EXPECT_EQ(nattch(id), 2);
	if (q)
		EXPECT_EQ(shmdt(q), 0);
	EXPECT_EQ(nattch(id), 1);
	before = mmlab_free_frames();
	EXPECT_EQ(shmdt(p), 0); /* the last: the segment goes with it */
	EXPECT_GE(mmlab_free_frames() - before, (long)n);
	EXPECT_EQ(sys_shmctl(id, IPC_STAT, &ds), -EINVAL);
	EXPECT_EQ(sys_shmat(id, NULL, 0), -EINVAL);
	EXPECT_EQ(sys_shmctl(id, IPC_RMID, NULL), -EINVAL);
	if (id2 >= 0)
		EXPECT_EQ(shmctl(id2, IPC_RMID, NULL), 0);
}

TEST(rmid_without_attachments_removes_at_once)
{
	SEGMENT id = shmget(IPC_PRIVATE, PAGES(4), 0600);
	ASSERT_GE(id, 0);
	char *p = attach(id, 0);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < 4; i++)
		fill_page(p, i, 9);
	EXPECT_EQ(shmdt(p), 0);
	long before = mmlab_free_frames();
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
	EXPECT_GE(mmlab_free_frames() - before, 4);
	EXPECT_EQ(sys_shmctl(id, IPC_STAT, &(struct shmid_ds){0}), -EINVAL);
}

TEST(shm_rdonly_store_kills_with_sigsegv)
{
	SEGMENT id = shmget(IPC_PRIVATE, PAGE_SIZE, 0600);
	ASSERT_GE(id, 0);
	char *w = attach(id, 0);
	char *r = attach(id, SHM_RDONLY);
	ASSERT_TRUE(w != NULL && r != NULL);
	w[100] = 42;
	EXPECT_EQ(r[100], 42);
	EXPECT_STREQ(perms_at(r), "r--s");
	EXPECT_READ_FAULTS(r, 0);
	EXPECT_WRITE_FAULTS(r, 1);
	EXPECT_WRITE_FAULTS(w, 0);
	/* Not open for writing: mprotect cannot make it writable (Linux: EACCES). */
	EXPECT_EQ(sys_mprotect(r, PAGE_SIZE, PROT_READ | PROT_WRITE), -EACCES);
	EXPECT_EQ(shmdt(r), 0);
	EXPECT_EQ(shmdt(w), 0);
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(shmat_places_where_asked)
{
	SEGMENT id = shmget(IPC_PRIVATE, PAGES(2), 0600);
	ASSERT_GE(id, 0);
	ASSERT_EQ(clear_free_range(), 0);
	unsigned long at = FREE_ADDR + PAGES(16);
	EXPECT_EQ(sys_shmat(id, (void *)(at + 123), 0), -EINVAL);	 /* unaligned */
	EXPECT_EQ(sys_shmat(id, (void *)(at + 123), SHM_RND), (long)at); /* rounded down */
	EXPECT_EQ(sys_shmat(id, (void *)(at + PAGE_SIZE), 0), -EINVAL);	 /* over an area */
	EXPECT_EQ(sys_shmat(id, (void *)(at + PAGE_SIZE), SHM_REMAP), (long)(at + PAGE_SIZE));
	EXPECT_EQ(sys_shmat(id, NULL, SHM_REMAP), -EINVAL);		     /* REMAP needs an address */
	EXPECT_EQ(sys_shmat(id, (void *)123, SHM_RND | SHM_REMAP), -EINVAL); /* rounds to 0 */
	EXPECT_EQ(nattch(id), 2); /* the first lost a page to the second: still one area */
	EXPECT_EQ(shmdt((void *)(at + PAGE_SIZE)), 0);
	EXPECT_EQ(shmdt((void *)at), 0);
	EXPECT_EQ(nattch(id), 0);
	EXPECT_EQ(areas_in(at, at + PAGES(3)), 0);
	EXPECT_EQ(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(errors_are_linuxs)
{
	struct shmid_ds ds;
	/* shmget */
	EXPECT_EQ(sys_shmget(IPC_PRIVATE, 0, 0600), -EINVAL);	 /* < SHMMIN */
	EXPECT_EQ(sys_shmget(IPC_PRIVATE, ~0UL, 0600), -EINVAL); /* > SHMMAX */
	EXPECT_EQ(sys_shmget(KEY_A, PAGE_SIZE, 0600), -ENOENT);	 /* no IPC_CREAT */
	SEGMENT id = shmget(KEY_A, PAGE_SIZE, IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	EXPECT_EQ(sys_shmget(KEY_A, PAGE_SIZE, IPC_CREAT), id);	 /* found */
	EXPECT_EQ(sys_shmget(KEY_A, 0, 0), id);			 /* size 0 finds it */
	EXPECT_EQ(sys_shmget(KEY_A, 10, 0), id);		 /* smaller: fine */
	EXPECT_EQ(sys_shmget(KEY_A, PAGE_SIZE + 1, 0), -EINVAL); /* larger than it */
	EXPECT_EQ(sys_shmget(KEY_A, 0, IPC_CREAT | IPC_EXCL), -EEXIST);
	EXPECT_EQ(sys_shmget(KEY_A, ~0UL, IPC_CREAT | IPC_EXCL), -EEXIST); /* EEXIST first */
	/* shmat */
	EXPECT_EQ(sys_shmat(-1, NULL, 0), -EINVAL);
	EXPECT_EQ(sys_shmat(id + 1, NULL, 0), -EINVAL);		/* no such slot */
	EXPECT_EQ(sys_shmat(id + (1 << 15), NULL, 0), -EINVAL); /* another sequence */
	/* shmdt */
	EXPECT_EQ(sys_shmdt((void *)FREE_ADDR), -EINVAL); /* nothing there */
	char *anon = map_anon(1, PROT_RW, MAP_SA);
	ASSERT_TRUE(anon != NULL);
	EXPECT_EQ(sys_shmdt(anon), -EINVAL); /* an area, but not an attachment */
	EXPECT_EQ(sys_munmap(anon, PAGE_SIZE), 0);
	char *p = attach(id, 0);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_shmdt(p + 1), -EINVAL);
	EXPECT_EQ(sys_shmdt(p), 0);
	EXPECT_EQ(sys_shmdt(p), -EINVAL);
	/* shmctl */
	EXPECT_EQ(sys_shmctl(id, 99, &ds), -EINVAL);
	EXPECT_EQ(sys_shmctl(id, IPC_STAT | 0x100, &ds), -EINVAL); /* IPC_64 is no flag on riscv64 */
	EXPECT_EQ(sys_shmctl(id, IPC_INFO, &ds), -EINVAL);	   /* not offered */
	EXPECT_EQ(sys_shmctl(-1, IPC_STAT, &ds), -EINVAL);
	EXPECT_EQ(sys_shmctl(id, -1, &ds), -EINVAL);
	EXPECT_EQ(sys_shmctl(id, IPC_STAT, NULL), -EFAULT);
	EXPECT_EQ(sys_shmctl(id, IPC_STAT, (struct shmid_ds *)KERNEL_ADDR), -EFAULT);
	EXPECT_EQ(sys_shmctl(id, IPC_SET, NULL), -EFAULT);
	EXPECT_EQ(sys_shmctl(id + 1, IPC_SET, NULL), -EFAULT); /* the copy comes first */
	EXPECT_EQ(sys_shmctl(id, IPC_RMID, NULL), 0);
	EXPECT_EQ(sys_shmctl(id, IPC_RMID, NULL), -EINVAL);
	EXPECT_EQ(sys_shmget(KEY_A, 0, 0), -ENOENT);
}
