#include "webhook_policy.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool host_allowed(const struct webhook_policy *p, const char *host)
{
	for (size_t i = 0; i < p->allow_count; i++)
		if (strcasecmp(p->allow[i], host) == 0)
			return true;
	return false;
}

/* Not a public unicast IPv4 address: what a webhook must never reach. */
static const char *ipv4_class(uint32_t a)
{
	static const struct {
		uint32_t net, mask;
		const char *name;
	} blocked[] = {
		{0x00000000, 0xff000000, "'this' network"},   {0x0a000000, 0xff000000, "private"},
		{0x64400000, 0xffc00000, "shared (CGNAT)"},   {0x7f000000, 0xff000000, "loopback"},
		{0xa9fe0000, 0xffff0000, "link-local"},	      {0xac100000, 0xfff00000, "private"},
		{0xc0000000, 0xffffff00, "IETF protocol"},    {0xc0a80000, 0xffff0000, "private"},
		{0xc6120000, 0xfffe0000, "benchmarking"},     {0xe0000000, 0xe0000000, "multicast or reserved"},
	};
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
		if ((a & blocked[i].mask) == blocked[i].net)
			return blocked[i].name;
	return NULL;
}

static bool internal_endpoint(const struct webhook_policy *p, uint32_t addr, uint16_t port)
{
	for (size_t i = 0; i < p->internal_count; i++) {
		uint32_t a = ntohl(p->internal[i].sin_addr.s_addr);
		if (ntohs(p->internal[i].sin_port) == port && (a == addr || a == 0))
			return true;
	}
	return false;
}

static bool ipv4_allowed(const struct webhook_policy *p, bool host_exempt, const struct sockaddr_in *s4, char *why,
			 size_t why_size)
{
	uint32_t a = ntohl(s4->sin_addr.s_addr);
	/* The agents' own APIs: never, allow list or not (the SSRF into /block-card). */
	if (internal_endpoint(p, a, ntohs(s4->sin_port))) {
		snprintf(why, why_size, "webhook: an agent's own API is not a webhook");
		return false;
	}
	const char *cls = ipv4_class(a);
	if (cls && !host_exempt) {
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text));
		snprintf(why, why_size, "webhook: %s address %s not allowed (http_security.webhook_allow_hosts)", cls,
			 text);
		return false;
	}
	return true;
}

bool webhook_address_allowed(const struct webhook_policy *p, const char *host, const struct sockaddr *addr,
			     char *why, size_t why_size)
{
	bool exempt = host && host_allowed(p, host);
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = s6->sin6_port};
			memcpy(&v4.sin_addr, s6->sin6_addr.s6_addr + 12, 4);
			return ipv4_allowed(p, exempt, &v4, why, why_size);
		}
		const uint8_t *b = s6->sin6_addr.s6_addr;
		bool global = (b[0] & 0xe0) == 0x20; /* 2000::/3, the global unicast space */
		if (!global && !exempt) {
			snprintf(why, why_size, "webhook: IPv6 address outside the global unicast space");
			return false;
		}
		return true;
	}
	if (addr->sa_family != AF_INET) {
		snprintf(why, why_size, "webhook: not an internet address");
		return false;
	}
	return ipv4_allowed(p, exempt, (const struct sockaddr_in *)addr, why, why_size);
}

bool webhook_url_allowed(const struct webhook_policy *p, const char *url, char *why, size_t why_size)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	bool ok = false;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(why, why_size, "webhook: not a URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		snprintf(why, why_size, "webhook: credentials in the URL are not accepted");
		goto out;
	}
	bool allowed_host = host_allowed(p, host);
	if (strcasecmp(scheme, "https") != 0 && !(strcasecmp(scheme, "http") == 0 && allowed_host)) {
		snprintf(why, why_size, "webhook: https:// only (http:// for hosts in http_security.webhook_allow_hosts)");
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(port ? (uint16_t)atoi(port) : 443)};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
	const char *literal = host;
	char bare[64];
	if (host[0] == '[' && strlen(host) < sizeof(bare)) { /* [v6] */
		snprintf(bare, sizeof(bare), "%.*s", (int)strlen(host) - 2, host + 1);
		literal = bare;
	}
	if (inet_pton(AF_INET, literal, &v4.sin_addr) == 1)
		ok = webhook_address_allowed(p, host, (struct sockaddr *)&v4, why, why_size);
	else if (inet_pton(AF_INET6, literal, &v6.sin6_addr) == 1)
		ok = webhook_address_allowed(p, host, (struct sockaddr *)&v6, why, why_size);
	else if (allowed_host)
		ok = true; /* a name in the allow list: its addresses are still checked against the agents' APIs */
	else if (strcasecmp(host, "localhost") == 0 ||
		 (strlen(host) > 10 && strcasecmp(host + strlen(host) - 10, ".localhost") == 0)) {
		snprintf(why, why_size, "webhook: localhost is not allowed");
	} else {
		ok = true; /* a name: its addresses are checked when the connection opens */
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}
