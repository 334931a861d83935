<#
    The codebase index scenario on the mock and on the reference server (npm agentsmcp@0.5.2): keys with '/', '%',
    '#', '?', '+', '@', spaces, unicode and dot segments round-trip, metadata nested 64 deep comes back exactly,
    search, rollup, remove and incremental re-indexing behave alike, and both servers give equal outputs.
#>
BeforeDiscovery {
    $targets = @(@{ Kind = 'Mock' }, @{ Kind = 'Reference' })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule

    $script:keys = @(
        'src/lib/a.cs', 'per%cent', '%2F literal', 'hash#tag', 'q?mark=1&x', 'plus+sign', 'me@x.com', 'with space',
        'ünï😀/ключ', '.', '..', 'x/./y', 'x/../y', 'trailing/', '/leading', 'semi;colon\back'
    )

    function script:New-Deep([int] $Depth) {
        $value = [ordered]@{ leaf = 'bottom'; n = 42; list = @(1, 'two', $null, $true) }
        for ($i = $Depth - 1; $i -ge 1; $i--) { $value = [ordered]@{ level = $i; inner = $value } }
        $value
    }
    $script:deep = New-Deep 64

    function script:Normalize($entry) {
        [ordered]@{
            Key       = $entry.Key
            Category  = $entry.Category
            Summary   = $entry.Summary
            Metadata  = $entry.Metadata | ConvertTo-Json -Depth 100 -Compress
            ParentKey = $entry.ParentKey
            Stale     = $entry.Stale
            HasTime   = $null -ne $entry.UpdatedAt
        } | ConvertTo-Json -Compress
    }

    # The scenario, run once per server; each It then checks one part of what it gave.
    function script:Invoke-Scenario([string] $Kind) {
        $server = Start-AgentMailboxServer -Kind $Kind
        try {
            $agent = New-TestAgentId contract
            $c = Connect-AgentMailbox $agent -Server $server.Uri -PassThru
            $r = [ordered]@{}
            $i = 0
            $r.Set = @($keys | ForEach-Object { [pscustomobject]@{ Key = $_; N = ++$i } } |
                Set-AgentIndexEntry -Connection $c -Category file -Summary { "entry $($_.N): $($_.Key)" } -Metadata { @{ n = $_.N; key = $_.Key } } -PassThru)
            $r.Got = @(Get-AgentIndexEntry -Connection $c -Key $keys)
            Set-AgentIndexEntry -Connection $c deep architecture 'deep metadata' -Metadata $deep
            $r.Deep = Get-AgentIndexEntry -Connection $c deep
            $r.Search = @(Search-AgentIndex -Connection $c 'entry 1' -Category file -First 50 | Sort-Object Key)
            $r.SearchNone = @(Search-AgentIndex -Connection $c 'entry' -Category module)
            $r.Module = 'src/lib/a.cs', 'with space', 'ünï😀/ключ' | Merge-AgentIndexEntry -Connection $c -ModuleKey 'mod/ule'
            $r.Children = @(Get-AgentIndexEntry -Connection $c 'src/lib/a.cs', 'with space', 'ünï😀/ключ')
            $null = Invoke-RestMethod -Method Post -Uri "$($server.Uri)/mailbox/$([Uri]::EscapeDataString($agent))/git/commit" `
                -ContentType 'application/json' -Body '{"message":"indexed"}'
            $r.Unchanged = @($keys | ForEach-Object { [pscustomobject]@{ Key = $_; N = [array]::IndexOf($keys, $_) + 1 } } |
                Set-AgentIndexEntry -Connection $c -Category file -Summary { "entry $($_.N): $($_.Key)" } -Metadata { @{ n = $_.N; key = $_.Key } } -Incremental -PassThru -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message | Where-Object { $_ -like 'Incremental index:*' })
            [pscustomobject]@{ Key = 'with space'; N = 99 } |
                Set-AgentIndexEntry -Connection $c -Category file -Summary { "changed $($_.N)" } -Incremental
            $r.Relinked = Get-AgentIndexEntry -Connection $c 'with space'
            $r.ModuleAfter = Get-AgentIndexEntry -Connection $c 'mod/ule'
            'per%cent', 'nothing-here', '.' | Remove-AgentIndexEntry -Connection $c -ErrorVariable removeErrors -ErrorAction SilentlyContinue
            $r.RemoveErrors = @($removeErrors | ForEach-Object { "$($_.CategoryInfo.Category) $($_.TargetObject)" })
            $r.AfterRemove = @(Get-AgentIndexEntry -Connection $c 'per%cent', '.', '..' -ErrorVariable getErrors -ErrorAction SilentlyContinue)
            $r.GetErrors = @($getErrors | ForEach-Object { "$($_.FullyQualifiedErrorId.Split(',')[0]) $($_.TargetObject)" })
            Disconnect-AgentMailbox -Connection $c
            $r
        }
        finally { $server | Stop-AgentMailboxServer }
    }

    $script:results = @{}
    foreach ($kind in 'Mock', 'Reference') { $results[$kind] = Invoke-Scenario $kind }
}

Describe 'The index scenario on the <Kind> server' -ForEach $targets {
    BeforeAll { $script:r = $results[$Kind] }

    It 'round-trips every key exactly, in input order' {
        $r.Set.Key | Should -Be $keys
        $r.Got.Key | Should -Be $keys
        $r.Got | ForEach-Object { $_ | Should -BeOfType ([AgentMailbox.IndexEntry]) }
        $r.Got[9].Summary | Should -Be 'entry 10: .'
        $r.Got[8].Metadata.key | Should -Be 'ünï😀/ключ'
    }

    It 'gives back the metadata it was given, without the fingerprint' {
        foreach ($entry in $r.Got) {
            @($entry.Metadata.psobject.Properties.Name | Sort-Object) | Should -Be @('key', 'n')
            $entry.Metadata.key | Should -Be $entry.Key
        }
    }

    It 'round-trips metadata nested 64 deep' {
        $node = $r.Deep.Metadata
        for ($i = 1; $i -le 63; $i++) { $node.level | Should -Be $i; $node = $node.inner }
        $node.leaf | Should -Be 'bottom'
        $node.n | Should -Be 42
        $node.list | Should -Be @(1, 'two', $null, $true)
        ($r.Deep.Metadata | ConvertTo-Json -Depth 100 -Compress) | Should -Be ($deep | ConvertTo-Json -Depth 100 -Compress)
    }

    It 'searches by substring within a category' {
        ($r.Search.Key) | Should -Be @(($keys[0], $keys[9], $keys[10], $keys[11], $keys[12], $keys[13], $keys[14], $keys[15]) | Sort-Object)
        $r.SearchNone.Count | Should -Be 0
    }

    It 'rolls up into a module entry that names each child and links it' {
        $r.Module.Key | Should -Be 'mod/ule'
        $r.Module.Category | Should -Be 'module'
        $r.Module.Summary | Should -Be "[src/lib/a.cs] entry 1: src/lib/a.cs`n[with space] entry 8: with space`n[ünï😀/ключ] entry 9: ünï😀/ключ"
        $r.Children.ParentKey | Should -Be @('mod/ule', 'mod/ule', 'mod/ule')
    }

    It 'sends nothing for an unchanged re-index and keeps the parent link of a changed entry' {
        $r.Unchanged | Should -Be "Incremental index: $($keys.Count) input(s), 0 sent, $($keys.Count) unchanged and not sent, 0 parent rollup(s) made again."
        $r.Relinked.Summary | Should -Be 'changed 99'
        $r.Relinked.ParentKey | Should -Be 'mod/ule'
        $r.ModuleAfter.Summary | Should -Be "[src/lib/a.cs] entry 1: src/lib/a.cs`n[with space] changed 99`n[ünï😀/ключ] entry 9: ünï😀/ключ"
    }

    It 'removes keys, reporting an unknown one as ObjectNotFound' {
        $r.RemoveErrors | Should -Be @('ObjectNotFound nothing-here')
        $r.AfterRemove.Key | Should -Be @('..')
        $r.GetErrors | Should -Be @('IndexEntryNotFound per%cent', 'IndexEntryNotFound .')
    }
}

Describe 'The mock and the reference server agree on the index scenario' {
    It 'gives equal <Part>' -ForEach @(
        @{ Part = 'Set' }, @{ Part = 'Got' }, @{ Part = 'Deep' }, @{ Part = 'Search' }, @{ Part = 'SearchNone' }, @{ Part = 'Module' },
        @{ Part = 'Children' }, @{ Part = 'Unchanged' }, @{ Part = 'Relinked' }, @{ Part = 'ModuleAfter' }, @{ Part = 'RemoveErrors' },
        @{ Part = 'AfterRemove' }, @{ Part = 'GetErrors' }
    ) {
        $mock = @($results.Mock[$Part] | ForEach-Object { if ($_ -is [AgentMailbox.IndexEntry]) { Normalize $_ } else { $_ } })
        $reference = @($results.Reference[$Part] | ForEach-Object { if ($_ -is [AgentMailbox.IndexEntry]) { Normalize $_ } else { $_ } })
        $mock.Count | Should -Be $reference.Count
        $mock | Should -Be $reference
    }
}
