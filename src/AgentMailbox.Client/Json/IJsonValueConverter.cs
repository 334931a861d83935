using System.Text.Json;

namespace AgentMailbox
{
    /// <summary>
    /// Turns free-form JSON values (payloads, context snapshots, summaries) into objects and back. The client library
    /// decodes them as <see cref="JsonElement"/> by default; a host such as the PowerShell module plugs in its own
    /// representation here, so the conversion lives in one place. It runs while the response is read, except for the
    /// objects and arrays of a streamed list's items (inbox, index entries), which it converts when a caller first
    /// reads the property that holds them (see <see cref="DeferredJsonValue"/>), possibly on another thread.
    /// </summary>
    public interface IJsonValueConverter
    {
        /// <summary>Reads the value at the reader's current token (and leaves the reader on its last token).</summary>
        object? Read(ref Utf8JsonReader reader);

        /// <summary>Writes <paramref name="value"/> as one JSON value.</summary>
        void Write(Utf8JsonWriter writer, object? value);
    }

    /// <summary>The default value converter: <see cref="JsonElement"/> in, System.Text.Json serialization out.</summary>
    public sealed class JsonElementValueConverter : IJsonValueConverter
    {
        public static JsonElementValueConverter Instance { get; } = new JsonElementValueConverter();

        private static readonly JsonSerializerOptions WriteOptions = new JsonSerializerOptions
        {
            MaxDepth = JsonOptions.MaxDepth,
            Encoder = JsonOptions.WriterOptions.Encoder,
        };

        public object? Read(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.Clone();
        }

        public void Write(Utf8JsonWriter writer, object? value)
        {
            if (value is null)
            {
                writer.WriteNullValue();
                return;
            }
            JsonSerializer.Serialize(writer, value, value.GetType(), WriteOptions);
        }
    }
}
