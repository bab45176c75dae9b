using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.Storage.Postgres;

/// <summary>
/// A batch's column travels as the text of a PostgreSQL array in one untyped parameter (PostgresExtensions.Command):
/// every value must come back from the server exactly as sent, whatever characters it holds, and nulls as nulls.
/// </summary>
public sealed class PostgresArrayTextTests : IDisposable
{
    private static readonly string?[] Awkward =
    [
        "C02XK1ZZJGH5", "", " ", "  padded  ", "NULL", "null", null, "a,b", "{braces}", "\"quoted\"", "back\\slash", "\\\"",
        "tab\there", "new\nline", "carriage\r", "ünïcødé ✓", "emoji 📱", "semi;colon", "'single'", "trailing\\", null,
    ];

    private readonly TestPostgresSchema schema = new();

    public void Dispose() => schema.Dispose();

    [Fact]
    public void Text_IsTheArrayLiteral_EveryValueQuoted_NullsBare()
        => Assert.Equal("""{"a",NULL,"x\"y\\z",""}""", PostgresArrayText.Of(["a", null, "x\"y\\z", ""]));

    [Fact]
    public void Numbers_AreTheArrayLiteral()
    {
        Assert.Equal("{1,NULL,-42}", PostgresArrayText.Of([1L, null, -42L]));
        Assert.Equal("{}", PostgresArrayText.Of(Array.Empty<long?>()));
    }

    [Fact]
    public void TextValues_ComeBackFromTheServer_AsSent_InOrder()
    {
        using var connection = schema.Connect();
        using var command = connection.Command(null, "SELECT u.v FROM unnest(@a::text[]) WITH ORDINALITY AS u(v, n) ORDER BY u.n", ("a", Awkward));
        Assert.Equal(Awkward, Read<string?>(command));
    }

    [Fact]
    public void NumberValues_ComeBackFromTheServer_AsSent_FromAnArrayOfEitherKind()
    {
        using var connection = schema.Connect();
        long?[] nullable = [long.MinValue, -1, 0, null, 1, long.MaxValue];
        using (var command = connection.Command(null, "SELECT u.v FROM unnest(@a::bigint[]) WITH ORDINALITY AS u(v, n) ORDER BY u.n", ("a", nullable)))
        {
            Assert.Equal(nullable, Read<long?>(command));
        }

        long[] plain = [7, -7, 1_700_000_000_000];
        using (var command = connection.Command(null, "SELECT u.v FROM unnest(@a::bigint[]) WITH ORDINALITY AS u(v, n) ORDER BY u.n", ("a", plain)))
        {
            Assert.Equal(plain.Select(v => (long?)v), Read<long?>(command));
        }
    }

    [Fact]
    public void AnUntypedArray_TakesTheTypeOfWhatItIsComparedWith_AndAnEmptyOneMatchesNothing()
    {
        using var connection = schema.Connect();
        using (var command = connection.Command(null, "SELECT v FROM (VALUES ('a,b'), ('x'), ('back\\slash'), ('NULL')) AS t(v) WHERE v = ANY(@a) ORDER BY v", ("a", Awkward)))
        {
            Assert.Equal(["NULL", "a,b", "back\\slash"], Read<string?>(command).Order(StringComparer.Ordinal));
        }

        using (var command = connection.Command(null, "SELECT count(*) FROM (VALUES ('a')) AS t(v) WHERE v = ANY(@a)", ("a", Array.Empty<string>())))
        {
            Assert.Equal(0L, (long)command.ExecuteScalar()!);
        }
    }

    private static List<T> Read<T>(NpgsqlCommand command)
    {
        using var reader = command.ExecuteReader();
        var values = new List<T>();
        while (reader.Read())
        {
            values.Add(reader.IsDBNull(0) ? default! : reader.GetFieldValue<T>(0));
        }

        return values;
    }
}
