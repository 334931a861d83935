using System.Text;

namespace AgentMailbox
{
    /// <summary>
    /// RFC 3986 percent-encoding of one path segment or query value: everything but the unreserved characters
    /// (ALPHA, DIGIT, '-', '.', '_', '~') is encoded from its UTF-8 bytes, so agent ids holding '/', '%', '#',
    /// '?', '+', spaces or any unicode reach the server intact. A segment that is exactly "." or ".." is encoded
    /// too, so no URI parser on the way folds it as a dot segment.
    /// </summary>
    internal static class UriEscaper
    {
        private const string Hex = "0123456789ABCDEF";

        public static string Escape(string value)
        {
            if (value == "." || value == "..")
            {
                return value.Replace(".", "%2E");
            }

            StringBuilder? builder = null;
            for (int i = 0; i < value.Length; i++)
            {
                if (IsUnreserved(value[i]))
                {
                    builder?.Append(value[i]);
                    continue;
                }
                if (builder is null)
                {
                    builder = new StringBuilder(value.Length + 16);
                    builder.Append(value, 0, i);
                }
                int length = char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]) ? 2 : 1;
                foreach (byte b in Utf8.GetBytes(value.ToCharArray(i, length)))
                {
                    builder.Append('%').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
                }
                i += length - 1;
            }
            return builder?.ToString() ?? value;
        }

        // A lone surrogate becomes U+FFFD rather than throwing: the id cannot be represented in UTF-8 either way.
        private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

        private static bool IsUnreserved(char c)
            => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    }
}
