/*
 * Writes a finished run's report: the summary on stdout and, in the report
 * directory, summary.txt, summary.json, latency.hgrm and (unless --no-plots)
 * the gnuplot pictures. intervals.tsv was written while the run went on.
 */
#ifndef LOADGEN_REPORT_FILES_H
#define LOADGEN_REPORT_FILES_H

#include "loadgen_options.h"
#include "loadgen_report.h"

/* 0, or 1 when a data file could not be written (message on stderr); a missing plot is no failure. */
int loadgen_report_write(const struct loadgen_options *o, const char *dir, struct loadgen_summary *summary);

#endif
