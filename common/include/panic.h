/**
 * @file panic.h
 * @brief Stop the machine with a message: for kernel bugs, never for user input.
 */
#ifndef MMLAB_PANIC_H
#define MMLAB_PANIC_H

#include "printk.h"
#include "types.h"

/**
 * Print `panic: <message> (hart N, pc <caller>)`, the message formatted from
 * @p fmt and the arguments as by printk() and the caller symbolized
 * (`name+0xoff (path:line)`, ksyms.h), then a backtrace from panic()'s own
 * frame (backtrace.h), and power off with exit code 2. Other harts are
 * stopped. Never returns.
 */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/**
 * panic() for code that was interrupted by a trap: the message is formatted
 * from @p fmt and the arguments, the pc it names is @p pc, and the backtrace
 * starts from the trapped code's registers @p pc, @p ra, @p fp (s0) and
 * @p sp rather than from panic()'s own frame (which would show only the trap
 * handler). Never returns.
 */
void panic_regs(vaddr_t pc, vaddr_t ra, vaddr_t fp, vaddr_t sp, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 5, 6)));

/** Panic with the expression's text if @p cond is false (a kernel invariant). */
#define BUG_ON(cond)                                                                                         \
	do {                                                                                                 \
		if (unlikely(cond))                                                                          \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__);                             \
	} while (0)

/** Bumped by the test runner before each test, so TODO() speaks once per test. */
extern unsigned long todo_epoch;

/**
 * Mark a handout stub: print `TODO(chN): what` (once per call site and test)
 * and go on. The grader turns a failed test that printed it into
 * "not implemented: what"; the stub then returns its error as usual.
 */
#define TODO(ch, what)                                                                                       \
	do {                                                                                                 \
		static unsigned long _todo_epoch = -1UL;                                                     \
		if (_todo_epoch != todo_epoch) {                                                             \
			_todo_epoch = todo_epoch;                                                            \
			printk("TODO(" ch "): " what "\n");                                                  \
		}                                                                                            \
	} while (0)

/** Exit codes of QEMU's test finisher, as the grader reads them. */
enum poweroff_code {
	POWEROFF_PASS = 0,  /**< Every test passed. */
	POWEROFF_FAIL = 1,  /**< Some test failed. */
	POWEROFF_PANIC = 2, /**< The kernel panicked. */
};

/** Power the machine off with exit code @p code, through the test finisher (or SBI); never returns. */
void poweroff(enum poweroff_code code) __attribute__((noreturn));

#endif
