using System.Text.Json;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.TestSupport;

/// <summary>
/// The plans PostgreSQL chooses for a table's own SQL: EXPLAIN (FORMAT JSON) of the exact statement, with the same
/// @named parameters, in a test store's schema. For tests that pin a statement's access path (an index probe per key)
/// whatever the planner statistics say; never a timing.
/// </summary>
public static class PostgresPlans
{
    /// <summary>One node of a plan: its type, the table and index it reads (if any), and its conditions as PostgreSQL prints them.</summary>
    public sealed record Node(string Type, string? Relation, string? Index, string? IndexCond, string? Filter, string? RecheckCond);

    /// <summary>Every node of the plan of <paramref name="sql"/> in <paramref name="schema"/>, depth first.</summary>
    public static IReadOnlyList<Node> Explain(TestPostgresSchema schema, string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { SearchPath = schema.Name }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name.TrimStart('@'), value ?? DBNull.Value);
        }

        using var json = JsonDocument.Parse((string)command.ExecuteScalar()!);
        var nodes = new List<Node>();
        Walk(json.RootElement[0].GetProperty("Plan"), nodes);
        return nodes;
    }

    /// <summary>The nodes of <paramref name="plan"/> that read table <paramref name="relation"/>.</summary>
    public static IReadOnlyList<Node> Reads(this IReadOnlyList<Node> plan, string relation)
        => [.. plan.Where(n => n.Relation == relation)];

    /// <summary>The plan as one line per node, for an assertion's message.</summary>
    public static string Describe(this IReadOnlyList<Node> plan)
        => string.Join(Environment.NewLine, plan.Select(n => $"{n.Type} {n.Relation} {n.Index} cond={Short(n.IndexCond)} filter={Short(n.Filter)} recheck={Short(n.RecheckCond)}"));

    // A page's array of serials would fill the message: the start of a condition says enough.
    private static string? Short(string? condition) => condition is { Length: > 160 } ? condition[..160] + "…" : condition;

    private static void Walk(JsonElement node, List<Node> nodes)
    {
        nodes.Add(new Node(node.GetProperty("Node Type").GetString()!, Text(node, "Relation Name"), Text(node, "Index Name"),
            Text(node, "Index Cond"), Text(node, "Filter"), Text(node, "Recheck Cond")));
        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                Walk(child, nodes);
            }
        }
    }

    private static string? Text(JsonElement node, string name) => node.TryGetProperty(name, out var value) ? value.GetString() : null;
}
