<#
    The context graph cmdlets against the mock server: behaviour, binding, -WhatIf (counted at the mock),
    validation before any request, per-input errors with a fault on one input of a batch, query depth, cascade
    delete, copying one agent's graph into another's, CSV import, and exact round trips of ids and metadata.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock

    function script:Get-GraphRequest([string] $Method) {
        @(Get-MockRequest $server '/mailbox/*/graph/*' | Where-Object { -not $Method -or $_.method -eq $Method })
    }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Set-AgentGraphNode' {
    BeforeAll {
        $script:me = Connect-AgentMailbox (New-TestAgentId graph) -Server $server.Uri -PassThru
    }
    BeforeEach { Clear-MockRequest $server; Clear-MockFault $server }

    It 'upserts a node and sends exactly its fields' {
        Set-AgentGraphNode -Connection $me n1 file 'auth.ts' -Description 'the login code' -Metadata @{ lines = 120 } | Should -BeNullOrEmpty
        $sent = Get-GraphRequest POST
        $sent.Count | Should -Be 1
        $sent[0].path | Should -Be "/mailbox/$([uri]::EscapeDataString($me.AgentId))/graph/nodes"
        $body = $sent[0].body | ConvertFrom-Json -AsHashtable
        $body.id | Should -Be 'n1'
        $body.type | Should -Be 'file'
        $body.name | Should -Be 'auth.ts'
        $body.description | Should -Be 'the login code'
        $body.metadata.lines | Should -Be 120
        $node = (Search-AgentGraph -Connection $me 'auth.ts').Nodes | Where-Object Id -eq 'n1'
        $node.Metadata.lines | Should -Be 120
        $node.UpdatedAt | Should -BeOfType ([DateTimeOffset])
    }

    It 'sends no description and no metadata when none is given, and -PassThru shows the empty metadata the server stores' {
        $out = Set-AgentGraphNode -Connection $me n-bare task 'bare task' -PassThru
        $body = (Get-GraphRequest POST)[0].body | ConvertFrom-Json -AsHashtable
        $body.Keys | Sort-Object | Should -Be @('id', 'name', 'type')
        $out | Should -BeOfType ([AgentMailbox.GraphNode])
        $out.Description | Should -BeNullOrEmpty
        @($out.Metadata.PSObject.Properties).Count | Should -Be 0
        $read = (Search-AgentGraph -Connection $me 'bare task').Nodes[0]
        $read.Description | Should -BeNullOrEmpty
        $null -eq $read.Description | Should -BeTrue
    }

    It 'writes the type in the server''s spelling when it is given in another case' {
        Set-AgentGraphNode -Connection $me n-case FILE 'case file'
        ((Get-GraphRequest POST)[0].body | ConvertFrom-Json).type | Should -Be 'file'
    }

    It 'completes the five node types' {
        $line = 'Set-AgentGraphNode n1 -Type '
        $found = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        ($found | Sort-Object) | Should -Be @('decision', 'file', 'message', 'symbol', 'task')
    }

    It 'refuses a wrong type before any request, naming the parameter' {
        { Set-AgentGraphNode -Connection $me n1 folder 'x' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.SetAgentGraphNodeCommand' -ExpectedMessage '*Type*'
        (Get-GraphRequest).Count | Should -Be 0
    }

    It 'refuses metadata that is not a JSON object before any request, per input' -ForEach @(
        @{ Value = 42; What = 'a number' }
        @{ Value = @(1, 2); What = 'an array' }
        @{ Value = 'not json'; What = 'text that is not JSON' }
        @{ Value = '[1,2]'; What = 'JSON text of an array' }
    ) {
        $out = Set-AgentGraphNode -Connection $me n-bad file bad -Metadata $Value -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidMetadata,AgentMailbox.PowerShell.Commands.SetAgentGraphNodeCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failures[0].Exception.Message | Should -BeLike '*-Metadata*'
        (Get-GraphRequest).Count | Should -Be 0
    }

    It 'refuses metadata with no JSON form (a cycle) before any request' {
        $cycle = @{}; $cycle.self = $cycle
        Set-AgentGraphNode -Connection $me n-cycle file cycle -Metadata $cycle -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidMetadata,AgentMailbox.PowerShell.Commands.SetAgentGraphNodeCommand'
        (Get-GraphRequest).Count | Should -Be 0
    }

    It 'reads metadata given as JSON text, as a CSV cell holds it' {
        Set-AgentGraphNode -Connection $me n-json file 'json meta' -Metadata '{"owner":"ops","tags":["a","b"]}'
        $body = (Get-GraphRequest POST)[0].body | ConvertFrom-Json
        $body.metadata.owner | Should -Be 'ops'
        $body.metadata.tags | Should -Be @('a', 'b')
    }

    It 'runs a script-block -Metadata per input with $_ bound to it' {
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ Id = "s$_"; Type = 'symbol'; Name = "sym $_"; Size = $_ * 10 } }
        $out = $rows | Set-AgentGraphNode -Connection $me -Metadata { @{ size = $_.Size; id = $_.Id } } -PassThru
        $out.Id | Should -Be @('s1', 's2', 's3')
        $out.Metadata.size | Should -Be @(10, 20, 30)
        $bodies = (Get-GraphRequest POST).body | ConvertFrom-Json
        $bodies.metadata.id | Should -Be @('s1', 's2', 's3')
    }

    It 'sends nothing and runs no metadata script under -WhatIf' {
        $script:ran = 0
        1..3 | ForEach-Object { [pscustomobject]@{ Id = "w$_"; Type = 'task'; Name = "w $_" } } |
            Set-AgentGraphNode -Connection $me -Metadata { $script:ran++; @{} } -WhatIf
        $script:ran | Should -Be 0
        (Get-GraphRequest).Count | Should -Be 0
    }

    It 'reports a failing metadata script for its input and goes on' {
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ Id = "f$_"; Type = 'task'; Name = "f $_" } }
        $out = $rows | Set-AgentGraphNode -Connection $me -Metadata { if ($_.Id -eq 'f2') { throw 'boom' }; @{ ok = 1 } } -PassThru `
            -ErrorVariable failures -ErrorAction SilentlyContinue
        $out.Id | Should -Be @('f1', 'f3')
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'MetadataScriptFailed,AgentMailbox.PowerShell.Commands.SetAgentGraphNodeCommand'
        $failures[0].TargetObject.Id | Should -Be 'f2'
        (Get-GraphRequest POST).Count | Should -Be 2
    }

    It 'reports a server fault on one input of a batch and loses none of the others' {
        $out = 1..4 | ForEach-Object {
            if ($_ -eq 2) { $null = Add-MockFault $server -Path '/mailbox/*' -Method POST -Status 500 }
            [pscustomobject]@{ Id = "b$_"; Type = 'task'; Name = "batch $_" }
        } | Set-AgentGraphNode -Connection $me -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue
        $out.Id | Should -Be @('b1', 'b3', 'b4')
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'SetGraphNodeFailed,AgentMailbox.PowerShell.Commands.SetAgentGraphNodeCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $failures[0].TargetObject.Id | Should -Be 'b2'
        ((Search-AgentGraph -Connection $me 'batch').Nodes.Id | Sort-Object) | Should -Be @('b1', 'b3', 'b4')
    }

    It 'reports a per-input binding error for a row that lacks a mandatory column, and goes on' {
        $rows = @(
            [pscustomobject]@{ Id = 'r1'; Type = 'task'; Name = 'row 1' }
            [pscustomobject]@{ Id = 'r2'; Type = 'task'; Name = '' }
            [pscustomobject]@{ Id = 'r3'; Type = 'folder'; Name = 'row 3' }
            [pscustomobject]@{ Id = 'r4'; Type = 'task'; Name = 'row 4' }
        )
        $out = $rows | Set-AgentGraphNode -Connection $me -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue
        $out.Id | Should -Be @('r1', 'r4')
        $failures.Count | Should -Be 2
        (Get-GraphRequest POST).Count | Should -Be 2
    }
}

Describe 'Import-Csv into the graph' {
    BeforeAll {
        $script:me = Connect-AgentMailbox (New-TestAgentId csv) -Server $server.Uri -PassThru
    }

    It 'upserts one node per row, with JSON metadata cells and empty cells as none' {
        $path = Join-Path $TestDrive 'nodes.csv'
        @(
            [pscustomobject]@{ Id = 'src/a.ts'; Type = 'file'; Name = 'csv a'; Description = 'first'; Metadata = '{"owner":"ops","n":1}' }
            [pscustomobject]@{ Id = 'src/b.ts'; Type = 'file'; Name = 'csv b'; Description = ''; Metadata = '' }
            [pscustomobject]@{ Id = 'T-1'; Type = 'task'; Name = 'csv task'; Description = 'do it'; Metadata = '{}' }
        ) | Export-Csv -Path $path -NoTypeInformation
        Import-Csv $path | Set-AgentGraphNode -Connection $me
        $nodes = (Search-AgentGraph -Connection $me 'csv').Nodes
        ($nodes.Id | Sort-Object) | Should -Be @('src/a.ts', 'src/b.ts', 'T-1' | Sort-Object)
        $a = $nodes | Where-Object Id -eq 'src/a.ts'
        $a.Metadata.owner | Should -Be 'ops'
        $a.Metadata.n | Should -Be 1
        $a.Description | Should -Be 'first'
        @(($nodes | Where-Object Id -eq 'src/b.ts').Metadata.PSObject.Properties).Count | Should -Be 0
    }

    It 'upserts edges from CSV rows, weights read as numbers' {
        $path = Join-Path $TestDrive 'edges.csv'
        "SourceId,TargetId,Type,Weight`nsrc/a.ts,src/b.ts,imports,2.5`nT-1,src/a.ts,touches,1" | Set-Content $path
        Import-Csv $path | Set-AgentGraphEdge -Connection $me
        $edges = (Search-AgentGraph -Connection $me 'csv').Edges
        $edges.Count | Should -Be 2
        ($edges | Where-Object Type -eq 'imports').Weight | Should -Be 2.5
    }
}

Describe 'Set-AgentGraphEdge and Remove-AgentGraphEdge' {
    BeforeAll {
        $script:me = Connect-AgentMailbox (New-TestAgentId edges) -Server $server.Uri -PassThru
        'e1', 'e2', 'e3' | ForEach-Object { Set-AgentGraphNode -Connection $me $_ symbol "edge node $_" }
    }
    BeforeEach { Clear-MockRequest $server; Clear-MockFault $server }

    It 'upserts an edge, keyed by source, target and type, and -PassThru outputs it' {
        $out = Set-AgentGraphEdge -Connection $me e1 e2 calls -Weight 0.5 -PassThru
        $out | Should -BeOfType ([AgentMailbox.GraphEdge])
        "$out" | Should -Be 'e1 -calls-> e2'
        $body = (Get-GraphRequest POST)[0].body | ConvertFrom-Json
        $body.sourceId | Should -Be 'e1'; $body.targetId | Should -Be 'e2'; $body.type | Should -Be 'calls'; $body.weight | Should -Be 0.5
        Set-AgentGraphEdge -Connection $me e1 e2 calls -Weight 3
        $edges = @((Search-AgentGraph -Connection $me 'edge node e1' -Depth 1).Edges | Where-Object Type -eq 'calls')
        $edges.Count | Should -Be 1
        $edges[0].Weight | Should -Be 3
    }

    It 'sends weight 1 when none is given' {
        Set-AgentGraphEdge -Connection $me e2 e3 follows
        ((Get-GraphRequest POST)[0].body | ConvertFrom-Json).weight | Should -Be 1
    }

    It 'refuses a weight that is not positive and finite before any request' -ForEach @(
        @{ Weight = 0 }, @{ Weight = -1 }, @{ Weight = [double]::NaN }, @{ Weight = [double]::PositiveInfinity }
    ) {
        { Set-AgentGraphEdge -Connection $me e1 e2 x -Weight $Weight -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.SetAgentGraphEdgeCommand' -ExpectedMessage '*Weight*'
        (Get-GraphRequest).Count | Should -Be 0
    }

    It 'sends nothing under -WhatIf' {
        Set-AgentGraphEdge -Connection $me e1 e3 x -WhatIf
        [pscustomobject]@{ SourceId = 'e1'; TargetId = 'e2'; Type = 'calls' } | Remove-AgentGraphEdge -Connection $me -WhatIf
        (Get-GraphRequest).Count | Should -Be 0
    }

    It 'removes the edges a query returns, piped, and removing a missing edge succeeds' {
        Set-AgentGraphEdge -Connection $me e1 e3 rm
        $before = (Search-AgentGraph -Connection $me 'edge node' -Depth 1).Edges
        $before.Count | Should -BeGreaterThan 1
        $before | Remove-AgentGraphEdge -Connection $me
        (Search-AgentGraph -Connection $me 'edge node' -Depth 1).Edges.Count | Should -Be 0
        $requests = Get-GraphRequest DELETE
        $requests.Count | Should -Be $before.Count
        ($requests[0].body | ConvertFrom-Json).PSObject.Properties.Name | Should -Be @('sourceId', 'targetId', 'type')
        { Remove-AgentGraphEdge -Connection $me e1 e3 rm -ErrorAction Stop } | Should -Not -Throw
    }

    It 'reports a fault on one edge of a piped batch and removes the others' {
        $edges = 1..3 | ForEach-Object { Set-AgentGraphEdge -Connection $me e1 e2 "t$_" -PassThru }
        Clear-MockRequest $server
        $edges | ForEach-Object -Begin { $i = 0 } -Process {
            $i++; if ($i -eq 2) { $null = Add-MockFault $server -Path '/mailbox/*' -Method DELETE -Status 500 }; $_
        } | Remove-AgentGraphEdge -Connection $me -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'RemoveGraphEdgeFailed,AgentMailbox.PowerShell.Commands.RemoveAgentGraphEdgeCommand'
        "$($failures[0].TargetObject)" | Should -Be 'e1 -t2-> e2'
        ((Search-AgentGraph -Connection $me 'edge node e1' -Depth 1).Edges | Where-Object Type -like 't?').Type | Should -Be @('t2')
    }
}

Describe 'Search-AgentGraph' {
    BeforeAll {
        $script:me = Connect-AgentMailbox (New-TestAgentId query) -Server $server.Uri -PassThru
        # A chain h0 - h1 - h2 - h3 - h4 - h5; only h0 matches 'chainhead'. Edges alternate direction: the walk ignores it.
        0..5 | ForEach-Object { Set-AgentGraphNode -Connection $me "h$_" task $(if ($_ -eq 0) { 'chainhead' } else { "link $_" }) }
        0..4 | ForEach-Object {
            if ($_ % 2) { Set-AgentGraphEdge -Connection $me "h$($_ + 1)" "h$_" next } else { Set-AgentGraphEdge -Connection $me "h$_" "h$($_ + 1)" next }
        }
    }
    BeforeEach { Clear-MockRequest $server }

    It 'walks exactly -Depth hops from the matching nodes, in both directions' -ForEach @(
        @{ Depth = 1 }, @{ Depth = 2 }, @{ Depth = 3 }, @{ Depth = 4 }, @{ Depth = 5 }
    ) {
        $result = Search-AgentGraph -Connection $me chainhead -Depth $Depth
        $result | Should -BeOfType ([AgentMailbox.GraphQueryResult])
        $result.Query | Should -Be 'chainhead'
        ($result.Nodes.Id | Sort-Object) | Should -Be @(0..$Depth | ForEach-Object { "h$_" })
        $result.Edges.Count | Should -Be $Depth
        (Get-GraphRequest GET)[0].query | Should -Be "q=chainhead&depth=$Depth"
    }

    It 'uses the server''s default depth of 2 when -Depth is not given' {
        (Search-AgentGraph -Connection $me chainhead).Nodes.Count | Should -Be 3
        (Get-GraphRequest GET)[0].query | Should -Be 'q=chainhead'
    }

    It 'caps the nodes with -First' {
        (Search-AgentGraph -Connection $me chainhead -Depth 5 -First 2).Nodes.Count | Should -Be 2
        (Get-GraphRequest GET)[0].query | Should -Be 'q=chainhead&limit=2&depth=5'
    }

    It 'gives an empty result, not an error, when nothing matches' {
        $result = Search-AgentGraph -Connection $me 'no such text anywhere'
        $result.Nodes.Count | Should -Be 0
        $result.Edges.Count | Should -Be 0
    }

    It 'refuses -Depth and -First out of range before any request' -ForEach @(
        @{ Arguments = @{ Depth = 0 }; Name = 'Depth' }, @{ Arguments = @{ Depth = 6 }; Name = 'Depth' }
        @{ Arguments = @{ First = 0 }; Name = 'First' }, @{ Arguments = @{ First = 201 }; Name = 'First' }
    ) {
        { Search-AgentGraph -Connection $me chainhead @Arguments -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.SearchAgentGraphCommand' -ExpectedMessage "*$Name*"
        (Get-GraphRequest).Count | Should -Be 0
    }

    It 'takes queries from the pipeline, one result each, in order' {
        $results = 'chainhead', 'link 5' | Search-AgentGraph -Connection $me -Depth 1
        $results.Query | Should -Be @('chainhead', 'link 5')
        ($results[1].Nodes.Id | Sort-Object) | Should -Be @('h4', 'h5')
    }

    It 'returns an edge whose far end is another agent''s node (edges are global)' {
        $other = Connect-AgentMailbox (New-TestAgentId other) -Server $server.Uri -PassThru
        Set-AgentGraphNode -Connection $other "foreign-$($other.AgentId)" task 'foreign node'
        Set-AgentGraphEdge -Connection $other h5 "foreign-$($other.AgentId)" points-at
        $result = Search-AgentGraph -Connection $me 'link 5' -Depth 1
        $result.Nodes.Id | Should -Not -Contain "foreign-$($other.AgentId)"
        ($result.Edges | Where-Object Type -eq 'points-at').TargetId | Should -Be "foreign-$($other.AgentId)"
        Remove-AgentGraphNode -Connection $other "foreign-$($other.AgentId)"
    }

    It 'shows nodes and edges in table views' {
        Get-FormatData AgentMailbox.GraphNode, AgentMailbox.GraphEdge | ForEach-Object {
            $_.FormatViewDefinition.Control | Where-Object { $_ -is [System.Management.Automation.TableControl] } | Should -Not -BeNullOrEmpty
        }
        $result = Search-AgentGraph -Connection $me chainhead -Depth 1
        $nodes = $result.Nodes | Out-String -Width 200
        $nodes | Should -Match 'Id\s+Type\s+Name\s+UpdatedAt\s+Description'
        $nodes | Should -Match 'h0\s+task\s+chainhead\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
        $edges = $result.Edges | Out-String -Width 200
        $edges | Should -Match 'Edge\s+Weight'
        $edges | Should -Match 'h0 -next-> h1\s+1'
    }

    It 'shows the nodes and the edges as source -type-> target in its default view' {
        $text = Search-AgentGraph -Connection $me chainhead -Depth 1 | Out-String -Width 200
        $text | Should -Match 'Query\s*:\s*chainhead'
        $text | Should -Match 'h0 \[task\] chainhead'
        $text | Should -Match 'h0 -next-> h1'
    }
}

Describe 'Remove-AgentGraphNode' {
    BeforeAll {
        $script:me = Connect-AgentMailbox (New-TestAgentId remove) -Server $server.Uri -PassThru
    }
    BeforeEach {
        Clear-MockFault $server
        'x1', 'x2', 'x3' | ForEach-Object { Set-AgentGraphNode -Connection $me $_ decision "removal $_" }
        Set-AgentGraphEdge -Connection $me x1 x2 why
        Set-AgentGraphEdge -Connection $me x3 x2 why
        Set-AgentGraphEdge -Connection $me x1 x3 why
        Clear-MockRequest $server
    }

    It 'removes a node and every edge to or from it' {
        Remove-AgentGraphNode -Connection $me x2
        $result = Search-AgentGraph -Connection $me removal -Depth 1
        ($result.Nodes.Id | Sort-Object) | Should -Be @('x1', 'x3')
        @($result.Edges).Count | Should -Be 1
        "$($result.Edges[0])" | Should -Be 'x1 -why-> x3'
    }

    It 'takes ids positionally as an array, piped as strings, and from piped nodes' {
        Remove-AgentGraphNode -Connection $me x1, x2
        (Get-GraphRequest DELETE).path | Should -Be @('x1', 'x2' | ForEach-Object { "/mailbox/$([uri]::EscapeDataString($me.AgentId))/graph/nodes/$_" })
        Clear-MockRequest $server
        'x3' | Remove-AgentGraphNode -Connection $me
        (Get-GraphRequest DELETE).Count | Should -Be 1
        'x1', 'x2' | ForEach-Object { Set-AgentGraphNode -Connection $me $_ decision "removal $_" }
        Clear-MockRequest $server
        (Search-AgentGraph -Connection $me removal).Nodes | Remove-AgentGraphNode -Connection $me
        (Get-GraphRequest DELETE).Count | Should -Be 2
        (Search-AgentGraph -Connection $me removal).Nodes.Count | Should -Be 0
    }

    It 'succeeds for a node that does not exist' {
        { Remove-AgentGraphNode -Connection $me 'never-was' -ErrorAction Stop } | Should -Not -Throw
    }

    It 'sends nothing under -WhatIf' {
        'x1', 'x2' | Remove-AgentGraphNode -Connection $me -WhatIf
        (Get-GraphRequest).Count | Should -Be 0
    }

    It 'reports a dropped connection on one id and removes the others' {
        $null = Add-MockFault $server -Path "/mailbox/$([uri]::EscapeDataString($me.AgentId))/graph/nodes/x2" -Method DELETE -Action drop -Count -1
        Remove-AgentGraphNode -Connection $me x1, x2, x3 -TimeoutSec 5 -ErrorVariable failures -ErrorAction SilentlyContinue
        Clear-MockFault $server
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'RemoveGraphNodeFailed,AgentMailbox.PowerShell.Commands.RemoveAgentGraphNodeCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $failures[0].TargetObject | Should -Be 'x2'
        (Search-AgentGraph -Connection $me removal).Nodes.Id | Should -Be @('x2')
    }
}

Describe 'Copying one agent''s graph into another''s' {
    BeforeAll {
        $script:a = Connect-AgentMailbox (New-TestAgentId source) -Server $server.Uri -PassThru
        $script:b = Connect-AgentMailbox (New-TestAgentId copy) -Server $server.Uri -PassThru
        $deep = @{ level = 64 }
        63..1 | ForEach-Object { $deep = @{ level = $_; next = $deep } }
        Set-AgentGraphNode -Connection $a c1 file 'copy one' -Description 'with metadata' -Metadata @{ deep = $deep; list = @(1, 'two', $null, $true, 2.5); empty = @{} }
        Set-AgentGraphNode -Connection $a c2 decision 'copy two'
        Set-AgentGraphNode -Connection $a c3 task 'copy three' -Description ''
        Set-AgentGraphEdge -Connection $a c1 c2 decided -Weight 0.25
        $script:original = Search-AgentGraph -Connection $a copy -Depth 3
        $original.Nodes | Set-AgentGraphNode -Connection $b
        $original.Edges | Set-AgentGraphEdge -Connection $b
        $script:copied = Search-AgentGraph -Connection $b copy -Depth 3
    }

    It 'copies every node with the same id, type, name, description and metadata' {
        $copied.Nodes.Count | Should -Be $original.Nodes.Count
        foreach ($node in $original.Nodes) {
            $twin = $copied.Nodes | Where-Object Id -eq $node.Id
            $twin.Type | Should -Be $node.Type
            $twin.Name | Should -Be $node.Name
            $twin.Description | Should -BeExactly $node.Description
            ($null -eq $twin.Description) | Should -Be ($null -eq $node.Description)
            ($twin.Metadata | ConvertTo-Json -Depth 100 -Compress) | Should -BeExactly ($node.Metadata | ConvertTo-Json -Depth 100 -Compress)
        }
    }

    It 'keeps an empty description apart from none' {
        ($copied.Nodes | Where-Object Id -eq 'c3').Description | Should -BeExactly ''
        $null -eq ($copied.Nodes | Where-Object Id -eq 'c2').Description | Should -BeTrue
    }

    It 'round-trips metadata nested 64 deep exactly' {
        $level = ($copied.Nodes | Where-Object Id -eq 'c1').Metadata.deep
        foreach ($n in 1..63) { $level.level | Should -Be $n; $level = $level.next }
        $level.level | Should -Be 64
        $level.PSObject.Properties.Name | Should -Be @('level')
    }

    It 'copies the edges with their weights' {
        ($copied.Edges | ForEach-Object { "$_ $($_.Weight)" }) | Should -Be ($original.Edges | ForEach-Object { "$_ $($_.Weight)" })
    }

    It 'writes the copy as the other agent, leaving UpdatedAt to the server' {
        $copied.Nodes | ForEach-Object { $_.UpdatedAt | Should -BeOfType ([DateTimeOffset]) }
        (Get-MockRequest $server "/mailbox/$([uri]::EscapeDataString($b.AgentId))/graph/nodes" | ForEach-Object { $_.body | ConvertFrom-Json -AsHashtable } |
            Where-Object { $_.ContainsKey('updatedAt') }) | Should -BeNullOrEmpty
    }
}

Describe 'Ids with reserved characters, spaces and unicode' {
    BeforeAll {
        $script:me = Connect-AgentMailbox (New-TestAgentId 'odd /%#?+@ ünï😀') -Server $server.Uri -PassThru
        $script:ids = @('a/b', '50%', 'x#y', 'what?', 'a+b', 'me@x.com', 'with space', 'ünï😀', '%2F literal')
    }

    It 'round-trips node ids and edge keys exactly, and removes them by the same ids' {
        foreach ($id in $ids) { Set-AgentGraphNode -Connection $me $id symbol "odd $id" }
        Set-AgentGraphEdge -Connection $me $ids[0] $ids[-1] 'type /%#?+@ ü'
        $result = Search-AgentGraph -Connection $me 'odd' -First 50
        ($result.Nodes.Id | Sort-Object) | Should -Be ($ids | Sort-Object)
        $result.Edges[0].SourceId | Should -BeExactly $ids[0]
        $result.Edges[0].TargetId | Should -BeExactly $ids[-1]
        $result.Edges[0].Type | Should -BeExactly 'type /%#?+@ ü'
        $result.Edges | Remove-AgentGraphEdge -Connection $me
        $ids | Remove-AgentGraphNode -Connection $me
        (Search-AgentGraph -Connection $me 'odd').Nodes.Count | Should -Be 0
    }

    It 'finds nodes by a query with reserved characters' {
        Set-AgentGraphNode -Connection $me q1 task 'find a+b & c#d?e=f'
        (Search-AgentGraph -Connection $me 'a+b & c#d?e=f').Nodes.Id | Should -Be @('q1')
    }
}

Describe 'Without a connection' {
    It 'stops with AgentMailboxNotConnected' {
        Disconnect-AgentMailbox -ErrorAction SilentlyContinue
        while (Get-AgentMailboxConnection) { Disconnect-AgentMailbox }
        { Search-AgentGraph x -ErrorAction Stop } |
            Should -Throw -ErrorId 'AgentMailboxNotConnected,AgentMailbox.PowerShell.Commands.SearchAgentGraphCommand'
    }
}
