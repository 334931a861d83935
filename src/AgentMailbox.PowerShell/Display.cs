namespace AgentMailbox.PowerShell
{
    /// <summary>Helpers for the format views.</summary>
    /// <remarks>
    /// In the root DLL, so (like every type there) it must not derive from, implement or hold in a field a type of the
    /// Dependencies set: Windows PowerShell loads these types before the module's resolver is registered.
    /// </remarks>
    public static class Display
    {
        private const int SummaryLength = 60;

        /// <summary>Enough UTF-8 for one more character than the column holds, whatever the characters are.</summary>
        private const int SummaryBytes = (SummaryLength + 1) * 4;

        /// <summary>
        /// A one-line summary of a payload for table views: a string as itself, anything else as compact JSON. Only the
        /// start of the JSON is written, enough for the column, so a large payload costs about as much to show as a
        /// small one.
        /// </summary>
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
                text = s.Length > SummaryLength ? s.Substring(0, SummaryLength + 1) : s;
            }
            else
            {
                try
                {
                    text = JsonPreview.Start(writer => PSJsonValueConverter.Instance.Write(writer, payload), SummaryBytes);
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
