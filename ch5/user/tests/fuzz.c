/*
 * ch5.user.fuzz: 10,000 system calls with random arguments (a fixed-seed
 * PRNG, so every run makes the same calls) to mmap, munmap, mprotect,
 * mremap, madvise, msync and brk, and to read, write and pipe2 with
 * pointers into and out of the mapped memory, in a child process. The
 * kernel must not panic (the suite completes), every result must be one
 * Linux could give (an address in the user half, page-aligned, or an errno
 * the call knows), bad pointers must be EFAULT, the maps listing must stay
 * sorted and disjoint, the child must exit normally, and every frame must
 * come back (here and in the runner's frames_returned).
 *
 * The calls are free to wreck the range between FREE_ADDR and the stack,
 * but never touch the program, its heap or its stack: a range that could
 * is moved into the free range first (a call that fails before it changes
 * anything, for an unaligned start, length 0 or a wrapping range, keeps
 * its arguments, and so does a range wholly above the user half).
 */
#include "utest5.h"

KTAP_SUITE("ch5.user.fuzz");

enum { CALLS = 10000, WINDOW_PAGES = 256, FORK_EVERY = 1000, CLEAN_EVERY = 1000 };

/* The range the fuzzer may change: from FREE_ADDR up to under the stack. */
#define FUZZ_LO FREE_ADDR
#define FUZZ_HI (MMAP_TOP - PAGES(16))

static uint64_t rng_state = 0x5ca1ab1edeadbeefULL;

/* xorshift64*: small, fast, the same sequence on every run. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned long below(unsigned long n) { return n ? rnd() % n : 0; }

/* Addresses mmap and mremap returned lately: later calls aim at them. */
enum { RECENT = 16 };
static unsigned long recent[RECENT], recent_len[RECENT];
static unsigned recent_next;

static void remember(unsigned long addr, unsigned long len)
{
	recent[recent_next % RECENT] = addr;
	recent_len[recent_next % RECENT] = len;
	recent_next++;
}

/* A random address: mostly page-aligned in the window or on a recent mapping, sometimes anything. */
static unsigned long rnd_addr(void)
{
	switch (below(16)) {
	case 0:
		return 0;
	case 1:
		return USER_TOP_ADDR - PAGES(below(3));
	case 2:
		return KERNEL_ADDR + PAGES(below(4));
	case 3:
		return rnd(); /* anything at all */
	case 4:
		return FUZZ_LO + PAGES(below(WINDOW_PAGES)) + below(PAGE_SIZE); /* unaligned */
	case 5:
	case 6:
	case 7: {
		unsigned i = (unsigned)below(RECENT);
		return recent[i] ? recent[i] + PAGES(below(recent_len[i] / PAGE_SIZE + 2)) : FUZZ_LO;
	}
	default:
		return FUZZ_LO + PAGES(below(WINDOW_PAGES));
	}
}

/* A random length: mostly a few pages, sometimes 0, unaligned, huge or negative. */
static unsigned long rnd_len(void)
{
	switch (below(16)) {
	case 0:
		return 0;
	case 1:
		return below(PAGE_SIZE * 4); /* unaligned */
	case 2:
		return (unsigned long)-PAGES(below(4));
	case 3:
		return 1UL << (30 + below(34)); /* 1 GiB .. 2^63 */
	case 4:
		return rnd();
	default:
		return PAGES(1 + below(16));
	}
}

/*
 * True if a call on [addr, addr + len) fails before it changes anything,
 * whatever is mapped: an unaligned start, length 0, or a range that wraps.
 * (A range that only runs past the user half is no such call: mprotect and
 * madvise change the areas before the hole, on Linux as here.)
 */
static bool must_fail(unsigned long addr, unsigned long len)
{
	unsigned long end = addr + ((len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
	return (addr & (PAGE_SIZE - 1)) || len == 0 || end <= addr;
}

/*
 * Keep the program, heap and stack out of reach: a range that could change
 * them becomes a few pages in the window (*@len too).
 */
static unsigned long aim(unsigned long addr, unsigned long *len)
{
	if (must_fail(addr, *len) || addr >= USER_TOP_ADDR)
		return addr;
	unsigned long end = addr + ((*len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
	if (addr >= FUZZ_LO && end <= FUZZ_HI)
		return addr;
	*len = PAGES(1 + below(16));
	return FUZZ_LO + PAGES(below(WINDOW_PAGES));
}

static int rnd_prot(void)
{
	static const int prots[] = {PROT_NONE,		PROT_READ, PROT_WRITE, PROT_RW, PROT_READ | PROT_EXEC,
				    PROT_RW | PROT_EXEC};
	if (below(16) == 0)
		return (int)rnd(); /* unknown bits */
	return prots[below(sizeof(prots) / sizeof(prots[0]))];
}

static int rnd_mmap_flags(void)
{
	static const int extra[] = {0, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_NORESERVE, 0, 0, 0};
	int type = below(8) == 0 ? (int)below(16) : below(3) == 0 ? MAP_SHARED : MAP_PRIVATE;
	int flags = type | extra[below(8)];
	if (below(16))
		flags |= MAP_ANONYMOUS;
	if (below(32) == 0)
		flags |= (int)rnd();
	return flags;
}

struct tally {
	long calls[9], ok[9];
	long bad; /* results Linux could not give */
};
static const char *const names[9] = {"mmap",  "munmap", "mprotect", "mremap", "madvise",
				     "msync", "brk",	"pipe-io",  "pipe2"};

static bool errno_in(long r, const int *allowed)
{
	for (; *allowed; allowed++)
		if (r == -*allowed)
			return true;
	return false;
}

/* An mmap or mremap result: an address in the user half, page-aligned, or an errno the call knows. */
static bool good_address(long r, const int *errs, unsigned long len)
{
	if (mm_err(r))
		return errno_in(r, errs);
	unsigned long a = (unsigned long)r;
	return a % PAGE_SIZE == 0 && a >= 0x10000 && a < USER_TOP_ADDR && len <= USER_TOP_ADDR - a;
}

/* Bytes a pipe holds (ch4's PIPE_SIZE): a write of more would wait for a reader. */
#define PIPE_SIZE_BYTES 4096UL

static int pipe_fds[2];
static char bounce[PIPE_SIZE_BYTES];

/*
 * A pointer for a call that writes or reads @n bytes there: @addr, unless
 * the bytes could be the program's, its heap's or its stack's (then the
 * window's first page).
 */
static unsigned long user_ptr(unsigned long addr, unsigned long n)
{
	if (addr + n < addr || addr >= USER_TOP_ADDR || addr + n <= 0x10000)
		return addr; /* wraps, kernel, or the unmapped page 0: EFAULT */
	if (addr >= FUZZ_LO && addr + n <= FUZZ_HI)
		return addr;
	return FUZZ_LO;
}

/* One random call; returns false if its result was one Linux could not give. */
static bool one_call(struct tally *t)
{
	static const int mmap_errs[] = {EINVAL, ENOMEM, EEXIST, EBADF, ENODEV, EOPNOTSUPP, EACCES, EPERM, 0};
	static const int range_errs[] = {EINVAL, ENOMEM, 0};
	static const int mremap_errs[] = {EINVAL, ENOMEM, EFAULT, 0};
	int which = (int)below(9);
	unsigned long addr = rnd_addr(), len = rnd_len();
	long r;
	bool good = true;
	t->calls[which]++;
	switch (which) {
	case 0: { /* mmap */
		int flags = rnd_mmap_flags(), prot = rnd_prot();
		if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
			addr = aim(addr, &len);
		/* A populated mapping (MAP_POPULATE, or any shared one) of a
		 * gigabyte would drain a 64 MiB machine and take seconds on a
		 * 2 GiB one; lengths past the user half still fail at once. */
		if ((flags & MAP_POPULATE || (flags & MAP_TYPE) == MAP_SHARED) && len > PAGES(16) &&
		    len <= USER_TOP_ADDR)
			len = PAGES(1 + below(16));
		r = sys_mmap((void *)addr, len, prot, flags, below(4) ? -1 : (int)below(8), PAGES(below(3)));
		good = good_address(r, mmap_errs, len);
		if (!mm_err(r)) {
			unsigned long a = (unsigned long)r;
			if ((flags & MAP_FIXED) && (flags & MAP_ANONYMOUS))
				good &= a == addr;
			/* In a free range: never over the program, heap or stack (a free hint is used anywhere). */
			unsigned long end = a + ((len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
			if (a < (unsigned long)sys_brk(NULL) ||
			    (end > STACK_TOP_ADDR - STACK_BYTES && a < STACK_TOP_ADDR))
				good = false;
			remember(a, len);
		}
		break;
	}
	case 1:
		addr = aim(addr, &len);
		r = sys_munmap((void *)addr, len);
		good = r == 0 || errno_in(r, range_errs);
		break;
	case 2:
		addr = aim(addr, &len);
		r = sys_mprotect((void *)addr, len, rnd_prot());
		good = r == 0 || errno_in(r, range_errs);
		break;
	case 3: { /* mremap */
		int flags = below(4) ? (int)below(4) : (int)rnd();
		unsigned long new_len = below(2) ? rnd_len() : len, new_addr = rnd_addr();
		if (new_len > PAGES(64) && new_len <= USER_TOP_ADDR)
			new_len = PAGES(1 + below(64)); /* a shared area grows populated: keep it small */
		if (flags & MREMAP_FIXED)
			new_addr = aim(new_addr, &new_len);
		addr = aim(addr, &len);
		r = sys_mremap((void *)addr, len, new_len, flags, (void *)new_addr);
		/* Equal lengths past the user half: EINVAL since Linux 6.18, a no-op returning addr before. */
		good = good_address(r, mremap_errs, new_len) ||
		       (r == (long)addr && new_len == len && len > USER_TOP_ADDR);
		if (!mm_err(r))
			remember((unsigned long)r, new_len);
		break;
	}
	case 4: {
		static const int advice[] = {MADV_DONTNEED, MADV_WILLNEED, MADV_NORMAL, 1, 2, 999};
		addr = aim(addr, &len);
		r = sys_madvise((void *)addr, len, advice[below(6)]);
		good = r == 0 || errno_in(r, range_errs);
		break;
	}
	case 5:
		r = sys_msync((void *)addr, len, (int)below(9));
		good = r == 0 || errno_in(r, range_errs);
		break;
	case 6: { /* brk: grow, shrink, or something absurd; the heap stays under FUZZ_LO */
		unsigned long cur = (unsigned long)sys_brk(NULL);
		unsigned long want = below(4) == 0 ? rnd_addr() : cur + PAGES(below(64)) - PAGES(below(64));
		r = sys_brk(want < FUZZ_LO - PAGES(1024) ? (void *)want : (void *)(cur + PAGES(1)));
		good = (unsigned long)r < FUZZ_LO;
		break;
	}
	case 7: { /* read or write through a random pointer: the data lands or it is EFAULT */
		unsigned long n = 1 + below(PIPE_SIZE_BYTES);
		char *ptr = (char *)user_ptr(below(4) ? addr : KERNEL_ADDR + below(PAGE_SIZE), n);
		if (below(2)) {
			r = sys_write(pipe_fds[1], ptr, n);
			good = r == (long)n || r == -EFAULT || (r > 0 && r < (long)n);
		} else {
			long w = sys_write(pipe_fds[1], bounce, n);
			r = sys_read(pipe_fds[0], ptr, n);
			good = w == (long)n && (r == (long)n || r == -EFAULT || (r > 0 && r < (long)n));
		}
		if ((unsigned long)ptr >= USER_TOP_ADDR) /* a kernel address is never copied */
			good &= r == -EFAULT;
		/* A new pipe: what a faulting copy left in the old one is no concern of the next call. */
		sys_close(pipe_fds[0]);
		sys_close(pipe_fds[1]);
		if (sys_pipe2(pipe_fds, 0) != 0)
			good = false;
		break;
	}
	default: { /* pipe2 into a random place, with random flags */
		int *fds = (int *)user_ptr(addr, 2 * sizeof(int));
		r = sys_pipe2(fds, below(4) ? 0 : (int)rnd());
		good = r == 0 || r == -EFAULT || r == -EINVAL || r == -EMFILE;
		if (r == 0) {
			sys_close(fds[0]);
			sys_close(fds[1]);
		}
		break;
	}
	}
	if (r == 0 || ((which == 0 || which == 3) && !mm_err(r)) || (which == 7 && r > 0))
		t->ok[which]++;
	if (!good) {
		t->bad++;
		if (t->bad <= 5)
			printf("# call %s: addr %lx len %lx -> %ld: not a result Linux gives\n", names[which],
			       addr, len, r);
	}
	return good;
}

/* The maps listing: sorted, disjoint, page-aligned lines. */
static bool maps_consistent(void)
{
	static char buf[256 * 1024];
	long n = mmlab_maps(buf, sizeof(buf) - 1);
	if (n <= 0) {
		printf("# the maps listing failed: %ld\n", n);
		return false;
	}
	buf[n] = '\0';
	const char *t = buf;
	struct map_line m;
	unsigned long last_end = 0;
	while (next_map_line(&t, &m)) {
		if (m.start >= m.end || m.start < last_end || m.start % PAGE_SIZE || m.end % PAGE_SIZE) {
			printf("# the maps listing is not sorted and disjoint at %lx-%lx (after %lx):\n%s",
			       m.start, m.end, last_end, buf);
			return false;
		}
		last_end = m.end;
	}
	return true;
}

static void fuzz_child(void *arg)
{
	(void)arg;
	struct tally t = {0};
	if (sys_pipe2(pipe_fds, 0) != 0)
		_exit(2);
	sys_munmap((void *)FUZZ_LO, FUZZ_HI - FUZZ_LO);
	int inconsistent = 0;
	for (long i = 0; i < CALLS; i++) {
		one_call(&t);
		if ((i + 1) % FORK_EVERY == 0) {
			/* A child shares every page for a moment: copy-on-write state for the next calls. */
			pid_t pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid > 0)
				waitpid(pid, NULL, 0);
			inconsistent += !maps_consistent();
		}
		if ((i + 1) % CLEAN_EVERY == 0) {
			/* Keep the frames in use bounded: drop what the window and the last mappings hold. */
			sys_munmap((void *)FUZZ_LO, PAGES(WINDOW_PAGES + 64));
			for (int k = 0; k < RECENT; k++)
				if (recent[k] >= FUZZ_LO && recent[k] < FUZZ_HI &&
				    recent_len[k] < FUZZ_HI - recent[k])
					sys_munmap((void *)recent[k], recent_len[k] ? recent_len[k] : 1);
		}
	}
	char line[512];
	int n = snprintf(line, sizeof(line), "# %d calls:", CALLS);
	for (int w = 0; w < 9; w++)
		n += snprintf(line + n, sizeof(line) - n, " %s %ld/%ld", names[w], t.ok[w], t.calls[w]);
	printf("%s (succeeded/made)\n", line);
	printf("# %ld results Linux would not give, %d inconsistent listings\n", t.bad, inconsistent);
	/* A run in which a call of the mm never succeeds tested nothing of it
	 * (a stubbed kernel refuses them all, with errors Linux could give). */
	int idle = 0;
	for (int w = 0; w <= 4; w++)
		if (!t.ok[w]) {
			printf("# no %s call succeeded\n", names[w]);
			idle++;
		}
	_exit(t.bad || inconsistent || idle ? 1 : 0);
}

TEST(random_calls_leave_the_kernel_standing)
{
	long before = mmlab_free_frames();
	int status = ktap_fork_wait(fuzz_child, NULL);
	EXPECT_TRUE(WIFEXITED(status)); /* not killed: the calls never hit the program */
	EXPECT_EQ(WEXITSTATUS(status), 0);
	EXPECT_EQ(mmlab_free_frames(), before); /* everything the child had came back */
}
