/*
 * ch2: the heap's debug mode — red zones, poisoning, caller tracking and the
 * reports (Linux mm/slub.c's SLUB_DEBUG, simplified).
 *
 * A debug cache's stride is laid out as
 *
 *   |<- red_left ->|<- object_size ->|<- >= 8 ->|<-- struct obj_meta -->|pad|
 *   | left red zone| object          | right rz | free ptr, callers, ... |   |
 *                  ^ obj_offset: the pointer users get; meta_offset and the
 *                    free pointer's offset (in obj_meta) count from here
 *
 * While the object is allocated, both red zones are RED_ACTIVE (0xcc) and so
 * are the bytes between the request and object_size (kmalloc rounds up);
 * while free, the object is POISON_FREE (0x6b) with a POISON_END (0xa5) last
 * byte and the red zones are RED_INACTIVE (0xbb). obj_meta.state says which,
 * independently of those bytes, so a double free is told apart from a
 * trampled red zone.
 */
#include "errno.h"
#include "printk.h"
#include "slab_internal.h"
#include "string.h"

static struct spinlock report_lock = SPINLOCK_INIT("heap_report");
static struct heap_debug_counts counts;
static struct heap_report last;

static const char *const error_names[HEAP_ERR_KINDS] = {
	[HEAP_ERR_NONE] = "no error",
	[HEAP_ERR_DOUBLE_FREE] = "double free",
	[HEAP_ERR_INVALID_FREE] = "invalid free",
	[HEAP_ERR_WRONG_CACHE] = "free to the wrong cache",
	[HEAP_ERR_REDZONE] = "red zone overwritten",
	[HEAP_ERR_USE_AFTER_FREE] = "write after free",
};

const char *heap_error_name(enum heap_error kind) { return kind < HEAP_ERR_KINDS ? error_names[kind] : "?"; }

void heap_report(enum heap_error kind, const void *ptr, const struct kmem_cache *s, uintptr_t caller,
		 long offset, const char *detail)
{
	spin_lock(&report_lock);
	counts.count[kind]++;
	counts.total++;
	last.kind = kind;
	last.ptr = ptr;
	last.caller = caller;
	last.offset = offset;
	strlcpy(last.cache, s ? s->name : "", sizeof(last.cache));
	spin_unlock(&report_lock);
	if (s)
		__atomic_add_fetch(&((struct kmem_cache *)s)->errors, 1, __ATOMIC_RELAXED);
	printk("heap: %s of %p in %s (caller %p, offset %ld): %s\n", heap_error_name(kind), ptr,
	       s ? s->name : "-", (void *)caller, offset, detail ? detail : "");
}

void heap_debug_counts(struct heap_debug_counts *out)
{
	spin_lock(&report_lock);
	*out = counts;
	spin_unlock(&report_lock);
}

uint64_t heap_debug_count(enum heap_error kind)
{
	return kind < HEAP_ERR_KINDS ? __atomic_load_n(&counts.count[kind], __ATOMIC_RELAXED) : 0;
}

struct heap_report heap_last_report(void)
{
	spin_lock(&report_lock);
	struct heap_report r = last;
	spin_unlock(&report_lock);
	return r;
}

/* ---- layout and patterns ---------------------------------------------------- */

void debug_layout(struct kmem_cache *s)
{
	s->red_left = s->align; /* keeps the object aligned: a stride is a multiple of align */
	s->obj_offset = s->red_left;
	s->meta_offset = s->object_size + 8; /* object_size is a multiple of 8 */
	s->offset = s->meta_offset + offsetof(struct obj_meta, free_next);
	s->size = ALIGN_UP(s->red_left + s->meta_offset + (uint32_t)sizeof(struct obj_meta), s->align);
}

long debug_first_mismatch(const void *p, int byte, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)byte)
			return (long)i;
	return -1;
}

static void poison(struct kmem_cache *s, void *obj)
{
	memset(obj, POISON_FREE, s->object_size - 1);
	((uint8_t *)obj)[s->object_size - 1] = POISON_END;
}

/* Offset of the first byte of free object @p obj whose poison changed, or -1. */
static long poison_mismatch(const struct kmem_cache *s, const void *obj)
{
	long bad = debug_first_mismatch(obj, POISON_FREE, s->object_size - 1);
	if (bad < 0 && ((const uint8_t *)obj)[s->object_size - 1] != POISON_END)
		bad = s->object_size - 1;
	return bad;
}

/* Offset (from @p obj) of the first broken byte of the active red zones of
 * allocated @p obj, whose right one starts at @p requested; or 0 if intact. */
static long active_redzone_mismatch(const struct kmem_cache *s, const void *obj, size_t requested)
{
	long bad = debug_first_mismatch((const char *)obj - s->red_left, RED_ACTIVE, s->red_left);
	if (bad >= 0)
		return bad - (long)s->red_left;
	bad = debug_first_mismatch((const char *)obj + requested, RED_ACTIVE, s->meta_offset - requested);
	return bad >= 0 ? bad + (long)requested : 0;
}

/* Fill both red zones of @p obj with @p byte, the right one from @p from. */
static void paint_redzones(struct kmem_cache *s, void *obj, int byte, size_t from)
{
	memset((char *)obj - s->red_left, byte, s->red_left);
	memset((char *)obj + from, byte, s->meta_offset - from);
}

void debug_init_object(struct kmem_cache *s, void *obj)
{
	struct obj_meta *m = obj_meta(s, obj);
	poison(s, obj);
	paint_redzones(s, obj, RED_INACTIVE, s->object_size);
	m->state = OBJ_FREE;
	m->alloc_caller = 0;
	m->free_caller = 0;
	m->requested = s->object_size;
}

/* ---- the checks ------------------------------------------------------------- */

bool debug_check_alloc(struct kmem_cache *s, void *obj, uintptr_t caller)
{
	struct obj_meta *m = obj_meta(s, obj);
	long bad;
	const char *what;
	if (m->state != OBJ_FREE) {
		bad = s->meta_offset;
		what = "object metadata overwritten while free";
	} else if ((bad = debug_first_mismatch((char *)obj - s->red_left, RED_INACTIVE, s->red_left)) >= 0) {
		bad -= s->red_left;
		what = "left red zone written while free";
	} else if ((bad = poison_mismatch(s, obj)) >= 0) {
		what = "poison changed: the object was written after it was freed";
	} else if ((bad = debug_first_mismatch((char *)obj + s->object_size, RED_INACTIVE,
					       s->meta_offset - s->object_size)) >= 0) {
		bad += s->object_size;
		what = "right red zone written while free";
	} else {
		return true;
	}
	char detail[96];
	snprintf(detail, sizeof(detail), "%s (freed by %p); quarantined", what, (void *)m->free_caller);
	heap_report(HEAP_ERR_USE_AFTER_FREE, obj, s, caller, bad, detail);
	return false;
}

void debug_mark_alloc(struct kmem_cache *s, void *obj, size_t requested, uintptr_t caller)
{
	struct obj_meta *m = obj_meta(s, obj);
	m->state = OBJ_ALLOC;
	m->alloc_caller = caller;
	m->requested = requested;
	s->requested_waste += s->object_size - requested;
	paint_redzones(s, obj, RED_ACTIVE, requested);
}

bool debug_set_requested(struct kmem_cache *s, void *obj, size_t requested)
{
	struct obj_meta *m = obj_meta(s, obj);
	spin_lock(&s->lock);
	bool ok = m->state == OBJ_ALLOC && !active_redzone_mismatch(s, obj, m->requested);
	if (ok) {
		s->requested_waste -= s->object_size - m->requested;
		s->requested_waste += s->object_size - requested;
		m->requested = requested;
		memset((char *)obj + requested, RED_ACTIVE, s->meta_offset - requested);
	}
	spin_unlock(&s->lock);
	return ok;
}

int debug_check_free(struct kmem_cache *s, void *obj, uintptr_t caller)
{
	struct obj_meta *m = obj_meta(s, obj);
	char detail[96];
	long bad;
	if (m->state == OBJ_FREE || m->state == OBJ_QUARANTINE) {
		snprintf(detail, sizeof(detail), "already %s by %p (allocated by %p)",
			 m->state == OBJ_FREE ? "freed" : "refused", (void *)m->free_caller,
			 (void *)m->alloc_caller);
		heap_report(HEAP_ERR_DOUBLE_FREE, obj, s, caller, 0, detail);
		return -EINVAL;
	}
	if (m->state != OBJ_ALLOC) {
		heap_report(HEAP_ERR_REDZONE, obj, s, caller, s->meta_offset,
			    "metadata after the right red zone overwritten; quarantined");
		return 1;
	}
	if ((bad = active_redzone_mismatch(s, obj, m->requested)) < 0) {
		snprintf(detail, sizeof(detail),
			 "underflow: left red zone overwritten (allocated by %p); quarantined",
			 (void *)m->alloc_caller);
		heap_report(HEAP_ERR_REDZONE, obj, s, caller, bad, detail);
		return 1;
	}
	if (bad > 0) {
		snprintf(detail, sizeof(detail), "overflow past %u bytes (allocated by %p); quarantined",
			 m->requested, (void *)m->alloc_caller);
		heap_report(HEAP_ERR_REDZONE, obj, s, caller, bad, detail);
		return 1;
	}
	return 0;
}

void debug_mark_free(struct kmem_cache *s, void *obj, uintptr_t caller)
{
	struct obj_meta *m = obj_meta(s, obj);
	s->requested_waste -= s->object_size - m->requested;
	m->requested = s->object_size;
	m->state = OBJ_FREE;
	m->free_caller = caller;
	poison(s, obj);
	paint_redzones(s, obj, RED_INACTIVE, s->object_size);
}
