/*
 * tools/wireshark/iso8583_switch.lua against `iso8583 decode`: messages the
 * codec builds (the flows' messages, one with all 128 elements at their
 * longest, text with quotes, backslashes and spaces) go into a UDP capture
 * (several frames a datagram) and a TCP capture (a message split across
 * segments) made by text2pcap; tshark with the plugin must show, for every
 * message, the MTI and exactly the elements the tool prints, value for value.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iso8583.h"
#include "test_temp_dir.h"

#ifndef ISO8583_TOOL
#error "ISO8583_TOOL must name the iso8583 binary"
#endif
#ifndef WIRESHARK_PLUGIN
#error "WIRESHARK_PLUGIN must name tools/wireshark/iso8583_switch.lua"
#endif

#define MAX_MESSAGES 16

struct frame {
	uint8_t bytes[ISO_MAX_MESSAGE + 2]; /* 2-byte length, then the message */
	size_t length;
};

static struct frame frames[MAX_MESSAGES];
static size_t frame_count;
static char dir[256];
static uint8_t values[ISO_MAX_FIELD + 1][1000];

static void add_message(const struct iso_msg *m)
{
	cr_assert_lt(frame_count, MAX_MESSAGES);
	struct frame *fr = &frames[frame_count++];
	size_t n;
	struct iso_error err;
	cr_assert_eq(iso_encode(&iso_profile_ascii, m, fr->bytes + 2, ISO_MAX_MESSAGE, &n, &err), ISO_OK,
		     "%s field %d", iso_error_name(err.code), err.field);
	fr->bytes[0] = (uint8_t)(n >> 8);
	fr->bytes[1] = (uint8_t)n;
	fr->length = n + 2;
}

static void build_messages(void)
{
	struct iso_msg m;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 2, "5105100000000001");
	iso_set_str(&m, 3, "000000");
	iso_set_str(&m, 4, "000000001000");
	iso_set_str(&m, 11, "000801");
	iso_set_str(&m, 14, "3012");
	iso_set_str(&m, 37, "RRN000000801");
	iso_set_str(&m, 41, "T\"000\\1 ");
	iso_set_str(&m, 42, "MERCHANT 'X' ~1");
	iso_set_str(&m, 49, "978");
	add_message(&m);
	iso_set_str(&m, 39, "911");
	m.mti = 1110;
	add_message(&m);
	iso_msg_init(&m, 1420);
	iso_set_str(&m, 2, "5105100000000001");
	iso_set_str(&m, 11, "000802");
	iso_set_str(&m, 56, "11000008012612030000001130000000003");
	iso_set(&m, 64, "\x00\x01\x80\xff\x7f\x10\x20\x30", 8);
	add_message(&m);
	/* Every element at its longest, as test_codec_roundtrip does (but with
	 * ans values that need escaping in JSON), spread over as many 1804s as
	 * it takes to keep each under ISO_MAX_MESSAGE. */
	int first = 2;
	while (first <= ISO_MAX_FIELD) {
		iso_msg_init(&m, 1804);
		size_t size = 4 + 16;
		int f = first;
		for (; f <= ISO_MAX_FIELD; f++) {
			const struct iso_field_spec *s = &iso_profile_ascii.fields[f];
			if (size + 4 + s->max_length > ISO_MAX_MESSAGE && f > first)
				break;
			for (unsigned i = 0; i < s->max_length; i++)
				values[f][i] = s->content == ISO_N     ? (uint8_t)('0' + (f + i) % 10)
					       : s->content == ISO_Z   ? (uint8_t)(0x30 + (f + i) % 16)
					       : s->content == ISO_B   ? (uint8_t)(f * 7 + i)
					       : s->content == ISO_ANS ? (uint8_t)(0x20 + (f + i) % 95)
								       : (uint8_t)('A' + (f + i) % 26);
			iso_set(&m, f, values[f], s->max_length);
			size += 4 + s->max_length;
		}
		add_message(&m);
		first = f;
	}
	cr_assert_gt(frame_count, 5);
}

/* text2pcap's input: one packet per line, "0000" then the bytes in hex. */
static void write_packet(FILE *out, const uint8_t *bytes, size_t n)
{
	fputs("0000", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %02x", bytes[i]);
	fputc('\n', out);
}

/* UDP: the first two frames in one datagram, the rest one a datagram (a
 * capture has no MTU: the largest datagrams are as the agents send them). */
static void write_udp_capture(const char *path)
{
	FILE *out = fopen(path, "w");
	cr_assert_not_null(out);
	uint8_t both[2 * (ISO_MAX_MESSAGE + 2)];
	memcpy(both, frames[0].bytes, frames[0].length);
	memcpy(both + frames[0].length, frames[1].bytes, frames[1].length);
	write_packet(out, both, frames[0].length + frames[1].length);
	for (size_t i = 2; i < frame_count; i++)
		write_packet(out, frames[i].bytes, frames[i].length);
	fclose(out);
}

/* TCP: the whole stream cut into 700-byte segments, across message boundaries. */
static void write_tcp_capture(const char *path)
{
	static uint8_t stream[MAX_MESSAGES * (ISO_MAX_MESSAGE + 2)];
	size_t n = 0;
	for (size_t i = 0; i < frame_count; i++) {
		memcpy(stream + n, frames[i].bytes, frames[i].length);
		n += frames[i].length;
	}
	FILE *out = fopen(path, "w");
	cr_assert_not_null(out);
	for (size_t at = 0; at < n; at += 700)
		write_packet(out, stream + at, n - at < 700 ? n - at : 700);
	fclose(out);
}

static json_t *run_json(const char *command)
{
	FILE *p = popen(command, "r");
	cr_assert_not_null(p, "%s", command);
	json_error_t error;
	json_t *root = json_loadf(p, JSON_DISABLE_EOF_CHECK, &error);
	int status = pclose(p);
	cr_assert_eq(status, 0, "%s exited %d", command, status);
	cr_assert_not_null(root, "%s: %s", command, error.text);
	return root;
}

/* The tool's decoding of frame i: {"mti":..., "2":..., ...}. */
static json_t *tool_decode(size_t i)
{
	char path[300], command[700];
	snprintf(path, sizeof(path), "%s/frame-%zu.bin", dir, i);
	FILE *out = fopen(path, "wb");
	cr_assert_not_null(out);
	fwrite(frames[i].bytes, 1, frames[i].length, out);
	fclose(out);
	snprintf(command, sizeof(command), "%s decode --framing binary2 --binary < %s", ISO8583_TOOL, path);
	return run_json(command);
}

/* Every iso8583sw layer tshark shows, in order (a frame with several messages has a list). */
static size_t tshark_messages(const char *capture, json_t **out, size_t capacity)
{
	char command[700];
	snprintf(command, sizeof(command),
		 "tshark -X lua_script:%s -r %s -T json --no-duplicate-keys -j iso8583sw 2>/dev/null",
		 WIRESHARK_PLUGIN, capture);
	json_t *packets = run_json(command);
	size_t n = 0, i;
	json_t *packet;
	json_array_foreach(packets, i, packet) {
		json_t *layer = json_object_get(json_object_get(json_object_get(packet, "_source"), "layers"),
						"iso8583sw");
		if (!layer)
			continue;
		if (json_is_object(layer)) {
			cr_assert_lt(n, capacity);
			out[n++] = json_incref(layer);
			continue;
		}
		size_t k;
		json_t *one;
		json_array_foreach(layer, k, one) {
			cr_assert_lt(n, capacity);
			out[n++] = json_incref(one);
		}
	}
	json_decref(packets);
	return n;
}

static void assert_same(size_t index, json_t *tool, json_t *shark)
{
	cr_assert_null(json_object_get(shark, "iso8583sw.error"), "message %zu: the plugin found an error: %s",
		       index, json_string_value(json_object_get(shark, "iso8583sw.error")));
	cr_assert_str_eq(json_string_value(json_object_get(shark, "iso8583sw.mti")),
			 json_string_value(json_object_get(tool, "mti")), "message %zu: MTI", index);
	size_t shown = 0;
	for (int f = 2; f <= ISO_MAX_FIELD; f++) {
		char key[8], name[32];
		snprintf(key, sizeof(key), "%d", f);
		snprintf(name, sizeof(name), "iso8583sw.de%d", f);
		json_t *want = json_object_get(tool, key), *got = json_object_get(shark, name);
		cr_assert_eq(want != NULL, got != NULL, "message %zu, DE %d: shown by one side only", index, f);
		if (!want)
			continue;
		shown++;
		cr_assert_str_eq(json_string_value(got), json_string_value(want), "message %zu, DE %d", index, f);
	}
	cr_assert_gt(shown, 0);
}

static void setup(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "wireshark"));
	frame_count = 0;
	build_messages();
}

static void teardown(void)
{
	test_temp_dir_remove(dir);
}

static void check_capture(const char *transport, const char *ports, size_t expected)
{
	char text[300], capture[300], command[800];
	snprintf(text, sizeof(text), "%s/%s.txt", dir, transport);
	snprintf(capture, sizeof(capture), "%s/%s.pcap", dir, transport);
	if (transport[0] == 'u')
		write_udp_capture(text);
	else
		write_tcp_capture(text);
	snprintf(command, sizeof(command), "text2pcap -q %s %s %s %s", transport[0] == 'u' ? "-u" : "-T", ports,
		 text, capture);
	cr_assert_eq(system(command), 0, "%s", command);
	json_t *shown[MAX_MESSAGES];
	size_t n = tshark_messages(capture, shown, MAX_MESSAGES);
	cr_assert_eq(n, expected, "%s: tshark showed %zu messages, want %zu", transport, n, expected);
	for (size_t i = 0; i < n; i++) {
		json_t *tool = tool_decode(i);
		assert_same(i, tool, shown[i]);
		json_decref(tool);
		json_decref(shown[i]);
	}
}

TestSuite(wireshark, .init = setup, .fini = teardown);

Test(wireshark, udp_datagrams_with_several_frames_to_a_switch_port)
{
	/* 9201: a switch's datagram port, WAP's in Wireshark without the plugin. */
	check_capture("udp", "40000,9201", frame_count);
}

Test(wireshark, tcp_stream_with_messages_across_segments)
{
	check_capture("tcp", "40000,9211", frame_count);
}
