/*
 * Where a webhook may go. A webhook URL comes from a customer, so without
 * rules the network would POST wherever it is told: into its own or another
 * agent's API, or to anything on loopback or a private network (SSRF). The
 * rules: https only; never a loopback, private, link-local, benchmark or
 * otherwise non-public address, never an agent's own HTTP endpoint, unless the
 * host is in the allow list (http_security.webhook_allow_hosts). The URL is
 * checked when it is registered and the address again when the connection is
 * opened (a name may resolve elsewhere by then).
 */
#ifndef WEBHOOK_POLICY_H
#define WEBHOOK_POLICY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define WEBHOOK_ALLOW_MAX 16
#define WEBHOOK_INTERNAL_MAX 32

struct webhook_policy {
	size_t allow_count;
	char allow[WEBHOOK_ALLOW_MAX][64]; /* host names or addresses exempt from the rules */
	size_t internal_count;
	struct sockaddr_in internal[WEBHOOK_INTERNAL_MAX]; /* the agents' own HTTP endpoints */
};

/* The URL's form, scheme and (for an address literal) destination; false with the reason. */
bool webhook_url_allowed(const struct webhook_policy *p, const char *url, char *why, size_t why_size);
/* The address a connection for host is about to open. */
bool webhook_address_allowed(const struct webhook_policy *p, const char *host, const struct sockaddr *addr,
			     char *why, size_t why_size);

#endif
