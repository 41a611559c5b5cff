/*
 * A flattened device tree reader (Devicetree Specification v0.4, ch. 5).
 *
 * The structure block is a stream of big-endian 32-bit tokens: BEGIN_NODE
 * (followed by the node's name), PROP (length, name offset, value), END_NODE
 * and END. We walk it once, keep a stack of the nodes we are inside, and at
 * each node's END_NODE decide what it was from the properties collected.
 */
#include "fdt.h"
#include "memlayout.h"
#include "panic.h"
#include "string.h"

struct machine machine;

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP	       4
#define FDT_END	       9
#define FDT_MAX_DEPTH  8
#define FDT_MAX_CELLS  4 /* #address-cells, #size-cells: 2 is the most a 64-bit value needs */
#define FDT_MAX_SIZE   (16 * MiB)

struct fdt_header {
	uint32_t magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap;
	uint32_t version, last_comp_version, boot_cpuid_phys, size_dt_strings, size_dt_struct;
};

/* What we collect about one node while inside it. */
struct node {
	const char *name;
	int addr_cells, size_cells; /* for this node's children */
	const uint32_t *reg;	    /* raw reg property */
	uint32_t reg_len;
	const char *compatible; /* a list of NUL-separated strings */
	uint32_t compatible_len;
	const char *device_type;
	bool disabled;
};

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t read_cells(const uint32_t *p, int cells)
{
	uint64_t v = 0;
	for (int i = 0; i < cells; i++)
		v = v << 32 | be32(p + i);
	return v;
}

static bool has_compatible(const struct node *n, const char *want)
{
	for (uint32_t i = 0; i < n->compatible_len;) {
		const char *s = n->compatible + i;
		if (strcmp(s, want) == 0)
			return true;
		i += strnlen(s, n->compatible_len - i) + 1;
	}
	return false;
}

/* The first (base, size) of @p n's reg, read with its parent's cell counts. */
static bool first_reg(const struct node *n, const struct node *parent, paddr_t *base, uint64_t *size)
{
	int ac = parent->addr_cells, sc = parent->size_cells;
	if (!n->reg || n->reg_len < (uint32_t)(ac + sc) * 4)
		return false;
	*base = read_cells(n->reg, ac);
	*size = read_cells(n->reg + ac, sc);
	return true;
}

static void add_range(struct phys_range *arr, int *count, int max, paddr_t base, uint64_t size,
		      const char *name, const char *what)
{
	if (*count == max) {
		printk("fdt: more than %d %s ranges; ignoring %s\n", max, what, name);
		return;
	}
	arr[*count].base = base;
	arr[*count].size = size;
	strlcpy(arr[*count].name, name, sizeof(arr[*count].name));
	(*count)++;
}

/* Every (base, size) pair of a reg property, e.g. several RAM banks. */
static void add_all_regs(const struct node *n, const struct node *parent, struct phys_range *arr, int *count,
			 int max, const char *what)
{
	int ac = parent->addr_cells, sc = parent->size_cells;
	uint32_t step = (uint32_t)(ac + sc);
	for (uint32_t i = 0; step && (i + step) * 4 <= n->reg_len; i += step)
		add_range(arr, count, max, read_cells(n->reg + i, ac), read_cells(n->reg + i + ac, sc),
			  n->name, what);
}

static void add_device(const struct node *n, const struct node *parent, paddr_t *slot)
{
	paddr_t base;
	uint64_t size;
	if (!first_reg(n, parent, &base, &size))
		return;
	if (slot && !*slot)
		*slot = base;
	add_range(machine.devices, &machine.nr_devices, MAX_DEVICES, base, size, n->name, "device");
}

static void add_hart(const struct node *n, const struct node *parent)
{
	paddr_t id;
	uint64_t unused;
	/* A cpu's reg is just its hart id: /cpus has #size-cells = 0. */
	if (parent->size_cells != 0 || !first_reg(n, parent, &id, &unused))
		return;
	if (id >= MAX_HARTS) {
		printk("fdt: ignoring hart %lu (this kernel runs harts 0..%d)\n", (unsigned long)id,
		       MAX_HARTS - 1);
		return;
	}
	machine.hart_mask |= 1UL << id;
	machine.nr_harts++;
}

/* Decide what node @p n (at @p depth, inside @p stack) was. */
static void node_done(struct node *stack, int depth)
{
	struct node *n = &stack[depth], *parent = &stack[depth - 1];
	if (n->disabled)
		return;
	/* Depth 1 is the root, 2 its children (/memory@.., /cpus), 3 theirs. */
	const char *pname = parent->name;
	if (depth == 2 && n->device_type && strcmp(n->device_type, "memory") == 0)
		add_all_regs(n, parent, machine.memory, &machine.nr_memory, MAX_MEM_RANGES, "memory");
	else if (depth == 3 && strcmp(pname, "reserved-memory") == 0)
		add_all_regs(n, parent, machine.reserved, &machine.nr_reserved, MAX_RESERVED, "reserved");
	else if (depth == 3 && strcmp(pname, "cpus") == 0 && n->device_type &&
		 strcmp(n->device_type, "cpu") == 0)
		add_hart(n, parent);
	else if (has_compatible(n, "ns16550a"))
		add_device(n, parent, &machine.uart);
	else if (has_compatible(n, "sifive,test0"))
		add_device(n, parent, &machine.finisher);
	else if (has_compatible(n, "riscv,plic0") || has_compatible(n, "riscv,clint0") ||
		 has_compatible(n, "sifive,clint0"))
		add_device(n, parent, NULL);
}

/* A property value is a string if it ends in its NUL. */
static bool is_string(const char *val, uint32_t len) { return len > 0 && val[len - 1] == '\0'; }

/* A #address-cells or #size-cells value: 0..FDT_MAX_CELLS, so that reg sizes cannot overflow. */
static int cells_value(const char *val, const char *what)
{
	uint32_t cells = be32(val);
	if (cells > FDT_MAX_CELLS)
		panic("fdt: %s = %u: malformed device tree", what, cells);
	return (int)cells;
}

/* Record property @p name of node @p n. */
static void node_prop(struct node *n, const char *name, const char *val, uint32_t len)
{
	if (strcmp(name, "#address-cells") == 0 && len == 4)
		n->addr_cells = cells_value(val, name);
	else if (strcmp(name, "#size-cells") == 0 && len == 4)
		n->size_cells = cells_value(val, name);
	else if (strcmp(name, "reg") == 0)
		n->reg = (const uint32_t *)val, n->reg_len = len;
	else if (strcmp(name, "compatible") == 0 && is_string(val, len))
		n->compatible = val, n->compatible_len = len;
	else if (strcmp(name, "device_type") == 0 && is_string(val, len))
		n->device_type = val;
	else if (strcmp(name, "status") == 0 && is_string(val, len))
		n->disabled = strcmp(val, "okay") != 0 && strcmp(val, "ok") != 0;
	else if (strcmp(name, "bootargs") == 0 && strcmp(n->name, "chosen") == 0 && is_string(val, len))
		strlcpy(machine.bootargs, val, sizeof(machine.bootargs));
	else if (strcmp(name, "timebase-frequency") == 0 && strcmp(n->name, "cpus") == 0 &&
		 (len == 4 || len == 8))
		machine.timebase_hz = len == 8 ? read_cells((const uint32_t *)val, 2) : be32(val);
}

static void walk_structure(const uint8_t *fdt, const struct fdt_header *h)
{
	const uint8_t *p = fdt + be32(&h->off_dt_struct);
	const uint8_t *end = p + be32(&h->size_dt_struct);
	const char *strings = (const char *)fdt + be32(&h->off_dt_strings);
	uint32_t strings_size = be32(&h->size_dt_strings);
	struct node stack[FDT_MAX_DEPTH + 1] = {{.name = "", .addr_cells = 2, .size_cells = 1}};
	int depth = 0;
	while (p + 4 <= end) {
		uint32_t tok = be32(p);
		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			if (++depth > FDT_MAX_DEPTH)
				panic("fdt: nodes nested deeper than %d: malformed device tree",
				      FDT_MAX_DEPTH);
			const char *name = (const char *)p;
			size_t len = strnlen(name, (size_t)(end - p));
			if (p + len == end)
				panic("fdt: a node name runs off the structure block: malformed device tree");
			stack[depth] = (struct node){.name = name, .addr_cells = 2, .size_cells = 1};
			p += ALIGN_UP(len + 1, 4);
		} else if (tok == FDT_END_NODE) {
			if (depth < 1)
				panic("fdt: unbalanced END_NODE: malformed device tree");
			node_done(stack, depth);
			depth--;
		} else if (tok == FDT_PROP) {
			if (p + 8 > end)
				panic("fdt: a property runs off the structure block: malformed device tree");
			uint32_t len = be32(p), nameoff = be32(p + 4);
			if (len > (uint64_t)(end - p - 8) || nameoff >= strings_size ||
			    strnlen(strings + nameoff, strings_size - nameoff) == strings_size - nameoff)
				panic("fdt: a property runs off its block: malformed device tree");
			if (depth < 1)
				panic("fdt: a property outside any node: malformed device tree");
			node_prop(&stack[depth], strings + nameoff, (const char *)p + 8, len);
			p += 8 + ALIGN_UP(len, 4);
		} else if (tok == FDT_END) {
			return;
		} else if (tok != FDT_NOP) {
			panic("fdt: unknown token 0x%x at offset 0x%lx: malformed device tree", tok,
			      (unsigned long)(p - 4 - fdt));
		}
	}
	panic("fdt: structure block ends without FDT_END: malformed device tree");
}

/* /memreserve/ entries: (address, size) pairs of 64-bit big-endian, ending in 0,0. */
static void read_memreserve(const uint8_t *fdt, const struct fdt_header *h)
{
	const uint32_t *e = (const uint32_t *)(fdt + be32(&h->off_mem_rsvmap));
	const uint32_t *end = (const uint32_t *)(fdt + be32(&h->totalsize)) - 4;
	for (; e <= end && (read_cells(e, 2) || read_cells(e + 2, 2)); e += 4)
		add_range(machine.reserved, &machine.nr_reserved, MAX_RESERVED, read_cells(e, 2),
			  read_cells(e + 2, 2), "memreserve", "reserved");
}

void fdt_parse_blob(const void *blob)
{
	const uint8_t *fdt = blob;
	const struct fdt_header *h = blob;
	if (be32(&h->magic) != FDT_MAGIC)
		panic("fdt: bad magic 0x%x (expected 0xd00dfeed): not a device tree", be32(&h->magic));
	if (be32(&h->last_comp_version) > 17 || be32(&h->version) < 16)
		panic("fdt: unsupported version %u (need 16 or 17)", be32(&h->version));
	uint32_t total = be32(&h->totalsize);
	if (total > FDT_MAX_SIZE || total < sizeof(*h))
		panic("fdt: implausible size %u bytes", total);
	if (be32(&h->off_dt_struct) + (uint64_t)be32(&h->size_dt_struct) > total ||
	    be32(&h->off_dt_strings) + (uint64_t)be32(&h->size_dt_strings) > total ||
	    be32(&h->off_mem_rsvmap) > total)
		panic("fdt: a block lies outside the blob's %u bytes: malformed device tree", total);
	machine.fdt_size = total;
	walk_structure(fdt, h);
	read_memreserve(fdt, h);
	if (machine.nr_memory == 0)
		panic("fdt: no /memory node: cannot tell where RAM is");
	if (!machine.hart_mask)
		panic("fdt: no usable /cpus/cpu node");
}

void fdt_parse(paddr_t fdt_pa)
{
	if (fdt_pa == 0 || !IS_ALIGNED(fdt_pa, 8) || fdt_pa >= DIRECT_MAP_SIZE)
		panic("fdt: no device tree (a1 = 0x%lx): boot through OpenSBI, which passes one", fdt_pa);
	machine.fdt_pa = fdt_pa;
	fdt_parse_blob(pa_to_kva(fdt_pa));
}

bool bootarg_get(const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	for (const char *p = machine.bootargs; *p;) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		if (strncmp(p, key, klen) == 0 && (p[klen] == '=' || p + klen == end)) {
			const char *v = p[klen] == '=' ? p + klen + 1 : end;
			size_t n = (size_t)(end - v);
			if (len) {
				n = n < len - 1 ? n : len - 1;
				memcpy(buf, v, n);
				buf[n] = '\0';
			}
			return true;
		}
		p = end;
	}
	return false;
}
