#include "loadgen_report_files.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool write_hgrm(const char *dir, const struct latency_histogram *h, char *err, size_t err_size)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/latency.hgrm", dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
		return false;
	}
	int rc = latency_histogram_write_hgrm(h, f, 1000.0, 5);
	if (fclose(f) != 0 || rc != 0) {
		snprintf(err, err_size, "cannot write %s", path);
		return false;
	}
	return true;
}

int loadgen_report_write(const struct loadgen_options *o, const char *dir, struct loadgen_summary *summary)
{
	char err[2048], path[1200];
	int rc = 0;
	loadgen_summary_text(summary, stdout);
	fflush(stdout);
	snprintf(path, sizeof path, "%s/summary.txt", dir);
	FILE *f = fopen(path, "w");
	if (f) {
		loadgen_summary_text(summary, f);
		fclose(f);
	} else {
		fprintf(stderr, "cardholder-loadgen: cannot write %s: %s\n", path, strerror(errno));
		rc = 1;
	}
	snprintf(path, sizeof path, "%s/summary.json", dir);
	if (!loadgen_summary_json(summary, path, err, sizeof err)) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		rc = 1;
	}
	if (!write_hgrm(dir, summary->latency, err, sizeof err)) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		rc = 1;
	}
	bool plotted = o->plots && loadgen_write_plots(dir, summary->latency->total_count > 0, err, sizeof err);
	if (o->plots && !plotted)
		fprintf(stderr, "cardholder-loadgen: plots: %s\n", err); /* the data files are the report */
	printf("report: %s/{summary.txt,summary.json,latency.hgrm,intervals.tsv%s}\n", dir,
	       plotted ? ",percentiles.png,rate.png" : "");
	return rc;
}
