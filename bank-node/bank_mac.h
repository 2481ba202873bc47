/*
 * The bank's two lines of defence on its ISO 8583 links (docs/protocol.md,
 * "MAC" and "Source checks"): a message is admitted only from an IP address of
 * one of its networks (the hosts of their iso and tcp.listen endpoints), and
 * only with a valid MAC of that network's link ("<network>:<bank>"). When
 * several networks share an address (loopback labs), the MAC tells them apart:
 * the network whose iso endpoint is the exact sender is tried first.
 *
 * The table and keyring are shared (read-only after start, keys reloaded on
 * SIGHUP); every thread that checks or signs holds its own iso_mac_view.
 */
#ifndef BANK_MAC_H
#define BANK_MAC_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>

#include "ecosystem_config.h"
#include "iso_mac_keys.h"

struct bank_mac {
	struct iso_mac_keyring keys; /* link i = the bank's networks[i] */
	size_t count;
	struct sockaddr_in iso[CFG_MAX_NETWORKS];   /* the network's UDP endpoint */
	in_addr_t hosts[CFG_MAX_NETWORKS][2];       /* its iso and tcp.listen hosts; INADDR_ANY = any */
	_Atomic uint64_t source_refused[CFG_MAX_NETWORKS + 1]; /* [count]: from no network's address */
};

/* Set by the SIGHUP handler; the UDP I/O thread reloads the keys when it sees it. */
extern volatile sig_atomic_t bank_mac_reload_requested;

bool bank_mac_open(struct bank_mac *b, const struct ecosystem_config *c, const struct cfg_bank *bank, char *err,
		   size_t err_size);
void bank_mac_close(struct bank_mac *b);

enum bank_admission {
	BANK_ADMITTED,        /* *link names the network */
	BANK_SOURCE_REFUSED,  /* not from a network's address: dropped, counted */
	BANK_MAC_REFUSED,     /* from a network's address, MAC missing or wrong: *link = the likeliest */
};

/* True when peer is at one of the networks' addresses (counted as refused otherwise). */
bool bank_mac_source_known(struct bank_mac *b, const struct sockaddr_in *peer, bool tcp);

enum bank_admission bank_mac_admit(struct bank_mac *b, struct iso_mac_view *v, const struct sockaddr_in *peer,
				   bool tcp, const struct iso_msg *m, const uint8_t *frame, size_t length, int *link);

/*
 * A framed answer (2-byte header, MAC element reserved last) made ready for
 * its link: its MAC written, or the element taken off on a link without a key.
 * Returns the length to send, 0 on failure. v NULL: no MACs (tests of the parts).
 */
size_t bank_mac_seal(struct iso_mac_view *v, const struct iso_profile *p, int link, uint8_t *framed, size_t length);

/* "iso_mac": per link counters and source refusals, as a JSON object body for /stats. */
size_t bank_mac_stats_json(struct bank_mac *b, char *out, size_t capacity);

#endif
