/*
 * The device-tree walk behind fdt_find_compatible() (Devicetree
 * Specification v0.4, chapter 5: the header, then the structure block, a
 * stream of big-endian 32-bit tokens: BEGIN_NODE name, PROP len nameoff
 * value, END_NODE, NOP, END). Every offset is checked against the blob's
 * totalsize, so a damaged blob ends the walk with -EINVAL.
 */
#include "errno.h"
#include "fdt_find.h"
#include "string.h"

#define FDT_MAGIC      0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP	       4
#define FDT_END	       9
#define DEPTH_MAX      16

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Read @cells big-endian cells at @p (1 or 2 cells make sense). */
static uint64_t cells_value(const uint8_t *p, uint32_t cells)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < cells; i++)
		v = v << 32 | be32(p + 4 * i);
	return v;
}

/* True if the string list @list (@len bytes) holds @s. */
static bool list_has(const char *list, uint32_t len, const char *s)
{
	size_t n = strlen(s);
	for (uint32_t at = 0; at < len;) {
		size_t l = strnlen(list + at, len - at);
		if (l == n && !memcmp(list + at, s, n))
			return true;
		at += (uint32_t)l + 1;
	}
	return false;
}

/* One node being walked: what its children need (its cells), and what it is. */
struct level {
	uint32_t addr_cells, size_cells; /* for its children's reg */
	bool match;			 /* compatible holds the string */
	bool has_reg;
	uint64_t base, size;
	uint32_t irq; /* the first cell of `interrupts`, 0 if none */
};

int fdt_find_compatible(const void *blob, const char *compat, fdt_node_fn fn, void *arg)
{
	const uint8_t *b = blob;
	if (be32(b) != FDT_MAGIC)
		return -EINVAL;
	uint32_t total = be32(b + 4), off_struct = be32(b + 8), off_strings = be32(b + 12);
	uint32_t size_strings = be32(b + 32), size_struct = be32(b + 36);
	if (off_struct > total || size_struct > total - off_struct || off_strings > total ||
	    size_strings > total - off_strings)
		return -EINVAL;
	const uint8_t *s = b + off_struct, *end = s + size_struct;
	const char *strings = (const char *)b + off_strings;
	struct level lv[DEPTH_MAX + 1];
	int depth = 0; /* lv[depth] is the node being read; lv[0] stands for the root's parent */
	lv[0] = (struct level){.addr_cells = 2, .size_cells = 1};
	while (s + 4 <= end) {
		uint32_t tok = be32(s);
		s += 4;
		if (tok == FDT_BEGIN_NODE) {
			size_t n = strnlen((const char *)s, (size_t)(end - s));
			if (s + n >= end || depth == DEPTH_MAX)
				return -EINVAL;
			s += ALIGN_UP(n + 1, 4);
			depth++;
			lv[depth] = (struct level){.addr_cells = 2, .size_cells = 1};
		} else if (tok == FDT_END_NODE) {
			if (depth == 0)
				return -EINVAL;
			struct level *l = &lv[depth--];
			if (l->match && l->has_reg) {
				int r = fn(l->base, l->size, l->irq, arg);
				if (r)
					return r;
			}
		} else if (tok == FDT_PROP) {
			if (s + 8 > end || depth == 0)
				return -EINVAL;
			uint32_t len = be32(s), nameoff = be32(s + 4);
			s += 8;
			if (len > (size_t)(end - s) || nameoff >= size_strings)
				return -EINVAL;
			const char *name = strings + nameoff;
			if (strnlen(name, size_strings - nameoff) == size_strings - nameoff)
				return -EINVAL;
			struct level *l = &lv[depth], *parent = &lv[depth - 1];
			if (!strcmp(name, "compatible"))
				l->match = list_has((const char *)s, len, compat);
			else if (!strcmp(name, "#address-cells") && len == 4)
				l->addr_cells = be32(s);
			else if (!strcmp(name, "#size-cells") && len == 4)
				l->size_cells = be32(s);
			else if (!strcmp(name, "interrupts") && len >= 4)
				l->irq = be32(s);
			else if (!strcmp(name, "reg") && parent->addr_cells <= 2 && parent->size_cells <= 2 &&
				 len >= 4 * (parent->addr_cells + parent->size_cells)) {
				l->has_reg = true;
				l->base = cells_value(s, parent->addr_cells);
				l->size = cells_value(s + 4 * parent->addr_cells, parent->size_cells);
			}
			s += ALIGN_UP(len, 4);
		} else if (tok == FDT_END) {
			return 0;
		} else if (tok != FDT_NOP) {
			return -EINVAL;
		}
	}
	return -EINVAL;
}
