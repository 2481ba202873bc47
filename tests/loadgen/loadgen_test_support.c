#include "loadgen_test_support.h"

#include <stdio.h>

json_t *test_load_summary(const char *report_dir)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/summary.json", report_dir);
	json_error_t e;
	return json_load_file(path, 0, &e);
}

uint64_t test_count(json_t *summary, const char *name)
{
	json_t *v = json_object_get(json_object_get(summary, "counts"), name);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

uint64_t test_code(json_t *summary, const char *table, const char *code)
{
	json_t *v = json_object_get(json_object_get(summary, table), code);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}
