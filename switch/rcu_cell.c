#include "rcu_cell.h"

void rcu_cell_init(struct rcu_cell *c, void *initial, void (*free_object)(void *))
{
	c->current = initial;
	c->free_object = free_object;
	pthread_mutex_init(&c->writer_lock, NULL);
}

void rcu_cell_destroy(struct rcu_cell *c)
{
	if (c->current && c->free_object)
		c->free_object(c->current);
	c->current = NULL;
	pthread_mutex_destroy(&c->writer_lock);
}

void rcu_cell_replace_locked(struct rcu_cell *c, void *next)
{
	void *old = rcu_xchg_pointer(&c->current, next);
	/* Every reader that could have loaded old passes a quiescent state first. */
	synchronize_rcu();
	if (old && c->free_object)
		c->free_object(old);
}

void rcu_cell_replace(struct rcu_cell *c, void *next)
{
	pthread_mutex_lock(&c->writer_lock);
	rcu_cell_replace_locked(c, next);
	pthread_mutex_unlock(&c->writer_lock);
}

void *rcu_cell_lock(struct rcu_cell *c)
{
	pthread_mutex_lock(&c->writer_lock);
	return c->current;
}

void rcu_cell_unlock(struct rcu_cell *c)
{
	pthread_mutex_unlock(&c->writer_lock);
}
