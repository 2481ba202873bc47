#include "faults.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mix64.h"
#include "tcp_edge.h"

void fault_rng_seed(struct fault_rng *r, uint64_t seed)
{
	r->state = seed;
}

double fault_rng_next(struct fault_rng *r)
{
	/* splitmix64: tiny, fast, good enough for deciding faults. */
	uint64_t z = mix64(r->state += MIX64_GOLDEN);
	return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

bool fault_hit(struct fault_rng *r, double p)
{
	if (p <= 0.0)
		return false;
	if (p >= 1.0)
		return true;
	return fault_rng_next(r) < p;
}

struct delayed_reply {
	struct timespec due; /* CLOCK_MONOTONIC */
	struct sockaddr_in peer;
	uint16_t length;
	uint8_t frame[DELAY_REPLY_MAX];
};

struct delay_queue {
	struct udp_port *port;
	struct dgram_port *tcp; /* set before traffic starts, read by the delay thread only */
	uint16_t tcp_queue;
	struct bank_stats *stats;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct delayed_reply *ring; /* FIFO: one delay for all, so due times only grow */
	size_t capacity, head, count;
	bool stopping;
	pthread_t thread;
};

static void send_one(struct delay_queue *q, const struct delayed_reply *r)
{
	struct udp_datagram d = {.peer = r->peer, .data = (uint8_t *)r->frame, .length = r->length,
				 .capacity = r->length};
	int sent = q->tcp && tcp_edge_peer_is_tcp(&r->peer) ? dgram_tx_burst(q->tcp, q->tcp_queue, &d, 1)
							    : udp_port_tx_burst(q->port, &d, 1);
	if (sent != 1)
		stat_add(&q->stats->tx_dropped, 1);
}

static bool due(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void *delay_main(void *arg)
{
	struct delay_queue *q = arg;
	struct delayed_reply r;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (q->count == 0) {
			if (q->stopping)
				break;
			pthread_cond_wait(&q->changed, &q->lock);
			continue;
		}
		struct delayed_reply *first = &q->ring[q->head];
		if (!q->stopping && !due(&first->due)) {
			pthread_cond_timedwait(&q->changed, &q->lock, &first->due);
			continue;
		}
		r = *first;
		q->head = (q->head + 1) % q->capacity;
		q->count--;
		pthread_mutex_unlock(&q->lock);
		send_one(q, &r);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

void delay_queue_route_tcp(struct delay_queue *q, struct dgram_port *tcp, uint16_t queue)
{
	pthread_mutex_lock(&q->lock);
	q->tcp = tcp;
	q->tcp_queue = queue;
	pthread_mutex_unlock(&q->lock);
}

struct delay_queue *delay_queue_start(struct udp_port *port, size_t capacity, struct bank_stats *stats)
{
	struct delay_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->ring = calloc(capacity ? capacity : 1, sizeof(*q->ring));
	if (!q->ring) {
		free(q);
		return NULL;
	}
	q->port = port;
	q->stats = stats;
	q->capacity = capacity ? capacity : 1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->changed, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&q->thread, NULL, delay_main, q) != 0) {
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->changed);
		free(q->ring);
		free(q);
		return NULL;
	}
	return q;
}

bool delay_queue_push(struct delay_queue *q, const struct sockaddr_in *peer, const uint8_t *frame,
		      size_t length, uint32_t delay_ms)
{
	if (length > DELAY_REPLY_MAX)
		return false;
	pthread_mutex_lock(&q->lock);
	if (q->count == q->capacity || q->stopping) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	struct delayed_reply *r = &q->ring[(q->head + q->count) % q->capacity];
	clock_gettime(CLOCK_MONOTONIC, &r->due);
	uint64_t ns = (uint64_t)r->due.tv_nsec + (uint64_t)delay_ms * 1000000u;
	r->due.tv_sec += (time_t)(ns / 1000000000u);
	r->due.tv_nsec = (long)(ns % 1000000000u);
	r->peer = *peer;
	r->length = (uint16_t)length;
	memcpy(r->frame, frame, length);
	q->count++;
	if (q->count == 1)
		pthread_cond_signal(&q->changed);
	pthread_mutex_unlock(&q->lock);
	return true;
}

void delay_queue_stop(struct delay_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_signal(&q->changed);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->changed);
	free(q->ring);
	free(q);
}
