/*
 * Key and secrets files (PAN protection keys, ISO MAC keys, API key hashes,
 * agent tokens, TLS private keys): read only when they are regular files
 * that neither group nor others may access. One check for all of them, made
 * on the descriptor that is then read (no window between check and open).
 */
#ifndef SECRET_FILE_H
#define SECRET_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Opens path for reading. NULL when it cannot be opened, is not a regular
 * file, or lets group or others in; err then says which, prefixed with what
 * names the file ("iso_mac key file"; NULL: the path alone).
 */
FILE *secret_file_open(const char *path, const char *what, char *err, size_t err_size);

/* The same checks without keeping the file open (for a file another library reads). */
bool secret_file_private(const char *path, const char *what, char *err, size_t err_size);

#endif
