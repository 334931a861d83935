<#
    The codebase index cmdlets against the mock server: keys from files, script-block summaries and metadata,
    validation before any request, -WhatIf, per-input errors, and incremental indexing counted request by request
    (zero upserts for an unchanged 2,000-file tree; one upsert and one parent rollup for one changed file).
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock

    function script:Connect-Fresh([string] $Name = 'indexer') {
        $script:agent = New-TestAgentId $Name
        $script:enc = [Uri]::EscapeDataString($agent)
        Connect-AgentMailbox $agent -Server $server.Uri -PassThru
    }
    function script:Get-Requests([string] $Method, [string] $Suffix = '/*') {
        @(Get-MockRequest $server "/mailbox/$enc$Suffix" | Where-Object { -not $Method -or $_.method -eq $Method })
    }
    function script:New-Checkpoint([string] $Message = 'indexed') {
        Invoke-RestMethod -Method Post -Uri "$($server.Uri)/mailbox/$enc/git/commit" -ContentType 'application/json' `
            -Body (@{ message = $Message } | ConvertTo-Json)
    }
    function script:Index-Tree([string] $Root, [switch] $Incremental, [switch] $Loud) {
        Get-ChildItem -LiteralPath $Root -Recurse -File |
            Set-AgentIndexEntry -Category file -RelativeTo $Root -Incremental:$Incremental -Verbose:$Loud `
                -Summary { "$($_.Extension.TrimStart('.')) file of $($_.Length) bytes" } `
                -Metadata { @{ name = $_.Name } }
    }
    function script:Rollup-Tree([string] $Root) {
        foreach ($dir in Get-ChildItem -LiteralPath $Root -Directory) {
            Get-ChildItem -LiteralPath $dir.FullName -File | ForEach-Object { "$($dir.Name)/$($_.Name)" } |
                Merge-AgentIndexEntry -ModuleKey $dir.Name | Out-Null
        }
    }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Set-AgentIndexEntry' {
    BeforeEach { Connect-Fresh | Out-Null; Clear-MockRequest $server }

    It 'keys piped files by their path relative to -RelativeTo, with / separators' {
        $root = Join-Path $TestDrive 'rel'
        New-Item -ItemType Directory (Join-Path $root 'src/deep') -Force | Out-Null
        'a' | Set-Content (Join-Path $root 'src/deep/x.cs')
        'b' | Set-Content (Join-Path $root 'top.md')
        $out = Get-ChildItem $root -Recurse -File | Sort-Object FullName |
            Set-AgentIndexEntry -Category file -Summary 'f' -RelativeTo $root -PassThru
        $out.Key | Should -Be @('src/deep/x.cs', 'top.md')
        (Get-AgentIndexEntry 'src/deep/x.cs').Summary | Should -Be 'f'
    }

    It 'keys piped files relative to the current location by default' {
        $root = Join-Path $TestDrive 'cwd'
        New-Item -ItemType Directory (Join-Path $root 'sub') -Force | Out-Null
        'a' | Set-Content (Join-Path $root 'sub/y.ps1')
        Push-Location $root
        try { $out = Get-Item 'sub/y.ps1' | Set-AgentIndexEntry -Category file -Summary 'y' -PassThru }
        finally { Pop-Location }
        $out.Key | Should -Be 'sub/y.ps1'
    }

    It 'runs script-block -Summary and -Metadata per input with $_ bound' {
        $rows = @([pscustomobject]@{ Key = 'k1'; N = 1 }, [pscustomobject]@{ Key = 'k2'; N = 2 })
        $rows | Set-AgentIndexEntry -Category symbol -Summary { "n is $($_.N)" } -Metadata { @{ n = $_.N; twice = 2 * $_.N } }
        $got = Get-AgentIndexEntry k1, k2
        $got.Summary | Should -Be @('n is 1', 'n is 2')
        $got[1].Metadata.twice | Should -Be 4
        $got[0].Metadata.n | Should -Be 1
    }

    It 'keeps the fingerprint out of the metadata it outputs, but stores it on the server' {
        Set-AgentIndexEntry fp config 'summary' -Metadata @{ a = 1 }
        $entry = Get-AgentIndexEntry fp
        @($entry.Metadata.psobject.Properties.Name) | Should -Be @('a')
        $raw = Invoke-RestMethod "$($server.Uri)/mailbox/$enc/index/fp"
        $raw.metadata.agentMailboxFingerprint | Should -Match '^[0-9a-f]{64}$'
    }

    It 'refuses a bad category, an empty summary and non-object metadata before any request' {
        { Set-AgentIndexEntry k nonsense 's' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        Set-AgentIndexEntry k file '' -ErrorVariable e1 -ErrorAction SilentlyContinue
        Set-AgentIndexEntry k file 's' -Metadata 5 -ErrorVariable e2 -ErrorAction SilentlyContinue
        Set-AgentIndexEntry k file 's' -Metadata @(1, 2) -ErrorVariable e3 -ErrorAction SilentlyContinue
        $e1[0].FullyQualifiedErrorId | Should -BeLike 'InvalidIndexEntryInput,*'
        $e1[0].Exception.Message | Should -BeLike '*-Summary*'
        $e2[0].Exception.Message | Should -BeLike '*-Metadata*'
        $e3[0].Exception.Message | Should -BeLike '*-Metadata*'
        $e2[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-Requests | Should -BeNullOrEmpty
    }

    It 'completes the seven categories' {
        $line = 'Set-AgentIndexEntry -Category '
        $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $completions | Should -Be @('api', 'architecture', 'config', 'file', 'module', 'overview', 'symbol')
    }

    It 'sends nothing and runs no script under -WhatIf' {
        $script:ran = 0
        'a', 'b' | ForEach-Object { [pscustomobject]@{ Key = $_ } } |
            Set-AgentIndexEntry -Category file -Summary { $script:ran++; 's' } -WhatIf
        $script:ran | Should -Be 0
        Get-Requests | Should -BeNullOrEmpty
    }

    It 'reports a failed input of a piped batch and still sends the others' {
        Add-MockFault $server -Path "/mailbox/$enc/index" -Method POST -Status 500 -Count 1 | Out-Null
        try {
            $out = 'one', 'two', 'three' | ForEach-Object { [pscustomobject]@{ Key = $_; Category = 'file'; Summary = "s $_" } } |
                Set-AgentIndexEntry -PassThru -ErrorVariable failed -ErrorAction SilentlyContinue
        }
        finally { Clear-MockFault $server }
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'SetIndexEntryFailed,*'
        $failed[0].TargetObject.Key | Should -Be 'one'
        $out.Key | Should -Be @('two', 'three')
        (Get-AgentIndexEntry two, three).Key | Should -Be @('two', 'three')
    }

    It 'reports a directory and an input with no key, per input' {
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive 'adir') -Force
        $dir, [pscustomobject]@{ Other = 1 }, [pscustomobject]@{ Key = 'ok' } |
            Set-AgentIndexEntry -Category file -Summary 's' -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 2
        $failed[0].Exception.Message | Should -BeLike '*is a directory*'
        $failed[1].Exception.Message | Should -BeLike 'No key*'
        (Get-AgentIndexEntry ok).Key | Should -Be 'ok'
    }
}

Describe 'Get-, Search-, Remove- and Merge-AgentIndexEntry' {
    BeforeAll {
        Connect-Fresh reader | Out-Null
        'lib/a.cs', 'lib/b.cs', 'docs/readme.md' | ForEach-Object { [pscustomobject]@{ Key = $_ } } |
            Set-AgentIndexEntry -Category file -Summary { "summary of $($_.Key)" }
    }
    BeforeEach { Clear-MockRequest $server }

    It 'gets keys by value and by property name, in input order, with a non-terminating ObjectNotFound for an unknown key' {
        $got = 'lib/b.cs', 'missing', 'lib/a.cs' | Get-AgentIndexEntry -ErrorVariable failed -ErrorAction SilentlyContinue
        $got.Key | Should -Be @('lib/b.cs', 'lib/a.cs')
        $failed.Count | Should -Be 1
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'IndexEntryNotFound,*'
        $failed[0].TargetObject | Should -Be 'missing'
        $failed[0].ErrorDetails.RecommendedAction | Should -BeLike '*Search-AgentIndex*'
        ($got | Get-AgentIndexEntry).Key | Should -Be @('lib/b.cs', 'lib/a.cs')
    }

    It 'searches by substring and category, with -First sent as the limit' {
        $found = @(Search-AgentIndex 'lib/' -Category file -First 5)
        ($found.Key | Sort-Object) | Should -Be @('lib/a.cs', 'lib/b.cs')
        (Get-Requests GET '/index')[0].query | Should -BeLike '*limit=5*'
        @(Search-AgentIndex 'lib/' -Category module).Count | Should -Be 0
    }

    It 'refuses -First out of range and a bad category before any request' {
        { Search-AgentIndex x -First 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Search-AgentIndex x -First 201 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Search-AgentIndex x -Category nope -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        Get-Requests | Should -BeNullOrEmpty
    }

    It 'rolls up all piped keys in one request and outputs the module entry read back' {
        $module = Search-AgentIndex 'lib/' | Sort-Object Key | Merge-AgentIndexEntry -ModuleKey lib
        $module | Should -BeOfType ([AgentMailbox.IndexEntry])
        $module.Key | Should -Be 'lib'
        $module.Category | Should -Be 'module'
        $module.Summary | Should -Be "[lib/a.cs] summary of lib/a.cs`n[lib/b.cs] summary of lib/b.cs"
        (Get-Requests POST '/index/rollup').Count | Should -Be 1
        ((Get-Requests POST '/index/rollup')[0].body | ConvertFrom-Json).fileKeys | Should -Be @('lib/a.cs', 'lib/b.cs')
        (Get-AgentIndexEntry lib/a.cs).ParentKey | Should -Be 'lib'
    }

    It 'refuses more than 500 keys before any request' {
        1..501 | ForEach-Object { "k$_" } | Merge-AgentIndexEntry -ModuleKey big -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'InvalidRollupKeys,*'
        $failed[0].Exception.Message | Should -BeLike '*1 to 500*501*'
        Get-Requests | Should -BeNullOrEmpty
    }

    It 'sends nothing under -WhatIf' {
        'lib/a.cs' | Merge-AgentIndexEntry -ModuleKey x -WhatIf
        'lib/a.cs' | Remove-AgentIndexEntry -WhatIf
        Get-Requests | Should -BeNullOrEmpty
    }

    It 'removes keys and reports an unknown one as ObjectNotFound, going on with the next' {
        Set-AgentIndexEntry gone1 file 's'; Set-AgentIndexEntry gone2 file 's'
        'gone1', 'never', 'gone2' | Remove-AgentIndexEntry -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        $failed[0].TargetObject | Should -Be 'never'
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Get-AgentIndexEntry gone1, gone2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Incremental indexing of a 2,000-file tree' {
    BeforeAll {
        $script:tree = Join-Path $TestDrive 'tree'
        foreach ($d in 1..20) {
            $dir = New-Item -ItemType Directory (Join-Path $tree ('d{0:00}' -f $d)) -Force
            foreach ($f in 1..100) { [IO.File]::WriteAllText((Join-Path $dir.FullName ('f{0:000}.txt' -f $f)), "file $d/$f") }
        }
        Connect-Fresh tree | Out-Null
        Index-Tree $tree
        Rollup-Tree $tree
        New-Checkpoint | Out-Null
    }
    BeforeEach { Clear-MockRequest $server }

    It 'sends no upsert and no rollup for an unchanged tree: three reads in all' {
        Index-Tree $tree -Incremental
        $requests = Get-Requests
        (Get-Requests POST '/index').Count | Should -Be 0
        (Get-Requests POST '/index/rollup').Count | Should -Be 0
        $requests.Count | Should -Be 3
        $requests[0].path | Should -Be "/mailbox/$enc/git/log"
        $requests[0].query | Should -Be 'limit=1'
        $requests[1].path | Should -BeLike "/mailbox/$enc/git/commits/*"
        $requests[2].path | Should -Be "/mailbox/$enc/git/diff"
        Get-MockRequest $server '*check-staleness*' | Should -BeNullOrEmpty
    }

    It 'sends one upsert and rolls its directory up again for one changed file, keeping its parent link' {
        [IO.File]::WriteAllText((Join-Path $tree 'd07/f042.txt'), 'changed content, longer')
        $verbose = Index-Tree $tree -Incremental -Loud 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $upserts = Get-Requests POST '/index'
        $upserts.Count | Should -Be 1
        ($upserts[0].body | ConvertFrom-Json).key | Should -Be 'd07/f042.txt'
        $rollups = Get-Requests POST '/index/rollup'
        $rollups.Count | Should -Be 1
        $rollup = $rollups[0].body | ConvertFrom-Json
        $rollup.moduleKey | Should -Be 'd07'
        $rollup.fileKeys.Count | Should -Be 100
        (Get-Requests).Count | Should -Be 5
        $changed = Get-AgentIndexEntry 'd07/f042.txt'
        $changed.ParentKey | Should -Be 'd07'
        $changed.Summary | Should -Be 'txt file of 23 bytes'
        (Get-AgentIndexEntry d07).Summary | Should -BeLike '*`[d07/f042.txt`] txt file of 23 bytes*'
        (Get-AgentIndexEntry 'd07/f041.txt').ParentKey | Should -Be 'd07'
        $verbose.Message | Should -Contain 'Incremental index: 2000 input(s), 1 sent, 1999 unchanged and not sent, 1 parent rollup(s) made again.'
    }

    It 'reads back only what changed since the checkpoint, then sends nothing' {
        # After the previous test the live state differs from the checkpoint by the file and its directory.
        Index-Tree $tree -Incremental
        (Get-Requests POST).Count | Should -Be 0
        (Get-Requests GET '/index/*').Count | Should -Be 2
        (Get-Requests).Count | Should -Be 5
    }
}

Describe 'Incremental indexing without a suitable checkpoint' {
    BeforeAll {
        $script:small = Join-Path $TestDrive 'small'
        foreach ($d in 'a', 'b') {
            New-Item -ItemType Directory (Join-Path $small $d) -Force | Out-Null
            foreach ($f in 1..3) { [IO.File]::WriteAllText((Join-Path $small "$d/$f.txt"), "$d $f") }
        }
    }

    It 'reads each key once when there is no checkpoint, sends nothing unchanged, and keeps the parent of a changed file' {
        Connect-Fresh nocheckpoint | Out-Null
        Index-Tree $small
        Rollup-Tree $small
        Clear-MockRequest $server
        Index-Tree $small -Incremental
        (Get-Requests POST).Count | Should -Be 0
        (Get-Requests GET '/index/*').Count | Should -Be 6
        (Get-Requests).Count | Should -Be 7   # git/log, then one GET per key
        [IO.File]::WriteAllText((Join-Path $small 'b/2.txt'), 'b 2 changed')
        Clear-MockRequest $server
        Index-Tree $small -Incremental
        (Get-Requests POST '/index').Count | Should -Be 1
        $rollups = Get-Requests POST '/index/rollup'
        $rollups.Count | Should -Be 1
        ($rollups[0].body | ConvertFrom-Json).fileKeys | Should -Be @('b/1.txt', 'b/2.txt', 'b/3.txt')
        (Get-AgentIndexEntry 'b/2.txt').ParentKey | Should -Be 'b'
    }

    It 'finds the children of a rollup made after the newest checkpoint from its live summary' {
        Connect-Fresh latecheckpoint | Out-Null
        Index-Tree $small
        New-Checkpoint 'before the rollup' | Out-Null
        Rollup-Tree $small
        [IO.File]::WriteAllText((Join-Path $small 'a/3.txt'), 'a 3 changed again')
        Clear-MockRequest $server
        Index-Tree $small -Incremental
        (Get-Requests POST '/index').Count | Should -Be 1
        ((Get-Requests POST '/index/rollup')[0].body | ConvertFrom-Json).fileKeys | Should -Be @('a/1.txt', 'a/2.txt', 'a/3.txt')
        (Get-AgentIndexEntry 'a/3.txt').ParentKey | Should -Be 'a'
        (Get-AgentIndexEntry 'a/1.txt').ParentKey | Should -Be 'a'
    }

    It 'sends an entry again when its category changes, even with the same summary and metadata' {
        Connect-Fresh category | Out-Null
        Set-AgentIndexEntry same file 'same summary'
        Clear-MockRequest $server
        Set-AgentIndexEntry same file 'same summary' -Incremental
        (Get-Requests POST).Count | Should -Be 0
        Set-AgentIndexEntry same config 'same summary' -Incremental
        (Get-Requests POST).Count | Should -Be 1
        (Get-AgentIndexEntry same).Category | Should -Be 'config'
    }
}
