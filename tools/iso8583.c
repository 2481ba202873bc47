/*
 * iso8583: decode ISO 8583:1993 messages to JSON and encode JSON to messages,
 * with the same codec and framing the agents use.
 *
 *   iso8583 decode [--profile ascii|bcd|jpos93b] [--framing none|binary2|ascii4] [--hex|--binary]
 *   iso8583 encode [same options]
 *   iso8583 send --to HOST:PORT [--link udp|tcp] ...   (iso8583_send.c)
 *   iso8583 mac-keys --config ecosystem.yaml [--out FILE] [--if-missing]
 *
 * With --mac-key FILE (a key file, docs/protocol.md "MAC") encode appends the
 * link MAC (DE 64, or 128 with a secondary bitmap) and decode checks it.
 *
 * JSON: {"mti":"1100","2":"5105100000000001","4":"000000001000","128":"deadbeef00018001"}
 * Keys are field numbers; binary elements (b) are hex; character elements map
 * each byte to the code point of the same value (Latin-1), so any byte
 * survives a decode/encode round trip. The secondary bitmap (field 1) is
 * computed by the codec and never appears.
 *
 * Exit status: 0 success, 1 bad input (message on stderr names message,
 * field and byte offset), 2 bad usage.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "framing.h"
#include "hex_digit.h"
#include "ecosystem_mac.h"
#include "iso8583.h"
#include "iso8583_json.h"
#include "iso8583_send.h"
#include "iso_mac.h"
#include "iso_mac_keys.h"

enum framing_choice { FRAMING_NONE, FRAMING_BINARY2, FRAMING_ASCII4 };

struct options {
	bool encode;
	const struct iso_profile *profile;
	enum framing_choice framing;
	bool binary; /* raw bytes instead of hex text, on the wire side */
	const char *mac_key_file; /* NULL: no MAC */
	const char *mac_link;     /* which key of the file; NULL: its only one */
	struct iso_cmac *mac;     /* keyed from the two above */
};

static const char usage[] =
	"usage: iso8583 decode|encode [--profile ascii|bcd|jpos93b]\n"
	"                             [--framing none|binary2|ascii4] [--hex|--binary]\n"
	"                             [--mac-key FILE [--mac-link NAME]]\n"
	"       iso8583 send --to HOST:PORT [...]   (iso8583 send --help)\n"
	"       iso8583 mac-keys --config ecosystem.yaml [--out FILE] [--if-missing]\n"
	"\n"
	"decode  reads ISO 8583:1993 messages on stdin and prints one JSON object per\n"
	"        message: {\"mti\":\"1100\",\"2\":\"5105...\",\"4\":\"000000001000\"}.\n"
	"        Binary elements are printed as hex.\n"
	"encode  reads JSON objects on stdin (one per line, or any stream of objects)\n"
	"        and writes the encoded messages.\n"
	"\n"
	"--profile  ascii (default): ASCII MTI, numerics and lengths, binary bitmap;\n"
	"           bcd: packed BCD MTI, numerics and lengths, odd digit counts\n"
	"           padded on the left;\n"
	"           jpos93b: byte for byte jPOS's ISO93BPackager (BCD padded on the\n"
	"           right, DE 49-51 as characters, no DE 97).\n"
	"--framing  none (default): one message per hex line (decode) or per output\n"
	"           line (encode); binary2: 2-byte big-endian length before each\n"
	"           message; ascii4: 4 ASCII digits. Zero-length frames are skipped.\n"
	"--hex      wire side is hex text, whitespace ignored (default).\n"
	"--binary   wire side is raw bytes (decode without framing: all of stdin\n"
	"           is one message).\n"
	"--mac-key  a key file (one '<link> <key id> <hex key>' a line, mode 0600):\n"
	"           encode appends the AES-CMAC of the message in DE 64 (DE 128 with a\n"
	"           secondary bitmap); decode checks it and adds \"mac\":\"valid\",\n"
	"           \"wrong\" or \"missing\" to the JSON (exit 1 unless valid).\n"
	"--mac-link the link whose key is used (e.g. acquirer:mastercard); needed\n"
	"           when the file holds more than one key.\n"
	"mac-keys   writes a new key file (mode 0600) with a random AES-128 key for\n"
	"           every link of the ecosystem the config describes, to --out or to\n"
	"           the config's iso_mac.key_file (relative to the working directory);\n"
	"           --if-missing leaves an existing file alone.\n"
	"\n"
	"Exit status: 0 success, 1 invalid input (stderr names the message, the\n"
	"field and the byte offset), 2 usage error.\n";

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "iso8583: %s%s%s\n%s", what, arg ? " " : "", arg ? arg : "", usage);
	return 2;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	o->profile = &iso_profile_ascii;
	o->framing = FRAMING_NONE;
	o->binary = false;
	if (argc < 2)
		return usage_error("missing command", NULL);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		exit(0);
	}
	o->mac_key_file = NULL;
	o->mac_link = NULL;
	o->mac = NULL;
	if (!strcmp(argv[1], "decode"))
		o->encode = false;
	else if (!strcmp(argv[1], "encode"))
		o->encode = true;
	else
		return usage_error("unknown command", argv[1]);

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(a, "--hex")) {
			o->binary = false;
		} else if (!strcmp(a, "--binary")) {
			o->binary = true;
		} else if (!strcmp(a, "--mac-key") || !strcmp(a, "--mac-link")) {
			if (i + 1 >= argc)
				return usage_error("missing value after", a);
			if (!strcmp(a, "--mac-key"))
				o->mac_key_file = argv[++i];
			else
				o->mac_link = argv[++i];
		} else if (!strcmp(a, "--profile") || !strcmp(a, "--framing")) {
			if (i + 1 >= argc)
				return usage_error("missing value after", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--profile")) {
				o->profile = iso_profile_by_name(v);
				if (!o->profile)
					return usage_error("unknown profile", v);
			} else if (!strcmp(v, "none")) {
				o->framing = FRAMING_NONE;
			} else if (!strcmp(v, "binary2")) {
				o->framing = FRAMING_BINARY2;
			} else if (!strcmp(v, "ascii4")) {
				o->framing = FRAMING_ASCII4;
			} else {
				return usage_error("unknown framing", v);
			}
		} else {
			return usage_error("unknown option", a);
		}
	}
	return 0;
}

/* Reads all of a stream; NULL with errno on failure. */
static uint8_t *read_all(FILE *in, size_t *length)
{
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return NULL;
	for (;;) {
		if (len == cap) {
			uint8_t *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, in);
		len += n;
		if (n == 0) {
			if (ferror(in)) {
				free(buf);
				return NULL;
			}
			break;
		}
	}
	*length = len;
	return buf;
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Converts hex text text[0..len) into bytes at out (which may alias text:
 * output never overtakes input), skipping whitespace; newlines end a message
 * when split_lines. Returns false with a message on bad text.
 */
struct hex_message {
	size_t start, length; /* in the output */
	size_t line;
};

static bool hex_to_bytes(uint8_t *text, size_t len, bool split_lines, size_t *out_len,
			 struct hex_message *msgs, size_t *msg_count, size_t msg_cap)
{
	size_t out = 0, line = 1, column = 0, msg_start = 0, count = 0;
	int pending = -1; /* high nibble waiting for its low one */
	for (size_t i = 0; i <= len; i++) {
		int c = i < len ? text[i] : '\n';
		column++;
		if (c == '\n') {
			if (pending >= 0) {
				fprintf(stderr, "iso8583: line %zu: odd number of hex digits\n", line);
				return false;
			}
			if (split_lines && out > msg_start) {
				if (count == msg_cap) {
					fprintf(stderr, "iso8583: too many messages\n");
					return false;
				}
				msgs[count++] = (struct hex_message){ msg_start, out - msg_start, line };
				msg_start = out;
			}
			line++;
			column = 0;
			continue;
		}
		if (is_space(c))
			continue;
		int v = hex_digit_value(c);
		if (v < 0) {
			fprintf(stderr, "iso8583: line %zu column %zu: '%c' is not a hex digit\n", line, column,
				c >= 0x20 && c < 0x7f ? c : '?');
			return false;
		}
		if (pending < 0) {
			pending = v;
		} else {
			text[out++] = (uint8_t)(pending << 4 | v);
			pending = -1;
		}
	}
	*out_len = out;
	*msg_count = count;
	return true;
}

static void put_hex(json_t *obj, const char *key, const uint8_t *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	if (!s) {
		fprintf(stderr, "iso8583: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[data[i] >> 4];
		s[2 * i + 1] = digits[data[i] & 15];
	}
	json_object_set_new(obj, key, json_stringn(s, 2 * n));
	free(s);
}

/* Characters as Latin-1 code points in UTF-8, so that every byte round-trips. */
static void put_latin1(json_t *obj, const char *key, const uint8_t *data, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (!s) {
		fprintf(stderr, "iso8583: out of memory\n");
		exit(1);
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (data[i] < 0x80) {
			s[k++] = (char)data[i];
		} else {
			s[k++] = (char)(0xC0 | data[i] >> 6);
			s[k++] = (char)(0x80 | (data[i] & 0x3F));
		}
	}
	json_object_set_new(obj, key, json_stringn(s, k));
	free(s);
}

json_t *message_to_json(const struct iso_profile *p, const struct iso_msg *m)
{
	json_t *obj = json_object();
	char text[1024], key[8];
	snprintf(text, sizeof(text), "%04u", m->mti);
	json_object_set_new(obj, "mti", json_string(text));
	for (int f = 2; f <= ISO_MAX_FIELD; f++) {
		if (!iso_has(m, f))
			continue;
		snprintf(key, sizeof(key), "%d", f);
		const struct iso_field *fld = &m->fields[f];
		uint8_t content = p->fields[f].content;
		if (content == ISO_B || content == ISO_BITMAP) {
			put_hex(obj, key, fld->data, fld->length);
		} else if (content == ISO_N) {
			int n = iso_field_text(m, f, text, sizeof(text));
			json_object_set_new(obj, key, json_stringn(text, (size_t)(n < 0 ? 0 : n)));
		} else {
			put_latin1(obj, key, fld->data, fld->length);
		}
	}
	return obj;
}

/* `where` locates the message in the input for error messages. */
static bool decode_one(const struct options *o, const uint8_t *msg, size_t len, size_t index,
		       const char *where)
{
	struct iso_msg m;
	struct iso_error err;
	if (iso_decode(o->profile, msg, len, &m, &err) != ISO_OK) {
		char text[160];
		iso_error_format(&err, text, sizeof(text));
		fprintf(stderr, "iso8583: message %zu (%s): %s\n", index, where, text);
		return false;
	}
	json_t *obj = message_to_json(o->profile, &m);
	bool mac_ok = true;
	if (o->mac) {
		const char *verdict = !iso_mac_present(&m, msg, len)		 ? "missing"
				      : iso_cmac_check_frame(o->mac, msg, len) ? "valid"
										 : "wrong";
		json_object_set_new(obj, "mac", json_string(verdict));
		mac_ok = !strcmp(verdict, "valid");
		if (!mac_ok)
			fprintf(stderr, "iso8583: message %zu (%s): MAC %s\n", index, where, verdict);
	}
	char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(obj);
	if (!s) {
		fprintf(stderr, "iso8583: message %zu: cannot print as JSON\n", index);
		return false;
	}
	puts(s);
	free(s);
	return mac_ok;
}

static int run_decode(const struct options *o)
{
	size_t len;
	uint8_t *in = read_all(stdin, &len);
	if (!in) {
		fprintf(stderr, "iso8583: cannot read stdin: %s\n", strerror(errno));
		return 1;
	}
	int status = 0;
	size_t index = 1;
	if (!o->binary) {
		/* Hex lines: without framing each line is one message. */
		size_t cap = len / 2 + 1, count = 0, bytes = 0;
		struct hex_message *msgs = malloc(cap * sizeof(*msgs));
		if (!msgs || !hex_to_bytes(in, len, o->framing == FRAMING_NONE, &bytes, msgs, &count, cap)) {
			free(msgs);
			free(in);
			return 1;
		}
		if (o->framing == FRAMING_NONE) {
			for (size_t i = 0; i < count && status == 0; i++) {
				char where[48];
				snprintf(where, sizeof(where), "line %zu", msgs[i].line);
				if (!decode_one(o, in + msgs[i].start, msgs[i].length, index++, where))
					status = 1;
			}
			free(msgs);
			free(in);
			return status;
		}
		free(msgs);
		len = bytes;
	} else if (o->framing == FRAMING_NONE) {
		status = decode_one(o, in, len, 1, "stdin") ? 0 : 1;
		free(in);
		return status;
	}

	enum frame_header h = o->framing == FRAMING_BINARY2 ? FRAME_HEADER_BINARY2 : FRAME_HEADER_ASCII4;
	size_t at = 0;
	while (at < len && status == 0) {
		const uint8_t *msg;
		size_t msg_len, used;
		enum frame_status st = frame_next(h, in + at, len - at, ISO_MAX_MESSAGE, &msg, &msg_len, &used);
		if (st == FRAME_NEED_MORE) {
			fprintf(stderr, "iso8583: input ends inside the frame at byte %zu\n", at);
			status = 1;
		} else if (st == FRAME_BAD_HEADER) {
			fprintf(stderr, "iso8583: frame at byte %zu: length header is not 4 digits\n", at);
			status = 1;
		} else if (st == FRAME_TOO_LARGE) {
			fprintf(stderr, "iso8583: frame at byte %zu: announced length above %d bytes\n", at,
				ISO_MAX_MESSAGE);
			status = 1;
		} else {
			char where[48];
			snprintf(where, sizeof(where), "frame at byte %zu", at);
			if (msg_len > 0 && !decode_one(o, msg, msg_len, index++, where))
				status = 1;
			at += used;
		}
	}
	free(in);
	return status;
}


static uint8_t *arena_take(struct arena *a, size_t n)
{
	if (n > sizeof(a->bytes) - a->used)
		return NULL;
	uint8_t *p = a->bytes + a->used;
	a->used += n;
	return p;
}

/* Converts one JSON value into the logical bytes of field f. */
static bool field_from_json(const struct iso_profile *p, int f, json_t *value, struct arena *a,
			    struct iso_msg *m, size_t index)
{
	if (!json_is_string(value)) {
		fprintf(stderr, "iso8583: message %zu: field %d must be a JSON string\n", index, f);
		return false;
	}
	const uint8_t *s = (const uint8_t *)json_string_value(value);
	size_t n = json_string_length(value);
	uint8_t content = p->fields[f].content;
	uint8_t *out;
	size_t out_len = 0;
	if (content == ISO_B || content == ISO_BITMAP) {
		if (n % 2) {
			fprintf(stderr, "iso8583: message %zu: field %d: odd number of hex digits\n", index, f);
			return false;
		}
		out = arena_take(a, n / 2);
		if (!out)
			goto too_big;
		for (size_t i = 0; i < n; i += 2) {
			int hi = hex_digit_value(s[i]), lo = hex_digit_value(s[i + 1]);
			if (hi < 0 || lo < 0) {
				fprintf(stderr, "iso8583: message %zu: field %d: not hex at character %zu\n", index,
					f, i + (hi < 0 ? 0 : 1));
				return false;
			}
			out[out_len++] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		out = arena_take(a, n);
		if (!out)
			goto too_big;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < 0x80) {
				out[out_len++] = s[i];
			} else if ((s[i] == 0xC2 || s[i] == 0xC3) && i + 1 < n) {
				out[out_len++] = (uint8_t)((s[i] & 0x1F) << 6 | (s[i + 1] & 0x3F));
				i++;
			} else {
				fprintf(stderr,
					"iso8583: message %zu: field %d: character beyond U+00FF at byte %zu "
					"(elements carry single bytes)\n",
					index, f, i);
				return false;
			}
		}
	}
	iso_set(m, f, out, out_len);
	return true;
too_big:
	fprintf(stderr, "iso8583: message %zu: field %d: value too large\n", index, f);
	return false;
}

bool message_from_json(const struct iso_profile *p, json_t *obj, struct arena *a,
			      struct iso_msg *m, size_t index)
{
	if (!json_is_object(obj)) {
		fprintf(stderr, "iso8583: message %zu: expected a JSON object\n", index);
		return false;
	}
	json_t *mti = json_object_get(obj, "mti");
	unsigned mti_value = 0;
	const char *mti_text = mti && json_is_string(mti) ? json_string_value(mti) : NULL;
	if (mti && json_is_integer(mti) && json_integer_value(mti) >= 0 && json_integer_value(mti) <= 9999) {
		mti_value = (unsigned)json_integer_value(mti);
	} else if (mti_text && strlen(mti_text) == 4 && strspn(mti_text, "0123456789") == 4) {
		mti_value = (unsigned)atoi(mti_text);
	} else {
		fprintf(stderr, "iso8583: message %zu: \"mti\" must be 4 digits\n", index);
		return false;
	}
	iso_msg_init(m, (uint16_t)mti_value);
	a->used = 0;

	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value) {
		if (!strcmp(key, "mti"))
			continue;
		char *end;
		long f = strtol(key, &end, 10);
		if (*key == '\0' || *end != '\0' || f < 1 || f > ISO_MAX_FIELD) {
			fprintf(stderr, "iso8583: message %zu: unknown key \"%s\" (expected \"mti\" or 2..128)\n",
				index, key);
			return false;
		}
		if (f == 1) {
			fprintf(stderr, "iso8583: message %zu: field 1 (secondary bitmap) is computed, omit it\n",
				index);
			return false;
		}
		if (!field_from_json(p, (int)f, value, a, m, index))
			return false;
	}
	return true;
}

static bool write_all(const void *data, size_t n)
{
	return fwrite(data, 1, n, stdout) == n;
}

static bool emit(const struct options *o, const uint8_t *msg, size_t n)
{
	uint8_t header[4];
	size_t hs = 0;
	if (o->framing != FRAMING_NONE) {
		enum frame_header h = o->framing == FRAMING_BINARY2 ? FRAME_HEADER_BINARY2 : FRAME_HEADER_ASCII4;
		hs = frame_write_header(h, n, header);
		if (hs == 0)
			return false;
	}
	if (o->binary)
		return write_all(header, hs) && write_all(msg, n);
	for (size_t i = 0; i < hs; i++)
		printf("%02x", header[i]);
	for (size_t i = 0; i < n; i++)
		printf("%02x", msg[i]);
	return putchar('\n') != EOF;
}

/* Skips whitespace; false at end of input. */
bool more_input(FILE *in)
{
	int c;
	while ((c = fgetc(in)) != EOF && is_space(c))
		;
	if (c == EOF)
		return false;
	ungetc(c, in);
	return true;
}

static int run_encode(const struct options *o)
{
	static struct arena arena;
	static uint8_t wire[ISO_MAX_MESSAGE];
	size_t index = 1;
	while (more_input(stdin)) {
		json_error_t jerr;
		json_t *obj = json_loadf(stdin, JSON_DISABLE_EOF_CHECK, &jerr);
		if (!obj) {
			fprintf(stderr, "iso8583: message %zu: invalid JSON at line %d column %d: %s\n", index,
				jerr.line, jerr.column, jerr.text);
			return 1;
		}
		struct iso_msg m;
		bool ok = message_from_json(o->profile, obj, &arena, &m, index);
		if (ok && o->mac)
			iso_mac_reserve(&m);
		size_t n = 0;
		struct iso_error err;
		if (ok && iso_encode(o->profile, &m, wire, sizeof(wire), &n, &err) != ISO_OK) {
			char text[160];
			iso_error_format(&err, text, sizeof(text));
			fprintf(stderr, "iso8583: message %zu: %s\n", index, text);
			ok = false;
		}
		json_decref(obj);
		if (ok && o->mac && !iso_cmac_sign_frame(o->mac, wire, n)) {
			fprintf(stderr, "iso8583: message %zu: cannot compute its MAC\n", index);
			ok = false;
		}
		if (!ok)
			return 1;
		if (!emit(o, wire, n)) {
			fprintf(stderr, "iso8583: message %zu: cannot write output\n", index);
			return 1;
		}
		index++;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Keys o->mac from the key file (the named link's key, or the file's only one). */
static int open_mac_key(struct options *o)
{
	static struct iso_mac_link keys[256];
	size_t count;
	char err[256];
	if (!iso_mac_keyfile_read(o->mac_key_file, keys, 256, &count, err, sizeof(err))) {
		fprintf(stderr, "iso8583: %s\n", err);
		return 1;
	}
	const struct iso_mac_key *key = NULL;
	for (size_t i = 0; i < count; i++)
		if (o->mac_link ? !strcmp(keys[i].name, o->mac_link) : count == 1)
			key = &keys[i].current;
	if (key)
		o->mac = iso_cmac_new(key->bytes, key->length);
	memset(keys, 0, sizeof(keys));
	if (!key) {
		fprintf(stderr, "iso8583: %s: %s\n", o->mac_key_file,
			o->mac_link ? "no key for that --mac-link" : "holds several keys: name one with --mac-link");
		return 2;
	}
	return o->mac ? 0 : 1;
}

static int run_mac_keys(int argc, char **argv)
{
	const char *config = NULL, *out = NULL;
	bool if_missing = false;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--if-missing"))
			if_missing = true;
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else
			return usage_error("unknown option", argv[i]);
	}
	if (!config)
		return usage_error("mac-keys needs --config FILE", NULL);
	static struct ecosystem_config c;
	char err[512];
	if (!ecosystem_config_load(config, &c, err, sizeof(err))) {
		fprintf(stderr, "iso8583: %s\n", err);
		return 1;
	}
	if (!out)
		out = c.iso_mac.key_file;
	if (!out[0]) {
		fprintf(stderr, "iso8583: %s names no iso_mac.key_file: give --out FILE\n", config);
		return 2;
	}
	if (if_missing && access(out, F_OK) == 0)
		return 0; /* existing keys are kept: the agents and the other end share them */
	if (!ecosystem_mac_keyfile_create(&c, out, err, sizeof(err))) {
		fprintf(stderr, "iso8583: %s\n", err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "mac-keys"))
		return run_mac_keys(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return iso8583_send_main(argc - 1, argv + 1);
	struct options o;
	int rc = parse_options(argc, argv, &o);
	if (rc)
		return rc;
	if (o.mac_key_file && (rc = open_mac_key(&o)) != 0)
		return rc;
	rc = o.encode ? run_encode(&o) : run_decode(&o);
	iso_cmac_free(o.mac);
	return rc;
}
