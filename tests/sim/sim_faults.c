/*
 * The faults of a run, all drawn from its seed at the start: each link's loss,
 * duplication and delay jitter, and a plan of events over the load phase
 * (partitions that heal, crashes and restarts, slow disks, clock steps, junk
 * datagrams). Healing ends them all: links clean, nodes up, disks fast.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_world.h"

void sim_event_add(struct sim_world *w, uint64_t at_us, uint8_t kind, uint8_t target, int64_t value)
{
	if (w->event_count == SIM_MAX_EVENTS)
		return;
	struct sim_event e = {.at_us = at_us, .seq = ++w->event_seq, .kind = kind, .target = target, .value = value};
	size_t i = w->event_count++;
	/* Kept sorted by (time, order of planning): a run's order never depends on anything else. */
	while (i > 0 && (w->events[i - 1].at_us > at_us ||
			 (w->events[i - 1].at_us == at_us && w->events[i - 1].seq > e.seq))) {
		w->events[i] = w->events[i - 1];
		i--;
	}
	w->events[i] = e;
}

static uint64_t in_load(struct sim_world *w)
{
	return sim_rng_range(&w->rng, 100000, (uint64_t)w->opt.load_ms * 1000u);
}

static void plan_links(struct sim_world *w)
{
	unsigned f = w->opt.faults;
	for (size_t l = SIM_LINK_CARDHOLDERS; l < w->net.link_count; l++) {
		struct sim_link *k = &w->net.links[l];
		k->loss = (f & SIM_FAULT_LOSS) ? sim_rng_unit(&w->rng) * 0.05 : 0;
		k->duplicate = (f & SIM_FAULT_DUPLICATE) ? sim_rng_unit(&w->rng) * 0.03 : 0;
		k->delay_min_us = (uint32_t)sim_rng_range(&w->rng, 50, 2000);
		k->delay_max_us = k->delay_min_us + ((f & SIM_FAULT_REORDER) ? (uint32_t)sim_rng_range(&w->rng, 0, 30000) : 0);
	}
}

void sim_faults_plan(struct sim_world *w)
{
	unsigned f = w->opt.faults;
	plan_links(w);
	uint8_t links = (uint8_t)w->net.link_count;
	if (f & SIM_FAULT_PARTITION)
		for (uint64_t n = sim_rng_range(&w->rng, 0, 4); n > 0; n--)
			sim_event_add(w, in_load(w), EV_PARTITION, (uint8_t)sim_rng_range(&w->rng, SIM_LINK_CARDHOLDERS, links - 1u),
				      (int64_t)sim_rng_range(&w->rng, 50000, 4000000));
	if (f & SIM_FAULT_BANK_CRASH)
		for (uint64_t n = sim_rng_range(&w->rng, 0, 3); n > 0; n--) {
			/* value: how long it stays down; odd values die between a commit and its answers */
			int64_t down = (int64_t)sim_rng_range(&w->rng, 10000, 3000000);
			sim_event_add(w, in_load(w), EV_BANK_CRASH, (uint8_t)sim_rng_range(&w->rng, 0, w->bank_count - 1),
				      down * 2 + (sim_rng_chance(&w->rng, 0.4) ? 1 : 0));
		}
	if (f & SIM_FAULT_SWITCH_CRASH)
		for (uint64_t n = sim_rng_range(&w->rng, 0, 2); n > 0; n--) {
			int64_t down = (int64_t)sim_rng_range(&w->rng, 10000, 2000000);
			sim_event_add(w, in_load(w), EV_SWITCH_CRASH, 0, down * 2 + (sim_rng_chance(&w->rng, 0.3) ? 1 : 0));
		}
	if (f & SIM_FAULT_SLOW_DISK)
		for (uint64_t n = sim_rng_range(&w->rng, 0, 3); n > 0; n--) {
			uint64_t at = in_load(w);
			uint8_t bank = (uint8_t)sim_rng_range(&w->rng, 0, w->bank_count - 1);
			sim_event_add(w, at, EV_SLOW_DISK, bank, (int64_t)sim_rng_range(&w->rng, 20000, 600000));
			sim_event_add(w, at + sim_rng_range(&w->rng, 200000, 3000000), EV_DISK_NORMAL, bank, 0);
		}
	if (f & SIM_FAULT_CLOCK_JUMP)
		for (uint64_t n = sim_rng_range(&w->rng, 0, 4); n > 0; n--) {
			/* NTP steps a clock that is off by more than 128 ms; a second either way at most here. */
			int64_t ms = (int64_t)sim_rng_range(&w->rng, 1, 1000);
			sim_event_add(w, in_load(w), EV_CLOCK_JUMP, 0, sim_rng_chance(&w->rng, 0.5) ? ms : -ms);
		}
	if (f & SIM_FAULT_MALFORMED)
		for (uint64_t n = sim_rng_range(&w->rng, 0, 20); n > 0; n--)
			sim_event_add(w, in_load(w), EV_JUNK, (uint8_t)sim_rng_range(&w->rng, 0, w->bank_count),
				      (int64_t)sim_rng_range(&w->rng, 0, 2));
}

/* A datagram that is not a message: random bytes, a frame cut short, or a length that lies. */
static void send_junk(struct sim_world *w, uint8_t target, int variant)
{
	uint8_t buf[256];
	size_t n = (size_t)sim_rng_range(&w->rng, 1, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)sim_rng_next(&w->rng);
	if (variant == 1 && n > 20) {
		/* A frame header announcing more than the datagram holds. */
		buf[0] = 0;
		buf[1] = (uint8_t)(n + 10);
		memcpy(buf + 2, "1100", 4);
	} else if (variant == 2 && n > 20) {
		/* A whole frame of an 1100 whose body is garbage after the MTI. */
		buf[0] = (uint8_t)((n - 2) >> 8);
		buf[1] = (uint8_t)(n - 2);
		memcpy(buf + 2, "1100", 4);
	}
	/* To the switch from a cardholder's address, or to a bank from the switch's. */
	if (target == 0 && w->cardholder_count)
		sim_net_send_as(&w->net, &w->cardholders[0].node->addr, SIM_LINK_CARDHOLDERS, &w->sw.node->addr, buf, n);
	else if (target > 0)
		sim_net_send_as(&w->net, &w->sw.node->addr, SIM_LINK_BANK0 + target - 1, &w->banks[target - 1].node->addr,
				buf, n);
}

static void restart_bank(struct sim_world *w, struct sim_bank *b)
{
	char err[512];
	if (b->up)
		return;
	if (!sim_bank_start(b, err, sizeof(err)))
		sim_violation(w, NULL, "bank %s does not restart: %s", b->bank->name, err);
}

static void restart_switch(struct sim_world *w)
{
	char err[512];
	if (w->sw.up)
		return;
	if (!sim_switch_start(&w->sw, err, sizeof(err)))
		sim_violation(w, NULL, "the switch does not restart: %s", err);
}

static void apply(struct sim_world *w, const struct sim_event *e)
{
	struct sim_bank *b = &w->banks[e->target < w->bank_count ? e->target : 0];
	switch (e->kind) {
	case EV_PARTITION:
		w->net.links[e->target].partitioned_until_us = w->now_us + (uint64_t)e->value;
		sim_trace_line(&w->trace, "fault: link %u cut for %lld us", e->target, (long long)e->value);
		break;
	case EV_BANK_CRASH:
		if (!b->up)
			return;
		sim_trace_line(&w->trace, "fault: %s crashes%s, down %lld us", b->bank->name,
			       (e->value & 1) ? " at its next commit" : "", (long long)(e->value / 2));
		if (e->value & 1)
			b->crash_after_next_commit = true;
		else
			sim_bank_crash(b);
		sim_event_add(w, w->now_us + (uint64_t)(e->value / 2), EV_BANK_RESTART, e->target, 0);
		break;
	case EV_BANK_RESTART:
		if (!b->up) {
			sim_trace_line(&w->trace, "fault: %s restarts", b->bank->name);
			restart_bank(w, b);
		} else if (b->crash_after_next_commit) {
			/* No commit came while it was meant to die: it dies now. */
			b->crash_after_next_commit = false;
			sim_bank_crash(b);
			sim_trace_line(&w->trace, "fault: %s crashes (no commit came), restarts", b->bank->name);
			restart_bank(w, b);
		}
		break;
	case EV_SWITCH_CRASH:
		if (!w->sw.up)
			return;
		sim_trace_line(&w->trace, "fault: switch crashes%s, down %lld us",
			       (e->value & 1) ? " after its next store-and-forward turn" : "", (long long)(e->value / 2));
		if (e->value & 1)
			w->sw.crash_after_forwarder_step = true;
		else
			sim_switch_crash(&w->sw);
		sim_event_add(w, w->now_us + (uint64_t)(e->value / 2) + 1000, EV_SWITCH_RESTART, 0, 0);
		break;
	case EV_SWITCH_RESTART:
		sim_trace_line(&w->trace, "fault: switch restarts");
		restart_switch(w);
		break;
	case EV_SLOW_DISK:
		b->commit_latency_us = (uint32_t)e->value;
		sim_trace_line(&w->trace, "fault: %s disk commits take %lld us", b->bank->name, (long long)e->value);
		break;
	case EV_DISK_NORMAL:
		b->commit_latency_us = w->normal_commit_us[e->target];
		sim_trace_line(&w->trace, "fault: %s disk back to normal", b->bank->name);
		break;
	case EV_CLOCK_JUMP:
		w->wall_offset_ns += e->value * 1000000;
		sim_trace_line(&w->trace, "fault: wall clock steps %+lld ms", (long long)e->value);
		break;
	case EV_JUNK:
		sim_trace_line(&w->trace, "fault: junk datagram (variant %lld) to %s", (long long)e->value,
			       e->target ? w->banks[e->target - 1].bank->name : "switch");
		send_junk(w, e->target, (int)e->value);
		break;
	}
	if (e->kind != EV_BANK_RESTART && e->kind != EV_SWITCH_RESTART && e->kind != EV_DISK_NORMAL)
		w->result->faults++;
}

void sim_faults_step(struct sim_world *w)
{
	while (w->event_count && w->events[0].at_us <= w->now_us && !w->violated) {
		struct sim_event e = w->events[0];
		memmove(w->events, w->events + 1, (w->event_count - 1) * sizeof(w->events[0]));
		w->event_count--;
		apply(w, &e);
	}
}

void sim_faults_heal(struct sim_world *w)
{
	sim_trace_line(&w->trace, "heal: links clean, nodes up, disks normal");
	/* Restarts and disk recoveries still planned happen now; new faults do not. */
	w->event_count = 0;
	for (size_t l = 0; l < w->net.link_count; l++) {
		struct sim_link *k = &w->net.links[l];
		k->loss = k->duplicate = 0;
		k->partitioned_until_us = 0;
		k->delay_max_us = k->delay_min_us;
	}
	for (size_t i = 0; i < w->bank_count; i++) {
		struct sim_bank *b = &w->banks[i];
		b->commit_latency_us = w->normal_commit_us[i];
		if (b->up && b->crash_after_next_commit) {
			b->crash_after_next_commit = false;
			sim_bank_crash(b);
		}
		restart_bank(w, b);
	}
	if (w->sw.up && w->sw.crash_after_forwarder_step) {
		w->sw.crash_after_forwarder_step = false;
		sim_switch_crash(&w->sw);
	}
	restart_switch(w);
}
