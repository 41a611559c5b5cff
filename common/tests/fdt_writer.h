/**
 * @file fdt_writer.h
 * @brief Tests only: a minimal flattened-device-tree writer (Devicetree
 * Specification v0.4, 5.1-5.4), to feed the reader trees QEMU never makes.
 *
 * Shared by the kernel's common.fdt tests (common/tests/fdt_test.c) and the
 * host test of the reader (common/hosttest/test_fdt.c): include it after
 * the string functions (memcpy, memset, strlen, strcmp) and <stdint.h> or
 * types.h. Use one static struct fdtw per tree (it is 22 KiB): begin() and
 * end() nodes, prop*() inside them, optionally fill rsv[] / nr_rsv for
 * /memreserve/ entries, then finish() gives the blob.
 */
#ifndef MMLAB_COMMON_TESTS_FDT_WRITER_H
#define MMLAB_COMMON_TESTS_FDT_WRITER_H

/** A tree being written: structure and strings blocks, reserve map, the blob finish() lays out. */
struct fdtw {
	uint8_t st[8192]; /**< structure block */
	size_t st_len;
	char str[2048]; /**< strings block */
	size_t str_len;
	uint64_t rsv[8][2]; /**< /memreserve/ entries (address, size) */
	int nr_rsv;
	uint8_t blob[12288] __attribute__((aligned(8)));
};

enum { FDTW_BEGIN_NODE = 1, FDTW_END_NODE = 2, FDTW_PROP = 3, FDTW_END = 9 };

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static inline void tok(struct fdtw *w, uint32_t t)
{
	put32(w->st + w->st_len, t);
	w->st_len += 4;
}

/* @p n bytes into the structure block, padded with zeros to 4 bytes. */
static inline void bytes(struct fdtw *w, const void *p, size_t n)
{
	memcpy(w->st + w->st_len, p, n);
	memset(w->st + w->st_len + n, 0, (4 - n % 4) % 4);
	w->st_len += (n + 3) & ~(size_t)3;
}

static inline void begin(struct fdtw *w, const char *name)
{
	tok(w, FDTW_BEGIN_NODE);
	bytes(w, name, strlen(name) + 1);
}

static inline void end(struct fdtw *w) { tok(w, FDTW_END_NODE); }

/* @p name's offset in the strings block, added if it is not there yet. */
static inline uint32_t name_off(struct fdtw *w, const char *name)
{
	for (size_t i = 0; i < w->str_len; i += strlen(w->str + i) + 1)
		if (strcmp(w->str + i, name) == 0)
			return (uint32_t)i;
	uint32_t off = (uint32_t)w->str_len;
	size_t n = strlen(name) + 1;
	if (off + n <= sizeof(w->str)) {
		memcpy(w->str + off, name, n);
		w->str_len += n;
	}
	return off;
}

static inline void prop(struct fdtw *w, const char *name, const void *val, size_t len)
{
	tok(w, FDTW_PROP);
	tok(w, (uint32_t)len);
	tok(w, name_off(w, name));
	bytes(w, val, len);
}

static inline void prop_str(struct fdtw *w, const char *name, const char *s)
{
	prop(w, name, s, strlen(s) + 1);
}

/* Lay out header, reserve map, structure and strings blocks; return the blob. */
static inline const void *finish(struct fdtw *w)
{
	tok(w, FDTW_END);
	uint32_t off_rsv = 40, rsv_len = (uint32_t)(w->nr_rsv + 1) * 16;
	uint32_t off_st = off_rsv + rsv_len, off_str = off_st + (uint32_t)w->st_len;
	uint32_t total = off_str + (uint32_t)w->str_len;
	uint8_t *b = w->blob;
	memset(b, 0, sizeof(w->blob));
	/* magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap, version 17,
	 * last_comp_version 16, boot_cpuid_phys, size_dt_strings, size_dt_struct */
	uint32_t hdr[10] = {
		0xd00dfeed,	    total, off_st, off_str, off_rsv, 17, 16, 0, (uint32_t)w->str_len,
		(uint32_t)w->st_len};
	for (int i = 0; i < 10; i++)
		put32(b + 4 * i, hdr[i]);
	for (int i = 0; i < w->nr_rsv; i++)
		for (int j = 0; j < 2; j++) {
			put32(b + off_rsv + 16 * i + 8 * j, (uint32_t)(w->rsv[i][j] >> 32));
			put32(b + off_rsv + 16 * i + 8 * j + 4, (uint32_t)w->rsv[i][j]);
		}
	memcpy(b + off_st, w->st, w->st_len);
	memcpy(b + off_str, w->str, w->str_len);
	return b;
}

#endif
