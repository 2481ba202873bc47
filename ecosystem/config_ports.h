/*
 * Moving a whole ecosystem to other ports, so that two can run side by side
 * on one host (scripts/ecosystem.sh --port-base): every endpoint of the config
 * (banks' and networks' http and iso, tcp.listen) keeps its distance to the
 * others and the lowest becomes `base`.
 */
#ifndef CONFIG_PORTS_H
#define CONFIG_PORTS_H

#include <stddef.h>

/*
 * The config (either layout: the seed's is converted first) as YAML with its
 * ports moved, checked by ecosystem_config_parse; malloc'd, NUL-terminated.
 * NULL with err when the config does not load or the ports would pass 65535.
 * Comments are not kept: the result is a run's config, not a file to edit.
 */
char *config_move_ports(const char *yaml, size_t len, const char *source, unsigned base, char *err,
			size_t err_size);

#endif
