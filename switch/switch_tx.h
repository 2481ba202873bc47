/*
 * A worker's transmit side: outgoing frames are built in place in the
 * worker's TX burst, packed per peer, and sent in one burst per poll (or when
 * the burst is full). Inline but for the flush: every message the switch
 * relays or answers goes through here.
 */
#ifndef SWITCH_TX_H
#define SWITCH_TX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "framing.h"
#include "iso8583.h"
#include "iso_mac.h"
#include "switch_messages.h"
#include "switch_worker.h"

/* Sends the burst; frames the port did not take are counted tx_dropped. */
void flush_tx(struct switch_worker *w);

/* Buffer for the next outgoing frame (SWITCH_TX_BUFFER bytes). */
static inline uint8_t *tx_claim(struct switch_worker *w)
{
	if (w->tx_count == UDP_BURST)
		flush_tx(w);
	return w->tx[w->tx_count].data;
}

static inline bool same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port && a->sin_family == b->sin_family;
}

/*
 * Every datagram costs a send and a receive system call's worth of kernel
 * work on each side, so a frame for a peer that already has a datagram in
 * this burst joins the latest one when it fits (the peer's frames stay in
 * order); otherwise it stays where tx_claim put it, as a datagram of its own.
 */
static inline void tx_commit(struct switch_worker *w, const struct sockaddr_in *peer, size_t length)
{
	if (length == 0)
		return; /* the encoder refused: nothing to send */
	for (int i = w->tx_count - 1; i >= 0; i--) {
		struct udp_datagram *d = &w->tx[i];
		if (!same_peer(&d->peer, peer))
			continue;
		if (d->length + length > SWITCH_TX_PACK_MAX)
			break;
		memcpy(d->data + d->length, w->tx[w->tx_count].data, length);
		d->length += length;
		w->tx_frames[i]++;
		return;
	}
	w->tx[w->tx_count].peer = *peer;
	w->tx[w->tx_count].length = length;
	w->tx_frames[w->tx_count] = 1;
	w->tx_count++;
}

/*
 * Commits a frame (header included) whose last 8 bytes are its MAC element,
 * first writing the MAC of the peer's link there when that link has a key
 * (and taking the element off when it has none).
 */
static inline void tx_commit_sealed(struct switch_worker *w, const struct sockaddr_in *peer, size_t length)
{
	if (length <= 2 + ISO_MAC_SIZE)
		return; /* the encoder refused */
	int link = switch_mac_link_of(w->core, peer);
	uint8_t *frame = w->tx[w->tx_count].data;
	if (iso_mac_view_signs(&w->mac, link)) {
		if (!iso_mac_view_sign(&w->mac, link, frame + 2, length - 2))
			return; /* OpenSSL refused: an unsigned message would only be refused 916 */
	} else {
		/* A link without a key (lab): the message goes without its MAC element. */
		length = iso_mac_strip(SWITCH_PROFILE, frame + 2, length - 2);
		frame_write_header(FRAME_HEADER_BINARY2, length, frame);
		length += 2;
	}
	tx_commit(w, peer, length);
}

static inline void send_answer(struct switch_worker *w, const struct sockaddr_in *peer, const struct iso_msg *request,
			       int action)
{
	uint8_t *buf = tx_claim(w);
	tx_commit_sealed(w, peer, switch_build_answer(request, action, buf, SWITCH_TX_BUFFER));
}

/* A repeat's answer from the outcome memory: the action, and the approval code when there is one. */
static inline void send_answer_again(struct switch_worker *w, const struct sockaddr_in *peer,
				     const struct iso_msg *request, int action, const char *approval)
{
	uint8_t *buf = tx_claim(w);
	tx_commit_sealed(w, peer, switch_build_answer_with_approval(request, action, approval, buf, SWITCH_TX_BUFFER));
}

/* Slow path of relay_with_stan: a message that came without a MAC (unprotected link) re-encoded with one. */
size_t relay_reencode_with_mac(const struct iso_msg *m, const char *stan, uint8_t *buf, size_t capacity);

/*
 * Relays a message as received but for its DE 11, rewritten in place: the
 * codec's view of DE 11 points into the frame, and both STANs are n6 ASCII.
 * Its MAC, the last 8 bytes, is computed again under the next link's key,
 * in place as well (the DE 11 rewrite changed the bytes it covers).
 */
static inline void relay_with_stan(struct switch_worker *w, const struct sockaddr_in *to, const uint8_t *frame,
				   size_t length, const struct iso_msg *m, const char *stan)
{
	if (length + 2 > SWITCH_TX_BUFFER || !iso_has(m, 11) || m->fields[11].packed || m->fields[11].length != 6)
		return;
	uint8_t *buf = tx_claim(w);
	if (__builtin_expect(!iso_mac_present(m, frame, length), 0)) {
		/* From a link without MACs: towards a keyed one, it needs a MAC element. */
		if (iso_mac_view_signs(&w->mac, switch_mac_link_of(w->core, to)))
			tx_commit_sealed(w, to, relay_reencode_with_mac(m, stan, buf, SWITCH_TX_BUFFER));
		else {
			frame_write_header(FRAME_HEADER_BINARY2, length, buf);
			memcpy(buf + 2, frame, length);
			memcpy(buf + 2 + (size_t)(m->fields[11].data - frame), stan, 6);
			tx_commit(w, to, length + 2);
		}
		return;
	}
	frame_write_header(FRAME_HEADER_BINARY2, length, buf);
	memcpy(buf + 2, frame, length);
	memcpy(buf + 2 + (size_t)(m->fields[11].data - frame), stan, 6);
	tx_commit_sealed(w, to, length + 2);
}

#endif
