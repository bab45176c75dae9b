using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Tokens;

public sealed class SetTokenTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    private void FailsUnchanged(string errorId, SetTokenArgs args)
    {
        var before = store.Snapshot();
        AdeAssert.Throws(errorId, () => store.Tokens.SetToken(args));
        Assert.Equal(before, store.Snapshot());
    }

    [Theory]
    [InlineData("https://mdm.contoso.com/enroll\r\nX-Injected: 1")]
    [InlineData("https://mdm.contoso.com/\u001b[2Jenroll")]
    [InlineData("https://mdm.contoso.com/\u202eenroll")]
    public void AnEnrollmentUrlWithControlOrFormatCharacters_IsArgumentInvalid_EchoedSafely_AndNothingChanges(string url)
    {
        store.AddToken("Contoso");
        var before = store.Snapshot();
        var e = Assert.Throws<AdeException>(() => store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: url)));
        Assert.Equal("ArgumentInvalid", e.ErrorId);
        Assert.Contains("control or invisible formatting characters", e.Message, StringComparison.Ordinal);
        Assert.False(SafeText.HasUnsafe(e.Message)); // the value is shown with U+FFFD in place of the character
        Assert.False(SafeText.HasUnsafe(e.Target as string));
        Assert.Equal(before, store.Snapshot());
    }

    [Theory]
    [InlineData("https://admin:hunter2@mdm.contoso.com/enroll?key=s3cret", "holds a user name or password")]
    [InlineData("http://admin:hunter2@mdm.contoso.com/enroll?key=s3cret", "absolute https:// URL")]
    [InlineData("https://mdm.contoso.com/enroll?key=s3cret&pad=", "characters long")]
    public void AnEnrollmentUrlWithCredentialsOrTooLong_IsRefused_WithoutShowingItsSecrets(string url, string reason)
    {
        store.AddToken("Contoso");
        var before = store.Snapshot();
        if (url.EndsWith("pad=", StringComparison.Ordinal)) url += new string('a', TokenService.MaxEnrollmentUrlLength);
        var e = Assert.Throws<AdeException>(() => store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: url)));
        Assert.Equal(("ArgumentInvalid", AdeErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains("mdm.contoso.com/enroll", e.Message, StringComparison.Ordinal);
        foreach (var secret in new[] { "hunter2", "s3cret", "admin" })
        {
            Assert.DoesNotContain(secret, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, e.Target as string ?? "", StringComparison.Ordinal);
        }

        Assert.Equal(before, store.Snapshot());
        var longest = "https://mdm.contoso.com/" + new string('a', TokenService.MaxEnrollmentUrlLength - "https://mdm.contoso.com/".Length);
        Assert.Equal(longest, store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: longest))!.EnrollmentUrl);
    }

    [Fact]
    public void AnEnrollmentUrlIsStoredPercentEncoded_SoAnEncodedBidiOverrideNeverBecomesText()
    {
        store.AddToken("Contoso");
        var token = store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: "https://mdm.contoso.example/enroll?x=%E2%80%AEabc"))!;
        Assert.False(SafeText.HasUnsafe(token.EnrollmentUrl));
        Assert.Contains("%E2%80%AE", token.EnrollmentUrl, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AHugeValueIsShownCutShortWithItsLength_NotRepeatedInFull()
    {
        store.AddToken("Contoso");
        var huge = new string('x', 100_000);
        var notFound = AdeAssert.Throws("TokenNotFound", () => store.Tokens.SetToken(new SetTokenArgs(huge, ScopeTags: ["a"])));
        Assert.True(notFound.Message.Length < 400, notFound.Message.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("(100,000 characters)", notFound.Message, StringComparison.Ordinal);
        var tag = AdeAssert.Throws("ArgumentInvalid", () => store.Tokens.SetToken(new SetTokenArgs("Contoso", ScopeTags: [huge])));
        Assert.True(tag.Message.Length < 400);
        Assert.Contains("a scope tag is 1 to 128 characters", tag.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryCataloguedErrorShowsAnEchoedValueSafely()
    {
        var e = Assert.Throws<AdeException>(() => store.Tokens.SetToken(new SetTokenArgs("No \u001b[31mtoken\u001b[0m", ScopeTags: ["x"])));
        Assert.Equal("TokenNotFound", e.ErrorId);
        Assert.Contains("No \ufffd[31mtoken\ufffd[0m", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', e.Message);
        Assert.DoesNotContain('\u001b', (string)e.Target!);
    }

    [Fact]
    public void Rename_ChangesTheNameEverywhere()
    {
        var added = store.AddToken("Contoso");
        store.Time.Advance(TimeSpan.FromHours(1));

        var token = store.Tokens.SetToken(new SetTokenArgs("Contoso", Name: "Contoso Schools"))!;

        Assert.Equal("Contoso Schools", token.Name);
        Assert.Equal(added.Token.Id, token.Id);
        Assert.Equal(store.Now, token.ModifiedAt);
        Assert.Empty(store.Tokens.GetTokens(name: "Contoso"));
        Assert.Single(store.Tokens.GetTokens(name: "Contoso Schools"));
        Assert.Equal("Contoso Schools", store.Tokens.GetRequests(added.Request.Id).Single().TokenName);
        Assert.Equal(added.Credentials.AccessSecret, store.Tokens.GetCredentials(token.Id).AccessSecret);
    }

    [Fact]
    public void Rename_OnlyTheCase_IsAllowed()
    {
        store.AddToken("contoso");

        Assert.Equal("Contoso", store.Tokens.SetToken(new SetTokenArgs("contoso", Name: "Contoso"))!.Name);
    }

    [Theory]
    [InlineData("Fabrikam")]
    [InlineData("FABRIKAM")]
    public void Rename_ToTheNameOfAnotherToken_IsTokenNameConflict(string name)
    {
        store.AddToken("Contoso");
        store.AddToken("Fabrikam");

        FailsUnchanged("TokenNameConflict", new SetTokenArgs("Contoso", Name: name));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" Contoso")]
    [InlineData("Contoso ")]
    public void Rename_ToAnInvalidName_IsArgumentInvalid(string name)
    {
        store.AddToken("Contoso");

        FailsUnchanged("ArgumentInvalid", new SetTokenArgs("Contoso", Name: name));
    }

    [Theory]
    [InlineData(new[] { " EU ", "eu", "Kiosks", "KIOSKS " }, new[] { "EU", "Kiosks" })]
    [InlineData(new[] { "Schools", "Default" }, new[] { "Schools", "Default" })]
    [InlineData(new string[0], new[] { "Default" })]
    public void ScopeTags_AreTrimmedDeduplicatedAndDefaulted(string[] given, string[] expected)
    {
        store.AddToken("Contoso");

        var token = store.Tokens.SetToken(new SetTokenArgs("Contoso", ScopeTags: given))!;

        Assert.Equal(expected, token.ScopeTags);
        Assert.Equal(expected, store.Tokens.GetTokens(name: "Contoso").Single().ScopeTags);
    }

    [Fact]
    public void ScopeTags_OnANewToken_DefaultToDefault()
    {
        Assert.Equal(["Default"], store.AddToken("Contoso").Token.ScopeTags);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void ScopeTags_Empty_IsArgumentInvalid(string tag)
    {
        store.AddToken("Contoso");

        FailsUnchanged("ArgumentInvalid", new SetTokenArgs("Contoso", ScopeTags: ["EU", tag]));
    }

    [Fact]
    public void EnrollmentUrl_IsSetAndValidated()
    {
        store.AddToken("Contoso");

        Assert.Equal("https://mdm.contoso.com/enroll", store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: "https://mdm.contoso.com/enroll"))!.EnrollmentUrl);
        FailsUnchanged("ArgumentInvalid", new SetTokenArgs("Contoso", EnrollmentUrl: "http://mdm.contoso.com/enroll"));
    }

    [Fact]
    public void ShouldProcessDeclined_ChangesNothing()
    {
        store.AddToken("Contoso");
        var before = store.Snapshot();
        store.Host.ShouldProcessCalls.Clear();
        store.Host.ShouldProcessAnswer = false;

        Assert.Null(store.Tokens.SetToken(new SetTokenArgs("Contoso", Name: "Renamed", ScopeTags: ["EU"], EnrollmentUrl: "https://mdm.contoso.com/"))); // -WhatIf: nothing to pass on
        Assert.Equal(before, store.Snapshot());
        var call = Assert.Single(store.Host.ShouldProcessCalls, c => c.Target == "Contoso");
        Assert.Contains("Renamed", call.Action, StringComparison.Ordinal);
    }

    [Fact]
    public void NothingToChange_DoesNotAskAndChangesNothing()
    {
        store.AddToken("Contoso");
        var asked = store.Host.ShouldProcessCalls.Count;
        var before = store.Snapshot();

        store.Tokens.SetToken(new SetTokenArgs("Contoso", Name: "Contoso"));

        Assert.Equal(asked, store.Host.ShouldProcessCalls.Count);
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void TheSameScopeTagsAndEnrollmentUrl_AreNothingToChange_NotAskedAndNotWritten()
    {
        store.AddToken("Contoso");
        store.Tokens.SetToken(new SetTokenArgs("Contoso", ScopeTags: ["Paris", "Lyon"], EnrollmentUrl: "https://mdm.contoso.example/enroll"));
        var asked = store.Host.ShouldProcessCalls.Count;
        var before = store.Snapshot(); // ModifiedAt included: it moved although nothing changed

        store.Time.Advance(TimeSpan.FromMinutes(1));
        store.Tokens.SetToken(new SetTokenArgs("Contoso", ScopeTags: ["Paris", "paris", "Lyon"], EnrollmentUrl: "https://mdm.contoso.example/enroll"));

        Assert.Equal(asked, store.Host.ShouldProcessCalls.Count);
        Assert.Equal(before, store.Snapshot());
        store.Tokens.SetToken(new SetTokenArgs("Contoso", ScopeTags: ["Lyon", "Paris"])); // another order is a change
        Assert.Equal(asked + 1, store.Host.ShouldProcessCalls.Count);
    }

    [Fact]
    public void Token_ById_IsFound()
    {
        var added = store.AddToken("Contoso");

        Assert.Equal("Renamed", store.Tokens.SetToken(new SetTokenArgs(added.Token.Id.ToString(), Name: "Renamed"))!.Name);
    }

    [Theory]
    [InlineData("Contoso [EU]")]
    [InlineData("Contoso*")]
    [InlineData("Contoso ?")]
    public void Token_WhoseNameHasWildcardCharacters_IsFoundByItsExactName(string name)
    {
        // Names come from ABM server names; brackets and such are allowed in them and the completer offers them as is.
        store.AddToken("Contoso EU");
        store.AddToken("Contoso E");
        store.AddToken(name);

        var token = store.Tokens.SetToken(new SetTokenArgs(name, ScopeTags: ["Literal"]))!;

        Assert.Equal(name, token.Name);
        Assert.Equal(["Default"], store.Tokens.GetTokens(name: "Contoso EU").Single().ScopeTags);
        Assert.Equal(["Default"], store.Tokens.GetTokens(name: "Contoso E").Single().ScopeTags);
    }
}
