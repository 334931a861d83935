using System;

namespace AgentMailbox.PowerShell
{
    /// <summary>The environment variables the rest of the AgentMailbox ecosystem already uses, read in one place.</summary>
    internal static class EnvironmentDefaults
    {
        internal const string DefaultServer = "http://localhost:3000";
        internal static readonly string[] ServerVariables = { "AGENTSMCP_SERVER", "AGENTMAILBOX_SERVER" };
        internal static readonly string[] ApiKeyVariables = { "AGENTSMCP_API_KEY", "AGENTMAILBOX_API_KEY" };
        internal const string AgentIdVariable = "AGENTSMCP_AGENT_ID";

        /// <summary>The server from the environment, else http://localhost:3000. A set but unusable variable is reported, not skipped.</summary>
        internal static Uri Server(out string? problem)
        {
            problem = null;
            foreach (string variable in ServerVariables)
            {
                string? value = Environment.GetEnvironmentVariable(variable);
                if (string.IsNullOrWhiteSpace(value))
                {
                    continue;
                }
                Uri.TryCreate(value, UriKind.Absolute, out var uri);
                string? invalid = AgentMailboxClient.DescribeInvalidServer(uri);
                if (invalid is null)
                {
                    return uri!;
                }
                problem = $"$env:{variable} ('{value}') is not a usable server URI: {invalid}";
                break;
            }
            return new Uri(DefaultServer);
        }

        internal static string? ApiKey()
        {
            foreach (string variable in ApiKeyVariables)
            {
                string? value = Environment.GetEnvironmentVariable(variable);
                if (!string.IsNullOrEmpty(value))
                {
                    return value;
                }
            }
            return null;
        }

        internal static string? AgentId() => Environment.GetEnvironmentVariable(AgentIdVariable);
    }
}
