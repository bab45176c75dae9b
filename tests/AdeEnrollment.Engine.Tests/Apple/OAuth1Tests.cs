using AdeEnrollment.Engine.Apple;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Apple;

/// <summary>OAuth 1.0a signing against RFC 5849's published examples (independent vectors).</summary>
public sealed class OAuth1Tests
{
    [Fact]
    public void Rfc5849_Section1_2_PhotoRequestSignature()
    {
        // RFC 5849 §1.2: the client requests the protected photo with its token credentials.
        var uri = new Uri("http://photos.example.net/photos?file=vacation.jpg&size=original");
        var parameters = new Dictionary<string, string>
        {
            ["oauth_consumer_key"] = "dpf43f3p2l4k3l03",
            ["oauth_token"] = "nnch734d00sl2jdk",
            ["oauth_signature_method"] = "HMAC-SHA1",
            ["oauth_timestamp"] = "137131202",
            ["oauth_nonce"] = "chapoH",
        };

        var baseString = OAuth1.BaseString("GET", uri, parameters);
        Assert.Equal(
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal",
            baseString);
        Assert.Equal("MdpQcU8iPSUjWoN/UDMsK2sui9I=", OAuth1.Sign(baseString, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"));
    }

    [Fact]
    public void Rfc5849_Section3_4_1_1_BaseString()
    {
        // RFC 5849 §3.4.1.1: query, form body (c2 and a3=2 q) and protocol parameters, encoded and sorted.
        var uri = new Uri("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b");
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("oauth_consumer_key", "9djdj82h48djs9d2"),
            new("oauth_token", "kkk9d7dh3k39sjv7"),
            new("oauth_signature_method", "HMAC-SHA1"),
            new("oauth_timestamp", "137131201"),
            new("oauth_nonce", "7d8f3e4a"),
            new("c2", ""),
            new("a3", "2 q"),
        };

        Assert.Equal(
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7",
            OAuth1.BaseString("POST", uri, parameters));
    }

    [Theory]
    [InlineData("abcXYZ019-._~", "abcXYZ019-._~")]
    [InlineData("a b+c/d=e&f", "a%20b%2Bc%2Fd%3De%26f")]
    [InlineData("é", "%C3%A9")]
    public void PercentEncodingFollowsSection3_6(string input, string expected) => Assert.Equal(expected, OAuth1.PercentEncode(input));

    [Theory]
    [InlineData("https://MDMenrollment.Apple.com:443/session", "https://mdmenrollment.apple.com/session")]
    [InlineData("http://127.0.0.1:8080/session", "http://127.0.0.1:8080/session")]
    [InlineData("HTTP://Example.com:80/r%20v/X?id=123", "http://example.com/r%20v/X")]
    public void BaseStringUriDropsDefaultPortAndQuery(string uri, string expected) => Assert.Equal(expected, OAuth1.BaseStringUri(new Uri(uri)));

    [Fact]
    public void HeaderRoundTripsWithAndWithoutRealm()
    {
        var parameters = new List<KeyValuePair<string, string>> { new("oauth_consumer_key", "CK_1"), new("oauth_signature", "a/b+c=") };
        var withRealm = OAuth1.AuthorizationHeader(parameters, "ADM");
        Assert.StartsWith("OAuth realm=\"ADM\", oauth_consumer_key=\"CK_1\"", withRealm, StringComparison.Ordinal);
        Assert.Contains("oauth_signature=\"a%2Fb%2Bc%3D\"", withRealm, StringComparison.Ordinal);
        var parsed = OAuth1.ParseAuthorizationHeader(withRealm)!;
        Assert.Equal(["realm", "oauth_consumer_key", "oauth_signature"], parsed.Select(p => p.Key));
        Assert.Equal("a/b+c=", parsed[2].Value);
        Assert.Equal(2, OAuth1.ParseAuthorizationHeader(OAuth1.AuthorizationHeader(parameters))!.Count);
        Assert.Null(OAuth1.ParseAuthorizationHeader("Basic abc"));
        Assert.Null(OAuth1.ParseAuthorizationHeader("OAuth oauth_token=unquoted"));
    }

    [Fact]
    public void NoncesAreUnique() => Assert.Equal(1000, Enumerable.Range(0, 1000).Select(_ => OAuth1.NewNonce()).Distinct().Count());
}
