<#
    The table views' one-line payload summary ([AgentMailbox.PowerShell.Display]::Summary): what it shows, and that it
    stops converting a payload once it has enough for the column.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
}

Describe 'The payload summary of the table views' {
    It 'shows <Name> as <Expected>' -ForEach @(
        @{ Name = 'null'; Value = $null; Expected = '' }
        @{ Name = 'a string'; Value = 'plain text'; Expected = 'plain text' }
        @{ Name = 'a hashtable'; Value = [ordered]@{ task = 'draft'; n = 1 }; Expected = '{"task":"draft","n":1}' }
        @{ Name = 'a PSCustomObject'; Value = [pscustomobject]@{ a = 'ü'; b = @(1, 2) }; Expected = '{"a":"ü","b":[1,2]}' }
        @{ Name = 'text over two lines'; Value = "one`ntwo"; Expected = 'one two' }
    ) {
        [AgentMailbox.PowerShell.Display]::Summary($Value) | Should -BeExactly $Expected
    }

    It 'cuts a long value to 60 characters with an ellipsis' {
        # Two- and three-byte UTF-8 characters, so the byte budget ends inside one of them.
        $long = [ordered]@{ text = ('ü€' * 200) }
        $summary = [AgentMailbox.PowerShell.Display]::Summary($long)
        $summary.Length | Should -Be 60
        $summary | Should -BeExactly (('{"text":"' + ('ü€' * 200)).Substring(0, 59) + '…')
        [AgentMailbox.PowerShell.Display]::Summary('x' * 100) | Should -BeExactly (('x' * 59) + '…')
    }

    It 'stops reading a large payload once it has enough for the column' {
        # 2,000 script properties, each counting its reads: converting the whole payload would read all of them.
        $script:reads = 0
        $payload = [pscustomobject]@{}
        foreach ($i in 1..2000) { $payload | Add-Member -MemberType ScriptProperty -Name "p$i" -Value { $script:reads++; 'value' } }

        $summary = [AgentMailbox.PowerShell.Display]::Summary($payload)

        $summary | Should -BeLike '{"p1":"value","p2":"value",*…'
        $summary.Length | Should -Be 60
        $script:reads | Should -BeLessThan 100 -Because 'the summary needs the first few properties, not all 2,000'
    }

    It 'shows a payload that has no JSON form by its text' {
        $cyclic = @{}; $cyclic.self = $cyclic
        [AgentMailbox.PowerShell.Display]::Summary($cyclic) | Should -BeExactly 'System.Collections.Hashtable'
    }
}
