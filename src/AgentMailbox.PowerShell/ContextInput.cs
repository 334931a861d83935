using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Text;
using System.Text.Json;

namespace AgentMailbox.PowerShell
{
    /// <summary>Checks and shapes the input of the context cmdlets (graph, index) before any request.</summary>
    internal static class ContextInput
    {
        /// <summary>
        /// Free-form metadata as the server will store and return it: a JSON object, at any depth. A hashtable, an
        /// ordered dictionary or a PSCustomObject is taken as it is; a string is read as JSON text (a CSV cell), and
        /// empty text means none. The value is written to JSON and read back, so what a cmdlet outputs is what a later
        /// read gives (PSCustomObjects, numbers as the narrowest type that holds them) and a value with no JSON form
        /// (a cycle, NaN, a script block inside) is refused here, before any request. Null stays null.
        /// </summary>
        /// <exception cref="ArgumentException">The value is not a JSON object, or has no JSON form.</exception>
        internal static object? Metadata(object? metadata, string parameterName)
        {
            object? value = PSJsonValueConverter.Unwrap(metadata, out _);
            if (value is null)
            {
                return null;
            }
            byte[] json;
            if (value is string text)
            {
                if (string.IsNullOrWhiteSpace(text))
                {
                    return null;
                }
                json = Encoding.UTF8.GetBytes(text);
            }
            else if (value is IDictionary || value is PSCustomObject)
            {
                try
                {
                    using var stream = new MemoryStream();
                    using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { SkipValidation = false }))
                    {
                        PSJsonValueConverter.Instance.Write(writer, metadata);
                    }
                    json = stream.ToArray();
                }
                catch (PayloadConversionException ex)
                {
                    throw new ArgumentException($"-{parameterName} has no JSON form: {ex.Message}", parameterName, ex);
                }
            }
            else
            {
                throw new ArgumentException(
                    $"-{parameterName} must be a JSON object: a hashtable, ordered dictionary, PSCustomObject or JSON text, not {value.GetType().Name}.",
                    parameterName);
            }
            return ReadObject(json, parameterName);
        }

        private static object ReadObject(byte[] json, string parameterName)
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = PSJsonValueConverter.MaxDepth + 1 });
            try
            {
                if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    object? value = PSJsonValueConverter.Instance.Read(ref reader);
                    if (!reader.Read())
                    {
                        return value!;
                    }
                }
            }
            catch (JsonException)
            {
            }
            throw new ArgumentException($"-{parameterName} text is not a JSON object.", parameterName);
        }

        /// <summary>The server's spelling of a closed-set word given in any case (ValidateSet lets 'File' through for 'file').</summary>
        internal static string Canonical(System.Collections.Generic.IReadOnlyList<string> words, string value)
        {
            foreach (string word in words)
            {
                if (string.Equals(word, value, StringComparison.OrdinalIgnoreCase))
                {
                    return word;
                }
            }
            return value;
        }
    }

    /// <summary>A number that must be positive and finite (an edge weight): checked before any request.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidatePositiveFiniteAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            object? value = arguments is PSObject pso ? pso.BaseObject : arguments;
            if (!(value is double number) || double.IsNaN(number) || double.IsInfinity(number) || number <= 0)
            {
                throw new ValidationMetadataException($"The value must be a positive finite number, not {value ?? "null"}.");
            }
        }
    }
}
