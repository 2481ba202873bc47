#include "bank_writer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "bank_mac.h"
#include "clock_source.h"
#include "iso8583.h"

static void writer_batch_begin(void *ctx)
{
	struct bank_writer *w = ctx;
	/* clock_source.h: the system's clocks, or a simulation's. */
	bank_core_set_time(&w->core, w->fixed_time ? w->fixed_time : clock_realtime_s());
	bank_core_set_monotonic(&w->core, clock_monotonic_ns());
	if (w->mac)
		iso_mac_view_refresh(w->mac); /* one atomic load unless the keys were reloaded */
}

static int writer_apply(void *ctx, struct store_txn *txn, void *item)
{
	struct bank_writer *w = ctx;
	return bank_core_apply(&w->core, txn, item);
}

static void answer(struct bank_writer *w, const struct bank_request *req)
{
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	size_t n = bank_reply_encode(w->profile, req, frame, sizeof(frame));
	n = n ? bank_mac_seal(w->mac, w->profile, req->mac_link, frame, n) : 0;
	if (n == 0) {
		stat_add(&w->stats->tx_dropped, 1);
		return;
	}
	if (w->delays && fault_hit(&w->rng, w->delay_probability)) {
		if (delay_queue_push(w->delays, &req->peer, frame, n, w->delay_ms)) {
			stat_add(&w->stats->delayed_by_fault, 1);
			return;
		}
		stat_add(&w->stats->delay_queue_full, 1);
	}
	reply_sender_add(w->sender, &req->peer, frame, n);
}

/* Less than this free under the store, and a failed write is the disk being full. */
#define FULL_DISK_BYTES (1024u * 1024u)

/*
 * A write that failed with ENOSPC, or with EIO (LMDB's word for a short write,
 * which is how a disk that fills up mid-commit shows), is named a full disk
 * when the file system under the store has (almost) nothing left.
 */
static void full_disk_hint(const struct bank_writer *w, int status, char *out, size_t size)
{
	out[0] = '\0';
	struct statvfs fs;
	if ((status != ENOSPC && status != EIO) || !w->store_path || statvfs(w->store_path, &fs) != 0)
		return;
	unsigned long long free_bytes = (unsigned long long)fs.f_bavail * fs.f_frsize;
	if (free_bytes < FULL_DISK_BYTES)
		snprintf(out, size, " (the disk of %s is full: %llu bytes free; answers resume by themselves once there is room)",
			 w->store_path, free_bytes);
}

/* Says why requests are answered 909 (a full map, a full disk, a disk error), without a line per request. */
static void log_storage_failure(struct bank_writer *w, size_t n, int status)
{
	w->storage_errors_unlogged += n;
	int64_t now = (int64_t)time(NULL);
	if (now == w->storage_error_logged_at)
		return;
	char hint[512] = " (raise lmdb_map_size)";
	if (status != STORE_FULL)
		full_disk_hint(w, status, hint, sizeof hint);
	fprintf(stderr, "bank-node: storage: %s: %llu request(s) answered 909 since the last report%s\n",
		store_strerror(status), (unsigned long long)w->storage_errors_unlogged, hint);
	w->storage_error_logged_at = now;
	w->storage_errors_unlogged = 0;
}

static void writer_complete(void *ctx, void *items, size_t n, int status)
{
	struct bank_writer *w = ctx;
	struct bank_request *reqs = items;
	if (status != 0)
		log_storage_failure(w, n, status);
	for (size_t i = 0; i < n; i++) {
		struct bank_request *req = &reqs[i];
		if (status != 0) {
			/* Rolled back: nothing happened, and the answer must say so. */
			memcpy(req->action, ACTION_SYSTEM_ERROR, 4);
			req->approval[0] = '\0';
			req->outcome = OUTCOME_NEW;
		}
		bank_stats_count(w->stats, req);
		if (w->sender)
			answer(w, req);
	}
	if (w->sender)
		reply_sender_flush(w->sender);
	/* From each datagram's arrival to its answer leaving (what the switch waits for, but its network). */
	uint64_t now_ns = clock_monotonic_ns();
	for (size_t i = 0; i < n; i++)
		if (reqs[i].received_ns && reqs[i].received_ns <= now_ns)
			latency_add_shared(&w->stats->decision, now_ns - reqs[i].received_ns);
	if (w->observer)
		w->observer(w->observer_ctx, reqs, n, status);
}

const struct group_commit_ops bank_writer_ops = {
	.batch_begin = writer_batch_begin,
	.apply = writer_apply,
	.complete = writer_complete,
};
