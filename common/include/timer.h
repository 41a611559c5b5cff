/**
 * @file timer.h
 * @brief Per-hart timer events over the one SBI timer each hart has.
 *
 * A hart has a single supervisor timer (sbi_set_timer(), SBI spec 6.1): one
 * deadline at a time. Several users need it at once (the test runner's
 * watchdog; from ch4 the scheduler's tick and sleeping threads), so common/
 * keeps, per hart, one deadline per registered user and programs the SBI
 * timer with the earliest. Each user registers once (timer_register()) and
 * then arms and cancels its deadline on the hart it runs on. When deadlines
 * pass, their functions run in deadline order in the timer interrupt's handler on that hart
 * (interrupts off); a function may arm again, and it may not return (the
 * watchdog abandons the test).
 *
 * Times are in ticks of the `time` CSR (rdtime(), machine.timebase_hz per
 * second). Reference: Linux's clockevents (kernel/time/clockevents.c) on top
 * of riscv's SBI timer driver (drivers/clocksource/timer-riscv.c).
 */
#ifndef MMLAB_TIMER_H
#define MMLAB_TIMER_H

#include "trap.h"
#include "types.h"

/** Users of the timer at most (the watchdog, the tests of timer.h, and ch4 on). */
#define TIMER_USERS 8

/** What runs when a deadline passes, on the hart it was armed on, interrupts off. */
typedef void (*timer_fn)(struct trap_frame *tf);

/**
 * Register @p fn as a user of the timer, on every hart.
 * @return an id (>= 0) for timer_arm() and timer_cancel(); -EINVAL for a
 *         NULL @p fn; -ENOSPC if #TIMER_USERS are registered.
 */
int timer_register(timer_fn fn);

/**
 * Run user @p id's function on this hart once rdtime() reaches @p deadline
 * (soon after, never before), replacing the deadline it had on this hart.
 * @return 0, or -EINVAL for an id not registered.
 */
int timer_arm(int id, uint64_t deadline);

/** Forget user @p id's deadline on this hart, if it has one. */
void timer_cancel(int id);

#endif
