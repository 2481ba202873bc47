#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *secret_file_open(const char *path, const char *what, char *err, size_t err_size)
{
	const char *space = what ? " " : "";
	what = what ? what : "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_size, "%s%s%s: %s", what, space, path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "%s%s%s: not a regular file", what, space, path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, err_size, "%s%s%s: mode %04o lets group or others in (chmod 600 it)", what, space, path,
			 (unsigned)(st.st_mode & 07777));
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, err_size, "%s%s%s: %s", what, space, path, strerror(errno));
		close(fd);
	}
	return f;
}

bool secret_file_private(const char *path, const char *what, char *err, size_t err_size)
{
	FILE *f = secret_file_open(path, what, err, err_size);
	if (f)
		fclose(f);
	return f != NULL;
}
