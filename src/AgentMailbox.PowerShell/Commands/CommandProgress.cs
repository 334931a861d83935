using System;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Threading;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// The progress record of a long-running command: nothing for the first two seconds (short calls write none), then
    /// at most four updates a second with what has been done so far and the rate (and a percentage and the time left
    /// when the total is known), and a completed record at the end if any was written. $ProgressPreference silences it,
    /// as it does every Write-Progress.
    /// </summary>
    /// <remarks>
    /// Use it from the pipeline thread only: create it in BeginProcessing (or where the work starts), call
    /// <see cref="Add"/> for each unit done (a message sent, an object written), <see cref="Update"/> while waiting, and
    /// <see cref="Complete"/> when the work ends. <see cref="ThrottledRequests{T}"/> does all three for its inputs.
    /// </remarks>
    internal sealed class CommandProgress
    {
        /// <summary>How long a command runs before it shows progress.</summary>
        internal static readonly TimeSpan Delay = TimeSpan.FromSeconds(2);

        private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
        private static int s_nextActivityId = 0x4D41;

        private readonly Cmdlet _cmdlet;
        private readonly string _activity;
        private readonly string _unit;
        private readonly int _activityId;
        private readonly Stopwatch _watch = Stopwatch.StartNew();
        private TimeSpan _lastWritten;
        private bool _written;
        private bool _completed;

        /// <param name="cmdlet">The command that writes the record.</param>
        /// <param name="activity">What the command does, e.g. "Sending messages as alice".</param>
        /// <param name="unit">The past participle the count is shown with, e.g. "sent" (shows "120 sent, 40.0/s").</param>
        internal CommandProgress(Cmdlet cmdlet, string activity, string unit)
        {
            _cmdlet = cmdlet ?? throw new ArgumentNullException(nameof(cmdlet));
            _activity = activity;
            _unit = unit;
            _activityId = Interlocked.Increment(ref s_nextActivityId);
        }

        /// <summary>How many units are done.</summary>
        internal long Done { get; private set; }

        /// <summary>How many units there are in all, when known (a percentage is shown then).</summary>
        internal long? Total { get; set; }

        /// <summary>Counts <paramref name="count"/> units done and writes a record when one is due.</summary>
        internal void Add(long count = 1)
        {
            Done += count;
            Update();
        }

        /// <summary>Writes a record when one is due: after <see cref="Delay"/>, at most every quarter of a second.</summary>
        internal void Update()
        {
            if (_completed)
            {
                return;
            }
            var elapsed = _watch.Elapsed;
            if (elapsed < Delay || (_written && elapsed - _lastWritten < Interval))
            {
                return;
            }
            _lastWritten = elapsed;
            _written = true;
            double rate = Done / Math.Max(elapsed.TotalSeconds, 0.001);
            var record = new ProgressRecord(_activityId, _activity,
                string.Format(CultureInfo.CurrentCulture, "{0:N0} {1}, {2:0.0}/s", Done, _unit, rate));
            if (Total is long total && total > 0)
            {
                record.PercentComplete = (int)Math.Min(100, Math.Max(0, Done * 100 / total));
                if (rate > 0 && total > Done)
                {
                    record.SecondsRemaining = (int)Math.Min(int.MaxValue, (total - Done) / rate);
                }
            }
            _cmdlet.WriteProgress(record);
        }

        /// <summary>Completes the record, if one was written; later calls do nothing.</summary>
        internal void Complete()
        {
            if (_completed)
            {
                return;
            }
            _completed = true;
            if (_written)
            {
                _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity,
                    string.Format(CultureInfo.CurrentCulture, "{0:N0} {1}", Done, _unit)) { RecordType = ProgressRecordType.Completed });
            }
        }
    }
}
