// Dropping a throwaway PostgreSQL database as the lab's unprivileged v2o role.
// `DROP DATABASE … WITH (FORCE)` is not enough: it must signal every backend on the database, and an
// autovacuum worker busy on pg-boss's churned tables belongs to no role v2o is a member of, so FORCE
// fails with "must be a member of the role whose process is being terminated" (PostgreSQL's
// TerminateOtherDBBackends, src/backend/storage/ipc/procarray.c). A plain DROP DATABASE instead asks
// autovacuum workers to exit and waits for them (CountOtherDBBackends), so: end our own role's
// sessions, then drop, and try again while a session is still on its way out.
import type pg from 'pg';

export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND usename = current_user`,
      [name],
    );
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      return;
    } catch (e) {
      // 55006 object_in_use: a terminated session has not gone yet, or a new one came.
      if ((e as { code?: string }).code !== '55006' || attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
