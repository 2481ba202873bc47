/* The PAN vault: key file checks, lookups, seals that open after a rotation, forged or foreign bytes refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pan_keys.h"
#include "pan_vault.h"
#include "test_temp_dir.h"

static char dir[256], key_file[300];

static void setup(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "vault"));
	snprintf(key_file, sizeof(key_file), "%s/pan.keys", dir);
	char err[256];
	cr_assert_eq(pan_keys_create(key_file, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	test_temp_dir_remove(dir);
}

TestSuite(pan_vault, .init = setup, .fini = teardown);

static struct pan_vault *load(void)
{
	char err[256];
	struct pan_vault *v = pan_vault_load(key_file, err, sizeof(err));
	cr_assert(v, "%s", err);
	return v;
}

Test(pan_vault, created_key_file_is_owner_only)
{
	struct stat st;
	cr_assert_eq(stat(key_file, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	char err[256];
	cr_assert_eq(pan_keys_create(key_file, err, sizeof(err)), -1, "an existing key file is never overwritten");
}

Test(pan_vault, refuses_missing_open_or_malformed_key_files)
{
	char err[256], path[320];
	snprintf(path, sizeof(path), "%s/absent.keys", dir);
	cr_assert_null(pan_vault_load(path, err, sizeof(err)));
	cr_assert(strstr(err, "absent.keys") && strstr(err, "No such file"), "%s", err);
	cr_assert_null(pan_vault_load("", err, sizeof(err)));
	cr_assert(strstr(err, "pan_protection.key_file"), "%s", err);

	chmod(key_file, 0640);
	cr_assert_null(pan_vault_load(key_file, err, sizeof(err)));
	cr_assert(strstr(err, "0640") && strstr(err, "chmod 600"), "%s", err);
	chmod(key_file, 0600);

	snprintf(path, sizeof(path), "%s/bad.keys", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "lookup 00ff\ndata 1 %064d\ncurrent 1\n", 0);
	fclose(f);
	chmod(path, 0600);
	cr_assert_null(pan_vault_load(path, err, sizeof(err)));
	cr_assert(strstr(err, ":1:"), "the line is named: %s", err);
	cr_assert_null(strstr(err, "00ff"), "key material never appears in an error: %s", err);
}

Test(pan_vault, lookup_is_keyed_deterministic_and_differs_per_pan)
{
	struct pan_vault *v = load();
	uint8_t a[PAN_LOOKUP_BYTES], b[PAN_LOOKUP_BYTES], c[PAN_LOOKUP_BYTES];
	cr_assert_eq(pan_vault_lookup(v, "5105100000000027", 16, a), 0);
	cr_assert_eq(pan_vault_lookup(v, "5105100000000027", 16, b), 0);
	cr_assert_eq(pan_vault_lookup(v, "5105100000000035", 16, c), 0);
	cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
	cr_assert_neq(memcmp(a, c, sizeof(a)), 0);

	/* Another key file: another lookup key, so other lookups (a stolen database alone is useless). */
	char other[320], err[256];
	snprintf(other, sizeof(other), "%s/other.keys", dir);
	cr_assert_eq(pan_keys_create(other, err, sizeof(err)), 0, "%s", err);
	struct pan_vault *w = pan_vault_load(other, err, sizeof(err));
	cr_assert(w, "%s", err);
	cr_assert_eq(pan_vault_lookup(w, "5105100000000027", 16, b), 0);
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
	uint8_t fv[PAN_LOOKUP_BYTES], fw[PAN_LOOKUP_BYTES];
	pan_vault_fingerprint(v, fv);
	pan_vault_fingerprint(w, fw);
	cr_assert_neq(memcmp(fv, fw, sizeof(fv)), 0);
	pan_vault_free(w);
	pan_vault_free(v);
}

Test(pan_vault, sealed_pan_hides_the_digits_and_opens_back)
{
	struct pan_vault *v = load();
	struct sealed_pan s1, s2;
	cr_assert_eq(pan_vault_seal_pan(v, "4111111100000017", &s1), 0);
	cr_assert_eq(pan_vault_seal_pan(v, "4111111100000017", &s2), 0);
	cr_assert_neq(memcmp(&s1, &s2, sizeof(s1)), 0, "a fresh IV per seal");
	cr_assert_null(memmem(s1.bytes, sizeof(s1.bytes), "4111111", 7));
	char pan[PAN_SEALED_TEXT];
	cr_assert_eq(pan_vault_open_pan(v, &s1, pan), 0);
	cr_assert_str_eq(pan, "4111111100000017");

	s1.bytes[sizeof(s1.bytes) - 1] ^= 1; /* one flipped bit in the ciphertext */
	cr_assert_eq(pan_vault_open_pan(v, &s1, pan), -1);
	cr_assert_str_eq(pan, "");
	s2.bytes[0] ^= 1; /* the key id is authenticated too */
	cr_assert_eq(pan_vault_open_pan(v, &s2, pan), -1);
	cr_assert_eq(pan_vault_seal_pan(v, "12345678901234567890", &s1), -1, "20 digits is no PAN");
	pan_vault_free(v);
}

Test(pan_vault, rotation_makes_a_new_current_key_and_old_seals_still_open)
{
	struct pan_vault *v = load();
	cr_assert_eq(pan_vault_current_key_id(v), 1);
	struct sealed_pan old;
	cr_assert_eq(pan_vault_seal_pan(v, "5199910000000018", &old), 0);
	uint8_t before[PAN_LOOKUP_BYTES];
	pan_vault_lookup(v, "5199910000000018", 16, before);
	pan_vault_free(v);

	char err[256];
	uint32_t id = 0;
	cr_assert_eq(pan_keys_rotate(key_file, &id, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(id, 2);
	struct stat st;
	cr_assert_eq(stat(key_file, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);

	v = load();
	cr_assert_eq(pan_vault_current_key_id(v), 2);
	char pan[PAN_SEALED_TEXT];
	cr_assert_eq(pan_vault_open_pan(v, &old, pan), 0);
	cr_assert_str_eq(pan, "5199910000000018");
	struct sealed_pan fresh;
	cr_assert_eq(pan_vault_seal_pan(v, "5199910000000018", &fresh), 0);
	cr_assert_eq(fresh.bytes[0], 2, "new seals carry the new key id");
	uint8_t after[PAN_LOOKUP_BYTES];
	pan_vault_lookup(v, "5199910000000018", 16, after);
	cr_assert_eq(memcmp(before, after, sizeof(after)), 0, "the lookup key does not rotate with the data key");
	pan_vault_free(v);
}

Test(pan_vault, blobs_of_any_length)
{
	struct pan_vault *v = load();
	const char body[] = "{\"event\":\"card.ready\",\"pan\":\"5105100000000027\"}";
	uint8_t sealed[sizeof(body) + PAN_SEAL_OVERHEAD];
	char back[sizeof(body)];
	cr_assert_eq(pan_vault_seal(v, body, sizeof(body), sealed), 0);
	cr_assert_null(memmem(sealed, sizeof(sealed), "5105100000000027", 16));
	cr_assert_eq(pan_vault_open(v, sealed, sizeof(sealed), back), 0);
	cr_assert_str_eq(back, body);
	cr_assert_eq(pan_vault_open(v, sealed, PAN_SEAL_OVERHEAD - 1, back), -1);
	pan_vault_free(v);
}

/* IVs: a random fixed field per thread context and a counter; never repeated, not across a fork either. */
Test(pan_vault, ivs_never_repeat_in_a_context_or_across_fork)
{
	struct pan_vault *v = load();
	enum { N = 2000 };
	static uint8_t ivs[N + 1][PAN_SEAL_IV_BYTES];
	struct sealed_pan s;
	for (int i = 0; i < N; i++) {
		cr_assert_eq(pan_vault_seal_pan(v, "5105100000000027", &s), 0);
		memcpy(ivs[i], s.bytes + 4, PAN_SEAL_IV_BYTES);
	}
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t child = fork();
	if (child == 0) {
		struct sealed_pan c;
		int ok = pan_vault_seal_pan(v, "5105100000000027", &c) == 0;
		ssize_t n = ok ? write(fds[1], c.bytes + 4, PAN_SEAL_IV_BYTES) : -1;
		_exit(n == PAN_SEAL_IV_BYTES ? 0 : 1);
	}
	cr_assert_eq(pan_vault_seal_pan(v, "5105100000000027", &s), 0); /* the parent's next IV */
	cr_assert_eq(read(fds[0], ivs[N], PAN_SEAL_IV_BYTES), PAN_SEAL_IV_BYTES);
	int status;
	waitpid(child, &status, 0);
	cr_assert_neq(memcmp(ivs[N], s.bytes + 4, PAN_SEAL_IV_BYTES), 0, "the child repeated the parent's IV");
	for (int i = 0; i <= N; i++)
		for (int j = i + 1; j <= N; j++)
			cr_assert_neq(memcmp(ivs[i], ivs[j], PAN_SEAL_IV_BYTES), 0, "IV %d repeated at %d", i, j);
	close(fds[0]);
	close(fds[1]);
	pan_vault_free(v);
}
