/*
 * The console: an ns16550a UART, polled (no interrupts). Before the device
 * tree has named the UART, bytes go through the SBI firmware console.
 */
#include "console.h"
#include "memlayout.h"
#include "sbi.h"

/* ns16550a registers, reg-shift 0 (as QEMU virt's /soc/serial). */
#define UART_RBR 0    /* receive buffer (read) */
#define UART_THR 0    /* transmit holding (write) */
#define UART_IER 1    /* interrupt enable */
#define UART_LSR 5    /* line status */
#define LSR_DR	 0x01 /* a byte is waiting */
#define LSR_THRE 0x20 /* transmit holding register empty */

static volatile uint8_t *uart;
static bool at_line_start = true; /* the last byte written was a newline (or none was) */
static void (*volatile capture)(const char *s, size_t len); /* tests: instead of the UART */

void console_use_uart(paddr_t base_pa)
{
	uart = pa_to_kva(base_pa);
	uart[UART_IER] = 0; /* polled: no interrupts */
}

static void putc_raw(char c)
{
	if (!uart) {
		sbi_console_putchar(c);
		return;
	}
	while (!(uart[UART_LSR] & LSR_THRE))
		;
	uart[UART_THR] = (uint8_t)c;
}

void console_write(const char *s, size_t len)
{
	if (capture) {
		capture(s, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			putc_raw('\r');
		putc_raw(s[i]);
	}
	if (len)
		at_line_start = s[len - 1] == '\n';
}

void console_capture(void (*fn)(const char *s, size_t len)) { capture = fn; }

bool console_at_line_start(void) { return at_line_start; }

int console_getc(void)
{
	if (!uart || !(uart[UART_LSR] & LSR_DR))
		return -1;
	return uart[UART_RBR];
}
