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
