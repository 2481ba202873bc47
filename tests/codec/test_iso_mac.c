/*
 * AES-CMAC against the published vectors (RFC 4493 for AES-128, NIST SP
 * 800-38B's examples for AES-256), the MAC element through the codec in both
 * profiles (DE 64, and DE 128 behind a secondary bitmap), and the key file and
 * rotation rules of iso_mac_keys.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iso_mac.h"
#include "iso_mac_keys.h"
#include "test_hex.h"
#include "test_temp_dir.h"

static void expect_cmac(const char *key_hex, const char *msg_hex, const char *want_hex)
{
	uint8_t key[32], msg[64], want[16], got[16];
	size_t key_len = test_unhex(key_hex, key), msg_len = test_unhex(msg_hex, msg);
	test_unhex(want_hex, want);
	struct iso_cmac *c = iso_cmac_new(key, key_len);
	cr_assert_not_null(c);
	/* Twice: the second run re-initialises the keyed context with a NULL key. */
	for (int round = 0; round < 2; round++) {
		cr_assert(iso_cmac_full(c, msg, msg_len, got));
		cr_assert(memcmp(got, want, 16) == 0, "CMAC of %zu bytes, round %d", msg_len, round);
	}
	uint8_t mac[8];
	cr_assert(iso_cmac_mac(c, msg, msg_len, mac));
	cr_assert(memcmp(mac, want, 8) == 0);
	cr_assert(iso_cmac_check(c, msg, msg_len, want));
	mac[0] ^= 1;
	cr_assert_not(iso_cmac_check(c, msg, msg_len, mac));
	iso_cmac_free(c);
}

#define K128 "2b7e151628aed2a6abf7158809cf4f3c"
#define K256 "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
#define M64 "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" \
	    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"

Test(cmac, rfc4493_aes128)
{
	expect_cmac(K128, "", "bb1d6929e95937287fa37d129b756746");
	expect_cmac(K128, "6bc1bee22e409f96e93d7e117393172a", "070a16b46b4d4144f79bdd9dd04a287c");
	char m40[81];
	memcpy(m40, M64, 80);
	m40[80] = '\0';
	expect_cmac(K128, m40, "dfa66747de9ae63030ca32611497c827");
	expect_cmac(K128, M64, "51f0bebf7e3b9d92fc49741779363cfe");
}

Test(cmac, sp800_38b_aes256)
{
	expect_cmac(K256, "", "028962f61b7bf89efc6b551f4667d983");
	expect_cmac(K256, "6bc1bee22e409f96e93d7e117393172a", "28a7023f452e8f82bd4bf28d8c37c35c");
}

Test(cmac, bad_key_length)
{
	uint8_t key[20] = {0};
	cr_assert_null(iso_cmac_new(key, sizeof(key)));
}

static void sample_1100(struct iso_msg *m)
{
	iso_msg_init(m, 1100);
	iso_set_str(m, 2, "5105100000000001");
	iso_set_str(m, 3, "000000");
	iso_set_str(m, 4, "000000001000");
	iso_set_str(m, 11, "000123");
	iso_set_str(m, 37, "000000000123");
	iso_set_str(m, 41, "TERM0001");
}

static void round_trip_with_mac(const struct iso_profile *p, bool secondary)
{
	uint8_t key[16];
	test_unhex(K128, key);
	struct iso_cmac *c = iso_cmac_new(key, 16);
	struct iso_msg m;
	sample_1100(&m);
	if (secondary)
		iso_set_str(&m, 70, "301");
	iso_mac_reserve(&m);
	int field = secondary ? 128 : 64;
	cr_assert(iso_has(&m, field));
	cr_assert_not(iso_has(&m, secondary ? 64 : 128));
	uint8_t wire[ISO_MAX_MESSAGE];
	size_t n;
	cr_assert_eq(iso_encode(p, &m, wire, sizeof(wire), &n, NULL), ISO_OK);
	cr_assert(iso_cmac_sign_frame(c, wire, n));
	struct iso_msg d;
	cr_assert_eq(iso_decode(p, wire, n, &d, NULL), ISO_OK);
	cr_assert(iso_has(&d, field));
	cr_assert_eq(iso_mac_field(&d), field);
	cr_assert(iso_mac_present(&d, wire, n));
	cr_assert(iso_cmac_check_frame(c, wire, n));
	/* The MAC covers the MTI, the bitmaps and every element before it. */
	for (size_t at = 0; at < n; at++) {
		wire[at] ^= 0x01;
		cr_assert_not(iso_cmac_check_frame(c, wire, n), "byte %zu flipped", at);
		wire[at] ^= 0x01;
	}
	/* Without the element, a decoded message has no MAC. */
	iso_clear(&m, field);
	cr_assert_eq(iso_encode(p, &m, wire, sizeof(wire), &n, NULL), ISO_OK);
	cr_assert_eq(iso_decode(p, wire, n, &d, NULL), ISO_OK);
	cr_assert_not(iso_mac_present(&d, wire, n));
	iso_cmac_free(c);
}

Test(mac_codec, de64_ascii) { round_trip_with_mac(&iso_profile_ascii, false); }
Test(mac_codec, de64_bcd) { round_trip_with_mac(&iso_profile_bcd, false); }
Test(mac_codec, de128_ascii) { round_trip_with_mac(&iso_profile_ascii, true); }
Test(mac_codec, de128_bcd) { round_trip_with_mac(&iso_profile_bcd, true); }

/* ---- key files and rotation ---- */

static char dir[256], path[512];

static void setup(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "iso-mac"));
	snprintf(path, sizeof(path), "%s/keys", dir);
}

static void teardown(void)
{
	test_temp_dir_remove(dir);
}

static void write_keys(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static const char *const links[] = {"acquirer:net", "net:bank"};

static size_t signed_message(struct iso_mac_view *v, int link, uint8_t *wire, struct iso_msg *d)
{
	struct iso_msg m;
	sample_1100(&m);
	iso_mac_reserve(&m);
	size_t n;
	cr_assert_eq(iso_encode(&iso_profile_ascii, &m, wire, ISO_MAX_MESSAGE, &n, NULL), ISO_OK);
	cr_assert(iso_mac_view_sign(v, link, wire, n));
	cr_assert_eq(iso_decode(&iso_profile_ascii, wire, n, d, NULL), ISO_OK);
	return n;
}

TestSuite(mac_keys, .init = setup, .fini = teardown);

Test(mac_keys, created_file_is_private_and_loads)
{
	char err[256];
	cr_assert(iso_mac_keyfile_create(path, links, 2, err, sizeof(err)), "%s", err);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	struct iso_mac_keyring kr;
	cr_assert(iso_mac_keyring_init(&kr, path, 60, false, links, 2, err, sizeof(err)), "%s", err);
	cr_assert_not(iso_mac_keyring_unprotected(&kr, 0));
	iso_mac_keyring_destroy(&kr);
}

Test(mac_keys, readable_by_others_refused)
{
	write_keys("acquirer:net 1 000102030405060708090a0b0c0d0e0f\nnet:bank 1 000102030405060708090a0b0c0d0e0f\n",
		   0644);
	struct iso_mac_keyring kr;
	char err[256];
	cr_assert_not(iso_mac_keyring_init(&kr, path, 60, false, links, 2, err, sizeof(err)));
	cr_assert(strstr(err, "chmod 600"), "%s", err);
	iso_mac_keyring_destroy(&kr);
}

Test(mac_keys, malformed_line_named_without_key)
{
	write_keys("acquirer:net 1 000102030405060708090a0b0c0d0e0f\nnet:bank 1 00010203zz\n", 0600);
	struct iso_mac_keyring kr;
	char err[256];
	cr_assert_not(iso_mac_keyring_init(&kr, path, 60, false, links, 2, err, sizeof(err)));
	cr_assert(strstr(err, "line 2"), "%s", err);
	cr_assert_null(strstr(err, "00010203"), "a key never reaches a message: %s", err);
	iso_mac_keyring_destroy(&kr);
}

Test(mac_keys, missing_link_refused_unless_unprotected_allowed)
{
	write_keys("acquirer:net 1 000102030405060708090a0b0c0d0e0f\n", 0600);
	struct iso_mac_keyring kr;
	char err[256];
	cr_assert_not(iso_mac_keyring_init(&kr, path, 60, false, links, 2, err, sizeof(err)));
	cr_assert(strstr(err, "net:bank"), "%s", err);
	iso_mac_keyring_destroy(&kr);
	cr_assert(iso_mac_keyring_init(&kr, path, 60, true, links, 2, err, sizeof(err)), "%s", err);
	cr_assert(iso_mac_keyring_unprotected(&kr, 1));
	struct iso_mac_view v;
	cr_assert(iso_mac_view_init(&v, &kr));
	cr_assert(iso_mac_view_signs(&v, 0));
	cr_assert_not(iso_mac_view_signs(&v, 1));
	struct iso_msg m;
	sample_1100(&m);
	uint8_t wire[ISO_MAX_MESSAGE];
	size_t n;
	iso_encode(&iso_profile_ascii, &m, wire, sizeof(wire), &n, NULL);
	struct iso_msg d;
	iso_decode(&iso_profile_ascii, wire, n, &d, NULL);
	cr_assert_eq(iso_mac_view_check(&v, 1, &d, wire, n), ISO_MAC_UNPROTECTED);
	cr_assert_eq(iso_mac_view_check(&v, 0, &d, wire, n), ISO_MAC_MISSING);
	cr_assert_eq(atomic_load(&kr.links[0].counters.missing), 1);
	iso_mac_view_destroy(&v);
	iso_mac_keyring_destroy(&kr);
}

static void rotation(unsigned grace_s, enum iso_mac_verdict old_key_verdict)
{
	write_keys("acquirer:net 1 000102030405060708090a0b0c0d0e0f\nnet:bank 1 101112131415161718191a1b1c1d1e1f\n",
		   0600);
	struct iso_mac_keyring kr;
	char err[256];
	cr_assert(iso_mac_keyring_init(&kr, path, grace_s, false, links, 2, err, sizeof(err)), "%s", err);
	/* The sender keeps the old key: a view made before the reload, never refreshed. */
	struct iso_mac_view old_sender, receiver;
	cr_assert(iso_mac_view_init(&old_sender, &kr));
	cr_assert(iso_mac_view_init(&receiver, &kr));
	write_keys("acquirer:net 2 202122232425262728292a2b2c2d2e2f\nnet:bank 1 101112131415161718191a1b1c1d1e1f\n",
		   0600);
	cr_assert(iso_mac_keyring_reload(&kr, err, sizeof(err)), "%s", err);
	cr_assert(iso_mac_view_refresh(&receiver));
	uint8_t wire[ISO_MAX_MESSAGE];
	struct iso_msg d;
	size_t n = signed_message(&old_sender, 0, wire, &d);
	cr_assert_eq(iso_mac_view_check(&receiver, 0, &d, wire, n), old_key_verdict);
	n = signed_message(&receiver, 0, wire, &d);
	cr_assert_eq(iso_mac_view_check(&receiver, 0, &d, wire, n), ISO_MAC_VALID);
	/* The unchanged link kept its key and has no previous one. */
	n = signed_message(&old_sender, 1, wire, &d);
	cr_assert_eq(iso_mac_view_check(&receiver, 1, &d, wire, n), ISO_MAC_VALID);
	iso_mac_view_destroy(&old_sender);
	iso_mac_view_destroy(&receiver);
	iso_mac_keyring_destroy(&kr);
}

Test(mac_keys, previous_key_accepted_within_grace) { rotation(3600, ISO_MAC_VALID_PREVIOUS); }
Test(mac_keys, previous_key_refused_after_grace) { rotation(0, ISO_MAC_WRONG); }

Test(mac_keys, failed_reload_keeps_keys)
{
	write_keys("acquirer:net 1 000102030405060708090a0b0c0d0e0f\nnet:bank 1 101112131415161718191a1b1c1d1e1f\n",
		   0600);
	struct iso_mac_keyring kr;
	char err[256];
	cr_assert(iso_mac_keyring_init(&kr, path, 60, false, links, 2, err, sizeof(err)), "%s", err);
	write_keys("acquirer:net 2 202122232425262728292a2b2c2d2e2f\n", 0600);
	cr_assert_not(iso_mac_keyring_reload(&kr, err, sizeof(err)));
	cr_assert_eq(kr.links[0].current.id, 1);
	iso_mac_keyring_destroy(&kr);
}
