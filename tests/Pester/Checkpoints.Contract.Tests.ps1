<#
    The checkpoint cmdlets on both servers: one scenario (checkpoints on two branches, the log, a snapshot by id,
    diffs, a merge, a restore, and the errors for a parent, an empty branch and unknown ids) runs against the mock
    and the reference server, and every output property must be equal. Checkpoint ids and agent ids are random on
    each server, so they are replaced by names in order of appearance; CreatedAt is the server's clock, so it is
    only checked to be recent and ordered. SnapshotHash is computed the same way by both and compared as it is.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'CheckpointHelpers.psm1') -Force
    Import-BuiltModule

    function Invoke-CheckpointScenario([string] $Uri) {
        $c = Connect-AgentMailbox (New-TestAgentId contract) -Server $Uri -PassThru
        $deep = @{ v = 'bottom' }
        1..63 | ForEach-Object { $deep = @{ d = $deep } }
        Set-TestNode $c 'n1' 'node one' 'first node' @{ nested = $deep; list = @(1, 'two', $null, $true) }
        Set-TestNode $c 'n2' 'node two'
        Set-TestEdge $c 'n1' 'n2' 'imports'
        Set-TestEntry $c 'src/a b#?%+@ü.ps1' 'odd key' @{ lines = 10 }
        Set-TestEntry $c 'src/keep.ps1' 'kept'
        $r = [ordered]@{ Agent = $c.AgentId }
        $r.Cp1 = New-TestCheckpoint $c 'one'
        Set-TestNode $c 'n1' 'node one renamed'
        Remove-TestNode $c 'n2'
        Set-TestNode $c 'n3' 'node three'
        Set-TestEntry $c 'src/keep.ps1' 'kept, changed'
        $r.Cp2 = New-TestCheckpoint $c 'two'
        Set-TestNode $c 'n4' 'node four'
        Remove-TestEntry $c 'src/a b#?%+@ü.ps1'
        $r.F1 = New-TestCheckpoint $c 'feature' -Branch 'feature x'
        $r.Log = @(Get-AgentContextCheckpoint -Connection $c)
        $r.LogMain = @(Get-AgentContextCheckpoint -Branch main -Connection $c)
        $r.LogFirst = @(Get-AgentContextCheckpoint -First 2 -Connection $c)
        $r.ById = @(Get-AgentContextCheckpoint $r.Cp1.Id, 'no-such-id', $r.F1.Id -Connection $c -ErrorVariable getErrors -ErrorAction SilentlyContinue)
        $r.GetErrors = @($getErrors)
        $r.DiffLive = Compare-AgentContextCheckpoint $r.Cp1.Id -Connection $c
        $r.DiffBetween = Compare-AgentContextCheckpoint $r.Cp1.Id $r.F1.Id -Connection $c
        $r.DiffErrors = @()
        $null = Compare-AgentContextCheckpoint $r.Cp1.Id 'missing' -Connection $c -ErrorVariable e1 -ErrorAction SilentlyContinue
        $r.DiffErrors += $e1
        Start-Sleep -Milliseconds 5
        $r.Merge = Merge-AgentContextBranch 'feature x' main -Confirm:$false -Connection $c
        $r.MergeSnapshot = Get-AgentContextCheckpoint $r.Merge.Id -Connection $c
        $r.MergeErrors = @()
        $null = Merge-AgentContextBranch nowhere main -Confirm:$false -Connection $c -ErrorVariable e2 -ErrorAction SilentlyContinue
        $r.MergeErrors += $e2
        Restore-AgentContextCheckpoint $r.Cp1.Id -Confirm:$false -Connection $c
        $r.RestoredDiff = Compare-AgentContextCheckpoint $r.Cp1.Id -Connection $c
        $r.RestoredNames = Get-TestNodeName $c
        $r.RestoredEntry = Get-TestEntry $c 'src/a b#?%+@ü.ps1'
        Remove-AgentContextCheckpoint $r.Cp1.Id, 'ghost' -Confirm:$false -Connection $c -ErrorVariable e3 -ErrorAction SilentlyContinue
        $r.RemoveErrors = @($e3)
        Remove-AgentContextCheckpoint $r.Merge.Id, $r.Cp2.Id -Confirm:$false -Connection $c
        $r.AfterRemove = @(Get-AgentContextCheckpoint -Connection $c)
        Disconnect-AgentMailbox -Connection $c
        $r
    }

    function ConvertTo-Comparable($Value, [hashtable] $Names) {
        <# Checkpoint ids and the agent id become names in order of appearance; CreatedAt and UpdatedAt are dropped. #>
        function Get-Name([string] $Id) {
            if (-not $Id) { return $Id }
            if (-not $Names.ContainsKey($Id)) { $Names[$Id] = "id$($Names.Count)" }
            $Names[$Id]
        }
        switch ($Value) {
            { $_ -is [AgentMailbox.ContextCheckpoint] } {
                return [ordered]@{
                    Id = Get-Name $_.Id; AgentId = Get-Name $_.AgentId; ParentId = Get-Name $_.ParentId; Branch = $_.Branch
                    Message = $_.Message; NodeCount = $_.NodeCount; IndexCount = $_.IndexCount; SnapshotHash = $_.SnapshotHash
                    Snapshot = if ($_.Snapshot) {
                        [ordered]@{
                            Nodes = @($_.Snapshot.Nodes | ForEach-Object { [ordered]@{ Id = $_.Id; Type = $_.Type; Name = $_.Name; Description = $_.Description; Metadata = $_.Metadata } })
                            Edges = @($_.Snapshot.Edges | ForEach-Object { [ordered]@{ SourceId = $_.SourceId; TargetId = $_.TargetId; Type = $_.Type; Weight = $_.Weight } })
                            IndexEntries = @($_.Snapshot.IndexEntries | ForEach-Object { [ordered]@{ Key = $_.Key; Category = $_.Category; Summary = $_.Summary; Metadata = $_.Metadata; ParentKey = $_.ParentKey; Stale = $_.Stale } })
                        }
                    }
                }
            }
            { $_ -is [AgentMailbox.ContextDiff] } {
                return [ordered]@{
                    ReferenceId = Get-Name $_.ReferenceId; DifferenceId = Get-Name $_.DifferenceId
                    NodesAdded = $_.NodesAdded; NodesRemoved = $_.NodesRemoved; NodesModified = $_.NodesModified
                    IndexAdded = $_.IndexAdded; IndexRemoved = $_.IndexRemoved; IndexModified = $_.IndexModified; IsEmpty = $_.IsEmpty
                }
            }
            { $_ -is [System.Management.Automation.ErrorRecord] } {
                $target = if ($Names.ContainsKey([string]$_.TargetObject)) { $Names[[string]$_.TargetObject] } else { $_.TargetObject }
                return [ordered]@{ ErrorId = $_.FullyQualifiedErrorId; Category = [string]$_.CategoryInfo.Category; Target = $target }
            }
            { $_ -is [AgentMailbox.IndexEntry] } {
                return [ordered]@{ Key = $_.Key; Category = $_.Category; Summary = $_.Summary; Metadata = $_.Metadata; ParentKey = $_.ParentKey; Stale = $_.Stale }
            }
            default { return $_ }
        }
    }

    function Get-Comparable([System.Collections.IDictionary] $Result, [string[]] $Keys) {
        $names = @{}
        # Name the ids in one fixed order first, so both servers' names match.
        foreach ($key in 'Agent', 'Cp1', 'Cp2', 'F1', 'Merge') {
            $id = if ($key -eq 'Agent') { $Result.Agent } else { $Result[$key].Id }
            if (-not $names.ContainsKey($id)) { $names[$id] = "id$($names.Count)" }
        }
        $out = [ordered]@{}
        foreach ($key in $Keys) {
            $out[$key] = @($Result[$key] | ForEach-Object { ConvertTo-Comparable $_ $names })
        }
        $out | ConvertTo-Json -Depth 100
    }

    $script:results = @{}
    foreach ($kind in 'Mock', 'Reference') {
        $server = Start-AgentMailboxServer -Kind $kind
        try { $script:results[$kind] = Invoke-CheckpointScenario $server.Uri }
        finally { $server | Stop-AgentMailboxServer }
    }
}

Describe 'Checkpoints: mock and reference server agree' {
    It 'on <Group>' -ForEach @(
        @{ Group = 'the checkpoints made'; Keys = 'Cp1', 'Cp2', 'F1' }
        @{ Group = 'the log, by branch and -First'; Keys = 'Log', 'LogMain', 'LogFirst' }
        @{ Group = 'snapshots read by id and the unknown id'; Keys = 'ById', 'GetErrors' }
        @{ Group = 'diffs to live, between checkpoints, and the unknown id'; Keys = 'DiffLive', 'DiffBetween', 'DiffErrors' }
        @{ Group = 'the merge and its snapshot, and the empty branch'; Keys = 'Merge', 'MergeSnapshot', 'MergeErrors' }
        @{ Group = 'the restored live state'; Keys = 'RestoredDiff', 'RestoredNames', 'RestoredEntry' }
        @{ Group = 'removal, the parent refusal and the unknown id'; Keys = 'RemoveErrors', 'AfterRemove' }
    ) {
        $mock = Get-Comparable $results.Mock $Keys
        $reference = Get-Comparable $results.Reference $Keys
        $mock | Should -Be $reference
        $mock | Should -Not -Match '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-' -Because 'every checkpoint id was given a name'
        foreach ($property in ($mock | ConvertFrom-Json).PSObject.Properties) {
            @($property.Value).Count | Should -BeGreaterThan 0 -Because "$($property.Name) has output to compare"
        }
    }
}

Describe 'Checkpoints on the <_> server' -ForEach 'Mock', 'Reference' {
    BeforeAll { $script:r = $results[$_] }

    It 'links the branches, orders the log newest first and stamps recent times' {
        $r.Cp1.ParentId | Should -BeNullOrEmpty
        $r.Cp2.ParentId | Should -Be $r.Cp1.Id
        $r.F1.ParentId | Should -BeNullOrEmpty
        $r.Merge.ParentId | Should -Be $r.Cp2.Id
        $r.Log.Id | Should -Be @($r.F1.Id, $r.Cp2.Id, $r.Cp1.Id)
        $r.Log[0].CreatedAt | Should -BeGreaterOrEqual $r.Log[1].CreatedAt
        ([DateTimeOffset]::UtcNow - $r.Cp1.CreatedAt).TotalMinutes | Should -BeLessThan 10
    }

    It 'keeps the snapshot exactly, 64 levels of metadata and an odd key included' {
        $node = $r.ById[0].Snapshot.Nodes | Where-Object Id -eq 'n1'
        $level = $node.Metadata.nested
        1..63 | ForEach-Object { $level = $level.d }
        $level.v | Should -Be 'bottom'
        $node.Metadata.list.Count | Should -Be 4
        $r.ById[0].Snapshot.IndexEntries.Key | Should -Contain 'src/a b#?%+@ü.ps1'
    }

    It 'restores the checkpoint as the live state' {
        $r.RestoredDiff.IsEmpty | Should -BeTrue
        $r.RestoredNames | Should -Be @('node one', 'node two')
        $r.RestoredEntry.Summary | Should -Be 'odd key'
    }

    It 'refuses the parent in plain words and still removes the rest' {
        $r.RemoveErrors.Count | Should -Be 2
        ($r.RemoveErrors | Where-Object TargetObject -eq $r.Cp1.Id).FullyQualifiedErrorId | Should -BeLike 'CheckpointHasChildren,*'
        ($r.RemoveErrors | Where-Object TargetObject -eq 'ghost').CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $r.AfterRemove.Id | Should -Be @($r.F1.Id, $r.Cp1.Id)
    }
}
