/*
 * Mutual TLS between the agents (docs/security.md, "Mutual TLS"): does the
 * peer of a GnuTLS session hold the client certificate of the agent named
 * `subject`? Verification and parsing are GnuTLS's own.
 */
#ifndef CLIENT_CERT_H
#define CLIENT_CERT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when the peer of tls_session (a gnutls_session_t, from libmicrohttpd's
 * MHD_CONNECTION_INFO_GNUTLS_SESSION) sent a certificate that verifies against
 * the session's trusted CA (the server's MHD_OPTION_HTTPS_MEM_TRUST), is valid
 * now, may authenticate a TLS client (extended key usage clientAuth) and whose
 * subject CN is exactly `subject`. Otherwise false and the reason, for the
 * caller's 401, in why.
 */
bool client_cert_matches(void *tls_session, const char *subject, char *why, size_t why_size);

#endif
