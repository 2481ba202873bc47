#include "bank_mac.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ecosystem_mac.h"
#include "udp_port.h"

volatile sig_atomic_t bank_mac_reload_requested;

static in_addr_t host_address(const char *host)
{
	struct sockaddr_in a;
	if (endpoint_to_sockaddr(host, 1, &a) != 0)
		return INADDR_NONE;
	return a.sin_addr.s_addr;
}

bool bank_mac_open(struct bank_mac *b, const struct ecosystem_config *c, const struct cfg_bank *bank, char *err,
		   size_t err_size)
{
	memset(b, 0, sizeof(*b));
	if (!ecosystem_mac_keyring_open(c, MAC_AGENT_BANK, bank->name, "bank-node", &b->keys, err, err_size)) {
		iso_mac_keyring_destroy(&b->keys);
		return false;
	}
	for (size_t m = 0; m < bank->network_count; m++) {
		const struct cfg_network *n = ecosystem_find_network(c, bank->networks[m].network);
		b->hosts[m][0] = b->hosts[m][1] = INADDR_NONE;
		if (n) {
			endpoint_to_sockaddr(n->iso.host, n->iso.port, &b->iso[m]);
			b->hosts[m][0] = host_address(n->iso.host);
			if (n->tcp.enabled)
				b->hosts[m][1] = host_address(n->tcp.listen.host);
		}
	}
	b->count = bank->network_count;
	return true;
}

void bank_mac_close(struct bank_mac *b)
{
	iso_mac_keyring_destroy(&b->keys);
}

static bool from_network(const struct bank_mac *b, size_t m, const struct sockaddr_in *peer)
{
	for (int h = 0; h < 2; h++)
		if (b->hosts[m][h] != INADDR_NONE &&
		    (b->hosts[m][h] == htonl(INADDR_ANY) || b->hosts[m][h] == peer->sin_addr.s_addr))
			return true;
	return false;
}

bool bank_mac_source_known(struct bank_mac *b, const struct sockaddr_in *peer, bool tcp)
{
	for (size_t i = 0; i < b->count; i++)
		if (from_network(b, i, peer) || (!tcp && b->iso[i].sin_addr.s_addr == peer->sin_addr.s_addr))
			return true;
	atomic_fetch_add_explicit(&b->source_refused[b->count], 1, memory_order_relaxed);
	return false;
}

enum bank_admission bank_mac_admit(struct bank_mac *b, struct iso_mac_view *v, const struct sockaddr_in *peer,
				   bool tcp, const struct iso_msg *m, const uint8_t *frame, size_t length, int *link)
{
	/* Candidates: the exact UDP sender first, then every network at that address. */
	int order[CFG_MAX_NETWORKS], n = 0;
	for (size_t i = 0; i < b->count; i++)
		if (!tcp && b->iso[i].sin_addr.s_addr == peer->sin_addr.s_addr && b->iso[i].sin_port == peer->sin_port)
			order[n++] = (int)i;
	int exact = n;
	for (size_t i = 0; i < b->count; i++) {
		bool listed = false;
		for (int k = 0; k < exact; k++)
			listed = listed || order[k] == (int)i;
		if (!listed && from_network(b, i, peer))
			order[n++] = (int)i;
	}
	if (n == 0) {
		atomic_fetch_add_explicit(&b->source_refused[b->count], 1, memory_order_relaxed);
		return BANK_SOURCE_REFUSED;
	}
	enum iso_mac_verdict first = ISO_MAC_WRONG;
	for (int k = 0; k < n; k++) {
		enum iso_mac_verdict verdict = iso_mac_view_try(v, order[k], m, frame, length);
		if (k == 0)
			first = verdict;
		if (iso_mac_accepted(verdict)) {
			iso_mac_view_count(v, order[k], verdict);
			*link = order[k];
			return BANK_ADMITTED;
		}
	}
	iso_mac_view_count(v, order[0], first);
	*link = order[0];
	return BANK_MAC_REFUSED;
}

size_t bank_mac_seal(struct iso_mac_view *v, const struct iso_profile *p, int link, uint8_t *framed, size_t length)
{
	return iso_mac_view_seal(v, p, link, framed, length);
}

size_t bank_mac_stats_json(struct bank_mac *b, char *out, size_t capacity)
{
	int n = snprintf(out, capacity, "\"source_refused\":%llu,\"links\":{",
			 (unsigned long long)atomic_load(&b->source_refused[b->count]));
	if (n < 0 || (size_t)n >= capacity)
		return 0;
	size_t at = (size_t)n;
	at += iso_mac_keyring_stats_json(&b->keys, out + at, capacity - at);
	if (at + 2 > capacity)
		return 0;
	out[at++] = '}';
	out[at] = '\0';
	return at;
}
