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
