/*
 * System V shared memory: the segment table (keys, Linux-like ids, the
 * attach count, removal) over the page cache. A segment is an
 * address_space with no backing store; an attachment is a struct file
 * mapped MAP_SHARED with do_mmap_file(), whose areas the page cache
 * reports back through vma_open / vma_close.
 *
 * References to a segment: one for the table (while its id is valid) and
 * one per attach file. The id leaves the table when the segment is marked
 * (IPC_RMID) and nothing maps it; the memory goes with the last reference,
 * so a closing area never frees the mapping it still points into.
 *
 * Reference: Linux ipc/shm.c, ipc/util.c (see shm.h).
 */
#include "panic.h"
#include "shm.h"
#include "errno.h"
#include "file.h"
#include "initcall.h"
#include "kmalloc.h"
#include "mm_locked.h"
#include "mman.h"
#include "pagecache.h"
#include "pagecache_internal.h"
#include "proc.h"
#include "spinlock.h"
#include "string.h"
#include "uaccess.h"
#include "vma_tree.h"

/** One segment (Linux's struct shmid_kernel). */
struct shm_segment {
	int id;			      /**< seq << SHM_ID_SHIFT | slot. */
	int key;		      /**< Its key; IPC_PRIVATE once marked. */
	unsigned mode;		      /**< Permission bits | SHM_DEST. */
	unsigned short seq;	      /**< The id's sequence number. */
	bool deleted;		      /**< Out of the table: the id is gone. */
	size_t segsz;		      /**< Bytes asked for. */
	unsigned long pages;	      /**< segsz in pages. */
	unsigned long nattch;	      /**< Areas that map it (shm_nattch). */
	int cpid;		      /**< Creator's pid. */
	int lpid;		      /**< Last shmat/shmdt pid. */
	int refs;		      /**< The table's and the attach files' (atomic). */
	struct address_space mapping; /**< Its pages. */
};

static struct spinlock shm_lock = SPINLOCK_INIT("shm");
/* The table, all guarded by shm_lock: the slots, how many are used, the
 * highest used (-1: none), the cyclic allocator's cursor, the last slot
 * given out and the sequence number (ipc_ids), and the pages (shm_tot). */
static struct shm_segment *slots[SHM_SLOTS];
static int in_use;
static int max_idx = -1;
static int next_idx;
static int last_idx = -1;
static int seq;
static unsigned long shm_tot;

static int current_pid(void)
{
	struct proc *p = current_proc();
	return p ? p->pid : 0;
}

static void seg_get(struct shm_segment *seg) { __atomic_add_fetch(&seg->refs, 1, __ATOMIC_RELAXED); }

/* Drop a reference; the last frees the pages and the segment. No lock held. */
static void seg_put(struct shm_segment *seg)
{
	if (__atomic_sub_fetch(&seg->refs, 1, __ATOMIC_ACQ_REL))
		return;
	mapping_release(&seg->mapping);
	kfree(seg);
}

/* The segment of id @id, or NULL (ipc_obtain_object_check). Caller holds shm_lock. */
static struct shm_segment *lookup(int id)
{
	if (id < 0)
		return NULL;
	unsigned idx = (unsigned)id & ((1u << SHM_ID_SHIFT) - 1);
	if (idx >= SHM_SLOTS || !slots[idx])
		return NULL;
	return slots[idx]->seq == (unsigned)(id >> SHM_ID_SHIFT) ? slots[idx] : NULL;
}

/* The segment with key @key (not IPC_PRIVATE), or NULL. Caller holds shm_lock. */
static struct shm_segment *find_key(int key)
{
	for (int i = 0; i <= max_idx; i++)
		if (slots[i] && slots[i]->key == key)
			return slots[i];
	return NULL;
}

/* A free slot in [from, end), or -1. */
static int free_slot(int from, int end)
{
	for (int i = from; i < end; i++)
		if (!slots[i])
			return i;
	return -1;
}

/*
 * Put @seg in the table and give it an id: Linux's ipc_idr_alloc, a cyclic
 * search over max(in_use * 3/2, 64) slots from after the last one given out,
 * the sequence number stepping each time the search wraps around.
 * Caller holds shm_lock and checked in_use < SHMMNI. @return the slot.
 */
static int table_add(struct shm_segment *seg)
{
	int end = in_use * 3 / 2 > SHM_MIN_CYCLE ? in_use * 3 / 2 : SHM_MIN_CYCLE;
	if (end > SHM_SLOTS)
		end = SHM_SLOTS;
	int idx = next_idx < end ? free_slot(next_idx, end) : -1;
	if (idx < 0)
		idx = free_slot(0, end); /* in_use < end: there is one */
	next_idx = idx + 1;
	if (idx <= last_idx && ++seq >= SHM_SEQ_MAX)
		seq = 0;
	last_idx = idx;
	seg->seq = (unsigned short)seq;
	seg->id = seq << SHM_ID_SHIFT | idx;
	slots[idx] = seg;
	in_use++;
	if (idx > max_idx)
		max_idx = idx;
	shm_tot += seg->pages;
	return idx;
}

/* Take @seg out of the table (ipc_rmid): its id is no longer valid. The
 * caller holds shm_lock and drops the table's reference after unlocking. */
static void table_remove(struct shm_segment *seg)
{
	int idx = seg->id & ((1 << SHM_ID_SHIFT) - 1);
	slots[idx] = NULL;
	in_use--;
	shm_tot -= seg->pages;
	seg->deleted = true;
	while (max_idx >= 0 && !slots[max_idx])
		max_idx--;
}

/* True if @seg should leave the table now (shm_may_destroy). Caller holds shm_lock. */
static bool may_destroy(const struct shm_segment *seg)
{
	return !seg->deleted && seg->nattch == 0 && (seg->mode & SHM_DEST);
}

/* ---- the page cache's side: pages, the attach file, the area callbacks ---- */

/* A segment's page is new memory: zeros (shmem's fresh page). */
static int shm_readpage(struct address_space *mapping, uint64_t index, void *kva)
{
	(void)mapping, (void)index;
	memset(kva, 0, PAGE_SIZE);
	return 0;
}

/* No backing store: writepage NULL, the pages are never written back nor reclaimed. */
static const struct address_space_ops shm_aops = {.readpage = shm_readpage, .writepage = NULL};

/* The attach file is never in a descriptor table; read/write are Linux's
 * answer for a file without them. */
static long shm_file_rw(struct file *f, struct io_buf buf, size_t len)
{
	(void)f, (void)buf, (void)len;
	return -EINVAL;
}

static long shm_file_write(struct file *f, struct io_buf buf, size_t len) { return shm_file_rw(f, buf, len); }

/* The last reference to an attach file (its last area, or shmat's own). */
static void shm_file_release(struct file *f) { seg_put(f->private_data); }

static const struct file_ops shm_file_ops = {
	.read = shm_file_rw,
	.write = shm_file_write,
	.release = shm_file_release,
};

static struct address_space *shm_file_mapping(struct file *f)
{
	return &((struct shm_segment *)f->private_data)->mapping;
}

/* LAB BEGIN ch5 shm: count the areas that map a segment; a segment marked for removal goes with its last */
/* An area now maps an attachment (shmat, fork, a split): Linux's shm_open. */
static void shm_vma_open(struct file *f)
{
	struct shm_segment *seg = f->private_data;
	spin_lock(&shm_lock);
	seg->nattch++;
	seg->lpid = current_pid();
	spin_unlock(&shm_lock);
}

/* An area of an attachment is gone: Linux's shm_close, which destroys a
 * marked segment with its last attachment. Called under mm->lock. */
static void shm_vma_close(struct file *f)
{
	struct shm_segment *seg = f->private_data;
	spin_lock(&shm_lock);
	seg->lpid = current_pid();
	seg->nattch--;
	bool destroy = may_destroy(seg);
	if (destroy)
		table_remove(seg);
	spin_unlock(&shm_lock);
	if (destroy)
		seg_put(seg); /* the table's; this area's file still holds one */
}
/* LAB STUB
static void shm_vma_open(struct file *f)
{
	TODO("ch5", "shm: count an attachment's areas (shm_nattch)");
	(void)f, (void)current_pid;
}

static void shm_vma_close(struct file *f)
{
	TODO("ch5", "shm: an area of an attachment is gone; a marked segment goes with its last");
	(void)f, (void)table_remove;
}
LAB END */

static const struct file_map_ops shm_map_ops = {
	.mapping = shm_file_mapping,
	.vma_open = shm_vma_open,
	.vma_close = shm_vma_close,
};

static int shm_init(void) { return file_mapping_register(&shm_file_ops, &shm_map_ops); }
initcall(INIT_LATE, shm_init);

/* The shm attach file that area @vma maps, or NULL if it maps something else. */
static struct file *shm_area_file(const struct vma *vma)
{
	const struct file_area *fa = file_area_of(vma);
	return fa && fa->file->ops == &shm_file_ops ? fa->file : NULL;
}

/* ---- shmget ---- */

/* A new segment of @size bytes for @key (newseg's checks, the table's
 * ENOSPC), or an errno. Caller holds shm_lock; @seg was allocated by it. */
static long newseg(struct shm_segment *seg, int key, size_t size, int shmflg)
{
	if (size < SHMMIN || size > SHMMAX)
		return -EINVAL;
	unsigned long pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	if (shm_tot + pages < shm_tot || shm_tot + pages > SHMALL)
		return -ENOSPC;
	if (in_use >= SHMMNI)
		return -ENOSPC;
	seg->key = key;
	seg->mode = (unsigned)shmflg & SHM_MODE;
	seg->segsz = size;
	seg->pages = pages;
	seg->cpid = current_pid();
	seg->refs = 1; /* the table's */
	mapping_init(&seg->mapping, &shm_aops, seg, size);
	table_add(seg);
	return seg->id;
}

long shm_get(int key, size_t size, int shmflg)
{
	/* A new segment is allocated before taking the lock and given back
	 * if it was not needed. */
	struct shm_segment *seg = NULL;
	for (;;) {
		spin_lock(&shm_lock);
		long r;
		struct shm_segment *old = key == IPC_PRIVATE ? NULL : find_key(key);
		if (old) {
			if ((shmflg & IPC_CREAT) && (shmflg & IPC_EXCL))
				r = -EEXIST;
			else if (old->segsz < size)
				r = -EINVAL; /* shm_more_checks */
			else
				r = old->id;
		} else if (key != IPC_PRIVATE && !(shmflg & IPC_CREAT)) {
			r = -ENOENT;
		} else if (size < SHMMIN || size > SHMMAX) {
			r = -EINVAL; /* newseg's first check, before any allocation */
		} else if (!seg) {
			spin_unlock(&shm_lock);
			seg = kzalloc(sizeof(*seg));
			if (!seg)
				return -ENOMEM;
			continue; /* look again: another caller may have made the key's */
		} else {
			r = newseg(seg, key, size, shmflg);
			if (r >= 0)
				seg = NULL; /* the table's now */
		}
		spin_unlock(&shm_lock);
		kfree(seg);
		return r;
	}
}

/* ---- shmat ---- */

/* shmat is over: drop the count it held across the mapping (do_shmat's
 * out_nattch), removing a segment marked meanwhile that nothing maps. */
static void attach_done(struct shm_segment *seg)
{
	spin_lock(&shm_lock);
	seg->nattch--;
	bool destroy = may_destroy(seg);
	if (destroy)
		table_remove(seg);
	spin_unlock(&shm_lock);
	if (destroy)
		seg_put(seg);
}

long shm_attach(struct mm *mm, int shmid, vaddr_t addr, int shmflg)
{
	unsigned long flags = MAP_SHARED;
	if (shmid < 0)
		return -EINVAL;
	if (addr) {
		if (addr & (SHMLBA - 1)) {
			if (!(shmflg & SHM_RND))
				return -EINVAL;
			addr &= ~(SHMLBA - 1);
			if (!addr && (shmflg & SHM_REMAP))
				return -EINVAL;
		}
		/* Exactly there; without SHM_REMAP, not over an area (EINVAL
		 * below), checked atomically by MAP_FIXED_NOREPLACE. */
		flags |= shmflg & SHM_REMAP ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	} else if (shmflg & SHM_REMAP) {
		return -EINVAL;
	}
	unsigned long prot = shmflg & SHM_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE;
	unsigned fmode = shmflg & SHM_RDONLY ? FMODE_READ : FMODE_READ | FMODE_WRITE;
	if (shmflg & SHM_EXEC)
		prot |= PROT_EXEC;

	spin_lock(&shm_lock);
	struct shm_segment *seg = lookup(shmid);
	if (!seg) {
		spin_unlock(&shm_lock);
		return -EINVAL;
	}
	/* Hold the segment across the mapping: a count (so an IPC_RMID meanwhile
	 * does not remove it) and a reference for the file. */
	seg->nattch++;
	size_t size = seg->segsz;
	seg_get(seg);
	spin_unlock(&shm_lock);

	long r = -ENOMEM;
	struct file *file = file_alloc(&shm_file_ops, fmode, seg);
	if (!file) {
		attach_done(seg);
		seg_put(seg);
		return r;
	}
	if (addr && !(shmflg & SHM_REMAP) && addr + size < addr)
		r = -EINVAL;
	else
		r = do_mmap_file(mm, addr, size, prot, flags, file, 0);
	if (r == -EEXIST && (flags & MAP_FIXED_NOREPLACE))
		r = -EINVAL; /* do_shmat's find_vma_intersection */
	attach_done(seg);
	file_put(file); /* the area holds its own; a failed attach's last goes here */
	return r;
}

/* ---- shmdt ---- */

/* True if @vma maps attachment @f (any, if NULL) at its distance from @addr
 * into the segment: a piece of an attachment made at @addr. */
static bool attached_at(const struct vma *vma, vaddr_t addr, const struct file *f)
{
	const struct file *vf = shm_area_file(vma);
	return vf && (!f || vf == f) && vma->start - addr == vma->pgoff;
}

long shm_detach(struct mm *mm, vaddr_t addr)
{
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	long r = -EINVAL;
	spin_lock(&mm->lock);
	/* The first area at or above addr that an attachment made at addr
	 * left: its attachment and its segment's size say what else to take
	 * (every area is taken whole, so the removal cannot fail). */
	struct vma *vma = mm_find_vma_after(mm, addr);
	const struct file *file = NULL;
	uint64_t size = 0;
	while (vma) {
		struct vma *next = vma_tree_next(vma);
		if (attached_at(vma, addr, NULL)) {
			file = shm_area_file(vma);
			size = ((struct shm_segment *)file->private_data)->segsz;
			mm_remove_range_locked(mm, vma->start, vma->end);
			r = 0;
			vma = next;
			break;
		}
		vma = next;
	}
	/* The other pieces of that attachment, no further than its size
	 * from addr (file is only compared: it may be freed by now, and no
	 * other file can be made at its address while mm->lock is held
	 * and mapped here). */
	size = (size + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	while (vma && vma->end - addr <= size) {
		struct vma *next = vma_tree_next(vma);
		if (attached_at(vma, addr, file))
			mm_remove_range_locked(mm, vma->start, vma->end);
		vma = next;
	}
	spin_unlock(&mm->lock);
	return r;
}

/* ---- shmctl ---- */

int shm_stat(int shmid, struct shmid64_ds *out)
{
	memset(out, 0, sizeof(*out));
	spin_lock(&shm_lock);
	struct shm_segment *seg = lookup(shmid);
	if (!seg) {
		spin_unlock(&shm_lock);
		return -EINVAL;
	}
	out->shm_perm.key = seg->key;
	out->shm_perm.mode = seg->mode;
	out->shm_perm.seq = seg->seq;
	out->shm_segsz = seg->segsz;
	out->shm_cpid = seg->cpid;
	out->shm_lpid = seg->lpid;
	out->shm_nattch = seg->nattch;
	spin_unlock(&shm_lock);
	return 0;
}

int shm_rmid(int shmid)
{
	spin_lock(&shm_lock);
	struct shm_segment *seg = lookup(shmid);
	if (!seg) {
		spin_unlock(&shm_lock);
		return -EINVAL;
	}
	/* do_shm_rmid: mark it and hide its key; it goes now if unattached. */
	seg->mode |= SHM_DEST;
	seg->key = IPC_PRIVATE;
	bool destroy = may_destroy(seg);
	if (destroy)
		table_remove(seg);
	spin_unlock(&shm_lock);
	if (destroy)
		seg_put(seg);
	return 0;
}

/* IPC_SET: the permission bits of @in (uid and gid stay root's). */
static int shm_set(int shmid, const struct shmid64_ds *in)
{
	spin_lock(&shm_lock);
	struct shm_segment *seg = lookup(shmid);
	if (seg)
		seg->mode = (seg->mode & ~SHM_MODE) | (in->shm_perm.mode & SHM_MODE);
	spin_unlock(&shm_lock);
	return seg ? 0 : -EINVAL;
}

long shm_ctl(int shmid, int cmd, vaddr_t ubuf)
{
	struct shmid64_ds ds;
	if (cmd < 0 || shmid < 0)
		return -EINVAL;
	switch (cmd) {
	case IPC_STAT: {
		int err = shm_stat(shmid, &ds);
		if (err)
			return err;
		return copy_to_user(ubuf, &ds, sizeof(ds)) ? -EFAULT : 0;
	}
	case IPC_SET:
		if (copy_from_user(&ds, ubuf, sizeof(ds)))
			return -EFAULT;
		return shm_set(shmid, &ds);
	case IPC_RMID:
		return shm_rmid(shmid);
	default:
		return -EINVAL;
	}
}

int shm_destroy_orphaned(void)
{
	int removed = 0;
	for (;;) {
		/* One at a time: seg_put() may not run under shm_lock. */
		struct shm_segment *seg = NULL;
		spin_lock(&shm_lock);
		for (int i = 0; i <= max_idx && !seg; i++)
			if (slots[i] && slots[i]->nattch == 0)
				seg = slots[i];
		if (seg)
			table_remove(seg);
		spin_unlock(&shm_lock);
		if (!seg)
			return removed;
		seg_put(seg);
		removed++;
	}
}

int shm_nr_segments(void)
{
	spin_lock(&shm_lock);
	int n = in_use;
	spin_unlock(&shm_lock);
	return n;
}

unsigned long shm_total_pages(void)
{
	spin_lock(&shm_lock);
	unsigned long n = shm_tot;
	spin_unlock(&shm_lock);
	return n;
}
