#include "bank_stats.h"

#include <stdio.h>
#include <string.h>

static unsigned action_index(const char *action)
{
	if (strlen(action) != 3)
		return 999;
	unsigned v = 0;
	for (int i = 0; i < 3; i++) {
		if (action[i] < '0' || action[i] > '9')
			return 999;
		v = v * 10 + (unsigned)(action[i] - '0');
	}
	return v;
}

void bank_stats_count(struct bank_stats *s, const struct bank_request *req)
{
	stat_add(&s->by_action[action_index(req->action)], 1);
	if (strcmp(req->action, "909") == 0)
		stat_add(&s->system_errors, 1);
	if (req->kind == BANK_AUTHORIZATION) {
		stat_add(&s->authorizations, 1);
		if (strcmp(req->action, "000") == 0)
			stat_add(&s->approved, 1);
		else
			stat_add(&s->declined, 1);
		if (req->outcome == OUTCOME_DUPLICATE)
			stat_add(&s->duplicates, 1);
		if (req->outcome == OUTCOME_TOMBSTONE_DECLINE)
			stat_add(&s->tombstone_declines, 1);
		if (req->outcome == OUTCOME_SHED)
			stat_add(&s->shed_over_budget, 1);
		return;
	}
	stat_add(&s->reversals, 1);
	if (req->found_by_keys_but_stan)
		stat_add(&s->reversals_by_keys_but_stan, 1);
	switch (req->outcome) {
	case OUTCOME_REVERSAL_CREDITED:
		stat_add(&s->reversals_credited, 1);
		break;
	case OUTCOME_REVERSAL_REPLAY:
		stat_add(&s->reversal_replays, 1);
		break;
	case OUTCOME_REVERSAL_NO_MONEY:
		stat_add(&s->reversals_of_refused, 1);
		break;
	case OUTCOME_REVERSAL_UNKNOWN:
		stat_add(&s->reversals_unknown, 1);
		break;
	default:
		break;
	}
}

static json_int_t load(const _Atomic uint64_t *c)
{
	return (json_int_t)atomic_load_explicit(c, memory_order_relaxed);
}

json_t *bank_stats_json(const struct bank_stats *s, const struct group_commit_stats *gc)
{
	json_t *by_action = json_object();
	for (unsigned code = 0; code < 1000; code++) {
		json_int_t n = load(&s->by_action[code]);
		if (n == 0)
			continue;
		char key[4];
		snprintf(key, sizeof(key), "%03u", code);
		json_object_set_new(by_action, key, json_integer(n));
	}
	json_t *declined_by_action = json_deep_copy(by_action);
	json_object_del(declined_by_action, "000");
	json_object_del(declined_by_action, "400");
	double avg = gc->batches ? (double)gc->items / (double)gc->batches : 0.0;
	json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			 " s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:f, s:I, s:I, s:I}",
			 "received", load(&s->received), "authorizations", load(&s->authorizations),
			 "approved", load(&s->approved), "declined", load(&s->declined),
			 "duplicates", load(&s->duplicates), "declined_by_action", declined_by_action,
			 "reversals", load(&s->reversals), "reversals_credited", load(&s->reversals_credited),
			 "reversal_replays", load(&s->reversal_replays),
			 "reversals_of_refused", load(&s->reversals_of_refused),
			 "reversals_unknown", load(&s->reversals_unknown),
			 "tombstone_declines", load(&s->tombstone_declines),
			 "shed_over_budget", load(&s->shed_over_budget), "malformed", load(&s->malformed),
			 "malformed_answered", load(&s->malformed_answered), "ignored", load(&s->ignored),
			 "dropped_by_fault", load(&s->dropped_by_fault),
			 "delayed_by_fault", load(&s->delayed_by_fault),
			 "delay_queue_full", load(&s->delay_queue_full),
			 "system_errors", load(&s->system_errors), "tx_dropped", load(&s->tx_dropped),
			 "by_action", by_action, "batches", (json_int_t)gc->batches,
			 "batched_items", (json_int_t)gc->items, "avg_batch_size", avg,
			 "largest_batch", (json_int_t)gc->largest_batch, "background_syncs",
			 (json_int_t)gc->syncs, "reversals_by_keys_but_stan", load(&s->reversals_by_keys_but_stan));
	if (j) {
		/* Of the batches, those the I/O thread committed itself (writer idle, light load). */
		json_object_set_new(j, "inline_batches", json_integer((json_int_t)gc->inline_batches));
		json_object_set_new(j, "source_refused", json_integer(load(&s->source_refused)));
		json_object_set_new(j, "mac_refused", json_integer(load(&s->mac_refused)));
	}
	return j;
}
