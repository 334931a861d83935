<#
    The fault matrix: every cmdlet that makes a request, against every fault the mock server injects, with the outcome
    the README's reliability section states for that cell. Each cell starts from fresh agents, injects one fault on the
    cmdlet's main request, runs the cmdlet once, then checks what it output or wrote as an error, how often the request
    reached the server, and (for sends) how many messages were stored. The run prints how many cells were tried and held.

    Also here: per-call -TimeoutSec, Ctrl+C during a stalled body and during a retry wait, and the retry settings.
#>

BeforeDiscovery {
    # The cmdlets, by what their request is: 'read' (retried where safe), 'send' (never repeated once it may have
    # arrived), 'probe' (Test-AgentMailbox: a failure is an answer, Reachable = $false), 'connect' (terminating errors).
    $cmdlets = @(
        @{ Cmdlet = 'Connect-AgentMailbox'; Kind = 'connect'; Method = 'POST'; Path = '/agents/register' }
        @{ Cmdlet = 'Test-AgentMailbox'; Kind = 'probe'; Method = 'GET'; Path = '/health' }
        @{ Cmdlet = 'Send-AgentMessage'; Kind = 'send'; Method = 'POST'; Path = '/messages/send' }
        @{ Cmdlet = 'Invoke-AgentReplyAll'; Kind = 'send'; Method = 'POST'; Path = '/messages/reply-all' }
        @{ Cmdlet = 'Get-AgentInbox'; Kind = 'read'; Method = 'GET'; Path = '/mailbox/{me}/unread' }
        @{ Cmdlet = 'Receive-AgentMessage'; Kind = 'read'; Method = 'GET'; Path = '/mailbox/{me}/unread' }
        @{ Cmdlet = 'Wait-AgentMessage'; Kind = 'read'; Method = 'GET'; Path = '/mailbox/{me}/unread' }
        @{ Cmdlet = 'Get-AgentThread'; Kind = 'read'; Method = 'GET'; Path = '/mailbox/{me}' }
        @{ Cmdlet = 'Get-AgentThread -ThreadId'; Kind = 'read'; Method = 'GET'; Path = '/threads/{thread}' }
        @{ Cmdlet = 'Get-AgentThreadContext'; Kind = 'read'; Method = 'GET'; Path = '/threads/{thread}/sync' }
        @{ Cmdlet = 'Get-AgentThreadParticipant'; Kind = 'read'; Method = 'GET'; Path = '/threads/{thread}/participants' }
        @{ Cmdlet = 'Set-AgentThreadRead'; Kind = 'read'; Method = 'POST'; Path = '/mailbox/{me}/read' }
    )

    # Each fault, and the expected outcome for reads (and register/health) and for sends:
    # 'retried' = succeeded on a later attempt; otherwise the error category, with the request made once.
    # Stored = how many messages a send leaves on the server (the fault struck before or after the handler ran).
    $faults = @(
        @{ Fault = '500'; Read = 'ResourceUnavailable'; Send = 'ResourceUnavailable'; Stored = 0 }
        @{ Fault = '502'; Read = 'retried'; Send = 'ResourceUnavailable'; Stored = 0 }
        @{ Fault = '503'; Read = 'retried'; Send = 'ResourceUnavailable'; Stored = 0 }
        @{ Fault = '504'; Read = 'retried'; Send = 'ResourceUnavailable'; Stored = 0 }
        @{ Fault = '429 with Retry-After'; Read = 'retried'; Send = 'retried'; Stored = 1; MinSeconds = 0.9 }
        @{ Fault = '429 without Retry-After (resetsAt)'; Read = 'retried'; Send = 'retried'; Stored = 1; MinSeconds = 0.4 }
        @{ Fault = '413'; Read = 'LimitsExceeded'; Send = 'LimitsExceeded'; Stored = 0 }
        @{ Fault = 'stall beyond the timeout'; Read = 'OperationTimeout'; Send = 'OperationTimeout'; Stored = 1 }
        @{ Fault = 'reset before the response'; Read = 'retried'; Send = 'ConnectionError'; Stored = 1 }
        @{ Fault = 'reset mid-body'; Read = 'ConnectionError'; Send = 'ConnectionError'; Stored = 1 }
        @{ Fault = 'truncated JSON'; Read = 'InvalidResult'; Send = 'InvalidResult'; Stored = 1 }
        @{ Fault = 'HTML error page (502)'; Read = 'retried'; Send = 'ResourceUnavailable'; Stored = 0 }
        @{ Fault = 'non-JSON content type'; Read = 'InvalidResult'; Send = 'InvalidResult'; Stored = 1 }
    )

    $cells = foreach ($c in $cmdlets) {
        foreach ($f in $faults) {
            # A probe makes one attempt: every fault is an answer, Reachable = $false.
            $expected = if ($c.Kind -eq 'send') { $f.Send } elseif ($c.Kind -eq 'probe') { 'unreachable' } else { $f.Read }
            $cell = @{} + $c + $f
            $cell.Expected = $expected
            $cell.Stored = if ($c.Kind -eq 'send') { $f.Stored } else { $null }
            $cell
        }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:Server = Start-AgentMailboxServer -Kind Mock
    $script:Tried = 0
    $script:Held = 0

    function script:New-CellAgentId([string] $Name) { "$Name$([Guid]::NewGuid().ToString('N').Substring(0, 12))" }

    function script:Add-CellFault([string] $Fault, [string] $Method, [string] $Path) {
        $common = @{ Server = $script:Server; Method = $Method; Path = $Path }
        switch ($Fault) {
            '500' { Add-MockFault @common -Status 500 }
            '502' { Add-MockFault @common -Status 502 }
            '503' { Add-MockFault @common -Status 503 }
            '504' { Add-MockFault @common -Status 504 }
            '429 with Retry-After' {
                Add-MockFault @common -Status 429 -Headers @{ 'Retry-After' = '1' } -Body '{"error":"Too many requests, please try again later"}'
            }
            '429 without Retry-After (resetsAt)' {
                $resetsAt = [DateTimeOffset]::UtcNow.AddSeconds(1).ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [cultureinfo]::InvariantCulture)
                Add-MockFault @common -Status 429 -Body "{`"error`":`"rate_limit_exceeded`",`"limit`":60,`"remaining`":0,`"resetsAt`":`"$resetsAt`"}"
            }
            '413' { Add-MockFault @common -Status 413 -Body '{"error":"request entity too large","requestId":null}' }
            'stall beyond the timeout' { Add-MockFault @common -Action stall }
            'reset before the response' { Add-MockFault @common -Action drop -AfterHandler }
            'reset mid-body' { Add-MockFault @common -Action reset-mid-body }
            'truncated JSON' { Add-MockFault @common -Action truncate }
            'HTML error page (502)' { Add-MockFault @common -Action html -Status 502 }
            'non-JSON content type' { Add-MockFault @common -Status 200 -ContentType 'text/plain' -Body 'OK' -AfterHandler }
            default { throw "Unknown fault $Fault" }
        }
    }

    # Runs one cmdlet as the cell's agent; returns its output and its error records.
    function script:Invoke-Cell([string] $Cmdlet, [hashtable] $Ctx, [int] $TimeoutSec) {
        $errors = [System.Collections.Generic.List[object]]::new()
        $output = @()
        $conn = $Ctx.Me
        try {
            $output = @(switch ($Cmdlet) {
                    'Connect-AgentMailbox' {
                        Connect-AgentMailbox $Ctx.NewAgent -Server $script:Server.Uri -PassThru -RetryIntervalSec 0 -TimeoutSec $TimeoutSec -ErrorAction Stop
                    }
                    'Test-AgentMailbox' { Test-AgentMailbox -Connection $conn -TimeoutSec $TimeoutSec }
                    'Send-AgentMessage' {
                        Send-AgentMessage -Connection $conn -To $Ctx.Other.AgentId -Payload @{ cell = $Ctx.CellId } -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue
                    }
                    'Invoke-AgentReplyAll' {
                        Invoke-AgentReplyAll -Connection $conn -ThreadId $Ctx.ThreadId -Payload @{ cell = $Ctx.CellId } -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue
                    }
                    'Get-AgentInbox' { Get-AgentInbox -Connection $conn -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue }
                    'Receive-AgentMessage' { Receive-AgentMessage -Connection $conn -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue }
                    'Wait-AgentMessage' { Wait-AgentMessage -Connection $conn -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue }
                    'Get-AgentThread' { Get-AgentThread -Connection $conn -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue }
                    'Get-AgentThread -ThreadId' { Get-AgentThread -Connection $conn -ThreadId $Ctx.ThreadId -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue }
                    'Get-AgentThreadContext' { Get-AgentThreadContext -Connection $conn -ThreadId $Ctx.ThreadId -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue }
                    'Get-AgentThreadParticipant' { Get-AgentThreadParticipant -Connection $conn -ThreadId $Ctx.ThreadId -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue }
                    'Set-AgentThreadRead' { Set-AgentThreadRead -Connection $conn -ThreadId $Ctx.ThreadId -PassThru -TimeoutSec $TimeoutSec -ErrorVariable +errors -ErrorAction SilentlyContinue }
                })
        }
        catch {
            $errors.Add($_)
        }
        [pscustomobject]@{ Output = $output; Errors = @($errors) }
    }
}

AfterAll {
    Write-Host "Fault matrix: $script:Tried cells tried, $script:Held held."
    if ($script:Server) { Stop-AgentMailboxServer $script:Server }
}

Describe 'The fault matrix' -Tag 'Reliability' {
    It '<Cmdlet> × <Fault>: <Expected>' -ForEach $cells {
        $script:Tried++
        # Fresh agents: 'me' has one unread message from 'other' in a thread of the two.
        $other = Connect-AgentMailbox (New-CellAgentId 'other') -Server $script:Server.Uri -PassThru -RetryIntervalSec 0
        $me = Connect-AgentMailbox (New-CellAgentId 'me') -Server $script:Server.Uri -PassThru -RetryIntervalSec 0
        $sent = Send-AgentMessage -Connection $other -To $me.AgentId -Payload @{ setup = 1 } -ContextSnapshot @{ step = 1 }
        $ctx = @{ Me = $me; Other = $other; ThreadId = $sent.ThreadId; CellId = [Guid]::NewGuid().ToString('N'); NewAgent = (New-CellAgentId 'new') }
        $path = $Path.Replace('{me}', $me.AgentId).Replace('{thread}', $sent.ThreadId)
        Clear-MockRequest $script:Server
        $null = Add-CellFault -Fault $Fault -Method $Method -Path $path

        $timeoutSec = if ($Fault -like 'stall*') { 1 } else { 20 }
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $result = Invoke-Cell -Cmdlet $Cmdlet -Ctx $ctx -TimeoutSec $timeoutSec
        $watch.Stop()
        Clear-MockFault $script:Server

        $hits = @(Get-MockRequest $script:Server | Where-Object { $_.method -eq $Method -and $_.path -eq $path })
        if ($Expected -eq 'retried') {
            $result.Errors | Should -BeNullOrEmpty
            $hits.Count | Should -Be 2 -Because 'the fault struck once and the retry succeeded'
            $hits[0].faultId | Should -Not -BeNullOrEmpty
            $hits[1].status | Should -Be $(if ($Path -eq '/agents/register') { 201 } else { 200 })
            if ($MinSeconds) { $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual $MinSeconds -Because 'the wait the server asked for is kept' }
            switch ($Cmdlet) {
                'Test-AgentMailbox' { $result.Output[0].Reachable | Should -BeTrue }
                'Connect-AgentMailbox' { $result.Output[0].AgentId | Should -Be $ctx.NewAgent }
                'Set-AgentThreadRead' { $result.Output.ThreadId | Should -Be $sent.ThreadId }
                { $_ -in 'Get-AgentInbox', 'Receive-AgentMessage', 'Wait-AgentMessage' } {
                    $result.Output.Count | Should -Be 1
                    $result.Output[0].Payload.setup | Should -Be 1
                }
                { $_ -in 'Send-AgentMessage', 'Invoke-AgentReplyAll' } { $result.Output[0].MessageId | Should -Not -BeNullOrEmpty }
                default { $result.Output.Count | Should -BeGreaterThan 0 }
            }
        }
        elseif ($Kind -eq 'probe') {
            # Test-AgentMailbox reports an unhealthy server as an answer, not an error.
            $result.Errors | Should -BeNullOrEmpty
            $result.Output[0].Reachable | Should -BeFalse
            $hits.Count | Should -Be 1
        }
        else {
            $result.Output | Should -BeNullOrEmpty
            $result.Errors.Count | Should -Be 1
            $record = $result.Errors[0]
            $record.CategoryInfo.Category | Should -Be $Expected
            $hits.Count | Should -Be 1 -Because 'a fault that is not safe to retry is reported after one attempt'
            if ($Expected -ne 'OperationTimeout' -or $Cmdlet -ne 'Wait-AgentMessage') {
                $record.Exception.Message | Should -Match ([regex]::Escape($hits[0].requestId ?? $record.Exception.RequestId))
                $record.Exception.RequestId | Should -Not -BeNullOrEmpty
            }
            if ($Kind -eq 'send' -and $Fault -ne '413') {
                $record.Exception.Message | Should -Match 'may have stored the message' -Because 'a send that may have arrived says so'
            }
            elseif ($Kind -eq 'send') {
                $record.Exception.Message | Should -Not -Match 'may have stored' -Because 'a 413 says the server refused the body'
            }
            if ($Cmdlet -eq 'Receive-AgentMessage') {
                # Nothing was consumed: the message is still unread.
                @(Get-AgentInbox -Connection $me).Count | Should -Be 1
            }
        }
        if ($Kind -eq 'send') {
            # Nothing sent twice: the number of stored messages of this cell is what the fault allows.
            $storedMessages = @(Get-AgentInbox -Connection $other | Where-Object { $_.Payload.cell -eq $ctx.CellId })
            $storedMessages.Count | Should -Be $Stored
        }
        $script:Held++
    }
}

Describe 'Timeouts and Ctrl+C' -Tag 'Reliability' {
    BeforeAll {
        $script:Me = Connect-AgentMailbox (New-CellAgentId 'tmo') -Server $script:Server.Uri -PassThru -RetryIntervalSec 0
        $script:ModulePath = Get-BuiltModulePath
    }
    AfterEach { Clear-MockFault $script:Server }

    It 'a per-call -TimeoutSec overrides the connection''s, and a timeout is OperationTimeout' {
        $null = Add-MockFault -Server $script:Server -Method GET -Path "/mailbox/$($script:Me.AgentId)/unread" -DelayMs 3000
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $out = Get-AgentInbox -Connection $script:Me -TimeoutSec 1 -ErrorVariable ev -ErrorAction SilentlyContinue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2.5
        $out | Should -BeNullOrEmpty
        $ev[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'GetInboxFailed,*'
        $ev[0].Exception | Should -BeOfType ([AgentMailbox.AgentMailboxTimeoutException])
        $ev[0].Exception.Timeout | Should -Be ([TimeSpan]::FromSeconds(1))
    }

    It 'a connection''s -TimeoutSec applies when the call gives none' {
        $c = Connect-AgentMailbox (New-CellAgentId 'tmo') -Server $script:Server.Uri -PassThru -TimeoutSec 1
        $null = Add-MockFault -Server $script:Server -Method GET -Path "/threads/*" -Action stall
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Get-AgentThreadContext -Connection $c -ThreadId 'no-such-thread' -ErrorVariable ev -ErrorAction SilentlyContinue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2.5
        $ev[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
    }

    It 'a send that timed out is not repeated and says it may have been stored' {
        $other = New-CellAgentId 'rcv'
        Clear-MockRequest $script:Server
        $null = Add-MockFault -Server $script:Server -Method POST -Path '/messages/send' -Action stall
        Send-AgentMessage -Connection $script:Me -To $other -Payload 1 -TimeoutSec 1 -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $ev[0].Exception.MayHaveBeenDelivered | Should -BeTrue
        $ev[0].Exception.Message | Should -Match 'may have stored'
        $ev[0].ErrorDetails.RecommendedAction | Should -Match 'Retry|TimeoutSec'
        @(Get-MockRequest $script:Server -PathLike '/messages/send').Count | Should -Be 1
    }

    It 'Ctrl+C ends <Name> within a second' -ForEach @(
        @{ Name = 'a download whose body stalls'; Fault = @{ Method = 'GET'; Action = 'stall' }; Command = 'Get-AgentInbox' }
        @{ Name = 'a request waiting for headers'; Fault = @{ Method = 'GET'; DelayMs = 60000 }; Command = 'Get-AgentInbox' }
        @{ Name = 'a wait before a retry (Retry-After 60)'; Fault = @{ Method = 'GET'; Status = 429; Headers = @{ 'Retry-After' = '50' } }; Command = 'Get-AgentInbox' }
        @{ Name = 'a send whose answer stalls'; Fault = @{ Method = 'POST'; Action = 'stall' }; Command = 'Send-AgentMessage' }
    ) {
        $me = Connect-AgentMailbox (New-CellAgentId 'stop') -Server $script:Server.Uri -PassThru
        $path = if ($Command -eq 'Send-AgentMessage') { '/messages/send' } else { "/mailbox/$($me.AgentId)/unread" }
        $null = Add-MockFault -Server $script:Server -Path $path @Fault
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $Connection, $Command)
                    Import-Module $ModulePath
                    if ($Command -eq 'Send-AgentMessage') { Send-AgentMessage -Connection $Connection -To 'nobody' -Payload 1 }
                    else { Get-AgentInbox -Connection $Connection }
                }).AddArgument($script:ModulePath).AddArgument($me).AddArgument($Command)
            $async = $ps.BeginInvoke()
            # Wait until the request is at the server (and, for a retry, the 429 has been answered).
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ([DateTime]::UtcNow -lt $deadline -and -not @(Get-MockRequest $script:Server -PathLike $path).Count) { Start-Sleep -Milliseconds 50 }
            Start-Sleep -Milliseconds 300
            $async.IsCompleted | Should -BeFalse
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Retry settings' -Tag 'Reliability' {
    AfterEach { Clear-MockFault $script:Server }

    It '-MaximumRetryCount bounds the attempts, then the last failure is reported' {
        $c = Connect-AgentMailbox (New-CellAgentId 'retry') -Server $script:Server.Uri -PassThru -MaximumRetryCount 2 -RetryIntervalSec 0
        Clear-MockRequest $script:Server
        $null = Add-MockFault -Server $script:Server -Method GET -Path "/mailbox/$($c.AgentId)/unread" -Status 503 -Count 10
        Get-AgentInbox -Connection $c -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        @(Get-MockRequest $script:Server -PathLike "/mailbox/$($c.AgentId)/unread").Count | Should -Be 3
    }

    It '-MaximumRetryCount 0 turns retries off' {
        $c = Connect-AgentMailbox (New-CellAgentId 'retry') -Server $script:Server.Uri -PassThru -MaximumRetryCount 0
        Clear-MockRequest $script:Server
        $null = Add-MockFault -Server $script:Server -Method GET -Path "/mailbox/$($c.AgentId)/unread" -Status 502
        Get-AgentInbox -Connection $c -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        @(Get-MockRequest $script:Server -PathLike "/mailbox/$($c.AgentId)/unread").Count | Should -Be 1
    }

    It '-RetryIntervalSec spaces the retries with exponential backoff' {
        $c = Connect-AgentMailbox (New-CellAgentId 'retry') -Server $script:Server.Uri -PassThru -MaximumRetryCount 2 -RetryIntervalSec 1
        $null = Add-MockFault -Server $script:Server -Method GET -Path "/mailbox/$($c.AgentId)/unread" -Status 504 -Count 2
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Get-AgentInbox -Connection $c -ErrorAction Stop
        # 1 s, then 2 s, each within ±20 % jitter.
        $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 2.3
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 6
    }

    It 'a Retry-After longer than the longest allowed wait fails at once with the wait in the error' {
        $c = Connect-AgentMailbox (New-CellAgentId 'retry') -Server $script:Server.Uri -PassThru
        $null = Add-MockFault -Server $script:Server -Method GET -Path "/mailbox/$($c.AgentId)/unread" -Status 429 -Headers @{ 'Retry-After' = '3600' }
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Get-AgentInbox -Connection $c -ErrorVariable ev -ErrorAction SilentlyContinue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2
        $ev[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $ev[0].Exception.RetryAfter | Should -Be ([TimeSpan]::FromHours(1))
        $ev[0].ErrorDetails.RecommendedAction | Should -Match '3600 s'
    }

    It 'a refused connection is retried for a send too (nothing was sent), then reported as ConnectionError' {
        $gone = Start-AgentMailboxServer -Kind Mock
        $c = Connect-AgentMailbox (New-CellAgentId 'retry') -Server $gone.Uri -PassThru -MaximumRetryCount 2 -RetryIntervalSec 0
        Stop-AgentMailboxServer $gone
        $verbose = Send-AgentMessage -Connection $c -To 'nobody' -Payload 1 -Verbose -ErrorVariable ev -ErrorAction SilentlyContinue 4>&1
        $ev[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $ev[0].Exception.MayHaveBeenDelivered | Should -BeFalse
        $ev[0].Exception.Message | Should -Not -Match 'may have stored'
        ($verbose | Out-String) | Should -Match 'attempt 3'
    }
}
