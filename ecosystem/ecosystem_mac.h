/*
 * Which ISO 8583 links an agent of the ecosystem is party to, by name, and its
 * MAC keyring (iso_mac_keys.h) opened from the config's iso_mac section.
 *
 *   acquirer:<network>    cardholders / acquirer hosts <-> the network's switch
 *   <network>:<bank>      the network's switch <-> a member bank
 *
 * A switch holds acquirer:<its network> and <its network>:<bank> for each
 * member bank (link index 0 is the acquirer link, then the banks in config
 * order); a bank holds <network>:<bank> for each of its networks (in its
 * networks list's order); the load generator holds acquirer:<network> for each
 * network (in config order).
 */
#ifndef ECOSYSTEM_MAC_H
#define ECOSYSTEM_MAC_H

#include <stdbool.h>
#include <stddef.h>

#include "ecosystem_config.h"
#include "iso_mac_keys.h"

enum mac_agent { MAC_AGENT_NETWORK, MAC_AGENT_BANK, MAC_AGENT_LOADGEN };

void ecosystem_mac_acquirer_link(const char *network, char out[ISO_MAC_LINK_NAME]);
void ecosystem_mac_bank_link(const char *network, const char *bank, char out[ISO_MAC_LINK_NAME]);

/* The link names of an agent (name: the network or bank; ignored for the load generator). */
size_t ecosystem_mac_links(const struct ecosystem_config *c, enum mac_agent agent, const char *name,
			   char out[][ISO_MAC_LINK_NAME], size_t capacity);

/*
 * Opens the agent's keyring from c->iso_mac. Refuses (false, err) a link
 * without a key unless allow_unprotected; each link that runs without MACs
 * is then announced on stderr with the agent's name (never a key).
 */
bool ecosystem_mac_keyring_open(const struct ecosystem_config *c, enum mac_agent agent, const char *name,
				const char *program, struct iso_mac_keyring *kr, char *err, size_t err_size);

/*
 * The same checks without keeping the keyring or saying anything: for an agent's
 * start, where a missing or unreadable key file is a configuration error (exit 2)
 * like the config itself, before anything is opened.
 */
bool ecosystem_mac_keys_check(const struct ecosystem_config *c, enum mac_agent agent, const char *name, char *err,
			      size_t err_size);

/* Writes a key file (0600) with a fresh random key for every link of the ecosystem. */
bool ecosystem_mac_keyfile_create(const struct ecosystem_config *c, const char *path, char *err, size_t err_size);

#endif
