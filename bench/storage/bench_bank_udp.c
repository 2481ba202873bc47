/*
 * Authorizations per second through a running bank-node over UDP: sends
 * 1100s for the bank's generated cards, several frames per datagram, keeping
 * a bounded window in flight, and counts the 1110 answers. Bounded in count
 * and time.
 *
 *   bench_bank_udp --config FILE --bank NAME [--port N] [--count N] [--window N]
 *                  [--frames-per-datagram N] [--seconds S] [--stan-base N]
 *                  [--stans N] [--shuffle-stans]
 *
 * DE 12 is the wall clock, as an acquirer sends it. STANs cycle through
 * --stans values (default 1,000,000) in sending order, like a switch reusing
 * its pending slots; --shuffle-stans visits them in a scrambled order, the
 * worst case for the locality of the bank's journal keys.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "card_population.h"
#include "ecosystem_config.h"
#include "framing.h"
#include "iso8583.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct stan_pattern {
	uint64_t values; /* 1..1,000,000 */
	bool shuffled;
};

static uint64_t stan_for(const struct stan_pattern *p, uint64_t seq)
{
	/* Multiplying by a large odd constant scatters consecutive numbers. */
	uint64_t v = p->shuffled ? seq * 2654435761ull : seq;
	return v % p->values;
}

static void local_datetime_now(char out[13])
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 13, "%y%m%d%H%M%S", &tm);
}

static size_t build_1100(const char *pan, uint64_t seq, const struct stan_pattern *stans, const char *acquirer,
			 uint8_t *buf, size_t capacity)
{
	char amount[13], stan[7], rrn[13], local[13];
	snprintf(amount, sizeof(amount), "%012llu", (unsigned long long)(100 + seq % 900));
	snprintf(stan, sizeof(stan), "%06llu", (unsigned long long)(stan_for(stans, seq) % 1000000));
	local_datetime_now(local);
	snprintf(rrn, sizeof(rrn), "%012llu", (unsigned long long)(seq % 1000000000000ull));
	struct iso_msg m;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 2, pan);
	iso_set_str(&m, 3, "000000");
	iso_set_str(&m, 4, amount);
	iso_set_str(&m, 7, "1125120000");
	iso_set_str(&m, 11, stan);
	iso_set_str(&m, 12, local);
	iso_set_str(&m, 14, CARD_POPULATION_EXPIRY);
	iso_set_str(&m, 22, "100000000000");
	iso_set_str(&m, 24, "100");
	iso_set_str(&m, 32, acquirer);
	iso_set_str(&m, 37, rrn);
	iso_set_str(&m, 41, "BENCH001");
	iso_set_str(&m, 42, "MERCHANT0000001");
	iso_set_str(&m, 49, "978");
	size_t written;
	struct iso_error err;
	if (capacity < 2 || iso_encode(&iso_profile_ascii, &m, buf + 2, capacity - 2, &written, &err) != ISO_OK)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, written, buf);
	return written + 2;
}

/* Counts the 1110s in a datagram and how many approve. */
static void count_answers(const uint8_t *d, size_t len, uint64_t *answers, uint64_t *approved)
{
	size_t consumed;
	for (size_t at = 0; at < len; at += consumed) {
		const uint8_t *msg;
		size_t msg_len;
		if (frame_next(FRAME_HEADER_BINARY2, d + at, len - at, ISO_MAX_MESSAGE, &msg, &msg_len, &consumed) !=
		    FRAME_OK)
			return;
		struct iso_msg m;
		struct iso_error err;
		if (iso_decode(&iso_profile_ascii, msg, msg_len, &m, &err) != ISO_OK)
			continue;
		(*answers)++;
		if (iso_field_equals(&m, 39, "000"))
			(*approved)++;
	}
}

int main(int argc, char **argv)
{
	const char *config = NULL, *bank_name = NULL;
	long port = 0, window = 512, per_datagram = 8;
	uint64_t count = 200000, stan_base = 0;
	double seconds = 20;
	struct stan_pattern stans = {.values = 1000000, .shuffled = false};
	for (int i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "--shuffle-stans") == 0) {
			stans.shuffled = true;
			i--; /* a flag: no value to skip */
		} else if (i + 1 == argc) {
			fprintf(stderr, "option %s needs a value\n", argv[i]);
			return 2;
		} else if (strcmp(argv[i], "--config") == 0)
			config = argv[i + 1];
		else if (strcmp(argv[i], "--bank") == 0)
			bank_name = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0)
			port = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--count") == 0)
			count = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--window") == 0)
			window = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--frames-per-datagram") == 0)
			per_datagram = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--stan-base") == 0)
			stan_base = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--stans") == 0)
			stans.values = strtoull(argv[i + 1], NULL, 10);
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!config || !bank_name || window < 1 || per_datagram < 1 || per_datagram > 64 || stans.values < 1 ||
	    stans.values > 1000000) {
		fprintf(stderr, "usage: bench_bank_udp --config FILE --bank NAME [--port N] [--count N] [--window N] "
				"[--frames-per-datagram 1..64] [--seconds S] [--stan-base N] [--stans 1..1000000] "
				"[--shuffle-stans]\n");
		return 2;
	}
	static struct ecosystem_config cfg;
	char err[512];
	if (!ecosystem_config_load(config, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const struct cfg_bank *bank = ecosystem_find_bank(&cfg, bank_name);
	if (!bank) {
		fprintf(stderr, "no bank %s\n", bank_name);
		return 2;
	}
	size_t cards = population_bank_card_count(&cfg, bank);
	char (*pans)[CARD_PAN_LEN + 1] = calloc(cards, sizeof(*pans));
	for (size_t k = 0; k < cards; k++) {
		struct population_card pc;
		population_bank_card(&cfg, bank, k, &pc);
		memcpy(pans[k], pc.pan, sizeof(pans[k]));
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int size = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(port ? port : bank->iso.port))};
	inet_pton(AF_INET, bank->iso.host, &to.sin_addr);

	uint64_t sent = 0, answers = 0, approved = 0;
	uint8_t out[65536], in[65536];
	double start = now_s(), last_progress = start;
	uint64_t last_answers = 0;
	while (answers < count && now_s() - start < seconds) {
		while (sent < count && (long)(sent - answers) + per_datagram <= window) {
			size_t len = 0;
			for (long f = 0; f < per_datagram && sent < count; f++, sent++)
				len += build_1100(pans[sent % cards], stan_base + sent, &stans, cfg.loadgen.acquirer_id, out + len,
						  sizeof(out) - len);
			if (sendto(fd, out, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
				break;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) > 0) {
			ssize_t n;
			while ((n = recv(fd, in, sizeof(in), 0)) > 0)
				count_answers(in, (size_t)n, &answers, &approved);
		}
		if (answers != last_answers) {
			last_answers = answers;
			last_progress = now_s();
		} else if (now_s() - last_progress > 1.0) {
			answers = sent; /* lost in flight: stop waiting for them (counted below) */
			break;
		}
	}
	double elapsed = now_s() - start;
	printf("sent %llu, answered %llu (%llu approved) in %.3f s: %.0f answers/s (window %ld, %ld frames/datagram)\n",
	       (unsigned long long)sent, (unsigned long long)last_answers, (unsigned long long)approved, elapsed,
	       (double)last_answers / elapsed, window, per_datagram);
	close(fd);
	free(pans);
	return 0;
}
