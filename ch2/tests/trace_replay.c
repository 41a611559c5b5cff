/*
 * ch2: replaying a heap trace (see heap_trace.h). Shared by the kernel's
 * trace tests and benchmarks and by the host benchmark, so it uses nothing
 * but the allocator it is handed.
 */
#include "heap_trace.h"

/* The byte a block stamps at offset @p off: depends on the id, so a block
 * handed out twice, or data that did not move with a realloc, shows. */
static inline uint8_t stamp_byte(uint32_t id, size_t off) { return (uint8_t)(id * 131u + off * 7u + 1u); }

/* Stamp (or check) the first and last up-to-8 bytes of [p, p+n). */
static bool stamp(uint8_t *p, uint32_t id, size_t n, bool check)
{
	size_t head = n < 8 ? n : 8;
	for (size_t off = 0; off < n; off = (off + 1 == head && n > 16) ? n - 8 : off + 1) {
		if (!check)
			p[off] = stamp_byte(id, off);
		else if (p[off] != stamp_byte(id, off))
			return false;
	}
	return true;
}

int trace_replay(const struct heap_trace *t, const struct heap_ops *h, void **slot, uint32_t *size,
		 unsigned mode, struct replay_stats *st)
{
	bool check = mode & REPLAY_CHECK, held = (mode & REPLAY_HELD) && h->held;
	uint64_t live = 0, base = held ? h->held() : 0;
	*st = (struct replay_stats){0};
	for (uint32_t i = 0; i < t->nr_ids; i++)
		slot[i] = NULL, size[i] = 0;
	for (uint32_t k = 0; k < t->nr_ops; k++) {
		uint32_t w = t->ops[2 * k], n = t->ops[2 * k + 1], id = w & 0x0fffffffu;
		uint8_t *p = slot[id];
		switch (w >> 28) {
		case TRACE_ALLOC:
			p = h->alloc(n);
			if (!p) {
				st->failed++;
				break;
			}
			slot[id] = p, size[id] = n, live += n;
			if (check)
				stamp(p, id, n, false);
			break;
		case TRACE_REALLOC: {
			if (!p)
				break; /* its alloc failed */
			if (check && !stamp(p, id, size[id], true))
				st->corrupted++;
			uint8_t *q = h->realloc(p, n);
			if (!q) {
				st->failed++;
				break;
			}
			size_t kept = n < size[id] ? n : size[id];
			if (check && kept && !stamp(q, id, kept < 8 ? kept : 8, true))
				st->corrupted++; /* the first bytes must have moved along */
			live += n, live -= size[id];
			slot[id] = q, size[id] = n;
			if (check)
				stamp(q, id, n, false);
			break;
		}
		default:
			if (!p)
				break;
			if (check && !stamp(p, id, size[id], true))
				st->corrupted++;
			h->free(p);
			live -= size[id];
			slot[id] = NULL, size[id] = 0;
			break;
		}
		st->ops++;
		if (live > st->peak_live)
			st->peak_live = live;
		if (held) {
			uint64_t now = h->held() - base;
			if (now > st->peak_held)
				st->peak_held = now;
		}
	}
	for (uint32_t i = 0; i < t->nr_ids; i++) {
		if (slot[i]) {
			h->free(slot[i]);
			slot[i] = NULL;
		}
	}
	return st->failed || st->corrupted ? -1 : 0;
}

uint64_t replay_utilization(const struct replay_stats *st)
{
	return st->peak_held ? st->peak_live * 1000 / st->peak_held : 0;
}
