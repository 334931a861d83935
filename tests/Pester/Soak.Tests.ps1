<#
    Load and soak: 10,000 messages through one Send-AgentMessage pipeline, then the recipient reads them all; the same
    against the mock server with 5 % injected faults; one connection used from ForEach-Object -Parallel and thread jobs.

    Keeping the recipient's reads bounded: /unread carries every unread message with its thread's whole context, and
    within one thread that grows quadratically (protocol §1.7, §8.3), so 10,000 messages in one thread would be a
    response of gigabytes. The messages are spread over 1,000 threads instead: each message copies one of 1,000 "bucket"
    agents (Cc), and the server keeps one thread per participant set, so no thread holds more than 10 messages and no
    context grows past the window (the server adds coversMessageIds only from 20 older messages on). The recipient
    then reads everything with one streamed Get-AgentInbox -Recent 1, which stays a few megabytes.
#>

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../../tools/Servers.psm1') -Force
    $HasReference = [bool](Get-ReferenceServerScript)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:Count = 10000
    $script:Buckets = 1000

    # The messages of one run: each a whole-message description, To the recipient, Cc its bucket, Payload its sequence number.
    function script:New-SoakMessage([string] $To, [string] $Run, [int] $Sequence) {
        [pscustomobject]@{ To = $To; Cc = "bucket-$Run-$($Sequence % $script:Buckets)"; Payload = @{ seq = $Sequence; run = $Run } }
    }

    # Checks that the inbox holds each of the sent messages exactly once, by id and by sequence number.
    function script:Assert-Lossless($Results, $Inbox, [int[]] $ExpectedSequences) {
        $sentIds = [System.Collections.Generic.HashSet[string]]::new([string[]]@($Results.MessageId))
        $sentIds.Count | Should -Be $Results.Count -Because 'every send got its own message id'
        $Inbox.Count | Should -Be $ExpectedSequences.Count -Because 'the recipient has exactly the messages that were sent'
        $inboxIds = [System.Collections.Generic.HashSet[string]]::new([string[]]@($Inbox.Id))
        $inboxIds.Count | Should -Be $Inbox.Count -Because 'no message id is duplicated'
        $inboxIds.SetEquals($sentIds) | Should -BeTrue -Because 'the inbox holds exactly the sent message ids'
        $sequences = @($Inbox | ForEach-Object { [int]$_.Payload.seq } | Sort-Object)
        ($sequences -join ',') | Should -Be (($ExpectedSequences | Sort-Object) -join ',') -Because 'each sequence number arrived once'
    }
}

Describe 'A lossless 10,000-message run against the reference server' -Tag 'Soak' -Skip:(-not $HasReference) {
    BeforeAll {
        $script:Reference = Start-AgentMailboxServer -Kind Reference
    }
    AfterAll { if ($script:Reference) { Stop-AgentMailboxServer $script:Reference } }

    It 'sends 10,000 messages through one pipeline, and the recipient reads each exactly once' {
        $run = [Guid]::NewGuid().ToString('N').Substring(0, 8)
        $recipient = Connect-AgentMailbox "soak-rcv-$run" -Server $script:Reference.Uri -PassThru
        $sender = Connect-AgentMailbox "soak-snd-$run" -Server $script:Reference.Uri -PassThru
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $results = @(1..$script:Count | ForEach-Object { New-SoakMessage $recipient.AgentId $run $_ } |
                Send-AgentMessage -Connection $sender -ErrorVariable sendErrors)
        $sendTime = $watch.Elapsed
        $sendErrors | Should -BeNullOrEmpty
        $results.Count | Should -Be $script:Count

        $watch.Restart()
        $inbox = @(Get-AgentInbox -Connection $recipient -Recent 1)
        Write-Host ("Reference soak: {0} sends in {1:0.0} s, {2} read back in {3:0.0} s." -f $results.Count, $sendTime.TotalSeconds, $inbox.Count, $watch.Elapsed.TotalSeconds)
        @($results.ThreadId | Sort-Object -Unique).Count | Should -Be $script:Buckets
        Assert-Lossless $results $inbox (1..$script:Count)
    }
}

Describe 'A 10,000-message run with 5 % injected faults against the mock server' -Tag 'Soak' {
    BeforeAll {
        $script:Mock = Start-AgentMailboxServer -Kind Mock
        # The faults, in turn, one for every 20th message. 'Stored' says whether the mock stores the message before
        # the fault strikes; 'Outcome' what the sender then sees.
        $script:FaultKinds = @(
            @{ Name = '500'; Arguments = @{ Status = 500 } }
            @{ Name = '503'; Arguments = @{ Status = 503 } }
            @{ Name = '429'; Arguments = @{ Status = 429; Headers = @{ 'Retry-After' = '0' } } }
            @{ Name = 'reset before the response'; Arguments = @{ Action = 'drop'; AfterHandler = $true } }
            @{ Name = 'reset mid-body'; Arguments = @{ Action = 'reset-mid-body' } }
            @{ Name = 'truncated JSON'; Arguments = @{ Action = 'truncate' } }
            @{ Name = 'HTML 502'; Arguments = @{ Action = 'html'; Status = 502 } }
            @{ Name = 'drop before the handler'; Arguments = @{ Action = 'drop' } }
        )
    }
    AfterAll { if ($script:Mock) { Stop-AgentMailboxServer $script:Mock } }

    It 'sent + reported failed = input, one error record per failure, nothing duplicated, nothing lost silently' {
        $run = [Guid]::NewGuid().ToString('N').Substring(0, 8)
        $recipient = Connect-AgentMailbox "fault-rcv-$run" -Server $script:Mock.Uri -PassThru
        $sender = Connect-AgentMailbox "fault-snd-$run" -Server $script:Mock.Uri -PassThru -RetryIntervalSec 0
        $mock = $script:Mock
        $kinds = $script:FaultKinds
        $injected = 0
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $results = @(1..$script:Count | ForEach-Object {
                if ($_ % 20 -eq 0) {
                    # The pipeline runs one item at a time, so this fault strikes exactly this message's send.
                    $kind = $kinds[($_ / 20) % $kinds.Count].Arguments
                    $null = Add-MockFault -Server $mock -Method POST -Path '/messages/send' @kind
                    $injected++
                }
                New-SoakMessage $recipient.AgentId $run $_
            } | Send-AgentMessage -Connection $sender -ErrorVariable failures -ErrorAction SilentlyContinue)
        $sendTime = $watch.Elapsed
        $injected | Should -Be ($script:Count / 20)

        # Every input is accounted for: a result or exactly one error record, never both, never neither.
        $failedSequences = @($failures | ForEach-Object { [int]$_.TargetObject.Payload.seq })
        ($results.Count + $failures.Count) | Should -Be $script:Count
        @($failedSequences | Sort-Object -Unique).Count | Should -Be $failures.Count -Because 'one error record per failed message'
        $failures | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'SendMessageFailed,*' }
        $results.Count | Should -BeGreaterThan ($script:Count * 0.95 - 1)

        $watch.Restart()
        $inbox = @(Get-AgentInbox -Connection $recipient -Recent 1)
        Write-Host ("Mock soak with faults: {0} sent, {1} reported failed of {2} in {3:0.0} s; {4} read back in {5:0.0} s." -f
            $results.Count, $failures.Count, $script:Count, $sendTime.TotalSeconds, $inbox.Count, $watch.Elapsed.TotalSeconds)

        $bySequence = @{}
        $duplicates = @(foreach ($message in $inbox) {
                $seq = [int]$message.Payload.seq
                if ($bySequence.ContainsKey($seq)) { $seq } else { $bySequence[$seq] = $message.Id }
            })
        $duplicates | Should -BeNullOrEmpty -Because 'no message is stored twice'
        # Every success is stored once, under its own id, with its own sequence number.
        $inboxIds = @{}
        foreach ($message in $inbox) { $inboxIds[$message.Id] = [int]$message.Payload.seq }
        $successSequences = [System.Collections.Generic.HashSet[int]]::new()
        foreach ($result in $results) {
            $inboxIds.ContainsKey($result.MessageId) | Should -BeTrue -Because "sent message $($result.MessageId) is stored"
            $successSequences.Add($inboxIds[$result.MessageId]) | Should -BeTrue
        }
        # A stored message that was reported failed was reported as "may have been stored"; the others are not stored.
        $failedSet = [System.Collections.Generic.HashSet[int]]::new([int[]]$failedSequences)
        $storedAfterFailure = 0
        foreach ($failure in $failures) {
            $seq = [int]$failure.TargetObject.Payload.seq
            $successSequences.Contains($seq) | Should -BeFalse
            if ($bySequence.ContainsKey($seq)) {
                $storedAfterFailure++
                $failure.Exception.Message | Should -Match 'may have stored the message' -Because "message $seq was stored although its send failed"
            }
        }
        # Nothing lost silently: every input is stored, or was reported failed.
        $silent = @(foreach ($seq in 1..$script:Count) { if (-not $bySequence.ContainsKey($seq) -and -not $failedSet.Contains($seq)) { $seq } })
        $silent | Should -BeNullOrEmpty -Because 'every message was sent or reported'
        $inbox.Count | Should -Be ($results.Count + $storedAfterFailure)
    }
}

Describe 'One connection from many threads' -Tag 'Soak' {
    BeforeAll {
        $script:Shared = Start-AgentMailboxServer -Kind Mock
        $script:ModulePath = Get-BuiltModulePath
    }
    AfterAll { if ($script:Shared) { Stop-AgentMailboxServer $script:Shared } }

    It 'ForEach-Object -Parallel sends through one connection without loss, duplication or crossed answers' {
        $run = [Guid]::NewGuid().ToString('N').Substring(0, 8)
        $recipient = Connect-AgentMailbox "par-rcv-$run" -Server $script:Shared.Uri -PassThru
        $sender = Connect-AgentMailbox "par-snd-$run" -Server $script:Shared.Uri -PassThru
        $modulePath = $script:ModulePath
        $results = @(1..8 | ForEach-Object -ThrottleLimit 8 -Parallel {
                Import-Module $using:modulePath
                $connection = $using:sender
                $to = $using:recipient
                foreach ($i in 1..50) {
                    $seq = $_ * 1000 + $i
                    $r = Send-AgentMessage -Connection $connection -To $to.AgentId -Cc "lane-$_" -Payload @{ seq = $seq } -ErrorAction Stop
                    [pscustomobject]@{ Seq = $seq; MessageId = $r.MessageId; ThreadId = $r.ThreadId; Lane = $_ }
                    # Reads interleave with the sends of the other lanes on the same connection.
                    if ($i % 10 -eq 0) { $null = @(Get-AgentThread -Connection $connection -ThreadId $r.ThreadId -ErrorAction Stop) }
                }
            })
        $results.Count | Should -Be 400
        # Each lane's answers belong to its own thread (an answer crossed between threads would show here).
        foreach ($lane in $results | Group-Object Lane) { @($lane.Group.ThreadId | Sort-Object -Unique).Count | Should -Be 1 }
        @($results.ThreadId | Sort-Object -Unique).Count | Should -Be 8
        $inbox = @(Get-AgentInbox -Connection $recipient -Recent 1)
        Assert-Lossless $results $inbox @($results.Seq)
        foreach ($m in $inbox) { ($results | Where-Object Seq -EQ ([int]$m.Payload.seq)).MessageId | Should -Be $m.Id }
    }

    It 'thread jobs share one connection (and the session default) safely' {
        $run = [Guid]::NewGuid().ToString('N').Substring(0, 8)
        $recipient = Connect-AgentMailbox "job-rcv-$run" -Server $script:Shared.Uri -PassThru
        $sender = Connect-AgentMailbox "job-snd-$run" -Server $script:Shared.Uri -PassThru
        $jobs = foreach ($lane in 1..6) {
            Start-ThreadJob -ArgumentList $script:ModulePath, $sender, $recipient.AgentId, $lane -ScriptBlock {
                param($ModulePath, $Connection, $To, $Lane)
                Import-Module $ModulePath
                foreach ($i in 1..40) {
                    $seq = $Lane * 1000 + $i
                    $r = if ($i % 2) { Send-AgentMessage -Connection $Connection -To $To -Payload @{ seq = $seq } -ErrorAction Stop }
                    else { Send-AgentMessage -To $To -Payload @{ seq = $seq } -ErrorAction Stop }   # the default connection
                    [pscustomobject]@{ Seq = $seq; MessageId = $r.MessageId }
                }
            }
        }
        $results = @($jobs | Wait-Job -Timeout 120 | Receive-Job -ErrorVariable jobErrors)
        $jobs | Remove-Job -Force
        $jobErrors | Should -BeNullOrEmpty
        $results.Count | Should -Be 240
        (Get-AgentMailboxConnection).AgentId | Should -Be $sender.AgentId
        $inbox = @(Get-AgentInbox -Connection $recipient -Recent 1)
        Assert-Lossless $results $inbox @($results.Seq)
        @($inbox.From | Sort-Object -Unique) | Should -Be @($sender.AgentId)
    }
}
