using System.Diagnostics;
using System.Globalization;
using AgentMailbox.MockServer;

// Usage: AgentMailbox.MockServer [--urls http://127.0.0.1:0] [--api-key KEY] [--json-limit-bytes N]
//                                [--max-recorded-requests N] [--parent-pid PID]
// Prints exactly one line on stdout once listening: AGENTMAILBOX_MOCK_URL=http://127.0.0.1:<port>
var options = new MockServerOptions();
int? parentPid = null;
for (int i = 0; i < args.Length; i++)
{
    string arg = args[i];
    string name = arg;
    string? value = null;
    int eq = arg.IndexOf('=');
    if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
    {
        name = arg[..eq];
        value = arg[(eq + 1)..];
    }

    string NextValue()
    {
        if (value is not null)
        {
            return value;
        }

        if (i + 1 >= args.Length)
        {
            Fail($"missing value for {name}");
        }

        return args[++i];
    }

    switch (name)
    {
        case "--urls":
        case "--url":
            options.Url = NextValue().Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
            break;
        case "--api-key":
            options.ApiKey = NextValue();
            break;
        case "--json-limit-bytes":
            if (!long.TryParse(NextValue(), NumberStyles.None, CultureInfo.InvariantCulture, out long limit))
            {
                Fail("--json-limit-bytes needs a non-negative integer");
            }

            options.JsonLimitBytes = limit;
            break;
        case "--max-recorded-requests":
            if (!int.TryParse(NextValue(), NumberStyles.None, CultureInfo.InvariantCulture, out int maxRecorded))
            {
                Fail("--max-recorded-requests needs a non-negative integer");
            }

            options.MaxRecordedRequests = maxRecorded;
            break;
        case "--parent-pid":
            if (!int.TryParse(NextValue(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                Fail("--parent-pid needs a process id");
            }

            parentPid = pid;
            break;
        default:
            Fail($"unknown argument '{arg}'");
            break;
    }
}

if (string.IsNullOrEmpty(options.ApiKey))
{
    options.ApiKey = Environment.GetEnvironmentVariable("AGENTSMCP_API_KEY") is { Length: > 0 } key
        ? key
        : Environment.GetEnvironmentVariable("AGENTMAILBOX_API_KEY") is { Length: > 0 } legacy ? legacy : null;
}

await using MockAgentMailboxServer server = await MockAgentMailboxServer.StartCoreAsync(options, handleSignals: true, CancellationToken.None);
Console.Out.WriteLine("AGENTMAILBOX_MOCK_URL=" + server.BaseUri.GetLeftPart(UriPartial.Authority));
Console.Out.Flush();

using var watcherStop = new CancellationTokenSource();
Task watcher = Task.CompletedTask;
if (parentPid is int parent)
{
    watcher = Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(watcherStop.Token))
            {
                if (!IsAlive(parent))
                {
                    await server.StopAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    });
}

await server.WaitForShutdownAsync();
watcherStop.Cancel();
await watcher;
return 0;

static bool IsAlive(int pid)
{
    try
    {
        using var process = Process.GetProcessById(pid);
        return !process.HasExited;
    }
    catch (ArgumentException)
    {
        return false;
    }
    catch (InvalidOperationException)
    {
        return false;
    }
}

[System.Diagnostics.CodeAnalysis.DoesNotReturn]
static void Fail(string message)
{
    Console.Error.WriteLine("AgentMailbox.MockServer: " + message);
    Environment.Exit(2);
}
