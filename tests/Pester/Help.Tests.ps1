<#
    The help: the MAML file Get-Help reads (built from help/en-US/*.md by tools/HelpConverter.psm1), complete help
    for every cmdlet, parameters that match the cmdlets (no stale help after a rename), the about topic, and the
    converter itself.
#>
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $cmdletNames = @((Get-Command -Module AgentMailbox -CommandType Cmdlet).Name | Sort-Object)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:manifestPath = Get-BuiltModulePath

    function Get-DocumentableParameter([System.Management.Automation.CommandInfo] $Command) {
        <# The parameters help must describe: all but the common parameters and the hidden (DontShow) ones. #>
        $Command.Parameters.Values | Where-Object {
            $attributes = @($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
            $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and
            @($attributes | Where-Object { -not $_.DontShow }).Count -gt 0
        }
    }

    function Get-HelpText($Paragraphs) {
        (@($Paragraphs | ForEach-Object { $_.Text }) -join "`n").Trim()
    }
}

Describe 'The help files of the module' {
    It 'has a MAML file named after the root module DLL' {
        $manifest = Import-PowerShellDataFile $manifestPath
        $maml = Join-Path (Split-Path $manifestPath) "en-US/$($manifest.RootModule)-Help.xml"
        $maml | Should -Exist
        { [xml](Get-Content -Raw -LiteralPath $maml) } | Should -Not -Throw
    }

    It 'has help in the MAML file for exactly the cmdlets of the module' {
        $manifest = Import-PowerShellDataFile $manifestPath
        $maml = [xml](Get-Content -Raw -LiteralPath (Join-Path (Split-Path $manifestPath) "en-US/$($manifest.RootModule)-Help.xml"))
        @($maml.helpItems.command.details.name | Sort-Object) |
            Should -Be @((Get-Command -Module AgentMailbox -CommandType Cmdlet).Name | Sort-Object)
    }

    It 'has the about_AgentMailbox topic' {
        Join-Path (Split-Path $manifestPath) 'en-US/about_AgentMailbox.help.txt' | Should -Exist
        $about = Get-Help about_AgentMailbox | Out-String
        $about | Should -Match 'about_AgentMailbox'
        $about | Should -Match 'SHORT DESCRIPTION'
        $about | Should -Match 'AGENTSMCP_SERVER'
    }
}

Describe 'Help for <_>' -ForEach $cmdletNames {
    BeforeAll {
        $name = $_
        $command = Get-Command -Name $name -CommandType Cmdlet
        $help = Get-Help -Name $name -Full
        $documented = @(Get-DocumentableParameter $command)
        $helpParameters = @($help.parameters.parameter | Where-Object { $_ })
    }

    It 'has a synopsis, not the syntax stub Get-Help makes up' {
        $synopsis = "$($help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -BeLike "$name *"
        $synopsis | Should -Not -Match '\{\{'
    }

    It 'has a description' {
        $description = Get-HelpText $help.description
        $description | Should -Not -BeNullOrEmpty
        $description | Should -Not -Match '\{\{'
    }

    It 'has at least two examples, each with code that uses the cmdlet' {
        $examples = @($help.examples.example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterOrEqual 2
        $names = @($name) + @((Get-Alias -Definition $name -ErrorAction SilentlyContinue).Name)
        foreach ($example in $examples) {
            "$($example.code)".Trim() | Should -Not -BeNullOrEmpty -Because $example.title
            $uses = @($names | Where-Object { "$($example.code)" -match "\b$([regex]::Escape($_))\b" })
            $uses.Count | Should -BeGreaterThan 0 -Because "$($example.title) should show $name"
        }
    }

    It 'describes exactly the parameters the cmdlet has' {
        @($helpParameters.name | Sort-Object) | Should -Be @($documented.Name | Sort-Object)
    }

    It 'has a description for every parameter' {
        foreach ($parameter in $helpParameters) {
            Get-HelpText $parameter.description | Should -Not -BeNullOrEmpty -Because "-$($parameter.name) needs a description"
        }
    }

    It 'gives each parameter the position, requiredness and pipeline input the cmdlet declares' {
        foreach ($parameter in $documented) {
            $attributes = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
            $positions = @($attributes | Where-Object { $_.Position -ge 0 } | ForEach-Object { "$($_.Position)" })
            $position = if ($positions) { $positions[0] } else { 'named' }
            $required = if (@($attributes | Where-Object Mandatory).Count) { 'true' } else { 'false' }
            $binding = @()
            if (@($attributes | Where-Object ValueFromPipeline).Count) { $binding += 'ByValue' }
            if (@($attributes | Where-Object ValueFromPipelineByPropertyName).Count) { $binding += 'ByPropertyName' }
            $pipeline = if ($binding) { "True ($($binding -join ', '))" } else { 'False' }

            $entry = $helpParameters | Where-Object name -eq $parameter.Name
            "$($entry.position)" | Should -Be $position -Because "-$($parameter.Name) position"
            "$($entry.required)" | Should -Be $required -Because "-$($parameter.Name) required"
            "$($entry.pipelineInput)" | Should -Be $pipeline -Because "-$($parameter.Name) pipeline input"
        }
    }

    It 'has one syntax for each parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be $command.ParameterSets.Count
    }

    It 'names its inputs and outputs' {
        @($help.inputTypes.inputType.type.name | Where-Object { "$_".Trim() }).Count | Should -BeGreaterThan 0
        @($help.returnValues.returnValue.type.name | Where-Object { "$_".Trim() }).Count | Should -BeGreaterThan 0
    }
}

Describe 'ConvertTo-MamlHelp' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot '../../tools/HelpConverter.psm1') -Force
        $script:fence = '```'
        $script:code = "# Find <small> widgets`nGet-Widget -Name 'a&b' | Where-Object Size -lt 3"
        $markdown = @"
---
external help file: Widget.dll-Help.xml
Module Name: Widget
schema: 2.0.0
---

# Get-Widget

## SYNOPSIS
Gets widgets & their <parts>.

## SYNTAX

### ByName (Default)
$fence
Get-Widget [-Name] <String> [-Deep] [<CommonParameters>]
$fence

### ById
$fence
Get-Widget -Id <Int32> [<CommonParameters>]
$fence

## DESCRIPTION
The first paragraph,
wrapped over two lines.

The second paragraph.

## EXAMPLES

### Example 1: Find small widgets
${fence}powershell
$code
$fence

Gets the small ones.

## PARAMETERS

### -Deep
Looks inside.

${fence}yaml
Type: SwitchParameter
Parameter Sets: ByName
Aliases:

Required: False
Position: Named
Default value: False
Accept pipeline input: False
Accept wildcard characters: False
$fence

### -Id
The id.

${fence}yaml
Type: Int32
Parameter Sets: ById
Aliases:

Required: True
Position: Named
Default value: None
Accept pipeline input: False
Accept wildcard characters: False
$fence

### -Name
The name.

${fence}yaml
Type: String
Parameter Sets: ByName
Aliases:

Required: True
Position: 0
Default value: None
Accept pipeline input: True (ByPropertyName)
Accept wildcard characters: False
$fence

### CommonParameters
This cmdlet supports the common parameters.

## INPUTS

### System.String
A name.

## OUTPUTS

### Widget
A widget.

## NOTES
A note.

## RELATED LINKS

[Get-Gadget](Get-Gadget.md)
"@
        $script:source = Join-Path $TestDrive 'md'
        New-Item -ItemType Directory -Path $source | Out-Null
        Set-Content -LiteralPath (Join-Path $source 'Get-Widget.md') -Value $markdown -Encoding utf8
        Set-Content -LiteralPath (Join-Path $source 'about_Widget.help.txt') -Value 'TOPIC about_Widget' -Encoding utf8
        $script:target = Join-Path $TestDrive 'out/en-US/Widget.dll-Help.xml'
        ConvertTo-MamlHelp -MarkdownPath $source -OutputPath $target | Out-Null
        $script:raw = Get-Content -Raw -LiteralPath $target
        $script:command = ([xml]$raw).helpItems.command
    }

    It 'writes MAML that [xml] parses, one command per markdown file' {
        { [xml]$raw } | Should -Not -Throw
        ([xml]$raw).helpItems.schema | Should -Be 'maml'
        @($command).Count | Should -Be 1
        $command.details.name | Should -Be 'Get-Widget'
        $command.details.verb | Should -Be 'Get'
        $command.details.noun | Should -Be 'Widget'
    }

    It 'carries the synopsis and the description paragraphs' {
        $command.details.description.para | Should -Be 'Gets widgets & their <parts>.'
        @($command.description.para) | Should -Be @('The first paragraph, wrapped over two lines.', 'The second paragraph.')
    }

    It 'keeps an example''s code intact and escapes < and &' {
        $command.examples.example.title | Should -Match 'Example 1: Find small widgets'
        $command.examples.example.code | Should -Be $code
        $raw | Should -Match ([regex]::Escape('# Find &lt;small&gt; widgets'))
        $raw | Should -Match ([regex]::Escape("Get-Widget -Name 'a&amp;b'"))
        @($command.examples.example.remarks.para)[0] | Should -Be 'Gets the small ones.'
    }

    It 'writes one syntax item per parameter set, with required, position and pipeline input' {
        $items = @($command.syntax.syntaxItem)
        $items.Count | Should -Be 2
        $name = $items[0].parameter | Where-Object name -eq 'Name'
        $name.required | Should -Be 'true'
        $name.position | Should -Be '0'
        $name.pipelineInput | Should -Be 'True (ByPropertyName)'
        $name.parameterValue.'#text' | Should -Be 'String'
        $deep = $items[0].parameter | Where-Object name -eq 'Deep'
        $deep.required | Should -Be 'false'
        $deep.position | Should -Be 'named'
        $deep.PSObject.Properties.Name | Should -Not -Contain 'parameterValue'
        @($items[1].parameter).Count | Should -Be 1
        $items[1].parameter.name | Should -Be 'Id'
        $items[1].parameter.required | Should -Be 'true'
    }

    It 'describes every parameter with its type and default value' {
        $parameters = @($command.parameters.parameter)
        @($parameters.name) | Should -Be @('Deep', 'Id', 'Name')
        ($parameters | Where-Object name -eq 'Id').description.para | Should -Be 'The id.'
        ($parameters | Where-Object name -eq 'Id').type.name | Should -Be 'Int32'
        ($parameters | Where-Object name -eq 'Deep').defaultValue | Should -Be 'False'
    }

    It 'writes inputs, outputs, notes and related links' {
        $command.inputTypes.inputType.type.name | Should -Be 'System.String'
        $command.returnValues.returnValue.type.name | Should -Be 'Widget'
        $command.alertSet.alert.para | Should -Be 'A note.'
        $command.relatedLinks.navigationLink.linkText | Should -Be 'Get-Gadget'
    }

    It 'fails on a parameter that is in the syntax but not described' {
        $broken = Join-Path $TestDrive 'broken'
        New-Item -ItemType Directory -Path $broken | Out-Null
        (Get-Content -Raw -LiteralPath (Join-Path $source 'Get-Widget.md')) -replace '\[-Deep\]', '[-Deep] [-Shallow]' |
            Set-Content -LiteralPath (Join-Path $broken 'Get-Widget.md') -Encoding utf8
        { ConvertTo-MamlHelp -MarkdownPath $broken -OutputPath (Join-Path $TestDrive 'broken.xml') } | Should -Throw '*-Shallow*'
    }
}
