<#
    The contract of the context graph and agent card cmdlets: one scenario played on the mock server and on the
    reference server (npm agentsmcp@0.5.2), with the same agent ids on both, and every output compared property by
    property. Only what is volatile by nature is normalized: times (a time must be present on both, or absent on
    both) and the server's own address inside card URLs.
#>
BeforeDiscovery {
    # The steps of the scenario whose outputs are compared; each is an It below.
    $steps = @(
        'set nodes (PassThru)', 'set edges (PassThru)',
        'query depth 1', 'query depth 2', 'query depth 3', 'query first 2', 'query by description',
        'query case-insensitive', 'query LIKE wildcard', 'query no match', 'query odd ids',
        'query reaching another agent', 'after removing an edge', 'after removing a node',
        'after removing a missing node and edge', 'copied graph', 'server card', 'agent card', 'card errors'
    ) | ForEach-Object { @{ Step = $_ } }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule

    function script:ConvertTo-Comparable($Value, [string] $ServerUri) {
        <# A value as canonical JSON, times replaced by whether they are set, the server address by a placeholder. #>
        $json = ConvertTo-Json -InputObject (ConvertTo-Plain $Value) -Depth 100 -Compress
        $json.Replace($ServerUri.TrimEnd('/'), '<server>')
    }

    function script:ConvertTo-Plain($Value) {
        if ($null -eq $Value) { return $null }
        if ($Value -is [DateTimeOffset] -or $Value -is [DateTime]) { return '<time>' }
        if ($Value -is [string] -or $Value -is [ValueType]) { return $Value }
        if ($Value -is [System.Management.Automation.ErrorRecord]) {
            return [ordered]@{ Id = $Value.FullyQualifiedErrorId; Category = "$($Value.CategoryInfo.Category)"; Target = "$($Value.TargetObject)" }
        }
        if ($Value -is [System.Collections.IDictionary]) {
            $out = [ordered]@{}
            foreach ($key in $Value.Keys) { $out["$key"] = ConvertTo-Plain $Value[$key] }
            return $out
        }
        if ($Value -is [System.Collections.IEnumerable]) { return , @($Value | ForEach-Object { ConvertTo-Plain $_ }) }
        $out = [ordered]@{ '#type' = $Value.GetType().FullName }
        foreach ($property in $Value.PSObject.Properties) { $out[$property.Name] = ConvertTo-Plain $property.Value }
        $out
    }

    function script:Invoke-Scenario([string] $Kind) {
        $server = Start-AgentMailboxServer -Kind $Kind
        $out = [ordered]@{}
        try {
            $a = Connect-AgentMailbox $agentA -Server $server.Uri -PassThru
            $b = Connect-AgentMailbox $agentB -Server $server.Uri -PassThru
            $null = Send-AgentMessage -Connection $b -To $agentA -Payload 'hello'

            $deep = @{ level = 64 }
            63..1 | ForEach-Object { $deep = @{ level = $_; next = $deep } }
            $out['set nodes (PassThru)'] = @(
                Set-AgentGraphNode -Connection $a auth-1 file 'auth.ts' -Description 'Login and session code' -Metadata ([ordered]@{ lines = 120; ratio = 2.5; big = 12345678901234; tags = @('a', 'b'); none = $null; yes = $true }) -PassThru
                Set-AgentGraphNode -Connection $a db-1 symbol 'Database pool' -Metadata @{ deep = $deep } -PassThru
                Set-AgentGraphNode -Connection $a dec-1 decision 'Use JWT' -Description '' -PassThru
                Set-AgentGraphNode -Connection $a task-1 task 'Write AUTH tests' -Description 'covers auth.ts' -Metadata '{"PSObject":1,"psobject":2,"ünï😀":"x"}' -PassThru
                Set-AgentGraphNode -Connection $a msg-1 message 'axb marker' -PassThru
                Set-AgentGraphNode -Connection $a 'odd /%#?+@ ünï😀' symbol 'odd one' -Description 'id with reserved characters' -PassThru
                Set-AgentGraphNode -Connection $b foreign-1 task 'foreign node of B' -PassThru
            )
            $out['set edges (PassThru)'] = @(
                Set-AgentGraphEdge -Connection $a auth-1 db-1 uses -PassThru
                Set-AgentGraphEdge -Connection $a dec-1 auth-1 decided -Weight 0.5 -PassThru
                Set-AgentGraphEdge -Connection $a task-1 dec-1 follows -Weight 3 -PassThru
                Set-AgentGraphEdge -Connection $a msg-1 task-1 mentions -PassThru
                Set-AgentGraphEdge -Connection $a 'odd /%#?+@ ünï😀' auth-1 'odd /%#?+@ type' -PassThru
                Set-AgentGraphEdge -Connection $b db-1 foreign-1 'crosses agents' -PassThru
            )
            foreach ($depth in 1..3) { $out["query depth $depth"] = Search-AgentGraph -Connection $a 'Database' -Depth $depth }
            $out['query first 2'] = Search-AgentGraph -Connection $a 'Database' -Depth 3 -First 2
            $out['query by description'] = Search-AgentGraph -Connection $a 'session' -Depth 1
            $out['query case-insensitive'] = Search-AgentGraph -Connection $a 'AUTH' -Depth 1
            $out['query LIKE wildcard'] = Search-AgentGraph -Connection $a 'a_b' -Depth 1
            $out['query no match'] = Search-AgentGraph -Connection $a 'nothing matches this'
            $out['query odd ids'] = Search-AgentGraph -Connection $a 'odd one' -Depth 1
            $out['query reaching another agent'] = Search-AgentGraph -Connection $a 'Database' -Depth 1
            $edge = (Search-AgentGraph -Connection $a 'Use JWT' -Depth 1).Edges | Where-Object Type -eq 'follows'
            $edge | Remove-AgentGraphEdge -Connection $a
            $out['after removing an edge'] = Search-AgentGraph -Connection $a 'Use JWT' -Depth 2
            Remove-AgentGraphNode -Connection $a auth-1
            $out['after removing a node'] = Search-AgentGraph -Connection $a 'Database' -Depth 3
            $missingErrors = @()
            Remove-AgentGraphNode -Connection $a 'never-was' -ErrorVariable +missingErrors -ErrorAction SilentlyContinue
            Remove-AgentGraphEdge -Connection $a never was here -ErrorVariable +missingErrors -ErrorAction SilentlyContinue
            $out['after removing a missing node and edge'] = @{ Errors = $missingErrors; Result = Search-AgentGraph -Connection $a 'Database' -Depth 3 }
            (Search-AgentGraph -Connection $a 'o' -Depth 3 -First 200).Nodes | Set-AgentGraphNode -Connection $b
            $out['copied graph'] = Search-AgentGraph -Connection $b 'o' -Depth 3 -First 200
            $out['server card'] = Get-AgentCard -Server $server.Uri
            $out['agent card'] = Get-AgentCard -Server $server.Uri $agentA, $agentB
            $cardErrors = @()
            $cards = Get-AgentCard -Server $server.Uri $agentA, 'nobody registered this', $agentB -ErrorVariable cardErrors -ErrorAction SilentlyContinue
            $out['card errors'] = @{ Cards = $cards; Errors = $cardErrors }
            [pscustomobject]@{ Server = $server.Uri; Outputs = $out }
        }
        finally {
            Disconnect-AgentMailbox -ErrorAction SilentlyContinue
            $server | Stop-AgentMailboxServer
        }
    }

    $script:agentA = New-TestAgentId 'graph a'
    $script:agentB = New-TestAgentId 'graph b'
    $script:runs = @{ Mock = Invoke-Scenario Mock; Reference = Invoke-Scenario Reference }
}

Describe 'The graph and card cmdlets give equal outputs on the mock and the reference server' {
    It '<Step>' -ForEach $steps {
        $mock = $runs.Mock.Outputs[$Step]
        $reference = $runs.Reference.Outputs[$Step]
        $mockItems = @($mock)
        $referenceItems = @($reference)
        $mockItems.Count | Should -Be $referenceItems.Count -Because 'both servers give as many objects'
        for ($i = 0; $i -lt $mockItems.Count; $i++) {
            $names = @($referenceItems[$i].PSObject.Properties.Name)
            if ($referenceItems[$i] -is [System.Collections.IDictionary]) { $names = @($referenceItems[$i].Keys) }
            foreach ($name in $names) {
                $m = ConvertTo-Comparable $mockItems[$i].$name $runs.Mock.Server
                $r = ConvertTo-Comparable $referenceItems[$i].$name $runs.Reference.Server
                $m | Should -BeExactly $r -Because "$Step, object $i, property $name"
            }
        }
    }

    It 'ran a scenario whose results hold what the comparison relies on' {
        # Guards against two empty runs comparing equal.
        $reference = $runs.Reference.Outputs
        foreach ($depth in 1..3) { $reference["query depth $depth"].Nodes.Count | Should -BeGreaterThan 0 }
        $reference['query depth 3'].Nodes.Count | Should -BeGreaterThan $reference['query depth 1'].Nodes.Count
        $reference['query reaching another agent'].Edges.TargetId | Should -Contain 'foreign-1'
        $reference['query reaching another agent'].Nodes.Id | Should -Not -Contain 'foreign-1'
        $reference['query LIKE wildcard'].Nodes.Id | Should -Contain 'msg-1'
        $reference['after removing a node'].Nodes.Id | Should -Not -Contain 'auth-1'
        $reference['card errors'].Errors.Count | Should -Be 1
        $reference['agent card'].AgentId | Should -Be @($agentA, $agentB)
        $level = ($reference['copied graph'].Nodes | Where-Object Id -eq 'db-1').Metadata.deep
        foreach ($n in 1..63) { $level = $level.next }
        $level.level | Should -Be 64
    }
}
