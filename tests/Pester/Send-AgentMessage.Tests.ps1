BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
    function Get-SentBody { @(Get-MockRequest $server '/messages/send') | ForEach-Object { $_.body | ConvertFrom-Json -AsHashtable } }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Send-AgentMessage' {
    BeforeEach {
        Clear-MockFault $server
        $script:me = New-TestAgentId me
        $script:connection = Connect-AgentMailbox $me -Server $server.Uri -PassThru
        Clear-MockRequest $server
    }

    It 'sends from the connection''s agent with cc, bcc, snapshot and reply-to' {
        $result = Send-AgentMessage -To bob -Cc carol, dave -Bcc erin -Payload @{ n = 1 } -ContextSnapshot @{ step = 's' } -ReplyTo 'me-inbox'
        $result | Should -BeOfType ([AgentMailbox.SendResult])
        $body = Get-SentBody
        $body.from | Should -Be $me
        $body.to | Should -Be 'bob'
        $body.cc | Should -Be @('carol', 'dave')
        $body.bcc | Should -Be @('erin')
        $body.payload.n | Should -Be 1
        $body.contextSnapshot.step | Should -Be 's'
        $body.replyTo | Should -Be 'me-inbox'
        $result.DeliveredTo | Should -Be @('bob', 'carol', 'dave', 'erin')
    }

    It 'sends nothing and outputs nothing under -WhatIf' {
        $result = Send-AgentMessage -To bob -Payload 'x' -WhatIf
        $result | Should -BeNullOrEmpty
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'does not run a script-block payload under -WhatIf' {
        $script:ran = 0
        1, 2 | Send-AgentMessage -To bob -Payload { $script:ran++; $_ } -WhatIf
        Invoke-AgentReplyAll -ThreadId 't' -Payload { $script:ran++ } -WhatIf
        $script:ran | Should -Be 0
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'sends one message per piped payload when -To is given' {
        $results = 'one', 'two', 'three' | Send-AgentMessage -To bob
        $results.Count | Should -Be 3
        (Get-SentBody).payload | Should -Be @('one', 'two', 'three')
    }

    It 'runs a script-block payload once per input with $_ bound to it' {
        $results = 1, 2 | Send-AgentMessage -To bob -Payload { @{ square = $_ * $_ } }
        $results.Count | Should -Be 2
        (Get-SentBody).payload.square | Should -Be @(1, 4)
    }

    It 'takes whole messages from piped CSV rows when -To is not given' {
        $csv = Join-Path $TestDrive 'tasks.csv'
        @(
            [pscustomobject]@{ To = 'worker-a'; Cc = 'lead;audit'; Payload = 'build'; ContextSnapshot = '{"step":"queued"}' }
            [pscustomobject]@{ To = 'worker-b'; Cc = ''; Payload = 'test'; ContextSnapshot = '' }
        ) | Export-Csv -Path $csv -NoTypeInformation
        $results = Import-Csv $csv | Send-AgentMessage
        $results.Count | Should -Be 2
        $bodies = Get-SentBody
        $bodies[0].to | Should -Be 'worker-a'
        $bodies[0].cc | Should -Be @('lead', 'audit')
        $bodies[0].payload | Should -Be 'build'
        $bodies[0].contextSnapshot.step | Should -Be 'queued'
        $bodies[1].to | Should -Be 'worker-b'
        $bodies[1].ContainsKey('cc') | Should -BeFalse
        $bodies[1].payload | Should -Be 'test'
    }

    It 'takes whole messages from piped hashtables and objects, command-line values filling gaps' {
        @(@{ To = 'x1'; Payload = @{ k = 1 } }, [pscustomobject]@{ To = 'x2'; Payload = 2; Bcc = @('hidden') }) |
            Send-AgentMessage -Cc watcher | Out-Null
        $bodies = Get-SentBody
        $bodies[0].to | Should -Be 'x1'
        $bodies[0].payload.k | Should -Be 1
        $bodies[0].cc | Should -Be @('watcher')
        $bodies[1].bcc | Should -Be @('hidden')
    }

    It 'reports a piped object without a recipient and goes on with the next' {
        $results = @([pscustomobject]@{ Payload = 'lost' }, [pscustomobject]@{ To = 'ok'; Payload = 'fine' }) |
            Send-AgentMessage -ErrorVariable failures -ErrorAction SilentlyContinue
        @($results).Count | Should -Be 1
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'MissingRecipient,AgentMailbox.PowerShell.Commands.SendAgentMessageCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'rejects a context snapshot that is not an object, naming the parameter' -ForEach @(
        @{ Snapshot = 'text' }, @{ Snapshot = 5 }, @{ Snapshot = @(1, 2) }
    ) {
        Send-AgentMessage -To bob -Payload 1 -ContextSnapshot $Snapshot -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidContextSnapshot,AgentMailbox.PowerShell.Commands.SendAgentMessageCommand'
        $failures[0].Exception.Message | Should -Match 'ContextSnapshot'
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'rejects an unknown -Handoff key before sending' {
        Send-AgentMessage -To bob -Payload 1 -Handoff @{ gaol = 'typo' } -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidHandoff,AgentMailbox.PowerShell.Commands.SendAgentMessageCommand'
        $failures[0].Exception.Message | Should -Match 'gaol'
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'sends -Handoff options under their wire names' {
        Send-AgentMessage -To bob -Payload 1 -Handoff @{ Goal = 'g'; nextAction = 'n'; includeFields = 'a', 'b'; maxContextBytes = 512 } | Out-Null
        $handoff = (Get-SentBody).handoff
        $handoff.goal | Should -Be 'g'
        $handoff.nextAction | Should -Be 'n'
        $handoff.includeFields | Should -Be @('a', 'b')
        $handoff.maxContextBytes | Should -Be 512
    }

    It 'reports a cyclic payload clearly instead of overflowing the stack' {
        $cyclic = @{ name = 'loop' }
        $cyclic.self = $cyclic
        Send-AgentMessage -To bob -Payload $cyclic -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidPayload,AgentMailbox.PowerShell.Commands.SendAgentMessageCommand'
        $failures[0].Exception.Message | Should -Match 'cycle'
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'never repeats a send that failed with 500, and says the message may be stored' {
        Add-MockFault $server -Path '/messages/send' -Status 500 -Body '{"error":"boom","requestId":null}' -ContentType 'application/json' | Out-Null
        Send-AgentMessage -To bob -Payload 1 -ErrorVariable failures -ErrorAction SilentlyContinue
        @(Get-MockRequest $server '/messages/send').Count | Should -Be 1
        $failures[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $failures[0].Exception.Message | Should -Match 'boom'
        $failures[0].Exception.Message | Should -Match 'may have stored'
    }

    It 'writes one verbose line per request with method, path, status and request id' {
        $verbose = Send-AgentMessage -To bob -Payload 1 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $request = Get-MockRequest $server '/messages/send'
        "$verbose" | Should -Match 'POST /messages/send -> 200'
        "$verbose" | Should -Match $request[0].requestId
    }
}
