#include "eal_runtime_dir.h"

#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

void eal_cleanup_and_remove_runtime_dir(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	DIR *dir = opendir(path);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		char file[1024];
		snprintf(file, sizeof file, "%s/%s", path, e->d_name);
		if (e->d_name[0] != '.')
			unlink(file);
	}
	closedir(dir);
	rmdir(path);
}
