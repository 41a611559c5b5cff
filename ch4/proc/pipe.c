/*
 * Pipes: a ring buffer of one page between a read end and a write end
 * (Linux fs/pipe.c, xv6 kernel/pipe.c; POSIX write(2) and read(2) on pipes).
 *
 * head and tail count bytes written and read since the pipe was made; they
 * only grow (wrapping at 2^64 harmlessly), so head - tail is the fill and
 * neither full nor empty needs a spare byte. pipe::lock guards everything;
 * sleepers wait on rd_wait (for data or the last writer's close) and
 * wr_wait (for room or the last reader's close).
 *
 * Bytes move between the ring and the caller's buffer under the lock, with
 * io_copy_from()/io_copy_to(). As in Linux, whose unit is a pipe buffer (a
 * page), a copy that faults part-way counts for nothing: a write's round
 * (what fits in the ring at once; the whole write when it is at most
 * PIPE_BUF) is published only if all of it copied, so the call returns
 * the bytes of earlier rounds, or -EFAULT if there were none; a read that
 * faults consumes nothing and returns -EFAULT. So an atomic write is also
 * all or nothing when the buffer is bad.
 */
#include "errno.h"
#include "file.h"
#include "frame.h"
#include "initcall.h"
#include "kmalloc.h"
#include "memlayout.h"
#include "proc.h"
#include "syscall.h"
#include "uaccess.h"

struct pipe {
	struct spinlock lock;
	char *buf;		   /* PIPE_SIZE bytes: one frame, through the direct map */
	uint64_t head, tail;	   /* bytes written, bytes read */
	int readers, writers;	   /* open read ends, write ends */
	struct wait_queue rd_wait; /* readers waiting for data */
	struct wait_queue wr_wait; /* writers waiting for room */
};

/* Copy @n bytes of @src (at @off) into the ring at head: two pieces when it
 * wraps. Caller holds the lock and made sure of the room. @return bytes copied. */
static size_t ring_put(struct pipe *p, struct io_buf src, size_t off, size_t n)
{
	size_t at = p->head % PIPE_SIZE;
	size_t first = n < PIPE_SIZE - at ? n : PIPE_SIZE - at;
	size_t done = io_copy_from(p->buf + at, src, off, first);
	if (done == first && n > first)
		done += io_copy_from(p->buf, src, off + first, n - first);
	return done;
}

/* Copy @n bytes from the ring at tail to @dst. @return bytes copied. */
static size_t ring_get(struct pipe *p, struct io_buf dst, size_t n)
{
	size_t at = p->tail % PIPE_SIZE;
	size_t first = n < PIPE_SIZE - at ? n : PIPE_SIZE - at;
	size_t done = io_copy_to(dst, 0, p->buf + at, first);
	if (done == first && n > first)
		done += io_copy_to(dst, first, p->buf, n - first);
	return done;
}

static long pipe_read(struct file *f, struct io_buf buf, size_t len)
{
	struct pipe *p = f->private_data;
	long ret;
	spin_lock(&p->lock);
	for (;;) {
		size_t avail = p->head - p->tail;
		if (avail) {
			size_t want = len < avail ? len : avail;
			if (ring_get(p, buf, want) < want) {
				ret = -EFAULT; /* nothing consumed (Linux: the buffer stays) */
				break;
			}
			p->tail += want;
			wq_wake_all(&p->wr_wait);
			ret = (long)want;
			break;
		}
		if (!p->writers) {
			ret = 0; /* end of file */
			break;
		}
		if (wq_sleep(&p->rd_wait, &p->lock)) {
			ret = -EINTR;
			break;
		}
	}
	spin_unlock(&p->lock);
	return ret;
}

/*
 * POSIX: a write of at most PIPE_BUF bytes goes in whole or waits; a
 * larger one goes in as room comes and may interleave with other writers.
 */
static long pipe_write(struct file *f, struct io_buf buf, size_t len)
{
	struct pipe *p = f->private_data;
	size_t done = 0;
	long err = 0;
	spin_lock(&p->lock);
	while (done < len) {
		if (!p->readers) {
			err = -EPIPE; /* Linux also sends SIGPIPE; mmlab has no handlers to run */
			break;
		}
		size_t room = PIPE_SIZE - (p->head - p->tail);
		size_t need = len <= PIPE_BUF ? len : 1;
		if (room < need) {
			if (wq_sleep(&p->wr_wait, &p->lock)) {
				err = -EINTR;
				break;
			}
			continue;
		}
		size_t n = len - done < room ? len - done : room;
		if (ring_put(p, buf, done, n) < n) {
			err = -EFAULT; /* this round is not published */
			break;
		}
		p->head += n;
		done += n;
		wq_wake_all(&p->rd_wait);
	}
	spin_unlock(&p->lock);
	return done ? (long)done : err;
}

static void pipe_free(struct pipe *p)
{
	frame_free(kva_to_pa(p->buf));
	kfree(p);
}

/* One end closes: the other end's sleepers must see it (EOF, EPIPE). */
static void pipe_release(struct file *f)
{
	struct pipe *p = f->private_data;
	spin_lock(&p->lock);
	if (f->mode & FMODE_READ) {
		p->readers--;
		wq_wake_all(&p->wr_wait);
	} else {
		p->writers--;
		wq_wake_all(&p->rd_wait);
	}
	bool last = !p->readers && !p->writers;
	spin_unlock(&p->lock);
	if (last)
		pipe_free(p);
}

static const struct file_ops pipe_ops = {
	.read = pipe_read,
	.write = pipe_write,
	.release = pipe_release,
};

int pipe_create(struct file **rd, struct file **wr)
{
	struct pipe *p = kzalloc(sizeof(*p));
	paddr_t pa = p ? frame_alloc(0) : 0;
	if (!pa) {
		kfree(p);
		return -ENOMEM;
	}
	spin_init(&p->lock, "pipe");
	p->buf = pa_to_kva(pa);
	wq_init(&p->rd_wait);
	wq_init(&p->wr_wait);
	p->readers = p->writers = 1;
	*rd = file_alloc(&pipe_ops, FMODE_READ, p);
	*wr = *rd ? file_alloc(&pipe_ops, FMODE_WRITE, p) : NULL;
	if (!*wr) {
		kfree(*rd); /* not file_put: its release would see a half-made pipe */
		pipe_free(p);
		return -ENOMEM;
	}
	return 0;
}

size_t pipe_bytes(struct file *f)
{
	struct pipe *p = f->private_data;
	spin_lock(&p->lock);
	size_t n = p->head - p->tail;
	spin_unlock(&p->lock);
	return n;
}

/**
 * pipe2(2): fds (int[2] in user memory), flags (0 or O_CLOEXEC).
 * @return 0; -EINVAL for other flags (Linux also takes O_NONBLOCK and
 *         O_DIRECT; mmlab does not), -EMFILE, -ENOMEM, -EFAULT (no
 *         descriptor is left open).
 */
static long sys_pipe2(uint64_t ufds, uint64_t flags, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a2, (void)a3, (void)a4, (void)a5;
	struct files *files = current_files();
	if (flags & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	if (!files)
		return -EBADF;
	struct file *rd, *wr;
	int err = pipe_create(&rd, &wr);
	if (err)
		return err;
	int fds[2];
	fds[0] = fd_install(files, rd, flags & O_CLOEXEC);
	if (fds[0] < 0) {
		file_put(rd);
		file_put(wr);
		return -EMFILE;
	}
	fds[1] = fd_install(files, wr, flags & O_CLOEXEC);
	if (fds[1] < 0) {
		fd_close(files, fds[0]);
		file_put(wr);
		return -EMFILE;
	}
	/* Linux installs the descriptors after the copy; here a thread sharing
	 * the table may glimpse them for the length of the copy. */
	if (copy_to_user(ufds, fds, sizeof(fds))) {
		fd_close(files, fds[0]);
		fd_close(files, fds[1]);
		return -EFAULT;
	}
	return 0;
}

static int pipe_syscalls_init(void) { return syscall_register(SYS_pipe2, sys_pipe2); }
initcall(INIT_PROC, pipe_syscalls_init);
