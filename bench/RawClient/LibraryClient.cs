// The same workloads through the module's own client library (AgentMailbox.Client, called from C# with async/await
// and its default JsonElement values): not a client users run, but the line between the library's cost and
// PowerShell's (cmdlet invocation, parameter binding, PSObject conversion) when the module is slower than the raw client.
using System.Diagnostics;
using System.Text.Json;

namespace AgentMailbox.Bench;

internal static class LibraryClient
{
    public static async Task<Dictionary<string, object?>> RunAsync(string op, JsonElement command)
    {
        string server = command.GetProperty("server").GetString()!;
        string prefix = command.TryGetProperty("prefix", out var p) ? p.GetString()! : "";
        int n = command.TryGetProperty("n", out var nn) ? nn.GetInt32() : 0;
        using var client = new AgentMailboxClient(new AgentMailboxClientOptions { Server = new Uri(server) });
        string a = prefix + "-a", b = prefix + "-b";
        switch (op)
        {
            case "W1":
            {
                await client.RegisterAsync(a);
                var sw = Program.StartWatch();
                for (int i = 0; i < n; i++)
                {
                    await client.SendAsync(new SendMessageRequest { From = a, To = b, Payload = new Payload("summarize", i), ContextSnapshot = new Snapshot("research", i) });
                }
                return Program.Elapsed(sw);
            }
            case "W2":
            {
                await client.RegisterAsync(a);
                await client.RegisterAsync(b);
                var sw = Program.StartWatch();
                for (int i = 0; i < n; i++)
                {
                    await client.SendAsync(new SendMessageRequest
                    {
                        From = a, To = b, Cc = [prefix + "-c", prefix + "-d"], Bcc = [prefix + "-e"],
                        Payload = new Payload("summarize", i), ContextSnapshot = new Snapshot("research", i),
                    });
                }
                var inbox = new List<InboxMessage>();
                await foreach (var message in client.GetUnreadAsync(b))
                {
                    inbox.Add(message);
                }
                var result = Program.Elapsed(sw);
                result["count"] = inbox.Count;
                return result;
            }
            case "W3":
            {
                string reader = command.GetProperty("reader").GetString()!;
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                Memory.ResetPeak();
                long baseline = Memory.Read("VmRSS");
                long allocated = GC.GetTotalAllocatedBytes(true);
                double? first = null;
                long firstTs = 0;
                int count = 0;
                var sw = Program.StartWatch();
                await foreach (var message in client.GetUnreadAsync(reader))
                {
                    if (first is null)
                    {
                        firstTs = Stopwatch.GetTimestamp();
                        first = sw.Elapsed.TotalMilliseconds;
                    }
                    count++;
                }
                var result = Program.Elapsed(sw);
                result["firstMs"] = first ?? result["ms"];
                result["firstTs"] = firstTs;
                result["count"] = count;
                result["baselineKB"] = baseline;
                result["peakKB"] = Memory.Read("VmHWM");
                result["allocatedKB"] = (GC.GetTotalAllocatedBytes(true) - allocated) / 1024.0;
                return result;
            }
            case "W4":
            {
                await client.RegisterAsync(b);
                var start = await client.SendAsync(new SendMessageRequest
                {
                    From = a, To = b, Cc = [prefix + "-c", prefix + "-d"], Payload = new Payload("start", 0), ContextSnapshot = new Snapshot("research", 0),
                });
                var sw = Program.StartWatch();
                for (int i = 0; i < n; i++)
                {
                    await client.ReplyAllAsync(new ReplyAllRequest { From = b, ThreadId = start.ThreadId, Payload = new Payload("ack", i), ContextSnapshot = new Snapshot("review", i) });
                }
                return Program.Elapsed(sw);
            }
            default:
                throw new InvalidOperationException($"unknown op {op}");
        }
    }
}
