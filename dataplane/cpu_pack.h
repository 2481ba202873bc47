/*
 * Light-load packing: the agents' loop threads gather on one CPU while they
 * are mostly asleep, and spread over every CPU again when they are not.
 *
 * Why: at a light load each authorization is four hand-offs between
 * processes (generator -> switch -> bank -> switch -> generator), each a
 * datagram that wakes a sleeping thread. Left to itself, the kernel wakes a
 * sleeper on an idle CPU, and on a virtual machine waking a halted vCPU is
 * the dearest thing the agents do: bench/macro/wake-cost measures a hop at
 * about 9 us of CPU when both ends share a CPU and about 40 us when they do
 * not (docs/benchmarks.md). On one CPU that is awake anyway, a hand-off is a
 * plain context switch.
 *
 * Each loop thread judges its own load over windows of CPU_PACK_WINDOW_NS,
 * from /proc/thread-self/schedstat (time on a CPU, time waiting for one,
 * turns): under CPU_PACK_LOW it moves to the home CPU; over CPU_PACK_HIGH, or
 * when it waits for the home CPU too long (CPU_PACK_WAIT_PER_RUN_NS a turn,
 * or CPU_PACK_WAIT_HIGH of the window: the home CPU is full, with other
 * agents or with someone else's work), it returns to
 * every CPU it had and stays there for CPU_PACK_HOLD_NS before it may pack
 * again. Under saturation nothing is packed.
 *
 * The home CPU is the highest-numbered CPU the process may run on, the same
 * for every agent of the machine; ISO_PACK_CPU=<n> chooses another,
 * ISO_PACK_CPU=off turns packing off.
 */
#ifndef CPU_PACK_H
#define CPU_PACK_H


#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#define CPU_PACK_WINDOW_NS 100000000ull /* 100 ms */
#define CPU_PACK_HOLD_NS 2000000000ull  /* 2 s spread after leaving the home CPU */
#define CPU_PACK_LOW 0.25               /* busy share of a window under which a thread packs */
#define CPU_PACK_HIGH 0.50              /* ... over which it spreads */
/* Waiting for the home CPU that spreads a packed thread: this long per turn on it on average
 * (a wake-up queued behind someone else's time slice, not behind another agent's hand-off)... */
#define CPU_PACK_WAIT_PER_RUN_NS 100000u
/* ... or this share of the window. */
#define CPU_PACK_WAIT_HIGH 0.25

struct cpu_pack_stats {
	uint64_t packs;   /* moves to the home CPU */
	uint64_t spreads; /* moves back to every CPU */
};

struct cpu_pack {
	bool enabled;
	bool packed;
	int home;
	cpu_set_t spread; /* the thread's CPUs before packing */
	uint64_t window_start_ns;
	uint64_t run_ns, wait_ns, runs; /* schedstat at the window's start */
	uint64_t hold_until_ns;
	struct cpu_pack_stats stats;
};

/* For the calling thread (its current affinity is what it spreads back to). */
void cpu_pack_init(struct cpu_pack *p);
/* At most once a window does anything (a clock read otherwise); call from the thread. */
void cpu_pack_check(struct cpu_pack *p, uint64_t now_ns);
/* The decision alone, for tests: the new packed state from a window's shares. */
bool cpu_pack_decide(bool packed, double busy, double waiting, uint64_t wait_per_run_ns, bool holding);

#endif
