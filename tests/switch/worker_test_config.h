/*
 * The one-bank, one-network ecosystem that the worker tests and the worker
 * benchmark load (no process is started: the addresses are never bound).
 * Each appends its own network settings and population to this prefix.
 */
#ifndef TEST_WORKER_TEST_CONFIG_H
#define TEST_WORKER_TEST_CONFIG_H

/* Links without MACs: unit level, the MAC has its own tests (test_iso_mac, test_switch_mac). */
#define WORKER_TEST_CONFIG_PREFIX                 \
	"iso_mac:\n"                              \
	"  allow_unprotected: true\n"             \
	"banks:\n"                                \
	"  - name: big_bank\n"                    \
	"    institution_id: \"10000000001\"\n"   \
	"    http: 127.0.0.1:9301\n"              \
	"    iso: 127.0.0.1:9302\n"               \
	"    lmdb_path: /nonexistent/bank\n"      \
	"    networks:\n"                         \
	"      - network: mastercard\n"           \
	"        bins: [\"51051000\"]\n"          \
	"networks:\n"                             \
	"  - name: mastercard\n"                  \
	"    major_industry_id: 5\n"              \
	"    http: 127.0.0.1:9303\n"              \
	"    iso: 127.0.0.1:9304\n"               \
	"    lmdb_path: /nonexistent/network\n"

#endif
