/*
 * common.fdt: the device-tree reader on blobs this test writes itself, for
 * what QEMU's trees never show: more ranges than struct machine holds.
 * fdt_parse_blob() fills the global #machine, so each case saves it, parses
 * into a zeroed one, copies out what it got and puts the real one back
 * before it checks anything. (common/hosttest/test_fdt.c tests the reader
 * further on the host, malformed trees included.)
 */
#include "fdt.h"
#include "ktest.h"
#include "printk.h"
#include "string.h"
#include "fdt_writer.h"

static void prop_u32(struct fdtw *w, const char *name, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	prop(w, name, b, 4);
}

/* A reg property of @n (base, size) pairs, two cells each. */
static void prop_reg(struct fdtw *w, const uint64_t (*pairs)[2], int n)
{
	uint8_t b[16 * 16];
	for (int i = 0; i < n; i++)
		for (int j = 0; j < 2; j++) {
			put32(b + 16 * i + 8 * j, (uint32_t)(pairs[i][j] >> 32));
			put32(b + 16 * i + 8 * j + 4, (uint32_t)pairs[i][j]);
		}
	prop(w, "reg", b, 16 * (size_t)n);
}

/* A node called @name@<base> holding one reg pair (and a compatible, if not NULL). */
static void reg_node(struct fdtw *w, const char *name, uint64_t base, uint64_t size, const char *compatible)
{
	char full[32];
	snprintf(full, sizeof(full), "%s@%lx", name, (unsigned long)base);
	begin(w, full);
	if (compatible)
		prop_str(w, "compatible", compatible);
	const uint64_t pair[1][2] = {{base, size}};
	prop_reg(w, pair, 1);
	end(w);
}

/* Parse @blob into a zeroed #machine, copy the result into @got, restore #machine. */
static void parse_aside(const void *blob, struct machine *got)
{
	static struct machine saved;
	saved = machine;
	memset(&machine, 0, sizeof(machine));
	fdt_parse_blob(blob);
	*got = machine;
	machine = saved;
}

/* ---- the tests ---- */

/* Where the overflowing ranges go: their low 32 bits are small, so that a
 * reader that writes one entry past an array (into the count after it)
 * leaves a count that is wrong but harmless. */
#define EXTRA_MEMORY   0x100001000UL
#define EXTRA_RESERVED 0x100002000UL
#define EXTRA_DEVICE   0x3000UL

KTEST(common_fdt, more_ranges_than_the_arrays_hold)
{
	static struct fdtw w;
	static struct machine got;
	memset(&w, 0, sizeof(w));
	begin(&w, "");
	prop_u32(&w, "#address-cells", 2);
	prop_u32(&w, "#size-cells", 2);
	/* One more RAM bank than memory[] holds, all in one reg. */
	static uint64_t banks[MAX_MEM_RANGES + 1][2];
	for (int i = 0; i < MAX_MEM_RANGES; i++)
		banks[i][0] = 0x80000000UL + (uint64_t)i * 0x10000000UL, banks[i][1] = 0x1000000;
	banks[MAX_MEM_RANGES][0] = EXTRA_MEMORY, banks[MAX_MEM_RANGES][1] = 0x1000;
	begin(&w, "memory@80000000");
	prop_str(&w, "device_type", "memory");
	prop_reg(&w, (const uint64_t(*)[2])banks, MAX_MEM_RANGES + 1);
	end(&w);
	/* One more reserved region than reserved[] holds. */
	begin(&w, "reserved-memory");
	prop_u32(&w, "#address-cells", 2);
	prop_u32(&w, "#size-cells", 2);
	for (int i = 0; i < MAX_RESERVED; i++)
		reg_node(&w, "resv", 0x80000000UL + (uint64_t)i * 0x100000, 0x1000, NULL);
	reg_node(&w, "resv", EXTRA_RESERVED, 0x1000, NULL);
	end(&w);
	begin(&w, "cpus");
	prop_u32(&w, "#address-cells", 1);
	prop_u32(&w, "#size-cells", 0);
	prop_u32(&w, "timebase-frequency", 10000000);
	begin(&w, "cpu@0");
	prop_str(&w, "device_type", "cpu");
	prop_u32(&w, "reg", 0);
	end(&w);
	end(&w);
	/* A UART, a test finisher, and more devices than devices[] holds. */
	begin(&w, "soc");
	prop_u32(&w, "#address-cells", 2);
	prop_u32(&w, "#size-cells", 2);
	reg_node(&w, "serial", 0x10000000, 0x100, "ns16550a");
	reg_node(&w, "test", 0x100000, 0x1000, "sifive,test0");
	for (int i = 2; i < MAX_DEVICES; i++)
		reg_node(&w, "plic", 0xc000000UL + (uint64_t)i * 0x1000000, 0x600000, "riscv,plic0");
	reg_node(&w, "plic", EXTRA_DEVICE, 0x1000, "riscv,plic0");
	end(&w);
	end(&w);
	parse_aside(finish(&w), &got);

	/* Each array full, the extra range ignored, every field after it intact. */
	KEXPECT_EQ(got.nr_memory, MAX_MEM_RANGES);
	KEXPECT_EQ(got.memory[MAX_MEM_RANGES - 1].base, banks[MAX_MEM_RANGES - 1][0]);
	KEXPECT_EQ(got.memory[MAX_MEM_RANGES - 1].size, 0x1000000);
	KEXPECT_EQ(got.nr_reserved, MAX_RESERVED);
	KEXPECT_EQ(got.reserved[0].base, 0x80000000UL);
	KEXPECT_EQ(got.reserved[0].size, 0x1000);
	KEXPECT_EQ(strcmp(got.reserved[0].name, "resv@80000000"), 0);
	KEXPECT_EQ(got.reserved[MAX_RESERVED - 1].base, 0x80000000UL + (MAX_RESERVED - 1) * 0x100000UL);
	KEXPECT_EQ(got.nr_devices, MAX_DEVICES);
	KEXPECT_EQ(got.devices[0].base, 0x10000000);
	KEXPECT_EQ(got.devices[0].size, 0x100);
	KEXPECT_EQ(got.devices[MAX_DEVICES - 1].base, 0xc000000UL + (MAX_DEVICES - 1) * 0x1000000UL);
	KEXPECT_EQ(got.uart, 0x10000000);
	KEXPECT_EQ(got.finisher, 0x100000);
	KEXPECT_EQ(got.hart_mask, 1);
	KEXPECT_EQ(got.nr_harts, 1);
	KEXPECT_EQ(got.timebase_hz, 10000000);
	KEXPECT_EQ(got.bootargs[0], '\0');
	/* The real machine is back. */
	KEXPECT_GE(machine.nr_memory, 1);
	KEXPECT_NE(machine.fdt_pa, 0);
}
