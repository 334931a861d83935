using System.IO;
using System.Text;
using System.Text.Json;

namespace AgentMailbox.PowerShell
{
    /// <summary>Helpers for the format views.</summary>
    public static class Display
    {
        private const int SummaryLength = 60;

        /// <summary>A one-line summary of a payload for table views: a string as itself, anything else as compact JSON.</summary>
        public static string Summary(object? payload)
        {
            object? value = PSJsonValueConverter.Unwrap(payload, out _);
            string text;
            if (value is null)
            {
                return "";
            }
            if (value is string s)
            {
                text = s;
            }
            else
            {
                try
                {
                    using var stream = new MemoryStream();
                    using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                    {
                        PSJsonValueConverter.Instance.Write(writer, payload);
                    }
                    text = Encoding.UTF8.GetString(stream.ToArray());
                }
                catch (PayloadConversionException)
                {
                    text = value.ToString() ?? "";
                }
            }
            text = text.Replace("\r", " ").Replace("\n", " ");
            return text.Length <= SummaryLength ? text : text.Substring(0, SummaryLength - 1) + "…";
        }
    }
}
