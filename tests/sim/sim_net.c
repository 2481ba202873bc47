#include "sim_net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datagram_frames.h"
#include "iso8583.h"

/* ---- the datagram port of a node ---- */

static int port_rx_burst(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	struct sim_node *node = p->impl;
	int got = 0;
	while (got < n) {
		struct sim_packet *pk = sim_net_take(node, q);
		if (!pk)
			break;
		size_t len = pk->length <= d[got].capacity ? pk->length : d[got].capacity;
		memcpy(d[got].data, pk->data, len);
		d[got].length = len;
		d[got].peer = pk->from;
		free(pk);
		got++;
	}
	return got;
}

static int port_tx_burst(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	(void)q;
	struct sim_node *node = p->impl;
	for (int i = 0; i < n; i++)
		sim_net_send(node->net, node, &d[i].peer, d[i].data, d[i].length);
	return n;
}

/* Nobody waits in a simulation: the simulator steps every agent in turn. */
static void port_wait(struct dgram_port *p, uint16_t q, int timeout_us)
{
	(void)p;
	(void)q;
	(void)timeout_us;
}

/* The simulator owns its nodes: a switch that closes its port at a crash leaves the node. */
static void port_close(struct dgram_port *p)
{
	(void)p;
}

static const struct dgram_port_ops sim_port_ops = {
	.rx_burst = port_rx_burst,
	.tx_burst = port_tx_burst,
	.wait = port_wait,
	.close = port_close,
};

/* ---- the network ---- */

void sim_net_init(struct sim_net *n, struct sim_rng *rng, struct sim_trace *trace, const uint64_t *now_us)
{
	memset(n, 0, sizeof(*n));
	n->rng = rng;
	n->trace = trace;
	n->now_us = now_us;
}

void sim_net_free(struct sim_net *n)
{
	for (size_t i = 0; i < n->heap_count; i++)
		free(n->heap[i]);
	free(n->heap);
	for (size_t i = 0; i < n->node_count; i++) {
		struct sim_node *node = n->nodes[i];
		sim_net_node_down(node);
		for (uint16_t q = 0; q < node->queues; q++)
			free(node->inbox[q].items);
		free(node);
	}
	memset(n, 0, sizeof(*n));
}

struct sim_node *sim_net_add_node(struct sim_net *n, const char *name, const char *ip, uint16_t port,
				  uint16_t queues, int link)
{
	if (n->node_count == SIM_MAX_NODES || queues == 0 || queues > SIM_MAX_QUEUES)
		return NULL;
	struct sim_node *node = calloc(1, sizeof(*node));
	if (!node)
		return NULL;
	snprintf(node->name, sizeof(node->name), "%s", name);
	node->addr.sin_family = AF_INET;
	node->addr.sin_port = htons(port);
	inet_pton(AF_INET, ip, &node->addr.sin_addr);
	node->up = true;
	node->link = link;
	node->queues = queues;
	node->net = n;
	for (uint16_t q = 0; q < queues; q++) {
		node->inbox[q].items = calloc(SIM_INBOX_MAX, sizeof(struct sim_packet *));
		if (!node->inbox[q].items) {
			for (uint16_t k = 0; k < q; k++)
				free(node->inbox[k].items);
			free(node);
			return NULL;
		}
	}
	node->port.ops = &sim_port_ops;
	node->port.impl = node;
	node->port.queue_count = queues;
	node->port.local = node->addr;
	n->nodes[n->node_count++] = node;
	return node;
}

static struct sim_node *node_at(struct sim_net *n, const struct sockaddr_in *a)
{
	for (size_t i = 0; i < n->node_count; i++)
		if (n->nodes[i]->addr.sin_addr.s_addr == a->sin_addr.s_addr && n->nodes[i]->addr.sin_port == a->sin_port)
			return n->nodes[i];
	return NULL;
}

static bool earlier(const struct sim_packet *a, const struct sim_packet *b)
{
	return a->at_us < b->at_us || (a->at_us == b->at_us && a->seq < b->seq);
}

static bool heap_push(struct sim_net *n, struct sim_packet *p)
{
	if (n->heap_count == n->heap_capacity) {
		size_t cap = n->heap_capacity ? n->heap_capacity * 2 : 1024;
		struct sim_packet **h = realloc(n->heap, cap * sizeof(*h));
		if (!h)
			return false;
		n->heap = h;
		n->heap_capacity = cap;
	}
	size_t i = n->heap_count++;
	n->heap[i] = p;
	while (i > 0 && earlier(n->heap[i], n->heap[(i - 1) / 2])) {
		struct sim_packet *t = n->heap[i];
		n->heap[i] = n->heap[(i - 1) / 2];
		n->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return true;
}

static struct sim_packet *heap_pop(struct sim_net *n)
{
	struct sim_packet *top = n->heap[0];
	n->heap[0] = n->heap[--n->heap_count];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n->heap_count && earlier(n->heap[l], n->heap[m]))
			m = l;
		if (r < n->heap_count && earlier(n->heap[r], n->heap[m]))
			m = r;
		if (m == i)
			break;
		struct sim_packet *t = n->heap[i];
		n->heap[i] = n->heap[m];
		n->heap[m] = t;
		i = m;
	}
	return top;
}

void sim_net_describe(const uint8_t *data, size_t length, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	struct datagram_frames frames;
	if (!datagram_frames_open(&frames, data, length)) {
		snprintf(out, size, "[unframed %zu bytes]", length);
		return;
	}
	const uint8_t *msg;
	size_t msg_len;
	while (datagram_frames_next(&frames, &msg, &msg_len) && used + 1 < size) {
		struct iso_msg m;
		int w;
		if (iso_decode(&iso_profile_ascii, msg, msg_len, &m, NULL) != ISO_OK) {
			w = snprintf(out + used, size - used, "%s[undecodable %zu bytes]", used ? " " : "", msg_len);
		} else {
			char stan[16] = "", rrn[16] = "", action[8] = "", term[16] = "";
			iso_field_text(&m, 11, stan, sizeof(stan));
			iso_field_text(&m, 37, rrn, sizeof(rrn));
			iso_field_text(&m, 39, action, sizeof(action));
			iso_field_text(&m, 41, term, sizeof(term));
			w = snprintf(out + used, size - used, "%s%u/%s/%s/%s%s%s", used ? " " : "", m.mti, stan, rrn, term,
				     action[0] ? "/" : "", action);
		}
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
}

/* Puts a copy in flight; appends " #seq@due" to note. */
static void schedule(struct sim_net *n, const struct sockaddr_in *from, const struct sockaddr_in *to,
		     const struct sim_link *l, const uint8_t *data, size_t length, char *note, size_t note_size)
{
	struct sim_packet *p = malloc(sizeof(*p));
	if (!p)
		return;
	p->seq = ++n->seq;
	p->at_us = *n->now_us + sim_rng_range(n->rng, l->delay_min_us, l->delay_max_us);
	p->from = *from;
	p->to = *to;
	struct sim_node *dst = node_at(n, to);
	p->dst_incarnation = dst ? dst->incarnation : 0;
	p->link = (int)(l - n->links);
	p->length = (uint16_t)length;
	memcpy(p->data, data, length);
	if (!heap_push(n, p)) {
		free(p);
		return;
	}
	size_t used = strlen(note);
	snprintf(note + used, note_size - used, " #%llu@%llu.%03llu", (unsigned long long)p->seq,
		 (unsigned long long)(p->at_us / 1000), (unsigned long long)(p->at_us % 1000));
}

void sim_net_send_as(struct sim_net *n, const struct sockaddr_in *from_addr, int link, const struct sockaddr_in *to,
		     const uint8_t *data, size_t length)
{
	struct sim_node *src = node_at(n, from_addr), *dst = node_at(n, to);
	char what[512], note[96] = "";
	sim_net_describe(data, length, what, sizeof(what));
	n->counters.sent++;
	const struct sim_link *l = &n->links[link];
	if (length > SIM_DATAGRAM_MAX || !dst) {
		n->counters.lost++;
		snprintf(note, sizeof(note), " lost (no such peer or too long)");
	} else if (*n->now_us < l->partitioned_until_us) {
		n->counters.partitioned++;
		snprintf(note, sizeof(note), " partitioned");
	} else if (sim_rng_chance(n->rng, l->loss)) {
		n->counters.lost++;
		snprintf(note, sizeof(note), " lost");
	} else {
		schedule(n, from_addr, to, l, data, length, note, sizeof(note));
		if (sim_rng_chance(n->rng, l->duplicate)) {
			n->counters.duplicated++;
			size_t used = strlen(note);
			snprintf(note + used, sizeof(note) - used, " dup");
			schedule(n, from_addr, to, l, data, length, note, sizeof(note));
		}
	}
	sim_trace_line(n->trace, "%s>%s %s:%s", src ? src->name : "?", dst ? dst->name : "?", what, note);
}

void sim_net_send(struct sim_net *n, struct sim_node *from, const struct sockaddr_in *to, const uint8_t *data,
		  size_t length)
{
	if (!from->up || from->drop_tx) {
		n->counters.from_down_node++;
		char what[512];
		sim_net_describe(data, length, what, sizeof(what));
		sim_trace_line(n->trace, "%s>(dying) %s: lost with the crash", from->name, what);
		return;
	}
	struct sim_node *dst = node_at(n, to);
	/* A link is named by its non-switch end (every datagram has the switch at one end). */
	int link = from->link;
	if (dst && dst->link != 0)
		link = dst->link;
	sim_net_send_as(n, &from->addr, link, to, data, length);
}

static uint16_t queue_for(const struct sim_node *node, const struct sockaddr_in *from)
{
	/* As SO_REUSEPORT: the same sender always lands on the same queue. */
	uint32_t h = ntohl(from->sin_addr.s_addr) * 2654435761u ^ ntohs(from->sin_port) * 40503u;
	return (uint16_t)(h % node->queues);
}

void sim_net_deliver(struct sim_net *n)
{
	while (n->heap_count && n->heap[0]->at_us <= *n->now_us) {
		struct sim_packet *p = heap_pop(n);
		struct sim_node *dst = node_at(n, &p->to);
		if (!dst || !dst->up) {
			n->counters.to_down_node++;
			sim_trace_line(n->trace, "#%llu to %s: down, lost", (unsigned long long)p->seq,
				       dst ? dst->name : "?");
			free(p);
			continue;
		}
		if (dst->stale_copies_die && p->link == SIM_LINK_CARDHOLDERS && p->dst_incarnation != dst->incarnation) {
			n->counters.stale++;
			sim_trace_line(n->trace, "#%llu to %s: sent before its restart, dropped", (unsigned long long)p->seq,
				       dst->name);
			free(p);
			continue;
		}
		uint16_t q = queue_for(dst, &p->from);
		struct sim_inbox *in = &dst->inbox[q];
		if (in->count == SIM_INBOX_MAX) {
			n->counters.inbox_full++;
			sim_trace_line(n->trace, "#%llu to %s: receive buffer full, lost", (unsigned long long)p->seq,
				       dst->name);
			free(p);
			continue;
		}
		in->items[(in->head + in->count++) % SIM_INBOX_MAX] = p;
		n->counters.delivered++;
	}
}

struct sim_packet *sim_net_take(struct sim_node *node, uint16_t q)
{
	struct sim_inbox *in = &node->inbox[q];
	if (q >= node->queues || in->count == 0)
		return NULL;
	struct sim_packet *p = in->items[in->head];
	in->head = (in->head + 1) % SIM_INBOX_MAX;
	in->count--;
	return p;
}

void sim_net_node_down(struct sim_node *node)
{
	node->up = false;
	for (uint16_t q = 0; q < node->queues; q++) {
		struct sim_packet *p;
		while ((p = sim_net_take(node, q)) != NULL)
			free(p);
	}
}

size_t sim_net_in_flight(const struct sim_net *n)
{
	return n->heap_count;
}
