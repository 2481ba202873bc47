/*
 * The network's own LMDB store for the card lifecycle (the network's
 * lmdb_path): customer accounts (customer, account and card contract merged,
 * as the seed simplifies), cards with their production state, the bank's
 * order ids (idempotency), the production due-time queue, the notification
 * outbox and the notifications customers can poll. Everything the production
 * and delivery threads need to resume after a restart is here.
 *
 * Accessors work inside a caller's transaction (store_txn.h) and return
 * STORE_OK, STORE_NOT_FOUND or another store status.
 */
#ifndef NETWORK_CARDS_STORE_H
#define NETWORK_CARDS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pan_vault.h"
#include "store_txn.h"

#define NET_ID_MAX 48       /* customer uuid / account id, NUL included */
#define NET_NAME_MAX 128
#define NET_URL_MAX 256
#define NET_ORDER_ID_MAX 40
#define NET_PAN_MAX 20      /* 19 digits + NUL */

enum net_card_state { NET_CARD_IN_PRODUCTION = 1, NET_CARD_PRODUCED = 2 };

struct net_customer {
	char bank[32];
	char name[NET_NAME_MAX];
	char webhook[NET_URL_MAX]; /* "" when the customer polls */
	int64_t created_ms;
};

struct net_card {
	char customer[NET_ID_MAX];
	char bank[32];
	char order_id[NET_ORDER_ID_MAX];
	char expiry[5]; /* YYMM */
	uint8_t state;  /* enum net_card_state */
	int64_t ordered_ms, due_ms, produced_ms; /* wall clock */
};

/* A card as written: the record, then its PAN sealed (net_card_scan reloads the registry from it; pan-keys re-seals it). */
struct net_card_stored {
	struct net_card card;
	struct sealed_pan pan;
};

enum outbox_kind { OUTBOX_TO_BANK = 1, OUTBOX_TO_CUSTOMER = 2 };
enum outbox_state { OUTBOX_PENDING = 1, OUTBOX_PARKED = 2 };

/* An outbox entry: this header, then the JSON body to POST. */
struct outbox_header {
	int64_t next_attempt_ms; /* wall clock */
	uint32_t attempts;
	uint8_t state; /* enum outbox_state */
	uint8_t kind;  /* enum outbox_kind */
	char url[NET_URL_MAX];
	char last_error[96];
};

/*
 * Storage's own: callers only hand it to the functions below. The fields are
 * LMDB databases. No PAN is written in clear (docs/data-protection.md): "hash"
 * below is the vault's lookup (HMAC-SHA-256) of the PAN, "sealed" its
 * AES-256-GCM seal; the API still speaks PANs, in RAM only.
 */
struct network_store {
	struct store_env *env;
	unsigned customers;     /* customer -> struct net_customer */
	unsigned cards;         /* hash -> struct net_card + sealed PAN */
	unsigned orders;        /* "<bank>:<order_id>" -> sealed PAN */
	unsigned production;    /* due_ms (8 bytes big-endian) + hash -> "" */
	unsigned outbox;        /* seq (8 bytes big-endian) -> header + sealed body (it names the card) */
	unsigned notifications; /* "<customer>/<seq 16 hex>" -> JSON text (masked PAN only) */
	unsigned meta;          /* name -> uint64 counters, and the PAN protection format record */
	const struct pan_vault *vault;
};

/* vault: the caller's, kept until close. A store of the cleartext format or another lookup key is refused. */
int network_store_open(struct network_store *s, const char *dir, uint64_t map_size, const struct pan_vault *vault,
		       char *err, size_t err_size);
void network_store_close(struct network_store *s);
int network_store_read_begin(struct network_store *s, struct store_txn **txn);
int network_store_write_begin(struct network_store *s, struct store_txn **txn);

int net_customer_get(struct store_txn *t, const struct network_store *s, const char *id, struct net_customer *out);
int net_customer_put(struct store_txn *t, const struct network_store *s, const char *id, const struct net_customer *c);
int net_card_get(struct store_txn *t, const struct network_store *s, const char *pan, struct net_card *out);
int net_card_put(struct store_txn *t, const struct network_store *s, const char *pan, const struct net_card *c,
		 enum store_put_mode mode);
int net_order_get(struct store_txn *t, const struct network_store *s, const char *bank, const char *order_id,
		  char pan[NET_PAN_MAX]);
int net_order_put(struct store_txn *t, const struct network_store *s, const char *bank, const char *order_id,
		  const char *pan);

/* Returns the counter's value and stores value + 1 (starting at initial when absent). */
int net_counter_next(struct store_txn *t, const struct network_store *s, const char *name, uint64_t initial,
		     uint64_t *value);

int net_production_add(struct store_txn *t, const struct network_store *s, int64_t due_ms, const char *pan);
int net_production_del(struct store_txn *t, const struct network_store *s, int64_t due_ms, const char *pan);
/* The earliest entry of the production queue; STORE_NOT_FOUND when empty. */
int net_production_first(struct store_txn *t, const struct network_store *s, int64_t *due_ms, char pan[NET_PAN_MAX]);

int net_outbox_put(struct store_txn *t, const struct network_store *s, uint64_t seq, const struct outbox_header *h,
		   const char *body, size_t body_len);
/* Header and body (opened into *body: malloc'd, NUL-terminated, the caller frees it; body NULL: header only). */
int net_outbox_get(struct store_txn *t, const struct network_store *s, uint64_t seq, struct outbox_header *h,
		   char **body, size_t *body_len);
int net_outbox_del(struct store_txn *t, const struct network_store *s, uint64_t seq);
/* The pending entry due first; STORE_NOT_FOUND when none is pending. */
int net_outbox_next_due(struct store_txn *t, const struct network_store *s, uint64_t *seq, int64_t *due_ms);

int net_notification_put(struct store_txn *t, const struct network_store *s, const char *customer, uint64_t seq,
			 const char *json_text);
/* Calls visit for every notification of customer, oldest first. */
int net_notification_list(struct store_txn *t, const struct network_store *s, const char *customer,
			  void (*visit)(const char *json_text, size_t len, void *ctx), void *ctx);

/* How many cards there are (sizes the registry before a reload). */
int net_card_count(struct store_txn *t, const struct network_store *s, size_t *count);
/* Calls visit for every card (start-up registry load). */
int net_card_scan(struct store_txn *t, const struct network_store *s,
		  void (*visit)(const char *pan, const struct net_card *c, void *ctx), void *ctx);

#endif
