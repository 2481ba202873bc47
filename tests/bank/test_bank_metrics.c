/* The bank's /metrics page from known counters: the lines a dashboard reads, and promtool's approval. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_metrics.h"

static struct bank_stats stats;

Test(bank_metrics, counters_answers_and_commit)
{
	stat_add(&stats.received, 12);
	stat_add(&stats.approved, 9);
	stat_add(&stats.by_action[0], 9);
	stat_add(&stats.by_action[116], 2);
	stat_add(&stats.by_action[904], 1);
	struct group_commit_stats gc = {.batches = 3, .items = 11, .largest_batch = 6, .syncs = 1};
	size_t len;
	char *text = bank_metrics_text("lil_bank", &stats, &gc, NULL, &len);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "iso_bank_received_total{bank=\"lil_bank\"} 12\n"));
	cr_assert(strstr(text, "iso_bank_approved_total{bank=\"lil_bank\"} 9\n"));
	cr_assert(strstr(text, "iso_bank_answers_total{bank=\"lil_bank\",action=\"000\"} 9\n"));
	cr_assert(strstr(text, "iso_bank_answers_total{bank=\"lil_bank\",action=\"116\"} 2\n"));
	cr_assert(strstr(text, "iso_bank_answers_total{bank=\"lil_bank\",action=\"904\"} 1\n"));
	cr_assert_null(strstr(text, "action=\"100\""), "codes never answered are left out");
	cr_assert(strstr(text, "iso_bank_commit_largest_batch{bank=\"lil_bank\"} 6\n"));
	FILE *p = popen("promtool check metrics > /dev/null 2>&1", "w");
	cr_assert_not_null(p);
	fwrite(text, 1, len, p);
	cr_assert_eq(pclose(p), 0, "promtool check metrics refused:\n%s", text);
	free(text);
}
