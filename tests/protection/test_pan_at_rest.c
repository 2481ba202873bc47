/*
 * No cleartext PAN at rest, shown masked (docs/data-protection.md), end to end
 * with the real programs: two banks and a network under load (big_bank
 * answering some requests after the bank timeout, so that the switch stores
 * reversal advices and forwards them), a card ordered through the lifecycle
 * (the network's cards, orders, production queue, outbox and notifications,
 * the bank's orders), then every file the agents and the load generator wrote
 * is scanned for every PAN of the population and of the ordered card: none.
 * LMDB files are read by their data extents (sparse, as large as their map).
 *
 * The scanner checks itself first (a planted PAN in a sparse file, one across
 * a read chunk, none in noise), so the end-to-end check cannot pass vacuously;
 * and it must have read the banks' and the network's LMDB data.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecosystem_harness.h"
#include "pan_scan.h"
#include "test_http.h"
#include "test_temp_dir.h"

Test(pan_scan, finds_a_planted_pan_in_a_sparse_file_and_across_chunks)
{
	char dir[256], path[320];
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "pan-scan"));
	snprintf(path, sizeof(path), "%s/sparse.mdb", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 256ll << 20), 0); /* 256 MiB, nearly all hole */
	const char *planted = "5105100000000027", *across = "4111111100000017";
	cr_assert_eq(pwrite(fd, planted, 16, 200ll << 20), 16);
	/* Straddles the scanner's 1 MiB read chunk inside one data extent. */
	char block[8192];
	memset(block, 'x', sizeof(block));
	memcpy(block + 4096 - 7, across, 16);
	cr_assert_eq(pwrite(fd, block, sizeof(block), (3ll << 20) - 4096), (ssize_t)sizeof(block));
	close(fd);
	snprintf(path, sizeof(path), "%s/noise.txt", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "5105100000000035 510510******0027 41111111000000170\n"); /* not in the set; masked; longer run */
	fclose(f);

	struct pan_scan s;
	pan_scan_init(&s);
	cr_assert(pan_scan_add(&s, planted) && pan_scan_add(&s, across));
	cr_assert(pan_scan_tree(&s, dir));
	cr_expect_eq(s.files, 2);
	cr_expect_eq(s.hit_count, 3, "planted, across a chunk, inside a longer run: %zu", s.hit_count);
	cr_expect_lt(s.data_bytes, 1ull << 20, "only data extents are read (%llu bytes)",
		     (unsigned long long)s.data_bytes);
	pan_scan_free(&s);
	test_temp_dir_remove(dir);
}

static struct eco_env env;

static void cleanup(void)
{
	eco_cleanup(&env);
}

/* Modes of what the agents made: no group or other bits. */
static int bad_modes;
static char first_bad[400];
static int check_mode(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if ((type == FTW_F || type == FTW_D) && (st->st_mode & 077)) {
		if (!bad_modes++)
			snprintf(first_bad, sizeof(first_bad), "%s (%04o)", path, (unsigned)(st->st_mode & 07777));
	}
	return 0;
}

Test(pan_at_rest, no_pan_in_any_file_the_ecosystem_wrote, .fini = cleanup, .timeout = 240)
{
	struct eco_settings settings = {
		.base_port = 0, /* set below */
		.bank_timeout_ms = 200,
		.cards_per_bank = 40,
		.initial_balance = 1000000000,
		.reversal_retry_max_ms = 1000,
		.tag = "pan-at-rest",
		.big_bank_slow_share = 0.05,
		.big_bank_slow_ms = 400,
	};
	settings.base_port = 15460;
	cr_assert(eco_prepare(&env, &settings), "could not prepare the ecosystem");
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");

	/* The card lifecycle: an account at lil_bank, a card ordered on mastercard. */
	json_t *out = NULL;
	cr_assert_eq(test_http(env.bank_http[1], "POST", "/create-account", "{\"name\":\"alice\",\"balance\":5000}", &out),
		     201);
	char uuid[64], body[200], pan[24], expiry[8];
	snprintf(uuid, sizeof(uuid), "%s", json_string_value(json_object_get(out, "uuid")));
	json_decref(out);
	snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"network\":\"mastercard\"}", uuid);
	cr_assert_eq(test_http(env.bank_http[1], "POST", "/order-card", body, &out), 201);
	/* order-card's answer: the one place the full PAN and expiry are shown (to the customer). */
	snprintf(pan, sizeof(pan), "%s", json_string_value(json_object_get(out, "pan")));
	snprintf(expiry, sizeof(expiry), "%s", json_string_value(json_object_get(out, "expiry")));
	json_decref(out);
	cr_assert_eq(strlen(pan), 16, "order-card shows the full PAN: '%s'", pan);
	cr_assert_eq(strlen(expiry), 4);

	/* The network makes it and tells the customer (masked, no expiry); the bank hears. */
	char path[200], masked[24];
	snprintf(masked, sizeof(masked), "%.6s******%.4s", pan, pan + 12);
	snprintf(path, sizeof(path), "/notifications/%s", uuid);
	json_t *note = NULL;
	for (int i = 0; i < 200 && !note; i++) {
		json_t *n = test_http_get_json(env.switch_http, path);
		json_t *items = json_object_get(n, "notifications");
		if (json_array_size(items) > 0)
			note = json_incref(json_array_get(items, 0));
		json_decref(n);
		if (!note)
			usleep(50000);
	}
	cr_assert_not_null(note, "no card.ready notification within 10 s");
	cr_expect_str_eq(json_string_value(json_object_get(note, "pan")), masked);
	cr_expect_null(json_object_get(note, "expiry"), "a notification never shows the expiry");
	json_decref(note);
	snprintf(path, sizeof(path), "/card/pan/%s", pan);
	json_t *card = test_http_get_json(env.switch_http, path);
	cr_assert_not_null(card);
	cr_expect_str_eq(json_string_value(json_object_get(card, "pan")), masked);
	cr_expect_null(json_object_get(card, "expiry"));
	json_decref(card);
	card = NULL;
	for (int i = 0; i < 200; i++) { /* the bank's copy turns 'produced' once the outbox delivered */
		json_decref(card);
		card = test_http_get_json(env.bank_http[1], path);
		if (card && strcmp(json_string_value(json_object_get(card, "state")) ?: "", "produced") == 0)
			break;
		usleep(50000);
	}
	cr_assert_not_null(card);
	cr_expect_str_eq(json_string_value(json_object_get(card, "pan")), masked);
	cr_expect_str_eq(json_string_value(json_object_get(card, "state")), "produced");
	cr_expect_null(json_object_get(card, "expiry"));
	json_decref(card);

	/* Every other answer that names a card: masked, no expiry. */
	const char *other = "5105100000000035";
	cr_assert_eq(test_http(env.switch_http, "POST", "/cards", "{\"pan\":\"5105100000000035\",\"expiry\":\"3012\"}",
			       &out),
		     201);
	cr_expect_str_eq(json_string_value(json_object_get(out, "pan")), "510510******0035");
	cr_expect_null(json_object_get(out, "expiry"));
	json_decref(out);
	snprintf(body, sizeof(body), "{\"pan\":\"%s\"}", pan);
	cr_assert_eq(test_http(env.bank_http[1], "POST", "/block-card", body, &out), 200);
	cr_expect_str_eq(json_string_value(json_object_get(out, "pan")), masked);
	json_decref(out);
	cr_assert_eq(test_http(env.bank_http[1], "GET", "/card/pan/5199910000099990", NULL, &out), 404);
	cr_expect(strstr(json_string_value(json_object_get(out, "error")) ?: "", "519991******9990"), "404 masked");
	json_decref(out);
	cr_assert_eq(test_http(env.switch_http, "GET", "/card/pan/5199910000099990", NULL, &out), 404);
	cr_expect(strstr(json_string_value(json_object_get(out, "error")) ?: "", "519991******9990"), "404 masked");
	json_decref(out);

	/* Load, with late answers from big_bank: advices stored and forwarded; outcomes written. */
	char outcomes[400];
	snprintf(outcomes, sizeof(outcomes), "%s/outcomes.txt", env.dir);
	const char *const load[] = {"--rate", "300", "--duration", "3", "--max-requests", "900", "--timeout-ms",
				    "1000", "--outcomes", outcomes, NULL};
	cr_assert_eq(eco_run_loadgen(&env, "load", load, 60000), 0, "the load generator failed");
	cr_assert(eco_wait_switch_drained(&env, 60000), "the switch still owes advices");
	cr_expect_gt(eco_switch_stat(&env, "saf.stored"), 0, "no advice was stored: the SAF queue was not exercised");
	json_t *ledger = test_http_get_json(env.bank_http[0], "/ledger");
	cr_assert_gt(json_integer_value(json_object_get(ledger, "approved_count")), 0, "nothing was journaled");
	json_decref(ledger);
	cr_assert_eq(eco_stop_switch(&env), 0);
	cr_assert_eq(eco_stop_bank(&env, 0), 0);
	cr_assert_eq(eco_stop_bank(&env, 1), 0);

	struct pan_scan s;
	pan_scan_init(&s);
	for (int b = 0; b < 2; b++)
		for (size_t k = 0; k < settings.cards_per_bank; k++) {
			struct population_card c;
			eco_card(&env, b, k, &c);
			cr_assert(pan_scan_add(&s, c.pan));
		}
	cr_assert(pan_scan_add(&s, pan) && pan_scan_add(&s, other) && pan_scan_add(&s, "5199910000099990"));
	cr_assert(pan_scan_tree(&s, env.dir), "a file under %s could not be read", env.dir);
	for (size_t i = 0; i < s.hit_count && i < PAN_SCAN_MAX_HITS; i++)
		fprintf(stderr, "cleartext PAN: %s\n", s.hits[i]);
	cr_expect_eq(s.hit_count, 0, "%zu cleartext PANs in the files the ecosystem wrote (listed above)", s.hit_count);
	cr_expect_gt(s.lmdb_data_bytes, 0, "no LMDB data was scanned");
	fprintf(stderr, "pan_at_rest: %zu files, %llu bytes of data (%llu of LMDB), %zu PANs looked for\n", s.files,
		(unsigned long long)s.data_bytes, (unsigned long long)s.lmdb_data_bytes, s.count);
	pan_scan_free(&s);

	/* What the agents made is the owner's only: LMDB environments, the load report, outcomes. */
	const char *made[] = {"big_bank", "lil_bank", "mastercard", "load", "outcomes.txt"};
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		char p[400];
		snprintf(p, sizeof(p), "%s/%s", env.dir, made[i]);
		cr_assert_eq(access(p, F_OK), 0, "%s was not written", p);
		nftw(p, check_mode, 16, FTW_PHYS);
	}
	cr_expect_eq(bad_modes, 0, "%d files or directories readable by group or others, first %s", bad_modes,
		     first_bad);
}
