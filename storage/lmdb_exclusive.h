/*
 * Whether another process has an LMDB environment open, and keeping any from
 * opening it meanwhile: for the tools that rewrite records an agent may hold
 * in memory (pan-keys reseal, retire), which must run with the agents stopped.
 *
 * How: every process with an environment open holds LMDB's shared fcntl lock
 * on byte 0 of its lock.mdb (liblmdb, mdb_env_excl_lock), taken at open and
 * dropped by the kernel when the process closes it or dies. Once this process
 * has the environment open itself, it asks for that byte exclusively: granted
 * only when no other process holds it, and while held, any process opening
 * the environment waits in LMDB's blocking F_SETLKW for the shared lock (an
 * agent started meanwhile starts after the tool is done). fcntl locks belong
 * to the process, not the descriptor: the upgrade covers LMDB's own lock, and
 * the descriptor must stay open until the environment is closed.
 */
#ifndef STORAGE_LMDB_EXCLUSIVE_H
#define STORAGE_LMDB_EXCLUSIVE_H

#include <stddef.h>

/*
 * dir's environment, already open in this process, held for it alone. Returns
 * the descriptor to pass to lmdb_exclusive_release after mdb_env_close, or -1
 * with the reason in err (another process, named by pid, has it open).
 */
int lmdb_exclusive_take(const char *dir, char *err, size_t err_size);
void lmdb_exclusive_release(int fd);

#endif
