<#
.SYNOPSIS
    Indexes a git repository's tracked files into an agent's codebase index, rolls up each directory and
    checkpoints the result; run again, it sends only what changed.

.DESCRIPTION
    Every file `git ls-files` lists becomes an index entry keyed by its path in the repository ('/' separators),
    with a summary of its language, its size and its first doc comment or heading. Config files get the category
    'config', the others 'file'. Each directory is rolled up into a module entry keyed by the directory's path
    ('.' for the top), and the result is checkpointed.

    The second run is incremental (Set-AgentIndexEntry -Incremental): files whose content and summary did not
    change are not sent; a changed file is sent and its directory rolled up again, so it keeps its parent link.
    A directory is rolled up here only when one of its entries has no link to it yet (a new file, or the first
    run), and a checkpoint is made only when the live index differs from the newest checkpoint.

.PARAMETER Path
    The repository (or any folder inside its work tree); defaults to the current location.

.PARAMETER Server
    The AgentMailbox server; defaults to $env:AGENTSMCP_SERVER, then http://localhost:3000.

.PARAMETER AgentId
    The agent whose index is written; defaults to $env:AGENTSMCP_AGENT_ID, then indexer@<repository name>.

.EXAMPLE
    ./examples/index-repository.ps1 -Path . -Server http://127.0.0.1:3000 -Verbose
#>
[CmdletBinding()]
param(
    [string] $Path = '.',
    [uri] $Server = $(if ($env:AGENTSMCP_SERVER) { $env:AGENTSMCP_SERVER } else { 'http://localhost:3000' }),
    [string] $AgentId = $env:AGENTSMCP_AGENT_ID
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module AgentMailbox)) { Import-Module AgentMailbox }

$root = (& git -C $Path rev-parse --show-toplevel).Trim()
if ($LASTEXITCODE) { throw "'$Path' is not inside a git work tree." }
$root = (Resolve-Path -LiteralPath $root).ProviderPath
if (-not $AgentId) { $AgentId = "indexer@$(Split-Path -Leaf $root)" }
$revision = (& git -C $root rev-parse --short HEAD 2>$null)
$connection = Connect-AgentMailbox $AgentId -Server $Server -PassThru

$languages = @{
    '.cs' = 'C#'; '.ps1' = 'PowerShell'; '.psm1' = 'PowerShell'; '.psd1' = 'PowerShell data'; '.md' = 'Markdown'
    '.js' = 'JavaScript'; '.ts' = 'TypeScript'; '.py' = 'Python'; '.go' = 'Go'; '.rs' = 'Rust'; '.java' = 'Java'
    '.json' = 'JSON'; '.yml' = 'YAML'; '.yaml' = 'YAML'; '.xml' = 'XML'; '.toml' = 'TOML'; '.sh' = 'shell'
    '.csproj' = 'MSBuild'; '.props' = 'MSBuild'; '.targets' = 'MSBuild'; '.ps1xml' = 'PowerShell format'; '.txt' = 'text'
}
$configExtensions = '.json', '.yml', '.yaml', '.toml', '.xml', '.psd1', '.csproj', '.props', '.targets', '.ini', '.editorconfig', '.gitignore'

function Get-FirstDocLine([System.IO.FileInfo] $File) {
    <# The first Markdown heading, or the first doc comment or comment line, of the file's first 60 lines. #>
    $lines = @(Get-Content -LiteralPath $File.FullName -TotalCount 60 -ErrorAction SilentlyContinue)
    foreach ($line in $lines) {
        $text = "$line".Trim()
        if ($File.Extension -eq '.md') {
            if ($text -match '^#{1,6}\s+(.+)$') { return $Matches[1].Trim() }
            continue
        }
        if ($text -match '^(#!|#region|#endregion|#requires|<#|#>|\.[A-Z]+$)') { continue }
        if ($text -match '^(///?|#|--|;|\*|/\*\*?)\s*(?<doc>.*?)\s*(\*/)?$') {
            $doc = ($Matches.doc -replace '<[^>]+>', '').Trim()    # XML doc tags such as <summary>
            if ($doc) { return $doc }
        }
    }
    $null
}

function Get-FileSummary([System.IO.FileInfo] $File) {
    $language = $languages[$File.Extension.ToLowerInvariant()]
    if (-not $language) { $language = if ($File.Extension) { $File.Extension.TrimStart('.') } else { 'no extension' } }
    $size = if ($File.Length -ge 1024) { '{0:0.0} KB' -f ($File.Length / 1024) } else { "$($File.Length) bytes" }
    $doc = Get-FirstDocLine $File
    if ($doc) { "$language, $size`: $doc" } else { "$language, $size" }
}

# The tracked files, as FileInfo objects with the category each should get (Category binds by property name).
$files = & git -C $root ls-files -z --cached | ForEach-Object { $_ -split "`0" } | Where-Object { $_ } | ForEach-Object {
    $full = Join-Path $root $_
    if (Test-Path -LiteralPath $full -PathType Leaf) {
        $item = Get-Item -LiteralPath $full -Force
        $category = if ($item.Extension.ToLowerInvariant() -in $configExtensions -or $item.Name -in $configExtensions) { 'config' } else { 'file' }
        $item | Add-Member -NotePropertyName Category -NotePropertyValue $category -PassThru
    }
}

Write-Host "== Indexing $(@($files).Count) tracked files of $root as $AgentId" -ForegroundColor Cyan
$entries = @($files | Set-AgentIndexEntry -Connection $connection -RelativeTo $root -Incremental -PassThru `
        -Summary { Get-FileSummary $_ } -Metadata { @{ language = $languages[$_.Extension.ToLowerInvariant()]; bytes = $_.Length } })

Write-Host '== Rolling up the directories that need it' -ForegroundColor Cyan
$rolled = 0
foreach ($group in $entries | Group-Object { if ($_.Key.Contains('/')) { $_.Key.Substring(0, $_.Key.LastIndexOf('/')) } else { '.' } }) {
    $directory = $group.Name
    if (@($group.Group | Where-Object ParentKey -cne $directory).Count -eq 0) { continue }
    $module = $group.Group | Merge-AgentIndexEntry -Connection $connection -ModuleKey $directory
    $rolled++
    Write-Verbose "Rolled up '$($module.Key)' from $($group.Count) entries."
}
Write-Host "   $rolled director$(if ($rolled -eq 1) { 'y' } else { 'ies' }) rolled up"

Write-Host '== Checkpointing' -ForegroundColor Cyan
$newest = Get-AgentContextCheckpoint -Connection $connection -First 1
$changed = $true
if ($newest) {
    $diff = Compare-AgentContextCheckpoint -Connection $connection -ReferenceId $newest.Id
    $changed = ($diff.IndexAdded.Count + $diff.IndexRemoved.Count + $diff.IndexModified.Count) -gt 0
}
if ($changed) {
    $checkpoint = Checkpoint-AgentContext -Connection $connection -Message "Index of $(Split-Path -Leaf $root) at $(if ($revision) { $revision } else { 'an unborn HEAD' })"
    Write-Host "   checkpoint $($checkpoint.Id): $($checkpoint.IndexCount) entries"
}
else {
    Write-Host "   nothing changed since checkpoint $($newest.Id)"
}
Disconnect-AgentMailbox -Connection $connection
