/* Names of error numbers, for messages and test diagnostics. */
#include "errno.h"
#include "types.h"

static const char *const names[] = {
	[EPERM] = "EPERM",
	[ENOENT] = "ENOENT",
	[ESRCH] = "ESRCH",
	[EINTR] = "EINTR",
	[EIO] = "EIO",
	[E2BIG] = "E2BIG",
	[ENOEXEC] = "ENOEXEC",
	[EBADF] = "EBADF",
	[ECHILD] = "ECHILD",
	[EAGAIN] = "EAGAIN",
	[ENOMEM] = "ENOMEM",
	[EACCES] = "EACCES",
	[EFAULT] = "EFAULT",
	[EBUSY] = "EBUSY",
	[EEXIST] = "EEXIST",
	[ENODEV] = "ENODEV",
	[EINVAL] = "EINVAL",
	[ENOSPC] = "ENOSPC",
	[ERANGE] = "ERANGE",
	[EMFILE] = "EMFILE",
	[EPIPE] = "EPIPE",
	[ENAMETOOLONG] = "ENAMETOOLONG",
	[ENOSYS] = "ENOSYS",
	[EOVERFLOW] = "EOVERFLOW",
	[ENOTDIR] = "ENOTDIR",
	[EISDIR] = "EISDIR",
	[EFBIG] = "EFBIG",
	[ESPIPE] = "ESPIPE",
	[EROFS] = "EROFS",
	[EIDRM] = "EIDRM",
	[EOPNOTSUPP] = "EOPNOTSUPP",
};

const char *errno_name(int err)
{
	if (err < 0)
		err = -err;
	if (err < (int)ARRAY_SIZE(names) && names[err])
		return names[err];
	return "E?";
}
