/*
 * Codec micro benchmark: decode and encode of representative 1100 and 1110
 * messages, in both profiles, on one core; and the link MAC of each (iso_mac.h:
 * AES-128-CMAC over the message before DE 64, with a keyed context
 * re-initialised per message): `mac` computes and writes it, `check` verifies it.
 * `floor` is not a MAC: AES-128-CBC over the same number of blocks in one
 * EVP_EncryptUpdate on a context keyed once and never re-initialised, the cost
 * of the serial AES alone that any CMAC of the message pays; the gap between
 * it and `mac` is OpenSSL's per-message restart and per-block calls.
 *
 * For each case: nanoseconds per message (CLOCK_MONOTONIC over a bounded
 * batch; the fastest and the median of several batches, since a shared
 * machine only ever adds time) and, where perf_event_open is allowed,
 * user-space instructions and cycles per message from hardware counters.
 * When the counters are unavailable it says so; run it under
 * `valgrind --tool=callgrind` with --case to cross-check instruction counts
 * (see docs/benchmarks.md).
 *
 *   bench_codec [--iterations N] [--batches B] [--case 1100-ascii|1110-bcd|...]
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "iso8583.h"
#include "iso_mac.h"
#include "sample_messages.h"

struct counters {
	int instructions_fd, cycles_fd; /* -1 when unavailable */
	const char *why;                /* reason when unavailable */
};

static int open_counter(uint64_t config, int group)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = config;
	a.disabled = group == -1;
	a.exclude_kernel = 1; /* perf_event_paranoid 2 allows user-space counting only */
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, group, 0);
}

static void counters_open(struct counters *c)
{
	c->why = NULL;
	c->instructions_fd = open_counter(PERF_COUNT_HW_INSTRUCTIONS, -1);
	if (c->instructions_fd < 0) {
		c->why = strerror(errno);
		c->cycles_fd = -1;
		return;
	}
	c->cycles_fd = open_counter(PERF_COUNT_HW_CPU_CYCLES, c->instructions_fd);
}

static void counters_start(const struct counters *c)
{
	if (c->instructions_fd >= 0) {
		ioctl(c->instructions_fd, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
		ioctl(c->instructions_fd, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
	}
}

static void counters_stop(const struct counters *c, uint64_t *instructions, uint64_t *cycles)
{
	*instructions = *cycles = 0;
	if (c->instructions_fd < 0)
		return;
	ioctl(c->instructions_fd, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
	if (read(c->instructions_fd, instructions, sizeof(*instructions)) != sizeof(*instructions))
		*instructions = 0;
	if (c->cycles_fd < 0 || read(c->cycles_fd, cycles, sizeof(*cycles)) != sizeof(*cycles))
		*cycles = 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct sample {
	double ns, instructions, cycles;
};

static int by_ns(const void *a, const void *b)
{
	double x = ((const struct sample *)a)->ns, y = ((const struct sample *)b)->ns;
	return (x > y) - (x < y);
}

/* Keeps the compiler from discarding work whose result is otherwise unused. */
static volatile uint64_t sink;

enum op { OP_DECODE, OP_ENCODE, OP_MAC, OP_CHECK, OP_FLOOR };
static const char *const op_names[] = { "decode", "encode", "mac", "check", "floor" };

static struct iso_cmac *cmac; /* a fixed bench key: the cost does not depend on it */
static EVP_CIPHER_CTX *floor_cbc; /* AES-128-CBC, same key, keyed once (OP_FLOOR) */

static struct sample measure(enum op op, const struct iso_profile *p, const struct iso_msg *msg,
			     const uint8_t *frame, size_t frame_len, long iterations,
			     const struct counters *c)
{
	static uint8_t out[ISO_MAX_MESSAGE];
	struct iso_msg m;
	uint64_t acc = 0, ins, cyc;
	uint64_t t0 = now_ns();
	counters_start(c);
	if (op == OP_DECODE) {
		for (long i = 0; i < iterations; i++) {
			iso_decode(p, frame, frame_len, &m, NULL);
			acc += m.fields[4].length;
		}
	} else if (op == OP_MAC) {
		memcpy(out, frame, frame_len);
		for (long i = 0; i < iterations; i++) {
			iso_cmac_sign_frame(cmac, out, frame_len);
			acc += out[frame_len - 1];
		}
	} else if (op == OP_CHECK) {
		for (long i = 0; i < iterations; i++)
			acc += iso_cmac_check_frame(cmac, frame, frame_len);
	} else if (op == OP_FLOOR) {
		/* The blocks a CMAC of the covered bytes encrypts, the last one padded. */
		int blocks = (int)((frame_len - ISO_MAC_SIZE + 15) / 16), n;
		memset(out, 0, (size_t)blocks * 16);
		memcpy(out, frame, frame_len - ISO_MAC_SIZE);
		static uint8_t cipher_text[ISO_MAX_MESSAGE + 16];
		for (long i = 0; i < iterations; i++) {
			EVP_EncryptUpdate(floor_cbc, cipher_text, &n, out, blocks * 16);
			out[0] ^= cipher_text[n - 1]; /* each message depends on the last, as a MAC's would */
			acc += (uint64_t)n;
		}
	} else {
		for (long i = 0; i < iterations; i++) {
			size_t n;
			iso_encode(p, msg, out, sizeof(out), &n, NULL);
			acc += n + out[n - 1];
		}
	}
	counters_stop(c, &ins, &cyc);
	uint64_t t1 = now_ns();
	sink += acc;
	return (struct sample){ (double)(t1 - t0) / (double)iterations, (double)ins / (double)iterations,
				(double)cyc / (double)iterations };
}

struct bench_case {
	const char *name;
	uint16_t mti;
	const struct iso_profile *profile;
};

int main(int argc, char **argv)
{
	long iterations = 1000000;
	int batches = 7;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
			iterations = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--batches") && i + 1 < argc) {
			batches = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--case") && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: bench_codec [--iterations N] [--batches B] [--case NAME]\n"
					"cases: 1100-ascii 1110-ascii 1100-bcd 1110-bcd\n");
			return 2;
		}
	}
	/* Bounded whatever is asked: at most 10 M messages a batch, 15 batches. */
	if (iterations < 1 || iterations > 10000000)
		iterations = 1000000;
	if (batches < 1 || batches > 15)
		batches = 7;

	const struct bench_case cases[] = {
		{ "1100-ascii", 1100, &iso_profile_ascii },
		{ "1110-ascii", 1110, &iso_profile_ascii },
		{ "1100-bcd", 1100, &iso_profile_bcd },
		{ "1110-bcd", 1110, &iso_profile_bcd },
	};
	static const uint8_t bench_key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
					       0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
	cmac = iso_cmac_new(bench_key, sizeof(bench_key));
	floor_cbc = EVP_CIPHER_CTX_new();
	static const uint8_t zero_iv[16];
	if (!cmac || !floor_cbc || !EVP_EncryptInit_ex2(floor_cbc, EVP_aes_128_cbc(), bench_key, zero_iv, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(floor_cbc, 0)) {
		fprintf(stderr, "bench_codec: OpenSSL has no AES-CMAC or AES-128-CBC\n");
		return 1;
	}
	struct counters c;
	counters_open(&c);
	if (c.why)
		printf("# hardware counters unavailable (perf_event_open: %s): times only;\n"
		       "# cross-check instructions with valgrind --tool=callgrind (docs/benchmarks.md)\n",
		       c.why);
	printf("# %ld messages per batch, %d batches (fastest and median), one core\n", iterations, batches);
	printf("# floor: not a MAC, the AES-128-CBC of the blocks `mac` covers, keyed once, no restart\n");
	printf("%-11s %-6s %6s %9s %9s %11s %9s\n", "case", "op", "bytes", "ns(min)", "ns(med)",
	       "instr/msg", "cyc/msg");

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct bench_case *bc = &cases[k];
		if (only && strcmp(only, bc->name))
			continue;
		struct iso_msg msg;
		if (bc->mti == 1100)
			sample_1100(&msg);
		else
			sample_1110(&msg, "000");
		uint8_t frame[ISO_MAX_MESSAGE];
		size_t len;
		struct iso_error err;
		if (iso_encode(bc->profile, &msg, frame, sizeof(frame), &len, &err) != ISO_OK) {
			fprintf(stderr, "bench_codec: cannot encode %s: %s\n", bc->name, iso_error_name(err.code));
			return 1;
		}
		/* The MAC cases run on the message as sent with its DE 64. */
		struct iso_msg with_mac = msg;
		iso_mac_reserve(&with_mac);
		uint8_t signed_frame[ISO_MAX_MESSAGE];
		size_t signed_len;
		if (iso_encode(bc->profile, &with_mac, signed_frame, sizeof(signed_frame), &signed_len, &err) != ISO_OK ||
		    !iso_cmac_sign_frame(cmac, signed_frame, signed_len)) {
			fprintf(stderr, "bench_codec: cannot sign %s\n", bc->name);
			return 1;
		}
		for (int op = OP_DECODE; op <= OP_FLOOR; op++) {
			const uint8_t *f = op >= OP_MAC ? signed_frame : frame;
			size_t flen = op >= OP_MAC ? signed_len : len;
			struct sample s[15];
			measure((enum op)op, bc->profile, &msg, f, flen, iterations / 10 + 1, &c); /* warm-up */
			for (int b = 0; b < batches; b++)
				s[b] = measure((enum op)op, bc->profile, &msg, f, flen, iterations, &c);
			qsort(s, (size_t)batches, sizeof(s[0]), by_ns);
			struct sample med = s[batches / 2];
			printf("%-11s %-6s %6zu %9.1f %9.1f", bc->name, op_names[op], flen,
			       s[0].ns, med.ns);
			if (c.why)
				printf(" %11s %9s\n", "n/a", "n/a");
			else
				printf(" %11.1f %9.1f\n", med.instructions, med.cycles);
		}
	}
	iso_cmac_free(cmac);
	EVP_CIPHER_CTX_free(floor_cbc);
	return 0;
}
