<#
    The checkpoint cmdlets against the mock server: parent links, the log, snapshots by id, diffs, restore, remove
    (with the parent refusal of protocol.md §8 quirk 18), merges, -WhatIf (counted at the mock), validation before
    any request, per-input errors under injected faults, and tab completion of checkpoint ids.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'CheckpointHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock

    function New-TestConnection([string] $Name = 'ckpt') {
        Connect-AgentMailbox (New-TestAgentId $Name) -Server $server.Uri -PassThru
    }
    function Get-GitRequest($Connection) {
        <# The requests to the agent's git routes since the last Clear-MockRequest. #>
        $prefix = "/mailbox/$([Uri]::EscapeDataString($Connection.AgentId))/git/*"
        @(Get-MockRequest $server -PathLike $prefix)
    }
    function Get-CommitPath($Connection, [string] $Id) {
        "/mailbox/$([Uri]::EscapeDataString($Connection.AgentId))/git/commits/$Id"
    }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Checkpoint-AgentContext' {
    BeforeAll {
        $script:c = New-TestConnection
        Set-TestNode $c 'n1' 'node one'
        Set-TestNode $c 'n2' 'node two'
        Set-TestEntry $c 'src/a.ps1' 'a script'
        $script:m1 = New-TestCheckpoint $c 'first'
        $script:m2 = New-TestCheckpoint $c 'second'
        $script:f1 = New-TestCheckpoint $c 'feature start' -Branch feature
        $script:f2 = New-TestCheckpoint $c 'feature next' -Branch feature
        $script:m3 = New-TestCheckpoint $c 'third'
    }

    It 'outputs the checkpoint with the live counts, on main by default' {
        $m1 | Should -BeOfType ([AgentMailbox.ContextCheckpoint])
        $m1.Id | Should -Match '^[0-9a-f-]{36}$'
        $m1.AgentId | Should -Be $c.AgentId
        $m1.Branch | Should -Be 'main'
        $m1.Message | Should -Be 'first'
        $m1.NodeCount | Should -Be 2
        $m1.IndexCount | Should -Be 1
        $m1.SnapshotHash | Should -Match '^[0-9a-f]{16}$'
        ([DateTimeOffset]::UtcNow - $m1.CreatedAt).TotalMinutes | Should -BeLessThan 5
        $m1.Snapshot | Should -BeNullOrEmpty
    }

    It 'links each checkpoint to the previous one of its own branch' {
        $m1.ParentId | Should -BeNullOrEmpty
        $m2.ParentId | Should -Be $m1.Id
        $f1.ParentId | Should -BeNullOrEmpty -Because 'a new branch starts without a parent'
        $f1.Branch | Should -Be 'feature'
        $f2.ParentId | Should -Be $f1.Id
        $m3.ParentId | Should -Be $m2.Id -Because 'the feature checkpoints in between are on another branch'
    }

    It 'is not repeated when the connection drops after the server stored it, and says how to check' {
        $d = New-TestConnection drop
        Add-MockFault $server -Method POST -Path "/mailbox/$([Uri]::EscapeDataString($d.AgentId))/git/commit" -Action drop -AfterHandler
        Clear-MockRequest $server
        $out = Checkpoint-AgentContext 'maybe' -Connection $d -ErrorVariable ev -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -Be 'CheckpointFailed,AgentMailbox.PowerShell.Commands.CheckpointAgentContextCommand'
        $ev[0].ToString() | Should -Match 'may have made the checkpoint'
        $ev[0].ToString() | Should -Not -Match 'thread'
        $ev[0].ErrorDetails.RecommendedAction | Should -Match 'Get-AgentContextCheckpoint -First 1'
        @(Get-GitRequest $d | Where-Object method -eq POST).Count | Should -Be 1
        @(Get-AgentContextCheckpoint -Connection $d).Message | Should -Be @('maybe') -Because 'the server stored it once'
    }
}

Describe 'Get-AgentContextCheckpoint with entries written by Set-AgentIndexEntry' {
    It 'shows the snapshot''s index metadata as it was given, without the module''s fingerprint' {
        $c = New-TestConnection 'strip'
        Set-AgentIndexEntry -Connection $c -Key 'src/b.ps1' -Category file -Summary 'b script' -Metadata @{ owner = 'ops'; lines = 3 }
        $raw = (Get-AgentIndexEntry -Connection $c -Key 'src/b.ps1')
        $checkpoint = Checkpoint-AgentContext -Connection $c -Message 'with b' | Get-AgentContextCheckpoint -Connection $c
        $entry = $checkpoint.Snapshot.IndexEntries | Where-Object Key -eq 'src/b.ps1'
        @($entry.Metadata.PSObject.Properties.Name | Sort-Object) | Should -Be @('lines', 'owner')
        @($raw.Metadata.PSObject.Properties.Name | Sort-Object) | Should -Be @('lines', 'owner')
        $direct = Invoke-RestMethod "$($server.Uri)/mailbox/$([Uri]::EscapeDataString($c.AgentId))/git/commits/$($checkpoint.Id)"
        $direct.snapshot.indexEntries[0].metadata.PSObject.Properties.Name | Should -Contain 'agentMailboxFingerprint' -Because 'the server holds the fingerprint; only the output leaves it out'
    }
}

Describe 'Get-AgentContextCheckpoint' {
    BeforeAll {
        $script:c = New-TestConnection
        Set-TestNode $c 'n1' 'node one' 'the first' @{ depth = @{ deeper = 1 } }
        Set-TestNode $c 'n2' 'node two'
        Set-TestEdge $c 'n1' 'n2' 'imports'
        Set-TestEntry $c 'src/a b#?%+@ü.ps1' 'odd key' @{ lines = 10 }
        $script:m1 = New-TestCheckpoint $c 'first'
        Remove-TestNode $c 'n2'
        $script:m2 = New-TestCheckpoint $c 'second'
        $script:f1 = New-TestCheckpoint $c 'feature' -Branch feature
        $script:m3 = New-TestCheckpoint $c 'third'
    }

    It 'lists the log newest first, over every branch, without snapshots' {
        $log = @(Get-AgentContextCheckpoint -Connection $c)
        $log.Id | Should -Be @($m3.Id, $f1.Id, $m2.Id, $m1.Id)
        $log | ForEach-Object { $_.Snapshot | Should -BeNullOrEmpty }
        $log[0].ParentId | Should -Be $m2.Id
    }

    It 'asks for the most the server gives when -First is not given, and for n with -First n' {
        Clear-MockRequest $server
        $null = Get-AgentContextCheckpoint -Connection $c
        (Get-GitRequest $c)[0].query | Should -Be 'limit=100'
        $two = @(Get-AgentContextCheckpoint -First 2 -Connection $c)
        $two.Id | Should -Be @($m3.Id, $f1.Id)
        (Get-GitRequest $c)[1].query | Should -Be 'limit=2'
    }

    It 'filters by -Branch' {
        @(Get-AgentContextCheckpoint -Branch main -Connection $c).Id | Should -Be @($m3.Id, $m2.Id, $m1.Id)
        @(Get-AgentContextCheckpoint -Branch feature -Connection $c).Id | Should -Be @($f1.Id)
        @(Get-AgentContextCheckpoint -Branch nothing -Connection $c).Count | Should -Be 0
    }

    It 'reads a checkpoint by id with its snapshot as it was' {
        $full = Get-AgentContextCheckpoint $m1.Id -Connection $c
        $full.Id | Should -Be $m1.Id
        $full.Message | Should -Be 'first'
        $full.Snapshot.Nodes.Id | Should -Be @('n1', 'n2')
        $full.Snapshot.Nodes[0].Name | Should -Be 'node one'
        $full.Snapshot.Nodes[0].Description | Should -Be 'the first'
        $full.Snapshot.Nodes[0].Metadata.depth.deeper | Should -Be 1
        $full.Snapshot.Edges.Count | Should -Be 1
        $full.Snapshot.Edges[0].SourceId | Should -Be 'n1'
        $full.Snapshot.Edges[0].TargetId | Should -Be 'n2'
        $full.Snapshot.Edges[0].Type | Should -Be 'imports'
        $full.Snapshot.IndexEntries.Key | Should -Be @('src/a b#?%+@ü.ps1')
        $full.Snapshot.IndexEntries[0].Summary | Should -Be 'odd key'
        $full.Snapshot.IndexEntries[0].Metadata.lines | Should -Be 10
        (Get-AgentContextCheckpoint $m2.Id -Connection $c).Snapshot.Nodes.Id | Should -Be @('n1') -Because 'n2 was removed before the second'
    }

    It 'takes ids by value, positionally as an array and by property name, in input order' {
        @($m2.Id, $m1.Id | Get-AgentContextCheckpoint -Connection $c).Id | Should -Be @($m2.Id, $m1.Id)
        @(Get-AgentContextCheckpoint $m1.Id, $m3.Id -Connection $c).Id | Should -Be @($m1.Id, $m3.Id)
        $piped = @(Get-AgentContextCheckpoint -Branch main -Connection $c | Get-AgentContextCheckpoint -Connection $c)
        $piped.Id | Should -Be @($m3.Id, $m2.Id, $m1.Id)
        $piped | ForEach-Object { $_.Snapshot | Should -Not -BeNullOrEmpty }
    }

    It 'writes a non-terminating ObjectNotFound for an unknown id and goes on' {
        $out = @(Get-AgentContextCheckpoint $m1.Id, 'no-such-checkpoint', $m2.Id -Connection $c -ErrorVariable ev -ErrorAction SilentlyContinue)
        $out.Id | Should -Be @($m1.Id, $m2.Id)
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -Be 'CheckpointNotFound,AgentMailbox.PowerShell.Commands.GetAgentContextCheckpointCommand'
        $ev[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $ev[0].TargetObject | Should -Be 'no-such-checkpoint'
        $ev[0].ErrorDetails.RecommendedAction | Should -Match 'Get-AgentContextCheckpoint'
    }

    It 'reports a server fault on one id of a piped batch and outputs the others' {
        Add-MockFault $server -Method GET -Path (Get-CommitPath $c $m2.Id) -Status 500 -Count 1
        $out = @($m1.Id, $m2.Id, $m3.Id | Get-AgentContextCheckpoint -Connection $c -ErrorVariable ev -ErrorAction SilentlyContinue)
        $out.Id | Should -Be @($m1.Id, $m3.Id)
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -Be 'GetCheckpointFailed,AgentMailbox.PowerShell.Commands.GetAgentContextCheckpointCommand'
        $ev[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $ev[0].TargetObject | Should -Be $m2.Id
    }

    It 'repeats a read after a dropped connection' {
        Add-MockFault $server -Method GET -Path (Get-CommitPath $c $m1.Id) -Action drop -Count 1
        Clear-MockRequest $server
        (Get-AgentContextCheckpoint $m1.Id -Connection $c).Id | Should -Be $m1.Id
        @(Get-GitRequest $c).Count | Should -Be 2
    }

    It 'refuses -First outside 1..100 before any request' -ForEach @(@{ N = 0 }, @{ N = 101 }) {
        Clear-MockRequest $server
        { Get-AgentContextCheckpoint -First $N -Connection $c } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.GetAgentContextCheckpointCommand'
        @(Get-GitRequest $c).Count | Should -Be 0
    }

    It 'shows checkpoints as a table with short ids' {
        $text = (Get-AgentContextCheckpoint -First 1 -Connection $c | Format-Table | Out-String -Width 200)
        $text | Should -Match 'Branch'
        $text | Should -Match ([regex]::Escape($m3.Id.Substring(0, 8)))
        $text | Should -Not -Match ([regex]::Escape($m3.Id))
        $text | Should -Match ([regex]::Escape($m2.Id.Substring(0, 8))) -Because 'the parent is shown'
    }
}

Describe 'Compare-AgentContextCheckpoint' {
    BeforeAll {
        $script:c = New-TestConnection
        Set-TestNode $c 'n1' 'node one'
        Set-TestNode $c 'n2' 'node two'
        Set-TestEntry $c 'keep.ps1' 'kept'
        Set-TestEntry $c 'drop.ps1' 'dropped'
        $script:before = New-TestCheckpoint $c 'before'
        Set-TestNode $c 'n1' 'node one renamed'
        Remove-TestNode $c 'n2'
        Set-TestNode $c 'n3' 'node three'
        Set-TestEntry $c 'keep.ps1' 'kept, changed'
        Remove-TestEntry $c 'drop.ps1'
        Set-TestEntry $c 'new.ps1' 'new'
    }

    It 'compares a checkpoint with the live graph and index' {
        $diff = Compare-AgentContextCheckpoint $before.Id -Connection $c
        $diff | Should -BeOfType ([AgentMailbox.ContextDiff])
        $diff.ReferenceId | Should -Be $before.Id
        $diff.DifferenceId | Should -BeNullOrEmpty
        $diff.NodesAdded | Should -Be @('n3')
        $diff.NodesRemoved | Should -Be @('n2')
        $diff.NodesModified | Should -Be @('n1')
        $diff.IndexAdded | Should -Be @('new.ps1')
        $diff.IndexRemoved | Should -Be @('drop.ps1')
        $diff.IndexModified | Should -Be @('keep.ps1')
    }

    It 'compares two checkpoints, and a piped checkpoint is the reference' {
        $after = New-TestCheckpoint $c 'after'
        $between = Compare-AgentContextCheckpoint $before.Id $after.Id -Connection $c
        $between.DifferenceId | Should -Be $after.Id
        $between.NodesAdded | Should -Be @('n3')
        $between.IndexModified | Should -Be @('keep.ps1')
        $since = Get-AgentContextCheckpoint -First 1 -Connection $c | Compare-AgentContextCheckpoint -Connection $c
        $since.ReferenceId | Should -Be $after.Id
        $since.IsEmpty | Should -BeTrue -Because 'nothing changed since the last checkpoint'
        Set-TestNode $c 'n4' 'node four'
        $since = Get-AgentContextCheckpoint -First 1 -Connection $c | Compare-AgentContextCheckpoint -Connection $c
        $since.NodesAdded | Should -Be @('n4')
        $since.IsEmpty | Should -BeFalse
    }

    It 'names the unknown checkpoint as the target of an ObjectNotFound' {
        $diff = Compare-AgentContextCheckpoint $before.Id 'missing-after' -Connection $c -ErrorVariable ev -ErrorAction SilentlyContinue
        $diff | Should -BeNullOrEmpty
        $ev[0].FullyQualifiedErrorId | Should -Be 'CheckpointNotFound,AgentMailbox.PowerShell.Commands.CompareAgentContextCheckpointCommand'
        $ev[0].TargetObject | Should -Be 'missing-after'
        $null = Compare-AgentContextCheckpoint 'missing-before' -Connection $c -ErrorVariable ev2 -ErrorAction SilentlyContinue
        $ev2[0].TargetObject | Should -Be 'missing-before'
    }

    It 'shows a diff as counts per kind at a glance' {
        $text = Compare-AgentContextCheckpoint $before.Id -Connection $c | Out-String -Width 200
        $text | Should -Match 'Nodes\s+: \+2 -1 ~1'
        $text | Should -Match 'Index\s+: \+1 -1 ~1'
        $text | Should -Match 'To\s+: \(live graph and index\)'
    }
}

Describe 'Restore-AgentContextCheckpoint' {
    BeforeAll {
        $script:c = New-TestConnection
        Set-TestNode $c 'n1' 'node one'
        Set-TestEntry $c 'a.ps1' 'original'
        $script:saved = New-TestCheckpoint $c 'saved'
    }

    It 'replaces the live graph and index with the checkpoint''s' {
        Set-TestNode $c 'n2' 'node two'
        Set-TestEntry $c 'a.ps1' 'changed'
        Set-TestEntry $c 'b.ps1' 'added'
        $out = Restore-AgentContextCheckpoint $saved.Id -Confirm:$false -Connection $c
        $out | Should -BeNullOrEmpty
        Get-TestNodeName $c | Should -Be @('node one')
        (Get-TestEntry $c 'a.ps1').Summary | Should -Be 'original'
        (Compare-AgentContextCheckpoint $saved.Id -Connection $c).IsEmpty | Should -BeTrue
    }

    It 'takes the checkpoint from the pipeline' {
        Set-TestNode $c 'n9' 'node nine'
        Get-AgentContextCheckpoint -First 1 -Connection $c | Restore-AgentContextCheckpoint -Confirm:$false -Connection $c
        Get-TestNodeName $c | Should -Be @('node one')
    }

    It 'writes CheckpointNotFound for an unknown id' {
        Restore-AgentContextCheckpoint 'nope' -Confirm:$false -Connection $c -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -Be 'CheckpointNotFound,AgentMailbox.PowerShell.Commands.RestoreAgentContextCheckpointCommand'
        $ev[0].TargetObject | Should -Be 'nope'
    }

    It 'is ConfirmImpact High' {
        (Get-Command Restore-AgentContextCheckpoint).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact |
            Should -Be 'High'
        (Get-Command Merge-AgentContextBranch).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact |
            Should -Be 'High'
    }
}

Describe 'Remove-AgentContextCheckpoint' {
    It 'removes a checkpoint, by value and by property name' {
        $c = New-TestConnection
        $a = New-TestCheckpoint $c 'a' -Branch one
        $b = New-TestCheckpoint $c 'b' -Branch two
        $a.Id | Remove-AgentContextCheckpoint -Connection $c -Confirm:$false
        $b | Remove-AgentContextCheckpoint -Connection $c -Confirm:$false
        @(Get-AgentContextCheckpoint -Connection $c).Count | Should -Be 0
    }

    It 'refuses a parent in plain words that name its child, and the next input still runs' {
        $c = New-TestConnection
        $p = New-TestCheckpoint $c 'parent'
        $child = New-TestCheckpoint $c 'child'
        $other = New-TestCheckpoint $c 'elsewhere' -Branch side
        Clear-MockRequest $server
        Remove-AgentContextCheckpoint $p.Id, $other.Id -Connection $c -Confirm:$false -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -Be 'CheckpointHasChildren,AgentMailbox.PowerShell.Commands.RemoveAgentContextCheckpointCommand'
        $ev[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $ev[0].TargetObject | Should -Be $p.Id
        $ev[0].Exception.Message | Should -Match 'cannot be removed'
        $ev[0].Exception.Message | Should -Match ([regex]::Escape($child.Id))
        $ev[0].Exception.Message | Should -Match 'newest first'
        $ev[0].Exception.InnerException | Should -BeOfType ([AgentMailbox.AgentMailboxServerException])
        $ev[0].ErrorDetails.RecommendedAction | Should -Match "Remove-AgentContextCheckpoint $([regex]::Escape($child.Id)), $([regex]::Escape($p.Id))"
        @(Get-AgentContextCheckpoint -Connection $c).Id | Should -Be @($child.Id, $p.Id) -Because 'the other input was removed'
        @(Get-GitRequest $c | Where-Object method -eq DELETE).Count | Should -Be 3 -Because 'the parent is tried again once another input was removed'
        Clear-MockRequest $server
        Remove-AgentContextCheckpoint $p.Id -Connection $c -Confirm:$false -ErrorVariable ev2 -ErrorAction SilentlyContinue
        $ev2[0].FullyQualifiedErrorId | Should -Be 'CheckpointHasChildren,AgentMailbox.PowerShell.Commands.RemoveAgentContextCheckpointCommand'
        @(Get-GitRequest $c | Where-Object method -eq DELETE).Count | Should -Be 1 -Because 'a parent is not tried again when nothing else was removed'
    }

    It 'removes a whole branch whatever the order of the ids' {
        $c = New-TestConnection
        $ids = 1..4 | ForEach-Object { (New-TestCheckpoint $c "step $_").Id }
        Remove-AgentContextCheckpoint $ids -Connection $c -Confirm:$false -ErrorVariable ev
        $ev.Count | Should -Be 0
        @(Get-AgentContextCheckpoint -Connection $c).Count | Should -Be 0
        $more = 1..3 | ForEach-Object { New-TestCheckpoint $c "again $_" }
        $more[1], $more[0], $more[2] | Remove-AgentContextCheckpoint -Connection $c -Confirm:$false -ErrorVariable ev2
        $ev2.Count | Should -Be 0
        @(Get-AgentContextCheckpoint -Connection $c).Count | Should -Be 0
    }

    It 'writes ObjectNotFound for an unknown id and goes on' {
        $c = New-TestConnection
        $a = New-TestCheckpoint $c 'a'
        Remove-AgentContextCheckpoint 'ghost', $a.Id -Connection $c -Confirm:$false -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -Be 'CheckpointNotFound,AgentMailbox.PowerShell.Commands.RemoveAgentContextCheckpointCommand'
        $ev[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $ev[0].TargetObject | Should -Be 'ghost'
        @(Get-AgentContextCheckpoint -Connection $c).Count | Should -Be 0
    }

    It 'reports a server fault on one input of a piped batch and removes the others' {
        $c = New-TestConnection
        $cps = 'x', 'y', 'z' | ForEach-Object { New-TestCheckpoint $c $_ -Branch $_ }
        Add-MockFault $server -Method DELETE -Path (Get-CommitPath $c $cps[1].Id) -Status 500 -Count 1
        $cps | Remove-AgentContextCheckpoint -Connection $c -Confirm:$false -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -Be 'RemoveCheckpointFailed,AgentMailbox.PowerShell.Commands.RemoveAgentContextCheckpointCommand'
        $ev[0].TargetObject | Should -Be $cps[1].Id
        @(Get-AgentContextCheckpoint -Connection $c).Id | Should -Be @($cps[1].Id)
    }
}

Describe 'Merge-AgentContextBranch' {
    BeforeAll {
        function New-TwoBranches {
            <# main: node m + shared ('shared main') + entry main.ps1; feature: node f + shared ('shared feature') + entry feature.ps1. #>
            $c = New-TestConnection merge
            Set-TestNode $c 'm' 'main node'
            Set-TestNode $c 'shared' 'shared main'
            Set-TestEntry $c 'main.ps1' 'on main'
            $main = New-TestCheckpoint $c 'main state'
            Remove-TestNode $c 'm'
            Remove-TestEntry $c 'main.ps1'
            Set-TestNode $c 'f' 'feature node'
            Set-TestNode $c 'shared' 'shared feature'
            Set-TestEntry $c 'feature.ps1' 'on feature'
            $feature = New-TestCheckpoint $c 'feature state' -Branch feature
            Set-TestNode $c 'live' 'live only node'
            @{ Connection = $c; Main = $main; Feature = $feature }
        }
    }

    It 'unions both branches into the live state and checkpoints it on the target branch' {
        $t = New-TwoBranches
        $merge = Merge-AgentContextBranch feature main -Confirm:$false -Connection $t.Connection
        $merge | Should -BeOfType ([AgentMailbox.ContextCheckpoint])
        $merge.Branch | Should -Be 'main'
        $merge.ParentId | Should -Be $t.Main.Id
        $merge.Message | Should -Be "Merge 'feature' into 'main' (union)"
        $merge.NodeCount | Should -Be 3
        $merge.IndexCount | Should -Be 2
        Get-TestNodeName $t.Connection | Should -Be @('feature node', 'main node', 'shared main') -Because 'the live-only node is replaced'
    }

    It 'keeps the target branch with Ours and the source branch with Theirs, and takes a message' {
        $t = New-TwoBranches
        $ours = Merge-AgentContextBranch -From feature -To main -Strategy Ours -Message 'keep main' -Confirm:$false -Connection $t.Connection
        $ours.Message | Should -Be 'keep main'
        Get-TestNodeName $t.Connection | Should -Be @('main node', 'shared main')
        $t = New-TwoBranches
        $theirs = Merge-AgentContextBranch feature main -Strategy theirs -Confirm:$false -Connection $t.Connection
        $theirs.Message | Should -Be "Merge 'feature' into 'main' (theirs)"
        Get-TestNodeName $t.Connection | Should -Be @('feature node', 'shared feature')
        (Get-TestEntry $t.Connection 'feature.ps1').Summary | Should -Be 'on feature'
    }

    It 'says plainly that a branch without checkpoints has nothing to merge' {
        $t = New-TwoBranches
        $out = Merge-AgentContextBranch nowhere main -Confirm:$false -Connection $t.Connection -ErrorVariable ev -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $ev[0].FullyQualifiedErrorId | Should -Be 'ContextBranchNotFound,AgentMailbox.PowerShell.Commands.MergeAgentContextBranchCommand'
        $ev[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $ev[0].TargetObject | Should -Be 'nowhere'
        $ev[0].ToString() | Should -Match "Branch 'nowhere' .* has no checkpoints"
        $null = Merge-AgentContextBranch feature empty -Confirm:$false -Connection $t.Connection -ErrorVariable ev2 -ErrorAction SilentlyContinue
        $ev2[0].TargetObject | Should -Be 'empty'
    }

    It 'is not repeated when the connection drops after the server merged' {
        $t = New-TwoBranches
        $path = "/mailbox/$([Uri]::EscapeDataString($t.Connection.AgentId))/git/merge"
        Add-MockFault $server -Method POST -Path $path -Action drop -AfterHandler
        Clear-MockRequest $server
        Merge-AgentContextBranch feature main -Confirm:$false -Connection $t.Connection -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -Be 'MergeBranchFailed,AgentMailbox.PowerShell.Commands.MergeAgentContextBranchCommand'
        $ev[0].ToString() | Should -Match 'may have made the checkpoint'
        @(Get-GitRequest $t.Connection | Where-Object method -eq POST).Count | Should -Be 1
        @(Get-AgentContextCheckpoint -Branch main -Connection $t.Connection).Count | Should -Be 2
    }

    It 'refuses an unknown strategy before any request' {
        $c = New-TestConnection
        Clear-MockRequest $server
        { Merge-AgentContextBranch feature main -Strategy octopus -Confirm:$false -Connection $c } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.MergeAgentContextBranchCommand'
        @(Get-GitRequest $c).Count | Should -Be 0
    }
}

Describe '-WhatIf sends nothing' {
    BeforeAll {
        $script:c = New-TestConnection
        Set-TestNode $c 'n1' 'node one'
        $script:a = New-TestCheckpoint $c 'a'
        $script:f = New-TestCheckpoint $c 'f' -Branch feature
    }

    It '<Name> -WhatIf makes no request and outputs nothing' -ForEach @(
        @{ Name = 'Checkpoint-AgentContext'; Run = { Checkpoint-AgentContext 'x' -WhatIf -Connection $c } }
        @{ Name = 'Restore-AgentContextCheckpoint'; Run = { Restore-AgentContextCheckpoint $a.Id -WhatIf -Connection $c } }
        @{ Name = 'Remove-AgentContextCheckpoint'; Run = { $a, $f | Remove-AgentContextCheckpoint -WhatIf -Connection $c } }
        @{ Name = 'Merge-AgentContextBranch'; Run = { Merge-AgentContextBranch feature main -WhatIf -Connection $c } }
    ) {
        Clear-MockRequest $server
        $out = & $Run
        $out | Should -BeNullOrEmpty
        @(Get-GitRequest $c).Count | Should -Be 0
        @(Get-AgentContextCheckpoint -Connection $c).Id | Should -Be @($f.Id, $a.Id)
    }

    It 'refuses an empty message before any request' {
        Clear-MockRequest $server
        { Checkpoint-AgentContext '' -Connection $c } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.CheckpointAgentContextCommand'
        @(Get-GitRequest $c).Count | Should -Be 0
    }
}

Describe 'Tab completion of checkpoints' {
    BeforeAll {
        function Get-Completion([string] $Line) {
            (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
        }
    }

    It 'offers nothing, and quickly, when not connected' {
        Disconnect-AgentMailbox -ErrorAction SilentlyContinue
        $null = Get-Completion 'Get-AgentContextCheckpoint -Fi'   # loads the completion machinery, which is not what is timed
        $watch = [Diagnostics.Stopwatch]::StartNew()
        @(Get-Completion 'Restore-AgentContextCheckpoint -Id ').Count | Should -Be 0
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2
    }

    It 'completes ids from the log, newest first, filtered by what was typed, and branch names' {
        $c = New-TestConnection complete
        Connect-AgentMailbox $c.AgentId -Server $server.Uri
        $one = New-TestCheckpoint $c 'first one'
        $two = New-TestCheckpoint $c 'second one' -Branch 'my feature'
        $all = @(Get-Completion 'Get-AgentContextCheckpoint -Id ')
        $all.ListItemText | Should -Be @($two.Id, $one.Id)
        $all[1].ToolTip | Should -Match 'main: first one'
        $some = @(Get-Completion "Compare-AgentContextCheckpoint $($one.Id.Substring(0, 8))")
        $some.ListItemText | Should -Be @($one.Id)
        $branches = @(Get-Completion 'Merge-AgentContextBranch -From ')
        $branches.ListItemText | Should -Be @('my feature', 'main')
        ($branches | Where-Object ListItemText -eq 'my feature').CompletionText | Should -Be "'my feature'"
    }

    It 'gives up on a server that does not answer within its budget' {
        $c = New-TestConnection slow
        $line = 'Remove-AgentContextCheckpoint -Connection $c -Id '
        Add-MockFault $server -Method GET -Path "/mailbox/$([Uri]::EscapeDataString($c.AgentId))/git/log" -DelayMs 5000 -Count 1
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2.5
        @($offered).Count | Should -Be 0
    }
}
