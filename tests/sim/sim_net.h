/*
 * The simulated network: every agent's datagram port (dgram_port.h) is a
 * node here, and a datagram sent on it is put in flight with a delivery time
 * drawn per link (delay and jitter, hence reordering), or lost, or
 * duplicated, or dropped by a partition, all from the run's one generator.
 * Datagrams are delivered in (time, sequence) order into the receiver's queue
 * (the one its SO_REUSEPORT hash would pick: a hash of the sender), where its
 * worker's rx_burst finds them. A node that is down (crashed) neither sends
 * nor receives; what was queued for it is lost, as a socket's buffer with its
 * process.
 */
#ifndef SIM_NET_H
#define SIM_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"
#include "sim_rng.h"
#include "sim_trace.h"

#define SIM_DATAGRAM_MAX 2048
#define SIM_MAX_NODES 64
#define SIM_MAX_QUEUES 4
#define SIM_INBOX_MAX 4096 /* per queue: a socket's receive buffer */
#define SIM_MAX_LINKS 8
/* Links by their non-switch end. */
#define SIM_LINK_SWITCH 0
#define SIM_LINK_CARDHOLDERS 1
#define SIM_LINK_BANK0 2

struct sim_packet {
	uint64_t at_us, seq;
	uint32_t dst_incarnation; /* the receiver's life it was sent to */
	int link;
	struct sockaddr_in from, to;
	uint16_t length;
	uint8_t data[SIM_DATAGRAM_MAX];
};

struct sim_inbox {
	struct sim_packet **items; /* ring of SIM_INBOX_MAX */
	size_t head, count;
};

/* Faults of one link (both directions), drawn per run and changed by events. */
struct sim_link {
	double loss, duplicate;
	uint32_t delay_min_us, delay_max_us;
	uint64_t partitioned_until_us; /* nothing passes before */
};

struct sim_node {
	char name[32];
	struct sockaddr_in addr;
	bool up;
	bool drop_tx; /* dying: what it sends is lost with it (a crash between commit and answer) */
	int link;     /* index in sim_net.links of the link this node's traffic takes (0: the switch's own) */
	uint32_t incarnation; /* restarts so far */
	/* Copies from the cardholders' link sent before this node's restart never arrive after it
	 * (the resend-across-restart fault class off: sim.h). */
	bool stale_copies_die;
	uint16_t queues;
	struct sim_inbox inbox[SIM_MAX_QUEUES];
	struct dgram_port port;
	struct sim_net *net;
};

struct sim_net_counters {
	uint64_t sent, delivered, lost, duplicated, partitioned, to_down_node, from_down_node, inbox_full, stale;
};

struct sim_net {
	struct sim_rng *rng;
	struct sim_trace *trace;
	const uint64_t *now_us;
	uint64_t seq;
	struct sim_packet **heap;
	size_t heap_count, heap_capacity;
	size_t node_count;
	struct sim_node *nodes[SIM_MAX_NODES];
	size_t link_count;
	struct sim_link links[SIM_MAX_LINKS];
	struct sim_net_counters counters;
};

void sim_net_init(struct sim_net *n, struct sim_rng *rng, struct sim_trace *trace, const uint64_t *now_us);
void sim_net_free(struct sim_net *n);
/* A node at ip:port with `queues` receive queues on link `link`; its port is node->port. */
struct sim_node *sim_net_add_node(struct sim_net *n, const char *name, const char *ip, uint16_t port,
				  uint16_t queues, int link);
/* Sends a datagram from node to `to` through the link's faults (what tx_burst does). */
void sim_net_send(struct sim_net *n, struct sim_node *from, const struct sockaddr_in *to, const uint8_t *data,
		  size_t length);
/* Injects a datagram as if `from_addr` sent it (junk frames), bypassing no fault. */
void sim_net_send_as(struct sim_net *n, const struct sockaddr_in *from_addr, int link, const struct sockaddr_in *to,
		     const uint8_t *data, size_t length);
/* Delivers everything due by now into the receivers' queues. */
void sim_net_deliver(struct sim_net *n);
/* Takes the oldest datagram of a node's queue (NULL when none); free() it after use. */
struct sim_packet *sim_net_take(struct sim_node *node, uint16_t q);
/* A crash: the node goes down and what waits in its queues is lost. */
void sim_net_node_down(struct sim_node *node);
size_t sim_net_in_flight(const struct sim_net *n);
/* Appends "MTI/DE11/DE37/DE39" of every frame of a datagram to out (for the trace). */
void sim_net_describe(const uint8_t *data, size_t length, char *out, size_t size);

#endif
