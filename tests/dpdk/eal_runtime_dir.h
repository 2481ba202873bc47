/* The end of a process that started the DPDK EAL in a test or benchmark. */
#ifndef EAL_RUNTIME_DIR_H
#define EAL_RUNTIME_DIR_H

/*
 * rte_eal_cleanup, then removes the EAL's runtime directory: the EAL leaves it
 * behind (sockets and its config only), and one per test or run would pile up.
 */
void eal_cleanup_and_remove_runtime_dir(void);

#endif
