/*
 * TLS and API keys for the programs a test starts: a throwaway CA, server
 * certificate and agents' client certificates (scripts/http-certs.sh,
 * openssl), a secrets file, a token for
 * every agent of the config, an operator key, and the http_security
 * section appended to the test's config. test_http then speaks https with
 * that CA and the operator's key, so a test that did not ask for anything
 * else calls the real agents as the operator.
 */
#ifndef TEST_SECURITY_H
#define TEST_SECURITY_H

#include <stdbool.h>
#include <stdint.h>

#include "http_keys.h"

/*
 * Makes everything in <directory of config_path>/secrets and appends the
 * http_security section to the config (extra_yaml: more lines of that section,
 * each indented by two spaces, or NULL). A token is made for every bank and
 * network the config names ("  - name: X" lines under banks: and networks:).
 */
bool test_security_append(const char *config_path, const char *extra_yaml);

/* One more client certificate (CN = name) at the next test_security_append, beside the config's
 * agents': a test that plays an agent the config does not run. */
void test_security_also_certify(const char *name);

/* The files of the last test_security_append. */
const char *test_security_ca(void);
/* The directory with <agent>.pem and <agent>.key for every agent certified (http_security.client_certs). */
const char *test_security_client_dir(void);
const char *test_security_secrets(void);
const char *test_security_operator_token(void);

/* A new key; expires_unix 0: never. */
bool test_security_key(unsigned scope, const char *subject, const char *audience, int64_t expires_unix,
		       char token[HTTP_TOKEN_MAX], char id[HTTP_KEY_ID_LEN + 1]);
bool test_security_revoke(const char *id);

#endif
