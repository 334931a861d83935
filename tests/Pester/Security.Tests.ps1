<#
    Secrets and transport security: the API key never appears in any output, stream, error, exception text,
    ToString() or format view of any cmdlet, in success and in failure; plain http to a non-loopback host is refused
    before any network activity unless allowed; certificate checks stay on unless -SkipCertificateCheck, which warns;
    401/403 map to AgentMailboxAuthenticationException with AuthenticationError / PermissionDenied.
#>

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    # A key that no other text would contain by accident, plus the parts a careless formatter could leak.
    $script:Secret = "sk_live_$([Guid]::NewGuid().ToString('N'))Zq9"
    $script:Key = ConvertTo-SecureString $script:Secret -AsPlainText -Force
    $script:Server = Start-AgentMailboxServer -Kind Mock -ApiKey $script:Secret

    # Every text a record of any stream, or an output object, can show.
    function script:Get-AllText([object[]] $Items) {
        foreach ($item in $Items) {
            if ($null -eq $item) { continue }
            $item.ToString()
            ($item | Format-List * -Force | Out-String -Width 4096)
            ($item | Format-Table | Out-String -Width 4096)
            ($item | Out-String -Width 4096)
            if ($item -is [System.Management.Automation.ErrorRecord]) {
                $item.Exception.ToString()
                for ($e = $item.Exception; $e; $e = $e.InnerException) {
                    $e.Message
                    ($e | Format-List * -Force | Out-String -Width 4096)
                    if ($e.Data.Count) { ($e.Data | Out-String) }
                }
                "$($item.ErrorDetails) $($item.ErrorDetails.RecommendedAction) $($item.TargetObject) $($item.CategoryInfo)"
                ($item.TargetObject | Format-List * -Force | Out-String -Width 4096)
            }
            elseif ($item -is [System.Management.Automation.InformationalRecord] -or $item -is [System.Management.Automation.InformationRecord]) {
                ($item | Format-List * -Force | Out-String -Width 4096)
            }
            else {
                try { $item | ConvertTo-Json -Depth 4 -WarningAction SilentlyContinue } catch { }
            }
        }
    }

    # Runs a command with every stream on and merged into one list; terminating errors are caught into it too.
    function script:Invoke-Captured([scriptblock] $Command) {
        $VerbosePreference = 'Continue'
        $DebugPreference = 'Continue'
        $InformationPreference = 'Continue'
        $WarningPreference = 'Continue'
        $ErrorActionPreference = 'Continue'
        $ProgressPreference = 'SilentlyContinue'
        $captured = [System.Collections.Generic.List[object]]::new()
        try {
            foreach ($item in (& $Command *>&1)) { $captured.Add($item) }
        }
        catch { $captured.Add($_) }
        , $captured.ToArray()
    }

    # A minimal https server with a fresh self-signed certificate that answers every request with 201 and a
    # register result; it runs on a thread of this process until stopped.
    function script:Start-SelfSignedJsonServer {
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            'CN=127.0.0.1', $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $now = [DateTimeOffset]::UtcNow
        $cert = $request.CreateSelfSigned($now.AddDays(-1), $now.AddDays(1))
        $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($cert.Export('Pfx'))
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($listener, $cert)
                while ($true) {
                    try { $client = $listener.AcceptTcpClient() } catch { return }
                    try {
                        $ssl = [System.Net.Security.SslStream]::new($client.GetStream(), $false)
                        $ssl.AuthenticateAsServer($cert)
                        $buffer = [byte[]]::new(8192)
                        $null = $ssl.Read($buffer, 0, $buffer.Length)
                        $body = '{"agentId":"x","created":true}'
                        $answer = "HTTP/1.1 201 Created`r`nContent-Type: application/json`r`nContent-Length: $($body.Length)`r`nConnection: close`r`n`r`n$body"
                        $bytes = [Text.Encoding]::ASCII.GetBytes($answer)
                        $ssl.Write($bytes, 0, $bytes.Length)
                        $ssl.Flush()
                    }
                    catch { }
                    finally { $client.Dispose() }
                }
            }).AddArgument($listener).AddArgument($cert)
        $null = $ps.BeginInvoke()
        [pscustomobject]@{ Uri = "https://127.0.0.1:$($listener.LocalEndpoint.Port)"; Listener = $listener; PowerShell = $ps }
    }

    function script:Stop-SelfSignedJsonServer($Server) {
        $Server.Listener.Stop()
        $Server.PowerShell.Stop()
        $Server.PowerShell.Dispose()
    }

}

AfterAll { if ($script:Server) { Stop-AgentMailboxServer $script:Server } }

Describe 'The API key never leaks' -Tag 'Security' {
    BeforeAll {
        $script:Me = Connect-AgentMailbox (New-TestAgentId 'sec') -Server $script:Server.Uri -ApiKey $script:Key -PassThru
        $script:PeerId = New-TestAgentId 'peer'
        $script:Peer = Connect-AgentMailbox $script:PeerId -Server $script:Server.Uri -ApiKey $script:Key -PassThru
        $script:ThreadId = (Send-AgentMessage -Connection $script:Peer -To $script:Me.AgentId -Payload @{ hello = 1 }).ThreadId
        $script:Wrong = ConvertTo-SecureString "wrong-$script:Secret" -AsPlainText -Force
        $script:Scanned = 0
    }
    AfterAll { Write-Host "Secret scan: $script:Scanned records and objects searched." }
    AfterEach { Clear-MockFault $script:Server }

    It '<Name> shows no key in any stream, output, error or view' -ForEach @(
        @{ Name = 'Connect-AgentMailbox'; Command = { Connect-AgentMailbox (New-TestAgentId 'sec') -Server $script:Server.Uri -ApiKey $script:Key -PassThru } }
        @{ Name = 'Connect-AgentMailbox with a wrong key (401)'; Command = { Connect-AgentMailbox 'x' -Server $script:Server.Uri -ApiKey $script:Wrong -PassThru } }
        @{ Name = 'Connect-AgentMailbox -SkipCertificateCheck'; Command = { Connect-AgentMailbox (New-TestAgentId 'sec') -Server $script:Server.Uri -ApiKey $script:Key -SkipCertificateCheck -PassThru } }
        @{ Name = 'Connect-AgentMailbox over http to a remote host'; Command = { Connect-AgentMailbox 'x' -Server 'http://agentmailbox.invalid' -ApiKey $script:Key } }
        @{ Name = 'Get-AgentMailboxConnection'; Command = { Get-AgentMailboxConnection; $script:Me; "$script:Me" } }
        @{ Name = 'Test-AgentMailbox'; Command = { Test-AgentMailbox -Connection $script:Me; Test-AgentMailbox -Server $script:Server.Uri } }
        @{ Name = 'Send-AgentMessage'; Command = { Send-AgentMessage -Connection $script:Me -To $script:PeerId -Payload @{ a = 1 } -ContextSnapshot @{ s = 1 } } }
        @{ Name = 'Send-AgentMessage failing (500)'; Fault = @{ Path = '/messages/send'; Status = 500 }; Command = { Send-AgentMessage -Connection $script:Me -To $script:PeerId -Payload 1 } }
        @{ Name = 'Send-AgentMessage timing out'; Fault = @{ Path = '/messages/send'; Action = 'stall' }; Command = { Send-AgentMessage -Connection $script:Me -To $script:PeerId -Payload 1 -TimeoutSec 1 } }
        @{ Name = 'Send-AgentMessage -WhatIf'; Command = { Send-AgentMessage -Connection $script:Me -To $script:PeerId -Payload 1 -WhatIf } }
        @{ Name = 'Get-AgentInbox'; Command = { Get-AgentInbox -Connection $script:Me } }
        @{ Name = 'Get-AgentInbox reset mid-body'; Fault = @{ Path = '/mailbox/*'; Action = 'reset-mid-body' }; Command = { Get-AgentInbox -Connection $script:Me } }
        @{ Name = 'Get-AgentInbox rate-limited'; Fault = @{ Path = '/mailbox/*'; Status = 429; Headers = @{ 'Retry-After' = '7200' } }; Command = { Get-AgentInbox -Connection $script:Me } }
        @{ Name = 'Get-AgentInbox forbidden (403)'; Fault = @{ Path = '/mailbox/*'; Status = 403; Body = '{"error":"plan_limit"}' }; Command = { Get-AgentInbox -Connection $script:Me } }
        @{ Name = 'Invoke-AgentReplyAll'; Command = { Invoke-AgentReplyAll -Connection $script:Me -ThreadId $script:ThreadId -Payload 1 } }
        @{ Name = 'Get-AgentThread'; Command = { Get-AgentThread -Connection $script:Me; Get-AgentThread -Connection $script:Me -ThreadId $script:ThreadId } }
        @{ Name = 'Get-AgentThread of a missing thread'; Command = { Get-AgentThread -Connection $script:Me -ThreadId 'missing' } }
        @{ Name = 'Get-AgentThreadContext'; Command = { Get-AgentThreadContext -Connection $script:Me -ThreadId $script:ThreadId } }
        @{ Name = 'Get-AgentThreadParticipant'; Command = { Get-AgentThreadParticipant -Connection $script:Me -ThreadId $script:ThreadId } }
        @{ Name = 'Receive-AgentMessage'; Command = { Receive-AgentMessage -Connection $script:Me -Keep } }
        @{ Name = 'Wait-AgentMessage'; Command = { Wait-AgentMessage -Connection $script:Me -TimeoutSec 1 -From 'nobody' } }
        @{ Name = 'Set-AgentThreadRead'; Command = { Set-AgentThreadRead -Connection $script:Me -ThreadId $script:ThreadId -PassThru } }
        @{ Name = 'Disconnect-AgentMailbox'; Command = {
                $c = Connect-AgentMailbox (New-TestAgentId 'sec') -Server $script:Server.Uri -ApiKey $script:Key -PassThru
                Disconnect-AgentMailbox -Connection $c; $c; Get-AgentInbox -Connection $c } }
    ) {
        if ($Fault) { $null = Add-MockFault -Server $script:Server @Fault }
        $captured = Invoke-Captured $Command
        if ($Name -notlike '*-WhatIf') { $captured.Count | Should -BeGreaterThan 0 -Because 'the command wrote something to scan' }
        $text = (Get-AllText $captured) -join "`n"
        $script:Scanned += $captured.Count
        $text | Should -Not -Match ([regex]::Escape($script:Secret))
        $text | Should -Not -Match ([regex]::Escape($script:Secret.Substring(8, 24))) -Because 'no part of the key shows either'
        # The session's error list, where a caller would look afterwards.
        ((Get-AllText @($global:Error | Select-Object -First 20)) -join "`n") | Should -Not -Match ([regex]::Escape($script:Secret))
    }

    It 'the connection object shows no key in any property, member or view' {
        $script:Me | Export-Clixml -Path (Join-Path $TestDrive 'c.xml') -Depth 5
        $text = @(
            ($script:Me | Get-Member -Force | Out-String -Width 4096)
            ($script:Me.PSObject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" })
            ($script:Me | ConvertTo-Json -Depth 5 -WarningAction SilentlyContinue)
            (Get-Content (Join-Path $TestDrive 'c.xml') -Raw)
        ) -join "`n"
        $text | Should -Not -Match ([regex]::Escape($script:Secret))
        $script:Me.PSObject.Properties.Name | Should -Not -Contain 'ApiKey'
    }

    It 'the key is read from $env:AGENTSMCP_API_KEY (then $env:AGENTMAILBOX_API_KEY) when -ApiKey is not given' -ForEach @(
        @{ Variable = 'AGENTSMCP_API_KEY' }, @{ Variable = 'AGENTMAILBOX_API_KEY' }
    ) {
        $saved = @{ AGENTSMCP_API_KEY = $env:AGENTSMCP_API_KEY; AGENTMAILBOX_API_KEY = $env:AGENTMAILBOX_API_KEY }
        try {
            $env:AGENTSMCP_API_KEY = $null; $env:AGENTMAILBOX_API_KEY = $null
            Set-Item "env:$Variable" $script:Secret
            $captured = Invoke-Captured { Connect-AgentMailbox (New-TestAgentId 'env') -Server $script:Server.Uri -PassThru }
            @($captured | Where-Object { $_ -is [AgentMailbox.Connection] }).Count | Should -Be 1 -Because 'the key from the environment authenticated'
            ((Get-AllText $captured) -join "`n") | Should -Not -Match ([regex]::Escape($script:Secret))
        }
        finally {
            $env:AGENTSMCP_API_KEY = $saved.AGENTSMCP_API_KEY; $env:AGENTMAILBOX_API_KEY = $saved.AGENTMAILBOX_API_KEY
        }
    }

    It '-ApiKey takes only a SecureString' {
        (Get-Command Connect-AgentMailbox).Parameters['ApiKey'].ParameterType | Should -Be ([securestring])
        { Connect-AgentMailbox 'x' -Server $script:Server.Uri -ApiKey 'plain-text' -ErrorAction Stop } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,*'
    }
}

Describe 'Authentication errors' -Tag 'Security' {
    It 'a wrong key is AuthenticationError with AgentMailboxAuthenticationException, and the message has no key' {
        $wrong = "wrong-$script:Secret"
        $err = $null
        try { Connect-AgentMailbox 'x' -Server $script:Server.Uri -ApiKey (ConvertTo-SecureString $wrong -AsPlainText -Force) -ErrorAction Stop } catch { $err = $_ }
        $err.Exception | Should -BeOfType ([AgentMailbox.AgentMailboxAuthenticationException])
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.StatusCode | Should -Be 401
        $err.Exception.Message | Should -Match 'unauthorized'
        $err.Exception.Message | Should -Not -Match ([regex]::Escape($wrong))
        $err.ErrorDetails.RecommendedAction | Should -Match 'API key'
    }

    It 'no key against a keyed server is AuthenticationError' {
        $err = $null
        try { Connect-AgentMailbox 'x' -Server $script:Server.Uri -ErrorAction Stop } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
    }

    It '403 is PermissionDenied with AgentMailboxAuthenticationException' {
        $me = Connect-AgentMailbox (New-TestAgentId 'sec') -Server $script:Server.Uri -ApiKey $script:Key -PassThru
        $null = Add-MockFault -Server $script:Server -Path '/messages/send' -Status 403 -Body '{"error":"plan_limit","resource":"messages_per_day"}'
        Send-AgentMessage -Connection $me -To 'someone' -Payload 1 -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].Exception | Should -BeOfType ([AgentMailbox.AgentMailboxAuthenticationException])
        $ev[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $ev[0].Exception.Message | Should -Match 'plan_limit'
        $ev[0].Exception.Message | Should -Not -Match ([regex]::Escape($script:Secret))
    }
}

Describe 'Transport security' -Tag 'Security' {
    It 'a key over plain http to a non-loopback host is refused before any network activity' -ForEach @(
        @{ Server = 'http://agentmailbox.invalid' }
        @{ Server = 'http://agentmailbox.invalid:3000' }
        @{ Server = 'http://api.agentmailbox.invalid:8080/prefix' }
    ) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $err = $null
        try { Connect-AgentMailbox 'x' -Server $Server -ApiKey $script:Key -ErrorAction Stop } catch { $err = $_ }
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 1 -Because 'no name lookup or connection was attempted'
        $err.FullyQualifiedErrorId | Should -Be 'UnencryptedAuthentication,AgentMailbox.PowerShell.Commands.ConnectAgentMailboxCommand'
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.Exception.Message | Should -Match 'AllowUnencryptedAuthentication'
    }

    It 'the key from the environment is held to the same rule' {
        $saved = $env:AGENTSMCP_API_KEY
        try {
            $env:AGENTSMCP_API_KEY = $script:Secret
            { Connect-AgentMailbox 'x' -Server 'http://agentmailbox.invalid' -ErrorAction Stop } | Should -Throw -ErrorId 'UnencryptedAuthentication,*'
        }
        finally { $env:AGENTSMCP_API_KEY = $saved }
    }

    It '-AllowUnencryptedAuthentication lets it through (then the unreachable host is a ConnectionError)' {
        $err = $null
        try {
            Connect-AgentMailbox 'x' -Server 'http://agentmailbox.invalid' -ApiKey $script:Key -AllowUnencryptedAuthentication -MaximumRetryCount 0 -TimeoutSec 5 -ErrorAction Stop
        }
        catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ConnectFailed,*'
        $err.CategoryInfo.Category | Should -BeIn 'ConnectionError', 'OperationTimeout'
    }

    It 'loopback over http with a key is allowed: <Server>' -ForEach @(@{ Server = 'localhost' }, @{ Server = '127.0.0.1' }) {
        $uri = $script:Server.Uri -replace '127\.0\.0\.1', $Server
        (Connect-AgentMailbox (New-TestAgentId 'lo') -Server $uri -ApiKey $script:Key -PassThru).AgentId | Should -Not -BeNullOrEmpty
    }

    It 'without a key, plain http to any host is allowed (nothing secret to protect)' {
        $err = $null
        try { Connect-AgentMailbox 'x' -Server 'http://agentmailbox.invalid' -MaximumRetryCount 0 -TimeoutSec 5 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ConnectFailed,*'
        $err.CategoryInfo.Category | Should -Not -Be 'SecurityError'
    }

    It '-SkipCertificateCheck writes a warning; without it no warning is written' {
        $warnings = Connect-AgentMailbox (New-TestAgentId 'tls') -Server $script:Server.Uri -ApiKey $script:Key -SkipCertificateCheck 3>&1 |
            Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
        @($warnings).Count | Should -Be 1
        $warnings[0].Message | Should -Match 'certificate is not checked'
        $none = Connect-AgentMailbox (New-TestAgentId 'tls') -Server $script:Server.Uri -ApiKey $script:Key 3>&1 |
            Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
        $none | Should -BeNullOrEmpty
    }

    It 'certificate checks are on by default: a self-signed https server is refused, and accepted with -SkipCertificateCheck' {
        $tls = Start-SelfSignedJsonServer
        try {
            $err = $null
            $log = Join-Path $TestDrive 'tls-verbose.txt'
            try { Connect-AgentMailbox 'x' -Server $tls.Uri -MaximumRetryCount 3 -RetryIntervalSec 2 -TimeoutSec 10 -ErrorAction Stop -Verbose 4> $log } catch { $err = $_ }
            # One verbose line per attempt: a failed certificate check is not retried.
            @(Get-Content $log | Where-Object { $_ -match '^POST /agents/register' }).Count | Should -Be 1 -Because 'a failed certificate check is not retried'
            $err.FullyQualifiedErrorId | Should -BeLike 'ConnectFailed,*'
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.Exception.ToString() | Should -Match 'SSL|certificate|TLS'
            $c = Connect-AgentMailbox 'x' -Server $tls.Uri -SkipCertificateCheck -MaximumRetryCount 0 -TimeoutSec 10 -PassThru -WarningAction SilentlyContinue
            $c.AgentId | Should -Be 'x'
        }
        finally { Stop-SelfSignedJsonServer $tls }
    }
}
