#include "ecosystem_mac.h"

#include <stdio.h>
#include <string.h>

void ecosystem_mac_acquirer_link(const char *network, char out[ISO_MAC_LINK_NAME])
{
	snprintf(out, ISO_MAC_LINK_NAME, "acquirer:%s", network);
}

void ecosystem_mac_bank_link(const char *network, const char *bank, char out[ISO_MAC_LINK_NAME])
{
	snprintf(out, ISO_MAC_LINK_NAME, "%s:%s", network, bank);
}

static bool is_member(const struct cfg_bank *b, const char *network)
{
	for (size_t m = 0; m < b->network_count; m++)
		if (strcmp(b->networks[m].network, network) == 0)
			return true;
	return false;
}

size_t ecosystem_mac_links(const struct ecosystem_config *c, enum mac_agent agent, const char *name,
			   char out[][ISO_MAC_LINK_NAME], size_t capacity)
{
	size_t n = 0;
	switch (agent) {
	case MAC_AGENT_NETWORK:
		if (n < capacity)
			ecosystem_mac_acquirer_link(name, out[n++]);
		for (size_t b = 0; b < c->bank_count; b++)
			if (is_member(&c->banks[b], name) && n < capacity)
				ecosystem_mac_bank_link(name, c->banks[b].name, out[n++]);
		break;
	case MAC_AGENT_BANK: {
		const struct cfg_bank *b = ecosystem_find_bank(c, name);
		for (size_t m = 0; b && m < b->network_count && n < capacity; m++)
			ecosystem_mac_bank_link(b->networks[m].network, b->name, out[n++]);
		break;
	}
	case MAC_AGENT_LOADGEN:
		for (size_t i = 0; i < c->network_count && n < capacity; i++)
			ecosystem_mac_acquirer_link(c->networks[i].name, out[n++]);
		break;
	}
	return n;
}

bool ecosystem_mac_keyring_open(const struct ecosystem_config *c, enum mac_agent agent, const char *name,
				const char *program, struct iso_mac_keyring *kr, char *err, size_t err_size)
{
	char names[ISO_MAC_MAX_LINKS][ISO_MAC_LINK_NAME];
	const char *links[ISO_MAC_MAX_LINKS];
	size_t n = ecosystem_mac_links(c, agent, name, names, ISO_MAC_MAX_LINKS);
	for (size_t i = 0; i < n; i++)
		links[i] = names[i];
	if (!iso_mac_keyring_init(kr, c->iso_mac.key_file, c->iso_mac.grace_s, c->iso_mac.allow_unprotected, links, n,
				  err, err_size))
		return false;
	for (size_t i = 0; i < n; i++)
		if (iso_mac_keyring_unprotected(kr, (int)i))
			fprintf(stderr,
				"%s: WARNING: ISO 8583 link %s runs WITHOUT MACs (iso_mac.allow_unprotected: lab use "
				"only; anyone who reaches the port can send it messages)\n",
				program, names[i]);
	return true;
}

bool ecosystem_mac_keys_check(const struct ecosystem_config *c, enum mac_agent agent, const char *name, char *err,
			      size_t err_size)
{
	char names[ISO_MAC_MAX_LINKS][ISO_MAC_LINK_NAME];
	const char *links[ISO_MAC_MAX_LINKS];
	size_t n = ecosystem_mac_links(c, agent, name, names, ISO_MAC_MAX_LINKS);
	for (size_t i = 0; i < n; i++)
		links[i] = names[i];
	static struct iso_mac_keyring kr; /* large; callers check once, at start */
	if (!iso_mac_keyring_init(&kr, c->iso_mac.key_file, c->iso_mac.grace_s, c->iso_mac.allow_unprotected, links, n,
				  err, err_size))
		return false;
	iso_mac_keyring_destroy(&kr);
	return true;
}

bool ecosystem_mac_keyfile_create(const struct ecosystem_config *c, const char *path, char *err, size_t err_size)
{
	char names[ISO_MAC_MAX_LINKS * 2][ISO_MAC_LINK_NAME];
	const char *links[ISO_MAC_MAX_LINKS * 2];
	size_t n = ecosystem_mac_links(c, MAC_AGENT_LOADGEN, "", names, ISO_MAC_MAX_LINKS * 2);
	for (size_t b = 0; b < c->bank_count; b++)
		n += ecosystem_mac_links(c, MAC_AGENT_BANK, c->banks[b].name, names + n, ISO_MAC_MAX_LINKS * 2 - n);
	for (size_t i = 0; i < n; i++)
		links[i] = names[i];
	return iso_mac_keyfile_create(path, links, n, err, err_size);
}
