/*
 * Symbolize a code address with the table the build embeds (ksyms.h,
 * scripts/ksyms.py). It runs in panic and in the trap handler, maybe with
 * memory corrupted: no locks, no allocation, and every index it reads from
 * the table is bounded before use.
 */
#include "ksyms.h"
#include "printk.h"

/* The function that covers offset @p off, or NULL: binary search. */
static const struct ksym_func *find_func(const struct ksym_table *t, uint32_t off)
{
	uint32_t lo = 0, hi = t->nfuncs; /* answer in [lo - 1] once lo == hi */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->funcs[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct ksym_func *f = &t->funcs[lo - 1];
	return off - f->off < f->size ? f : NULL;
}

static const char *string_at(const struct ksym_table *t, uint32_t at)
{
	return at < t->strings_size ? &t->strings[at] : "?";
}

/* Read a LEB128 number at *pos, never past end; false if it runs off. */
static bool read_uleb(const uint8_t *rows, uint32_t *pos, uint32_t end, uint32_t *out)
{
	uint32_t v = 0;
	for (int shift = 0; *pos < end && shift < 32; shift += 7) {
		uint8_t b = rows[(*pos)++];
		v |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/*
 * The row that covers offset @p off: the last row at or before it. Binary
 * search for the block, then decode it from its start (each row is a delta
 * from the one before: scripts/ksyms.py encode()).
 */
static void find_line(const struct ksym_table *t, uint32_t off, struct ksym *out)
{
	uint32_t lo = 0, hi = t->nblocks;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->blocks[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return;
	uint32_t b = lo - 1;
	uint32_t pos = t->blocks[b].pos;
	uint32_t end = b + 1 < t->nblocks ? t->blocks[b + 1].pos : t->rows_size;
	uint32_t nrows = b + 1 < t->nblocks ? KSYM_BLOCK_ROWS : t->nrows - b * KSYM_BLOCK_ROWS;
	if (end > t->rows_size)
		return;
	/* The decoder's state at a block's start: its offset, line 0, no file. */
	uint32_t at = t->blocks[b].off, file = UINT32_MAX;
	int32_t line = 0;
	const char *found_file = NULL;
	int found_line = 0;
	for (uint32_t i = 0; i < nrows; i++) {
		uint32_t delta, x;
		if (!read_uleb(t->rows, &pos, end, &delta) || !read_uleb(t->rows, &pos, end, &x))
			break;
		if ((x & 1) && !read_uleb(t->rows, &pos, end, &file))
			break;
		at += delta;
		if (at > off)
			break; /* rows are sorted: the one before covers off */
		uint32_t zigzag = x >> 1;
		line += (zigzag & 1) ? -(int32_t)(zigzag >> 1) - 1 : (int32_t)(zigzag >> 1);
		found_line = line > 0 && file < t->nfiles ? line : 0;
		found_file = found_line ? string_at(t, t->files[file]) : NULL;
	}
	out->file = found_file;
	out->line = found_line;
}

bool ksym_lookup(vaddr_t pc, struct ksym *out)
{
	const struct ksym_table *t = &ksym_table;
	if (pc < t->base || pc - t->base >= t->text_size)
		return false;
	uint32_t off = (uint32_t)(pc - t->base);
	const struct ksym_func *f = find_func(t, off);
	if (!f)
		return false;
	out->name = string_at(t, f->name);
	out->start = t->base + f->off;
	out->offset = off - f->off;
	out->file = NULL;
	out->line = 0;
	find_line(t, off, out);
	return true;
}

/* name+0xoff (file:line), with @p off printed and @p k looked up separately. */
static int print(char *buf, size_t len, const struct ksym *k, uint64_t off)
{
	if (!k->file)
		return snprintf(buf, len, "%s+0x%lx", k->name, off);
	return snprintf(buf, len, "%s+0x%lx (%s:%d)", k->name, off, k->file, k->line);
}

int ksym_snprint(char *buf, size_t len, vaddr_t pc)
{
	struct ksym k;
	if (!ksym_lookup(pc, &k))
		return snprintf(buf, len, "0x%lx", pc);
	return print(buf, len, &k, k.offset);
}

int ksym_snprint_ret(char *buf, size_t len, vaddr_t ra)
{
	struct ksym k;
	if (ra == 0 || !ksym_lookup(ra - 1, &k))
		return snprintf(buf, len, "0x%lx", ra);
	return print(buf, len, &k, ra - k.start);
}
