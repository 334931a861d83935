<#
    examples/index-repository.ps1 on a small temporary git repository, run three times on each server: the second run
    (nothing changed) writes nothing, the third (one file changed) sends that file alone and keeps its parent link.
    The mock counts the requests; on the reference server an entry not written keeps its UpdatedAt (quirk 23).
#>
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $targets = @(@{ Kind = 'Mock' }, @{ Kind = 'Reference' })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:example = Join-Path $PSScriptRoot '../../examples/index-repository.ps1'
    # The example checkpoints with the checkpoint cmdlets of the contract.
    $script:missing = @('Checkpoint-AgentContext', 'Get-AgentContextCheckpoint', 'Compare-AgentContextCheckpoint' |
        Where-Object { -not (Get-Command $_ -Module AgentMailbox -ErrorAction SilentlyContinue) })

    function script:New-TestRepository([string] $Path) {
        New-Item -ItemType Directory (Join-Path $Path 'src/util') -Force | Out-Null
        Set-Content (Join-Path $Path 'README.md') "Intro`n`n# Sample project`n`nText."
        Set-Content (Join-Path $Path 'src/main.ps1') "#requires -Version 7`n# Entry point of the sample.`nWrite-Output 1"
        Set-Content (Join-Path $Path 'src/util/helper.cs') "/// <summary>Helps.</summary>`nclass Helper { }"
        Set-Content (Join-Path $Path 'src/util/other.cs') "// Other code.`nclass Other { }"
        Set-Content (Join-Path $Path 'settings.json') '{ "a": 1 }'
        Set-Content (Join-Path $Path 'untracked.txt') 'not in git'
        git -C $Path init -q
        git -C $Path add README.md src settings.json
        git -C $Path -c user.name=test -c user.email=test@example.invalid commit -q -m initial
    }
}

Describe 'examples/index-repository.ps1 on the <Kind> server' -ForEach $targets {
    BeforeAll {
        $script:server = Start-AgentMailboxServer -Kind $Kind
        $script:repo = Join-Path $TestDrive "repo-$Kind"
        New-TestRepository $repo
        $script:agent = New-TestAgentId example
        $script:enc = [Uri]::EscapeDataString($agent)
        function script:Invoke-Example { & $example -Path $repo -Server $server.Uri -AgentId $agent 6>$null | Out-Null }
        $script:c = Connect-AgentMailbox $agent -Server $server.Uri -PassThru
    }
    AfterAll {
        Disconnect-AgentMailbox -Connection $c -ErrorAction SilentlyContinue
        $server | Stop-AgentMailboxServer
    }

    It 'indexes the tracked files with summaries, rolls up each directory and checkpoints' {
        if ($missing) { Set-ItResult -Skipped -Because "the example needs $($missing -join ', '), which this build lacks"; return }
        Invoke-Example
        $entries = Get-AgentIndexEntry -Connection $c 'README.md', 'src/main.ps1', 'src/util/helper.cs', 'settings.json'
        $size = { param($relative) (Get-Item (Join-Path $repo $relative)).Length }
        $entries.Summary | Should -Be @(
            "Markdown, $(& $size README.md) bytes: Sample project", "PowerShell, $(& $size src/main.ps1) bytes: Entry point of the sample.",
            "C#, $(& $size src/util/helper.cs) bytes: Helps.", "JSON, $(& $size settings.json) bytes")
        $entries.Category | Should -Be @('file', 'file', 'file', 'config')
        $entries.ParentKey | Should -Be @('.', 'src', 'src/util', '.')
        (Get-AgentIndexEntry -Connection $c 'src/util').Summary | Should -BeLike '`[src/util/helper.cs`] C#*'
        Get-AgentIndexEntry -Connection $c 'untracked.txt' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-AgentContextCheckpoint -Connection $c).Count | Should -Be 1
    }

    It 'sends nothing on a second run when nothing changed' {
        if ($missing) { Set-ItResult -Skipped -Because "the example needs $($missing -join ', '), which this build lacks"; return }
        $before = Get-AgentIndexEntry -Connection $c 'README.md', 'src/util/other.cs', 'src'
        if ($Kind -eq 'Mock') { Clear-MockRequest $server }
        Start-Sleep -Milliseconds 20
        Invoke-Example
        if ($Kind -eq 'Mock') {
            @(Get-MockRequest $server "/mailbox/$enc/index" | Where-Object method -eq 'POST').Count | Should -Be 0
            @(Get-MockRequest $server "/mailbox/$enc/index/rollup").Count | Should -Be 0
            @(Get-MockRequest $server "/mailbox/$enc/git/commit").Count | Should -Be 0
        }
        $after = Get-AgentIndexEntry -Connection $c 'README.md', 'src/util/other.cs', 'src'
        $after.UpdatedAt | Should -Be $before.UpdatedAt
        @(Get-AgentContextCheckpoint -Connection $c).Count | Should -Be 1
    }

    It 'sends only the changed file on a third run, and it keeps its parent link' {
        if ($missing) { Set-ItResult -Skipped -Because "the example needs $($missing -join ', '), which this build lacks"; return }
        Add-Content (Join-Path $repo 'src/util/other.cs') '// more'
        if ($Kind -eq 'Mock') { Clear-MockRequest $server }
        Start-Sleep -Milliseconds 20
        Invoke-Example
        if ($Kind -eq 'Mock') {
            $upserts = @(Get-MockRequest $server "/mailbox/$enc/index" | Where-Object method -eq 'POST')
            $upserts.Count | Should -Be 1
            ($upserts[0].body | ConvertFrom-Json).key | Should -Be 'src/util/other.cs'
            @(Get-MockRequest $server "/mailbox/$enc/index/rollup").Count | Should -Be 1
            @(Get-MockRequest $server "/mailbox/$enc/git/commit").Count | Should -Be 1
        }
        $changed = Get-AgentIndexEntry -Connection $c 'src/util/other.cs'
        $changed.ParentKey | Should -Be 'src/util'
        $changed.Summary | Should -Be "C#, $((Get-Item (Join-Path $repo 'src/util/other.cs')).Length) bytes: Other code."
        (Get-AgentIndexEntry -Connection $c 'src/util/helper.cs').ParentKey | Should -Be 'src/util'
        (Get-AgentIndexEntry -Connection $c 'README.md').UpdatedAt | Should -Not -BeNullOrEmpty
        @(Get-AgentContextCheckpoint -Connection $c).Count | Should -Be 2
    }
}
