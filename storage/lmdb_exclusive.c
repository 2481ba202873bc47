#include "lmdb_exclusive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int lmdb_exclusive_take(const char *dir, char *err, size_t err_size)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/lock.mdb", dir) >= (int)sizeof(path)) {
		snprintf(err, err_size, "%s: path too long", dir);
		return -1;
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct flock byte0 = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	if (fcntl(fd, F_SETLK, &byte0) == 0)
		return fd;
	int why = errno;
	struct flock holder = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	if (why == EACCES || why == EAGAIN) {
		long pid = fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK ? (long)holder.l_pid : 0;
		if (pid)
			snprintf(err, err_size, "%s is in use by process %ld: stop the agent using it first", dir, pid);
		else
			snprintf(err, err_size, "%s is in use by another process: stop the agent using it first", dir);
	} else {
		snprintf(err, err_size, "%s: locking: %s", path, strerror(why));
	}
	/* Closing our descriptor drops every fcntl lock of this process on the file, LMDB's too: the
	 * caller closes the environment next anyway. */
	close(fd);
	return -1;
}

void lmdb_exclusive_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
