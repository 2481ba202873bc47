#include "test_log_file.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void test_log_dump(const char *title, const char *path, int max_lines)
{
	if (!path || !path[0])
		return;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "---- %s (%s)\n", title, path);
	char line[512];
	for (int lines = 0; (max_lines == 0 || lines < max_lines) && fgets(line, sizeof(line), f); lines++)
		fputs(line, stderr);
	fclose(f);
}

long test_log_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

bool test_log_mentions(const char *path, long offset, const char *text)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	fseek(f, offset, SEEK_SET);
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}
