using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>Serializer options for the wire models, with free-form values routed to an <see cref="IJsonValueConverter"/>.</summary>
    internal static class JsonOptions
    {
        /// <summary>Deep enough for payloads nested far beyond the 64 levels the module promises, plus the envelope.</summary>
        internal const int MaxDepth = 512;

        internal static JsonSerializerOptions Create(IJsonValueConverter valueConverter)
        {
            var options = new JsonSerializerOptions
            {
                MaxDepth = MaxDepth,
                PropertyNameCaseInsensitive = false,
                NumberHandling = JsonNumberHandling.Strict,
            };
            options.Converters.Add(new ValueConverterAdapter(valueConverter));
            return options;
        }

        internal static readonly JsonReaderOptions ReaderOptions = new JsonReaderOptions { MaxDepth = MaxDepth };

        internal static readonly JsonWriterOptions WriterOptions = new JsonWriterOptions
        {
            // Keep non-ASCII text as UTF-8 rather than \u escapes, and do not escape HTML-sensitive characters:
            // the body is JSON for a JSON API, never embedded in a page.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            SkipValidation = false,
        };

        private sealed class ValueConverterAdapter : JsonConverter<object>
        {
            private readonly IJsonValueConverter _inner;

            public ValueConverterAdapter(IJsonValueConverter inner) => _inner = inner;

            public override object? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
                => _inner.Read(ref reader);

            public override void Write(Utf8JsonWriter writer, object value, JsonSerializerOptions options)
                => _inner.Write(writer, value);
        }
    }
}
