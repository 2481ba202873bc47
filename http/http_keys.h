/*
 * API keys of the HTTP control planes: who may call which endpoint.
 *
 * A key is a random token ("isk_<16 hex id>_<64 hex secret>", 32 random bytes
 * of secret) that the holder presents as "Authorization: Bearer <token>". The
 * secrets file keeps only its SHA-256 (a high-entropy token needs no slow
 * hash), one key a line:
 *
 *     <id> <scope> <subject> <audience> <expires unix s, 0 = never> <revoked 0|1> <sha256 hex>
 *
 * scope: customer (subject: the account uuid), bank (subject: the bank's name),
 * network (subject: the network's name) or operator (subject: a person or job).
 * audience: the agent the key is good at, or '*' for every agent.
 * The file must not be readable by group or others; it is written whole to a
 * temporary file and renamed, and readers reload it when it changes, so a
 * revocation takes effect at the next request.
 */
#ifndef HTTP_KEYS_H
#define HTTP_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_scope {
	HTTP_SCOPE_CUSTOMER = 1u << 0,
	HTTP_SCOPE_BANK = 1u << 1,
	HTTP_SCOPE_NETWORK = 1u << 2,
	HTTP_SCOPE_OPERATOR = 1u << 3,
};

#define HTTP_KEY_ID_LEN 16
#define HTTP_TOKEN_MAX 96
#define HTTP_SUBJECT_MAX 64
#define HTTP_AUDIENCE_MAX 32

/* Who called: what the server hands a handler after checking the key. */
struct http_principal {
	unsigned scope; /* one enum http_scope bit; 0: anonymous (a public route) */
	char subject[HTTP_SUBJECT_MAX];
	char key_id[HTTP_KEY_ID_LEN + 1];
};

enum http_auth_result {
	HTTP_AUTH_OK,
	HTTP_AUTH_MISSING, /* no credentials presented */
	HTTP_AUTH_INVALID, /* unknown key, wrong secret, another agent's audience */
	HTTP_AUTH_REVOKED,
	HTTP_AUTH_EXPIRED,
	HTTP_AUTH_UNAVAILABLE, /* the secrets file cannot be read now: refuse, never let in */
};

const char *http_scope_name(unsigned scope);
/* "customer" -> HTTP_SCOPE_CUSTOMER; 0 when unknown. */
unsigned http_scope_parse(const char *name);
const char *http_auth_result_text(enum http_auth_result r);

struct http_keystore;
/* Opens the secrets file (it must exist, be a regular file and not group/other accessible). */
struct http_keystore *http_keystore_open(const char *path, char *err, size_t err_size);
void http_keystore_close(struct http_keystore *k);
/*
 * Checks a presented token for an agent named `agent` (the audience); fills
 * *who on success. Reloads the file first when it changed. Thread-safe.
 */
enum http_auth_result http_keystore_check(struct http_keystore *k, const char *token, const char *agent,
					  struct http_principal *who);

/* ---- the command's side (http-keys): create, revoke, list ---------------------- */

/* Creates the file (mode 0600) with no key when absent; false with a reason otherwise. */
bool http_keys_init(const char *path, char *err, size_t err_size);
/*
 * Adds a key; its token (shown once, never stored) goes to token, its id to id.
 * expires_unix 0: never.
 */
bool http_keys_create(const char *path, unsigned scope, const char *subject, const char *audience,
		      int64_t expires_unix, char token[HTTP_TOKEN_MAX], char id[HTTP_KEY_ID_LEN + 1], char *err,
		      size_t err_size);
/* Marks a key revoked; false when there is no such id. */
bool http_keys_revoke(const char *path, const char *id, char *err, size_t err_size);
/* Writes the keys (never a hash) to out, one a line. */
bool http_keys_list(const char *path, void (*line)(void *ctx, const char *text), void *ctx, char *err,
		    size_t err_size);

/* ---- an agent's own credential for its calls to the others ------------------------ */

/*
 * Reads the token of `agent` from the agent tokens file ("<agent> <token>" a
 * line; not group/other readable). False with a reason when absent.
 */
bool http_agent_token_load(const char *path, const char *agent, char token[HTTP_TOKEN_MAX], char *err,
			   size_t err_size);
/* Sets (adds or replaces) the line of `agent` in the agent tokens file (mode 0600). */
bool http_agent_token_store(const char *path, const char *agent, const char *token, char *err, size_t err_size);

/* True when the file exists and neither group nor others have any permission on it. */
bool http_secret_file_private(const char *path, char *err, size_t err_size);

#endif
