using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>The wire carries times as epoch milliseconds; objects carry UTC <see cref="DateTimeOffset"/>.</summary>
    internal sealed class EpochMillisecondsConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Number)
            {
                // Integral in practice; a fractional value is tolerated and rounded down.
                long ms = reader.TryGetInt64(out long whole) ? whole : (long)Math.Floor(reader.GetDouble());
                return DateTimeOffset.FromUnixTimeMilliseconds(ms);
            }
            if (reader.TokenType == JsonTokenType.String && DateTimeOffset.TryParse(reader.GetString(),
                    System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return parsed.ToUniversalTime();
            }
            if (reader.TokenType == JsonTokenType.Null)
            {
                return default;
            }
            throw new JsonException($"Expected a time in epoch milliseconds, found {reader.TokenType}.");
        }

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
            => writer.WriteNumberValue(value.ToUnixTimeMilliseconds());
    }

    /// <summary>Like <see cref="EpochMillisecondsConverter"/>, for times an answer may leave out (null stays null).</summary>
    internal sealed class NullableEpochMillisecondsConverter : JsonConverter<DateTimeOffset?>
    {
        private static readonly EpochMillisecondsConverter Inner = new EpochMillisecondsConverter();

        public override bool HandleNull => true;

        public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => reader.TokenType == JsonTokenType.Null ? null : Inner.Read(ref reader, typeof(DateTimeOffset), options);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteNumberValue(value.Value.ToUnixTimeMilliseconds());
            }
        }
    }

    internal sealed class ParticipantRoleConverter : JsonConverter<ParticipantRole>
    {
        public override ParticipantRole Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            string? text = reader.GetString();
            switch (text?.ToLowerInvariant())
            {
                case "to": return ParticipantRole.To;
                case "cc": return ParticipantRole.Cc;
                case "bcc": return ParticipantRole.Bcc;
                default: throw new JsonException($"Unknown participant role '{text}'.");
            }
        }

        public override void Write(Utf8JsonWriter writer, ParticipantRole value, JsonSerializerOptions options)
            => writer.WriteStringValue(value.ToString().ToLowerInvariant());
    }
}
