using System.Net;
using System.Text;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Hostile;

/// <summary>
/// Names the user gives may not hold control characters; the service address must be Apple's or loopback unless
/// explicitly allowed; the simulator bounds what it accepts (docs/security-apple.md).
/// </summary>
public sealed class InputTrustTests : IDisposable
{
    private static readonly ProfileSettings User = new() { UserAffinity = UserAffinity.WithUserAffinity };
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    [Theory]
    [InlineData("Evil\u001b[2J")]
    [InlineData("Two\nLines")]
    [InlineData("Bell\u0007")]
    [InlineData("Right\u202Eto left")]
    [InlineData("Zero\u200Bwidth")]
    [InlineData("C1\u009Bcsi")]
    [InlineData("Lone high {D800}")]
    [InlineData("{DC00} lone low")]
    [InlineData("Swapped {DE00}{D83D}")]
    public void Names_with_control_characters_are_refused_everywhere_a_name_is_given(string name)
    {
        name = WithSurrogates(name);
        var token = store.AddToken("Plain").Token;
        var before = store.Snapshot();
        AdeAssert.Throws("NameInvalid", () => store.Tokens.SetToken(new SetTokenArgs("Plain", Name: name)));
        var request = store.SeedRequest();
        var file = store.AbmTokenFile(request, store.Credentials());
        AdeAssert.Throws("NameInvalid", () => store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, "admin@contoso.com", name)));
        AdeAssert.Throws("NameInvalid", () => store.Engine.Profiles.New(token.Id.ToString(), name, User));
        store.Engine.Profiles.New(token.Id.ToString(), "Staff", User);
        AdeAssert.Throws("NameInvalid", () => store.Engine.ProfileChanges.Set("Staff", token.Id.ToString(), name, new ProfileSettings()));
        Assert.DoesNotContain(name, store.Snapshot(), StringComparison.Ordinal);
        Assert.NotEqual(before, store.Snapshot()); // only the good profile was added
    }

    /// <summary>Half a surrogate pair cannot travel in test data (it arrives as U+FFFD): written as {D800} and made here.</summary>
    private static string WithSurrogates(string text)
        => System.Text.RegularExpressions.Regex.Replace(text, "{(D[89A-F][0-9A-F]{2})}", m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString());

    [Fact]
    public void A_name_with_a_whole_surrogate_pair_is_a_name_like_any_other()
    {
        store.AddToken("Plain");
        Assert.Equal("Pager \U0001F4DF", store.Tokens.SetToken(new SetTokenArgs("Plain", Name: "Pager \U0001F4DF"))!.Name);
    }

    [Theory]
    [InlineData("Red\u001b[31m")]
    [InlineData("Two\nLines")]
    [InlineData("Right\u202Eto left")]
    [InlineData("Lone {D800}")]
    [InlineData("Finance;HR")]
    public void Scope_tags_that_could_rewrite_a_listing_or_split_in_a_csv_are_refused_and_change_nothing(string tag)
    {
        tag = WithSurrogates(tag);
        store.AddToken("Plain");
        var before = store.Snapshot();
        var ex = AdeAssert.Throws("ArgumentInvalid", () => store.Tokens.SetToken(new SetTokenArgs("Plain", ScopeTags: ["Default", tag])));
        Assert.StartsWith("-ScopeTag '", ex.Message, StringComparison.Ordinal);
        Assert.Contains("';', control characters or invisible formatting characters", ex.Message, StringComparison.Ordinal);
        Assert.False(Rules.TextRules.HasUnsafe(ex.Message));
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void A_profile_setting_error_shows_a_long_value_shortened()
    {
        var token = store.AddToken("Plain").Token;
        var ex = AdeAssert.Throws("ProfileSettingInvalid", () => store.Engine.Profiles.New(token.Id.ToString(), new string('a', 100_000), User));
        Assert.True(ex.Message.Length < 1_000, ex.Message.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("(100,000 characters)", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://mdmenrollment.apple.com/", true)]
    [InlineData("https://sandbox.mdmenrollment.apple.com/", true)]
    [InlineData("http://127.0.0.1:8080/", true)]
    [InlineData("https://localhost:8443/", true)]
    [InlineData("https://mdmenrollment.apple.com.evil.example/", false)]
    [InlineData("https://evil.example/", false)]
    [InlineData("https://apple.com@evil.example/", false)]
    public void Only_Apple_and_loopback_are_service_addresses_without_the_switch(string uri, bool accepted)
    {
        var request = store.SeedRequest();
        var file = store.AbmTokenFile(request, store.Credentials());
        var args = new NewTokenArgs(request.Id.ToString(), file, "admin@contoso.com", "T", ServiceUri: new Uri(uri));
        if (accepted)
        {
            Assert.NotNull(store.Tokens.NewToken(args));
            return;
        }

        var before = store.Snapshot();
        var ex = Assert.Throws<Errors.AdeException>(() => store.Tokens.NewToken(args));
        Assert.Contains(ex.ErrorId, new[] { "ServiceUriNotApple", "ArgumentInvalid" });
        Assert.Equal(before, store.Snapshot());
        if (ex.ErrorId == "ServiceUriNotApple")
        {
            Assert.Equal(uri.TrimEnd('/') + "/", store.Tokens.NewToken(args with { AllowNonAppleServiceUri = true })!.ServiceUri.ToString());
            Assert.Contains(store.Host.Warnings, w => w.Contains("not Apple's ADE service", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_simulator_refuses_an_oversized_request_body_with_413()
    {
        using var f = new SimulatorFixture();
        using var http = new HttpClient();
        var body = new ByteArrayContent(Encoding.ASCII.GetBytes("{\"devices\":[\"" + new string('A', 2 * 1024 * 1024) + "\"]}"));
        try
        {
            using var response = await http.PostAsync(new Uri(f.Simulator.Uri, "devices"), body);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        catch (HttpRequestException)
        {
            // The simulator answers from the Content-Length without reading the body; a client still uploading may
            // see the connection closed before it reads the 413. The log below says what the simulator answered.
        }

        Assert.Contains(f.Simulator.GetRequests("/devices"), r => r.StatusCode == 413);
    }

    [Fact]
    public async Task The_simulator_can_serve_pages_smaller_than_asked()
    {
        using var f = new SimulatorFixture();
        f.Simulator.AddDevices(f.ServerName, 12);
        f.Simulator.PageSizeCap = 5;
        var page = await f.Client().FetchDevicesAsync(null, 1000);
        Assert.Equal(5, page.Devices.Count);
        Assert.True(page.MoreToFollow);
    }
}
