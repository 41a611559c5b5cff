/**
 * @file spinlock.h
 * @brief Mutual exclusion between harts: a test-and-set lock on an AMO.
 *
 * As in xv6-riscv's spinlock.c: acquiring turns this hart's interrupts off (so
 * an interrupt handler cannot spin on a lock its own hart holds) and records
 * the holder, so acquiring a lock twice on one hart is caught, not a hang.
 */
#ifndef MMLAB_SPINLOCK_H
#define MMLAB_SPINLOCK_H

#include "types.h"

/** A spinlock. Initialise with SPINLOCK_INIT(name) or spin_init(). */
struct spinlock {
	volatile uint32_t locked; /**< 1 while held. */
	int32_t hart;             /**< Holder's hart id, -1 when free. */
	const char *name;         /**< For messages. */
};

/** Static initialiser for a spinlock called @p n. */
#define SPINLOCK_INIT(n) { .locked = 0, .hart = -1, .name = (n) }

/** Initialise @p lk, free, called @p name. */
void spin_init(struct spinlock *lk, const char *name);
/** Take @p lk, spinning until it is free. Panics if this hart already holds it. */
void spin_lock(struct spinlock *lk);
/** Release @p lk. Panics if this hart does not hold it. */
void spin_unlock(struct spinlock *lk);
/** True if this hart holds @p lk. */
bool spin_holding(const struct spinlock *lk);

/** Interrupts off, nestable (xv6's push_off): each call needs one intr_pop(). */
void intr_push(void);
/** Undo one intr_push(); interrupts come back on after the outermost one. */
void intr_pop(void);

#endif
