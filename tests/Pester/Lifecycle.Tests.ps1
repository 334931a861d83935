<#
    The connection's lifecycle (replacing and closing it while calls are in flight, in this and other runspaces),
    whole-command timeouts that bound retry waits, the runtimes the module imports in, and tab completion that
    leaves nothing running. Against the mock server, whose delays keep calls in flight.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
    $script:assembly = (Get-Module AgentMailbox).ImplementingAssembly
    $script:nonPublic = [System.Reflection.BindingFlags]'Static,Instance,NonPublic,Public'

    function Get-DefaultConnection {
        <# The default connection, read without Get-AgentMailboxConnection (which hands it out to the script). #>
        $script:assembly.GetType('AgentMailbox.PowerShell.DefaultConnection', $true).GetProperty('Current', $script:nonPublic).GetValue($null)
    }
    function Test-Closed($Connection) { $Connection.GetType().GetProperty('IsClosed', $script:nonPublic).GetValue($Connection) }
    function Get-LeaseCount($Connection) { $Connection.GetType().GetProperty('LeaseCount', $script:nonPublic).GetValue($Connection) }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}
Describe 'Replacing the default connection' {
    AfterEach { Clear-MockFault $server }

    It 'closes the replaced connection at once when no call uses it' {
        Connect-AgentMailbox (New-TestAgentId old) -Server $server.Uri
        $old = Get-DefaultConnection
        Connect-AgentMailbox (New-TestAgentId new) -Server $server.Uri
        Test-Closed $old | Should -BeTrue
        Test-Closed (Get-DefaultConnection) | Should -BeFalse
    }

    It 'lets a call in progress on the replaced connection finish normally, then closes it' {
        $me = New-TestAgentId old
        $peer = Connect-AgentMailbox (New-TestAgentId peer) -Server $server.Uri -PassThru
        Connect-AgentMailbox $me -Server $server.Uri
        $old = Get-DefaultConnection
        $null = Send-AgentMessage -Connection $peer -To $me -Payload @{ n = 1 }
        $null = Add-MockFault $server -Path '/mailbox/*' -Method GET -DelayMs 2000
        # The default connection is process-wide: a thread job's Get-AgentInbox uses it.
        $job = Start-ThreadJob -ArgumentList (Get-BuiltModulePath) {
            param($ModulePath)
            Import-Module $ModulePath
            Get-AgentInbox -ErrorVariable failures -ErrorAction SilentlyContinue
            foreach ($f in $failures) { "ERROR $($f.FullyQualifiedErrorId)" }
        }
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Get-LeaseCount $old) -eq 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        Get-LeaseCount $old | Should -Be 1 -Because 'the job''s call is in progress'
        Connect-AgentMailbox (New-TestAgentId new) -Server $server.Uri
        Test-Closed $old | Should -BeFalse -Because 'a call still uses it'
        $out = @($job | Receive-Job -Wait -AutoRemoveJob)
        $out | Where-Object { $_ -is [string] -and $_ -like 'ERROR*' } | Should -BeNullOrEmpty
        @($out | Where-Object { $_ -isnot [string] }).Count | Should -Be 1
        $out[0].Payload.n | Should -Be 1
        Test-Closed $old | Should -BeTrue -Because 'the last call on it has ended'
    }

    It 'leaves open a connection the script holds (-PassThru, Get-AgentMailboxConnection), so -Connection keeps working' {
        $held = Connect-AgentMailbox (New-TestAgentId held) -Server $server.Uri -PassThru
        Connect-AgentMailbox (New-TestAgentId other) -Server $server.Uri
        $fetched = Get-AgentMailboxConnection
        Connect-AgentMailbox (New-TestAgentId third) -Server $server.Uri
        Test-Closed $held | Should -BeFalse
        Test-Closed $fetched | Should -BeFalse
        { Get-AgentInbox -Connection $held -ErrorAction Stop } | Should -Not -Throw
        { Get-AgentInbox -Connection $fetched -ErrorAction Stop } | Should -Not -Throw
        $held, $fetched | Disconnect-AgentMailbox
    }
}

Describe 'Closing the connection while calls are in flight in other runspaces' {
    AfterEach { Clear-MockFault $server }

    BeforeEach {
        $script:me = New-TestAgentId closing
        Connect-AgentMailbox $me -Server $server.Uri
        $null = Add-MockFault $server -Path '/mailbox/*' -Method GET -DelayMs 3000 -Count 8
    }

    It 'gives each input in flight the module''s ConnectionClosed error when <Closer> runs' -ForEach @(
        @{ Closer = 'Disconnect-AgentMailbox' }
        @{ Closer = 'Remove-Module AgentMailbox' }
    ) {
        $modulePath = Get-BuiltModulePath
        $job = 1..4 | ForEach-Object -ThrottleLimit 4 -AsJob -Parallel {
            $n = $_
            Import-Module $using:modulePath
            try {
                $items = @(Get-AgentInbox -ErrorVariable failures -ErrorAction SilentlyContinue)
                [pscustomobject]@{
                    Input = $n; Items = $items.Count; Terminating = $null
                    Ids = @($failures | ForEach-Object FullyQualifiedErrorId)
                    Types = @($failures | ForEach-Object { $_.Exception.GetType().Name })
                    Targets = @($failures | ForEach-Object TargetObject)
                }
            }
            catch {
                [pscustomobject]@{ Input = $n; Items = 0; Terminating = "$($_.FullyQualifiedErrorId): $($_.Exception.GetType().FullName)"; Ids = @(); Types = @(); Targets = @() }
            }
        }
        # Wait until all four calls are waiting for the server's answer. Only this agent's requests count: a call of an
        # earlier test that is still running (a thread job, say) may reach the server meanwhile.
        $mine = "/mailbox/$([uri]::EscapeDataString($me))*"
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while (@(Get-MockRequest $server -PathLike $mine).Count -lt 4 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        @(Get-MockRequest $server -PathLike $mine).Count | Should -BeGreaterOrEqual 4
        Clear-MockRequest $server
        Invoke-Expression $Closer
        try {
            # Not -AutoRemoveJob: on a ForEach-Object -Parallel job it sometimes tries to remove the child jobs one by
            # one and writes an error for each; the job is removed whole below.
            $results = @(Receive-Job -Job $job -Wait -ErrorVariable jobErrors -ErrorAction SilentlyContinue)
            Remove-Job -Job $job -Force
        }
        finally {
            if ($Closer -like 'Remove-Module*') { Import-BuiltModule }
        }
        $jobErrors | Should -BeNullOrEmpty
        $results.Count | Should -Be 4
        foreach ($r in $results) {
            $r.Terminating | Should -BeNullOrEmpty -Because "input $($r.Input) must not end its pipeline"
            $r.Items | Should -Be 0
            $r.Ids | Should -Be @('ConnectionClosed,AgentMailbox.PowerShell.Commands.GetAgentInboxCommand') -Because "input $($r.Input)"
            $r.Types | Should -Be @('ConnectionClosedException')
            $r.Targets | Should -Be @($me)
        }
        # No retry reached the server after the close.
        @(Get-MockRequest $server -PathLike $mine) | ForEach-Object { "$($_.method) $($_.path)" } | Should -BeNullOrEmpty
    }
}

Describe 'Whole-command timeouts bound the retry waits inside them' {
    AfterEach { Clear-MockFault $server }

    BeforeAll {
        $script:me = New-TestAgentId timeouts
        $script:conn = Connect-AgentMailbox $me -Server $server.Uri -PassThru -MaximumRetryCount 3
    }

    It 'Wait-AgentMessage -TimeoutSec 3 does not wait out a 429 with Retry-After: 50' {
        $null = Add-MockFault $server -Path '/mailbox/*' -Method GET -Status 429 -Headers @{ 'Retry-After' = '50' } -Body '{"error":"slow down"}' -ContentType 'application/json'
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $out = @(Wait-AgentMessage -Connection $conn -TimeoutSec 3 -ErrorVariable failures -ErrorAction SilentlyContinue)
        $watch.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 3.5 -Because 'the wait may not outlast its own -TimeoutSec'
        $out.Count | Should -Be 0
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'WaitFailed,*'
        $failures[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $failures[0].Exception.RetryAfter.TotalSeconds | Should -Be 50
    }

    It 'Wait-AgentMessage still retries a 429 whose Retry-After fits in what is left' {
        $peer = Connect-AgentMailbox (New-TestAgentId peer) -Server $server.Uri -PassThru
        $null = Send-AgentMessage -Connection $peer -To $me -Payload @{ fits = $true }
        Clear-MockRequest $server
        $null = Add-MockFault $server -Path '/mailbox/*' -Method GET -Status 429 -Headers @{ 'Retry-After' = '1' } -Body '{"error":"slow down"}' -ContentType 'application/json'
        $out = @(Wait-AgentMessage -Connection $conn -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue)
        $failures | Should -BeNullOrEmpty
        $out.Payload.fits | Should -Be $true
        @(Get-MockRequest $server -PathLike '/mailbox/*').Count | Should -Be 2
        $null = Set-AgentThreadRead -Connection $conn -ThreadId $out[0].ThreadId
    }

    It 'Test-AgentMailbox -Connection answers within its own -TimeoutSec, not after the connection''s retries' {
        $slow = Connect-AgentMailbox (New-TestAgentId probe) -Server $server.Uri -PassThru -MaximumRetryCount 5 -RetryIntervalSec 3
        $null = Add-MockFault $server -Path '/health' -Method GET -Status 503 -Count 10
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $result = Test-AgentMailbox -Connection $slow -TimeoutSec 2
        $watch.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2.5
        $result.Reachable | Should -BeFalse
        @(Get-MockRequest $server -PathLike '/health').Count | Should -Be 1 -Because 'a probe makes one attempt, without the connection''s retries'
        $slow | Disconnect-AgentMailbox
    }

    It 'Test-AgentMailbox -Connection ends a probe that gets no answer at its own -TimeoutSec' {
        $patient = Connect-AgentMailbox (New-TestAgentId probe) -Server $server.Uri -PassThru -TimeoutSec 60
        $null = Add-MockFault $server -Path '/health' -Method GET -DelayMs 10000
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $result = Test-AgentMailbox -Connection $patient -TimeoutSec 1
        $watch.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 1.8
        $result.Reachable | Should -BeFalse
        $patient | Disconnect-AgentMailbox
    }
}

Describe 'Runtimes the module imports in' {
    AfterEach { Clear-MockFault $server }

    BeforeAll {
        $script:support = $assembly.GetType('AgentMailbox.PowerShell.RuntimeSupport', $true)
        $script:refusal = $support.GetMethod('Refusal', $nonPublic)
        function Get-Refusal([bool] $Desktop, [version] $Runtime) { $script:refusal.Invoke($null, @($Desktop, $Runtime)) }
    }

    It 'refuses PowerShell 7.0-7.3 (.NET <Runtime>) at import, naming 7.4 as the minimum' -ForEach @(
        @{ Runtime = '3.1.32' }, @{ Runtime = '5.0.17' }, @{ Runtime = '6.0.36' }, @{ Runtime = '7.0.20' }
    ) {
        $message = Get-Refusal $false $Runtime
        $message | Should -Match 'PowerShell 7\.4 or later'
        $message | Should -Match "\.NET $([regex]::Escape(([version]$Runtime).ToString(2)))"
    }

    It 'imports in PowerShell 7.4+ (.NET <Runtime>) and in Windows PowerShell' -ForEach @(
        @{ Runtime = '8.0.0' }, @{ Runtime = '9.0.1' }, @{ Runtime = '10.0.0' }
    ) {
        Get-Refusal $false $Runtime | Should -BeNullOrEmpty
        Get-Refusal $true '4.0.30319.42000' | Should -BeNullOrEmpty
    }

    It 'imports in this PowerShell, whose runtime the decision accepts' {
        Get-Refusal $false ([Environment]::Version) | Should -BeNullOrEmpty
        Get-Module AgentMailbox | Should -Not -BeNullOrEmpty
    }

    It 'says the same in the README and the manifest' {
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../../README.md')
        $readme | Should -Match 'Windows PowerShell 5\.1 and PowerShell 7\.4\+'
        $readme | Should -Match 'PowerShell 7\.0.7\.3'
        $manifestText = Get-Content -Raw (Join-Path $PSScriptRoot '../../AgentMailbox.psd1')
        $manifestText | Should -Match 'PowerShell 7 needs 7\.4 or later'
        (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../AgentMailbox.psd1')).PowerShellVersion | Should -Be '5.1' -Because 'Windows PowerShell must still import it'
    }
}

Describe 'Tab completion' {
    AfterEach { Clear-MockFault $server }

    It 'leaves no fetch running after the completer returns' {
        Connect-AgentMailbox (New-TestAgentId complete) -Server $server.Uri
        $null = Add-MockFault $server -Path '/mailbox/*' -Method GET -DelayMs 5000
        $cache = $assembly.GetType('AgentMailbox.PowerShell.CompletionCache', $true)
        $inFlight = $cache.GetProperty('InFlight', $nonPublic)
        $completer = $assembly.GetType('AgentMailbox.PowerShell.ThreadIdCompleter', $true)::new()
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $offered = $completer.CompleteArgument('Get-AgentThread', 'ThreadId', '', $null, @{})
        $watch.Stop()
        @($offered).Count | Should -Be 0
        $inFlight.GetValue($null) | Should -Be 0 -Because 'the completer waits for its cancelled fetch to end'
        Get-LeaseCount (Get-DefaultConnection) | Should -Be 0
        # The README's promise: completion never blocks the prompt for more than a second.
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
    }

    It 'serves completions from a cache for a while: a second completion makes no request' {
        $me = New-TestAgentId cached
        Connect-AgentMailbox $me -Server $server.Uri
        $first = Send-AgentMessage -To (New-TestAgentId peer) -Payload 1
        $completer = $assembly.GetType('AgentMailbox.PowerShell.ThreadIdCompleter', $true)::new()
        @($completer.CompleteArgument('Get-AgentThread', 'ThreadId', '', $null, @{})).ListItemText | Should -Contain $first.ThreadId
        $later = Send-AgentMessage -To (New-TestAgentId peer) -Payload 2
        Clear-MockRequest $server
        $again = @($completer.CompleteArgument('Get-AgentThread', 'ThreadId', '', $null, @{})).ListItemText
        @(Get-MockRequest $server).Count | Should -Be 0
        $again | Should -Contain $first.ThreadId
        $again | Should -Not -Contain $later.ThreadId -Because 'the threads were cached when first fetched'
    }
}
