<#
    The bad-input corpus: agent ids, payloads, context snapshots, server URIs and parameter values that are wrong or
    unusual. Each either fails with a clear error that names the parameter and sends nothing, or is sent in the
    documented, faithful encoding (checked on the wire at the mock server, and after the round trip).
#>

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:Server = Start-AgentMailboxServer -Kind Mock
    $script:Me = Connect-AgentMailbox (New-TestAgentId 'bad') -Server $script:Server.Uri -PassThru
    $script:Peer = New-TestAgentId 'peer'
    $script:Thread = (Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload 'seed').ThreadId

    # The body of the one send the command made, as a PSCustomObject; fails when it made none or several.
    function script:Get-SentBody {
        $sent = @(Get-MockRequest $script:Server -PathLike '/messages/*')
        $sent.Count | Should -Be 1
        $sent[0].body | ConvertFrom-Json -AsHashtable -Depth 300 -DateKind String
    }
    function script:Assert-NothingSent {
        @(Get-MockRequest $script:Server | Where-Object { $_.path -ne '/health' }) | Should -BeNullOrEmpty -Because 'bad input is refused before any request'
    }
}

AfterAll { if ($script:Server) { Stop-AgentMailboxServer $script:Server } }

Describe 'Agent ids' -Tag 'BadInput' {
    BeforeEach { Clear-MockRequest $script:Server }

    It 'an <Name> agent id is refused by parameter validation, naming -<Parameter>, and nothing is sent' -ForEach @(
        @{ Name = 'empty'; Id = ''; Parameter = 'To' }
        @{ Name = 'white-space'; Id = " `t "; Parameter = 'To' }
        @{ Name = 'empty cc'; Id = ''; Parameter = 'Cc' }
        @{ Name = 'white-space bcc'; Id = '  '; Parameter = 'Bcc' }
    ) {
        $arguments = @{ Connection = $script:Me; Payload = 1; To = 'someone' }
        $arguments[$Parameter] = if ($Parameter -eq 'To') { $Id } else { @('ok', $Id) }
        $caught = { Send-AgentMessage @arguments -ErrorAction Stop } | Should -Throw -ErrorId "ParameterArgumentValidationError,AgentMailbox.PowerShell.Commands.SendAgentMessageCommand" -PassThru
        $caught.Exception.Message | Should -Match "parameter '$Parameter'"
        Assert-NothingSent
    }

    It 'Connect-AgentMailbox refuses an <Name> agent id before registering' -ForEach @(
        @{ Name = 'empty'; Id = '' }
        @{ Name = 'white-space'; Id = '   ' }
    ) {
        { Connect-AgentMailbox $Id -Server $script:Server.Uri -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        Assert-NothingSent
    }

    It 'an agent id with <Name> is sent percent-encoded in paths and round-trips' -ForEach @(
        @{ Name = 'a slash'; Id = 'a/b' }
        @{ Name = 'a percent sign'; Id = '50%' }
        @{ Name = 'a literal %2F'; Id = 'x%2Fy' }
        @{ Name = 'a hash'; Id = 'a#b' }
        @{ Name = 'a question mark'; Id = 'a?b' }
        @{ Name = 'a plus'; Id = 'a+b' }
        @{ Name = 'a space'; Id = 'with space' }
        @{ Name = 'unicode and an emoji'; Id = "ünï$([char]::ConvertFromUtf32(0x1F600))" }
        @{ Name = '2 KB of characters'; Id = 'k' * 2048 }
    ) {
        $id = "$Id-$([Guid]::NewGuid().ToString('N').Substring(0, 6))"
        $them = Connect-AgentMailbox $id -Server $script:Server.Uri -PassThru
        $sent = Send-AgentMessage -Connection $script:Me -To $id -Payload @{ n = 1 }
        $sent.DeliveredTo | Should -Be @($id)
        Clear-MockRequest $script:Server
        $in = @(Get-AgentInbox -Connection $them)
        $in.Count | Should -Be 1
        $in[0].To | Should -BeExactly $id
        $request = @(Get-MockRequest $script:Server)[0]
        $request.path | Should -BeExactly "/mailbox/$([Uri]::EscapeDataString($id))/unread"
        # As ?as= in a query too (+ must not turn into a space).
        Clear-MockRequest $script:Server
        (Get-AgentThreadParticipant -Connection $them -ThreadId $sent.ThreadId).AgentId | Should -Contain $id
        @(Get-MockRequest $script:Server)[0].query | Should -BeExactly "as=$([Uri]::EscapeDataString($id))"
    }
}

Describe 'Payloads' -Tag 'BadInput' {
    BeforeEach { Clear-MockRequest $script:Server }

    It 'a cyclic object graph is a clear InvalidPayload error naming where, not a stack overflow, and nothing is sent' {
        $h = @{ name = 'loop' }; $h.self = $h
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload $h -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -Be 'InvalidPayload,AgentMailbox.PowerShell.Commands.SendAgentMessageCommand'
        $ev[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $ev[0].Exception.Message | Should -Match '\$\.self.*cycle'
        Assert-NothingSent
    }

    It 'a cyclic PSCustomObject graph is refused too' {
        $a = [pscustomobject]@{ name = 'a'; next = $null }
        $b = [pscustomobject]@{ name = 'b'; next = $a }
        $a.next = $b
        Invoke-AgentReplyAll -Connection $script:Me -ThreadId $script:Thread -Payload @{ list = $a } -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'InvalidPayload,*'
        $ev[0].Exception.Message | Should -Match 'cycle'
        Assert-NothingSent
    }

    It 'nesting deeper than 256 is refused with a clear error' {
        $deep = 'leaf'; foreach ($i in 1..300) { $deep = @{ d = $deep } }
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload $deep -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'InvalidPayload,*'
        $ev[0].Exception.Message | Should -Match '256'
        Assert-NothingSent
    }

    It 'a script block inside a value is refused: <Where>' -ForEach @(
        @{ Where = 'in -Payload'; Arguments = @{ Payload = @{ run = { 'no' } } } }
        @{ Where = 'in -ContextSnapshot'; Arguments = @{ Payload = 1; ContextSnapshot = @{ run = { 'no' } } } }
        @{ Where = 'in an array'; Arguments = @{ Payload = @(1, { 2 }) } }
    ) {
        Send-AgentMessage -Connection $script:Me -To $script:Peer @Arguments -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'InvalidPayload,*'
        $ev[0].Exception.Message | Should -Match 'script block'
        Assert-NothingSent
    }

    It 'a -Payload script block is run, and its result is the payload' {
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload { @{ computed = 6 * 7 } } | Out-Null
        (Get-SentBody).payload.computed | Should -Be 42
    }

    It 'NaN and infinity are refused' -ForEach @(@{ Value = [double]::NaN }, @{ Value = [double]::PositiveInfinity }) {
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload @{ x = $Value } -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'InvalidPayload,*'
        Assert-NothingSent
    }

    It '<Name> is sent as <Expected>' -ForEach @(
        @{ Name = 'a DateTime'; Value = [datetime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc); Expected = '2026-01-02T03:04:05.0000000Z' }
        @{ Name = 'a DateTimeOffset'; Value = [DateTimeOffset]::new(2026, 1, 2, 3, 4, 5, [TimeSpan]::FromHours(2)); Expected = '2026-01-02T03:04:05.0000000+02:00' }
        @{ Name = 'an enum'; Value = [System.DayOfWeek]::Friday; Expected = 'Friday' }
        @{ Name = 'a flags enum'; Value = [System.IO.FileAttributes]'ReadOnly, Hidden'; Expected = 'ReadOnly, Hidden' }
        @{ Name = 'a byte array'; Value = [byte[]](0, 1, 2, 250); Expected = 'AAEC+g==' }
        @{ Name = 'a Guid'; Value = [guid]'6f1c2f0e-8d4b-4c43-9a59-0d7c3c7f7a11'; Expected = '6f1c2f0e-8d4b-4c43-9a59-0d7c3c7f7a11' }
        @{ Name = 'a TimeSpan'; Value = [timespan]::FromMinutes(90); Expected = '01:30:00' }
        @{ Name = 'a Version'; Value = [version]'1.2.3'; Expected = '1.2.3' }
    ) {
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload @{ v = $Value } | Out-Null
        (Get-SentBody).payload.v | Should -BeExactly $Expected
    }

    It 'a FileInfo and a DirectoryInfo are sent as their full paths' {
        $file = New-Item -ItemType File -Path (Join-Path $TestDrive 'report.txt') -Force
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload @{ file = $file; dir = (Get-Item $TestDrive) } | Out-Null
        $body = Get-SentBody
        $body.payload.file | Should -BeExactly $file.FullName
        $body.payload.dir | Should -BeExactly (Get-Item $TestDrive).FullName
    }

    It 'a piped FileInfo (Get-ChildItem | Send-AgentMessage -To) sends one message per file, each its path' {
        1..3 | ForEach-Object { New-Item -ItemType File -Path (Join-Path $TestDrive "f$_.log") -Force } | Out-Null
        $results = @(Get-ChildItem $TestDrive -Filter 'f*.log' | Send-AgentMessage -Connection $script:Me -To $script:Peer)
        $results.Count | Should -Be 3
        $bodies = @(Get-MockRequest $script:Server -PathLike '/messages/send' | ForEach-Object { ($_.body | ConvertFrom-Json).payload })
        $bodies | Should -Be @(Get-ChildItem $TestDrive -Filter 'f*.log' | ForEach-Object FullName)
    }

    It 'a PSCustomObject with added note properties sends them all' {
        $o = [pscustomobject]@{ a = 1 }
        $o | Add-Member -NotePropertyName b -NotePropertyValue 'two'
        $o | Add-Member -MemberType ScriptProperty -Name c -Value { 3 }
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload $o | Out-Null
        $p = (Get-SentBody).payload
        $p.a | Should -Be 1; $p.b | Should -Be 'two'; $p.c | Should -Be 3
    }

    It 'a string with an added note property is sent as the string (note properties of primitives are not part of their JSON)' {
        $s = 'text' | Add-Member -NotePropertyName extra -NotePropertyValue 5 -PassThru
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload $s | Out-Null
        (Get-SentBody).payload | Should -BeExactly 'text'
    }

    It 'any other object is sent as an object of its public properties' {
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload ([System.Collections.Generic.KeyValuePair[string, int]]::new('k', 7)) | Out-Null
        $p = (Get-SentBody).payload
        $p.Key | Should -Be 'k'; $p.Value | Should -Be 7
    }

    It 'a payload over the server''s 25 MB limit is refused before sending, with its size in the error' {
        $big = 'x' * (25MB + 10)
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload $big -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'SendMessageFailed,*'
        $ev[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $ev[0].Exception.Message | Should -Match '25\.0 MB.*nothing was sent'
        Assert-NothingSent
    }

    It 'a payload just under the limit is sent' -Tag 'Slow' {
        $body = 'y' * (24MB)
        $r = Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload $body
        $r.MessageId | Should -Not -BeNullOrEmpty
    }
}

Describe 'Context snapshots' -Tag 'BadInput' {
    BeforeEach { Clear-MockRequest $script:Server }

    It '-ContextSnapshot <Name> is refused with InvalidContextSnapshot naming the parameter, and nothing is sent' -ForEach @(
        @{ Name = 'a number'; Value = 5 }
        @{ Name = 'a string'; Value = 'step 1' }
        @{ Name = 'an array'; Value = @(@{ a = 1 }, @{ b = 2 }) }
        @{ Name = 'a DateTime'; Value = [datetime]::UtcNow }
        @{ Name = 'a boolean'; Value = $true }
    ) {
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload 1 -ContextSnapshot $Value -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -Be 'InvalidContextSnapshot,AgentMailbox.PowerShell.Commands.SendAgentMessageCommand'
        $ev[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $ev[0].Exception.Message | Should -Match '-ContextSnapshot must be a hashtable'
        $ev[0].Exception.ParamName | Should -Be 'ContextSnapshot'
        Invoke-AgentReplyAll -Connection $script:Me -ThreadId $script:Thread -Payload 1 -ContextSnapshot $Value -ErrorVariable ev2 -ErrorAction SilentlyContinue
        $ev2[0].Exception.Message | Should -Match '-ContextSnapshot must be a hashtable'
        Assert-NothingSent
    }

    It 'a hashtable, ordered dictionary or PSCustomObject is accepted' -ForEach @(
        @{ Value = @{ step = 1 } }, @{ Value = [ordered]@{ step = 1 } }, @{ Value = [pscustomobject]@{ step = 1 } }
    ) {
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload 1 -ContextSnapshot $Value | Out-Null
        (Get-SentBody).contextSnapshot.step | Should -Be 1
    }
}

Describe 'Server URIs and other parameters' -Tag 'BadInput' {
    BeforeEach { Clear-MockRequest $script:Server }

    It 'Connect-AgentMailbox -Server <Server> is refused naming -Server, before any request' -ForEach @(
        @{ Server = 'relative/path' }
        @{ Server = '/just/a/path' }
        @{ Server = 'ftp://files.example.com' }
        @{ Server = 'file:///tmp/x' }
        @{ Server = 'http://' }
        @{ Server = 'http:///nohost' }
        @{ Server = 'http://localhost:3000/?q=1' }
    ) {
        $err = $null
        try { Connect-AgentMailbox 'someone' -Server $Server -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Match '^(ParameterArgumentValidationError|CannotConvertArgumentNoMessage|ParameterArgumentTransformationError),'
        $err.Exception.Message | Should -Match "parameter 'Server'"
    }

    It 'Test-AgentMailbox -Server ftp://x is refused naming -Server' {
        { Test-AgentMailbox -Server 'ftp://x.example' -ErrorAction Stop } | Should -Throw "*parameter 'Server'*"
    }

    It 'an unusable $env:AGENTSMCP_SERVER is named in the error' {
        $saved = $env:AGENTSMCP_SERVER
        try {
            $env:AGENTSMCP_SERVER = 'ftp://x.example'
            $caught = { Connect-AgentMailbox 'someone' -ErrorAction Stop } | Should -Throw -ErrorId 'ConnectFailed,*' -PassThru
            $caught.Exception.Message | Should -Match 'AGENTSMCP_SERVER'
        }
        finally { $env:AGENTSMCP_SERVER = $saved }
    }

    It '<Command> <Parameter> <Value> is refused by validation' -ForEach @(
        @{ Command = 'Connect-AgentMailbox'; Parameter = 'TimeoutSec'; Value = -1 }
        @{ Command = 'Connect-AgentMailbox'; Parameter = 'MaximumRetryCount'; Value = -1 }
        @{ Command = 'Connect-AgentMailbox'; Parameter = 'RetryIntervalSec'; Value = -5 }
        @{ Command = 'Get-AgentInbox'; Parameter = 'TimeoutSec'; Value = -1 }
        @{ Command = 'Send-AgentMessage'; Parameter = 'TimeoutSec'; Value = -1 }
        @{ Command = 'Test-AgentMailbox'; Parameter = 'TimeoutSec'; Value = 0 }
    ) {
        $arguments = @{ $Parameter = $Value }
        if ($Command -eq 'Connect-AgentMailbox') { $arguments.AgentId = 'x'; $arguments.Server = $script:Server.Uri }
        if ($Command -eq 'Send-AgentMessage') { $arguments.To = 'x'; $arguments.Payload = 1; $arguments.Connection = $script:Me }
        if ($Command -eq 'Get-AgentInbox') { $arguments.Connection = $script:Me }
        { & $Command @arguments -ErrorAction Stop } | Should -Throw "*parameter '$Parameter'*"
        Assert-NothingSent
    }

    It '-Handoff with an unknown key is refused naming -Handoff' {
        Send-AgentMessage -Connection $script:Me -To $script:Peer -Payload 1 -Handoff @{ gaol = 'typo' } -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'InvalidHandoff,*'
        $ev[0].Exception.Message | Should -Match "-Handoff has an unknown key 'gaol'"
        Assert-NothingSent
    }
}
