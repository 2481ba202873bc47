/* Opening an LMDB environment: directories made, databases created and reopened, clear errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lmdb_env.h"
#include "test_temp_dir.h"

static char dir[256];

static void make_dir(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "lmdb-env"));
}

static void remove_dir(void)
{
	cr_assert(test_temp_dir_remove(dir), "%s left behind", dir);
}

TestSuite(lmdb_env, .init = make_dir, .fini = remove_dir);

Test(lmdb_env, makes_the_missing_directories_and_the_named_databases)
{
	char path[512], err[256] = "";
	snprintf(path, sizeof(path), "%s/a/b/env", dir);
	MDB_dbi first = 0, second = 0;
	const struct lmdb_named_db dbs[] = {{"first", &first}, {"second", &second}};
	const struct lmdb_env_settings s = {.map_size = 1u << 20, .flags = MDB_NOTLS, .max_readers = 200, .dbs = dbs,
					    .db_count = 2};
	MDB_env *env;
	cr_assert_eq(lmdb_env_open(&env, path, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(env);
	cr_assert_neq(first, second);
	unsigned readers = 0;
	mdb_env_get_maxreaders(env, &readers);
	cr_assert_eq(readers, 200);

	/* A value written in one database is found there after a reopen, and only there. */
	MDB_txn *t;
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &t), 0);
	MDB_val k = {3, "key"}, v = {5, "value"};
	cr_assert_eq(mdb_put(t, second, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(t), 0);
	mdb_env_close(env);

	cr_assert_eq(lmdb_env_open(&env, path, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &t), 0);
	MDB_val got;
	cr_assert_eq(mdb_get(t, second, &k, &got), 0);
	cr_assert_eq(got.mv_size, 5);
	cr_assert_eq(memcmp(got.mv_data, "value", 5), 0);
	cr_assert_eq(mdb_get(t, first, &k, &got), MDB_NOTFOUND);
	mdb_txn_abort(t);
	mdb_env_close(env);
}

Test(lmdb_env, a_file_in_the_way_is_a_clear_error)
{
	char file[512], path[600], err[256] = "";
	snprintf(file, sizeof(file), "%s/plain-file", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/env", file);
	const struct lmdb_env_settings s = {.map_size = 1u << 20};
	MDB_env *env = (MDB_env *)1;
	cr_assert_neq(lmdb_env_open(&env, path, &s, err, sizeof(err)), 0);
	cr_assert_null(env);
	cr_assert(strstr(err, "cannot create LMDB directory") && strstr(err, path), "%s", err);
}

Test(lmdb_env, too_many_databases_are_refused_before_anything_is_made)
{
	char path[512], err[256] = "";
	snprintf(path, sizeof(path), "%s/env", dir);
	MDB_dbi dbi[9];
	struct lmdb_named_db dbs[9];
	for (int i = 0; i < 9; i++)
		dbs[i] = (struct lmdb_named_db){"db", &dbi[i]};
	const struct lmdb_env_settings s = {.map_size = 1u << 20, .dbs = dbs, .db_count = 9};
	MDB_env *env;
	cr_assert_neq(lmdb_env_open(&env, path, &s, err, sizeof(err)), 0);
	cr_assert_null(env);
	cr_assert(strstr(err, "at most 8"), "%s", err);
	struct stat st;
	cr_assert_neq(stat(path, &st), 0, "the directory was made anyway");
}

Test(lmdb_env, an_lmdb_failure_names_its_step)
{
	/* Read-only, an environment that does not exist yet cannot be opened: mdb_env_open fails. */
	char path[512], err[256] = "";
	snprintf(path, sizeof(path), "%s/env", dir);
	const struct lmdb_env_settings s = {.map_size = 1u << 20, .flags = MDB_RDONLY};
	MDB_env *env;
	cr_assert_neq(lmdb_env_open(&env, path, &s, err, sizeof(err)), 0, "a read-only open of a missing environment");
	cr_assert_null(env);
	cr_assert(strstr(err, "LMDB mdb_env_open at") && strstr(err, path), "%s", err);
}
