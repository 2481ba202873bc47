/* End to end: the real tools/iso8583 binary on hex frames, JSON and garbage. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct run {
	int status; /* exit status, -1 if it did not exit normally */
	char out[8192];
	char err[4096];
};

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "open %s", path);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Runs `iso8583 <args>` with `input` on stdin. */
static void run_tool(const char *args, const void *input, size_t input_len, struct run *r)
{
	const char *build = getenv("ISO_BUILD_DIR");
	cr_assert_not_null(build, "ISO_BUILD_DIR is set by ctest");
	char tool[1024];
	snprintf(tool, sizeof(tool), "%s/tools/iso8583", build);
	cr_assert_eq(access(tool, X_OK), 0, "%s is built", tool);

	char dir[] = "/tmp/iso8583-tool-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char in[128], out[128], err[128], cmd[2048];
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	FILE *f = fopen(in, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(input, 1, input_len, f), input_len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' %s < '%s' > '%s' 2> '%s'", tool, args, in, out, err);
	int st = system(cmd);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
	unlink(in);
	unlink(out);
	unlink(err);
	rmdir(dir);
}

static void run_text(const char *args, const char *input, struct run *r)
{
	run_tool(args, input, strlen(input), r);
}

/* 1100 with 2, 3, 4, 11, 41 and a MAC in 128 (secondary bitmap), as hex with spaces. */
static const char frame_hex[] =
	"31313030 f0200000 00800000 00000000 00000001\n"
	"3136 35313035313030303030303030303031 303030303030 303030303030303031303030\n"
	"313233343536 5445524d30303031 deadbeef00018001\n";
static const char frame_json[] = "{\"mti\":\"1100\",\"2\":\"5105100000000001\",\"3\":\"000000\","
				 "\"4\":\"000000001000\",\"11\":\"123456\",\"41\":\"TERM0001\","
				 "\"128\":\"deadbeef00018001\"}\n";

Test(iso8583_tool, decodes_a_framed_hex_message)
{
	struct run r;
	/* Framed: 2-byte length 0x004e = 78 bytes. */
	char framed[1024];
	snprintf(framed, sizeof(framed), "004e %s", frame_hex);
	run_text("decode --framing binary2", framed, &r);
	cr_assert_eq(r.status, 0, "stderr: %s", r.err);
	cr_assert_str_eq(r.out, frame_json);
}

Test(iso8583_tool, encode_then_decode_in_both_profiles)
{
	struct run r, back;
	run_text("encode", frame_json, &r);
	cr_assert_eq(r.status, 0, "stderr: %s", r.err);
	char compact[1024];
	size_t k = 0;
	for (const char *p = frame_hex; *p; p++)
		if (*p != ' ' && *p != '\n')
			compact[k++] = *p;
	compact[k++] = '\n';
	compact[k] = '\0';
	cr_assert_str_eq(r.out, compact);

	run_text("encode --profile bcd --framing ascii4 --binary", frame_json, &r);
	cr_assert_eq(r.status, 0, "stderr: %s", r.err);
	cr_assert(memcmp(r.out, "0055\x11\x00", 6) == 0, "ascii4 header then BCD MTI");
	run_tool("decode --profile bcd --framing ascii4 --binary", r.out, 4 + 55, &back);
	cr_assert_eq(back.status, 0, "stderr: %s", back.err);
	cr_assert_str_eq(back.out, frame_json);
}

Test(iso8583_tool, garbage_exits_non_zero_with_field_and_offset)
{
	struct run r;
	run_text("decode", "this is not hex\n", &r);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "not a hex digit"), "stderr: %s", r.err);

	/* DE 4 holds a letter at byte 40. */
	run_text("decode",
		 "31313030 70200000 00800000 3136 35313035313030303030303030303031 303030303030"
		 " 303030304130303031303030 313233343536 5445524d30303031\n",
		 &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "field 4 at byte 40: non-digit in numeric field"), "stderr: %s", r.err);

	run_text("encode", "{\"mti\":\"1100\",\"4\":\"12\"}\n", &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "field 4 at byte 12"), "stderr: %s", r.err);

	run_text("encode", "{\"mti\":\"1100\",\"2\":", &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "invalid JSON"), "stderr: %s", r.err);

	run_text("decode --framing binary2", "00ff 3131", &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "ends inside the frame"), "stderr: %s", r.err);

	run_text("decode --profile ebcdic", "", &r);
	cr_assert_eq(r.status, 2);
}

Test(iso8583_tool, jpos93b_profile_writes_what_jpos_writes)
{
	/* The 1100 of tests/codec/test_jpos93b_vectors.c's padding test: a
	 * 15-digit PAN padded on the right, DE 49 as characters. */
	struct run r;
	run_text("encode --profile jpos93b", "{\"mti\":\"1100\",\"2\":\"510510000000001\",\"24\":\"100\",\"49\":\"978\"}\n",
		 &r);
	cr_assert_eq(r.status, 0, "stderr: %s", r.err);
	cr_assert_str_eq(r.out, "110040000100000080001551051000000000101000393738\n");
	/* A TAB in DE 41 (ans8) is refused with its field and byte. */
	run_text("decode --profile jpos93b", "1100 0000000000800000 54455209304d3031\n", &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "field 41 at byte 13: character outside the element's class"), "stderr: %s", r.err);
}

Test(iso8583_tool, help)
{
	struct run r;
	run_text("--help", "", &r);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage: iso8583"));
}

Test(iso8583_tool, streams_of_objects_and_lines)
{
	struct run r, back;
	/* Two objects on one line and a third on the next, framed with ascii4. */
	run_text("encode --framing ascii4",
		 "{\"mti\":1110,\"39\":\"000\"} {\"mti\":\"1804\",\"24\":\"831\",\"93\":\"123\"}\n"
		 "{\"mti\":\"1430\",\"56\":\"1100123456261125171900\"}\n",
		 &r);
	cr_assert_eq(r.status, 0, "stderr: %s", r.err);
	run_text("decode --framing ascii4", r.out, &back);
	cr_assert_eq(back.status, 0, "stderr: %s", back.err);
	cr_assert_str_eq(back.out, "{\"mti\":\"1110\",\"39\":\"000\"}\n"
				   "{\"mti\":\"1804\",\"24\":\"831\",\"93\":\"123\"}\n"
				   "{\"mti\":\"1430\",\"56\":\"1100123456261125171900\"}\n");
	/* Unframed hex: one message a line. */
	run_text("encode", "{\"mti\":\"1110\",\"39\":\"000\"}\n{\"mti\":\"1110\",\"39\":\"116\"}\n", &r);
	cr_assert_eq(r.status, 0, "stderr: %s", r.err);
	run_text("decode", r.out, &back);
	cr_assert_eq(back.status, 0, "stderr: %s", back.err);
	cr_assert_str_eq(back.out, "{\"mti\":\"1110\",\"39\":\"000\"}\n{\"mti\":\"1110\",\"39\":\"116\"}\n");
}

/* --mac-key: encode signs, decode checks; mac-keys writes a private key file for a config. */
Test(iso8583_tool, mac_keys_encode_signs_decode_checks)
{
	char dir[] = "/tmp/iso8583-mac-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char config[256], keys[256], args[1024];
	snprintf(config, sizeof(config), "%s/config/ecosystem.yaml", getenv("ISO_SOURCE_DIR"));
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	struct run r;
	snprintf(args, sizeof(args), "mac-keys --config '%s' --out '%s'", config, keys);
	run_text(args, "", &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char text[2048];
	slurp(keys, text, sizeof(text));
	cr_assert(strstr(text, "acquirer:mastercard 1 "), "%s", text);
	cr_assert(strstr(text, "mastercard:big_bank 1 "));

	static const char msg[] = "{\"mti\":\"1100\",\"2\":\"5105100000000001\",\"11\":\"000001\"}\n";
	snprintf(args, sizeof(args), "encode --mac-key '%s' --mac-link acquirer:mastercard", keys);
	run_text(args, msg, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	static char wire[sizeof(r.out)];
	memcpy(wire, r.out, sizeof(wire));

	snprintf(args, sizeof(args), "decode --mac-key '%s' --mac-link acquirer:mastercard", keys);
	run_text(args, wire, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"mac\":\"valid\""), "%s", r.out);
	cr_assert(strstr(r.out, "\"64\":"), "the MAC is in DE 64: %s", r.out);

	/* Another link's key: wrong. Without a MAC: missing. Both exit 1. */
	snprintf(args, sizeof(args), "decode --mac-key '%s' --mac-link acquirer:visa", keys);
	run_text(args, wire, &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, "\"mac\":\"wrong\""), "%s", r.out);
	run_text("encode", msg, &r);
	memcpy(wire, r.out, sizeof(wire));
	snprintf(args, sizeof(args), "decode --mac-key '%s' --mac-link acquirer:mastercard", keys);
	run_text(args, wire, &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, "\"mac\":\"missing\""), "%s", r.out);

	/* A file others may read is refused, naming the fix and no key. */
	chmod(keys, 0644);
	run_text(args, wire, &r);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "chmod 600"), "%s", r.err);
	unlink(keys);
	rmdir(dir);
}
