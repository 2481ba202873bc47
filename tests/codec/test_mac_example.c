/*
 * The worked example of docs/protocol.md ("MAC", "Worked example"), so that
 * another implementation can check itself against ours: the 1100 below,
 * encoded by our codec with its DE 64 reserved, signed by our AES-CMAC under
 * the RFC 4493 key, must give exactly the bytes and the MAC printed there; and
 * OpenSSL's command line (`openssl mac ... CMAC`) over the covered bytes must
 * agree, an implementation that shares nothing with iso_mac.c but the library.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iso_mac.h"
#include "test_hex.h"
#include "test_temp_dir.h"

/* The example's key (RFC 4493's AES-128 key) and its message, as printed in docs/protocol.md. */
#define EXAMPLE_KEY "2b7e151628aed2a6abf7158809cf4f3c"
#define EXAMPLE_COVERED                                                                                    \
	"31313030" /* MTI 1100 */                                                                          \
	"7020000000800001" /* primary bitmap: DE 2, 3, 4, 11, 41 and 64 */                                 \
	"3136" "35313035313030303030303030303031" /* DE 2: LL 16, PAN */                                  \
	"303030303030" /* DE 3 */                                                                          \
	"303030303030303031303030" /* DE 4: 10.00 */                                                       \
	"313233343536" /* DE 11 */                                                                         \
	"5445524d30303031" /* DE 41: TERM0001 */
#define EXAMPLE_MAC "cdf390638eaf702d" /* DE 64: the CMAC's first 8 bytes */

static void hex(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

/* Our codec and our CMAC build the example from its elements. */
static size_t our_example(uint8_t *wire)
{
	struct iso_msg m;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 2, "5105100000000001");
	iso_set_str(&m, 3, "000000");
	iso_set_str(&m, 4, "000000001000");
	iso_set_str(&m, 11, "123456");
	iso_set_str(&m, 41, "TERM0001");
	iso_mac_reserve(&m);
	size_t n;
	cr_assert_eq(iso_encode(&iso_profile_ascii, &m, wire, ISO_MAX_MESSAGE, &n, NULL), ISO_OK);
	uint8_t key[16];
	test_unhex(EXAMPLE_KEY, key);
	struct iso_cmac *c = iso_cmac_new(key, sizeof(key));
	cr_assert_not_null(c);
	cr_assert(iso_cmac_sign_frame(c, wire, n));
	cr_assert(iso_cmac_check_frame(c, wire, n));
	iso_cmac_free(c);
	return n;
}

Test(mac_example, our_code_gives_the_documented_bytes_and_mac)
{
	uint8_t wire[ISO_MAX_MESSAGE];
	size_t n = our_example(wire);
	char got[2 * ISO_MAX_MESSAGE + 1];
	hex(wire, n - ISO_MAC_SIZE, got);
	cr_assert_str_eq(got, EXAMPLE_COVERED, "the covered bytes");
	hex(wire + n - ISO_MAC_SIZE, ISO_MAC_SIZE, got);
	cr_assert_str_eq(got, EXAMPLE_MAC, "the MAC");
}

Test(mac_example, openssl_command_line_agrees)
{
	char dir[256], path[300], command[512], line[256];
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "mac-example"));
	snprintf(path, sizeof(path), "%s/covered.bin", dir);
	uint8_t wire[ISO_MAX_MESSAGE];
	size_t n = our_example(wire);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(wire, 1, n - ISO_MAC_SIZE, f), n - ISO_MAC_SIZE);
	cr_assert_eq(fclose(f), 0);
	snprintf(command, sizeof(command), "openssl mac -cipher AES-128-CBC -macopt hexkey:%s -in '%s' CMAC 2>&1",
		 EXAMPLE_KEY, path);
	FILE *p = popen(command, "r");
	cr_assert_not_null(p);
	char *read = fgets(line, sizeof(line), p);
	int status = pclose(p);
	test_temp_dir_remove(dir);
	cr_assert_not_null(read, "no output from: %s", command);
	cr_assert_eq(status, 0, "%s: %s", command, line);
	/* 32 hex digits, upper case: the whole CMAC; DE 64 is its first 16. */
	line[strcspn(line, "\r\n")] = '\0';
	cr_assert_eq(strlen(line), 32, "openssl printed '%s'", line);
	for (char *c = line; *c; c++)
		*c = (char)((*c >= 'A' && *c <= 'F') ? *c - 'A' + 'a' : *c);
	cr_assert(strncmp(line, EXAMPLE_MAC, 16) == 0, "openssl's CMAC %s, ours %s", line, EXAMPLE_MAC);
}
