using System.Text;
using Xunit;

namespace AgentMailbox.Tests;

public sealed class ErrorBodyTests
{
    private static ErrorBody.Parsed Parse(string body, string? mediaType = "application/json")
        => ErrorBody.Parse(Encoding.UTF8.GetBytes(body), mediaType);

    [Fact]
    public void A_string_error_is_the_message()
        => Assert.Equal("thread not found", Parse("{\"error\":\"thread not found\"}").Message);

    [Fact]
    public void The_error_and_request_id_shape_gives_the_error()
        => Assert.Equal("Failed to decode param '50%'", Parse("{\"error\":\"Failed to decode param '50%'\",\"requestId\":\"abc\"}").Message);

    [Fact]
    public void A_zod_error_names_every_field_and_form_error()
    {
        string message = Parse("""
            {"error":{"formErrors":["Expected object, received array"],
                      "fieldErrors":{"to":["Required"],"cc":["Expected string, received number","String must contain at least 1 character(s)"]}}}
            """).Message!;
        Assert.Contains("Expected object, received array", message);
        Assert.Contains("to: Required", message);
        Assert.Contains("cc: Expected string, received number, String must contain at least 1 character(s)", message);
    }

    [Fact]
    public void An_express_html_page_gives_the_pre_text()
    {
        const string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET /x</pre>\n</body>\n</html>\n";
        Assert.Equal("Cannot GET /x", Parse(html, "text/html").Message);
    }

    [Fact]
    public void Html_entities_are_decoded()
        => Assert.Equal("Cannot GET /a&b<c>", Parse("<pre>Cannot GET /a&amp;b&lt;c&gt;</pre>", "text/html; charset=utf-8").Message);

    [Fact]
    public void A_proxy_page_gives_its_title()
        => Assert.Equal("502 Bad Gateway", Parse("<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>", "text/html").Message);

    [Fact]
    public void Rate_limit_bodies_carry_their_wait()
    {
        var parsed = Parse("{\"error\":\"rate_limit_exceeded\",\"limit\":60,\"remaining\":0,\"resetsAt\":\"2030-01-01T00:00:00.000Z\"}");
        Assert.Equal("rate_limit_exceeded", parsed.Message);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), parsed.ResetsAt);

        var auth = Parse("{\"error\":\"rate_limit\",\"message\":\"Max 10 registrations per IP per hour\",\"retryAfterMs\":3565290}");
        Assert.Equal("rate_limit: Max 10 registrations per IP per hour", auth.Message);
        Assert.Equal(3565290, auth.RetryAfterMs);
    }

    [Fact]
    public void Json_without_a_content_type_is_still_parsed()
        => Assert.Equal("unauthorized", Parse("{\"error\":\"unauthorized\"}", null).Message);

    [Fact]
    public void Plain_text_is_kept_and_shortened()
    {
        Assert.Equal("upstream down", Parse("  upstream down \n", "text/plain").Message);
        string longText = new string('x', 2000);
        var message = Parse(longText, "text/plain").Message!;
        Assert.True(message.Length <= 501, $"length {message.Length}");
    }

    [Fact]
    public void An_empty_body_has_no_message()
        => Assert.Null(Parse("", "application/json").Message);
}
