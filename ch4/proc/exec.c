/*
 * execve(2): the program comes from the initramfs; its new address space
 * is built completely (segments, stack, stack guard, the stack's contents)
 * before the old one is touched, so a failed exec returns its error to a
 * caller that still has all its memory. Also the first process of a user
 * suite (proc_spawn()), which is an exec into a new process.
 *
 * Reference: Linux fs/exec.c (do_execveat_common, copy_strings,
 * begin_new_exec's de_thread and exec_mmap), fs/binfmt_elf.c.
 */
#include "cpio.h"
#include "elf.h"
#include "errno.h"
#include "exec_stack.h"
#include "file.h"
#include "initcall.h"
#include "kmalloc.h"
#include "mm.h"
#include "sched.h"
#include "string.h"
#include "syscall.h"
#include "uaccess.h"

/* The stack area and the guard gap under it (never mapped). */
static int add_stack(struct mm *mm)
{
	vaddr_t lo = USER_STACK_TOP - USER_STACK_SIZE;
	struct vma *stack = vma_alloc(lo, USER_STACK_TOP, VM_READ | VM_WRITE, VM_STACK, &anon_backend);
	struct vma *guard = vma_alloc(lo - USER_STACK_GUARD, lo, VM_NONE, VM_GUARD, &anon_backend);
	int err = stack && guard ? mm_add_vma(mm, stack, 0) : -ENOMEM;
	if (err) {
		vma_free(stack);
		vma_free(guard);
		return err;
	}
	err = mm_add_vma(mm, guard, 0);
	if (err)
		vma_free(guard); /* the stack is the mm's now */
	return err;
}

/* A new mm running program @path with @a on its stack. */
static int build_image(const char *path, const struct exec_args *a, struct mm **mm_out, struct elf_info *info,
		       vaddr_t *sp, const char **name)
{
	struct cpio_file f;
	if (initramfs_find(path, &f) != 0)
		return -ENOENT;
	struct mm *mm = mm_create();
	if (!mm)
		return -ENOMEM;
	int err = elf_load(mm, f.data, f.size, f.name, info);
	if (!err)
		err = add_stack(mm);
	if (!err)
		err = exec_stack_build(mm, a, info, sp);
	if (err) {
		mm_put(mm);
		return err;
	}
	*mm_out = mm;
	*name = f.name;
	return 0;
}

int proc_exec(const char *path, const struct exec_args *a)
{
	struct mm *mm;
	struct elf_info info;
	vaddr_t sp;
	const char *name;
	int err = build_image(path, a, &mm, &info, &sp, &name);
	if (err)
		return err;
	/* The point of no return: the other threads go (Linux's de_thread). */
	struct thread *t = current_thread(), *o;
	struct proc *p = t->proc;
	spin_lock(&proc_lock);
	if (t->exiting || p->killed) {
		/* Another thread's exec, or a kill, won the race (Linux's
		 * de_thread lets one exec through): this thread is to exit,
		 * which it does on its way out. */
		spin_unlock(&proc_lock);
		mm_put(mm);
		return -EINTR;
	}
	bool on = sched_lock_irq();
	list_for_each_entry(o, &p->threads, siblings)
	{
		if (o != t) {
			__atomic_store_n(&o->exiting, true, __ATOMIC_RELEASE);
			sched_wake_thread(o);
		}
	}
	sched_unlock_irq(on);
	/* Wait until they are gone, as Linux's de_thread does: none of them
	 * may run on in the old image, or end the process with its own status,
	 * once the new one runs. */
	while (p->nr_threads > 1) {
		if (wq_sleep(&p->exec_wq, &proc_lock) == -EINTR) {
			spin_unlock(&proc_lock);
			mm_put(mm);
			return -EINTR; /* killed meanwhile: the process ends anyway */
		}
	}
	p->mm = mm;
	strlcpy(p->name, name, sizeof(p->name));
	t->tid = p->pid; /* the leader is gone: this thread takes its place (Linux's de_thread) */
	spin_unlock(&proc_lock);
	/* The new image is committed: descriptors marked close-on-exec go
	 * (Linux's begin_new_exec -> do_close_on_exec); the others stay. */
	files_close_on_exec(p->files);
	struct mm *old = t->mm;
	t->mm = mm; /* mm_create()'s reference is the thread's now */
	t->clear_child_tid = 0;
	/* The hart first (its put of the old mm is then never the last), then
	 * the thread's reference, which frees the old image if it was the last. */
	sched_switch_mm(mm);
	mm_put(old);
	trap_frame_init_user(thread_frame(t), info.entry, sp);
	return 0;
}

int proc_spawn(const char *name)
{
	return proc_spawn_args(name, &(struct exec_args){name, strlen(name) + 1, 1, 0});
}

int proc_spawn_args(const char *name, const struct exec_args *a)
{
	struct mm *mm;
	struct elf_info info;
	vaddr_t sp;
	const char *stored;
	int err = build_image(name, a, &mm, &info, &sp, &stored);
	if (err)
		return err;
	int pid = pid_alloc();
	struct proc *p = proc_alloc(stored, pid);
	struct thread *t = p ? thread_create(p, mm) : NULL;
	mm_put(mm); /* the thread holds its own reference */
	if (t)
		p->files = files_create_console();
	if (!t || !p->files) {
		if (t)
			thread_free(t);
		if (p)
			proc_put(p);
		return -ENOMEM;
	}
	p->mm = mm;
	p->suite_init = true;
	t->tid = pid;
	trap_frame_init_user(thread_frame(t), info.entry, sp);
	proc_link(p, NULL);
	proc_attach_thread(p, t);
	bool on = sched_lock_irq();
	sched_make_runnable(t);
	sched_unlock_irq(on);
	return 0;
}

/* Copy the NULL-terminated user array of strings at @uvec into @buf at *@used. */
static int copy_strings(vaddr_t uvec, char *buf, size_t *used, int *count)
{
	for (int i = 0; uvec; i++) {
		uint64_t ptr;
		if (copy_from_user(&ptr, uvec + 8UL * i, sizeof(ptr)))
			return -EFAULT;
		if (!ptr)
			return 0;
		if (*count >= EXEC_STRINGS_MAX)
			return -E2BIG;
		long n = strncpy_from_user(buf + *used, ptr, EXEC_ARGS_MAX - *used);
		if (n < 0)
			return n == -ENAMETOOLONG ? -E2BIG : (int)n;
		*used += n + 1;
		(*count)++;
	}
	return 0; /* a NULL array: none (Linux allows it) */
}

/* execve(path, argv, envp) */
static long sys_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	char path[256];
	long n = strncpy_from_user(path, upath, sizeof(path));
	if (n < 0)
		return n;
	char *buf = kmalloc(EXEC_ARGS_MAX);
	if (!buf)
		return -ENOMEM;
	size_t used = 0;
	int argc = 0, envc = 0;
	int err = copy_strings(uargv, buf, &used, &argc);
	if (!err)
		err = copy_strings(uenvp, buf, &used, &envc);
	if (!err) {
		struct exec_args a = {buf, used, argc, envc};
		err = proc_exec(path, &a);
	}
	kfree(buf);
	return err;
}

static int exec_init(void) { return syscall_register(SYS_execve, sys_execve); }
initcall(INIT_PROC, exec_init);
