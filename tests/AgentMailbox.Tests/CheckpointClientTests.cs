using System.Net;
using AgentMailbox.MockServer;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>
/// The checkpoint methods of the client against the mock: a checkpoint or a merge is never repeated once it may
/// have reached the server (a repeat would commit twice); reads and removals are repeated after a broken
/// connection; ids and branches travel escaped; the server's refusals map to the exception of their kind.
/// </summary>
public class CheckpointClientTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public CheckpointClientTests(MockServerFixture fixture) : base(fixture) { }

    private const string Agent = "alice";
    private const string GitPath = "/mailbox/alice/git";

    private async Task<AgentMailboxClient> RegisteredClientAsync()
    {
        var client = NewClient();
        await client.RegisterAsync(Agent);
        return client;
    }

    private async Task<int> CheckpointCountAsync(AgentMailboxClient client, string? branch = null)
        => (await client.GetCheckpointsAsync(Agent, branch, 100).CollectAsync()).Count;

    [Fact]
    public async Task A_checkpoint_whose_connection_drops_after_the_server_stored_it_is_not_repeated()
    {
        var client = await RegisteredClientAsync();
        await client.GetHealthAsync(); // a pooled connection, as in a long session
        Server.AddFault(new FaultRule { Method = "POST", Path = GitPath + "/commit", Action = FaultAction.Drop, AfterHandler = true });

        var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => client.CheckpointAsync(Agent, "once"));

        Assert.True(error.MayHaveBeenDelivered);
        Assert.Single(RequestsTo("POST", GitPath + "/commit"));
        Assert.Equal(1, await CheckpointCountAsync(client));
    }

    [Fact]
    public async Task A_checkpoint_that_gets_503_is_not_repeated()
    {
        var client = await RegisteredClientAsync();
        Server.AddFault(new FaultRule { Method = "POST", Path = GitPath + "/commit", Status = 503, AfterHandler = true });

        await Assert.ThrowsAsync<AgentMailboxServerException>(() => client.CheckpointAsync(Agent, "once"));

        Assert.Single(RequestsTo("POST", GitPath + "/commit"));
        Assert.Equal(1, await CheckpointCountAsync(client));
    }

    [Fact]
    public async Task A_merge_whose_connection_drops_after_the_server_merged_is_not_repeated()
    {
        var client = await RegisteredClientAsync();
        await client.CheckpointAsync(Agent, "main");
        await client.CheckpointAsync(Agent, "feature", "feature");
        Server.AddFault(new FaultRule { Method = "POST", Path = GitPath + "/merge", Action = FaultAction.Drop, AfterHandler = true });

        var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => client.MergeBranchAsync(Agent, "feature", "main", "ours"));

        Assert.True(error.MayHaveBeenDelivered);
        Assert.Single(RequestsTo("POST", GitPath + "/merge"));
        Assert.Equal(2, await CheckpointCountAsync(client, "main"));
    }

    [Fact]
    public async Task Reads_are_repeated_after_a_dropped_connection_and_a_503()
    {
        var client = await RegisteredClientAsync();
        var made = await client.CheckpointAsync(Agent, "one");
        Server.AddFault(new FaultRule { Method = "GET", Path = GitPath + "/commits/" + made.Id, Action = FaultAction.Drop });
        Server.AddFault(new FaultRule { Method = "GET", Path = GitPath + "/log", Status = 503 });
        Server.AddFault(new FaultRule { Method = "GET", Path = GitPath + "/diff", Action = FaultAction.Drop });

        var read = await client.GetCheckpointAsync(Agent, made.Id);
        var log = await client.GetCheckpointsAsync(Agent).CollectAsync();
        var diff = await client.CompareCheckpointsAsync(Agent, made.Id);

        Assert.Equal(made.Id, read.Id);
        Assert.NotNull(read.Snapshot);
        Assert.Equal(made.Id, Assert.Single(log).Id);
        Assert.True(diff.IsEmpty);
        Assert.Equal(2, RequestsTo("GET", GitPath + "/commits/" + made.Id).Count);
        Assert.Equal(2, RequestsTo("GET", GitPath + "/log").Count);
        Assert.Equal(2, RequestsTo("GET", GitPath + "/diff").Count);
    }

    [Fact]
    public async Task Removing_a_parent_is_a_500_that_names_the_foreign_key_and_an_unknown_id_is_not_found()
    {
        var client = await RegisteredClientAsync();
        var parent = await client.CheckpointAsync(Agent, "parent");
        await client.CheckpointAsync(Agent, "child");

        var refused = await Assert.ThrowsAsync<AgentMailboxServerException>(() => client.RemoveCheckpointAsync(Agent, parent.Id));
        var missing = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.RemoveCheckpointAsync(Agent, "ghost"));

        Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);
        Assert.Contains("FOREIGN KEY", refused.ServerMessage, StringComparison.Ordinal);
        Assert.Single(RequestsTo("DELETE", GitPath + "/commits/" + parent.Id));
        Assert.Equal("commit not found", missing.ServerMessage);
        Assert.Equal(2, await CheckpointCountAsync(client));
    }

    [Fact]
    public async Task Unknown_checkpoints_and_empty_branches_are_not_found()
    {
        var client = await RegisteredClientAsync();
        var made = await client.CheckpointAsync(Agent, "one");

        var get = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetCheckpointAsync(Agent, "nope"));
        var restore = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.RestoreCheckpointAsync(Agent, "nope"));
        var diff = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.CompareCheckpointsAsync(Agent, made.Id, "nope"));
        var merge = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.MergeBranchAsync(Agent, "nowhere", "main"));

        Assert.Equal("commit not found", get.ServerMessage);
        Assert.Equal("commit nope not found", restore.ServerMessage);
        Assert.Equal("commit nope not found", diff.ServerMessage);
        Assert.Equal("branch 'nowhere' has no commits", merge.ServerMessage);
    }

    [Fact]
    public async Task Ids_agents_and_branches_travel_escaped_and_come_back_exactly()
    {
        var client = NewClient();
        const string agent = "a/b %#?+@ü";
        const string branch = "feat/x+y z#?";
        await client.RegisterAsync(agent);

        var made = await client.CheckpointAsync(agent, "odd", branch);
        var log = await client.GetCheckpointsAsync(agent, branch, 5).CollectAsync();
        await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetCheckpointAsync(agent, "x/y %?#+"));

        Assert.Equal(branch, made.Branch);
        Assert.Equal(agent, made.AgentId);
        Assert.Equal(made.Id, Assert.Single(log).Id);
        var escapedAgent = "/mailbox/a%2Fb%20%25%23%3F%2B%40%C3%BC";
        var logRequest = Assert.Single(Server.Requests, r => r.Path == escapedAgent + "/git/log");
        Assert.Equal("branch=feat%2Fx%2By%20z%23%3F&limit=5", logRequest.Query);
        Assert.Single(Server.Requests, r => r.Path == escapedAgent + "/git/commits/x%2Fy%20%25%3F%23%2B");
    }

    [Fact]
    public async Task A_diff_carries_the_ids_it_compared_and_an_invalid_strategy_or_limit_is_refused_before_sending()
    {
        var client = await RegisteredClientAsync();
        var one = await client.CheckpointAsync(Agent, "one");
        var two = await client.CheckpointAsync(Agent, "two");

        var live = await client.CompareCheckpointsAsync(Agent, one.Id);
        var between = await client.CompareCheckpointsAsync(Agent, one.Id, two.Id);
        int before = Server.Requests.Count;
        await Assert.ThrowsAsync<ArgumentException>(() => client.MergeBranchAsync(Agent, "a", "b", "Octopus"));
        Assert.Throws<ArgumentOutOfRangeException>(() => client.GetCheckpointsAsync(Agent, null, 101));

        Assert.Equal(one.Id, live.ReferenceId);
        Assert.Null(live.DifferenceId);
        Assert.Equal(two.Id, between.DifferenceId);
        Assert.Equal(before, Server.Requests.Count);
    }
}
