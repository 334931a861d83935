BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
    $script:keyed = Start-AgentMailboxServer -Kind Mock -ApiKey 'k3y-Sup3r-S3cret-for-tests'
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server, $keyed | Stop-AgentMailboxServer
}

Describe 'Connect-AgentMailbox' {
    BeforeEach { Clear-MockRequest $server; Disconnect-AgentMailbox -ErrorAction SilentlyContinue }

    It 'registers the agent and makes the connection the default, outputting nothing without -PassThru' {
        $id = New-TestAgentId
        $output = Connect-AgentMailbox $id -Server $server.Uri
        $output | Should -BeNullOrEmpty
        $current = Get-AgentMailboxConnection
        $current | Should -BeOfType ([AgentMailbox.Connection])
        $current.AgentId | Should -Be $id
        $current.Server | Should -Be ([uri]"$($server.Uri)/")
        $current.Created | Should -BeTrue
        $current.ConnectedAt | Should -BeOfType ([DateTimeOffset])
        $register = @(Get-MockRequest $server '/agents/register')
        $register.Count | Should -Be 1
        $register[0].body | ConvertFrom-Json | ForEach-Object agentId | Should -Be $id
    }

    It 'outputs the connection with -PassThru; the last connection becomes the default' {
        $a = Connect-AgentMailbox (New-TestAgentId a) -Server $server.Uri -PassThru
        $b = Connect-AgentMailbox (New-TestAgentId b) -Server $server.Uri -PassThru
        (Get-AgentMailboxConnection).AgentId | Should -Be $b.AgentId
        $a.AgentId | Should -Not -Be $b.AgentId
    }

    It 'takes its defaults from AGENTSMCP_SERVER and AGENTSMCP_AGENT_ID' {
        $id = New-TestAgentId env
        $env:AGENTSMCP_SERVER = $server.Uri; $env:AGENTSMCP_AGENT_ID = $id
        try {
            Connect-AgentMailbox
            (Get-AgentMailboxConnection).AgentId | Should -Be $id
            (Get-AgentMailboxConnection).Server.Port | Should -Be ([uri]$server.Uri).Port
        }
        finally { Remove-Item env:AGENTSMCP_SERVER, env:AGENTSMCP_AGENT_ID }
    }

    It 'rejects <Name> before any request' -ForEach @(
        @{ Name = 'an empty agent id'; Arguments = @{ AgentId = '' }; Parameter = 'AgentId' }
        @{ Name = 'a white-space agent id'; Arguments = @{ AgentId = '   ' }; Parameter = 'AgentId' }
        @{ Name = 'a relative server'; Arguments = @{ AgentId = 'x'; Server = 'localhost/x' }; Parameter = 'Server' }
        @{ Name = 'an ftp server'; Arguments = @{ AgentId = 'x'; Server = 'ftp://127.0.0.1/' }; Parameter = 'Server' }
        @{ Name = 'a negative timeout'; Arguments = @{ AgentId = 'x'; TimeoutSec = -1 }; Parameter = 'TimeoutSec' }
    ) {
        $caught = $null
        try { Connect-AgentMailbox @Arguments -ErrorAction Stop } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -Match '^ParameterArgumentValidationError'
        $caught.Exception.Message | Should -Match $Parameter
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'fails with a clear error when no agent id is given anywhere' {
        $saved = $env:AGENTSMCP_AGENT_ID; Remove-Item env:AGENTSMCP_AGENT_ID -ErrorAction SilentlyContinue
        try {
            { Connect-AgentMailbox -Server $server.Uri -ErrorAction Stop } |
                Should -Throw -ErrorId 'MissingAgentId,AgentMailbox.PowerShell.Commands.ConnectAgentMailboxCommand'
        }
        finally { if ($saved) { $env:AGENTSMCP_AGENT_ID = $saved } }
    }

    It 'reports an unreachable server as a ConnectionError naming the server' {
        $port = Get-FreeTcpPort
        $caught = $null
        try { Connect-AgentMailbox x -Server "http://127.0.0.1:$port" -MaximumRetryCount 0 -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'ConnectFailed,AgentMailbox.PowerShell.Commands.ConnectAgentMailboxCommand'
        $caught.CategoryInfo.Category | Should -Be 'ConnectionError'
        $caught.Exception | Should -BeOfType ([AgentMailbox.AgentMailboxConnectionException])
        $caught.Exception.Message | Should -Match "127\.0\.0\.1:$port"
        Get-AgentMailboxConnection | Should -BeNullOrEmpty
    }

    It 'refuses to send an API key over plain http to a non-loopback host, before any network activity' {
        $key = ConvertTo-SecureString 'abc' -AsPlainText -Force
        { Connect-AgentMailbox x -Server 'http://agentmailbox.invalid:3000' -ApiKey $key -ErrorAction Stop } |
            Should -Throw -ErrorId 'UnencryptedAuthentication,AgentMailbox.PowerShell.Commands.ConnectAgentMailboxCommand'
    }

    It 'sends the API key as a bearer token and never shows it' {
        $secret = 'k3y-Sup3r-S3cret-for-tests'
        $key = ConvertTo-SecureString $secret -AsPlainText -Force
        $connection = Connect-AgentMailbox (New-TestAgentId) -Server $keyed.Uri -ApiKey $key -PassThru -Verbose 4>&1 |
            ForEach-Object { "$_" | Should -Not -Match $secret; $_ } | Where-Object { $_ -is [AgentMailbox.Connection] }
        $connection.ToString() | Should -Not -Match $secret
        ($connection | Format-List * | Out-String) | Should -Not -Match $secret
        ($connection | ConvertTo-Json -Depth 3 -WarningAction SilentlyContinue) | Should -Not -Match $secret
        (Get-MockRequest $keyed '/agents/register')[-1].headers.Authorization | Should -Be "Bearer $secret"
    }

    It 'maps a wrong API key to AuthenticationError without echoing the key' {
        $key = ConvertTo-SecureString 'wrong-key-value-123' -AsPlainText -Force
        $caught = $null
        try { Connect-AgentMailbox x -Server $keyed.Uri -ApiKey $key -ErrorAction Stop } catch { $caught = $_ }
        $caught.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $caught.Exception | Should -BeOfType ([AgentMailbox.AgentMailboxAuthenticationException])
        "$caught $($caught.Exception) $($caught.ErrorDetails)" | Should -Not -Match 'wrong-key-value-123'
    }

    It 'reads the API key from AGENTSMCP_API_KEY' {
        $env:AGENTSMCP_API_KEY = 'k3y-Sup3r-S3cret-for-tests'
        try {
            $connection = Connect-AgentMailbox (New-TestAgentId) -Server $keyed.Uri -PassThru
            $connection.AgentId | Should -Not -BeNullOrEmpty
        }
        finally { Remove-Item env:AGENTSMCP_API_KEY }
    }
}

Describe 'Disconnect-AgentMailbox and Get-AgentMailboxConnection' {
    It 'forgets the default connection' {
        Connect-AgentMailbox (New-TestAgentId) -Server $server.Uri
        Get-AgentMailboxConnection | Should -Not -BeNullOrEmpty
        Disconnect-AgentMailbox
        Get-AgentMailboxConnection | Should -BeNullOrEmpty
    }

    It 'closes a given connection, after which it cannot be used' {
        $connection = Connect-AgentMailbox (New-TestAgentId) -Server $server.Uri -PassThru
        $connection | Disconnect-AgentMailbox
        { Get-AgentInbox -Connection $connection -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectionClosed,AgentMailbox.PowerShell.Commands.GetAgentInboxCommand'
    }

    It 'does nothing under -WhatIf' {
        Connect-AgentMailbox (New-TestAgentId) -Server $server.Uri
        Disconnect-AgentMailbox -WhatIf
        Get-AgentMailboxConnection | Should -Not -BeNullOrEmpty
        Disconnect-AgentMailbox
    }

    It 'makes every cmdlet fail at once with AgentMailboxNotConnected when there is no connection' -ForEach @(
        @{ Command = { Get-AgentInbox -ErrorAction Stop }; Class = 'GetAgentInboxCommand' }
        @{ Command = { Send-AgentMessage -To x -Payload 1 -ErrorAction Stop }; Class = 'SendAgentMessageCommand' }
        @{ Command = { Invoke-AgentReplyAll -ThreadId t -Payload 1 -ErrorAction Stop }; Class = 'InvokeAgentReplyAllCommand' }
    ) {
        Disconnect-AgentMailbox -ErrorAction SilentlyContinue
        $caught = $null
        try { & $Command } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be "AgentMailboxNotConnected,AgentMailbox.PowerShell.Commands.$Class"
        $caught.CategoryInfo.Category | Should -Be 'ConnectionError'
        $caught.Exception.Message | Should -Match 'Connect-AgentMailbox'
    }
}

Describe 'Test-AgentMailbox' {
    It 'reports a reachable server with its latency' {
        $result = Test-AgentMailbox -Server $server.Uri
        $result | Should -BeOfType ([AgentMailbox.HealthCheckResult])
        $result.Reachable | Should -BeTrue
        $result.LatencyMs | Should -BeGreaterThan 0
        Test-AgentMailbox -Server $server.Uri -Quiet | Should -BeTrue
    }

    It 'answers $false for an unreachable server, without an error' {
        $port = Get-FreeTcpPort
        $result = Test-AgentMailbox -Server "http://127.0.0.1:$port" -ErrorVariable failures
        $failures.Count | Should -Be 0
        $result.Reachable | Should -BeFalse
        $result.LatencyMs | Should -BeNullOrEmpty
        $result.Error | Should -Match "127\.0\.0\.1:$port"
        Test-AgentMailbox -Server "http://127.0.0.1:$port" -Quiet | Should -BeFalse
    }

    It 'probes the server of a connection' {
        $connection = Connect-AgentMailbox (New-TestAgentId) -Server $server.Uri -PassThru
        (Test-AgentMailbox -Connection $connection).Server.Port | Should -Be ([uri]$server.Uri).Port
    }
}
