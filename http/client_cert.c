#include "client_cert.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>

/* The subject CN of the peer's own certificate (the chain's first), "" when it has none. */
static bool peer_common_name(gnutls_session_t session, char *cn, size_t cn_size)
{
	unsigned count = 0;
	const gnutls_datum_t *chain = gnutls_certificate_get_peers(session, &count);
	cn[0] = '\0';
	if (chain == NULL || count == 0)
		return false;
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	size_t length = cn_size;
	bool ok = gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) >= 0 &&
		  gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &length) >= 0;
	gnutls_x509_crt_deinit(crt);
	if (!ok)
		cn[0] = '\0';
	return ok;
}

bool client_cert_matches(void *tls_session, const char *subject, char *why, size_t why_size)
{
	gnutls_session_t session = tls_session;
	if (session == NULL) {
		snprintf(why, why_size, "a bank or network key needs TLS with the agent's client certificate");
		return false;
	}
	unsigned count = 0;
	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509 ||
	    gnutls_certificate_get_peers(session, &count) == NULL || count == 0) {
		snprintf(why, why_size, "a bank or network key needs the agent's client certificate (mutual TLS)");
		return false;
	}
	/* The chain up to the trusted CA, the dates, and a certificate made for a TLS client: the agents'
	 * server certificate (serverAuth only) is no client certificate. No host name: a client has none. */
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	unsigned status = 0;
	if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) < 0 || status != 0) {
		snprintf(why, why_size, "the client certificate does not verify against the agents' CA");
		return false;
	}
	char cn[128];
	if (!peer_common_name(session, cn, sizeof cn) || subject == NULL || strcmp(cn, subject) != 0) {
		snprintf(why, why_size, "the client certificate is not the key's agent's");
		return false;
	}
	return true;
}
