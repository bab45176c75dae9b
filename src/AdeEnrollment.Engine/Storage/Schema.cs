namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// Versioned schema migrations. Migration N brings a store from version N-1 to N; each runs in the same
/// transaction as the bump of <c>PRAGMA user_version</c>. Never edit a migration that has shipped: add one.
/// </summary>
internal static class Schema
{
    /// <summary>'ADE1' — marks a SQLite file as an AdeEnrollment store (PRAGMA application_id).</summary>
    public const int ApplicationId = 0x41444531;

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
            created_at      INTEGER NOT NULL,
            thumbprint      TEXT NOT NULL,
            certificate_pem TEXT NOT NULL,
            private_key     BLOB NOT NULL,       -- PKCS#8, AES-256-GCM under the store key
            token_id        TEXT NULL            -- set when a token was made from this request
        );
        CREATE TABLE token (
            id              TEXT PRIMARY KEY,
            name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
            apple_id        TEXT NOT NULL,
            consumer_key_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the OAuth consumer key (the key itself is in credentials)
            credentials     BLOB NOT NULL,       -- OAuth secrets, AES-256-GCM under the store key
            expires_at      INTEGER NOT NULL,
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
            created_at      INTEGER NOT NULL,
            modified_at     INTEGER NOT NULL
        );
        CREATE TABLE profile (
            id              TEXT PRIMARY KEY,
            token_id        TEXT NOT NULL REFERENCES token(id),
            name            TEXT NOT NULL COLLATE NOCASE,
            settings        TEXT NOT NULL,
            apple_profile_uuid TEXT NULL,
            created_at      INTEGER NOT NULL,
            modified_at     INTEGER NOT NULL,
            UNIQUE (token_id, name)
        );
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
            profile_assign_time INTEGER NULL,
            profile_push_time   INTEGER NULL,
            device_assigned_date INTEGER NULL,
            device_assigned_by  TEXT NULL,
            removed_at      INTEGER NULL,
            purge_after     INTEGER NULL,
            updated_at      INTEGER NOT NULL,
            PRIMARY KEY (token_id, serial_number)
        ) WITHOUT ROWID;
        CREATE INDEX device_serial ON device (serial_number);
        CREATE INDEX device_profile ON device (profile_id);
        """,

        // 2: device sync — per-token sync state (cursor, lease) and history; device bookkeeping for sync.
        """
        CREATE TABLE sync_state (
            token_id            TEXT PRIMARY KEY REFERENCES token(id) ON DELETE CASCADE,
            cursor              TEXT NULL,       -- Apple cursor of the last committed page
            cursor_kind         TEXT NULL,       -- 'fetch' (a full fetch in progress) or 'sync' (delta)
            full_sync_id        INTEGER NULL,    -- sync_history.id of the full fetch the fetch cursor belongs to
            last_started_at     INTEGER NULL,
            last_success_at     INTEGER NULL,
            last_full_at        INTEGER NULL,
            next_must_be_full   INTEGER NOT NULL DEFAULT 0,
            lease_id            TEXT NULL,
            lease_expires_at    INTEGER NULL,
            lease_history_id    INTEGER NULL
        );
        CREATE TABLE sync_history (
            id                  INTEGER PRIMARY KEY AUTOINCREMENT,
            token_id            TEXT NOT NULL REFERENCES token(id) ON DELETE CASCADE,
            kind                TEXT NOT NULL,
            trigger_kind        TEXT NOT NULL,
            status              TEXT NOT NULL,   -- Running, Succeeded, Failed (Stopped since migration 13)
            started_at          INTEGER NOT NULL,
            finished_at         INTEGER NULL,
            added               INTEGER NOT NULL DEFAULT 0,
            modified            INTEGER NOT NULL DEFAULT 0,
            removed             INTEGER NOT NULL DEFAULT 0,
            purged              INTEGER NOT NULL DEFAULT 0,
            default_assigned    INTEGER NOT NULL DEFAULT 0,
            pages               INTEGER NOT NULL DEFAULT 0,
            error_id            TEXT NULL,
            error_message       TEXT NULL
        );
        CREATE INDEX sync_history_token ON sync_history (token_id, id);
        ALTER TABLE device ADD COLUMN last_seen_sync INTEGER NULL;
        ALTER TABLE device ADD COLUMN last_op_date INTEGER NULL;
        ALTER TABLE device ADD COLUMN first_seen_sync INTEGER NULL;
        ALTER TABLE device ADD COLUMN assign_failed_at INTEGER NULL;  -- Apple answered FAILED: no retry for 24 h
        ALTER TABLE profile ADD COLUMN apple_defined_hash TEXT NULL;   -- settings hash last defined at Apple
        CREATE INDEX device_purge ON device (purge_after) WHERE purge_after IS NOT NULL;
        """,

        // 3: platforms — a default profile per platform per token; every existing profile becomes an iOS profile that
        // keeps sending await_device_configured = true (what every profile sent before it was a setting), and every
        // existing default becomes the iOS default. token.default_profile_id is no longer used.
        """
        CREATE TABLE token_default_profile (
            token_id    TEXT NOT NULL REFERENCES token(id) ON DELETE CASCADE,
            platform    TEXT NOT NULL,           -- iOS, macOS, tvOS, visionOS
            profile_id  TEXT NOT NULL REFERENCES profile(id),
            PRIMARY KEY (token_id, platform)
        ) WITHOUT ROWID;
        CREATE INDEX token_default_profile_profile ON token_default_profile (profile_id);
        INSERT INTO token_default_profile (token_id, platform, profile_id)
            SELECT id, 'iOS', default_profile_id FROM token WHERE default_profile_id IS NOT NULL;
        UPDATE token SET default_profile_id = NULL;
        UPDATE profile SET settings = json_set(settings, '$.Platform', coalesce(json_extract(settings, '$.Platform'), 'iOS'),
                                                         '$.AwaitFinalConfiguration', json('true'));
        """,

        // 4: Apple Business / School API accounts (private key encrypted) and the device activities sent with them.
        """
        CREATE TABLE business_account (
            id              TEXT PRIMARY KEY,
            client_id       TEXT NOT NULL UNIQUE COLLATE NOCASE,
            key_id          TEXT NOT NULL,
            scope           TEXT NOT NULL,       -- business.api or school.api (from the client ID prefix)
            private_key     BLOB NOT NULL,       -- PKCS#8 P-256, AES-256-GCM under the store key
            token_uri       TEXT NOT NULL,
            service_uri     TEXT NOT NULL,
            created_at      INTEGER NOT NULL
        );
        CREATE TABLE business_activity (
            id              TEXT PRIMARY KEY,    -- Apple's orgDeviceActivities id
            account_id      TEXT NOT NULL REFERENCES business_account(id) ON DELETE CASCADE,
            activity_type   TEXT NOT NULL,       -- ASSIGN_DEVICES, UNASSIGN_DEVICES, RELEASE_DEVICES
            server_id       TEXT NULL,
            server_name     TEXT NULL,
            token_id        TEXT NULL,
            device_count    INTEGER NOT NULL,
            serials         TEXT NOT NULL,       -- JSON array
            status          TEXT NOT NULL,
            sub_status      TEXT NULL,
            results         TEXT NULL,           -- JSON [{serial,status,detail}] from the activity log
            created_at      INTEGER NOT NULL,
            completed_at    INTEGER NULL,
            checked_at      INTEGER NULL
        );
        CREATE INDEX business_activity_account ON business_activity (account_id, created_at);
        """,
        // 5: device actions: the change journal, device properties from Apple, the last assignment attempt, and a
        // token's "terms not accepted" state (docs/architecture.md "Device journal and health").
        """
        CREATE TABLE device_event (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            token_id        TEXT NOT NULL,
            serial_number   TEXT NOT NULL,
            at              INTEGER NOT NULL,
            kind            TEXT NOT NULL,   -- Added, Modified, DeletedFromAbm, ProfileAssigned, AssignmentFailed, ...
            detail          TEXT NULL        -- Modified: the changed fields; assignments: the profile and Apple's answer
        );
        CREATE INDEX device_event_token ON device_event (token_id, id);
        CREATE INDEX device_event_serial ON device_event (serial_number, id);
        CREATE INDEX device_event_at ON device_event (at);
        ALTER TABLE device ADD COLUMN mdm_migration_deadline INTEGER NULL;
        ALTER TABLE device ADD COLUMN is_replacement_device INTEGER NULL;
        ALTER TABLE device ADD COLUMN last_attempt_at INTEGER NULL;
        ALTER TABLE device ADD COLUMN last_attempt_profile TEXT NULL;
        ALTER TABLE device ADD COLUMN last_attempt_result TEXT NULL;
        ALTER TABLE device ADD COLUMN released_at INTEGER NULL;
        ALTER TABLE token ADD COLUMN terms_not_signed_at INTEGER NULL;
        """,
        // 6: Apple's request budget of a Business API account, shared by every process of the store: the requests sent
        // in the current window, the time a 429 Retry-After asked to wait until, and the budget the user set for the
        // account (null: the engine's default). The serial -> server index of one inventory read (dropped after it).
        """
        ALTER TABLE business_account ADD COLUMN blocked_until INTEGER NULL;
        ALTER TABLE business_account ADD COLUMN gets_per_minute INTEGER NULL;
        ALTER TABLE business_account ADD COLUMN posts_per_hour INTEGER NULL;
        CREATE TABLE business_device_server (
            run_id          TEXT NOT NULL,
            serial_number   TEXT NOT NULL COLLATE NOCASE,
            server_id       TEXT NOT NULL,
            created_at      INTEGER NOT NULL,
            PRIMARY KEY (run_id, serial_number)
        ) WITHOUT ROWID;
        CREATE TABLE business_request (
            account_id      TEXT NOT NULL REFERENCES business_account(id) ON DELETE CASCADE,
            method          TEXT NOT NULL,   -- GET or POST
            at              INTEGER NOT NULL
        );
        CREATE INDEX business_request_account ON business_request (account_id, method, at);
        """,
        // 7: the device -> profile index holds only devices that have a profile. A device without one (every device a
        // full sync brings in before it is assigned) then costs no entry in it; every query of it names a profile
        // (profile_id = ...), which the partial index answers.
        """
        DROP INDEX device_profile;
        CREATE INDEX device_profile ON device (profile_id) WHERE profile_id IS NOT NULL;
        """,

        // 8: PostgreSQL only (its journal's serial index becomes a hash index, its device -> token key is checked once
        // per statement: see PostgresSchema migration 8). SQLite keeps its tables and indexes; the version moves so that
        // both providers keep the same numbers.
        "SELECT 1;",

        // 9: PostgreSQL only (its count of devices per token, kept by triggers: see PostgresSchema migration 9). SQLite
        // counts a token's devices on its covering (token_id, serial_number) key; the version moves with PostgreSQL's.
        "SELECT 1;",

        // 10: serials are found through their token; no index is serial-first. Apple's serials arrive in random order, so
        // a serial-first index took one random leaf per row written: a sync of a token's 100 devices rewrote ~200 such
        // pages (device_serial, device_event_serial) and a scheduler's pass over 2,000 tokens spent most of its time on
        // them. The journal gets (token_id, serial_number, id); the device key is already (token_id, serial_number). A
        // lookup by serial alone probes each token (docs/architecture.md "Serial lookups").
        """
        DROP INDEX device_event_serial;
        CREATE INDEX device_event_token_serial ON device_event (token_id, serial_number, id);
        DROP INDEX device_serial;
        """,

        // 11: PostgreSQL only (its device -> profile key is checked once per statement: see PostgresSchema migration 11).
        // SQLite checks its key in process at little cost; the version moves with PostgreSQL's.
        "SELECT 1;",

        // 12: the devices removed from ABM per token, which Apple no longer delivers: a partial index that holds only them
        // (a handful per token), so the token list counts them at no cost and a scheduler's -IfDue answer estimates
        // Apple's delivery time from the devices still in ABM, as a sync result and Get-AdeSyncStatus do.
        "CREATE INDEX device_removed ON device (token_id) WHERE removed_at IS NOT NULL;",

        // 13: a sync's history may end 'Stopped' (Ctrl+C or a stopped pipeline: not a failure, no recovery full sync
        // follows). No table changes; the version moves so that a module of schema 12, which does not know the status,
        // refuses the store instead of failing on its history.
        "SELECT 1;",

        // 14: the most devices one device activity of a Business API account may carry: set by the admin, or learned when
        // Apple refused a larger activity (Apple documents no number). Null: the engine's default (1,000).
        "ALTER TABLE business_account ADD COLUMN devices_per_activity INTEGER NULL;",

        // 15: a 429 to a write (a device activity, a server change) holds back writes only: the Retry-After of writes has
        // a column of its own, and blocked_until is that of reads. Apple's budgets for the two differ by far (about 20
        // reads a minute, 10 writes an hour), and a write's long Retry-After stopped every inventory read with it.
        "ALTER TABLE business_account ADD COLUMN post_blocked_until INTEGER NULL;",
    ];

    public static int LatestVersion => Migrations.Count;
}
