namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// The store's schema on PostgreSQL: migration N here is migration N of <see cref="Schema"/> (SQLite) translated, so
/// both providers have the same versions and end at the same tables and columns (a test holds them together). Never
/// edit a shipped migration: add one to both lists.
/// <para>
/// Translation rules: INTEGER columns become BIGINT (SQLite integers are 64-bit; times are unix milliseconds), BLOB
/// becomes BYTEA, an AUTOINCREMENT key becomes an identity column. A name that SQLite compares with COLLATE NOCASE
/// is unique through an index on lower(name) here, so the tables compare such names with lower() on both sides.
/// </para>
/// <para>
/// The version is kept in the table ade_schema (application, version) in the connection's schema (search_path), the
/// counterpart of SQLite's application_id and user_version: a database without it but with other tables belongs to
/// another application and is refused.
/// </para>
/// </summary>
internal static class PostgresSchema
{
    /// <summary>Marks the schema as an AdeEnrollment store (ade_schema.application).</summary>
    public const string Application = "AdeEnrollment";

    public static readonly IReadOnlyList<string> Migrations =
    [
        // 1: store metadata, token requests, tokens, profiles, devices.
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE token_request (
            id              TEXT PRIMARY KEY,
            created_at      BIGINT NOT NULL,
            thumbprint      TEXT NOT NULL,
            certificate_pem TEXT NOT NULL,
            private_key     BYTEA NOT NULL,
            token_id        TEXT NULL
        );
        CREATE TABLE token (
            id              TEXT PRIMARY KEY,
            name            TEXT NOT NULL,
            apple_id        TEXT NOT NULL,
            consumer_key_hash TEXT NOT NULL UNIQUE,
            credentials     BYTEA NOT NULL,
            expires_at      BIGINT NOT NULL,
            request_id      TEXT NOT NULL REFERENCES token_request(id),
            enrollment_url  TEXT NULL,
            scope_tags      TEXT NOT NULL DEFAULT '[]',
            service_uri     TEXT NOT NULL,
            server_name     TEXT NULL,
            server_uuid     TEXT NULL,
            org_name        TEXT NULL,
            org_type        TEXT NULL,
            admin_id        TEXT NULL,
            invalid_reason  TEXT NULL,
            default_profile_id TEXT NULL,
            created_at      BIGINT NOT NULL,
            modified_at     BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX token_name ON token (lower(name));
        CREATE TABLE profile (
            id              TEXT PRIMARY KEY,
            token_id        TEXT NOT NULL REFERENCES token(id),
            name            TEXT NOT NULL,
            settings        TEXT NOT NULL,
            apple_profile_uuid TEXT NULL,
            created_at      BIGINT NOT NULL,
            modified_at     BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX profile_token_name ON profile (token_id, lower(name));
        CREATE TABLE device (
            token_id        TEXT NOT NULL REFERENCES token(id),
            serial_number   TEXT NOT NULL,
            model           TEXT NULL,
            description     TEXT NULL,
            color           TEXT NULL,
            asset_tag       TEXT NULL,
            os              TEXT NULL,
            device_family   TEXT NULL,
            profile_id      TEXT NULL REFERENCES profile(id),
            profile_uuid    TEXT NULL,
            profile_status  TEXT NULL,
            profile_assign_time BIGINT NULL,
            profile_push_time   BIGINT NULL,
            device_assigned_date BIGINT NULL,
            device_assigned_by  TEXT NULL,
            removed_at      BIGINT NULL,
            purge_after     BIGINT NULL,
            updated_at      BIGINT NOT NULL,
            PRIMARY KEY (token_id, serial_number)
        );
        CREATE INDEX device_serial ON device (serial_number);
        CREATE INDEX device_profile ON device (profile_id);
        """,

        // 2: device sync — per-token sync state (cursor, lease) and history; device bookkeeping for sync.
        """
        CREATE TABLE sync_state (
            token_id            TEXT PRIMARY KEY REFERENCES token(id) ON DELETE CASCADE,
            cursor              TEXT NULL,
            cursor_kind         TEXT NULL,
            full_sync_id        BIGINT NULL,
            last_started_at     BIGINT NULL,
            last_success_at     BIGINT NULL,
            last_full_at        BIGINT NULL,
            next_must_be_full   BIGINT NOT NULL DEFAULT 0,
            lease_id            TEXT NULL,
            lease_expires_at    BIGINT NULL,
            lease_history_id    BIGINT NULL
        );
        CREATE TABLE sync_history (
            id                  BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            token_id            TEXT NOT NULL REFERENCES token(id) ON DELETE CASCADE,
            kind                TEXT NOT NULL,
            trigger_kind        TEXT NOT NULL,
            status              TEXT NOT NULL,
            started_at          BIGINT NOT NULL,
            finished_at         BIGINT NULL,
            added               BIGINT NOT NULL DEFAULT 0,
            modified            BIGINT NOT NULL DEFAULT 0,
            removed             BIGINT NOT NULL DEFAULT 0,
            purged              BIGINT NOT NULL DEFAULT 0,
            default_assigned    BIGINT NOT NULL DEFAULT 0,
            pages               BIGINT NOT NULL DEFAULT 0,
            error_id            TEXT NULL,
            error_message       TEXT NULL
        );
        CREATE INDEX sync_history_token ON sync_history (token_id, id);
        ALTER TABLE device ADD COLUMN last_seen_sync BIGINT NULL;
        ALTER TABLE device ADD COLUMN last_op_date BIGINT NULL;
        ALTER TABLE device ADD COLUMN first_seen_sync BIGINT NULL;
        ALTER TABLE device ADD COLUMN assign_failed_at BIGINT NULL;
        ALTER TABLE profile ADD COLUMN apple_defined_hash TEXT NULL;
        CREATE INDEX device_purge ON device (purge_after) WHERE purge_after IS NOT NULL;
        """,

        // 3: platforms — a default profile per platform per token (see Schema migration 3).
        """
        CREATE TABLE token_default_profile (
            token_id    TEXT NOT NULL REFERENCES token(id) ON DELETE CASCADE,
            platform    TEXT NOT NULL,
            profile_id  TEXT NOT NULL REFERENCES profile(id),
            PRIMARY KEY (token_id, platform)
        );
        CREATE INDEX token_default_profile_profile ON token_default_profile (profile_id);
        INSERT INTO token_default_profile (token_id, platform, profile_id)
            SELECT id, 'iOS', default_profile_id FROM token WHERE default_profile_id IS NOT NULL;
        UPDATE token SET default_profile_id = NULL;
        UPDATE profile SET settings = (settings::jsonb
            || jsonb_build_object('Platform', coalesce(nullif(settings::jsonb -> 'Platform', 'null'::jsonb), '"iOS"'::jsonb), 'AwaitFinalConfiguration', true))::text;
        """,

        // 4: Apple Business / School API accounts (private key encrypted) and the device activities sent with them.
        """
        CREATE TABLE business_account (
            id              TEXT PRIMARY KEY,
            client_id       TEXT NOT NULL,
            key_id          TEXT NOT NULL,
            scope           TEXT NOT NULL,
            private_key     BYTEA NOT NULL,
            token_uri       TEXT NOT NULL,
            service_uri     TEXT NOT NULL,
            created_at      BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX business_account_client ON business_account (lower(client_id));
        CREATE TABLE business_activity (
            id              TEXT PRIMARY KEY,
            account_id      TEXT NOT NULL REFERENCES business_account(id) ON DELETE CASCADE,
            activity_type   TEXT NOT NULL,
            server_id       TEXT NULL,
            server_name     TEXT NULL,
            token_id        TEXT NULL,
            device_count    BIGINT NOT NULL,
            serials         TEXT NOT NULL,
            status          TEXT NOT NULL,
            sub_status      TEXT NULL,
            results         TEXT NULL,
            created_at      BIGINT NOT NULL,
            completed_at    BIGINT NULL,
            checked_at      BIGINT NULL
        );
        CREATE INDEX business_activity_account ON business_activity (account_id, created_at);
        """,

        // 5: device actions: the change journal, device properties from Apple, the last assignment attempt, and a
        // token's "terms not accepted" state.
        """
        CREATE TABLE device_event (
            id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            token_id        TEXT NOT NULL,
            serial_number   TEXT NOT NULL,
            at              BIGINT NOT NULL,
            kind            TEXT NOT NULL,
            detail          TEXT NULL
        );
        CREATE INDEX device_event_token ON device_event (token_id, id);
        CREATE INDEX device_event_serial ON device_event (serial_number, id);
        CREATE INDEX device_event_at ON device_event (at);
        ALTER TABLE device ADD COLUMN mdm_migration_deadline BIGINT NULL;
        ALTER TABLE device ADD COLUMN is_replacement_device BIGINT NULL;
        ALTER TABLE device ADD COLUMN last_attempt_at BIGINT NULL;
        ALTER TABLE device ADD COLUMN last_attempt_profile TEXT NULL;
        ALTER TABLE device ADD COLUMN last_attempt_result TEXT NULL;
        ALTER TABLE device ADD COLUMN released_at BIGINT NULL;
        ALTER TABLE token ADD COLUMN terms_not_signed_at BIGINT NULL;
        """,

        // 6: Apple's request budget of a Business API account, shared by every process of the store, and the serial ->
        // server index of one inventory read (see Schema migration 6).
        """
        ALTER TABLE business_account ADD COLUMN blocked_until BIGINT NULL;
        ALTER TABLE business_account ADD COLUMN gets_per_minute BIGINT NULL;
        ALTER TABLE business_account ADD COLUMN posts_per_hour BIGINT NULL;
        CREATE TABLE business_device_server (
            run_id          TEXT NOT NULL,
            serial_number   TEXT NOT NULL,
            server_id       TEXT NOT NULL,
            created_at      BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX business_device_server_key ON business_device_server (run_id, lower(serial_number));
        CREATE TABLE business_request (
            account_id      TEXT NOT NULL REFERENCES business_account(id) ON DELETE CASCADE,
            method          TEXT NOT NULL,
            at              BIGINT NOT NULL
        );
        CREATE INDEX business_request_account ON business_request (account_id, method, at);
        """,

        // 7: the device -> profile index holds only devices that have a profile (see Schema migration 7).
        """
        DROP INDEX device_profile;
        CREATE INDEX device_profile ON device (profile_id) WHERE profile_id IS NOT NULL;
        """,

        // 8: cheaper per-row writes of a sync page (PostgreSQL only; Schema migration 8 changes nothing).
        // - The journal's serial index becomes a hash index: Apple's serials arrive in random order, and a B-tree entry
        //   per event cost as much as the rest of the journal insert; every query of it is serial = value.
        // - The device -> token key is checked once per statement instead of once per row: the foreign key becomes
        //   triggers that hold the same rule (a device names an existing token; a token with devices can be neither
        //   deleted nor renumbered). An insert locks the statement's distinct tokens FOR KEY SHARE, as the key did, so
        //   a concurrent delete of the token waits for it and then fails, or it fails after the delete; the error is
        //   the one the key raised (SQLSTATE 23503, constraint device_token_id_fkey).
        """
        DROP INDEX device_event_serial;
        CREATE INDEX device_event_serial ON device_event USING hash (serial_number);
        ALTER TABLE device DROP CONSTRAINT device_token_id_fkey;
        CREATE FUNCTION ade_device_token_exists() RETURNS trigger LANGUAGE plpgsql AS $f$
        DECLARE missing TEXT;
        BEGIN
            IF TG_LEVEL = 'ROW' THEN
                PERFORM 1 FROM token WHERE id = NEW.token_id FOR KEY SHARE;
                IF NOT FOUND THEN
                    missing := NEW.token_id;
                END IF;
            ELSE
                PERFORM 1 FROM token WHERE id IN (SELECT token_id FROM ade_new_device) FOR KEY SHARE;
                SELECT n.token_id INTO missing FROM (SELECT DISTINCT token_id FROM ade_new_device) n
                    WHERE NOT EXISTS (SELECT 1 FROM token t WHERE t.id = n.token_id) LIMIT 1;
            END IF;
            IF missing IS NOT NULL THEN
                RAISE EXCEPTION 'insert or update on table "device" violates foreign key constraint "device_token_id_fkey"'
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'device_token_id_fkey', TABLE = 'device',
                          DETAIL = format('Key (token_id)=(%s) is not present in table "token".', missing);
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER device_token_insert AFTER INSERT ON device REFERENCING NEW TABLE AS ade_new_device
            FOR EACH STATEMENT EXECUTE FUNCTION ade_device_token_exists();
        CREATE TRIGGER device_token_update AFTER UPDATE OF token_id ON device
            FOR EACH ROW WHEN (OLD.token_id IS DISTINCT FROM NEW.token_id) EXECUTE FUNCTION ade_device_token_exists();
        CREATE FUNCTION ade_token_has_no_devices() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF EXISTS (SELECT 1 FROM device WHERE token_id = OLD.id) THEN
                RAISE EXCEPTION 'update or delete on table "token" violates foreign key constraint "device_token_id_fkey" on table "device"'
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'device_token_id_fkey', TABLE = 'device',
                          DETAIL = format('Key (id)=(%s) is still referenced from table "device".', OLD.id);
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER token_device_delete AFTER DELETE ON token FOR EACH ROW EXECUTE FUNCTION ade_token_has_no_devices();
        CREATE TRIGGER token_device_update AFTER UPDATE OF id ON token
            FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ade_token_has_no_devices();
        """,

        // 9: a token's device count without counting its devices (PostgreSQL only; Schema migration 9 changes nothing).
        // The token list, a scheduler's -IfDue batch, a sync's read of its token, the check before a token is deleted
        // and the store's total read the count of a token's devices; counting them read every device row of every
        // listed token (200,000 rows for Get-AdeToken over 2,000 tokens), where SQLite walks its covering key for less.
        // ade_token_devices holds the count per token and triggers keep it exact in the writing transaction: an insert
        // or a delete adds up its rows per token once per statement (transition tables), and a row that moves to another
        // token (no writer does so today) moves its count. They are named to fire after the device_token_* triggers, so
        // a device of a missing token fails with the key's error before any count changes. A count row is made by the
        // first device of its token, ordered by token so two writers of several tokens take the rows in one order, and
        // goes with its token (a token with devices cannot be deleted; its count is then 0). The table is derived data:
        // the copy of a store neither reads nor writes it (the destination's triggers count the copied devices).
        """
        CREATE TABLE ade_token_devices (
            token_id    TEXT PRIMARY KEY REFERENCES token(id) ON DELETE CASCADE ON UPDATE CASCADE,
            devices     BIGINT NOT NULL
        );
        INSERT INTO ade_token_devices (token_id, devices) SELECT token_id, count(*) FROM device GROUP BY token_id;
        CREATE FUNCTION ade_token_devices_count() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO ade_token_devices AS c (token_id, devices)
                    SELECT token_id, count(*) FROM ade_new_device GROUP BY token_id ORDER BY token_id
                    ON CONFLICT (token_id) DO UPDATE SET devices = c.devices + excluded.devices;
            ELSIF TG_OP = 'DELETE' THEN
                UPDATE ade_token_devices AS c SET devices = c.devices - o.n
                    FROM (SELECT token_id, count(*) AS n FROM ade_old_device GROUP BY token_id) o
                    WHERE c.token_id = o.token_id;
            ELSE
                UPDATE ade_token_devices SET devices = devices - 1 WHERE token_id = OLD.token_id;
                INSERT INTO ade_token_devices AS c (token_id, devices) VALUES (NEW.token_id, 1)
                    ON CONFLICT (token_id) DO UPDATE SET devices = c.devices + 1;
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER device_tokens_count_insert AFTER INSERT ON device REFERENCING NEW TABLE AS ade_new_device
            FOR EACH STATEMENT EXECUTE FUNCTION ade_token_devices_count();
        CREATE TRIGGER device_tokens_count_delete AFTER DELETE ON device REFERENCING OLD TABLE AS ade_old_device
            FOR EACH STATEMENT EXECUTE FUNCTION ade_token_devices_count();
        CREATE TRIGGER device_tokens_count_update AFTER UPDATE OF token_id ON device
            FOR EACH ROW WHEN (OLD.token_id IS DISTINCT FROM NEW.token_id) EXECUTE FUNCTION ade_token_devices_count();
        """,

        // 10: serials are found through their token, as on SQLite (Schema migration 10): the journal's hash index on
        // serial_number becomes a B-tree on (token_id, serial_number, id) and the device table's serial index goes (its
        // key is (token_id, serial_number)); their entries landed at random for every row a sync wrote.
        """
        DROP INDEX device_event_serial;
        CREATE INDEX device_event_token_serial ON device_event (token_id, serial_number, id);
        DROP INDEX device_serial;
        """,

        // 11: the device -> profile key is checked once per statement, and an insert into device runs one trigger instead
        // of three (PostgreSQL only; Schema migration 11 changes nothing).
        // - Assigning a profile to a batch of 1,000 devices, or a sync page carrying its default profile's answers, ran the
        //   foreign key's check once per row (a fifth of the assignment's UPDATE). As with the token key of migration 8,
        //   triggers hold the same rule: a device names an existing profile or none; a profile that devices name can be
        //   neither deleted nor renumbered. An insert or update locks the statement's distinct profiles FOR KEY SHARE, as
        //   the key did, and the error is the key's (SQLSTATE 23503, constraint device_profile_id_fkey). The update
        //   trigger has no column list (transition tables do not allow one), so every update of device passes its rows'
        //   profiles; a statement whose rows name no profile costs one scan of its transition table.
        // - An insert's token key (migration 8), device count (migration 9) and profile key are one trigger, device_insert,
        //   that reads its rows once (lowest and highest token, rows, rows with a profile) and, for the usual statement of
        //   one token, locks, checks and counts that token directly: ≈ 2.8 → 1.0 ms of server time per page of 1,000. The
        //   order is kept: a device of a missing token fails with the token key's error before anything is counted.
        $$"""
        ALTER TABLE device DROP CONSTRAINT device_profile_id_fkey;
        CREATE FUNCTION ade_device_profile_exists() RETURNS trigger LANGUAGE plpgsql AS $f$
        DECLARE missing TEXT;
        BEGIN
            IF EXISTS (SELECT 1 FROM ade_new_device WHERE profile_id IS NOT NULL) THEN
        {{ProfileKeyCheck}}
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER device_profile_update AFTER UPDATE ON device REFERENCING NEW TABLE AS ade_new_device
            FOR EACH STATEMENT EXECUTE FUNCTION ade_device_profile_exists();
        CREATE FUNCTION ade_profile_has_no_devices() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF EXISTS (SELECT 1 FROM device WHERE profile_id = OLD.id) THEN
                RAISE EXCEPTION 'update or delete on table "profile" violates foreign key constraint "device_profile_id_fkey" on table "device"'
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'device_profile_id_fkey', TABLE = 'device',
                          DETAIL = format('Key (id)=(%s) is still referenced from table "device".', OLD.id);
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER profile_device_delete AFTER DELETE ON profile FOR EACH ROW EXECUTE FUNCTION ade_profile_has_no_devices();
        CREATE TRIGGER profile_device_update AFTER UPDATE OF id ON profile
            FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ade_profile_has_no_devices();
        DROP TRIGGER device_token_insert ON device;
        DROP TRIGGER device_tokens_count_insert ON device;
        CREATE FUNCTION ade_device_inserted() RETURNS trigger LANGUAGE plpgsql AS $f$
        DECLARE lo TEXT; hi TEXT; inserted BIGINT; profiled BIGINT; missing TEXT;
        BEGIN
            SELECT min(token_id), max(token_id), count(*), count(profile_id) INTO lo, hi, inserted, profiled FROM ade_new_device;
            IF inserted = 0 THEN
                RETURN NULL;
            END IF;
            IF lo = hi THEN
                PERFORM 1 FROM token WHERE id = lo FOR KEY SHARE;
                IF NOT FOUND THEN
                    missing := lo;
                END IF;
            ELSE
                PERFORM 1 FROM token WHERE id IN (SELECT token_id FROM ade_new_device) FOR KEY SHARE;
                SELECT n.token_id INTO missing FROM (SELECT DISTINCT token_id FROM ade_new_device) n
                    WHERE NOT EXISTS (SELECT 1 FROM token t WHERE t.id = n.token_id) LIMIT 1;
            END IF;
            IF missing IS NOT NULL THEN
                RAISE EXCEPTION 'insert or update on table "device" violates foreign key constraint "device_token_id_fkey"'
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'device_token_id_fkey', TABLE = 'device',
                          DETAIL = format('Key (token_id)=(%s) is not present in table "token".', missing);
            END IF;
            IF profiled > 0 THEN
        {{ProfileKeyCheck}}
            END IF;
            IF lo = hi THEN
                INSERT INTO ade_token_devices AS c (token_id, devices) VALUES (lo, inserted)
                    ON CONFLICT (token_id) DO UPDATE SET devices = c.devices + excluded.devices;
            ELSE
                INSERT INTO ade_token_devices AS c (token_id, devices)
                    SELECT token_id, count(*) FROM ade_new_device GROUP BY token_id ORDER BY token_id
                    ON CONFLICT (token_id) DO UPDATE SET devices = c.devices + excluded.devices;
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER device_insert AFTER INSERT ON device REFERENCING NEW TABLE AS ade_new_device
            FOR EACH STATEMENT EXECUTE FUNCTION ade_device_inserted();
        """,

        // 12 (as Schema migration 12): the devices removed from ABM per token, which Apple no longer delivers: a partial index that holds only them
        // (a handful per token), so the token list counts them at no cost and a scheduler's -IfDue answer estimates
        // Apple's delivery time from the devices still in ABM, as a sync result and Get-AdeSyncStatus do.
        "CREATE INDEX device_removed ON device (token_id) WHERE removed_at IS NOT NULL;",

        // 13 (as Schema migration 13): a sync's history may end 'Stopped'; no table changes, the version moves so that
        // a module of schema 12 refuses the store instead of failing on a status it does not know.
        "SELECT 1;",

        // 14 (as Schema migration 14): an account's most devices per activity, set or learned from Apple's refusal.
        "ALTER TABLE business_account ADD COLUMN devices_per_activity BIGINT NULL;",

        // 15 (as Schema migration 15): the Retry-After of an account's writes, apart from that of its reads.
        "ALTER TABLE business_account ADD COLUMN post_blocked_until BIGINT NULL;",
    ];

    /// <summary>
    /// The device -> profile key's check of the rows in transition table ade_new_device (migration 11), in a trigger
    /// function that declares <c>missing TEXT</c>: the rows' profiles locked FOR KEY SHARE, then the first that does not
    /// exist raised as the foreign key's violation.
    /// </summary>
    private const string ProfileKeyCheck = """
                PERFORM 1 FROM profile WHERE id IN (SELECT profile_id FROM ade_new_device WHERE profile_id IS NOT NULL) FOR KEY SHARE;
                SELECT n.profile_id INTO missing FROM (SELECT DISTINCT profile_id FROM ade_new_device WHERE profile_id IS NOT NULL) n
                    WHERE NOT EXISTS (SELECT 1 FROM profile p WHERE p.id = n.profile_id) LIMIT 1;
                IF missing IS NOT NULL THEN
                    RAISE EXCEPTION 'insert or update on table "device" violates foreign key constraint "device_profile_id_fkey"'
                        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'device_profile_id_fkey', TABLE = 'device',
                              DETAIL = format('Key (profile_id)=(%s) is not present in table "profile".', missing);
                END IF;
        """;

    /// <summary>
    /// The provider's own tables, which are not store data: the version table and the device count per token (derived
    /// from the device table by triggers). The copy of a store leaves them out; SQLite has none of them.
    /// </summary>
    public static readonly IReadOnlyList<string> OwnTables = ["ade_schema", "ade_token_devices"];

    /// <summary>The version table, created with the first migration.</summary>
    public const string VersionTable = """
        CREATE TABLE ade_schema (
            application TEXT NOT NULL,
            version     INTEGER NOT NULL
        );
        """;

    public static int LatestVersion => Migrations.Count;
}
