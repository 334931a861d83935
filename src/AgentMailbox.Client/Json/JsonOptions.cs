using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

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
                // The wire types' metadata is source-generated (no reflection, no emitted IL on a cold start); any
                // other type is served by reflection, as before.
                TypeInfoResolver = Resolver,
            };
            options.Converters.Add(new ValueConverterAdapter(valueConverter));
            return options;
        }

        /// <summary>The source-generated context first, reflection for whatever it does not know.</summary>
        internal static readonly IJsonTypeInfoResolver Resolver = JsonTypeInfoResolver.Combine(WireJsonContext.Default, new RecordingReflectionResolver());

        private static readonly ConcurrentDictionary<Type, bool> s_fallbacks = new ConcurrentDictionary<Type, bool>();

        /// <summary>Every type whose metadata came from the reflection fallback in this process (for tests).</summary>
        internal static ICollection<Type> ReflectionFallbackTypes => s_fallbacks.Keys;

        /// <summary>Reflection-based metadata, noting each type it serves.</summary>
        private sealed class RecordingReflectionResolver : DefaultJsonTypeInfoResolver
        {
            public override JsonTypeInfo GetTypeInfo(Type type, JsonSerializerOptions options)
            {
                s_fallbacks.TryAdd(type, true);
                return base.GetTypeInfo(type, options);
            }
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

            /// <summary>Objects and arrays of a streamed list's item stay bytes until first read (see <see cref="DeferredJsonValue"/>).</summary>
            public override object? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
                => DeferredJsonValue.TryCapture(ref reader, _inner, out var deferred) ? deferred : _inner.Read(ref reader);

            public override void Write(Utf8JsonWriter writer, object value, JsonSerializerOptions options)
                => _inner.Write(writer, value);
        }
    }
}
