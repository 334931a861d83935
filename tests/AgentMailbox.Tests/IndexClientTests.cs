using AgentMailbox.MockServer;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>The client's codebase index methods against the mock: key escaping, not-found mapping, safe retries, rollup bounds.</summary>
public sealed class IndexClientTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public IndexClientTests(MockServerFixture fixture) : base(fixture) { }

    public static TheoryData<string> Keys => new()
    {
        "src/lib/a.cs",
        "50%",
        "a#b?c=d&e",
        "with space",
        "a+b@c",
        "ünï😀/ключ",
        ".",
        "..",
        "x/../y",
        "literal%2F",
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task A_key_travels_as_one_escaped_segment_and_round_trips(string key)
    {
        var client = NewClient();
        await client.SetIndexEntryAsync("indexer", new IndexEntry(key, "file", "summary of " + key, TestJson.Parse("{\"n\":1}")));
        var entry = await client.GetIndexEntryAsync("indexer", key);

        string segment = key switch { "." => "%2E", ".." => "%2E%2E", _ => Uri.EscapeDataString(key) };
        Assert.Single(RequestsTo("GET", "/mailbox/indexer/index/" + segment));
        Assert.Equal(key, entry.Key);
        Assert.Equal("summary of " + key, entry.Summary);
        Assert.Equal("{\"n\":1}", TestJson.Canonical(entry.Metadata));
        Assert.Null(entry.ParentKey);
        Assert.NotNull(entry.UpdatedAt);
    }

    [Fact]
    public async Task A_missing_key_is_not_found()
    {
        var client = NewClient();
        var error = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetIndexEntryAsync("indexer", "nope"));
        Assert.Equal(404, (int?)error.StatusCode);
    }

    [Fact]
    public async Task An_upsert_is_repeated_after_a_503_because_it_is_idempotent()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/mailbox/indexer/index", Status = 503, Count = 1 });
        await client.SetIndexEntryAsync("indexer", new IndexEntry("k", "config", "s"));
        Assert.Equal(2, RequestsTo("POST", "/mailbox/indexer/index").Count);
        Assert.Equal("config", (await client.GetIndexEntryAsync("indexer", "k")).Category);
    }

    [Fact]
    public async Task A_500_on_an_upsert_is_not_repeated()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/mailbox/indexer/index", Status = 500, Count = 1 });
        await Assert.ThrowsAsync<AgentMailboxServerException>(() => client.SetIndexEntryAsync("indexer", new IndexEntry("k", "file", "s")));
        Assert.Single(RequestsTo("POST", "/mailbox/indexer/index"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(501)]
    public async Task A_rollup_of_no_keys_or_more_than_500_is_refused_before_any_request(int count)
    {
        var client = NewClient();
        var keys = Enumerable.Range(0, count).Select(i => "k" + i).ToList();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.MergeIndexEntriesAsync("indexer", "m", keys));
        Assert.Empty(Server.Requests);
    }

    [Fact]
    public async Task A_rollup_links_the_children_and_an_upsert_clears_the_link()
    {
        var client = NewClient();
        await client.SetIndexEntryAsync("indexer", new IndexEntry("d/a", "file", "A"));
        await client.SetIndexEntryAsync("indexer", new IndexEntry("d/b", "file", "B"));
        var result = await client.MergeIndexEntriesAsync("indexer", "d", new[] { "d/a", "d/b" });
        Assert.Equal("d", result.Key);
        Assert.Equal(2, result.FileCount);
        Assert.Equal("d", (await client.GetIndexEntryAsync("indexer", "d/a")).ParentKey);
        Assert.Equal("[d/a] A\n[d/b] B", (await client.GetIndexEntryAsync("indexer", "d")).Summary);

        await client.SetIndexEntryAsync("indexer", new IndexEntry("d/a", "file", "A2"));
        Assert.Null((await client.GetIndexEntryAsync("indexer", "d/a")).ParentKey);
    }

    [Fact]
    public async Task A_search_streams_the_matches_with_the_limit_and_category_sent()
    {
        var client = NewClient();
        foreach (string key in new[] { "lib/x", "lib/y", "doc/z" })
        {
            await client.SetIndexEntryAsync("indexer", new IndexEntry(key, "file", "about " + key));
        }
        var found = await client.SearchIndexAsync("indexer", "lib/", "file", 5).CollectAsync();
        Assert.Equal(new[] { "lib/x", "lib/y" }, found.Select(e => e.Key).OrderBy(k => k, StringComparer.Ordinal));
        var search = Assert.Single(RequestsTo("GET", "/mailbox/indexer/index"));
        Assert.Contains("limit=5", search.Query);
        Assert.Contains("category=file", search.Query);
        Assert.Contains("q=lib%2F", search.Query);
    }
}
