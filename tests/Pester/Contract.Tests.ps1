<#
    The contract suite: scenario-level behaviour checked against both the reference server (npm agentsmcp@0.5.2,
    fresh SQLite file) and the module's mock server. One suite, two targets: the mock is proven faithful by passing
    the same tests. Every test uses fresh agent ids, so the targets need no reset between tests.
#>
BeforeDiscovery {
    $targets = @(@{ Kind = 'Mock' }, @{ Kind = 'Reference' })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
}

Describe 'Contract against the <Kind> server' -ForEach $targets {
    BeforeAll {
        $script:server = Start-AgentMailboxServer -Kind $Kind
        $script:uri = $server.Uri
    }
    AfterAll {
        Disconnect-AgentMailbox -ErrorAction SilentlyContinue
        $server | Stop-AgentMailboxServer
    }

    Context 'the multi-agent scenario' {
        BeforeAll {
            $script:orchestrator = New-TestAgentId orchestrator
            $script:researcher = New-TestAgentId researcher
            $script:writer = New-TestAgentId writer
            $script:logger = New-TestAgentId logger

            $script:orch = Connect-AgentMailbox $orchestrator -Server $uri -PassThru
            $script:sent = Send-AgentMessage -Connection $orch -To $researcher -Cc $writer -Bcc $logger `
                -Payload @{ task = 'find 50 papers on diffusion models' } `
                -ContextSnapshot @{ step = 'task_dispatched'; priority = 'high' }

            $script:res = Connect-AgentMailbox $researcher -Server $uri -PassThru
            $script:in = @(Get-AgentInbox)
            $script:reply = $in | Invoke-AgentReplyAll -Payload @{ result = 'found 50 papers' } `
                -ContextSnapshot @{ step = 'research_complete'; paper_count = 50 }
            $script:writerConnection = Connect-AgentMailbox $writer -Server $uri -PassThru
            $script:loggerConnection = Connect-AgentMailbox $logger -Server $uri -PassThru
        }

        It 'registers a new agent as Created and an existing one as not' {
            $orch.Created | Should -BeTrue
            $again = Connect-AgentMailbox $orchestrator -Server $uri -PassThru
            $again.Created | Should -BeFalse
            $again.AgentId | Should -Be $orchestrator
            Disconnect-AgentMailbox -Connection $again
        }

        It 'delivers to to, cc and bcc, in that order' {
            $sent | Should -BeOfType ([AgentMailbox.SendResult])
            $sent.DeliveredTo | Should -Be @($researcher, $writer, $logger)
            $sent.ThreadId | Should -Match '^[0-9a-f-]{36}$'
        }

        It 'gives the recipient the message with its context snapshot' {
            $in.Count | Should -Be 1
            $in[0] | Should -BeOfType ([AgentMailbox.InboxMessage])
            $in[0].Id | Should -Be $sent.MessageId
            $in[0].From | Should -Be $orchestrator
            $in[0].To | Should -Be $researcher
            $in[0].Payload.task | Should -Be 'find 50 papers on diffusion models'
            $in[0].Context.Snapshot.step | Should -Be 'task_dispatched'
            $in[0].Context.Snapshot.priority | Should -Be 'high'
        }

        It 'shows cc and strips bcc from a non-sender''s view' {
            $in[0].Cc | Should -Be @($writer)
            , $in[0].Bcc | Should -BeOfType ([string[]])
            $in[0].Bcc.Count | Should -Be 0
        }

        It 'lets the bcc recipient read the message without revealing the bcc list' {
            $seen = @(Get-AgentInbox -Connection $loggerConnection)
            $seen.Count | Should -Be 1
            $seen[0].Id | Should -Be $sent.MessageId
            $seen[0].Bcc.Count | Should -Be 0
            $seen[0].To | Should -Not -Be $logger
            $seen[0].Cc | Should -Not -Contain $logger
        }

        It 'replies to every visible participant but the sender, bcc excluded' {
            $reply | Should -BeOfType ([AgentMailbox.SendResult])
            $reply.ThreadId | Should -Be $sent.ThreadId
            ($reply.DeliveredTo | Sort-Object) | Should -Be (@($orchestrator, $writer) | Sort-Object)
        }

        It 'leaves the reply unread for the orchestrator and the writer, not the logger' {
            $forOrchestrator = @(Get-AgentInbox -Connection $orch | Where-Object Id -eq $reply.MessageId)
            $forOrchestrator.Count | Should -Be 1
            $forOrchestrator[0].Context.Snapshot.step | Should -Be 'research_complete'
            $forOrchestrator[0].Context.Snapshot.paper_count | Should -Be 50
            $forOrchestrator[0].Payload.result | Should -Be 'found 50 papers'
            @(Get-AgentInbox -Connection $writerConnection | Where-Object Id -eq $reply.MessageId).Count | Should -Be 1
            @(Get-AgentInbox -Connection $loggerConnection | Where-Object Id -eq $reply.MessageId).Count | Should -Be 0
        }

        It 'marks nothing read when the inbox is read, nor when the agent replies' {
            @(Get-AgentInbox -Connection $res).Id | Should -Contain $sent.MessageId
        }

        It 'filters the inbox by sender and thread' {
            @(Get-AgentInbox -Connection $writerConnection -From $researcher).Id | Should -Be @($reply.MessageId)
            @(Get-AgentInbox -Connection $writerConnection -From (New-TestAgentId nobody)).Count | Should -Be 0
            @(Get-AgentInbox -Connection $writerConnection -ThreadId $sent.ThreadId).Count | Should -Be 2
        }

        It 'carries -Recent through to the context window' {
            $one = @(Get-AgentInbox -Connection $writerConnection -Recent 1)
            $one[0].Context.RecentMessages.Count | Should -Be 1
            $two = @(Get-AgentInbox -Connection $writerConnection -Recent 2)
            $two[0].Context.RecentMessages.Count | Should -Be 2
            $two[0].Context.RecentMessages[1] | Should -BeOfType ([AgentMailbox.Message])
        }
    }

    Context 'threads and addressing' {
        It 'reuses the thread of the same participant set, whoever sends' {
            $a = New-TestAgentId a; $b = New-TestAgentId b
            $ca = Connect-AgentMailbox $a -Server $uri -PassThru
            $cb = Connect-AgentMailbox $b -Server $uri -PassThru
            $first = Send-AgentMessage -Connection $ca -To $b -Payload 'one'
            $second = Send-AgentMessage -Connection $cb -To $a -Payload 'two'
            $second.ThreadId | Should -Be $first.ThreadId
        }

        It 'posts into a given thread with -ThreadId and keeps -ReplyTo' {
            $a = New-TestAgentId a; $b = New-TestAgentId b; $c = New-TestAgentId c
            $ca = Connect-AgentMailbox $a -Server $uri -PassThru
            $first = Send-AgentMessage -Connection $ca -To $b -Payload 'one'
            $into = Send-AgentMessage -Connection $ca -To $c -ThreadId $first.ThreadId -ReplyTo "$a-inbox" -Payload 'two'
            $into.ThreadId | Should -Be $first.ThreadId
            $cc = Connect-AgentMailbox $c -Server $uri -PassThru
            $got = @(Get-AgentInbox -Connection $cc)
            $got.Count | Should -Be 1
            $got[0].ReplyTo | Should -Be "$a-inbox"
        }

        It 'makes a self-send unread for no one' {
            $a = New-TestAgentId self
            $ca = Connect-AgentMailbox $a -Server $uri -PassThru
            $result = Send-AgentMessage -Connection $ca -To $a -Payload 'note to self'
            $result.DeliveredTo.Count | Should -Be 0
            @(Get-AgentInbox -Connection $ca).Count | Should -Be 0
        }

        It 'round-trips agent ids holding <_>' -ForEach @('with space', 'a/b', '50%', 'q?x#y', 'a+b', 'ünï😀', 'me@x.com', '..', 'pre%2Fpost') {
            $odd = "$(New-TestAgentId odd)-$_"
            $a = New-TestAgentId a
            $ca = Connect-AgentMailbox $a -Server $uri -PassThru
            $sent = Send-AgentMessage -Connection $ca -To $odd -Payload @{ for = $odd }
            $sent.DeliveredTo | Should -Be @($odd)
            $codd = Connect-AgentMailbox $odd -Server $uri -PassThru
            $codd.AgentId | Should -Be $odd
            $got = @(Get-AgentInbox -Connection $codd)
            $got.Count | Should -Be 1
            $got[0].Payload.for | Should -Be $odd
            $got[0].To | Should -Be $odd
        }
    }

    Context 'payloads and snapshots' {
        BeforeAll {
            $script:sender = Connect-AgentMailbox (New-TestAgentId sender) -Server $uri -PassThru
            $script:receiverId = New-TestAgentId receiver
            $script:receiver = Connect-AgentMailbox $receiverId -Server $uri -PassThru
            function Send-AndRead($Payload, $Snapshot) {
                $sent = if ($null -ne $Snapshot) {
                    Send-AgentMessage -Connection $sender -To $receiverId -Payload $Payload -ContextSnapshot $Snapshot
                } else {
                    Send-AgentMessage -Connection $sender -To $receiverId -Payload $Payload
                }
                Get-AgentInbox -Connection $receiver | Where-Object Id -eq $sent.MessageId
            }
        }

        It 'keeps numbers as numbers, booleans, $null, arrays and unicode' {
            $got = Send-AndRead ([ordered]@{ int = 42; big = 9007199254740991; neg = -7; real = 2.5; yes = $true; no = $false; nothing = $null; list = @(1, 'two', @(3)); text = 'ünï 😀 "q"' }) $null
            $got.Payload.int | Should -Be 42
            $got.Payload.int | Should -BeOfType ([int])
            $got.Payload.big | Should -Be 9007199254740991
            $got.Payload.neg | Should -Be -7
            $got.Payload.real | Should -Be 2.5
            $got.Payload.yes | Should -BeTrue
            $got.Payload.no | Should -BeFalse
            $got.Payload.nothing | Should -BeNullOrEmpty
            $got.Payload.PSObject.Properties.Name | Should -Contain 'nothing'
            $got.Payload.list[0] | Should -Be 1
            $got.Payload.list[1] | Should -Be 'two'
            $got.Payload.list[2][0] | Should -Be 3
            $got.Payload.text | Should -Be 'ünï 😀 "q"'
        }

        It 'keeps the order of an ordered dictionary and of a PSCustomObject' {
            $got = Send-AndRead ([ordered]@{ z = 1; a = 2; m = 3 }) ([pscustomobject]@{ y = 1; b = 2 })
            $got.Payload.PSObject.Properties.Name | Should -Be @('z', 'a', 'm')
            $got.Context.Snapshot.PSObject.Properties.Name | Should -Be @('y', 'b')
        }

        It 'sends nested PSCustomObjects, and a received payload can be sent on as it is' {
            $got = Send-AndRead ([pscustomobject]@{ a = [pscustomobject]@{ b = 1; c = @([pscustomobject]@{ d = 'x' }) } }) $null
            $got.Payload.a.b | Should -Be 1
            $got.Payload.a.c[0].d | Should -Be 'x'
            $again = Send-AndRead $got.Payload $got.Context.Snapshot
            $again.Payload.a.c[0].d | Should -Be 'x'
        }

        It 'keeps objects whose names a PSCustomObject cannot hold (empty, or differing only in case)' {
            $body = '{"from":"' + $sender.AgentId + '","to":"' + $receiverId + '","payload":{"":0,"a":1,"A":2,"n":{"x":1,"x":2}}}'
            $sent = Invoke-RestMethod -Method Post -Uri "$uri/messages/send" -ContentType 'application/json' -Body $body
            $got = Get-AgentInbox -Connection $receiver | Where-Object Id -eq $sent.messageId
            $got.Payload | Should -BeOfType ([System.Collections.Specialized.OrderedDictionary])
            @($got.Payload.Keys) | Should -Be @('', 'a', 'A', 'n')
            $got.Payload[''] | Should -Be 0
            $got.Payload['a'] | Should -Be 1
            $got.Payload['A'] | Should -Be 2
            $got.Payload['n'].x | Should -Be 2
        }

        It 'keeps objects whose names PowerShell reserves for its own members (PSObject, PSBase, PSTypeNames...)' {
            $body = '{"from":"' + $sender.AgentId + '","to":"' + $receiverId + '","payload":{"PSObject":1,"n":{"psbase":{"PSTypeNames":2},"PSAdapted":3,"psextended":4},"ok":5}}'
            $sent = Invoke-RestMethod -Method Post -Uri "$uri/messages/send" -ContentType 'application/json' -Body $body
            $got = Get-AgentInbox -Connection $receiver -ErrorVariable failures | Where-Object Id -eq $sent.messageId
            $failures | Should -BeNullOrEmpty
            $got.Payload | Should -BeOfType ([System.Collections.Specialized.OrderedDictionary])
            @($got.Payload.Keys) | Should -Be @('PSObject', 'n', 'ok')
            $got.Payload['PSObject'] | Should -Be 1
            $got.Payload.ok | Should -Be 5
            @($got.Payload['n'].Keys) | Should -Be @('psbase', 'PSAdapted', 'psextended')
            $got.Payload['n']['psbase']['PSTypeNames'] | Should -Be 2
            # Sent on as it is, it keeps every name.
            $again = Send-AndRead $got.Payload $null
            $again.Payload['n']['psextended'] | Should -Be 4
        }

        It 'round-trips a <Kind> nested 256 levels deep (the README''s promise), as payload and inside the snapshot' -ForEach @(
            @{ Kind = 'hashtable' }, @{ Kind = 'ordered' }, @{ Kind = 'pscustomobject' }, @{ Kind = 'array' }
        ) {
            # 256 containers, one inside the other; the innermost holds the string 'bottom'.
            $deep = 'bottom'
            for ($i = 0; $i -lt 256; $i++) {
                $deep = switch ($Kind) {
                    'hashtable' { @{ next = $deep } }
                    'ordered' { [ordered]@{ next = $deep } }
                    'pscustomobject' { [pscustomobject]@{ next = $deep } }
                    'array' { $a = [object[]]::new(1); $a[0] = $deep; , $a }
                }
            }
            # A snapshot must be an object: one that holds the 255 levels below the top.
            $snapshot = if ($Kind -eq 'array') { @{ next = $deep[0] } } else { $deep }
            $got = Send-AndRead $deep $snapshot
            $got | Should -Not -BeNullOrEmpty
            foreach ($value in $got.Payload, $got.Context.Snapshot) {
                $node = $value
                $levels = 0
                while ($true) {
                    if ($node -is [object[]]) { $node = $node[0] }
                    elseif ($node -is [System.Management.Automation.PSCustomObject]) { $node = $node.next }
                    else { break }
                    $levels++
                }
                $levels | Should -Be 256
                $node | Should -BeExactly 'bottom'
            }
        }

        It 'sends strings, numbers, arrays and $null as whole payloads' -ForEach @(
            @{ Value = 'plain text' }, @{ Value = 12 }, @{ Value = $null }
        ) {
            $got = Send-AndRead $Value $null
            $got.Payload | Should -Be $Value
        }

        It 'sends an array payload as an array' {
            $got = Send-AndRead @(1, 2, 3) $null
            $got.Payload | Should -Be @(1, 2, 3)
        }

        It 'replaces the snapshot with a handoff packet when -Handoff is given' {
            $sent = Send-AgentMessage -Connection $sender -To $receiverId -Payload @{ task = 'parse' } `
                -ContextSnapshot @{ repo = 'x'; _private = 'hidden' } -Handoff @{ goal = 'build the parser'; nextAction = 'review PR' }
            $got = Get-AgentInbox -Connection $receiver | Where-Object Id -eq $sent.MessageId
            $got.Context.Snapshot.version | Should -Be 1
            $got.Context.Snapshot.goal | Should -Be 'build the parser'
            $got.Context.Snapshot.nextAction | Should -Be 'review PR'
            $got.Context.Snapshot.context.repo | Should -Be 'x'
            $got.Context.Snapshot.context.PSObject.Properties.Name | Should -Not -Contain '_private'
            $got.Context.Snapshot.sourceThreadId | Should -Be $sent.ThreadId
        }
    }

    Context 'threads, participants and read state' {
        BeforeAll {
            $script:aId = New-TestAgentId a; $script:bId = New-TestAgentId b; $script:cId = New-TestAgentId c
            $script:dId = New-TestAgentId d; $script:eId = New-TestAgentId e
            $script:ca = Connect-AgentMailbox $aId -Server $uri -PassThru
            $script:cb = Connect-AgentMailbox $bId -Server $uri -PassThru
            $script:cd = Connect-AgentMailbox $dId -Server $uri -PassThru
            $script:msg = Send-AgentMessage -Connection $ca -To $bId -Cc $cId -Bcc $dId, $eId -Payload 'p' -ContextSnapshot @{ step = 1 }
        }

        It 'shows a thread''s silent participants to a bcc recipient but not to a visible one' {
            $asB = Get-AgentThread -Connection $cb -ThreadId $msg.ThreadId
            ($asB.Participants | Sort-Object) | Should -Be (@($aId, $bId, $cId) | Sort-Object)
            $asB.SilentParticipants.Count | Should -Be 0
            $asB.Messages[0].Bcc.Count | Should -Be 0
            $asD = Get-AgentThread -Connection $cd -ThreadId $msg.ThreadId
            ($asD.SilentParticipants | Sort-Object) | Should -Be (@($dId, $eId) | Sort-Object)
            $asD.Messages[0].Bcc.Count | Should -Be 0
        }

        It 'shows the sender its own bcc on the message, not in silentParticipants' {
            $asA = Get-AgentThread -Connection $ca -ThreadId $msg.ThreadId
            $asA.Messages[0].Bcc | Should -Be @($dId, $eId)
            $asA.SilentParticipants.Count | Should -Be 0
        }

        It 'lists the thread in each participant''s mailbox' {
            (Get-AgentThread -Connection $cd).Id | Should -Contain $msg.ThreadId
            (Get-AgentThread -Connection $cb).Id | Should -Contain $msg.ThreadId
        }

        It 'gives roles by requester: bcc only for agents the requester bcc''d, and itself' {
            $asA = @(Get-AgentThreadParticipant -Connection $ca -ThreadId $msg.ThreadId)
            ($asA | Where-Object AgentId -eq $aId).Role | Should -Be 'To'
            ($asA | Where-Object AgentId -eq $bId).Role | Should -Be 'To'
            ($asA | Where-Object AgentId -eq $cId).Role | Should -Be 'Cc'
            ($asA | Where-Object AgentId -eq $dId).Role | Should -Be 'Bcc'
            $asB = @(Get-AgentThreadParticipant -Connection $cb -ThreadId $msg.ThreadId)
            $asB.AgentId | Should -Not -Contain $dId
            $asD = @(Get-AgentThreadParticipant -Connection $cd -ThreadId $msg.ThreadId)
            ($asD | Where-Object AgentId -eq $dId).Role | Should -Be 'Bcc'
            $asD.AgentId | Should -Not -Contain $eId
        }

        It 'syncs the thread context: latest snapshot, recent messages, token count' {
            $context = Get-AgentThreadContext -Connection $cb -ThreadId $msg.ThreadId
            $context.Snapshot.step | Should -Be 1
            $context.RecentMessages.Count | Should -Be 1
            $context.ThreadSummary | Should -Be ''
            $context.TokenCount | Should -Be 1
        }

        It 'marks a thread read with Set-AgentThreadRead' {
            $x = New-TestAgentId x
            $cx = Connect-AgentMailbox $x -Server $uri -PassThru
            $m = Send-AgentMessage -Connection $ca -To $x -Payload 'read me'
            @(Get-AgentInbox -Connection $cx).Count | Should -Be 1
            $m | Set-AgentThreadRead -Connection $cx
            @(Get-AgentInbox -Connection $cx).Count | Should -Be 0
        }

        It 'consumes the inbox with Receive-AgentMessage' {
            $x = New-TestAgentId x
            $cx = Connect-AgentMailbox $x -Server $uri -PassThru
            $sent = 1..3 | ForEach-Object { Send-AgentMessage -Connection $ca -To $x -Payload $_ }
            $got = @(Receive-AgentMessage -Connection $cx)
            $got.Id | Should -Be $sent.MessageId
            @(Get-AgentInbox -Connection $cx).Count | Should -Be 0
            @(Receive-AgentMessage -Connection $cx).Count | Should -Be 0
        }

        It 'keeps a thread unread when Receive-AgentMessage -From leaves part of it' {
            $x = New-TestAgentId x; $y = New-TestAgentId y
            $cx = Connect-AgentMailbox $x -Server $uri -PassThru
            $cy = Connect-AgentMailbox $y -Server $uri -PassThru
            $t = Send-AgentMessage -Connection $ca -To $x -Cc $y -Payload 'from a'
            Send-AgentMessage -Connection $cy -To $x -ThreadId $t.ThreadId -Payload 'from y' | Out-Null
            @(Receive-AgentMessage -Connection $cx -From $aId).Payload | Should -Be @('from a')
            @(Get-AgentInbox -Connection $cx).Payload | Should -Be @('from a', 'from y')
        }

        It 'returns from Wait-AgentMessage when another runspace sends, and times out otherwise' {
            $x = New-TestAgentId x
            $cx = Connect-AgentMailbox $x -Server $uri -PassThru
            Wait-AgentMessage -Connection $cx -TimeoutSec 1 -PollIntervalSec 0.2 -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $job = Start-ThreadJob -ScriptBlock {
                param($module, $server, $from, $to)
                Import-Module $module
                Start-Sleep -Milliseconds 1000
                Send-AgentMessage -Connection (Connect-AgentMailbox $from -Server $server -PassThru) -To $to -Payload 'wake up'
            } -ArgumentList (Get-BuiltModulePath), $uri, $aId, $x
            try { @(Wait-AgentMessage -Connection $cx -TimeoutSec 30 -PollIntervalSec 0.5).Payload | Should -Be @('wake up') }
            finally { $job | Wait-Job | Remove-Job -Force }
        }
    }

    Context 'errors' {
        It 'reports a missing thread on reply-all as ObjectNotFound and goes on with the next input' {
            $a = New-TestAgentId a; $b = New-TestAgentId b
            $ca = Connect-AgentMailbox $a -Server $uri -PassThru
            $good = Send-AgentMessage -Connection $ca -To $b -Payload 'hello'
            $missing = [guid]::NewGuid().ToString()
            $results = @([pscustomobject]@{ ThreadId = $missing }, $good) |
                Invoke-AgentReplyAll -Connection $ca -Payload 'reply' -ErrorVariable failures -ErrorAction SilentlyContinue
            @($results).Count | Should -Be 1
            $results.ThreadId | Should -Be $good.ThreadId
            $failures.Count | Should -Be 1
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].FullyQualifiedErrorId | Should -Be 'ThreadNotFound,AgentMailbox.PowerShell.Commands.InvokeAgentReplyAllCommand'
            $failures[0].TargetObject | Should -Be $missing
            $failures[0].Exception | Should -BeOfType ([AgentMailbox.AgentMailboxNotFoundException])
            $failures[0].Exception.Message | Should -Match 'thread not found'
            $failures[0].Exception.Message | Should -Match $failures[0].Exception.RequestId
        }

        It 'reports a send into a missing thread as ObjectNotFound' {
            $ca = Connect-AgentMailbox (New-TestAgentId a) -Server $uri -PassThru
            $missing = [guid]::NewGuid().ToString()
            Send-AgentMessage -Connection $ca -To (New-TestAgentId b) -ThreadId $missing -Payload 'x' -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures.Count | Should -Be 1
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Match "thread $missing not found"
        }

        It 'reports a reply-all in a self-thread with the server''s message' {
            $a = New-TestAgentId a
            $ca = Connect-AgentMailbox $a -Server $uri -PassThru
            $self = Send-AgentMessage -Connection $ca -To $a -Payload 'self'
            Invoke-AgentReplyAll -Connection $ca -ThreadId $self.ThreadId -Payload 'x' -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures.Count | Should -Be 1
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failures[0].Exception.Message | Should -Match 'no other visible participants'
        }
    }
}
