using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AgentMailbox.PowerShell
{
    /// <summary>
    /// The module's own bookkeeping in an index entry's metadata: a fingerprint of what was sent, kept under one
    /// reserved property, so that a re-index can tell an unchanged input from a changed one without the server's
    /// broken check-staleness route (protocol.md §8 quirk 12). The cmdlets strip the property from what they output,
    /// so metadata round-trips exactly.
    /// </summary>
    internal static class IndexMetadata
    {
        /// <summary>The reserved metadata property: SHA-256 (64 lowercase hex digits) of the entry's canonical content.</summary>
        internal const string FingerprintProperty = "agentMailboxFingerprint";

        // Properties, not fields, and no field of a System.Text.Json type: loading this type must not load that
        // assembly, which Windows PowerShell finds only once the module's resolver is registered (Layout tests).
        private static JsonDocumentOptions DocumentOptions => new JsonDocumentOptions { MaxDepth = PSJsonValueConverter.MaxDepth + 8 };

        private static JsonWriterOptions WriterOptions => new JsonWriterOptions { SkipValidation = false };

        /// <summary>What one input becomes: the metadata to send (the user's plus the fingerprint), and the user's alone.</summary>
        internal sealed class Composed
        {
            public Composed(object wire, object? user, string fingerprint)
            {
                Wire = wire;
                User = user;
                Fingerprint = fingerprint;
            }

            /// <summary>The metadata to send, as a JSON element (boxed, see <see cref="DocumentOptions"/>).</summary>
            public object Wire { get; }
            public object? User { get; }
            public string Fingerprint { get; }
        }

        /// <summary>
        /// Builds the metadata to send for an entry. The fingerprint covers the category, the summary, the metadata
        /// (without the reserved property, with object properties in ordinal order, so key order does not matter) and,
        /// for a file, a SHA-256 of its bytes.
        /// </summary>
        internal static Composed Compose(string category, string summary, object? metadata, string? contentHash)
        {
            byte[] userJson;
            if (metadata is null)
            {
                userJson = Encoding.UTF8.GetBytes("{}");
            }
            else
            {
                userJson = Write(w => PSJsonValueConverter.Instance.Write(w, metadata));
            }
            using var given = JsonDocument.Parse(userJson, DocumentOptions);
            if (given.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException("-Metadata must be a hashtable, ordered dictionary or PSCustomObject (a JSON object).", "Metadata");
            }
            byte[] userOnly = Write(w =>
            {
                w.WriteStartObject();
                foreach (var property in given.RootElement.EnumerateObject())
                {
                    if (property.NameEquals(FingerprintProperty))
                    {
                        continue;
                    }
                    property.WriteTo(w);
                }
                w.WriteEndObject();
            });
            using var user = JsonDocument.Parse(userOnly, DocumentOptions);
            byte[] canonical = Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("category", category);
                if (contentHash is null)
                {
                    w.WriteNull("content");
                }
                else
                {
                    w.WriteString("content", contentHash);
                }
                w.WritePropertyName("metadata");
                WriteCanonical(w, user.RootElement);
                w.WriteString("summary", summary);
                w.WriteEndObject();
            });
            string fingerprint = Hex(Sha256(canonical));
            byte[] wire = Write(w =>
            {
                w.WriteStartObject();
                foreach (var property in user.RootElement.EnumerateObject())
                {
                    property.WriteTo(w);
                }
                w.WriteString(FingerprintProperty, fingerprint);
                w.WriteEndObject();
            });
            using var wireDocument = JsonDocument.Parse(wire, DocumentOptions);
            var reader = new Utf8JsonReader(userOnly, new JsonReaderOptions { MaxDepth = DocumentOptions.MaxDepth });
            reader.Read();
            object? userValue = PSJsonValueConverter.Instance.Read(ref reader);
            return new Composed(wireDocument.RootElement.Clone(), userValue, fingerprint);
        }

        /// <summary>The fingerprint stored in an entry's metadata as the server returned it, or null.</summary>
        internal static string? FingerprintOf(object? metadata)
        {
            object? value = PSJsonValueConverter.Unwrap(metadata, out PSObject? wrapper);
            if (value is IDictionary dictionary)
            {
                return dictionary.Contains(FingerprintProperty) ? dictionary[FingerprintProperty] as string : null;
            }
            var property = (wrapper ?? (value is null ? null : PSObject.AsPSObject(value)))?.Properties[FingerprintProperty];
            return PSJsonValueConverter.Unwrap(property?.Value, out _) as string;
        }

        /// <summary>Removes the reserved property from an entry read from the server, so its metadata is what was given.</summary>
        internal static IndexEntry Strip(IndexEntry entry)
        {
            object? value = PSJsonValueConverter.Unwrap(entry.Metadata, out PSObject? wrapper);
            if (value is IDictionary dictionary)
            {
                if (dictionary.Contains(FingerprintProperty) && !dictionary.IsReadOnly)
                {
                    dictionary.Remove(FingerprintProperty);
                }
            }
            else if (wrapper is not null && wrapper.Properties[FingerprintProperty] is not null)
            {
                wrapper.Properties.Remove(FingerprintProperty);
            }
            return entry;
        }

        /// <summary>SHA-256 of a file's bytes, as 64 lowercase hex digits.</summary>
        internal static string HashFile(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920);
            using var sha = SHA256.Create();
            return Hex(sha.ComputeHash(stream));
        }

        /// <summary>
        /// A file's key: its path relative to <paramref name="basePath"/>, with '/' separators on every OS ("../" when
        /// it lies outside). Compared case-insensitively on Windows.
        /// </summary>
        internal static string RelativeKey(string basePath, string fullPath)
        {
            var comparison = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            string[] from = Segments(basePath);
            string[] to = Segments(fullPath);
            int common = 0;
            while (common < from.Length && common < to.Length && string.Equals(from[common], to[common], comparison))
            {
                common++;
            }
            var parts = new List<string>();
            for (int i = common; i < from.Length; i++)
            {
                parts.Add("..");
            }
            for (int i = common; i < to.Length; i++)
            {
                parts.Add(to[i]);
            }
            return parts.Count == 0 ? "." : string.Join("/", parts);
        }

        private static string[] Segments(string path)
        {
            string full = Path.GetFullPath(path);
            return full.Split(new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries);
        }

        /// <summary>
        /// The child keys a rollup summary names: each of its lines "[key] summary" whose key is one of
        /// <paramref name="known"/> (a summary may itself hold newlines, so only known keys count).
        /// </summary>
        internal static IEnumerable<string> KeysNamedBy(string rollupSummary, ICollection<string> known)
        {
            foreach (string line in rollupSummary.Split('\n'))
            {
                if (line.Length < 3 || line[0] != '[')
                {
                    continue;
                }
                int at = line.IndexOf("] ", 1, StringComparison.Ordinal);
                while (at > 0)
                {
                    string candidate = line.Substring(1, at - 1);
                    if (known.Contains(candidate))
                    {
                        yield return candidate;
                        break;
                    }
                    at = line.IndexOf("] ", at + 1, StringComparison.Ordinal);
                }
            }
        }

        private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    writer.WriteStartObject();
                    foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                    {
                        writer.WritePropertyName(property.Name);
                        WriteCanonical(writer, property.Value);
                    }
                    writer.WriteEndObject();
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    foreach (var item in element.EnumerateArray())
                    {
                        WriteCanonical(writer, item);
                    }
                    writer.WriteEndArray();
                    break;
                default:
                    element.WriteTo(writer);
                    break;
            }
        }

        private static byte[] Write(Action<Utf8JsonWriter> write)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, WriterOptions))
            {
                write(writer);
            }
            return stream.ToArray();
        }

        private static byte[] Sha256(byte[] data)
        {
            using var sha = SHA256.Create();
            return sha.ComputeHash(data);
        }

        private static string Hex(byte[] bytes)
        {
            var text = new StringBuilder(bytes.Length * 2);
            foreach (byte b in bytes)
            {
                text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            return text.ToString();
        }
    }
}
