/*
 * iso8583 send: one payment (or any request) from the shell. Reads JSON
 * messages as `iso8583 encode` does, fills in what a person should not compute
 * by hand, sends each to an agent over UDP or TCP with the project's framing,
 * and prints each answer as `iso8583 decode` would. docs/send.md has examples.
 */
#include "iso8583_send.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datagram_frames.h"
#include "framing.h"
#include "iso8583.h"
#include "iso8583_json.h"
#include "iso_mac.h"
#include "iso_mac_keys.h"
#include "mti.h"

static const char usage[] =
	"usage: iso8583 send --to HOST:PORT [--link udp|tcp] [--framing binary2|ascii4]\n"
	"                    [--timeout-ms N] [--reversal-of FILE] [--profile ascii|bcd|jpos93b]\n"
	"\n"
	"Reads JSON messages on stdin (as `iso8583 encode`), sends each to HOST:PORT and\n"
	"prints its answer as one JSON line (as `iso8583 decode`). A request's answer is\n"
	"the message of MTI + 10 with its DE 11 and DE 41.\n"
	"\n"
	"Filled in when the message lacks them:\n"
	"  DE 7   transmission date and time, MMDDhhmmss, now (UTC)\n"
	"  DE 11  a fresh STAN\n"
	"  DE 12  local date and time, YYMMDDhhmmss, now (of a reversal: the original's)\n"
	"  DE 37  a fresh retrieval reference number (of a reversal: the original's)\n"
	"--reversal-of FILE  FILE holds the answer to the original (a line this command\n"
	"          printed); for a 1420/1421: DE 56 from its DE 11, 12 and 32, DE 24 400,\n"
	"          and DE 2, 3, 4, 12, 32, 37, 41, 42, 49 taken from it when absent.\n"
	"--link    udp (default): one datagram per message; tcp: one connection for all.\n"
	"--timeout-ms N  how long to wait for each answer (default 5000).\n"
	"--mac-key FILE  sign each message with the link MAC (DE 64/128, docs/protocol.md)\n"
	"          from this key file and check the answers' (\"mac\": valid, wrong or\n"
	"          missing in the JSON; anything but valid exits 1).\n"
	"--mac-link NAME the key file's link (e.g. acquirer:mastercard), when it has several.\n"
	"\n"
	"Exit status: 0 every message answered, 1 bad input or a message not answered in\n"
	"time (stderr says which), 2 usage error.\n";

struct send_options {
	struct sockaddr_in to;
	bool tcp;
	enum frame_header framing;
	int timeout_ms;
	const char *reversal_of;
	const struct iso_profile *profile;
	const char *mac_key_file, *mac_link;
};

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "iso8583 send: %s%s%s\n%s", what, arg ? " " : "", arg ? arg : "", usage);
	return 2;
}

static bool parse_endpoint(const char *text, struct sockaddr_in *out)
{
	const char *colon = strrchr(text, ':');
	char host[64];
	if (!colon || (size_t)(colon - text) >= sizeof host)
		return false;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return *end == '\0' && port >= 1 && port <= 65535 && inet_pton(AF_INET, host, &out->sin_addr) == 1;
}

static int parse(int argc, char **argv, struct send_options *o)
{
	*o = (struct send_options){.framing = FRAME_HEADER_BINARY2, .timeout_ms = 5000, .profile = &iso_profile_ascii};
	bool have_to = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			exit(0);
		}
		if (i + 1 >= argc)
			return usage_error("missing value after", a);
		const char *v = argv[++i];
		if (!strcmp(a, "--to")) {
			if (!parse_endpoint(v, &o->to))
				return usage_error("--to: an IPv4 HOST:PORT is expected, not", v);
			have_to = true;
		} else if (!strcmp(a, "--link")) {
			if (strcmp(v, "udp") && strcmp(v, "tcp"))
				return usage_error("--link: udp or tcp, not", v);
			o->tcp = !strcmp(v, "tcp");
		} else if (!strcmp(a, "--framing")) {
			if (strcmp(v, "binary2") && strcmp(v, "ascii4"))
				return usage_error("--framing: binary2 or ascii4, not", v);
			o->framing = !strcmp(v, "ascii4") ? FRAME_HEADER_ASCII4 : FRAME_HEADER_BINARY2;
		} else if (!strcmp(a, "--timeout-ms")) {
			char *end;
			long ms = strtol(v, &end, 10);
			if (*end || ms < 1 || ms > 600000)
				return usage_error("--timeout-ms: 1 to 600000, not", v);
			o->timeout_ms = (int)ms;
		} else if (!strcmp(a, "--reversal-of")) {
			o->reversal_of = v;
		} else if (!strcmp(a, "--mac-key")) {
			o->mac_key_file = v;
		} else if (!strcmp(a, "--mac-link")) {
			o->mac_link = v;
		} else if (!strcmp(a, "--profile")) {
			o->profile = iso_profile_by_name(v);
			if (!o->profile)
				return usage_error("unknown profile", v);
		} else {
			return usage_error("unknown option", a);
		}
	}
	return have_to ? 0 : usage_error("--to HOST:PORT is required", NULL);
}

/* ---- what a person should not compute by hand -------------------------------------- */

static void set_if_absent(json_t *obj, const char *key, const char *value)
{
	if (!json_object_get(obj, key))
		json_object_set_new(obj, key, json_string(value));
}

static unsigned random_below(unsigned n)
{
	unsigned r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (unsigned)time(NULL) ^ (unsigned)getpid();
	return r % n;
}

static bool is_reversal(json_t *obj)
{
	const char *mti = json_string_value(json_object_get(obj, "mti"));
	return mti && (!strcmp(mti, "1420") || !strcmp(mti, "1421"));
}

/* DE 56 of a reversal of `original` (an answer: it echoes the request's 11, 12 and 32). */
static bool fill_reversal(json_t *obj, json_t *original)
{
	const char *stan = json_string_value(json_object_get(original, "11"));
	const char *local = json_string_value(json_object_get(original, "12"));
	const char *acquirer = json_string_value(json_object_get(original, "32"));
	if (!stan || !local || !acquirer || strlen(acquirer) > 11) {
		fprintf(stderr, "iso8583 send: --reversal-of: the original lacks DE 11, 12 or 32\n");
		return false;
	}
	char de56[40];
	snprintf(de56, sizeof de56, "1100%s%s%02zu%s", stan, local, strlen(acquirer), acquirer);
	set_if_absent(obj, "56", de56);
	set_if_absent(obj, "24", "400");
	static const char *const copied[] = {"2", "3", "4", "12", "32", "37", "41", "42", "49"};
	for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
		json_t *v = json_object_get(original, copied[i]);
		if (v && !json_object_get(obj, copied[i]))
			json_object_set(obj, copied[i], v);
	}
	return true;
}

static void fill_clock_and_trace(json_t *obj, unsigned *next_stan)
{
	time_t now = time(NULL);
	struct tm utc, local;
	gmtime_r(&now, &utc);
	localtime_r(&now, &local);
	char text[16];
	strftime(text, sizeof text, "%m%d%H%M%S", &utc);
	set_if_absent(obj, "7", text);
	strftime(text, sizeof text, "%y%m%d%H%M%S", &local);
	set_if_absent(obj, "12", text);
	snprintf(text, sizeof text, "%06u", *next_stan);
	set_if_absent(obj, "11", text);
	*next_stan = *next_stan % 999999 + 1;
	snprintf(text, sizeof text, "%06u%06u", random_below(1000000), random_below(1000000));
	set_if_absent(obj, "37", text);
}

/* ---- the link ------------------------------------------------------------------------- */

struct link {
	int fd;
	struct frame_reader reader; /* tcp */
	uint8_t stream[2 * (ISO_MAX_MESSAGE + 4)];
};

static bool link_open(struct link *l, const struct send_options *o)
{
	l->fd = socket(AF_INET, o->tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (l->fd < 0 || connect(l->fd, (const struct sockaddr *)&o->to, sizeof o->to) != 0) {
		char where[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &o->to.sin_addr, where, sizeof where);
		fprintf(stderr, "iso8583 send: cannot reach %s:%u: %s\n", where, ntohs(o->to.sin_port), strerror(errno));
		return false;
	}
	frame_reader_init(&l->reader, o->framing, ISO_MAX_MESSAGE, l->stream, sizeof l->stream);
	return true;
}

/* The answer to `request` (its response MTI, same DE 11 and 41) within the deadline, decoded into answer. */
static bool await_answer(struct link *l, const struct send_options *o, const struct iso_msg *request,
			 uint8_t *copy, struct iso_msg *answer, size_t *answer_len)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= o->timeout_ms)
			return false;
		struct pollfd p = {.fd = l->fd, .events = POLLIN};
		if (poll(&p, 1, (int)(o->timeout_ms - waited)) <= 0)
			continue;
		const uint8_t *msg;
		size_t len;
		static uint8_t datagram[65536];
		struct datagram_frames frames = {0};
		bool have_frames = false;
		if (o->tcp) {
			size_t room;
			uint8_t *space = frame_reader_space(&l->reader, &room);
			ssize_t got = read(l->fd, space, room);
			if (got <= 0) {
				fprintf(stderr, "iso8583 send: the connection closed%s%s\n", got < 0 ? ": " : "",
					got < 0 ? strerror(errno) : "");
				return false;
			}
			frame_reader_commit(&l->reader, (size_t)got);
		} else {
			ssize_t got = recv(l->fd, datagram, sizeof datagram, 0);
			if (got < 0) {
				fprintf(stderr, "iso8583 send: %s\n", strerror(errno)); /* e.g. nothing listens there */
				return false;
			}
			have_frames = o->framing == FRAME_HEADER_BINARY2 && datagram_frames_open(&frames, datagram, (size_t)got);
			if (o->framing == FRAME_HEADER_ASCII4 && got >= 4) {
				frame_reader_init(&l->reader, o->framing, ISO_MAX_MESSAGE, l->stream, sizeof l->stream);
				frame_reader_push(&l->reader, datagram, (size_t)got);
			}
		}
		for (;;) {
			bool next = have_frames ? datagram_frames_next(&frames, &msg, &len)
						: frame_reader_next(&l->reader, &msg, &len) == FRAME_OK;
			if (!next)
				break;
			if (len == 0)
				continue; /* a keep-alive */
			memcpy(copy, msg, len); /* the reader's buffer moves on */
			struct iso_error err;
			if (iso_decode(o->profile, copy, len, answer, &err) != ISO_OK)
				continue;
			if (answer->mti != iso_mti_response_of(request->mti))
				continue;
			char stan[8] = "", terminal[16] = "";
			iso_field_text(request, 11, stan, sizeof stan);
			iso_field_text(request, 41, terminal, sizeof terminal);
			if (iso_field_equals(answer, 11, stan) && (!terminal[0] || iso_field_equals(answer, 41, terminal))) {
				*answer_len = len;
				return true;
			}
		}
	}
}

static json_t *load_original(const char *path)
{
	json_error_t err;
	json_t *o = json_load_file(path, JSON_DISABLE_EOF_CHECK, &err);
	if (!o || !json_is_object(o)) {
		fprintf(stderr, "iso8583 send: --reversal-of %s: %s\n", path, o ? "not a JSON object" : err.text);
		json_decref(o);
		return NULL;
	}
	return o;
}

int iso8583_send_main(int argc, char **argv)
{
	struct send_options o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	json_t *original = o.reversal_of ? load_original(o.reversal_of) : NULL;
	if (o.reversal_of && !original)
		return 1;
	struct iso_cmac *mac = NULL;
	if (o.mac_key_file) {
		char err[512];
		mac = iso_mac_keyfile_link(o.mac_key_file, o.mac_link, err, sizeof err);
		if (!mac) {
			fprintf(stderr, "iso8583 send: %s\n", err);
			json_decref(original);
			return 1;
		}
	}
	static struct link link;
	if (!link_open(&link, &o)) {
		json_decref(original);
		iso_cmac_free(mac);
		return 1;
	}
	static struct arena arena;
	static uint8_t wire[ISO_MAX_MESSAGE + 4], copy[ISO_MAX_MESSAGE];
	unsigned next_stan = random_below(999999) + 1;
	size_t index = 1;
	int status = 0;
	while (status == 0 && more_input(stdin)) {
		json_error_t jerr;
		json_t *obj = json_loadf(stdin, JSON_DISABLE_EOF_CHECK, &jerr);
		if (!obj) {
			fprintf(stderr, "iso8583 send: message %zu: invalid JSON at line %d column %d: %s\n", index, jerr.line,
				jerr.column, jerr.text);
			status = 1;
			break;
		}
		if (json_is_object(obj) && is_reversal(obj) && original && !fill_reversal(obj, original))
			status = 1;
		if (json_is_object(obj))
			fill_clock_and_trace(obj, &next_stan);
		struct iso_msg m;
		size_t n = 0;
		struct iso_error err;
		size_t header = frame_header_size(o.framing);
		if (status == 0 && !message_from_json(o.profile, obj, &arena, &m, index))
			status = 1;
		if (status == 0 && mac)
			iso_mac_reserve(&m);
		if (status == 0 && iso_encode(o.profile, &m, wire + header, sizeof wire - header, &n, &err) != ISO_OK) {
			char text[160];
			iso_error_format(&err, text, sizeof text);
			fprintf(stderr, "iso8583 send: message %zu: %s\n", index, text);
			status = 1;
		}
		if (status == 0 && mac && !iso_cmac_sign_frame(mac, wire + header, n)) {
			fprintf(stderr, "iso8583 send: message %zu: cannot compute its MAC\n", index);
			status = 1;
		}
		if (status == 0) {
			frame_write_header(o.framing, n, wire);
			if (send(link.fd, wire, header + n, 0) != (ssize_t)(header + n)) {
				fprintf(stderr, "iso8583 send: message %zu: %s\n", index, strerror(errno));
				status = 1;
			}
		}
		struct iso_msg answer;
		size_t answer_len = 0;
		if (status == 0 && !await_answer(&link, &o, &m, copy, &answer, &answer_len)) {
			fprintf(stderr, "iso8583 send: message %zu: no answer within %d ms\n", index, o.timeout_ms);
			status = 1;
		}
		if (status == 0) {
			json_t *out = message_to_json(o.profile, &answer);
			if (mac) {
				const char *verdict = !iso_mac_present(&answer, copy, answer_len) ? "missing"
						      : iso_cmac_check_frame(mac, copy, answer_len) ? "valid"
													: "wrong";
				json_object_set_new(out, "mac", json_string(verdict));
				if (strcmp(verdict, "valid") != 0) {
					fprintf(stderr, "iso8583 send: message %zu: the answer's MAC is %s\n", index, verdict);
					status = 1;
				}
			}
			char *text = json_dumps(out, JSON_COMPACT);
			puts(text ? text : "{}");
			fflush(stdout);
			free(text);
			json_decref(out);
		}
		json_decref(obj);
		index++;
	}
	close(link.fd);
	json_decref(original);
	iso_cmac_free(mac);
	return status;
}
