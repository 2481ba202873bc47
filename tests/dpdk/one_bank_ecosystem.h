/*
 * The smallest ecosystem with the switch on the DPDK dataplane: one bank
 * (big_bank, BIN 51051000) on one network (mastercard), written as
 * ecosystem.yaml for the DPDK end-to-end tests and the switch benchmark.
 */
#ifndef ONE_BANK_ECOSYSTEM_H
#define ONE_BANK_ECOSYSTEM_H

#include <stdbool.h>
#include <stdint.h>

struct one_bank_ecosystem {
	const char *switch_ip, *bank_ip; /* the ISO 8583 UDP addresses on the wire */
	uint16_t switch_udp, bank_udp;
	uint16_t switch_http, bank_http; /* on 127.0.0.1 */
	const char *lmdb_dir;            /* big_bank and mastercard environments go there */
	unsigned cards_per_bank;
	unsigned outcome_memory; /* the switch's outcome_memory; 0 leaves its default */
	const char *mac_key_file; /* fresh MAC keys for every link written there; NULL: links without MACs */
};

/* Writes the YAML to path (and the MAC key file); false when it cannot be written. */
bool one_bank_ecosystem_write(const char *path, const struct one_bank_ecosystem *e);

#endif
