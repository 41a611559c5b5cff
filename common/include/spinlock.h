/**
 * @file spinlock.h
 * @brief Mutual exclusion between harts: a test-and-set lock on an AMO.
 *
 * As in xv6-riscv's spinlock.c, a lock records its holder, so acquiring a
 * lock twice on one hart is caught, not a hang. Unlike xv6, spin_lock() does
 * not turn interrupts off (it is Linux's spin_lock(), not
 * spin_lock_irqsave()): the test watchdog's timer interrupt must reach a test
 * that loops forever while it holds a lock. So a lock that an interrupt
 * handler may take must be taken with spin_lock_irqsave() everywhere, or the
 * handler can spin on a lock its own hart holds. Each hart keeps a record of
 * the locks it holds: spin_held_count() is what a preemptive scheduler must
 * see at 0 before it switches (Linux's preempt_count), and the test runner
 * releases with spin_release_held() what an abandoned test held.
 */
#ifndef MMLAB_SPINLOCK_H
#define MMLAB_SPINLOCK_H

#include "types.h"

/** A spinlock. Initialise with SPINLOCK_INIT(name) or spin_init(). */
struct spinlock {
	volatile uint32_t locked; /**< 1 while held. */
	int32_t hart;		  /**< Holder's hart id, -1 when free. */
	const char *name;	  /**< For messages. */
	uint64_t sleepers; /**< Harts waiting in wfi for it, one bit each: the release sends them an IPI. */
};

/** Static initialiser for a spinlock called @p n. */
#define SPINLOCK_INIT(n)                                                                                     \
	{                                                                                                    \
		.locked = 0, .hart = -1, .name = (n), .sleepers = 0                                          \
	}

/** Initialise @p lk, free, called @p name. */
void spin_init(struct spinlock *lk, const char *name);
/**
 * Take @p lk, waiting until it is free: spinning a while, then asleep in
 * wfi until the holder's release sends an IPI (see spinlock.c). Panics if
 * this hart already holds it.
 */
void spin_lock(struct spinlock *lk);
/** Release @p lk. Panics if this hart does not hold it. */
void spin_unlock(struct spinlock *lk);
/** True if this hart holds @p lk. */
bool spin_holding(const struct spinlock *lk);
/** Take @p lk if it is free, without waiting. @return true if taken (false if held, by anyone). */
bool spin_trylock(struct spinlock *lk);
/** Interrupts off (intr_push()), then take @p lk: for locks interrupt handlers take. */
void spin_lock_irqsave(struct spinlock *lk);
/** Release @p lk taken with spin_lock_irqsave(), then intr_pop(). */
void spin_unlock_irqrestore(struct spinlock *lk);
/** How many spinlocks this hart holds now (0 means it may be preempted). */
int spin_held_count(void);
/**
 * Release every lock this hart holds, without unlocking them properly, and
 * forget this hart's intr_push() nesting: for the test runner, after it
 * abandons a test that faulted or ran too long (the data the locks guard
 * may be half-changed; later tests will tell). Puts the names of up to
 * @p max of them in @p names. @return how many were held.
 */
int spin_release_held(const char **names, int max);

/** Interrupts off, nestable (xv6's push_off): each call needs one intr_pop(). */
void intr_push(void);
/** Undo one intr_push(); interrupts come back on after the outermost one. */
void intr_pop(void);

#endif
