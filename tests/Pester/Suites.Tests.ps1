<#
    Rules the test suites keep: no assertion inside a catch block (it passes when nothing is thrown; use
    Should -Throw / Assert.Throws, or fail explicitly when nothing was thrown).
#>
BeforeDiscovery {
    $root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $pesterFiles = @(Get-ChildItem (Join-Path $root 'tests/Pester') -Filter '*.ps1' | ForEach-Object { @{ File = $_.FullName; Name = $_.Name } })
    $xunitFiles = @(Get-ChildItem (Join-Path $root 'tests/AgentMailbox.Tests') -Filter '*.cs' | ForEach-Object { @{ File = $_.FullName; Name = $_.Name } })
}

Describe 'No assertion inside a catch block' {
    It 'Pester: <Name>' -ForEach $pesterFiles {
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($File, [ref] $tokens, [ref] $errors)
        $errors | Should -BeNullOrEmpty
        $found = foreach ($try in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.TryStatementAst] }, $true)) {
            foreach ($clause in $try.CatchClauses) {
                $clause.Body.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] -and $n.GetCommandName() -eq 'Should' }, $true) |
                    ForEach-Object { "line $($_.Extent.StartLineNumber): $($_.Extent.Text)" }
            }
        }
        $found | Should -BeNullOrEmpty
    }

    It 'xunit: <Name>' -ForEach $xunitFiles {
        $text = Get-Content -Raw $File
        $found = foreach ($match in [regex]::Matches($text, '\bcatch\b[^{;]*\{')) {
            # The catch block's body, up to its matching brace.
            $depth = 1; $i = $match.Index + $match.Length
            while ($i -lt $text.Length -and $depth -gt 0) {
                if ($text[$i] -eq '{') { $depth++ } elseif ($text[$i] -eq '}') { $depth-- }
                $i++
            }
            $body = $text.Substring($match.Index, $i - $match.Index)
            if ($body -match '\bAssert\.') { "offset $($match.Index): $($body.Split("`n")[0])" }
        }
        $found | Should -BeNullOrEmpty
    }

    It 'the check itself finds an assertion in a catch block' {
        $probe = Join-Path $TestDrive 'probe.Tests.ps1'
        Set-Content $probe "try { throw 'x' } catch { `$_ | Should -Not -BeNullOrEmpty }"
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($probe, [ref] $tokens, [ref] $errors)
        $clauses = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.TryStatementAst] }, $true).CatchClauses)
        @($clauses.Body.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] -and $n.GetCommandName() -eq 'Should' }, $true)).Count | Should -Be 1
    }
}
