/*
 * ch4.user.fault: a user program that reads, writes or jumps where it may
 * not is killed with SIGSEGV and one console line (name, pid, address, pc,
 * reason), never taking the kernel down: page 0, a hole, kernel memory,
 * its own code written, its data executed, its stack overflowed into the
 * guard. Each runs as the program "fault" so the line names it.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.fault");

static int run_fault(const char *mode)
{
	char *argv[] = {"fault", (char *)mode, NULL};
	return ktap_spawn_wait(argv);
}

#define EXPECT_SEGV(mode)                                                                                    \
	do {                                                                                                 \
		int st_ = run_fault(mode);                                                                   \
		EXPECT_TRUE(WIFSIGNALED(st_));                                                               \
		EXPECT_EQ(WTERMSIG(st_), SIGSEGV);                                                           \
	} while (0)

TEST(the_program_runs) { EXPECT_EQ(WEXITSTATUS(run_fault("nothing")), 100); }

TEST(null_read) { EXPECT_SEGV("null-read"); }
TEST(null_write) { EXPECT_SEGV("null-write"); }
TEST(unmapped_read) { EXPECT_SEGV("unmapped-read"); }
TEST(kernel_read) { EXPECT_SEGV("kernel-read"); }
TEST(kernel_write) { EXPECT_SEGV("kernel-write"); }
TEST(kernel_jump) { EXPECT_SEGV("kernel-jump"); }
TEST(text_write) { EXPECT_SEGV("text-write"); }
TEST(data_exec) { EXPECT_SEGV("data-exec"); }
TEST(stack_overflow_into_the_guard) { EXPECT_SEGV("stack-overflow"); }

TEST(faults_leak_nothing)
{
	EXPECT_SEGV("null-read"); /* warm the kernel's caches */
	long before = mmlab_free_frames();
	EXPECT_SEGV("kernel-write");
	EXPECT_SEGV("stack-overflow");
	EXPECT_EQ(mmlab_free_frames(), before);
}
