/**
 * The schema, as an append-only list: migration N brings a database from
 * `user_version` N-1 to N. Never edit a migration that has shipped; add one.
 */
export const MIGRATIONS: readonly string[] = [
  /* 1: the first schema */ `
  CREATE TABLE dag (
    dag_id        TEXT PRIMARY KEY,
    is_paused     INTEGER NOT NULL DEFAULT 0,
    fileloc       TEXT,
    schedule      TEXT,
    last_seen_at  TEXT
  );

  CREATE TABLE pool (
    name        TEXT PRIMARY KEY,
    slots       INTEGER NOT NULL,
    description TEXT
  );
  INSERT INTO pool (name, slots, description) VALUES ('default_pool', 128, 'tasks that name no pool');

  CREATE TABLE dag_run (
    dag_id               TEXT NOT NULL,
    run_id               TEXT NOT NULL,
    run_type             TEXT NOT NULL,            -- manual | scheduled
    triggered_by         TEXT NOT NULL,            -- cli | scheduler | ui | api
    logical_date         TEXT NOT NULL,
    data_interval_start  TEXT NOT NULL,
    data_interval_end    TEXT NOT NULL,
    conf                 TEXT NOT NULL DEFAULT '{}',
    params               TEXT NOT NULL DEFAULT '{}',
    state                TEXT NOT NULL,            -- queued | running | success | failed
    queued_at            TEXT NOT NULL,
    start_date           TEXT,
    end_date             TEXT,
    owner_id             TEXT,
    owner_host           TEXT,
    owner_pid            INTEGER,
    lease_expires_at     TEXT,
    cancel_requested     INTEGER NOT NULL DEFAULT 0,
    note                 TEXT,
    PRIMARY KEY (dag_id, run_id)
  );
  CREATE INDEX dag_run_by_state ON dag_run (state, dag_id);
  CREATE UNIQUE INDEX dag_run_one_per_interval ON dag_run (dag_id, data_interval_start, data_interval_end)
    WHERE run_type = 'scheduled';

  CREATE TABLE task_instance (
    dag_id          TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    task_id         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'none',
    try_number      INTEGER NOT NULL DEFAULT 0,
    max_tries       INTEGER NOT NULL DEFAULT 1,
    pool            TEXT NOT NULL DEFAULT 'default_pool',
    operator        TEXT NOT NULL,
    queued_at       TEXT,
    start_date      TEXT,
    end_date        TEXT,
    next_retry_at   TEXT,
    hostname        TEXT,
    pid             INTEGER,
    owner_id        TEXT,
    lease_expires_at TEXT,
    error           TEXT,
    PRIMARY KEY (dag_id, run_id, task_id),
    FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
  );
  CREATE INDEX task_instance_by_state ON task_instance (state, dag_id);
  CREATE INDEX task_instance_by_pool ON task_instance (pool, state);

  CREATE TABLE task_try (
    dag_id      TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    try_number  INTEGER NOT NULL,
    state       TEXT NOT NULL,
    start_date  TEXT NOT NULL,
    end_date    TEXT,
    hostname    TEXT,
    pid         INTEGER,
    error       TEXT,
    PRIMARY KEY (dag_id, run_id, task_id, try_number),
    FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
  );

  CREATE TABLE xcom (
    dag_id      TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (dag_id, run_id, task_id, key),
    FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
  );

  CREATE TABLE task_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id      TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    try_number  INTEGER NOT NULL,
    ts          TEXT NOT NULL,
    level       TEXT NOT NULL,
    source      TEXT NOT NULL,
    message     TEXT NOT NULL,
    FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
  );
  CREATE INDEX task_log_by_try ON task_log (dag_id, run_id, task_id, try_number, id);

  CREATE TABLE external_handle (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id       TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    try_number   INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    url          TEXT,
    data         TEXT,
    created_at   TEXT NOT NULL,
    released_at  TEXT,
    UNIQUE (dag_id, run_id, task_id, kind, external_id),
    FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
  );
  CREATE INDEX external_handle_open ON external_handle (kind, released_at);
  `,
  /* 2: who exactly owns a run (pid space, pid, start time), so a reused pid or another container is not taken for the owner */ `
  ALTER TABLE dag_run ADD COLUMN owner_identity TEXT;
  `,
  /* 3: a change feed for the web server (rows written by triggers, so every process's writes show up) and the scheduler's beat */ `
  CREATE TABLE change_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,            -- dag | run | task | try | handle
    dag_id      TEXT NOT NULL,
    run_id      TEXT,
    task_id     TEXT,
    try_number  INTEGER,
    ref         INTEGER                   -- external_handle.id for kind 'handle'
  );

  CREATE TRIGGER change_dag_insert AFTER INSERT ON dag BEGIN
    INSERT INTO change_log (kind, dag_id) VALUES ('dag', NEW.dag_id);
  END;
  CREATE TRIGGER change_dag_paused AFTER UPDATE OF is_paused ON dag WHEN OLD.is_paused IS NOT NEW.is_paused BEGIN
    INSERT INTO change_log (kind, dag_id) VALUES ('dag', NEW.dag_id);
  END;

  CREATE TRIGGER change_run_insert AFTER INSERT ON dag_run BEGIN
    INSERT INTO change_log (kind, dag_id, run_id) VALUES ('run', NEW.dag_id, NEW.run_id);
  END;
  -- Not lease_expires_at: renewing leases every heartbeat is no change a user sees.
  CREATE TRIGGER change_run_update AFTER UPDATE OF state, start_date, end_date, note, cancel_requested, owner_id, owner_host, owner_pid, conf, params
  ON dag_run WHEN OLD.state IS NOT NEW.state OR OLD.start_date IS NOT NEW.start_date OR OLD.end_date IS NOT NEW.end_date
    OR OLD.note IS NOT NEW.note OR OLD.cancel_requested IS NOT NEW.cancel_requested OR OLD.owner_host IS NOT NEW.owner_host
    OR OLD.owner_pid IS NOT NEW.owner_pid OR OLD.owner_id IS NOT NEW.owner_id BEGIN
    INSERT INTO change_log (kind, dag_id, run_id) VALUES ('run', NEW.dag_id, NEW.run_id);
  END;

  CREATE TRIGGER change_ti_insert AFTER INSERT ON task_instance BEGIN
    INSERT INTO change_log (kind, dag_id, run_id, task_id, try_number) VALUES ('task', NEW.dag_id, NEW.run_id, NEW.task_id, NEW.try_number);
  END;
  CREATE TRIGGER change_ti_update AFTER UPDATE OF state, try_number, max_tries, queued_at, start_date, end_date, next_retry_at, hostname, pid, error
  ON task_instance WHEN OLD.state IS NOT NEW.state OR OLD.try_number IS NOT NEW.try_number OR OLD.max_tries IS NOT NEW.max_tries
    OR OLD.queued_at IS NOT NEW.queued_at OR OLD.start_date IS NOT NEW.start_date OR OLD.end_date IS NOT NEW.end_date
    OR OLD.next_retry_at IS NOT NEW.next_retry_at OR OLD.hostname IS NOT NEW.hostname OR OLD.pid IS NOT NEW.pid OR OLD.error IS NOT NEW.error BEGIN
    INSERT INTO change_log (kind, dag_id, run_id, task_id, try_number) VALUES ('task', NEW.dag_id, NEW.run_id, NEW.task_id, NEW.try_number);
  END;

  CREATE TRIGGER change_try_insert AFTER INSERT ON task_try BEGIN
    INSERT INTO change_log (kind, dag_id, run_id, task_id, try_number) VALUES ('try', NEW.dag_id, NEW.run_id, NEW.task_id, NEW.try_number);
  END;
  CREATE TRIGGER change_try_update AFTER UPDATE ON task_try BEGIN
    INSERT INTO change_log (kind, dag_id, run_id, task_id, try_number) VALUES ('try', NEW.dag_id, NEW.run_id, NEW.task_id, NEW.try_number);
  END;
  CREATE TRIGGER change_try_delete AFTER DELETE ON task_try BEGIN
    INSERT INTO change_log (kind, dag_id, run_id, task_id, try_number) VALUES ('try', OLD.dag_id, OLD.run_id, OLD.task_id, OLD.try_number);
  END;

  CREATE TRIGGER change_handle_insert AFTER INSERT ON external_handle BEGIN
    INSERT INTO change_log (kind, dag_id, run_id, task_id, try_number, ref) VALUES ('handle', NEW.dag_id, NEW.run_id, NEW.task_id, NEW.try_number, NEW.id);
  END;
  CREATE TRIGGER change_handle_update AFTER UPDATE ON external_handle BEGIN
    INSERT INTO change_log (kind, dag_id, run_id, task_id, try_number, ref) VALUES ('handle', NEW.dag_id, NEW.run_id, NEW.task_id, NEW.try_number, NEW.id);
  END;

  CREATE TABLE scheduler_beat (
    owner_id  TEXT PRIMARY KEY,
    host      TEXT NOT NULL,
    pid       INTEGER NOT NULL,
    beat_at   TEXT NOT NULL
  );
  `,
];
