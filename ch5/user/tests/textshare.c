/*
 * ch5.user.textshare: two processes running the same program share its
 * text frames, because exec maps the program from the page cache (as
 * Linux's does); the pages of its data segment that each writes are its
 * own copies.
 *
 * The test starts the program textpeer (ch5/user/textpeer.c) twice, in
 * turn, and asks each what mmlab_page_info() says about the page of its
 * text that holds main() and about a page of its data it wrote. The
 * information holds no frame number but the frame's reference count, and
 * every mapping of a frame is a reference: when the second process starts,
 * the first one's text page gains exactly one reference (the second
 * process maps the same frame), and both see the same count. Without
 * sharing each process has a frame of its own, with one reference. A
 * written data page has one reference in each process.
 */
#include "fcntl.h"
#include "utest5.h"

KTAP_SUITE("ch5.user.textshare");

#define PEER_PROGRAM "textpeer"

/** textpeer's report (the same layout as in ch5/user/textpeer.c). */
struct textpeer_report {
	long pid;
	long text_info;
	long data_info;
	long data_value;
	long text_pages;
	long refs_gained;
};

/** One running textpeer: its pid, the pipe it reports on, the pipe that asks for a report. */
struct peer {
	pid_t pid;
	int report; /* read end */
	int go;	    /* write end: a byte asks for a report, closing it ends the program */
};

/* Start textpeer with its two pipe ends as its own (only those survive exec); false if it could not. */
static bool start_peer(struct peer *p)
{
	int rep[2], go[2];
	p->pid = -1;
	p->report = p->go = -1;
	if (pipe2(rep, O_CLOEXEC))
		return false;
	if (pipe2(go, O_CLOEXEC)) {
		close(rep[0]);
		close(rep[1]);
		return false;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char r[16], g[16];
		snprintf(r, sizeof(r), "%d", dup(rep[1])); /* dup's copy is not close-on-exec */
		snprintf(g, sizeof(g), "%d", dup(go[0]));
		char *argv[] = {PEER_PROGRAM, r, g, NULL};
		char *envp[] = {NULL};
		execve(PEER_PROGRAM, argv, envp);
		_exit(127);
	}
	close(rep[1]);
	close(go[0]);
	p->pid = pid;
	p->report = rep[0];
	p->go = go[1];
	if (pid < 0) {
		close(rep[0]);
		close(go[1]);
		return false;
	}
	return true;
}

/* Ask @p for a report (unless @first: it sends one when it starts) and read it; false if none came. */
static bool get_report(struct peer *p, struct textpeer_report *r, bool first)
{
	if (!first && write(p->go, "r", 1) != 1)
		return false;
	size_t got = 0;
	while (got < sizeof(*r)) {
		long n = read(p->report, (char *)r + got, sizeof(*r) - got);
		if (n <= 0)
			return false; /* it died: its end of the pipe closed */
		got += (size_t)n;
	}
	return true;
}

/* End @p (close its go pipe) and reap it; its wait status, or -1. */
static int stop_peer(struct peer *p)
{
	if (p->pid < 0)
		return -1;
	close(p->go);
	close(p->report);
	int status = -1;
	if (waitpid(p->pid, &status, 0) != p->pid)
		return -1;
	return status;
}

/* Two runs of textpeer: A's first report, B's first, A's second (B running). */
struct pair {
	struct peer a, b;
	struct textpeer_report a1, b1, a2;
	long free_before, free_a, free_b; /* free frames before A, with A, with both */
};

/*
 * Start A, read its report, start B, read its report, then A's second:
 * B maps the program while A runs it. Every step is a check; false if one
 * failed (the peers that started are stopped by end_pair all the same).
 */
static bool run_pair(struct pair *t)
{
	t->b.pid = -1;
	t->free_before = mmlab_free_frames();
	bool a_started = start_peer(&t->a);
	EXPECT_TRUE(a_started);
	bool a_reported = a_started && get_report(&t->a, &t->a1, true);
	EXPECT_TRUE(a_reported); /* false: textpeer did not start (exit 127) or died */
	if (!a_reported)
		return false;
	t->free_a = mmlab_free_frames();
	bool b_started = start_peer(&t->b);
	EXPECT_TRUE(b_started);
	bool b_reported = b_started && get_report(&t->b, &t->b1, true);
	EXPECT_TRUE(b_reported);
	if (!b_reported)
		return false;
	t->free_b = mmlab_free_frames();
	bool a_reported_again = get_report(&t->a, &t->a2, false);
	EXPECT_TRUE(a_reported_again);
	return a_reported_again;
}

/* Stop both peers and expect them to exit 0. */
static void end_pair(struct pair *t)
{
	int sa = stop_peer(&t->a), sb = stop_peer(&t->b);
	EXPECT_EQ(sa, 0);
	if (t->b.pid >= 0)
		EXPECT_EQ(sb, 0);
}

TEST(two_runs_of_a_program_share_its_text_frames)
{
	struct pair t;
	if (run_pair(&t)) {
		EXPECT_NE(t.a1.text_info & MMLAB_PAGE_PRESENT, 0);
		EXPECT_NE(t.b1.text_info & MMLAB_PAGE_PRESENT, 0);
		EXPECT_EQ(t.a1.text_info & MMLAB_PAGE_WRITABLE, 0);
		/* B's mapping is one more reference on A's frame, and both see one count. */
		long a_refs_alone = MMLAB_PAGE_REFS(t.a1.text_info),
		     a_refs_with_b = MMLAB_PAGE_REFS(t.a2.text_info);
		long b_refs = MMLAB_PAGE_REFS(t.b1.text_info);
		EXPECT_EQ(a_refs_with_b, a_refs_alone + 1);
		EXPECT_EQ(b_refs, a_refs_with_b);
		EXPECT_GT(t.a2.refs_gained, 0);
		printf("# text frames shared (frames saved by the second run): %ld of the %ld text pages "
		       "mapped\n",
		       t.a2.refs_gained, t.a2.text_pages);
		printf("# free frames taken by the first run %ld, by the second %ld\n",
		       t.free_before - t.free_a, t.free_a - t.free_b);
	}
	end_pair(&t);
}

TEST(the_data_page_each_writes_is_its_own)
{
	struct pair t;
	if (run_pair(&t)) {
		EXPECT_EQ(t.a1.data_value, t.a.pid);
		EXPECT_EQ(t.b1.data_value, t.b.pid);
		EXPECT_EQ(t.a2.data_value, t.a.pid); /* B's write did not reach A */
		long a_data_refs = MMLAB_PAGE_REFS(t.a2.data_info),
		     b_data_refs = MMLAB_PAGE_REFS(t.b1.data_info);
		EXPECT_EQ(a_data_refs, 1);
		EXPECT_EQ(b_data_refs, 1);
		EXPECT_NE(t.b1.data_info & MMLAB_PAGE_WRITABLE, 0);
		EXPECT_EQ(t.b1.data_info & MMLAB_PAGE_COW, 0);
	}
	end_pair(&t);
}
