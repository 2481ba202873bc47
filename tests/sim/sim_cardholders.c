/*
 * Simulated cardholders (terminals of one acquirer): each pays with its own
 * card, one authorization at a time, as cardholder-loadgen does: an 1100,
 * then the 1110 it waits for up to its timeout; without an answer it reverses
 * (1420, then 1421 until the switch's 1430); now and then it cancels an approved
 * payment the same way. What each one saw is what the
 * money checks hold the banks to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datagram_frames.h"
#include "message_builder.h"
#include "sim_world.h"

#define REVERSAL_REPEAT_US 500000u
#define CANCEL_PROBABILITY 0.03

static struct sim_txn *txn_new(struct sim_world *w)
{
	if (w->txn_count == w->txn_capacity) {
		size_t cap = w->txn_capacity ? w->txn_capacity * 2 : 1024;
		struct sim_txn *t = realloc(w->txns, cap * sizeof(*t));
		if (t)
			w->txns = t;
		uint8_t *a = t ? realloc(w->approved_entries, cap) : NULL;
		if (a)
			w->approved_entries = a;
		if (!t || !a)
			return NULL;
		w->txn_capacity = cap;
	}
	struct sim_txn *t = &w->txns[w->txn_count];
	memset(t, 0, sizeof(*t));
	t->id = (uint32_t)w->txn_count++;
	return t;
}

static void next_stan(struct sim_cardholder *c, char out[7])
{
	c->stan_counter = c->stan_counter % 999999 + 1;
	snprintf(out, 7, "%06u", c->stan_counter);
}

static void send_message(struct sim_world *w, struct sim_cardholder *c, const struct test_msg *m)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	size_t n = tm_encode(m, buf, sizeof(buf));
	if (n)
		sim_net_send(&w->net, c->node, &w->sw.node->addr, buf, n);
}

static void build_authorization(const struct sim_txn *t, const char *acquirer, const char *currency,
				struct test_msg *m)
{
	char amount[13];
	snprintf(amount, sizeof(amount), "%012llu", (unsigned long long)t->amount);
	iso_msg_init(&m->m, 1100);
	tm_set(m, 2, t->pan);
	tm_set(m, 3, "000000");
	tm_set(m, 4, amount);
	tm_set(m, 7, t->transmission);
	tm_set(m, 11, t->stan);
	tm_set(m, 12, t->local_time);
	tm_set(m, 14, t->expiry);
	tm_set(m, 22, "100000000000");
	tm_set(m, 24, "100");
	tm_set(m, 32, acquirer);
	tm_set(m, 37, t->rrn);
	tm_set(m, 41, t->terminal);
	tm_set(m, 42, "MERCHANT0000001");
	tm_set(m, 49, currency);
}

/* The first 1100, or its repeat: 1101, the acquirer's repeat of a request it had no answer to. */
static void send_authorization(struct sim_world *w, struct sim_cardholder *c, const struct sim_txn *t, bool repeat)
{
	struct test_msg m;
	build_authorization(t, w->cfg.loadgen.acquirer_id, w->cfg.loadgen.currency, &m);
	if (repeat)
		m.m.mti = 1101;
	send_message(w, c, &m);
}

static void send_reversal(struct sim_world *w, struct sim_cardholder *c, const struct sim_txn *t, bool repeat)
{
	struct test_msg auth, rev;
	build_authorization(t, w->cfg.loadgen.acquirer_id, w->cfg.loadgen.currency, &auth);
	tm_reversal_of(&rev, &auth, t->reversal_stan);
	rev.m.mti = repeat ? 1421 : 1420;
	send_message(w, c, &rev);
}

static void start_transaction(struct sim_world *w, uint16_t index, struct sim_cardholder *c)
{
	struct sim_txn *t = txn_new(w);
	if (!t)
		return;
	t->cardholder = index;
	t->bank = c->bank;
	t->probe = w->probing;
	t->started_us = w->now_us;
	t->amount = sim_rng_range(&w->rng, 100, 30000);
	memcpy(t->pan, c->pan, sizeof(t->pan));
	memcpy(t->expiry, c->expiry, sizeof(t->expiry));
	next_stan(c, t->stan);
	next_stan(c, t->reversal_stan);
	snprintf(t->rrn, sizeof(t->rrn), "R%011u", t->id);
	snprintf(t->terminal, sizeof(t->terminal), "C%07u", index);
	time_t now = (time_t)clock_realtime_s();
	struct tm tm;
	gmtime_r(&now, &tm);
	/* strftime: DE 12 YYMMDDhhmmss and DE 7 MMDDhhmmss of the simulated wall clock. */
	strftime(t->local_time, sizeof(t->local_time), "%y%m%d%H%M%S", &tm);
	strftime(t->transmission, sizeof(t->transmission), "%m%d%H%M%S", &tm);
	c->state = CH_WAITING;
	c->probed = c->probed || w->probing;
	c->txn = t->id;
	c->deadline_us = w->now_us + (uint64_t)w->timeout_ms * 1000u;
	c->resend_us = (w->opt.faults & SIM_FAULT_RESEND_ACROSS_RESTART) ? w->now_us + (uint64_t)w->timeout_ms * 500u
									  : UINT64_MAX;
	w->result->authorizations++;
	sim_trace_line(&w->trace, "ch%u starts %s amount %llu%s", index, t->rrn, (unsigned long long)t->amount,
		       t->probe ? " (probe)" : "");
	send_authorization(w, c, t, false);
}

/* The transaction is over for its cardholder, who pays again after a while. */
static void settle(struct sim_world *w, struct sim_cardholder *c)
{
	c->state = CH_IDLE;
	c->next_start_us = w->now_us + sim_rng_range(&w->rng, 1000, 300000);
}

static void on_frame(struct sim_world *w, uint16_t index, struct sim_cardholder *c, const struct iso_msg *m)
{
	char stan[8] = "", rrn[16] = "", action[8] = "";
	iso_field_text(m, 11, stan, sizeof(stan));
	iso_field_text(m, 37, rrn, sizeof(rrn));
	iso_field_text(m, 39, action, sizeof(action));
	struct sim_txn *t = c->state != CH_IDLE ? &w->txns[c->txn] : NULL;
	if (m->mti == 1110 && t && c->state == CH_WAITING && strcmp(stan, t->stan) == 0 && strcmp(rrn, t->rrn) == 0) {
		if (strcmp(action, "913") == 0 && !w->opt.decline_on_913) {
			/* The switch's answer to a copy of the 1100 (the network duplicated it) that came
			 * after the original settled: not a verdict on the payment, whose own answer
			 * may still be on its way (docs/simulation.md, "What it found"). */
			sim_trace_line(&w->trace, "ch%u %s 913 (a copy's answer): waits for the answer", index, t->rrn);
			return;
		}
		memcpy(t->action, action, sizeof(t->action));
		t->action[3] = '\0';
		bool approved = strcmp(action, "000") == 0;
		t->outcome = approved ? TXN_APPROVED : TXN_DECLINED;
		if (approved)
			w->result->approved++;
		else
			w->result->declined++;
		sim_trace_line(&w->trace, "ch%u %s %s (%s)", index, t->rrn, approved ? "APPROVED" : "DECLINED", action);
		if (approved && !t->probe && sim_rng_chance(&w->rng, CANCEL_PROBABILITY)) {
			/* The customer cancels: the approved payment is reversed, and must end uncharged. */
			t->outcome = TXN_CANCELLED;
			w->result->reversals++;
			c->state = CH_REVERSING;
			c->deadline_us = w->now_us + REVERSAL_REPEAT_US;
			sim_trace_line(&w->trace, "ch%u %s CANCELLED: reverses", index, t->rrn);
			send_reversal(w, c, t, false);
			return;
		}
		settle(w, c);
		return;
	}
	if ((m->mti == 1430) && t && c->state == CH_REVERSING && strcmp(rrn, t->rrn) == 0) {
		if (strcmp(action, "400") == 0 || strcmp(action, "914") == 0) {
			t->reversal_acked = true;
			sim_trace_line(&w->trace, "ch%u %s reversal acknowledged (%s)", index, t->rrn, action);
			settle(w, c);
		} else {
			sim_trace_line(&w->trace, "ch%u %s reversal answered %s: repeated", index, t->rrn, action);
		}
		return;
	}
	sim_trace_line(&w->trace, "ch%u ignores %u %s/%s/%s", index, m->mti, stan, rrn, action);
}

static void receive(struct sim_world *w, uint16_t index, struct sim_cardholder *c)
{
	struct sim_packet *p;
	while ((p = sim_net_take(c->node, 0)) != NULL) {
		struct datagram_frames frames;
		if (datagram_frames_open(&frames, p->data, p->length)) {
			const uint8_t *msg;
			size_t len;
			while (datagram_frames_next(&frames, &msg, &len)) {
				struct iso_msg m;
				if (iso_decode(&iso_profile_ascii, msg, len, &m, NULL) == ISO_OK)
					on_frame(w, index, c, &m);
			}
		}
		free(p);
	}
}

static void timers(struct sim_world *w, uint16_t index, struct sim_cardholder *c)
{
	struct sim_txn *t = &w->txns[c->txn];
	if (c->state == CH_WAITING && w->now_us >= c->resend_us && !t->resent) {
		t->resent = true;
		sim_trace_line(&w->trace, "ch%u %s no answer yet: repeats it (1101)", index, t->rrn);
		send_authorization(w, c, t, true);
	}
	if (c->state == CH_WAITING && w->now_us >= c->deadline_us) {
		t->outcome = TXN_TIMED_OUT;
		w->result->timed_out++;
		w->result->reversals++;
		c->state = CH_REVERSING;
		c->deadline_us = w->now_us + REVERSAL_REPEAT_US;
		sim_trace_line(&w->trace, "ch%u %s TIMED OUT: reverses", index, t->rrn);
		send_reversal(w, c, t, false);
	} else if (c->state == CH_REVERSING && w->now_us >= c->deadline_us) {
		c->deadline_us = w->now_us + REVERSAL_REPEAT_US;
		send_reversal(w, c, t, true);
	}
}

void sim_cardholders_step(struct sim_world *w)
{
	for (uint16_t i = 0; i < w->cardholder_count; i++) {
		struct sim_cardholder *c = &w->cardholders[i];
		receive(w, i, c);
		if (c->state != CH_IDLE)
			timers(w, i, c);
		else if (w->probing ? !c->probed : w->load && w->now_us >= c->next_start_us)
			start_transaction(w, i, c);
	}
}

bool sim_cardholders_idle(const struct sim_world *w)
{
	for (size_t i = 0; i < w->cardholder_count; i++)
		if (w->cardholders[i].state != CH_IDLE)
			return false;
	return true;
}
