using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// Copy-AdeStore: every row of one store into an empty store of any provider (docs/architecture.md, "Store
/// providers"). It works below the services, on raw rows (<see cref="IStoreRows"/>): both providers have the same
/// tables and columns at the same schema version, so one generic row copy serves every table. Tables go in foreign-key
/// order; encrypted secrets are opened with the source's key and sealed again with the destination's. The whole copy is
/// one write transaction on the destination, read from one snapshot of the source: before it commits, every table is
/// read back and its row count, checksum and secrets compared with the source's; any difference rolls it all back.
/// </summary>
internal sealed class StoreCopy(AdeStore source, AdeStore destination, IAdeHost host)
{
    private const string Activity = "Copying the store";

    /// <summary>A column sealed under the store key, and the purpose (associated data) it was sealed for, from the row's id.</summary>
    private sealed record SecretColumn(string Column, Func<Guid, string> Purpose);

    /// <summary>A table the copy knows: its key (empty: ordered by every column) and its sealed columns.</summary>
    private sealed record TableSpec(string Name, string[] Key, params SecretColumn[] Secrets);

    /// <summary>Every table of the schema, parents before children. A table missing here is refused (StoreCopyUnknownTable).</summary>
    private static readonly TableSpec[] Tables =
    [
        new("meta", ["key"]),
        new("token_request", ["id"], new SecretColumn("private_key", SecretPurposes.TokenRequestPrivateKey)),
        new("token", ["id"], new SecretColumn("credentials", SecretPurposes.TokenCredentials)),
        new("profile", ["id"]),
        new("token_default_profile", ["token_id", "platform"]),
        new("device", ["token_id", "serial_number"]),
        new("device_event", ["id"]),
        new("sync_state", ["token_id"]),
        new("sync_history", ["id"]),
        new("business_account", ["id"], new SecretColumn("private_key", SecretPurposes.BusinessAccountPrivateKey)),
        new("business_activity", ["id"]),
        new("business_request", []),
        new("business_device_server", ["run_id", "serial_number"]),
    ];

    /// <summary>The tables the copy knows, in the order it writes them.</summary>
    internal static IReadOnlyList<string> TableNames => Tables.Select(t => t.Name).ToArray();

    /// <summary>Tests only: changes a row after its checksum was taken and before it is written, to prove verification.</summary>
    internal Action<string, IReadOnlyList<string>, object?[]>? BeforeInsert { get; init; }

    /// <summary>The key of this copy's secret digests (<see cref="TableHash"/>): random, never shown, gone with the copy.</summary>
    private readonly byte[] secretDigestKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>A table as both stores will see it: columns sorted by name (the checksum's order) and the sort key.</summary>
    private sealed record Plan(TableSpec Spec, StoreColumn[] Columns, StoreColumn[] OrderBy, (int Index, int Id, SecretColumn Secret)[] Secrets);

    public IReadOnlyList<AdeStoreCopyTable> Run()
    {
        if (string.Equals(source.Path, destination.Path, StringComparison.Ordinal))
        {
            throw ErrorCatalog.StoreCopySameStore(destination.Path);
        }

        // Open both keys before any transaction: a wrong key is reported before anything is read or written.
        _ = source.Secrets;
        _ = destination.Secrets;
        return source.StoreProvider.ReadRows(from =>
        {
            CheckVersion(from, source.Path, isSource: true);
            var plans = Plans(from, source.Path);
            return destination.StoreProvider.WriteRows(to =>
            {
                CheckVersion(to, destination.Path, isSource: false);
                var target = Plans(to, destination.Path);
                for (var i = 0; i < plans.Count; i++)
                {
                    if (!plans[i].Columns.Select(c => c.Name).SequenceEqual(target[i].Columns.Select(c => c.Name), StringComparer.Ordinal))
                    {
                        throw ErrorCatalog.StoreInvalid(destination.Path, $"its table {plans[i].Spec.Name} has other columns than the source's");
                    }

                    if (Canonical(plans[i], to).Any(_ => true))
                    {
                        throw ErrorCatalog.StoreCopyDestinationNotEmpty(destination.Path, plans[i].Spec.Name);
                    }
                }

                var copied = new (long Rows, TableDigest Digest)[plans.Count];
                for (var i = 0; i < plans.Count; i++)
                {
                    host.Cancellation.ThrowIfCancellationRequested();
                    host.WriteProgress(new AdeProgress(4, Activity, $"Table {plans[i].Spec.Name} ({i + 1} of {plans.Count})", i * 100 / plans.Count));
                    copied[i] = CopyTable(plans[i], from, to);
                    host.WriteVerbose($"Copied {copied[i].Rows} row(s) of table {plans[i].Spec.Name}.");
                }

                var results = new List<AdeStoreCopyTable>(plans.Count);
                for (var i = 0; i < plans.Count; i++)
                {
                    host.Cancellation.ThrowIfCancellationRequested();
                    host.WriteProgress(new AdeProgress(4, Activity, $"Verifying table {plans[i].Spec.Name} ({i + 1} of {plans.Count})", i * 100 / plans.Count));
                    var (rows, digest) = ReadBack(plans[i], to);
                    if (rows != copied[i].Rows)
                    {
                        throw ErrorCatalog.StoreCopyVerificationFailed(destination.Path, plans[i].Spec.Name, $"read back {rows} row(s) where {copied[i].Rows} were written");
                    }

                    if (!string.Equals(digest.Checksum, copied[i].Digest.Checksum, StringComparison.Ordinal))
                    {
                        throw ErrorCatalog.StoreCopyVerificationFailed(destination.Path, plans[i].Spec.Name, "read back with another checksum than the source's");
                    }

                    if (!CryptographicOperations.FixedTimeEquals(digest.Secrets, copied[i].Digest.Secrets))
                    {
                        throw ErrorCatalog.StoreCopyVerificationFailed(destination.Path, plans[i].Spec.Name, "read back with other secrets than the source's");
                    }

                    results.Add(new AdeStoreCopyTable
                    {
                        Table = plans[i].Spec.Name,
                        Rows = rows,
                        Checksum = digest.Checksum,
                        Verified = true,
                        Source = source.Path,
                        Destination = destination.Path,
                    });
                }

                host.WriteProgress(new AdeProgress(4, Activity, "Done", 100, Completed: true));
                return results;
            });
        });
    }

    private static void CheckVersion(IStoreRows rows, string location, bool isSource)
    {
        var version = rows.SchemaVersion();
        if (version != Schema.LatestVersion)
        {
            throw isSource && version < Schema.LatestVersion
                ? ErrorCatalog.StoreCopySchemaMismatch(location, version, Schema.LatestVersion, isSource: true)
                : ErrorCatalog.StoreCopySchemaMismatch(location, version, Schema.LatestVersion, isSource: false);
        }
    }

    /// <summary>The copy's plan of every table of <paramref name="rows"/>; refuses a table the copy does not know.</summary>
    private static List<Plan> Plans(IStoreRows rows, string location)
    {
        var present = rows.Tables();
        var unknown = present.FirstOrDefault(t => Tables.All(s => !string.Equals(s.Name, t, StringComparison.Ordinal)));
        if (unknown is not null)
        {
            throw ErrorCatalog.StoreCopyUnknownTable(location, unknown);
        }

        var plans = new List<Plan>(Tables.Length);
        foreach (var spec in Tables)
        {
            if (!present.Contains(spec.Name, StringComparer.Ordinal))
            {
                throw ErrorCatalog.StoreInvalid(location, $"its table {spec.Name} is missing");
            }

            var columns = rows.Columns(spec.Name).OrderBy(c => c.Name, StringComparer.Ordinal).ToArray();
            var orderBy = spec.Key.Length == 0 ? columns : spec.Key.Select(k => columns.Single(c => c.Name == k)).ToArray();
            var id = Array.FindIndex(columns, c => c.Name == "id");
            var secrets = spec.Secrets.Select(s => (Array.FindIndex(columns, c => c.Name == s.Column), id, s)).ToArray();
            plans.Add(new Plan(spec, columns, orderBy, secrets));
        }

        return plans;
    }

    /// <summary>The rows the copy takes of a table: all of them, but for meta the store's own key protection.</summary>
    private static IEnumerable<object?[]> Canonical(Plan plan, IStoreRows rows)
    {
        var all = rows.Rows(plan.Spec.Name, plan.Columns, plan.OrderBy);
        if (plan.Spec.Name != "meta")
        {
            return all;
        }

        var key = Array.FindIndex(plan.Columns, c => c.Name == "key");
        return all.Where(r => r[key] is not string k || !AdeStore.OwnMetaKeys.Contains(k));
    }

    private (long Rows, TableDigest Digest) CopyTable(Plan plan, IStoreRows from, IStoreRowWriter to)
    {
        using var hash = new TableHash(plan, secretDigestKey);
        var rows = to.Insert(plan.Spec.Name, plan.Columns, Reseal(Canonical(plan, from)));
        return (rows, hash.Finish());

        IEnumerable<object?[]> Reseal(IEnumerable<object?[]> rows)
        {
            foreach (var row in rows)
            {
                var plaintexts = new byte[plan.Secrets.Length][];
                try
                {
                    for (var s = 0; s < plan.Secrets.Length; s++)
                    {
                        var (index, id, secret) = plan.Secrets[s];
                        if (row[index] is byte[] sealedSecret)
                        {
                            var purpose = Purpose(plan, row, id, secret);
                            plaintexts[s] = source.Unseal(sealedSecret, purpose, Owner(plan, row, id),
                                "Connect to the source store with the key it was created with and repair or remove that row, then copy the store again.");
                            row[index] = destination.Secrets.Protect(plaintexts[s], purpose);
                        }
                    }

                    hash.Add(row, plaintexts);
                }
                finally
                {
                    foreach (var plaintext in plaintexts)
                    {
                        if (plaintext is not null)
                        {
                            Array.Clear(plaintext);
                        }
                    }
                }

                BeforeInsert?.Invoke(plan.Spec.Name, plan.Columns.Select(c => c.Name).ToArray(), row);
                yield return row;
            }
        }
    }

    private (long Rows, TableDigest Digest) ReadBack(Plan plan, IStoreRows to)
    {
        using var hash = new TableHash(plan, secretDigestKey);
        long count = 0;
        foreach (var row in Canonical(plan, to))
        {
            var plaintexts = new byte[plan.Secrets.Length][];
            try
            {
                for (var s = 0; s < plan.Secrets.Length; s++)
                {
                    var (index, id, secret) = plan.Secrets[s];
                    if (row[index] is byte[] sealedSecret)
                    {
                        try
                        {
                            plaintexts[s] = destination.Unseal(sealedSecret, Purpose(plan, row, id, secret), Owner(plan, row, id), "");
                        }
                        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.StoreSecretUnreadable))
                        {
                            throw ErrorCatalog.StoreCopyVerificationFailed(destination.Path, plan.Spec.Name, $"holds a secret ({secret.Column}) that does not open with the destination's key");
                        }
                    }
                }

                hash.Add(row, plaintexts);
                count++;
            }
            finally
            {
                foreach (var plaintext in plaintexts)
                {
                    if (plaintext is not null)
                    {
                        Array.Clear(plaintext);
                    }
                }
            }
        }

        return (count, hash.Finish());
    }

    /// <summary>The purpose a secret was sealed for, as its service seals it (a row id that is no GUID cannot hold one).</summary>
    private string Purpose(Plan plan, object?[] row, int id, SecretColumn secret)
        => row[id] is string text && Guid.TryParse(text, out var guid)
            ? secret.Purpose(guid)
            : throw ErrorCatalog.StoreSecretUnreadable(source.Path, Owner(plan, row, id), "Repair or remove that row in the source store, then copy the store again.");

    private static string Owner(Plan plan, object?[] row, int id) => $"the {plan.Spec.Name} row '{row[id]}'";

    /// <summary>What a table's rows come to: the checksum shown, and this copy's digest of its secrets.</summary>
    private sealed record TableDigest(string Checksum, byte[] Secrets);

    /// <summary>
    /// Two digests of a table's rows in key order, each value in one form whatever the provider (a type tag, then the
    /// integer (8 bytes, big-endian) or the length-prefixed UTF-8 text or bytes):
    /// - the checksum shown (SHA-256) covers every column, but of a sealed column only whether it holds a secret: a
    ///   digest of the secret itself would let whoever holds the checksum and the store test a guessed secret offline,
    ///   and its ciphertext differs under every key. So a store gives the same checksums whichever key protects it;
    /// - the secrets' digest (HMAC-SHA-256 under a key made for this copy, never shown) covers the decrypted secrets,
    ///   so a secret that reads back differently fails the copy all the same.
    /// </summary>
    private sealed class TableHash : IDisposable
    {
        private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IncrementalHash secrets;
        private readonly int[] secretOf;
        private readonly byte[] number = new byte[8];

        public TableHash(Plan plan, byte[] secretDigestKey)
        {
            secrets = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secretDigestKey);
            // For each column, the index of its entry in plan.Secrets, or -1.
            secretOf = plan.Columns.Select((_, i) => Array.FindIndex(plan.Secrets, s => s.Index == i)).ToArray();
            Text(hash, plan.Spec.Name);
            foreach (var column in plan.Columns)
            {
                Text(hash, column.Name);
            }
        }

        public void Add(object?[] row, byte[]?[] plaintexts)
        {
            for (var i = 0; i < row.Length; i++)
            {
                if (secretOf[i] >= 0 && plaintexts[secretOf[i]] is { } plaintext)
                {
                    hash.AppendData([5]);
                    Bytes(secrets, plaintext);
                    continue;
                }

                switch (row[i])
                {
                    case null:
                        hash.AppendData([0]);
                        break;
                    case long n:
                        hash.AppendData([1]);
                        BinaryPrimitives.WriteInt64BigEndian(number, n);
                        hash.AppendData(number);
                        break;
                    case string s:
                        hash.AppendData([2]);
                        Text(hash, s);
                        break;
                    case byte[] b:
                        hash.AppendData([3]);
                        Bytes(hash, b);
                        break;
                    case var value:
                        hash.AppendData([4]);
                        Text(hash, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
                        break;
                }
            }

            // Row boundaries in the secrets' digest too, so the same secrets on other rows do not digest alike.
            secrets.AppendData([6]);
        }

        private void Text(IncrementalHash to, string text) => Bytes(to, Encoding.UTF8.GetBytes(text));

        private void Bytes(IncrementalHash to, byte[] bytes)
        {
            BinaryPrimitives.WriteInt64BigEndian(number, bytes.Length);
            to.AppendData(number);
            to.AppendData(bytes);
        }

        public TableDigest Finish() => new(Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant(), secrets.GetHashAndReset());

        public void Dispose()
        {
            hash.Dispose();
            secrets.Dispose();
        }
    }
}
