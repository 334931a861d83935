<#
    Get-AgentCard against the mock server: the public card routes, with and without a connection, per-input
    errors for unknown agents, binding, completion and views.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock

    function script:Clear-DefaultConnection { while (Get-AgentMailboxConnection) { Disconnect-AgentMailbox } }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Get-AgentCard' {
    BeforeAll {
        Clear-DefaultConnection
        $script:aliceId = New-TestAgentId alice
        $script:bobId = New-TestAgentId bob
        $script:alice = Connect-AgentMailbox $aliceId -Server $server.Uri -PassThru
        $script:bob = Connect-AgentMailbox $bobId -Server $server.Uri -PassThru
        $null = Send-AgentMessage -Connection $alice -To $bobId -Payload 'hello'
        # Leave no default connection, without closing $alice and $bob.
        Connect-AgentMailbox (New-TestAgentId bystander) -Server $server.Uri
        Clear-DefaultConnection
    }
    BeforeEach { Clear-MockRequest $server }
    AfterEach { Clear-DefaultConnection }

    It 'reads the server''s own card with -Server alone, without connecting' {
        $card = Get-AgentCard -Server $server.Uri
        $card | Should -BeOfType ([AgentMailbox.AgentCard])
        $card.Name | Should -Be 'AgentMailbox'
        $card.AgentId | Should -BeNullOrEmpty
        $card.Skills.Count | Should -Be 4
        $card.Capabilities.multiAgent | Should -BeTrue
        $card.Authentication | Should -Be 'none'
        $requests = @(Get-MockRequest $server)
        $requests.path | Should -Be @('/.well-known/agent-card.json')
        $requests[0].headers.Keys | Should -Not -Contain 'Authorization'
    }

    It 'reads an agent''s card with its counts and endpoints' {
        $card = Get-AgentCard -Server $server.Uri -AgentId $bobId
        $card.AgentId | Should -Be $bobId
        $card.Name | Should -Be $bobId
        $card.ThreadCount | Should -Be 1
        $card.UnreadCount | Should -Be 1
        $card.CreatedAt | Should -BeOfType ([DateTimeOffset])
        $card.Url | Should -Be "$($server.Uri.TrimEnd('/'))/mailbox/$([uri]::EscapeDataString($bobId))"
        $card.Endpoints.unread | Should -Be "$($card.Url)/unread"
        $card.Skills | Should -BeNullOrEmpty
    }

    It 'uses the default connection''s server when -Server is not given' {
        Connect-AgentMailbox $aliceId -Server $server.Uri
        Clear-MockRequest $server
        (Get-AgentCard).Name | Should -Be 'AgentMailbox'
        (Get-AgentCard $bobId).AgentId | Should -Be $bobId
        @(Get-MockRequest $server).Count | Should -Be 2
    }

    It 'uses the server of -Connection' {
        (Get-AgentCard -Connection $alice $aliceId).AgentId | Should -Be $aliceId
    }

    It 'stops with a clear error when there is neither -Server nor a connection' {
        { Get-AgentCard -ErrorAction Stop } |
            Should -Throw -ErrorId 'MissingServer,AgentMailbox.PowerShell.Commands.GetAgentCardCommand' -ExpectedMessage '*-Server*'
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'writes a non-terminating ObjectNotFound for an unknown agent and goes on, in input order' {
        $missing = New-TestAgentId missing
        $cards = Get-AgentCard -Server $server.Uri $aliceId, $missing, $bobId -ErrorVariable failures -ErrorAction SilentlyContinue
        $cards.AgentId | Should -Be @($aliceId, $bobId)
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'AgentNotFound,AgentMailbox.PowerShell.Commands.GetAgentCardCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be $missing
        "$($failures[0])" | Should -BeLike "*$missing*"
    }

    It 'reports an unreachable server per input' {
        $port = Get-FreeTcpPort
        Get-AgentCard -Server "http://127.0.0.1:$port" a -TimeoutSec 5 -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'GetAgentCardFailed,AgentMailbox.PowerShell.Commands.GetAgentCardCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }

    It 'refuses an empty agent id and a relative server before any request' {
        { Get-AgentCard -Server $server.Uri -AgentId ' ' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.GetAgentCardCommand'
        { Get-AgentCard -Server 'relative/path' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.GetAgentCardCommand'
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'takes agent ids piped as strings and from the AgentId property of piped objects' {
        ($aliceId, $bobId | Get-AgentCard -Server $server.Uri).AgentId | Should -Be @($aliceId, $bobId)
        (Get-AgentThreadParticipant -Connection $bob (Get-AgentThread -Connection $bob).Id | Get-AgentCard -Server $server.Uri).AgentId |
            Sort-Object | Should -Be (@($aliceId, $bobId) | Sort-Object)
    }

    It 'reads the card of a piped connection from that connection''s server' {
        ($alice, $bob | Get-AgentCard).AgentId | Should -Be @($aliceId, $bobId)
    }

    It 'round-trips agent ids with reserved characters, spaces and unicode' {
        $odd = New-TestAgentId 'odd /%#?+@ ünï😀'
        $null = Connect-AgentMailbox $odd -Server $server.Uri -PassThru
        Clear-MockRequest $server
        (Get-AgentCard -Server $server.Uri $odd).AgentId | Should -BeExactly $odd
        (Get-MockRequest $server)[0].path | Should -Be "/.well-known/agent-card/$([uri]::EscapeDataString($odd))"
    }

    It 'completes -AgentId with the agents of the connection''s threads' {
        Connect-AgentMailbox $aliceId -Server $server.Uri
        $line = 'Get-AgentCard -AgentId bob'
        $found = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
        $found.ListItemText | Should -Be @($bobId)
        $found.CompletionText | Should -Be @("'$bobId'")
    }

    It 'shows cards in a table by default and in a list with their capabilities and skills' {
        $cards = @(Get-AgentCard -Server $server.Uri), @(Get-AgentCard -Server $server.Uri $bobId)
        $table = $cards | Out-String -Width 200
        $table | Should -Match 'Name\s+Version\s+Auth\s+Threads\s+Unread\s+Url'
        $table | Should -Match ([regex]::Escape($bobId))
        $list = $cards[0] | Format-List | Out-String -Width 200
        $list | Should -Match 'Skills\s*:\s*send-message, receive-messages, sync-thread, reply-all'
        $list | Should -Match 'Capabilities\s*:\s*messaging, threading'
    }
}
