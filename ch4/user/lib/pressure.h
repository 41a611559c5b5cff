/**
 * @file pressure.h
 * @brief User test helpers for running under memory pressure (squeezed with
 *        mmlab_squeeze()): a test process must not be the one that needs a
 *        frame at the wrong time.
 */
#ifndef MMLAB_USER_PRESSURE_H
#define MMLAB_USER_PRESSURE_H

/** Map the 32 KiB of stack under the caller, so that deeper calls need no frame. */
void prefault_stack(void);

/**
 * Give each writable page of the caller that is shared copy-on-write (after
 * a fork) a frame of its own now, by writing it back to itself: under
 * pressure, the first store to such a page would need a frame.
 */
void break_shared_pages(void);

#endif
