// The JSON <-> PSObject converter measured on its own: reading a 1 KB and a 1 MB payload into PSCustomObjects, and
// writing them (and the hashtables users pass) back to JSON, with allocations. System.Text.Json's own JsonDocument /
// JsonElement, what a raw client keeps, is the baseline for reading.
using System.Collections;
using System.Runtime.Loader;
using System.Text.Json;
using AgentMailbox.PowerShell;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace AgentMailbox.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        string? psHome = Option(args, "--pshome") ?? Environment.GetEnvironmentVariable("PSHOME");
        string artifacts = Option(args, "--artifacts") ?? Path.Combine(Environment.CurrentDirectory, "BenchmarkDotNet.Artifacts");
        bool quick = args.Contains("--quick");
        if (string.IsNullOrEmpty(psHome) || !File.Exists(Path.Combine(psHome, "System.Management.Automation.dll")))
        {
            Console.Error.WriteLine("Give the PowerShell home (the folder of System.Management.Automation.dll): --pshome <dir>.");
            return 2;
        }
        // The real PowerShell engine and its dependencies come from PSHOME, as they do when the module runs in pwsh.
        string platform = OperatingSystem.IsWindows() ? "win" : "unix";
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            string file = name.Name + ".dll";
            string candidate = Path.Combine(psHome, file);
            if (!File.Exists(candidate))
            {
                string runtimes = Path.Combine(psHome, "runtimes", platform, "lib");
                candidate = Directory.Exists(runtimes) ? Directory.EnumerateFiles(runtimes, file, SearchOption.AllDirectories).FirstOrDefault() ?? "" : "";
            }
            return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
        };

        var job = (quick ? Job.Dry : Job.ShortRun).WithToolchain(InProcessEmitToolchain.Instance);
        string? problem = WhyPSCustomObjectsCannotBeWritten();
        Directory.CreateDirectory(artifacts);
        File.WriteAllText(Path.Combine(artifacts, "notes.txt"), problem is null ? "" :
            $"'write: PSCustomObject -> JSON' is not measured: the converter refuses a PSCustomObject that holds another ({problem})");
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub)
            .WithArtifactsPath(artifacts)
            .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator)
            .HideColumns("Job", "Toolchain", "IterationCount", "LaunchCount", "WarmupCount", "Error", "StdDev");
        if (problem is not null)
        {
            Console.WriteLine($"Not measured: writing nested PSCustomObjects fails: {problem}");
            config = config.AddFilter(new BenchmarkDotNet.Filters.SimpleFilter(b => b.Descriptor.WorkloadMethod.Name != nameof(ConverterBenchmarks.WritePS)));
        }
        Summary summary = BenchmarkRunner.Run<ConverterBenchmarks>(config);
        return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
    }

    /// <summary>Null when the converter writes PSCustomObjects nested in PSCustomObjects (as read from JSON), else its error.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static string? WhyPSCustomObjectsCannotBeWritten()
    {
        byte[] json = """{"a":{"b":1}}"""u8.ToArray();
        var reader = new Utf8JsonReader(json);
        reader.Read();
        object? value = PSJsonValueConverter.Instance.Read(ref reader);
        using var writer = new Utf8JsonWriter(Stream.Null);
        try
        {
            PSJsonValueConverter.Instance.Write(writer, value);
            return null;
        }
        catch (PayloadConversionException ex)
        {
            return ex.Message;
        }
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

[MemoryDiagnoser]
public class ConverterBenchmarks
{
    private byte[] _json = [];
    private object? _psValue;
    private object? _hashtable;
    private readonly ArrayBufferWriter _buffer = new();

    [Params("1 KB", "1 MB")]
    public string Size { get; set; } = "1 KB";

    [GlobalSetup]
    public void Setup()
    {
        int target = Size == "1 MB" ? 1024 * 1024 : 1024;
        _json = Payloads.Build(target);
        _psValue = ReadPS();
        _hashtable = Payloads.ToHashtable(JsonDocument.Parse(_json).RootElement);
    }

    [Benchmark(Description = "read: JSON -> JsonElement (STJ baseline)")]
    public object ReadJsonElement()
    {
        var reader = new Utf8JsonReader(_json, new JsonReaderOptions { MaxDepth = 512 });
        reader.Read();
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.Clone();
    }

    [Benchmark(Description = "read: JSON -> PSCustomObject")]
    public object? ReadPS()
    {
        var reader = new Utf8JsonReader(_json, new JsonReaderOptions { MaxDepth = 512 });
        reader.Read();
        return PSJsonValueConverter.Instance.Read(ref reader);
    }

    [Benchmark(Description = "write: PSCustomObject -> JSON")]
    public int WritePS() => Write(_psValue);

    [Benchmark(Description = "write: hashtable -> JSON")]
    public int WriteHashtable() => Write(_hashtable);

    private int Write(object? value)
    {
        _buffer.Clear();
        using var writer = new Utf8JsonWriter(_buffer);
        PSJsonValueConverter.Instance.Write(writer, value);
        writer.Flush();
        return _buffer.WrittenCount;
    }

    private sealed class ArrayBufferWriter : System.Buffers.IBufferWriter<byte>
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _inner = new(4 * 1024 * 1024);
        public int WrittenCount => _inner.WrittenCount;
        public void Clear() => _inner.ResetWrittenCount();
        public void Advance(int count) => _inner.Advance(count);
        public Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);
        public Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);
    }
}

/// <summary>Payloads shaped like agents' messages: objects of strings, numbers, booleans, nested objects and arrays.</summary>
internal static class Payloads
{
    public static byte[] Build(int targetBytes)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("task", "summarize the findings");
            w.WriteNumber("priority", 2);
            w.WriteBoolean("urgent", false);
            w.WriteStartArray("items");
            for (int i = 0; ; i++)
            {
                w.Flush();
                if (stream.Length >= targetBytes - 200)
                {
                    break;
                }
                w.WriteStartObject();
                w.WriteString("id", $"item-{i:00000}");
                w.WriteString("title", "Section " + i + ": results and discussion");
                w.WriteNumber("score", 0.5 + i % 100 / 200.0);
                w.WriteNumber("count", i * 7);
                w.WriteBoolean("done", i % 3 == 0);
                w.WriteStartArray("tags");
                w.WriteStringValue("research");
                w.WriteStringValue("draft");
                w.WriteEndArray();
                w.WriteStartObject("source");
                w.WriteString("file", $"papers/{i % 50:000}.pdf");
                w.WriteNumber("page", i % 300);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    public static object? ToHashtable(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => ToTable(element),
        JsonValueKind.Array => element.EnumerateArray().Select(ToHashtable).ToArray(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt32(out int i) ? i : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static Hashtable ToTable(JsonElement element)
    {
        var table = new Hashtable();
        foreach (var property in element.EnumerateObject())
        {
            table[property.Name] = ToHashtable(property.Value);
        }
        return table;
    }
}
