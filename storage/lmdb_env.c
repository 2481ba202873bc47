#include "lmdb_env.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* LMDB needs a slot per named database; one value for all stores keeps their files alike. */
#define LMDB_ENV_MAX_DBS 8

static int make_dirs(const char *dir)
{
	char path[1024];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof(path))
		return ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	/* mkdir -p: each prefix in turn, tolerating the ones that exist. */
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char saved = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return errno;
		path[i] = saved;
	}
	return 0;
}

static int open_databases(MDB_env *env, const struct lmdb_env_settings *s)
{
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(env, NULL, 0, &txn);
	for (size_t i = 0; rc == 0 && i < s->db_count; i++)
		rc = mdb_dbi_open(txn, s->dbs[i].name, MDB_CREATE, s->dbs[i].dbi);
	if (rc == 0)
		return mdb_txn_commit(txn);
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

int lmdb_env_open(MDB_env **env, const char *dir, const struct lmdb_env_settings *s, char *err, size_t err_size)
{
	*env = NULL;
	if (s->db_count > LMDB_ENV_MAX_DBS) {
		snprintf(err, err_size, "LMDB at %s: %zu databases, at most %d", dir, s->db_count, LMDB_ENV_MAX_DBS);
		return EINVAL;
	}
	int rc = make_dirs(dir);
	if (rc != 0) {
		snprintf(err, err_size, "cannot create LMDB directory %s: %s", dir, strerror(rc));
		return rc;
	}
	const char *step = "mdb_env_create";
	rc = mdb_env_create(env);
	if (rc == 0) {
		step = "mdb_env_set_mapsize";
		rc = mdb_env_set_mapsize(*env, (size_t)s->map_size);
	}
	if (rc == 0) {
		step = "mdb_env_set_maxdbs";
		rc = mdb_env_set_maxdbs(*env, LMDB_ENV_MAX_DBS);
	}
	if (rc == 0 && s->max_readers > 0) {
		step = "mdb_env_set_maxreaders";
		rc = mdb_env_set_maxreaders(*env, s->max_readers);
	}
	if (rc == 0) {
		step = "mdb_env_open";
		rc = mdb_env_open(*env, dir, s->flags, 0600);
	}
	if (rc == 0) {
		step = "opening databases";
		rc = open_databases(*env, s);
	}
	if (rc != 0) {
		snprintf(err, err_size, "LMDB %s at %s: %s", step, dir, mdb_strerror(rc));
		if (*env)
			mdb_env_close(*env);
		*env = NULL;
	}
	return rc;
}
