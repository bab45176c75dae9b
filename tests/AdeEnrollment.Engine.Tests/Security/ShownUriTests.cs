using AdeEnrollment.Engine.Rules;

namespace AdeEnrollment.Engine.Tests.Security;

/// <summary>An address the user gave is shown back in messages without what can carry a secret.</summary>
public sealed class ShownUriTests
{
    [Theory]
    [InlineData("https://svc:P4ssw0rd@proxy.corp.example/ade?key=Q5ecret#F7rag", "https://proxy.corp.example/ade")]
    [InlineData("http://svc:P4ssw0rd@127.0.0.1:8080/", "http://127.0.0.1:8080/")]
    [InlineData("https://mdmenrollment.apple.com/", "https://mdmenrollment.apple.com/")]
    [InlineData("ftp://user:P4ssw0rd@files.example/", "ftp:…")]
    [InlineData("svc:P4ssw0rd@proxy.corp.example", "svc:…")]
    public void Keeps_scheme_host_port_and_path_only(string given, string shown)
    {
        var text = TextRules.ShownUri(new Uri(given, UriKind.RelativeOrAbsolute));

        Assert.Equal(shown, text);
        Assert.DoesNotContain("P4ssw0rd", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Q5ecret", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relative_address_is_not_echoed()
        => Assert.Equal("(a relative address)", TextRules.ShownUri(new Uri("P4ssw0rd@proxy", UriKind.Relative)));
}
