using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>The Business table contract on PostgreSQL (the serial → server index pages go in and out as arrays).</summary>
public sealed class PostgresBusinessTableContract : BusinessTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();
}
