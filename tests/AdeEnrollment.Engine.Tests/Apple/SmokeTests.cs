using AdeEnrollment.Engine.Tests.Support;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Apple;

public sealed class SmokeTests
{
    [Fact]
    public async Task AccountThroughTheSimulator()
    {
        using var f = new SimulatorFixture();
        var account = await f.Client().GetAccountAsync();
        Assert.Equal("Contoso iPhones", account.ServerName);
        Assert.Equal("Contoso Ltd", account.OrgName);
    }
}
