<#
    Turns the module's cmdlet help, written in platyPS's markdown schema (help/en-US/<Verb-Noun>.md), into the MAML
    file Get-Help reads (<RootModule DLL>-Help.xml). platyPS itself is not installable here; if it becomes
    reachable, its Export-MamlCommandHelp replaces this file and the markdown stays as it is.
    Works in Windows PowerShell 5.1 and PowerShell 7.
#>
Set-StrictMode -Version Latest

$script:Ns = @{
    Maml    = 'http://schemas.microsoft.com/maml/2004/10'
    Command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    Dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

#region Reading the markdown

function Split-Heading {
    <# Splits lines at headings of one level ('## ', '### '), ignoring '#' lines inside fenced code. #>
    param([string[]] $Lines, [string] $Marker)
    $current = [pscustomobject]@{ Title = ''; Lines = (New-Object System.Collections.Generic.List[string]) }
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line.StartsWith("$Marker ")) {
            $current
            $current = [pscustomobject]@{ Title = $line.Substring($Marker.Length + 1).Trim(); Lines = (New-Object System.Collections.Generic.List[string]) }
        }
        else { $current.Lines.Add($line) }
    }
    $current
}

function ConvertFrom-Inline([string] $Text) {
    <# Markdown inline markup that reads badly in a console: links become their text, bold marks go. #>
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\((https?://[^)]+)\)', '$1 ($2)')
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\([^)]*\)', '$1')
    return $Text.Replace('**', '')
}

function Get-Block {
    <# The blocks of a section: paragraphs (text) and fenced code (with its language). #>
    param([string[]] $Lines)
    $blocks = New-Object System.Collections.Generic.List[object]
    $para = New-Object System.Collections.Generic.List[string]
    $code = $null
    $lang = ''
    $flush = {
        if ($para.Count -eq 0) { return }
        $isList = $para[0] -match '^\s*([-*]|\d+\.)\s'
        $text = ''
        foreach ($l in $para) {
            if ($isList -and $l -match '^\s*([-*]|\d+\.)\s' -and $text) { $text += "`n" + $l.Trim() }
            elseif ($text) { $text += ' ' + $l.Trim() }
            else { $text = $l.Trim() }
        }
        $blocks.Add([pscustomobject]@{ Kind = 'Text'; Lang = ''; Text = (ConvertFrom-Inline $text) })
        $para.Clear()
    }
    foreach ($line in $Lines) {
        if ($null -ne $code) {
            if ($line -match '^\s*```\s*$') {
                $blocks.Add([pscustomobject]@{ Kind = 'Code'; Lang = $lang; Text = ($code -join "`n") })
                $code = $null
            }
            else { $code.Add($line) }
        }
        elseif ($line -match '^\s*```\s*(\S*)') {
            . $flush
            $lang = $Matches[1].ToLowerInvariant()
            $code = New-Object System.Collections.Generic.List[string]
        }
        elseif ($line.Trim() -eq '') { . $flush }
        else { $para.Add($line) }
    }
    . $flush
    $blocks
}

function Get-Paragraph([string[]] $Lines) {
    <# The text of a section as paragraphs; fenced code in prose is kept verbatim as one paragraph. #>
    Get-Block $Lines | ForEach-Object Text
}

function Read-CommandHelp {
    <# Parses one <Verb-Noun>.md into an object with the parts the MAML needs. #>
    param([Parameter(Mandatory)] [string] $Path)
    $text = [System.IO.File]::ReadAllText($Path, [System.Text.Encoding]::UTF8)
    $lines = ($text -replace "`r`n?", "`n") -split "`n"
    $start = 0
    if ($lines[0].Trim() -eq '---') {
        $start = [array]::IndexOf($lines, '---', 1) + 1
        if ($start -le 0) { throw "${Path}: the front matter is not closed with '---'." }
    }
    $body = @(Split-Heading $lines[$start..($lines.Count - 1)] '##')
    $name = ($body[0].Lines | Where-Object { $_ -match '^# \S' } | Select-Object -First 1)
    if (-not $name) { throw "${Path}: no '# Verb-Noun' title." }
    $help = [ordered]@{ Name = $name.Substring(2).Trim(); Path = $Path }
    $sections = @{}
    foreach ($s in $body | Select-Object -Skip 1) { $sections[$s.Title.ToUpperInvariant()] = $s.Lines.ToArray() }
    foreach ($required in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS') {
        if (-not $sections.ContainsKey($required)) { throw "${Path}: no '## $required' section." }
    }

    $help.Synopsis = (Get-Paragraph $sections['SYNOPSIS']) -join ' '
    $help.Description = @(Get-Paragraph $sections['DESCRIPTION'])
    $help.Notes = @(Get-Paragraph $sections['NOTES'])

    $help.Syntax = @(foreach ($s in Split-Heading $sections['SYNTAX'] '###') {
            $code = @(Get-Block $s.Lines | Where-Object Kind -eq 'Code')
            if ($code.Count -eq 0) { continue }
            $set = if ($s.Title) { ($s.Title -replace '\s*\(Default\)\s*$', '') } else { '(All)' }
            $names = [regex]::Matches($code[0].Text, '(?<=[\s\[])-(\w+)') | ForEach-Object { $_.Groups[1].Value }
            [pscustomobject]@{ Set = $set; Parameters = @($names) }
        })

    $help.Parameters = @(foreach ($s in Split-Heading $sections['PARAMETERS'] '###') {
            if ($s.Title -notmatch '^-(\w+)$') { continue }
            $blocks = @(Get-Block $s.Lines)
            $facets = @(foreach ($yaml in $blocks | Where-Object { $_.Kind -eq 'Code' -and $_.Lang -eq 'yaml' }) {
                    $facet = @{}
                    foreach ($l in $yaml.Text -split "`n") {
                        if ($l -match '^([^:]+):\s*(.*)$') { $facet[$Matches[1].Trim()] = $Matches[2].Trim() }
                    }
                    $facet
                })
            if ($facets.Count -eq 0) { throw "${Path}: parameter $($s.Title) has no yaml block." }
            [pscustomobject]@{
                Name        = $s.Title.Substring(1)
                Description = @($blocks | Where-Object Kind -eq 'Text' | ForEach-Object Text)
                Facets      = $facets
            }
        })

    $types = {
        param($lines)
        foreach ($s in Split-Heading $lines '###') {
            if (-not $s.Title) { continue }
            [pscustomobject]@{ Name = $s.Title; Description = @(Get-Paragraph $s.Lines) }
        }
    }
    $help.Inputs = @(& $types $sections['INPUTS'])
    $help.Outputs = @(& $types $sections['OUTPUTS'])

    $help.Examples = @(foreach ($s in Split-Heading $sections['EXAMPLES'] '###') {
            if (-not $s.Title) { continue }
            # PowerShell fences are the code; other fences (Output) and the text are the remarks.
            $code, $remarks = @(Get-Block $s.Lines).Where({ $_.Kind -eq 'Code' -and $_.Lang -in '', 'powershell' }, 'Split')
            [pscustomobject]@{ Title = $s.Title; Code = (@($code | ForEach-Object Text) -join "`n`n"); Remarks = @($remarks | ForEach-Object Text) }
        })

    $help.Links = @(foreach ($l in $sections['RELATED LINKS']) {
            if ($l -match '^\s*\[([^\]]+)\]\(([^)]*)\)') {
                $uri = if ($Matches[2] -match '^https?://') { $Matches[2] } else { '' }
                [pscustomobject]@{ Text = $Matches[1]; Uri = $uri }
            }
        })

    foreach ($p in $help.Syntax | ForEach-Object { $_.Parameters }) {
        if (-not ($help.Parameters | Where-Object Name -eq $p)) { throw "${Path}: -$p is in the syntax but not under PARAMETERS." }
    }
    return [pscustomobject]$help
}

#endregion

#region Writing the MAML

function Get-Facet($Parameter, [string] $Set) {
    <# The yaml block of a parameter that applies to a parameter set. #>
    foreach ($facet in $Parameter.Facets) {
        $sets = @("$($facet['Parameter Sets'])" -split ',' | ForEach-Object { $_.Trim() })
        if ($sets -contains '(All)' -or $sets -contains $Set) { return $facet }
    }
    return $Parameter.Facets[0]
}

function Start-Tag([System.Xml.XmlWriter] $W, [string] $Name) {
    <# Opens an element given as 'prefix:name' in the prefix's namespace. #>
    $prefix, $local = $Name -split ':', 2
    $W.WriteStartElement($prefix, $local, $script:Ns[$prefix])
}

function Add-Tag([System.Xml.XmlWriter] $W, [string] $Name, [string] $Text) {
    <# Writes a text element; XmlWriter escapes <, > and &. #>
    Start-Tag $W $Name
    $W.WriteString($Text)
    $W.WriteEndElement()
}

function Add-Description([System.Xml.XmlWriter] $W, [string[]] $Paragraphs) {
    Start-Tag $W 'maml:description'
    foreach ($p in $Paragraphs) { Add-Tag $W 'maml:para' $p }
    $W.WriteEndElement()
}

function Add-Parameter([System.Xml.XmlWriter] $W, $Parameter, [hashtable] $Facet, [switch] $InSyntax) {
    $type = "$($Facet['Type'])"
    $position = "$($Facet['Position'])"
    Start-Tag $W 'command:parameter'
    $W.WriteAttributeString('required', "$($Facet['Required'])".ToLowerInvariant())
    $W.WriteAttributeString('variableLength', "$($type.EndsWith('[]'))".ToLowerInvariant())
    $W.WriteAttributeString('globbing', "$($Facet['Accept wildcard characters'])".ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', "$($Facet['Accept pipeline input'])")
    $W.WriteAttributeString('position', $(if ($position -match '^\d+$') { $position } else { 'named' }))
    $W.WriteAttributeString('aliases', $(if ($Facet['Aliases']) { $Facet['Aliases'] } else { 'none' }))
    Add-Tag $W 'maml:name' $Parameter.Name
    Add-Description $W $Parameter.Description
    $isSwitch = $type -eq 'SwitchParameter'
    if (-not ($isSwitch -and $InSyntax)) {
        # A switch takes no value, so the syntax shows it as [-Name]; the parameter list still names its type.
        Start-Tag $W 'command:parameterValue'
        $W.WriteAttributeString('required', "$(-not $isSwitch)".ToLowerInvariant())
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($type)
        $W.WriteEndElement()
    }
    Start-Tag $W 'dev:type'
    Add-Tag $W 'maml:name' $type
    Add-Tag $W 'maml:uri' ''
    $W.WriteEndElement()
    Add-Tag $W 'dev:defaultValue' $(if ($Facet['Default value']) { $Facet['Default value'] } else { 'None' })
    $W.WriteEndElement()
}

function Add-TypeList([System.Xml.XmlWriter] $W, [string] $Outer, [string] $Inner, $Types) {
    Start-Tag $W $Outer
    foreach ($t in $Types) {
        Start-Tag $W $Inner
        Start-Tag $W 'dev:type'
        Add-Tag $W 'maml:name' $t.Name
        $W.WriteEndElement()
        Add-Description $W $t.Description
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
}

function Add-Command([System.Xml.XmlWriter] $W, $Help) {
    Start-Tag $W 'command:command'
    foreach ($prefix in 'maml', 'command', 'dev', 'MSHelp') { $W.WriteAttributeString('xmlns', $prefix, $null, $script:Ns[$prefix]) }
    $verb, $noun = $Help.Name -split '-', 2
    Start-Tag $W 'command:details'
    Add-Tag $W 'command:name' $Help.Name
    Add-Tag $W 'command:verb' $verb
    Add-Tag $W 'command:noun' $noun
    Add-Description $W $Help.Synopsis
    $W.WriteEndElement()
    Add-Description $W $Help.Description

    Start-Tag $W 'command:syntax'
    foreach ($syntax in $Help.Syntax) {
        Start-Tag $W 'command:syntaxItem'
        Add-Tag $W 'maml:name' $Help.Name
        foreach ($name in $syntax.Parameters) {
            $parameter = $Help.Parameters | Where-Object Name -eq $name
            Add-Parameter $W $parameter (Get-Facet $parameter $syntax.Set) -InSyntax
        }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    Start-Tag $W 'command:parameters'
    foreach ($parameter in $Help.Parameters) { Add-Parameter $W $parameter $parameter.Facets[0] }
    $W.WriteEndElement()

    Add-TypeList $W 'command:inputTypes' 'command:inputType' $Help.Inputs
    Add-TypeList $W 'command:returnValues' 'command:returnValue' $Help.Outputs

    Start-Tag $W 'maml:alertSet'
    Start-Tag $W 'maml:alert'
    foreach ($p in $Help.Notes) { Add-Tag $W 'maml:para' $p }
    $W.WriteEndElement()
    $W.WriteEndElement()

    Start-Tag $W 'command:examples'
    foreach ($example in $Help.Examples) {
        Start-Tag $W 'command:example'
        Add-Tag $W 'maml:title' "-------------------------- $($example.Title) --------------------------"
        Add-Tag $W 'dev:code' $example.Code
        Start-Tag $W 'dev:remarks'
        foreach ($p in $example.Remarks) { Add-Tag $W 'maml:para' $p }
        Add-Tag $W 'maml:para' ''   # a blank line before the next example
        $W.WriteEndElement()
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    Start-Tag $W 'command:relatedLinks'
    foreach ($link in $Help.Links) {
        Start-Tag $W 'maml:navigationLink'
        Add-Tag $W 'maml:linkText' $link.Text
        Add-Tag $W 'maml:uri' $link.Uri
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
    $W.WriteEndElement()
}

#endregion

function ConvertTo-MamlHelp {
    <#
    .SYNOPSIS
        Converts a folder of platyPS-style cmdlet help markdown (<Verb-Noun>.md) into one MAML help file.
    .PARAMETER MarkdownPath
        The folder with the markdown files; files that are not named <Verb-Noun>.md (about topics) are skipped.
    .PARAMETER OutputPath
        The MAML file to write, named after the module's root DLL: <RootModule>-Help.xml.
    .EXAMPLE
        ConvertTo-MamlHelp -MarkdownPath src/AgentMailbox.PowerShell/help/en-US -OutputPath out/AgentMailbox/en-US/AgentMailbox.PowerShell.dll-Help.xml
    #>
    [CmdletBinding()]
    [OutputType([System.IO.FileInfo])]
    param(
        [Parameter(Mandatory)] [string] $MarkdownPath,
        [Parameter(Mandatory)] [string] $OutputPath
    )
    $files = @(Get-ChildItem -LiteralPath $MarkdownPath -Filter '*.md' -ErrorAction Stop |
            Where-Object { $_.BaseName -match '^\w+-\w+$' } | Sort-Object Name)
    if ($files.Count -eq 0) { throw "No <Verb-Noun>.md help files in $MarkdownPath." }
    $commands = foreach ($file in $files) { Read-CommandHelp -Path $file.FullName }

    $target = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($OutputPath)
    $folder = Split-Path -Parent $target
    if ($folder -and -not (Test-Path -LiteralPath $folder)) { New-Item -ItemType Directory -Path $folder -Force | Out-Null }
    $settings = New-Object System.Xml.XmlWriterSettings
    $settings.Indent = $true
    $settings.Encoding = New-Object System.Text.UTF8Encoding $false
    $writer = [System.Xml.XmlWriter]::Create($target, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', 'http://msh')
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($help in $commands) {
            Write-Verbose "$($help.Name): $($help.Parameters.Count) parameters, $($help.Examples.Count) examples"
            Add-Command $writer $help
        }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally { $writer.Close() }
    Get-Item -LiteralPath $target
}

Export-ModuleMember -Function ConvertTo-MamlHelp
