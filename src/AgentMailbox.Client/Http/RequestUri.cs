using System;
using System.Reflection;

namespace AgentMailbox
{
    /// <summary>
    /// Builds request URIs. System.Uri decodes <c>%2E</c> and then folds dot segments, so a path segment that is an
    /// agent or thread id of exactly "." or ".." would be sent to another route. Where the runtime can keep a path
    /// verbatim (.NET 6 and later), such URIs are built that way; elsewhere they are refused rather than misrouted.
    /// </summary>
    internal static class RequestUri
    {
        private const string EscapedDot = "%2E";
        private static readonly Func<string, Uri>? Verbatim = CreateVerbatimFactory();

        internal static Uri Create(string text)
        {
            if (text.IndexOf(EscapedDot, StringComparison.Ordinal) < 0)
            {
                return new Uri(text, UriKind.Absolute);
            }
            if (Verbatim is not null)
            {
                return Verbatim(text);
            }
            var uri = new Uri(text, UriKind.Absolute);
            if (!string.Equals(uri.AbsoluteUri, text, StringComparison.Ordinal))
            {
                throw new ArgumentException("This runtime cannot address an agent or thread id that is exactly '.' or '..'.");
            }
            return uri;
        }

        /// <summary><c>new Uri(text, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true })</c>, where it exists.</summary>
        private static Func<string, Uri>? CreateVerbatimFactory()
        {
            var optionsType = typeof(Uri).Assembly.GetType("System.UriCreationOptions", throwOnError: false);
            var property = optionsType?.GetProperty("DangerousDisablePathAndQueryCanonicalization", BindingFlags.Public | BindingFlags.Instance);
            var constructor = optionsType is null ? null : typeof(Uri).GetConstructor(new[] { typeof(string), optionsType.MakeByRefType() });
            if (optionsType is null || property is null || constructor is null)
            {
                return null;
            }
            object options = Activator.CreateInstance(optionsType)!;
            property.SetValue(options, true);
            return text => (Uri)constructor.Invoke(new[] { text, options });
        }
    }
}
