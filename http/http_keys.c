#include "http_keys.h"

#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HASH_HEX 64
#define SECRET_BYTES 32
#define LINE_MAX_LEN 512

struct key_entry {
	char id[HTTP_KEY_ID_LEN + 1];
	unsigned scope;
	char subject[HTTP_SUBJECT_MAX];
	char audience[HTTP_AUDIENCE_MAX];
	int64_t expires;
	bool revoked;
	char hash[HASH_HEX + 1];
};

struct key_table {
	size_t count, capacity;
	struct key_entry *keys;
};

struct http_keystore {
	pthread_mutex_t lock;
	char path[512];
	struct stat seen; /* the file's identity when last loaded */
	bool loaded;
	struct key_table table;
};

static const char *const scope_names[] = {"customer", "bank", "network", "operator"};

const char *http_scope_name(unsigned scope)
{
	for (unsigned i = 0; i < 4; i++)
		if (scope == 1u << i)
			return scope_names[i];
	return scope ? "?" : "anonymous";
}

unsigned http_scope_parse(const char *name)
{
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(name, scope_names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *http_auth_result_text(enum http_auth_result r)
{
	switch (r) {
	case HTTP_AUTH_OK:
		return "ok";
	case HTTP_AUTH_MISSING:
		return "credentials required: send 'Authorization: Bearer <API key>'";
	case HTTP_AUTH_INVALID:
		return "invalid API key";
	case HTTP_AUTH_REVOKED:
		return "API key revoked";
	case HTTP_AUTH_EXPIRED:
		return "API key expired";
	case HTTP_AUTH_UNAVAILABLE:
		return "API keys cannot be checked now";
	}
	return "?";
}

bool http_secret_file_private(const char *path, char *err, size_t err_size)
{
	return secret_file_private(path, NULL, err, err_size);
}

static void sha256_hex(const char *text, char out[HASH_HEX + 1])
{
	unsigned char md[32];
	unsigned int len = 0;
	if (EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		memset(md, 0, sizeof(md)); /* cannot match anything: a key with an all-zero hash is never written */
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool hex_text(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A subject or audience: printable, no spaces (the file is space separated). */
static bool word(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* ---- the file ----------------------------------------------------------------- */

static bool parse_line(const char *line, struct key_entry *e)
{
	char scope[16], revoked[4];
	long long expires;
	if (sscanf(line, "%16s %15s %63s %31s %lld %3s %64s", e->id, scope, e->subject, e->audience, &expires,
		   revoked, e->hash) != 7)
		return false;
	e->scope = http_scope_parse(scope);
	e->expires = expires;
	e->revoked = strcmp(revoked, "1") == 0;
	return e->scope && hex_text(e->id, HTTP_KEY_ID_LEN) && hex_text(e->hash, HASH_HEX) &&
	       (e->revoked || strcmp(revoked, "0") == 0);
}

static bool table_add(struct key_table *t, const struct key_entry *e)
{
	if (t->count == t->capacity) {
		size_t cap = t->capacity ? 2 * t->capacity : 16;
		struct key_entry *grown = realloc(t->keys, cap * sizeof(*grown));
		if (!grown)
			return false;
		t->keys = grown;
		t->capacity = cap;
	}
	t->keys[t->count++] = *e;
	return true;
}

static bool load_table(const char *path, struct key_table *t, struct stat *st, char *err, size_t err_size)
{
	memset(t, 0, sizeof(*t));
	FILE *f = secret_file_open(path, NULL, err, err_size);
	if (!f)
		return false;
	if (st && fstat(fileno(f), st) != 0)
		memset(st, 0, sizeof(*st));
	char line[LINE_MAX_LEN];
	unsigned number = 0;
	while (fgets(line, sizeof(line), f)) {
		number++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		struct key_entry e;
		memset(&e, 0, sizeof(e));
		if (!parse_line(line, &e)) {
			snprintf(err, err_size, "%s:%u: not a key line", path, number);
			fclose(f);
			free(t->keys);
			memset(t, 0, sizeof(*t));
			return false;
		}
		if (!table_add(t, &e)) {
			snprintf(err, err_size, "out of memory");
			fclose(f);
			free(t->keys);
			memset(t, 0, sizeof(*t));
			return false;
		}
	}
	fclose(f);
	return true;
}

/* Writes the table to path through a private temporary file and a rename. */
static bool save_table(const char *path, const struct key_table *t, char *err, size_t err_size)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
		return false;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
		return false;
	}
	fprintf(f, "# API keys of the HTTP control planes (http-keys); SHA-256 of each token, never the token\n"
		   "# id scope subject audience expires_unix revoked sha256\n");
	for (size_t i = 0; i < t->count; i++) {
		const struct key_entry *e = &t->keys[i];
		fprintf(f, "%s %s %s %s %lld %d %s\n", e->id, http_scope_name(e->scope), e->subject, e->audience,
			(long long)e->expires, e->revoked ? 1 : 0, e->hash);
	}
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

/* Serialises the writers of one file (two http-keys runs at once). */
static int lock_file(const char *path)
{
	char lock[600];
	snprintf(lock, sizeof(lock), "%s.lock", path);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void unlock_file(int fd)
{
	if (fd >= 0)
		close(fd);
}

bool http_keys_init(const char *path, char *err, size_t err_size)
{
	if (access(path, F_OK) == 0)
		return http_secret_file_private(path, err, err_size);
	struct key_table empty = {0};
	return save_table(path, &empty, err, err_size);
}

bool http_keys_create(const char *path, unsigned scope, const char *subject, const char *audience,
		      int64_t expires_unix, char token[HTTP_TOKEN_MAX], char id[HTTP_KEY_ID_LEN + 1], char *err,
		      size_t err_size)
{
	if (http_scope_name(scope)[0] == '?' || scope == 0) {
		snprintf(err, err_size, "unknown scope");
		return false;
	}
	if (!word(subject, HTTP_SUBJECT_MAX) || !word(audience, HTTP_AUDIENCE_MAX)) {
		snprintf(err, err_size, "subject and audience: printable, no spaces, at most %d and %d characters",
			 HTTP_SUBJECT_MAX - 1, HTTP_AUDIENCE_MAX - 1);
		return false;
	}
	unsigned char raw[8 + SECRET_BYTES];
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		snprintf(err, err_size, "no random bytes from OpenSSL");
		return false;
	}
	struct key_entry e;
	memset(&e, 0, sizeof(e));
	for (int i = 0; i < 8; i++)
		snprintf(e.id + 2 * i, 3, "%02x", raw[i]);
	int used = snprintf(token, HTTP_TOKEN_MAX, "isk_%s_", e.id);
	for (int i = 0; i < SECRET_BYTES; i++)
		used += snprintf(token + used, (size_t)(HTTP_TOKEN_MAX - used), "%02x", raw[8 + i]);
	OPENSSL_cleanse(raw, sizeof(raw));
	e.scope = scope;
	snprintf(e.subject, sizeof(e.subject), "%s", subject);
	snprintf(e.audience, sizeof(e.audience), "%s", audience);
	e.expires = expires_unix;
	sha256_hex(token, e.hash);

	int lock = lock_file(path);
	struct key_table t;
	bool ok = http_keys_init(path, err, err_size) && load_table(path, &t, NULL, err, err_size);
	if (ok) {
		ok = table_add(&t, &e) && save_table(path, &t, err, err_size);
		free(t.keys);
	}
	unlock_file(lock);
	if (!ok)
		OPENSSL_cleanse(token, HTTP_TOKEN_MAX);
	else
		memcpy(id, e.id, sizeof(e.id));
	return ok;
}

bool http_keys_revoke(const char *path, const char *id, char *err, size_t err_size)
{
	int lock = lock_file(path);
	struct key_table t;
	bool ok = load_table(path, &t, NULL, err, err_size);
	if (ok) {
		bool found = false;
		for (size_t i = 0; i < t.count; i++)
			if (strcmp(t.keys[i].id, id) == 0) {
				t.keys[i].revoked = true;
				found = true;
			}
		if (!found)
			snprintf(err, err_size, "no key with id '%.20s'", id);
		ok = found && save_table(path, &t, err, err_size);
		free(t.keys);
	}
	unlock_file(lock);
	return ok;
}

bool http_keys_list(const char *path, void (*line)(void *ctx, const char *text), void *ctx, char *err,
		    size_t err_size)
{
	struct key_table t;
	if (!load_table(path, &t, NULL, err, err_size))
		return false;
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < t.count; i++) {
		const struct key_entry *e = &t.keys[i];
		char text[256];
		snprintf(text, sizeof(text), "%s %-8s %-36s audience %-12s %s", e->id, http_scope_name(e->scope),
			 e->subject, e->audience,
			 e->revoked			    ? "revoked"
			 : e->expires && e->expires <= now ? "expired"
							   : "active");
		line(ctx, text);
	}
	free(t.keys);
	return true;
}

/* ---- the agents' side: checking a token ----------------------------------------------- */

struct http_keystore *http_keystore_open(const char *path, char *err, size_t err_size)
{
	struct http_keystore *k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&k->lock, NULL);
	snprintf(k->path, sizeof(k->path), "%s", path);
	if (!load_table(path, &k->table, &k->seen, err, err_size)) {
		http_keystore_close(k);
		return NULL;
	}
	k->loaded = true;
	return k;
}

void http_keystore_close(struct http_keystore *k)
{
	if (!k)
		return;
	free(k->table.keys);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_mode == b->st_mode;
}

/* Under the lock: the table as the file says now; false when it cannot be read (fail closed). */
static bool refresh(struct http_keystore *k)
{
	struct stat now;
	if (stat(k->path, &now) != 0)
		return false;
	if (k->loaded && same_file(&now, &k->seen))
		return true;
	struct key_table t;
	struct stat st;
	char err[256];
	if (!load_table(k->path, &t, &st, err, sizeof(err))) {
		fprintf(stderr, "http: API keys: %s\n", err);
		return false;
	}
	free(k->table.keys);
	k->table = t;
	k->seen = st;
	k->loaded = true;
	return true;
}

enum http_auth_result http_keystore_check(struct http_keystore *k, const char *token, const char *agent,
					  struct http_principal *who)
{
	if (token == NULL || token[0] == '\0')
		return HTTP_AUTH_MISSING;
	/* isk_<16 hex>_<64 hex> */
	size_t len = strlen(token);
	if (len != 4 + HTTP_KEY_ID_LEN + 1 + 2 * SECRET_BYTES || strncmp(token, "isk_", 4) != 0 ||
	    token[4 + HTTP_KEY_ID_LEN] != '_')
		return HTTP_AUTH_INVALID;
	char id[HTTP_KEY_ID_LEN + 1];
	memcpy(id, token + 4, HTTP_KEY_ID_LEN);
	id[HTTP_KEY_ID_LEN] = '\0';
	char hash[HASH_HEX + 1];
	sha256_hex(token, hash);

	enum http_auth_result result = HTTP_AUTH_INVALID;
	pthread_mutex_lock(&k->lock);
	if (!refresh(k)) {
		pthread_mutex_unlock(&k->lock);
		return HTTP_AUTH_UNAVAILABLE;
	}
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < k->table.count; i++) {
		const struct key_entry *e = &k->table.keys[i];
		if (strcmp(e->id, id) != 0 || CRYPTO_memcmp(e->hash, hash, HASH_HEX) != 0)
			continue;
		if (strcmp(e->audience, "*") != 0 && (agent == NULL || strcmp(e->audience, agent) != 0))
			result = HTTP_AUTH_INVALID;
		else if (e->revoked)
			result = HTTP_AUTH_REVOKED;
		else if (e->expires && e->expires <= now)
			result = HTTP_AUTH_EXPIRED;
		else {
			result = HTTP_AUTH_OK;
			who->scope = e->scope;
			snprintf(who->subject, sizeof(who->subject), "%s", e->subject);
			memcpy(who->key_id, e->id, sizeof(who->key_id));
		}
		break;
	}
	pthread_mutex_unlock(&k->lock);
	return result;
}

/* ---- agent tokens ----------------------------------------------------------------------- */

bool http_agent_token_load(const char *path, const char *agent, char token[HTTP_TOKEN_MAX], char *err,
			   size_t err_size)
{
	FILE *f = secret_file_open(path, NULL, err, err_size);
	if (!f)
		return false;
	char line[LINE_MAX_LEN], name[64], value[HTTP_TOKEN_MAX];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		if (line[0] != '#' && sscanf(line, "%63s %95s", name, value) == 2 && strcmp(name, agent) == 0) {
			snprintf(token, HTTP_TOKEN_MAX, "%s", value);
			found = true;
		}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	if (!found)
		snprintf(err, err_size, "%s: no token for agent '%s' (http-keys agent-tokens)", path, agent);
	return found;
}

bool http_agent_token_store(const char *path, const char *agent, const char *token, char *err, size_t err_size)
{
	int lock = lock_file(path);
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlock_file(lock);
		return false;
	}
	FILE *in = fopen(path, "r");
	char line[LINE_MAX_LEN], name[64];
	while (in && fgets(line, sizeof(line), in))
		if (line[0] == '#' || sscanf(line, "%63s", name) != 1 || strcmp(name, agent) != 0)
			fputs(line, out);
	if (in)
		fclose(in);
	fprintf(out, "%s %s\n", agent, token);
	bool ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
	ok = fclose(out) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		unlink(tmp);
		ok = false;
	}
	unlock_file(lock);
	return ok;
}
