/*
 * A pointer to an immutable object (route table, card registry) that workers
 * read lock-free under liburcu QSBR while the control plane replaces it.
 *
 * Readers: rcu_cell_read() between two quiescent states of a registered
 * thread. Writers (HTTP thread, signal thread; never a registered reader)
 * serialise on the cell's mutex, swap the pointer with rcu_xchg_pointer and
 * free the old object only after synchronize_rcu(), i.e. after every worker
 * has passed a quiescent state and can no longer hold it.
 */
#ifndef RCU_CELL_H
#define RCU_CELL_H

#define _LGPL_SOURCE
#include <pthread.h>
#include <urcu-qsbr.h> /* with the flavour-neutral rcu_* names */

struct rcu_cell {
	void *current;
	pthread_mutex_t writer_lock;
	void (*free_object)(void *object);
};

void rcu_cell_init(struct rcu_cell *c, void *initial, void (*free_object)(void *));
/* Frees the current object; no reader may be running. */
void rcu_cell_destroy(struct rcu_cell *c);

static inline void *rcu_cell_read(struct rcu_cell *c)
{
	return rcu_dereference(c->current);
}

/* Publishes next and frees the previous object after a grace period. */
void rcu_cell_replace(struct rcu_cell *c, void *next);

/*
 * Control-plane access without being an RCU reader: holds the writer lock, so
 * the object cannot be freed until rcu_cell_unlock(). Returns the current object.
 */
void *rcu_cell_lock(struct rcu_cell *c);
void rcu_cell_unlock(struct rcu_cell *c);
/* Replace while already holding the lock (read-modify-write updates). */
void rcu_cell_replace_locked(struct rcu_cell *c, void *next);

#endif
