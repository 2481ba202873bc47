/* Reading the log files that started programs write, for failing tests and start-up checks. */
#ifndef TEST_LOG_FILE_H
#define TEST_LOG_FILE_H

#include <stdbool.h>

/* Copies the log to stderr under a title line, at most max_lines lines (0: all). */
void test_log_dump(const char *title, const char *path, int max_lines);
/* The log's size in bytes (0 when it does not exist): where a new run's lines will start. */
long test_log_size(const char *path);
/* True when the log, from byte offset on, has a line containing text. */
bool test_log_mentions(const char *path, long offset, const char *text);

#endif
