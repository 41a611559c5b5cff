/**
 * @file console.h
 * @brief The serial console: an ns16550a UART found in the device tree.
 *
 * Until the UART is found, output goes through the SBI firmware console, so
 * even a panic about a broken device tree reaches the screen.
 */
#ifndef MMLAB_CONSOLE_H
#define MMLAB_CONSOLE_H

#include "types.h"

/** Write the @p len bytes at @p s to the console ("\n" becomes "\r\n"). Not locked: see printk. */
void console_write(const char *s, size_t len);
/**
 * True if the last byte written was a newline (or nothing was written yet):
 * printk starts each line on a fresh one, whoever wrote before it.
 */
bool console_at_line_start(void);
/**
 * From now on hand what is written to @p fn instead of the UART (NULL: back
 * to the UART), as console_write() receives it: for tests that check what
 * reaches the console. @p fn runs with the printk lock held: it must not print.
 */
void console_capture(void (*fn)(const char *s, size_t len));
/** Read one byte if one is waiting; -1 otherwise. */
int console_getc(void);
/** Use the ns16550a at physical address @p base_pa (reg-shift 0) from now on. */
void console_use_uart(paddr_t base_pa);

#endif
