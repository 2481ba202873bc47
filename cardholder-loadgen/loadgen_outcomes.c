#include "loadgen_outcomes.h"

#include "loadgen_inflight.h"
#include "loadgen_messages.h"
#include "loadgen_worker.h"
#include "pan_mask.h"

FILE *loadgen_outcomes_open(const char *path, long long start_unix_ns)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return NULL;
	/* Large buffer: a line per request must not cost a write(2) each. */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fprintf(f, "# start_unix_ns %lld\n", start_unix_ns);
	fprintf(f, "# acquirer stan local_time rrn terminal pan(masked) amount intended_ms code reversal_stan reversal_code\n");
	return f;
}

static void answer_text(char out[12], int code)
{
	if (code < 0)
		snprintf(out, 12, "timeout");
	else
		snprintf(out, 12, "%03d", code);
}

static void reversal_text(char out[12], int code)
{
	if (code == LOADGEN_OUTCOME_LOST)
		snprintf(out, 12, "none");
	else if (code < 0)
		snprintf(out, 12, "-");
	else
		snprintf(out, 12, "%03d", code);
}

void loadgen_outcome_write(struct loadgen_worker *w, const struct pending_entry *e, int code, int reversal_code)
{
	FILE *f = w->shared->outcomes;
	if (!f)
		return;
	char rrn[LOADGEN_RRN_LEN + 1], terminal[LOADGEN_TERMINAL_LEN + 1], transmission[11], local_time[13];
	loadgen_rrn(rrn, w->index, e->sequence);
	loadgen_terminal_id(terminal, w->index, e->terminal);
	loadgen_format_times(e->unix_second, transmission, local_time);
	char answer[12], reversal[12], reversal_stan[12];
	answer_text(answer, code);
	reversal_text(reversal, reversal_code);
	if (reversal_code == LOADGEN_OUTCOME_NONE)
		snprintf(reversal_stan, sizeof reversal_stan, "-");
	else
		snprintf(reversal_stan, sizeof reversal_stan, "%06u", (unsigned)e->reversal_stan);
	/* The card masked (first 6, last 4): outcome files are test artifacts, never a PAN store. */
	char masked[PAN_MASK_SIZE];
	pan_mask(w->shared->cards->cards[e->card].pan, masked, sizeof(masked));
	fprintf(f, "%s %06u %s %s %s %s %llu %llu %s %s %s\n", w->shared->context.acquirer_id, (unsigned)e->stan,
		local_time, rrn, terminal, masked, (unsigned long long)e->amount,
		(unsigned long long)(e->intended_ns / 1000000u), answer, reversal_stan, reversal);
}
