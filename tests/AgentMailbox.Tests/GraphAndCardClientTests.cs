using System.Text.Json;
using AgentMailbox.MockServer;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>The client's context graph and agent card methods against the mock server.</summary>
public sealed class GraphAndCardClientTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public GraphAndCardClientTests(MockServerFixture fixture) : base(fixture) { }

    public static TheoryData<string> Ids => new()
    {
        "a/b",
        "50%",
        "a#b",
        "a?b",
        "with space",
        "a+b",
        "me@x.com",
        "ünï😀",
        "literal%2F",
        "mix /%#?+@ ünï😀",
    };

    private static string Segment(string id) => Uri.EscapeDataString(id);

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task Nodes_and_edges_round_trip_ids_and_the_agent_path_is_percent_encoded(string id)
    {
        var client = NewClient();
        string agent = "agent " + id;
        var metadata = TestJson.Parse("{\"k\":\"" + id.Replace("\\", "\\\\") + "\",\"n\":[1,2.5,null,true]}");
        await client.SetGraphNodeAsync(agent, new GraphNode(id, "file", "node " + id, "about " + id, metadata));
        await client.SetGraphNodeAsync(agent, new GraphNode("other", "task", "other node"));
        await client.SetGraphEdgeAsync(agent, new GraphEdge(id, "other", "type " + id, 0.5));

        var post = Assert.Single(Server.Requests, r => r.Method == "POST" && r.Body.Contains("\"type\":\"file\""));
        Assert.Equal("/mailbox/" + Segment(agent) + "/graph/nodes", post.Path);

        var result = await client.SearchGraphAsync(agent, "node " + id, depth: 1);
        Assert.Equal("node " + id, result.Query);
        var node = Assert.Single(result.Nodes, n => n.Id == id);
        Assert.Equal("file", node.Type);
        Assert.Equal("about " + id, node.Description);
        Assert.Equal(metadata.GetRawText(), TestJson.Canonical(node.Metadata));
        Assert.NotNull(node.UpdatedAt);
        var edge = Assert.Single(result.Edges);
        Assert.Equal((id, "other", "type " + id, 0.5), (edge.SourceId, edge.TargetId, edge.Type, edge.Weight));

        await client.RemoveGraphEdgeAsync(agent, id, "other", "type " + id);
        Assert.Empty((await client.SearchGraphAsync(agent, "node " + id, depth: 1)).Edges);
        await client.RemoveGraphNodeAsync(agent, id);
        var delete = Assert.Single(Server.Requests, r => r.Method == "DELETE" && r.Path.Contains("/graph/nodes/"));
        Assert.Equal("/mailbox/" + Segment(agent) + "/graph/nodes/" + Segment(id), delete.Path);
        Assert.DoesNotContain((await client.SearchGraphAsync(agent, "node")).Nodes, n => n.Id == id);
    }

    [Fact]
    public async Task Query_text_is_escaped_as_rfc3986_and_depth_and_limit_are_sent()
    {
        var client = NewClient();
        await client.SetGraphNodeAsync("q", new GraphNode("n1", "task", "a+b & c#d?e=f %x"));
        var result = await client.SearchGraphAsync("q", "a+b & c#d?e=f %x", depth: 3, limit: 7);
        Assert.Equal("n1", Assert.Single(result.Nodes).Id);
        var get = Assert.Single(Server.Requests, r => r.Method == "GET");
        Assert.Equal("q=a%2Bb%20%26%20c%23d%3Fe%3Df%20%25x&limit=7&depth=3", get.Query);
    }

    [Fact]
    public async Task Metadata_nested_64_deep_round_trips()
    {
        var client = NewClient();
        string json = string.Concat(Enumerable.Repeat("{\"d\":", 64)) + "\"bottom\"" + new string('}', 64);
        await client.SetGraphNodeAsync("deep", new GraphNode("n", "symbol", "deep node", null, TestJson.Parse(json)));
        var node = Assert.Single((await client.SearchGraphAsync("deep", "deep node")).Nodes);
        Assert.Equal(json, TestJson.Canonical(node.Metadata));
        Assert.Null(node.Description);
    }

    [Fact]
    public async Task A_node_query_walks_exactly_depth_hops_and_removing_a_node_removes_its_edges()
    {
        var client = NewClient();
        for (int i = 0; i < 5; i++)
        {
            await client.SetGraphNodeAsync("walk", new GraphNode("h" + i, "task", i == 0 ? "start" : "hop " + i));
        }
        for (int i = 0; i < 4; i++)
        {
            await client.SetGraphEdgeAsync("walk", new GraphEdge("h" + (i + 1), "h" + i, "back"));
        }
        for (int depth = 1; depth <= 4; depth++)
        {
            var result = await client.SearchGraphAsync("walk", "start", depth: depth);
            Assert.Equal(Enumerable.Range(0, depth + 1).Select(i => "h" + i), result.Nodes.Select(n => n.Id).OrderBy(x => x, StringComparer.Ordinal));
            Assert.Equal(depth, result.Edges.Length);
        }
        await client.RemoveGraphNodeAsync("walk", "h1");
        var after = await client.SearchGraphAsync("walk", "start", depth: 4);
        Assert.Equal(new[] { "h0" }, after.Nodes.Select(n => n.Id));
        Assert.Empty(after.Edges);
        Assert.DoesNotContain((await client.SearchGraphAsync("walk", "hop 2", depth: 1)).Edges, e => e.SourceId == "h1" || e.TargetId == "h1");
    }

    [Fact]
    public async Task Removing_a_missing_node_or_edge_succeeds()
    {
        var client = NewClient();
        await client.RemoveGraphNodeAsync("none", "never-was");
        await client.RemoveGraphEdgeAsync("none", "a", "b", "c");
        Assert.Equal(2, Server.Requests.Count(r => r.Method == "DELETE"));
    }

    [Fact]
    public async Task Bad_input_is_refused_before_any_request()
    {
        var client = NewClient();
        await Assert.ThrowsAsync<ArgumentException>(() => client.SetGraphNodeAsync("a", new GraphNode("n", "folder", "x")));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SetGraphNodeAsync("a", new GraphNode("", "file", "x")));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SetGraphNodeAsync("a", new GraphNode("n", "file", "")));
        foreach (double weight in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.SetGraphEdgeAsync("a", new GraphEdge("s", "t", "x", weight)));
        }
        await Assert.ThrowsAsync<ArgumentException>(() => client.SetGraphEdgeAsync("a", new GraphEdge("s", "", "x")));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.SearchGraphAsync("a", "q", depth: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.SearchGraphAsync("a", "q", depth: 6));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.SearchGraphAsync("a", "q", limit: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.SearchGraphAsync("a", "q", limit: 201));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SearchGraphAsync("a", ""));
        await Assert.ThrowsAsync<ArgumentException>(() => client.RemoveGraphNodeAsync("a", ""));
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetAgentCardAsync(""));
        Assert.Empty(Server.Requests);
    }

    [Fact]
    public async Task Upserts_and_deletes_are_retried_after_a_503_or_a_dropped_connection()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/mailbox/r/graph/nodes", Status = 503 });
        await client.SetGraphNodeAsync("r", new GraphNode("n", "task", "retried"));
        Assert.Equal(2, RequestsTo("POST", "/mailbox/r/graph/nodes").Count);

        Server.AddFault(new FaultRule { Method = "DELETE", Path = "/mailbox/r/graph/nodes/n", Action = FaultAction.Drop });
        await client.RemoveGraphNodeAsync("r", "n");
        Assert.Equal(2, RequestsTo("DELETE", "/mailbox/r/graph/nodes/n").Count);
        Assert.Empty((await client.SearchGraphAsync("r", "retried")).Nodes);
    }

    [Fact]
    public async Task A_500_is_not_retried_and_surfaces_as_a_server_exception()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/mailbox/f/graph/edges", Status = 500 });
        var error = await Assert.ThrowsAsync<AgentMailboxServerException>(() => client.SetGraphEdgeAsync("f", new GraphEdge("s", "t", "x")));
        Assert.Equal(500, (int?)error.StatusCode);
        Assert.Single(RequestsTo("POST", "/mailbox/f/graph/edges"));
    }

    [Fact]
    public async Task The_server_card_needs_no_agent()
    {
        var client = NewClient();
        var card = await client.GetServerCardAsync();
        Assert.Equal("AgentMailbox", card.Name);
        Assert.Null(card.AgentId);
        Assert.Equal(4, ((JsonElement)card.Skills!).GetArrayLength());
        Assert.True(((JsonElement)card.Capabilities!).GetProperty("multiAgent").GetBoolean());
        Assert.Equal("/.well-known/agent-card.json", Assert.Single(Server.Requests).Path);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task An_agent_card_round_trips_the_id_and_an_unknown_agent_is_not_found(string id)
    {
        var client = NewClient();
        await client.RegisterAsync(id);
        var card = await client.GetAgentCardAsync(id);
        Assert.Equal(id, card.AgentId);
        Assert.Equal(id, card.Name);
        Assert.Equal(0, card.ThreadCount);
        Assert.NotNull(card.CreatedAt);
        Assert.Null(card.Skills);
        Assert.Equal("/.well-known/agent-card/" + Segment(id), Server.Requests[^1].Path);

        await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetAgentCardAsync("unknown " + id));
    }
}
