/*
 * The MAC keys of one agent's ISO 8583 links (docs/protocol.md, "MAC keys"):
 * read from a key file (never from the YAML, never logged), one key per link
 * name ("acquirer:<network>", "<network>:<bank>"), reloaded on SIGHUP. A link
 * whose key changes at a reload still accepts its previous key for grace_s
 * seconds, so the two ends of a link can reload one after the other.
 *
 * The keyring is shared and locked; each thread that signs or checks owns an
 * iso_mac_view, its own keyed contexts, which it refreshes from the keyring
 * (one atomic load when nothing changed) once per poll.
 *
 * Key file: text, one line per link, '#' comments:
 *     <link> <key id> <key in hex: 32, 48 or 64 digits>
 * refused when group or others may read it, or when a line is malformed.
 */
#ifndef ISO_MAC_KEYS_H
#define ISO_MAC_KEYS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso_mac.h"

#define ISO_MAC_MAX_LINKS 32
#define ISO_MAC_LINK_NAME 64
#define ISO_MAC_PATH_MAX 512

struct iso_mac_key {
	uint32_t id;
	uint8_t length; /* 0: none */
	uint8_t bytes[ISO_MAC_KEY_MAX];
};

/* Failures counted per link, for /stats (relaxed atomics: only on the failure path). */
struct iso_mac_link_counters {
	atomic_uint_fast64_t missing;       /* keyed link, message without MAC: 916 */
	atomic_uint_fast64_t wrong;         /* MAC did not verify under any accepted key: 916 */
	atomic_uint_fast64_t previous_key;  /* verified under the previous key (rotation grace) */
};

struct iso_mac_link {
	char name[ISO_MAC_LINK_NAME];
	struct iso_mac_key current;
	struct iso_mac_key previous;  /* length 0: none */
	uint64_t previous_until_ms;   /* CLOCK_MONOTONIC; previous accepted before this */
	struct iso_mac_link_counters counters;
};

struct iso_mac_keyring {
	pthread_mutex_t lock;
	atomic_uint generation; /* bumped by every change views must pick up */
	char path[ISO_MAC_PATH_MAX];
	unsigned grace_s;
	bool allow_unprotected;
	size_t count;
	struct iso_mac_link links[ISO_MAC_MAX_LINKS];
};

/*
 * Loads the keys of the named links from path. A link without a key in the
 * file is an error, unless allow_unprotected (lab use: it then runs without
 * MACs; the caller logs that loudly, iso_mac_keyring_unprotected names it).
 * path NULL or "" with allow_unprotected: every link runs without MACs.
 */
bool iso_mac_keyring_init(struct iso_mac_keyring *kr, const char *path, unsigned grace_s, bool allow_unprotected,
			  const char *const *links, size_t link_count, char *err, size_t err_size);
void iso_mac_keyring_destroy(struct iso_mac_keyring *kr);

/* Reads the key file again (SIGHUP). On any error the keys stay as they were. */
bool iso_mac_keyring_reload(struct iso_mac_keyring *kr, char *err, size_t err_size);

/* Index of a link, or -1. */
int iso_mac_keyring_find(const struct iso_mac_keyring *kr, const char *link);

/* True when link index runs without MACs (no key, allow_unprotected). */
bool iso_mac_keyring_unprotected(struct iso_mac_keyring *kr, int link);

/* Writes "link: N missing, N wrong, N previous key" lines as a JSON object body
 * ("\"name\":{...},...") into out; returns the length written. */
size_t iso_mac_keyring_stats_json(struct iso_mac_keyring *kr, char *out, size_t capacity);

/* Loads the key file as a list (for the iso8583 tool); false with err. */
bool iso_mac_keyfile_read(const char *path, struct iso_mac_link *out, size_t capacity, size_t *count, char *err,
			  size_t err_size);

/* A context keyed with link's key from a key file (link NULL: the file's only key); NULL with err. */
struct iso_cmac *iso_mac_keyfile_link(const char *path, const char *link, char *err, size_t err_size);

/* Writes a new key file (mode 0600) with a random AES-128 key, id 1, for each link. */
bool iso_mac_keyfile_create(const char *path, const char *const *links, size_t link_count, char *err,
			    size_t err_size);

/* ---- one thread's view ---- */

enum iso_mac_verdict {
	ISO_MAC_VALID,          /* verified under the current key */
	ISO_MAC_VALID_PREVIOUS, /* verified under the previous key, within its grace period */
	ISO_MAC_UNPROTECTED,  /* the link runs without MACs: accepted unchecked */
	ISO_MAC_MISSING,      /* keyed link, no MAC as the last element: 916 */
	ISO_MAC_WRONG,        /* does not verify: 916 */
};

static inline bool iso_mac_accepted(enum iso_mac_verdict v)
{
	return v == ISO_MAC_VALID || v == ISO_MAC_VALID_PREVIOUS || v == ISO_MAC_UNPROTECTED;
}

struct iso_mac_view_link {
	struct iso_cmac *current;  /* NULL: unprotected */
	struct iso_cmac *previous; /* NULL: none */
	uint64_t previous_until_ms;
};

struct iso_mac_view {
	struct iso_mac_keyring *keyring;
	unsigned generation;
	size_t count;
	struct iso_mac_view_link links[ISO_MAC_MAX_LINKS];
};

bool iso_mac_view_init(struct iso_mac_view *v, struct iso_mac_keyring *kr);
void iso_mac_view_destroy(struct iso_mac_view *v);

/* Picks up a reload; cheap when there was none. False (keeping the old keys) if out of memory. */
bool iso_mac_view_refresh(struct iso_mac_view *v);

/* True when messages on link are signed (it has a key). */
static inline bool iso_mac_view_signs(const struct iso_mac_view *v, int link)
{
	return link >= 0 && (size_t)link < v->count && v->links[link].current != NULL;
}

/* Signs a frame encoded with iso_mac_reserve (its last 8 bytes). False if unkeyed or OpenSSL failed. */
bool iso_mac_view_sign(struct iso_mac_view *v, int link, uint8_t *frame, size_t length);

/*
 * A message framed behind a 2-byte length with its MAC element reserved last,
 * made ready for link: its MAC written, or (link without a key, or v NULL) the
 * element taken off and the length header rewritten. Returns the framed
 * length to send, 0 on failure.
 */
size_t iso_mac_view_seal(struct iso_mac_view *v, const struct iso_profile *p, int link, uint8_t *framed,
			 size_t length);

/* Checks a decoded message on link; counts failures and previous-key uses per link. */
enum iso_mac_verdict iso_mac_view_check(struct iso_mac_view *v, int link, const struct iso_msg *m,
					const uint8_t *frame, size_t length);

/* Like iso_mac_view_check without counting (trying candidate links). */
enum iso_mac_verdict iso_mac_view_try(struct iso_mac_view *v, int link, const struct iso_msg *m,
				      const uint8_t *frame, size_t length);

/* Counts a failure verdict against link. */
void iso_mac_view_count(struct iso_mac_view *v, int link, enum iso_mac_verdict verdict);

#endif
