using System.Text;
using Xunit;

namespace AgentMailbox.Tests;

public sealed class UriEscaperTests
{
    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("A-z_0.9~", "A-z_0.9~")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("50%", "50%25")]
    [InlineData("a#b", "a%23b")]
    [InlineData("a?b", "a%3Fb")]
    [InlineData("with space", "with%20space")]
    [InlineData("a+b", "a%2Bb")]
    [InlineData("a&b=c", "a%26b%3Dc")]
    [InlineData("me@x.com", "me%40x.com")]
    [InlineData("literal%2F", "literal%252F")]
    [InlineData("ünï😀", "%C3%BCn%C3%AF%F0%9F%98%80")]
    [InlineData("tab\tnl\n", "tab%09nl%0A")]
    [InlineData("semi;back\\slash", "semi%3Bback%5Cslash")]
    [InlineData("a.b", "a.b")]
    [InlineData("...", "...")]
    [InlineData("", "")]
    public void Escapes_everything_but_unreserved_characters(string value, string expected)
    {
        Assert.Equal(expected, UriEscaper.Escape(value));
    }

    [Theory]
    [InlineData(".", "%2E")]
    [InlineData("..", "%2E%2E")]
    public void Dot_segments_are_encoded(string value, string expected)
    {
        Assert.Equal(expected, UriEscaper.Escape(value));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("50%")]
    [InlineData("ünï😀 + & = ? #")]
    [InlineData("literal%2F")]
    [InlineData("\u00e9\u0301\u4e2d\U0001F680")]
    public void Matches_EscapeDataString_and_round_trips(string value)
    {
        string escaped = UriEscaper.Escape(value);
        Assert.Equal(Uri.EscapeDataString(value), escaped);
        Assert.Equal(value, Uri.UnescapeDataString(escaped));
    }

    [Fact]
    public void Uses_uppercase_hex_and_only_unreserved_characters_stay_raw()
    {
        var all = new StringBuilder();
        for (char c = (char)1; c < 128; c++)
        {
            all.Append(c);
        }
        string escaped = UriEscaper.Escape(all.ToString());
        Assert.Matches("^(%[0-9A-F]{2}|[A-Za-z0-9._~-])+$", escaped);
        Assert.Equal(all.ToString(), Uri.UnescapeDataString(escaped));
    }

    [Fact]
    public void A_lone_surrogate_becomes_the_replacement_character()
    {
        Assert.Equal("a%EF%BF%BDb", UriEscaper.Escape("a\uD800b"));
    }
}
