using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell
{
    /// <summary>Agent ids may hold any character the server accepts, but must not be empty or only white space.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateAgentIdAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            object? value = arguments is PSObject pso ? pso.BaseObject : arguments;
            if (value is string[] many)
            {
                foreach (var one in many)
                {
                    Check(one);
                }
                return;
            }
            Check(value as string);
        }

        internal static void Check(string? id)
        {
            if (string.IsNullOrWhiteSpace(id))
            {
                throw new ValidationMetadataException("An agent id must not be empty or white space.");
            }
        }
    }

    /// <summary>A server URI must be absolute http(s) with a host: checked before any request.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateServerUriAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            object? value = arguments is PSObject pso ? pso.BaseObject : arguments;
            string? problem = AgentMailboxClient.DescribeInvalidServer(value as Uri);
            if (problem is not null)
            {
                throw new ValidationMetadataException(problem);
            }
        }
    }
}
