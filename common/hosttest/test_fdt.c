/*
 * Host test: the device-tree reader on blobs this test writes itself — a
 * QEMU-virt-like tree, and malformed ones that must end in a clear panic
 * (caught here with longjmp), never a hang or a read out of bounds (ASan).
 */
// HOSTTEST_SOURCES: common/lib/fdt.c common/hosttest/host_kernel.c
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fdt.h"
#include "host_check.h"
#include "host_kernel.h"
#include "../tests/fdt_writer.h"

/* What fdt.c needs from the rest of the kernel (panic, printk, strlcpy) is
 * host_kernel.c's; its bootarg_get() stand-in gives way to fdt.c's own. */

/* A property of @p n big-endian cells. */
static void prop_cells(struct fdtw *w, const char *name, int n, ...)
{
	uint8_t buf[64];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		put32(buf + 4 * i, va_arg(ap, uint32_t));
	va_end(ap);
	prop(w, name, buf, 4 * (size_t)n);
}

/* The body of QEMU virt's tree, with @p harts cpus (one more disabled). */
static void virt_tree(struct fdtw *w, int harts, bool with_memory)
{
	begin(w, "");
	prop_cells(w, "#address-cells", 1, 2);
	prop_cells(w, "#size-cells", 1, 2);
	begin(w, "chosen");
	prop_str(w, "bootargs", "ktest=ch1.* debug");
	end(w);
	if (with_memory) {
		begin(w, "memory@80000000");
		prop_str(w, "device_type", "memory");
		prop_cells(w, "reg", 4, 0, 0x80000000, 0, 0x10000000);
		end(w);
	}
	begin(w, "reserved-memory");
	prop_cells(w, "#address-cells", 1, 2);
	prop_cells(w, "#size-cells", 1, 2);
	begin(w, "mmode_resv0@80000000");
	prop_cells(w, "reg", 4, 0, 0x80000000, 0, 0x40000);
	end(w);
	end(w);
	begin(w, "cpus");
	prop_cells(w, "#address-cells", 1, 1);
	prop_cells(w, "#size-cells", 1, 0);
	prop_cells(w, "timebase-frequency", 1, 10000000);
	for (int i = 0; i <= harts; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cpu@%d", i);
		begin(w, name);
		prop_str(w, "device_type", "cpu");
		prop_cells(w, "reg", 1, i);
		if (i == harts)
			prop_str(w, "status", "disabled");
		end(w);
	}
	end(w);
	begin(w, "soc");
	prop_cells(w, "#address-cells", 1, 2);
	prop_cells(w, "#size-cells", 1, 2);
	begin(w, "serial@10000000");
	prop_str(w, "compatible", "ns16550a");
	prop_cells(w, "reg", 4, 0, 0x10000000, 0, 0x100);
	end(w);
	begin(w, "test@100000");
	prop(w, "compatible", "sifive,test1\0sifive,test0\0syscon", 33);
	prop_cells(w, "reg", 4, 0, 0x100000, 0, 0x1000);
	end(w);
	begin(w, "plic@c000000");
	prop(w, "compatible", "sifive,plic-1.0.0\0riscv,plic0", 30);
	prop_cells(w, "reg", 4, 0, 0xc000000, 0, 0x600000);
	end(w);
	end(w);
}

/* ---- the tests ---- */
/* Parse @p blob; return the panic message, or NULL if it parsed. */
static const char *parse(const void *blob)
{
	static jmp_buf on_panic;
	memset(&machine, 0, sizeof(machine));
	host_panic_msg[0] = '\0';
	if (setjmp(on_panic))
		return host_panic_msg; /* panic() disarmed itself */
	host_expect_panic(&on_panic);
	fdt_parse_blob(blob);
	host_expect_panic(NULL);
	return NULL;
}

static void test_virt(void)
{
	static struct fdtw w;
	memset(&w, 0, sizeof(w));
	w.rsv[0][0] = 0x87000000, w.rsv[0][1] = 0x1000, w.nr_rsv = 1;
	virt_tree(&w, 4, true);
	end(&w);
	const char *err = parse(finish(&w));
	CHECK(err == NULL);
	CHECK(machine.nr_memory == 1);
	CHECK(machine.memory[0].base == 0x80000000 && machine.memory[0].size == 0x10000000);
	CHECK(machine.nr_reserved == 2); /* the /reserved-memory child and the /memreserve/ */
	CHECK(machine.reserved[0].base == 0x80000000 && machine.reserved[0].size == 0x40000);
	CHECK(strcmp(machine.reserved[0].name, "mmode_resv0@80000000") == 0);
	CHECK(machine.reserved[1].base == 0x87000000 && machine.reserved[1].size == 0x1000);
	CHECK(machine.hart_mask == 0xf && machine.nr_harts == 4); /* cpu@4 is disabled */
	CHECK(machine.timebase_hz == 10000000);
	CHECK(machine.uart == 0x10000000);
	CHECK(machine.finisher == 0x100000);
	CHECK(machine.nr_devices == 3);
	CHECK(strcmp(machine.bootargs, "ktest=ch1.* debug") == 0);
	char v[32];
	CHECK(bootarg_get("ktest", v, sizeof(v)) && strcmp(v, "ch1.*") == 0);
	CHECK(bootarg_get("debug", v, sizeof(v)) && v[0] == '\0');
	CHECK(!bootarg_get("deb", v, sizeof(v)));
}

static void test_banks_and_high_harts(void)
{
	static struct fdtw w;
	memset(&w, 0, sizeof(w));
	begin(&w, "");
	prop_cells(&w, "#address-cells", 1, 2);
	prop_cells(&w, "#size-cells", 1, 2);
	begin(&w, "memory@80000000"); /* two banks in one reg */
	prop_str(&w, "device_type", "memory");
	prop_cells(&w, "reg", 8, 0, 0x80000000, 0, 0x8000000, 1, 0, 0, 0x4000000);
	end(&w);
	begin(&w, "cpus");
	prop_cells(&w, "#address-cells", 1, 1);
	prop_cells(&w, "#size-cells", 1, 0);
	begin(&w, "cpu@1");
	prop_str(&w, "device_type", "cpu");
	prop_cells(&w, "reg", 1, 1);
	end(&w);
	begin(&w, "cpu@99"); /* beyond MAX_HARTS: ignored, not a crash */
	prop_str(&w, "device_type", "cpu");
	prop_cells(&w, "reg", 1, 99);
	end(&w);
	end(&w);
	end(&w);
	CHECK(parse(finish(&w)) == NULL);
	CHECK(machine.nr_memory == 2);
	CHECK(machine.memory[1].base == 0x100000000UL && machine.memory[1].size == 0x4000000);
	CHECK(machine.hart_mask == 0x2 && machine.nr_harts == 1);
	CHECK(machine.uart == 0 && machine.finisher == 0); /* absent: the kernel falls back to SBI */
}

/* More ranges than struct machine's arrays hold: each array fills up, the
 * rest is ignored, and nothing after an array is written (the counts and
 * fields that follow it in struct machine, which ASan cannot watch). */
static void test_too_many_ranges(void)
{
	static struct fdtw w;
	memset(&w, 0, sizeof(w));
	for (w.nr_rsv = 0; w.nr_rsv < 8; w.nr_rsv++) /* /memreserve/ entries are reserved ranges too */
		w.rsv[w.nr_rsv][0] = 0x90000000UL + (uint64_t)w.nr_rsv * 0x1000, w.rsv[w.nr_rsv][1] = 0x1000;
	begin(&w, "");
	prop_cells(&w, "#address-cells", 1, 2);
	prop_cells(&w, "#size-cells", 1, 2);
	begin(&w, "memory@80000000"); /* MAX_MEM_RANGES + 1 banks in one reg */
	prop_str(&w, "device_type", "memory");
	uint8_t reg[(MAX_MEM_RANGES + 1) * 16];
	for (int i = 0; i <= MAX_MEM_RANGES; i++) {
		uint64_t base = 0x80000000UL + (uint64_t)i * 0x10000000UL, size = 0x1000000;
		put32(reg + 16 * i, (uint32_t)(base >> 32));
		put32(reg + 16 * i + 4, (uint32_t)base);
		put32(reg + 16 * i + 8, 0);
		put32(reg + 16 * i + 12, (uint32_t)size);
	}
	prop(&w, "reg", reg, sizeof(reg));
	end(&w);
	begin(&w, "reserved-memory"); /* with the 8 /memreserve/ entries: MAX_RESERVED + 1 */
	prop_cells(&w, "#address-cells", 1, 2);
	prop_cells(&w, "#size-cells", 1, 2);
	for (int i = 0; i <= MAX_RESERVED - 8; i++) {
		char name[32];
		snprintf(name, sizeof(name), "resv@%x", 0x80000000 + i * 0x100000);
		begin(&w, name);
		prop_cells(&w, "reg", 4, 0, 0x80000000 + i * 0x100000, 0, 0x1000);
		end(&w);
	}
	end(&w);
	begin(&w, "cpus");
	prop_cells(&w, "#address-cells", 1, 1);
	prop_cells(&w, "#size-cells", 1, 0);
	begin(&w, "cpu@0");
	prop_str(&w, "device_type", "cpu");
	prop_cells(&w, "reg", 1, 0);
	end(&w);
	end(&w);
	begin(&w, "soc"); /* a UART, then MAX_DEVICES more devices */
	prop_cells(&w, "#address-cells", 1, 2);
	prop_cells(&w, "#size-cells", 1, 2);
	begin(&w, "serial@10000000");
	prop_str(&w, "compatible", "ns16550a");
	prop_cells(&w, "reg", 4, 0, 0x10000000, 0, 0x100);
	end(&w);
	for (int i = 0; i < MAX_DEVICES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "plic@%x", 0xc000000 + i * 0x1000000);
		begin(&w, name);
		prop_str(&w, "compatible", "riscv,plic0");
		prop_cells(&w, "reg", 4, 0, 0xc000000 + i * 0x1000000, 0, 0x600000);
		end(&w);
	}
	end(&w);
	end(&w);
	CHECK(parse(finish(&w)) == NULL);
	CHECK_EQ(machine.nr_memory, MAX_MEM_RANGES);
	CHECK_EQ(machine.memory[MAX_MEM_RANGES - 1].base, 0x80000000UL + (MAX_MEM_RANGES - 1) * 0x10000000UL);
	CHECK_EQ(machine.nr_reserved, MAX_RESERVED);
	CHECK_EQ(machine.reserved[0].base, 0x80000000);
	CHECK_EQ(machine.reserved[MAX_RESERVED - 1].base,
		 0x90000000UL + 6 * 0x1000); /* the 7th /memreserve/ */
	CHECK_EQ(machine.nr_devices, MAX_DEVICES);
	CHECK_EQ(machine.devices[MAX_DEVICES - 1].base, 0xc000000UL + (MAX_DEVICES - 2) * 0x1000000UL);
	CHECK_EQ(machine.uart, 0x10000000);
	CHECK_EQ(machine.finisher, 0);
	CHECK_EQ(machine.hart_mask, 1);
	CHECK_EQ(machine.nr_harts, 1);
}

/* Each malformed blob must panic with a message containing @p want. */
static void expect_panic(const void *blob, const char *want)
{
	const char *err = parse(blob);
	CHECK(err && strstr(err, want));
	if (err && !strstr(err, want))
		printf("  panic said \"%s\", wanted \"%s\"\n", err, want);
}

static void test_malformed(void)
{
	static struct fdtw w;
	uint8_t *b;

	memset(&w, 0, sizeof(w));
	virt_tree(&w, 1, false);
	end(&w);
	expect_panic(finish(&w), "no /memory node");

	memset(&w, 0, sizeof(w));
	virt_tree(&w, 1, true);
	end(&w);
	b = (uint8_t *)finish(&w);
	b[0] = 0xde;
	expect_panic(b, "bad magic");

	memset(&w, 0, sizeof(w));
	virt_tree(&w, 1, true);
	end(&w);
	b = (uint8_t *)finish(&w);
	put32(b + 36, 1u << 20); /* size_dt_struct past the blob */
	expect_panic(b, "outside the blob");

	memset(&w, 0, sizeof(w));
	virt_tree(&w, 1, true);
	end(&w);
	b = (uint8_t *)finish(&w);
	put32(b + 32, 1u << 20); /* size_dt_strings past the blob */
	expect_panic(b, "outside the blob");

	memset(&w, 0, sizeof(w));
	virt_tree(&w, 1, true);
	end(&w);
	b = (uint8_t *)finish(&w);
	put32(b + 32, (uint32_t)w.str_len - 1); /* the last property name loses its NUL */
	expect_panic(b, "runs off");

	memset(&w, 0, sizeof(w));
	begin(&w, "");
	prop_cells(&w, "#address-cells", 1, 0x40000000); /* reg sizes would overflow */
	begin(&w, "memory@80000000");
	prop_str(&w, "device_type", "memory");
	prop_cells(&w, "reg", 4, 0, 0x80000000, 0, 0x10000000);
	end(&w);
	end(&w);
	expect_panic(finish(&w), "#address-cells");

	memset(&w, 0, sizeof(w));
	virt_tree(&w, 1, true);
	end(&w);
	b = (uint8_t *)finish(&w);
	put32(b + 20, 15); /* version 15 */
	expect_panic(b, "unsupported version");

	memset(&w, 0, sizeof(w));
	begin(&w, "");
	tok(&w, 0x77); /* not a token */
	end(&w);
	expect_panic(finish(&w), "unknown token");

	memset(&w, 0, sizeof(w));
	for (int i = 0; i < 12; i++)
		begin(&w, "n");
	expect_panic(finish(&w), "deeper than");

	memset(&w, 0, sizeof(w));
	begin(&w, "");
	tok(&w, 3);
	tok(&w, 4000); /* a property longer than the block */
	tok(&w, 0);
	end(&w);
	expect_panic(finish(&w), "runs off");

	memset(&w, 0, sizeof(w));
	virt_tree(&w, 1, true); /* root never closed, and no FDT_END */
	b = (uint8_t *)finish(&w);
	put32(b + 36, (uint32_t)w.st_len - 4);
	expect_panic(b, "without FDT_END");
}

int main(void)
{
	test_virt();
	test_banks_and_high_harts();
	test_too_many_ranges();
	test_malformed();
	return checks_done("common/fdt");
}
