using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace AgentMailbox.PowerShell
{
    /// <summary>
    /// Registers the Windows PowerShell dependency resolver when the module is imported, and closes the default
    /// connection when the module is removed, so no HTTP client outlives it.
    /// </summary>
    /// <remarks>
    /// This type runs before anything of the module touches System.Text.Json, so it must not refer to it (or to
    /// any type that does) outside <see cref="CloseDefaultConnection"/>, which runs only on removal.
    /// </remarks>
    public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        public void OnImport()
        {
            string? refusal = RuntimeSupport.Refusal(DependencyResolver.IsDesktop, Environment.Version);
            if (refusal is not null)
            {
                throw new PlatformNotSupportedException(refusal);
            }
            DependencyResolver.Register();
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            CloseDefaultConnection();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void CloseDefaultConnection() => DefaultConnection.Exchange(null)?.Close();
    }

    /// <summary>
    /// Which runtimes the module imports in. The manifest's PowerShellVersion (5.1, for Windows PowerShell) lets
    /// PowerShell 7.0–7.3 import it too, but their .NET (3.1, 5, 6, 7) carries a System.Text.Json older than the
    /// 8.0 the module is built on, and the runtime serves its own copy there (the resolver is for Windows
    /// PowerShell only), so the module would fail on its first JSON call. It refuses at import instead, naming 7.4.
    /// </summary>
    internal static class RuntimeSupport
    {
        /// <summary>The first PowerShell 7 that runs on .NET 8, whose System.Text.Json the module needs.</summary>
        internal static readonly Version MinimumPowerShell = new Version(7, 4);

        /// <summary>The .NET that PowerShell 7.4 runs on.</summary>
        internal static readonly Version MinimumRuntime = new Version(8, 0);

        /// <summary>Why the module cannot run here, or null when it can: Windows PowerShell (.NET Framework, whose
        /// dependencies the resolver serves) and .NET 8 or later (PowerShell 7.4+) can.</summary>
        internal static string? Refusal(bool isDesktop, Version runtimeVersion)
        {
            if (isDesktop || runtimeVersion >= MinimumRuntime)
            {
                return null;
            }
            return $"AgentMailbox needs PowerShell {MinimumPowerShell} or later (or Windows PowerShell 5.1). This PowerShell runs on .NET {runtimeVersion.ToString(2)}, "
                + $"whose System.Text.Json is older than the 8.0 the module is built on. Install PowerShell {MinimumPowerShell} or later.";
        }
    }

    /// <summary>
    /// Serves the module's netstandard2.0 dependency set (System.Text.Json and its closure) from the
    /// <c>Dependencies</c> folder beside the module's DLLs, in Windows PowerShell only.
    /// </summary>
    /// <remarks>
    /// Windows PowerShell has no binding redirects for a module, and its application base does not hold these
    /// assemblies, so their loads fail and end in <see cref="AppDomain.AssemblyResolve"/>. The handler answers only
    /// requests made by the module's own DLLs or by the DLLs in <c>Dependencies</c>, and only with a copy at least as
    /// new as the one requested (the rule a binding redirect would apply); every other request is left to whoever
    /// else answers it, so another module's copies never meet this module's. In PowerShell 7 the runtime's own
    /// System.Text.Json and its companions serve and the handler is not registered; were it registered there, it
    /// would never be asked for them, and a copy the runtime refuses to load is answered with null.
    /// The handler stays registered for the life of the process: the module's assemblies cannot be unloaded, and
    /// objects created by them may still be used after <c>Remove-Module</c>.
    /// </remarks>
    internal static class DependencyResolver
    {
        internal const string DependencyFolderName = "Dependencies";

        private static readonly object Gate = new object();
        private static bool s_registered;
        private static string? s_moduleDirectory;
        private static string? s_dependencyDirectory;

        /// <summary>True in Windows PowerShell (.NET Framework), where the resolver is needed.</summary>
        internal static bool IsDesktop => typeof(object).Assembly.GetName().Name == "mscorlib";

        internal static bool IsRegistered
        {
            get { lock (Gate) { return s_registered; } }
        }

        internal static void Register() => Register(evenOnCore: false);

        /// <summary>Registers the handler once; <paramref name="evenOnCore"/> registers it in PowerShell 7 too (for tests).</summary>
        internal static void Register(bool evenOnCore)
        {
            if (!evenOnCore && !IsDesktop) return;
            lock (Gate)
            {
                if (s_registered) return;
                string? moduleDirectory = Path.GetDirectoryName(typeof(DependencyResolver).Assembly.Location);
                if (string.IsNullOrEmpty(moduleDirectory)) return;
                s_moduleDirectory = Path.GetFullPath(moduleDirectory);
                s_dependencyDirectory = Path.Combine(s_moduleDirectory, DependencyFolderName);
                AppDomain.CurrentDomain.AssemblyResolve += Resolve;
                s_registered = true;
            }
        }

        internal static Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            string? moduleDirectory = s_moduleDirectory;
            string? dependencyDirectory = s_dependencyDirectory;
            if (moduleDirectory is null || dependencyDirectory is null) return null;
            if (!IsFrom(args.RequestingAssembly, moduleDirectory, dependencyDirectory)) return null;

            AssemblyName requested;
            try { requested = new AssemblyName(args.Name); }
            catch (Exception e) when (e is ArgumentException || e is FileLoadException) { return null; }
            string? simpleName = requested.Name;
            if (string.IsNullOrEmpty(simpleName) || simpleName!.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0) return null;
            if (requested.CultureInfo != null && requested.CultureInfo.Name.Length > 0) return null;

            string path = Path.Combine(dependencyDirectory, simpleName + ".dll");
            if (!File.Exists(path)) return null;
            try
            {
                AssemblyName available = AssemblyName.GetAssemblyName(path);
                if (requested.Version != null && available.Version != null && available.Version < requested.Version) return null;
                return Assembly.LoadFrom(path);
            }
            catch (Exception e) when (e is IOException || e is BadImageFormatException || e is UnauthorizedAccessException || e is System.Security.SecurityException)
            {
                return null;
            }
        }

        private static bool IsFrom(Assembly? requesting, string moduleDirectory, string dependencyDirectory)
        {
            if (requesting is null || requesting.IsDynamic) return false;
            string location;
            try { location = requesting.Location; }
            catch (NotSupportedException) { return false; }
            if (string.IsNullOrEmpty(location)) return false;
            string? directory = Path.GetDirectoryName(Path.GetFullPath(location));
            return directory != null &&
                (string.Equals(directory, moduleDirectory, StringComparison.OrdinalIgnoreCase) ||
                 string.Equals(directory, dependencyDirectory, StringComparison.OrdinalIgnoreCase));
        }
    }
}
