using System;

namespace AgentMailbox.PowerShell
{
    /// <summary>
    /// The pauses between two polls: short at first, so a message that is about to come is seen at once, then half
    /// as long again after each empty poll, up to the longest pause asked for (-PollIntervalSec).
    /// </summary>
    internal sealed class PollBackoff
    {
        /// <summary>The first pause (or the longest, when that is shorter).</summary>
        internal static readonly TimeSpan First = TimeSpan.FromMilliseconds(200);

        private readonly TimeSpan _longest;

        internal PollBackoff(TimeSpan longest)
        {
            _longest = longest;
            Interval = First < longest ? First : longest;
        }

        /// <summary>The pause before the next poll.</summary>
        internal TimeSpan Interval { get; private set; }

        /// <summary>Lengthens the pause after an empty poll; returns the new pause.</summary>
        internal TimeSpan Grow()
        {
            Interval = TimeSpan.FromTicks(Math.Min((long)(Interval.Ticks * 1.5), _longest.Ticks));
            return Interval;
        }

        /// <summary>Starts again from the first pause, after a poll that found something.</summary>
        internal void Reset() => Interval = First < _longest ? First : _longest;
    }
}
