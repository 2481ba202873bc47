/*
 * One authorization or reversal as it travels from an I/O thread through the
 * group-commit writer back to the wire: the fields the bank needs and the
 * ones its answer echoes, copied out of the frame (the frame is gone by the
 * time the writer answers), plus the outcome.
 *
 * Fixed size and self-contained, so the writer queue can copy it by value.
 */
#ifndef BANK_REQUEST_H
#define BANK_REQUEST_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"
#include "records.h"

enum bank_request_kind {
	BANK_AUTHORIZATION = 1, /* 1100, and 1101 (the acquirer's repeat) */
	BANK_REVERSAL = 2,      /* 1420, 1421 */
};

/* How the writer settled a request, beyond its action code (for /stats). */
enum bank_outcome {
	OUTCOME_NEW = 0,           /* first time this key was decided */
	OUTCOME_DUPLICATE,         /* a 1100 replayed, or a 1101 repeat: the journal's answer again */
	OUTCOME_REVERSAL_CREDITED, /* an approved original credited back */
	OUTCOME_REVERSAL_REPLAY,   /* reversal of an already reversed original */
	OUTCOME_REVERSAL_NO_MONEY, /* reversal of a refused original */
	OUTCOME_REVERSAL_UNKNOWN,  /* no original: tombstone written or kept */
	OUTCOME_TOMBSTONE_DECLINE, /* an original that came after its reversal */
	OUTCOME_SHED,              /* a 1100 past the answer budget: 912, ledger untouched */
};

/* Texts are the logical values (digits for numerics), NUL-terminated; "" = absent. */
struct bank_request {
	struct sockaddr_in peer;
	uint64_t received_ns; /* CLOCK_MONOTONIC when its datagram arrived; 0 = unknown (never shed) */
	uint16_t mti;
	uint8_t kind;    /* enum bank_request_kind */
	uint8_t outcome; /* enum bank_outcome */
	int8_t mac_link; /* the network link it came on (bank_mac.h): its answer's MAC key */
	uint64_t amount;
	struct journal_key key;
	bool found_by_keys_but_stan; /* a reversal or a repeat found its original under another STAN */
	char pan[STORE_PAN_MAX + 1];
	char processing_code[7];
	char amount_text[13];
	char transmission_time[11];
	char stan[7];
	char local_time[13];
	char expiry[5];
	char acquirer[12];
	char rrn[13];
	char terminal[9];
	char currency[4];
	char original_data[36];
	char action[4];   /* DE 39 of the answer */
	char approval[7]; /* DE 38 when approved */
};

enum bank_parse_result {
	PARSE_OK,     /* a request for the writer */
	PARSE_REJECT, /* answer at once with action 904 (reply_mti tells which) */
	PARSE_IGNORE, /* a response or unreadable: drop and count */
};

/* Fills req from a decoded message; on PARSE_REJECT *bad_field names the culprit. */
enum bank_parse_result bank_request_parse(const struct iso_msg *m, struct bank_request *req, int *bad_field);

/*
 * Copies into req what an answer to a message that failed to decode (or to
 * parse) can echo; true if the MTI is a request and DE 11, 37 and 41 were
 * read (present and printable ASCII), so that the sender can match a 904 to
 * what it sent.
 */
bool bank_request_salvage(const struct iso_msg *m, struct bank_request *req);


/*
 * Encodes the answer (frame header included) into buf with its MAC element
 * reserved last (bank_mac_seal writes or removes it); returns its size, 0 if
 * it does not fit.
 */
size_t bank_reply_encode(const struct iso_profile *p, const struct bank_request *req, uint8_t *buf,
			 size_t capacity);

#endif
