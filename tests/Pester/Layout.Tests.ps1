<#
    The laid-out module (out/AgentMailbox) and its package (out/packages): the exact file list, the dependency
    closure for Windows PowerShell 5.1, the manifest, one version everywhere, and loading side by side with other
    copies of the dependencies. Windows PowerShell itself cannot run here; README.md describes the manual check.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'FreshPwsh.psm1') -Force
    $script:repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:moduleDir = Join-Path $repoRoot 'out/AgentMailbox'
    $script:manifestPath = Join-Path $moduleDir 'AgentMailbox.psd1'
    if (-not (Test-Path $manifestPath)) { throw "The module is not built ($manifestPath): run ./build.ps1." }
    $script:manifest = Import-PowerShellDataFile $manifestPath
    $script:version = Get-ModuleVersionInfo
    $script:nupkg = Join-Path $repoRoot "out/packages/AgentMailbox.$($version.Full).nupkg"

    # The netstandard2.0 dependency set Windows PowerShell 5.1 needs in Dependencies/: the closure of System.Text.Json 8.x.
    $script:dependencies = @(
        'Microsoft.Bcl.AsyncInterfaces.dll'
        'System.Buffers.dll'
        'System.Memory.dll'
        'System.Numerics.Vectors.dll'
        'System.Runtime.CompilerServices.Unsafe.dll'
        'System.Text.Encodings.Web.dll'
        'System.Text.Json.dll'
        'System.Threading.Tasks.Extensions.dll'
    )
    $script:expectedFiles = @('AgentMailbox.psd1', 'AgentMailbox.PowerShell.dll', 'AgentMailbox.Client.dll', 'AgentMailbox.Format.ps1xml', 'LICENSE') +
        @($dependencies | ForEach-Object { "Dependencies/$_" })
    # The help step's output.
    $script:helpFiles = @('en-US/AgentMailbox.PowerShell.dll-Help.xml', 'en-US/about_AgentMailbox.help.txt')
    # Assemblies .NET Framework 4.7.2 and Windows PowerShell 5.1 provide, with the highest version they provide.
    $script:inBox = @{
        'netstandard'                  = [version]'2.0.0.0'
        'mscorlib'                     = [version]'4.0.0.0'
        'System'                       = [version]'4.0.0.0'
        'System.Core'                  = [version]'4.0.0.0'
        'System.Management.Automation' = [version]'3.0.0.0'
    }
    # The aliases cmdlets.md defines (Get-AgentThreadContext's Sync-AgentThread) and nothing else.
    $script:contractAliases = @('Sync-AgentThread')

    function Get-LayoutFile([string] $Directory) {
        $prefix = (Resolve-Path $Directory).Path.TrimEnd([IO.Path]::DirectorySeparatorChar) + [IO.Path]::DirectorySeparatorChar
        Get-ChildItem $Directory -Recurse -File | ForEach-Object { $_.FullName.Substring($prefix.Length).Replace('\', '/') }
    }

    function Read-AssemblyMetadata([string] $Path) {
        <# Name, Version and references of an assembly, read with System.Reflection.Metadata (nothing is loaded). #>
        $stream = [IO.File]::OpenRead($Path)
        try {
            $pe = [System.Reflection.PortableExecutable.PEReader]::new($stream)
            $reader = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
            $definition = $reader.GetAssemblyDefinition()
            $references = foreach ($handle in $reader.AssemblyReferences) {
                $reference = $reader.GetAssemblyReference($handle)
                [pscustomobject]@{ Name = $reader.GetString($reference.Name); Version = $reference.Version }
            }
            [pscustomobject]@{
                File       = $Path
                Name       = $reader.GetString($definition.Name)
                Version    = $definition.Version
                References = @($references)
            }
        }
        finally { $stream.Dispose() }
    }
}

Describe 'The laid-out module' {
    It 'holds exactly the listed files' {
        $expected = $expectedFiles
        $expected += $helpFiles
        @(Get-LayoutFile $moduleDir | Sort-Object) | Should -Be @($expected | Sort-Object)
    }

    It 'ships every assembly the module needs in Windows PowerShell 5.1, and nothing more' {
        $shipped = @{}
        foreach ($dll in Get-ChildItem $moduleDir -Recurse -Filter *.dll) { $metadata = Read-AssemblyMetadata $dll.FullName; $shipped[$metadata.Name] = $metadata }
        $unsatisfied = [System.Collections.Generic.List[string]]::new()
        $reached = [System.Collections.Generic.HashSet[string]]::new()
        $queue = [System.Collections.Generic.Queue[string]]::new()
        $queue.Enqueue('AgentMailbox.PowerShell')
        while ($queue.Count) {
            $name = $queue.Dequeue()
            if (-not $reached.Add($name)) { continue }
            foreach ($reference in $shipped[$name].References) {
                if ($shipped.ContainsKey($reference.Name)) {
                    # The resolver serves a shipped copy at least as new as the one requested, as a binding redirect would.
                    if ($shipped[$reference.Name].Version -lt $reference.Version) { $unsatisfied.Add("$name -> $($reference.Name) $($reference.Version) (ships $($shipped[$reference.Name].Version))") }
                    $queue.Enqueue($reference.Name)
                }
                elseif ($inBox.ContainsKey($reference.Name)) {
                    if ($inBox[$reference.Name] -lt $reference.Version) { $unsatisfied.Add("$name -> $($reference.Name) $($reference.Version) (in-box $($inBox[$reference.Name]))") }
                }
                else { $unsatisfied.Add("$name -> $($reference.Name) $($reference.Version)") }
            }
        }
        $unsatisfied | Should -BeNullOrEmpty
        @($shipped.Keys | Where-Object { -not $reached.Contains($_) }) | Should -BeNullOrEmpty -Because 'every shipped DLL is in the closure'
    }

    It 'ships .NET Standard or .NET Framework builds of the dependencies, not .NET Core ones' {
        foreach ($dll in Get-ChildItem (Join-Path $moduleDir 'Dependencies') -Filter *.dll) {
            $names = (Read-AssemblyMetadata $dll.FullName).References.Name
            $names | Should -Not -Contain 'System.Runtime' -Because "$($dll.Name) must load on .NET Framework"
            $names | Should -Not -Contain 'System.Private.CoreLib' -Because "$($dll.Name) must load on .NET Framework"
        }
    }

    It 'loads every type of the root DLL without the dependency set, so Windows PowerShell reaches the resolver first' {
        # Windows PowerShell reads the root DLL's types before it calls the module's initializer: no type there may
        # need a Dependencies/ assembly just to load (a base type, an interface, or a value-type field).
        $result = Invoke-FreshPwsh -Arguments (Join-Path $moduleDir 'AgentMailbox.PowerShell.dll'), ($dependencies -join ',') -Script @'
param($RootDll, $Dependencies)
$ErrorActionPreference = 'Stop'
$names = $Dependencies.Split(',') | ForEach-Object { [IO.Path]::GetFileNameWithoutExtension($_) }
$assembly = [System.Reflection.Assembly]::LoadFrom($RootDll)
$flags = [System.Reflection.BindingFlags]'Instance,Static,Public,NonPublic,DeclaredOnly'
$needs = foreach ($type in $assembly.GetTypes()) {
    $base = $type.BaseType
    while ($base) { if ($base.Assembly.GetName().Name -in $names) { "$($type.FullName) derives from $($base.FullName)" }; $base = $base.BaseType }
    foreach ($interface in $type.GetInterfaces()) { if ($interface.Assembly.GetName().Name -in $names) { "$($type.FullName) implements $($interface.FullName)" } }
    foreach ($field in $type.GetFields($flags)) { if ($field.FieldType.IsValueType -and $field.FieldType.Assembly.GetName().Name -in $names) { "$($type.FullName).$($field.Name) is a $($field.FieldType.FullName)" } }
}
"TYPES=$($assembly.GetTypes().Count)"
"NEEDS=$($needs -join '; ')"
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match 'TYPES=[1-9]'
        $result.Output | Should -Match '(?m)^NEEDS=\s*$'
    }

    It 'exposes none of the internal plumbing as public types' {
        # What users need is public; the URI escaper, the timeout and observer scopes, the request record, the JSON
        # value converter of the module and the source-generated context are internal (InternalsVisibleTo serves
        # the module, the tests and the bench).
        $result = Invoke-FreshPwsh -Arguments (Join-Path $moduleDir 'AgentMailbox.Client.dll'), (Join-Path $moduleDir 'AgentMailbox.PowerShell.dll') -Script @'
param($ClientDll, $RootDll)
$ErrorActionPreference = 'Stop'
foreach ($dll in $ClientDll, $RootDll) {
    $assembly = [System.Reflection.Assembly]::LoadFrom($dll)
    "PUBLIC=" + (($assembly.GetTypes() | Where-Object IsVisible | ForEach-Object FullName | Sort-Object) -join ',')
    $options = $assembly.GetType('AgentMailbox.AgentMailboxClientOptions')
    if ($options) { "HANDLER=" + [bool]$options.GetProperty('Handler') }
}
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $lines = @($result.Output -split '\r?\n')
        $public = @($lines | Where-Object { $_ -like 'PUBLIC=*' } | ForEach-Object { $_.Substring(7).Split(',') })
        $public | Should -Contain 'AgentMailbox.InboxMessage'
        $public | Should -Contain 'AgentMailbox.MessageBase'
        $public | Should -Contain 'AgentMailbox.PowerShell.Display'
        foreach ($internal in 'AgentMailbox.UriEscaper', 'AgentMailbox.RequestTimeout', 'AgentMailbox.RequestObserver', 'AgentMailbox.RequestRecord',
            'AgentMailbox.PowerShell.PSJsonValueConverter', 'AgentMailbox.WireJsonContext', 'AgentMailbox.JsonPreview') {
            $public | Should -Not -Contain $internal
        }
        $lines | Should -Contain 'HANDLER=False' -Because 'the test-only handler option is internal'
    }

    It 'gives Message and InboxMessage the properties of the contract, from one base class' {
        Import-Module $manifestPath -Force
        [AgentMailbox.Message].BaseType | Should -Be ([AgentMailbox.MessageBase])
        [AgentMailbox.InboxMessage].BaseType | Should -Be ([AgentMailbox.MessageBase])
        # cmdlets.md: Message is Id, ThreadId, From, To, Cc, Bcc, ReplyTo, Payload, ContextSnapshot, Timestamp;
        # InboxMessage is Id, ThreadId, From, To, Cc, Bcc, ReplyTo, Payload, Timestamp, Context.
        $common = 'Id', 'ThreadId', 'From', 'To', 'Cc', 'Bcc', 'ReplyTo', 'Payload', 'Timestamp'
        @([AgentMailbox.Message].GetProperties().Name | Sort-Object) | Should -Be @($common + 'ContextSnapshot' | Sort-Object)
        @([AgentMailbox.InboxMessage].GetProperties().Name | Sort-Object) | Should -Be @($common + 'Context' | Sort-Object)
    }

    It 'keeps the dependencies out of the module folder itself, so only the resolver serves them' {
        @(Get-ChildItem $moduleDir -Filter *.dll -File).Name | Sort-Object | Should -Be @('AgentMailbox.Client.dll', 'AgentMailbox.PowerShell.dll')
    }
}

Describe 'The manifest' {
    It 'passes Test-ModuleManifest' {
        { Test-ModuleManifest -Path $manifestPath -ErrorAction Stop } | Should -Not -Throw
    }

    It 'has no wildcards, and exports no functions and no variables' {
        foreach ($key in 'CmdletsToExport', 'AliasesToExport', 'FunctionsToExport', 'VariablesToExport') {
            $manifest.ContainsKey($key) | Should -BeTrue -Because "$key is explicit"
            @($manifest[$key]) -join ',' | Should -Not -Match '[*?]'
        }
        @($manifest.FunctionsToExport).Count | Should -Be 0
        @($manifest.VariablesToExport).Count | Should -Be 0
        $manifest.ContainsKey('NestedModules') | Should -BeFalse
        $manifest.ContainsKey('RequiredAssemblies') | Should -BeFalse
    }

    It 'exports the cmdlets the DLL defines, and exactly the aliases of the contract' {
        $result = Invoke-FreshPwsh -Environment @{ PSModulePath = (Join-Path $repoRoot 'out') } -Script @'
$ErrorActionPreference = 'Stop'
Import-Module AgentMailbox
$module = Get-Module AgentMailbox
$assembly = $module.ImplementingAssembly
$cmdlets = foreach ($type in $assembly.GetExportedTypes()) {
    $attribute = $type.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) | Select-Object -First 1
    if ($attribute -and -not $type.IsAbstract) { "$($attribute.VerbName)-$($attribute.NounName)" }
}
$aliases = foreach ($type in $assembly.GetExportedTypes()) {
    if ($type.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)) {
        $type.GetCustomAttributes([System.Management.Automation.AliasAttribute], $false).AliasNames
    }
}
"REFLECTED=$(($cmdlets | Sort-Object) -join ',')"
"EXPORTED=$(($module.ExportedCmdlets.Keys | Sort-Object) -join ',')"
"DLLALIASES=$(($aliases | Sort-Object) -join ',')"
"ALIASES=$(($module.ExportedAliases.Keys | Sort-Object) -join ',')"
"FUNCTIONS=$($module.ExportedFunctions.Count) VARIABLES=$($module.ExportedVariables.Count)"
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $manifestCmdlets = ($manifest.CmdletsToExport | Sort-Object) -join ','
        $contract = ($contractAliases | Sort-Object) -join ','
        $result.Output | Should -Match "(?m)^REFLECTED=$([regex]::Escape($manifestCmdlets))\s*$"
        $result.Output | Should -Match "(?m)^EXPORTED=$([regex]::Escape($manifestCmdlets))\s*$"
        $result.Output | Should -Match "(?m)^DLLALIASES=$([regex]::Escape($contract))\s*$"
        $result.Output | Should -Match "(?m)^ALIASES=$([regex]::Escape($contract))\s*$"
        $result.Output | Should -Match 'FUNCTIONS=0 VARIABLES=0'
        (@($manifest.AliasesToExport) | Sort-Object) -join ',' | Should -Be $contract
    }

    It 'has the PSData the galleries show' {
        $psData = $manifest.PrivateData.PSData
        foreach ($tag in 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS') { $psData.Tags | Should -Contain $tag }
        @($psData.Tags) -join ' ' | Should -Not -Match '\s{2}|[*?]'
        $psData.ReleaseNotes | Should -Not -BeNullOrEmpty
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $manifest.PowerShellVersion | Should -Be '5.1'
        $manifest.DotNetFrameworkVersion | Should -Be '4.7.2'
    }

    It 'has well-formed absolute https ProjectUri and LicenseUri, stamped from Directory.Build.props' -ForEach @(
        @{ Key = 'ProjectUri'; Property = 'ProjectUri' }
        @{ Key = 'LicenseUri'; Property = 'LicenseUri' }
    ) {
        $value = $manifest.PrivateData.PSData[$Key]
        $value | Should -Be $version.$Property
        $uri = $null
        [Uri]::TryCreate($value, [UriKind]::Absolute, [ref]$uri) | Should -BeTrue
        $uri.Scheme | Should -Be 'https'
        $uri.Host | Should -Not -BeNullOrEmpty
        $value | Should -Not -Match '\{\{|\s'
    }
}

Describe 'The version' {
    It 'is one version in Directory.Build.props, the manifest, the DLLs and the package' {
        $version.Version | Should -Match '^\d+\.\d+\.\d+$'
        $version.Prerelease | Should -Match '^[0-9A-Za-z]*$'
        $manifest.ModuleVersion | Should -Be $version.Version
        $manifest.PrivateData.PSData.Prerelease | Should -Be $version.Prerelease
        foreach ($dll in 'AgentMailbox.PowerShell.dll', 'AgentMailbox.Client.dll') {
            $info = [System.Diagnostics.FileVersionInfo]::GetVersionInfo((Join-Path $moduleDir $dll))
            $info.FileVersion | Should -Be "$($version.Version).0"
            ($info.ProductVersion -split '\+')[0] | Should -Be $version.Full
            (Read-AssemblyMetadata (Join-Path $moduleDir $dll)).Version | Should -Be ([version]"$($version.Version).0")
        }
    }

    It 'names the package after the version, and the package holds the layout' {
        Test-Path $nupkg | Should -BeTrue -Because 'build.ps1 -Task Package writes it'
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($nupkg)
        try {
            $entries = @($zip.Entries | ForEach-Object FullName | ForEach-Object { [Uri]::UnescapeDataString($_) })
            $nuspecEntry = $zip.Entries | Where-Object FullName -eq 'AgentMailbox.nuspec'
            $reader = [IO.StreamReader]::new($nuspecEntry.Open())
            try { $nuspec = [xml]$reader.ReadToEnd() } finally { $reader.Dispose() }
        }
        finally { $zip.Dispose() }
        $nuspec.package.metadata.version | Should -Be $version.Full
        $nuspec.package.metadata.id | Should -Be 'AgentMailbox'
        $nuspec.package.metadata.projectUrl | Should -Be $version.ProjectUri
        $content = $entries | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|AgentMailbox\.nuspec$)' }
        @($content | Sort-Object) | Should -Be @(Get-LayoutFile $moduleDir | Sort-Object)
    }

    It 'has an entry in CHANGELOG.md, the newest one' {
        $changelog = Get-Content (Join-Path $repoRoot 'CHANGELOG.md')
        $released = @($changelog | Where-Object { $_ -match '^## \[(?!Unreleased\])' })
        $released | Should -Not -BeNullOrEmpty
        $released[0] | Should -Match "^## \[$([regex]::Escape($version.Full))\] - \d{4}-\d{2}-\d{2}$"
    }
}

Describe 'Loading side by side' {
    BeforeAll {
        $script:server = Start-AgentMailboxServer -Kind Mock
        $script:scratch = Join-Path ([IO.Path]::GetTempPath()) "agentmailbox-scratch-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        New-Item -ItemType Directory -Path $scratch | Out-Null
        # Another System.Text.Json build than the runtime's: the net8.0 one from the NuGet cache, else the module's own netstandard2.0 copy.
        $nuget = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
        $other = Get-ChildItem (Join-Path $nuget 'system.text.json/*/lib/net8.0/System.Text.Json.dll') -ErrorAction SilentlyContinue | Select-Object -First 1
        $source = if ($other) { $other.FullName } else { Join-Path $moduleDir 'Dependencies/System.Text.Json.dll' }
        Copy-Item $source $scratch
        Copy-Item (Join-Path $moduleDir 'Dependencies/Microsoft.Bcl.AsyncInterfaces.dll') $scratch
        $script:environment = @{ PSModulePath = (Join-Path $repoRoot 'out') }
    }
    AfterAll {
        $script:server | Stop-AgentMailboxServer
        Remove-Item -Recurse -Force $script:scratch -ErrorAction SilentlyContinue
    }

    It 'imports and plays the demo after another copy of System.Text.Json and Microsoft.Bcl.AsyncInterfaces has loaded' {
        $result = Invoke-FreshPwsh -Environment $environment -Arguments $scratch, $server.Uri, (Join-Path $repoRoot 'examples/multi-agent.ps1') -Script @'
param($Scratch, $ServerUri, $Demo)
$ErrorActionPreference = 'Stop'
# Another module's copies load first: into the default load context if it takes them, else (it refuses, or hands
# back the runtime's own copy, as PowerShell 7 does) into a context of their own.
$others = foreach ($name in 'System.Text.Json', 'Microsoft.Bcl.AsyncInterfaces') {
    $path = Join-Path $Scratch "$name.dll"
    $other = try { [System.Reflection.Assembly]::LoadFrom($path) } catch { $null }
    if (-not $other -or $other.Location -ne $path) {
        $context = [System.Runtime.Loader.AssemblyLoadContext]::new("other-module-$name", $false)
        $other = $context.LoadFromAssemblyPath($path)
    }
    $other
}
$otherJson = $others[0]
# Use the other copy, so its types are live.
$serializer = $otherJson.GetType('System.Text.Json.JsonSerializer')
$serialize = $serializer.GetMethods() | Where-Object { $_.Name -eq 'Serialize' -and -not $_.IsGenericMethod -and $_.GetParameters().Count -eq 3 -and $_.GetParameters()[2].ParameterType.Name -eq 'JsonSerializerOptions' } | Select-Object -First 1
"OTHER=$($serialize.Invoke($null, [object[]]@([int[]]@(1, 2), [int[]], $null))) FROM=$($otherJson.Location) CONTEXT=$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($otherJson).Name)"
Import-Module AgentMailbox
& $Demo -Server $ServerUri -Suffix "@side-by-side-$(Get-Random)"
$client = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'AgentMailbox.Client' }
$json = $client.GetType('AgentMailbox.AgentMailboxClient').Assembly.GetReferencedAssemblies() | Where-Object Name -eq 'System.Text.Json'
$loaded = [System.Reflection.Assembly]::Load($json)
"MODULEJSON=$($loaded.Location)"
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match "OTHER=\[1,2\] FROM=$([regex]::Escape((Join-Path $scratch 'System.Text.Json.dll')))"
        $result.Output | Should -Match 'has the reply; its snapshot says step = research_complete'
        $result.Output | Should -Match 'MODULEJSON=\S'
    }

    It 'survives Remove-Module and Import-Module in one session, and removal closes the default connection' {
        $result = Invoke-FreshPwsh -Environment $environment -Arguments $server.Uri -Script @'
param($ServerUri)
$ErrorActionPreference = 'Stop'
Import-Module AgentMailbox
$first = Connect-AgentMailbox "remove-$(Get-Random)@test" -Server $ServerUri -PassThru
$isClosed = $first.GetType().GetProperty('IsClosed', [System.Reflection.BindingFlags]'Instance,NonPublic')
"BEFORE=$($isClosed.GetValue($first))"
Remove-Module AgentMailbox
"AFTER=$($isClosed.GetValue($first)) LOADED=$([bool](Get-Module AgentMailbox))"
Import-Module AgentMailbox
"DEFAULT=$([bool](Get-AgentMailboxConnection))"
$peer = Connect-AgentMailbox "peer-$(Get-Random)@test" -Server $ServerUri -PassThru
$second = Connect-AgentMailbox "again-$(Get-Random)@test" -Server $ServerUri -PassThru
$sent = Send-AgentMessage -To $peer.AgentId -Payload @{ n = 1 }
"SENT=$([bool]$sent.MessageId) INBOX=$(@(Get-AgentInbox -Connection $peer).Count)"
Remove-Module AgentMailbox
Import-Module AgentMailbox
"REIMPORTED=$((Get-Command -Module AgentMailbox -CommandType Cmdlet).Count)"
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match 'BEFORE=False'
        $result.Output | Should -Match 'AFTER=True LOADED=False'
        $result.Output | Should -Match 'DEFAULT=False'
        $result.Output | Should -Match 'SENT=True INBOX=1'
        $result.Output | Should -Match "REIMPORTED=$(@($manifest.CmdletsToExport).Count)"
    }

    It 'leaves PowerShell 7 to the runtime''s assemblies, and still works with the resolver registered' {
        $result = Invoke-FreshPwsh -Environment $environment -Arguments $server.Uri, (Join-Path $repoRoot 'examples/multi-agent.ps1') -Script @'
param($ServerUri, $Demo)
$ErrorActionPreference = 'Stop'
Import-Module AgentMailbox
$assembly = (Get-Module AgentMailbox).ImplementingAssembly
$resolver = $assembly.GetType('AgentMailbox.PowerShell.DependencyResolver', $true)
$flags = [System.Reflection.BindingFlags]'Static,NonPublic'
"REGISTERED=$($resolver.GetProperty('IsRegistered', $flags).GetValue($null))"
$resolver.GetMethod('Register', $flags, $null, [type[]]@([bool]), $null).Invoke($null, @($true))
"FORCED=$($resolver.GetProperty('IsRegistered', $flags).GetValue($null))"
$resolve = $resolver.GetMethod('Resolve', $flags)
$ask = { param($Name, $From) $resolve.Invoke($null, @($null, [System.ResolveEventArgs]::new($Name, $From))) }
"FOREIGN=$($null -eq (& $ask 'System.Text.Json, Version=8.0.0.0, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51' ([psobject].Assembly)))"
"UNKNOWN=$($null -eq (& $ask 'Not.Shipped, Version=1.0.0.0' $assembly))"
"TOONEW=$($null -eq (& $ask 'System.Buffers, Version=99.0.0.0, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51' $assembly))"
"RESOURCES=$($null -eq (& $ask 'System.Text.Json.resources, Version=8.0.0.0, Culture=de, PublicKeyToken=cc7b13ffcd2ddd51' $assembly))"
# Asked by the module for a dependency the runtime already serves: the answer is the runtime's own copy (the
# shipped one is never loaded beside it), at least as new as the one asked for.
$answer = & $ask 'System.Text.Json, Version=8.0.0.0, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51' $assembly
"ANSWERED=$($answer.GetName().Name) $($answer.GetName().Version.Major -ge 8) $($answer.Location -notlike '*AgentMailbox*')"
& $Demo -Server $ServerUri -Suffix "@resolver-$(Get-Random)"
$loaded = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not $_.IsDynamic }
$json = @($loaded | Where-Object { $_.GetName().Name -eq 'System.Text.Json' })
"RUNTIMEJSON=$($json.Count -eq 1 -and $json[0].GetName().Version.Major -ge 8 -and $json[0].Location -notlike '*AgentMailbox*')"
"FROMDEPENDENCIES=$(@($loaded | Where-Object { $_.Location -like '*Dependencies*' }).Count)"
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match 'REGISTERED=False'
        $result.Output | Should -Match 'FORCED=True'
        $result.Output | Should -Match 'FOREIGN=True'
        $result.Output | Should -Match 'UNKNOWN=True'
        $result.Output | Should -Match 'TOONEW=True'
        $result.Output | Should -Match 'RESOURCES=True'
        $result.Output | Should -Match 'ANSWERED=System.Text.Json True True'
        $result.Output | Should -Match 'has the reply; its snapshot says step = research_complete'
        $result.Output | Should -Match 'RUNTIMEJSON=True'
        $result.Output | Should -Match 'FROMDEPENDENCIES=0'
    }

    It 'answers a request of the module''s own DLLs with the copy shipped in Dependencies, when the runtime has none' {
        # A copy of the module with one more dependency that no runtime has: the resolver must load it from
        # Dependencies, at the version shipped, and refuse a request for a newer version.
        $copy = Join-Path $scratch "module-$([Guid]::NewGuid().ToString('N').Substring(0, 8))/AgentMailbox"
        New-Item -ItemType Directory -Path (Split-Path $copy) | Out-Null
        Copy-Item -Recurse $moduleDir $copy
        Add-Type -OutputAssembly (Join-Path $copy 'Dependencies/AgentMailbox.Resolver.Probe.dll') -OutputType Library -TypeDefinition @'
[assembly: System.Reflection.AssemblyVersion("1.2.3.4")]
namespace AgentMailbox.Resolver.Probe { public static class Marker { public const string Value = "probe"; } }
'@
        $result = Invoke-FreshPwsh -Arguments (Join-Path $copy 'AgentMailbox.psd1') -Script @'
param($Manifest)
$ErrorActionPreference = 'Stop'
Import-Module $Manifest
$assembly = (Get-Module AgentMailbox).ImplementingAssembly
$resolver = $assembly.GetType('AgentMailbox.PowerShell.DependencyResolver', $true)
$flags = [System.Reflection.BindingFlags]'Static,NonPublic'
$resolver.GetMethod('Register', $flags, $null, [type[]]@([bool]), $null).Invoke($null, @($true))
$resolve = $resolver.GetMethod('Resolve', $flags)
$ask = { param($Name, $From) $resolve.Invoke($null, @($null, [System.ResolveEventArgs]::new($Name, $From))) }
$shipped = & $ask 'AgentMailbox.Resolver.Probe, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null' $assembly
"SHIPPED=$($shipped.GetName().Version) $($shipped.Location)"
"NEWER=$($null -eq (& $ask 'AgentMailbox.Resolver.Probe, Version=2.0.0.0, Culture=neutral, PublicKeyToken=null' $assembly))"
"FOREIGN=$($null -eq (& $ask 'AgentMailbox.Resolver.Probe, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null' ([psobject].Assembly)))"
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $expected = Join-Path $copy 'Dependencies/AgentMailbox.Resolver.Probe.dll'
        # (Add-Type names the assembly itself; the resolver goes by file name, so the version and path identify it.)
        $result.Output | Should -Match "SHIPPED=1\.2\.3\.4 $([regex]::Escape($expected))"
        $result.Output | Should -Match 'NEWER=True'
        $result.Output | Should -Match 'FOREIGN=True'
    }
}
