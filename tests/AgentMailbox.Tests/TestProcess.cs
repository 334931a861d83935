using System.Runtime.CompilerServices;

namespace AgentMailbox.Tests;

internal static class TestProcess
{
    /// <summary>
    /// The blocking-client tests hold thread-pool threads the way cmdlets hold pipeline threads (twenty at once in the
    /// concurrency tests), while the mock servers in this process need pool threads to answer them. The pool adds
    /// threads slowly, so without a floor the servers, timers and every other test would stall while it grows.
    /// </summary>
    [ModuleInitializer]
    internal static void RaiseThreadPoolFloor()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
