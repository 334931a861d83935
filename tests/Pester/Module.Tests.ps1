BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:manifestPath = Get-BuiltModulePath
}

Describe 'The module' {
    It 'has a valid manifest' {
        { Test-ModuleManifest -Path $manifestPath -ErrorAction Stop } | Should -Not -Throw
    }

    It 'exports exactly the cmdlets the DLL defines, with no wildcards' {
        $manifest = Import-PowerShellDataFile $manifestPath
        $manifest.CmdletsToExport | Should -Not -Contain '*'
        $reflected = [AgentMailbox.PowerShell.Commands.ConnectAgentMailboxCommand].Assembly.GetTypes() |
            Where-Object { -not $_.IsAbstract -and $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object {
                $attribute = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
                "$($attribute.VerbName)-$($attribute.NounName)"
            }
        ($manifest.CmdletsToExport | Sort-Object) | Should -Be ($reflected | Sort-Object)
        (Get-Command -Module AgentMailbox -CommandType Cmdlet).Name | Sort-Object | Should -Be ($reflected | Sort-Object)
        $manifest.FunctionsToExport.Count | Should -Be 0
        $manifest.VariablesToExport.Count | Should -Be 0
    }

    It 'lists the seven cmdlets of the messaging core' {
        $names = (Get-Command -Module AgentMailbox).Name
        foreach ($name in 'Connect-AgentMailbox', 'Disconnect-AgentMailbox', 'Get-AgentMailboxConnection', 'Test-AgentMailbox',
            'Send-AgentMessage', 'Get-AgentInbox', 'Invoke-AgentReplyAll') {
            $names | Should -Contain $name
        }
    }

    It 'stamps the manifest version from the DLL''s version' {
        $manifest = Import-PowerShellDataFile $manifestPath
        $dll = Join-Path (Split-Path $manifestPath) 'AgentMailbox.PowerShell.dll'
        $fileVersion = [Version][System.Diagnostics.FileVersionInfo]::GetVersionInfo($dll).FileVersion
        [Version]$manifest.ModuleVersion | Should -Be ([Version]::new($fileVersion.Major, $fileVersion.Minor, $fileVersion.Build))
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
    }

    It 'has a table view for <_>' -ForEach 'AgentMailbox.InboxMessage', 'AgentMailbox.SendResult', 'AgentMailbox.Connection', 'AgentMailbox.Message', 'AgentMailbox.HealthCheckResult', 'AgentMailbox.AgentThread', 'AgentMailbox.ThreadParticipant', 'AgentMailbox.ThreadContext' {
        $view = Get-FormatData -TypeName $_
        $view | Should -Not -BeNullOrEmpty
        $view.FormatViewDefinition.Control | Where-Object { $_ -is [System.Management.Automation.TableControl] } | Should -Not -BeNullOrEmpty
    }

    It 'supports -WhatIf and -Confirm where a cmdlet changes state' -ForEach 'Send-AgentMessage', 'Invoke-AgentReplyAll', 'Disconnect-AgentMailbox' {
        $parameters = (Get-Command $_).Parameters
        $parameters.Keys | Should -Contain 'WhatIf'
        $parameters.Keys | Should -Contain 'Confirm'
    }

    It 'takes -Connection on every cmdlet that acts as an agent' -ForEach 'Send-AgentMessage', 'Get-AgentInbox', 'Invoke-AgentReplyAll', 'Disconnect-AgentMailbox', 'Test-AgentMailbox' {
        (Get-Command $_).Parameters['Connection'].ParameterType.FullName | Should -Be 'AgentMailbox.Connection'
    }

    It 'declares its output types' {
        (Get-Command Get-AgentInbox).OutputType.Type | Should -Contain ([AgentMailbox.InboxMessage])
        (Get-Command Send-AgentMessage).OutputType.Type | Should -Contain ([AgentMailbox.SendResult])
        (Get-Command Invoke-AgentReplyAll).OutputType.Type | Should -Contain ([AgentMailbox.SendResult])
        (Get-Command Connect-AgentMailbox).OutputType.Type | Should -Contain ([AgentMailbox.Connection])
    }

    It 'binds -ThreadId of Invoke-AgentReplyAll by property name' {
        (Get-Command Invoke-AgentReplyAll).Parameters['ThreadId'].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } |
            ForEach-Object ValueFromPipelineByPropertyName | Should -Contain $true
    }
}
