using System.Management.Automation;

namespace AgentMailbox.PowerShell
{
    /// <summary>Closes the default connection when the module is removed, so no HTTP client outlives it.</summary>
    public sealed class ModuleLifecycle : IModuleAssemblyCleanup
    {
        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            DefaultConnection.Exchange(null)?.Close();
        }
    }
}
