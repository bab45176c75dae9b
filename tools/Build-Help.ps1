#Requires -Version 7.4
<#
.SYNOPSIS
    Compiles the markdown help in docs/ into the MAML and about_ help files shipped in the built modules.
.DESCRIPTION
    Started by build.ps1 (Invoke-Build) in a fresh pwsh, after the modules are laid out under out/. For every module
    it knows (AdeEnrollment from docs/*.md; AdeEnrollment.Simulator from docs/simulator/*.md when that module was
    built) it imports the built module and, for every exported command, reads docs/<Command>.md (platyPS layout) and
    writes one command:command element into out/<Module>/en-US/<Assembly>.dll-Help.xml. The syntax and the parameter
    facts (type, required, position, pipeline input, aliases, wildcards) come from Get-Command, never from the
    markdown: the markdown gives the words (synopsis, description, parameter descriptions, examples, inputs,
    outputs, notes, links) and, optionally, a parameter's default value. Every docs/about_*.md becomes
    out/<Module>/en-US/about_*.help.txt.

    The build fails (exit code 1, every problem listed) when an exported command has no page, a page names another
    command, a page has no synopsis or description, a parameter (other than the common parameters) has no
    description, a page documents a parameter the command does not have, or a page has fewer than 2 examples or an
    example without code. Drift that does not make the help wrong (a ```yaml block that disagrees with the
    cmdlet) is reported as a warning.
.PARAMETER OutPath
    The build's out/ folder (default: $env:ADE_BUILD_OUT).
.PARAMETER DocsPath
    The docs/ folder (default: $env:ADE_BUILD_DOCS).
.EXAMPLE
    $env:ADE_BUILD_OUT = './out'; $env:ADE_BUILD_DOCS = './docs'; dotnet pwsh -NoProfile -File tools/Build-Help.ps1
#>
[CmdletBinding()]
param(
    [string] $OutPath = $env:ADE_BUILD_OUT,
    [string] $DocsPath = $env:ADE_BUILD_DOCS
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
trap {
    [Console]::Error.WriteLine("Build-Help: unexpected failure: $_`n$($_.ScriptStackTrace)")
    exit 1
}

if (-not $OutPath -or -not (Test-Path $OutPath)) { Write-Error "Build-Help: the out folder '$OutPath' does not exist (set `$env:ADE_BUILD_OUT)." -ErrorAction Continue; exit 2 }
if (-not $DocsPath -or -not (Test-Path $DocsPath)) { Write-Error "Build-Help: the docs folder '$DocsPath' does not exist (set `$env:ADE_BUILD_DOCS)." -ErrorAction Continue; exit 2 }
$OutPath = (Resolve-Path $OutPath).ProviderPath
$DocsPath = (Resolve-Path $DocsPath).ProviderPath

# The modules whose help is built here. The first one must exist; the others only when they were built.
$modules = @(
    [pscustomobject]@{ Name = 'AdeEnrollment'; Docs = $DocsPath; Optional = $false }
    [pscustomobject]@{ Name = 'AdeEnrollment.Simulator'; Docs = (Join-Path $DocsPath 'simulator'); Optional = $true }
)

$culture = 'en-US'
$wrapWidth = 80
$commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters
# -WhatIf/-Confirm are documented by PowerShell (about_CommonParameters), not in the pages; the MAML still lists them
# so that Get-Help shows them in the syntax, with these standard descriptions unless a page gives its own.
$shouldProcessParameters = [ordered]@{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

$problems = [System.Collections.Generic.List[string]]::new()
function Add-Problem([string] $Message) { $problems.Add($Message) }

# ---- markdown reading -------------------------------------------------------------------------------------------

<#
 Splits markdown lines into headings and blocks, never treating a '#' inside a fenced block as a heading.
 ($flush is dot-sourced, so it runs in this function's scope.) Returns a flat list of items: Heading (Level, Text) or Block (Kind para|list|code|table, Text, Lang, Items, Rows).
#>
function ConvertTo-MarkdownItem {
    param([string[]] $Lines)
    $items = [System.Collections.Generic.List[object]]::new()
    $i = 0
    $paragraph = [System.Collections.Generic.List[string]]::new()
    $list = $null

    $flush = {
        if ($paragraph.Count) {
            $items.Add([pscustomobject]@{ Type = 'Block'; Kind = 'para'; Text = ($paragraph -join ' ').Trim(); Lang = $null; Items = $null; Rows = $null })
            $paragraph.Clear()
        }
        if ($null -ne $list) {
            $items.Add([pscustomobject]@{ Type = 'Block'; Kind = 'list'; Text = $null; Lang = $null; Items = $list.ToArray(); Rows = $null })
            $list = $null
        }
    }

    while ($i -lt $Lines.Count) {
        $line = $Lines[$i]
        if ($line -match '^\s*(```+|~~~+)\s*([\w+-]*)\s*$') {
            . $flush
            $fence = $Matches[1]; $lang = $Matches[2]
            $code = [System.Collections.Generic.List[string]]::new()
            $i++
            while ($i -lt $Lines.Count -and $Lines[$i] -notmatch ('^\s*' + [regex]::Escape($fence) + '\s*$')) { $code.Add($Lines[$i]); $i++ }
            $i++ # closing fence
            $items.Add([pscustomobject]@{ Type = 'Block'; Kind = 'code'; Text = ($code -join "`n"); Lang = $lang; Items = $null; Rows = $null })
            continue
        }
        if ($line -match '^(#{1,6})\s+(.*?)\s*#*\s*$') {
            . $flush
            $items.Add([pscustomobject]@{ Type = 'Heading'; Level = $Matches[1].Length; Text = $Matches[2].Trim() })
            $i++; continue
        }
        if ($line -match '^\s*\|') {
            . $flush
            $rows = [System.Collections.Generic.List[string[]]]::new()
            while ($i -lt $Lines.Count -and $Lines[$i] -match '^\s*\|') {
                $row = $Lines[$i].Trim()
                if ($row -notmatch '^\|[\s:|-]+\|?$') { # skip the |---|---| rule
                    $rows.Add([string[]]@($row.Trim('|') -split '(?<!\\)\|' | ForEach-Object { ($_ -replace '\\\|', '|').Trim() }))
                }
                $i++
            }
            $items.Add([pscustomobject]@{ Type = 'Block'; Kind = 'table'; Text = $null; Lang = $null; Items = $null; Rows = $rows.ToArray() })
            continue
        }
        if ($line -match '^\s*$') { . $flush; $i++; continue }
        if ($line -match '^\s{0,3}([-*+]|\d+[.)])\s+(.*)$') {
            if ($paragraph.Count) { $items.Add([pscustomobject]@{ Type = 'Block'; Kind = 'para'; Text = ($paragraph -join ' ').Trim(); Lang = $null; Items = $null; Rows = $null }); $paragraph.Clear() }
            if ($null -eq $list) { $list = [System.Collections.Generic.List[string]]::new() }
            $bullet = $Matches[1]; $itemText = $Matches[2].Trim()
            $marker = if ($bullet -match '^\d') { $bullet } else { '-' }
            $list.Add("$marker $itemText")
            $i++; continue
        }
        if ($null -ne $list -and $line -match '^\s{2,}\S') { # continuation of a list item
            $list[$list.Count - 1] += ' ' + $line.Trim()
            $i++; continue
        }
        if ($null -ne $list) { . $flush }
        $paragraph.Add($line.Trim())
        $i++
    }
    . $flush
    return $items.ToArray()
}

# Inline markdown to plain help text: `code`, **bold**, *em*, [text](link), \-escapes.
function ConvertFrom-InlineMarkdown([string] $Text) {
    if (-not $Text) { return '' }
    $t = $Text -replace '\[([^\]]+)\]\((https?://[^)]+)\)', '$1 ($2)'
    $t = $t -replace '\[([^\]]+)\]\([^)]*\)', '$1'
    $t = $t -replace '`([^`]+)`', '$1'
    $t = $t -replace '\*\*([^*]+)\*\*', '$1'
    $t = $t -replace '(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])', '$1'
    $t = $t -replace '\\([\\`*_{}\[\]()#+\-.!<>|])', '$1'
    return $t
}

# Reads a platyPS-style page: front matter, H1 name, H2 sections, each holding its items.
function Read-HelpPage([string] $Path) {
    $lines = [string[]](Get-Content -LiteralPath $Path -Encoding utf8)
    $front = @{}
    $start = 0
    if ($lines.Count -and $lines[0] -eq '---') {
        $end = [Array]::IndexOf($lines, '---', 1)
        if ($end -gt 0) {
            foreach ($l in $lines[1..($end - 1)]) { if ($l -match '^([^:]+):\s*(.*)$') { $front[$Matches[1].Trim()] = $Matches[2].Trim() } }
            $start = $end + 1
        }
    }
    $body = if ($start -lt $lines.Count) { $lines[$start..($lines.Count - 1)] } else { @() }
    $items = @(ConvertTo-MarkdownItem $body)
    $page = [pscustomobject]@{ Path = $Path; Front = $front; Name = $null; Sections = [ordered]@{} }
    $current = $null
    foreach ($item in $items) {
        if ($item.Type -eq 'Heading' -and $item.Level -eq 1 -and -not $page.Name) { $page.Name = $item.Text; continue }
        if ($item.Type -eq 'Heading' -and $item.Level -le 2) {
            $current = [System.Collections.Generic.List[object]]::new()
            $page.Sections[$item.Text.ToUpperInvariant()] = $current
            continue
        }
        if ($null -ne $current) { $current.Add($item) }
    }
    return $page
}

# The blocks of a section, split by its H3 headings: @{ Title; Items } (the part before the first H3 has Title $null).
function Split-Subsection($Items) {
    $parts = [System.Collections.Generic.List[object]]::new()
    $current = [pscustomobject]@{ Title = $null; Items = [System.Collections.Generic.List[object]]::new() }
    foreach ($item in @($Items | Where-Object { $null -ne $_ })) {
        if ($item.Type -eq 'Heading' -and $item.Level -eq 3) {
            if ($current.Title -or $current.Items.Count) { $parts.Add($current) }
            $current = [pscustomobject]@{ Title = $item.Text; Items = [System.Collections.Generic.List[object]]::new() }
        } else {
            $current.Items.Add($item)
        }
    }
    if ($current.Title -or $current.Items.Count) { $parts.Add($current) }
    return $parts.ToArray()
}

# Blocks as MAML paragraphs (strings).
function ConvertTo-Paragraph($Items) {
    foreach ($b in @($Items | Where-Object { $null -ne $_ })) {
        if ($b.Type -ne 'Block') { ConvertFrom-InlineMarkdown $b.Text; continue }
        switch ($b.Kind) {
            'para' { ConvertFrom-InlineMarkdown $b.Text }
            'list' { foreach ($li in $b.Items) { ConvertFrom-InlineMarkdown $li } }
            'code' { $b.Text }
            'table' {
                $widths = @(for ($c = 0; $c -lt ($b.Rows | ForEach-Object Count | Measure-Object -Maximum).Maximum; $c++) {
                        ($b.Rows | ForEach-Object { if ($c -lt $_.Count) { (ConvertFrom-InlineMarkdown $_[$c]).Length } else { 0 } } | Measure-Object -Maximum).Maximum })
                foreach ($row in $b.Rows) {
                    (@(for ($c = 0; $c -lt $row.Count; $c++) { (ConvertFrom-InlineMarkdown $row[$c]).PadRight($widths[$c]) }) -join '  ').TrimEnd()
                }
            }
        }
    }
}

function Get-SectionText($Page, [string] $Name) {
    if (-not $Page.Sections.Contains($Name)) { return @() }
    return @(ConvertTo-Paragraph ($Page.Sections[$Name] | Where-Object Type -eq 'Block') | Where-Object { $_ -and $_.Trim() })
}

# Parameter descriptions: @{ <name> = @{ Paragraphs; Yaml; Yamls } } from '### -Name' subsections. A parameter whose
# facts differ between its parameter sets may have one ```yaml block per set (platyPS layout); Yaml merges them.
function Get-ParameterDoc($Page) {
    $result = [ordered]@{}
    if (-not $Page.Sections.Contains('PARAMETERS')) { return $result }
    foreach ($part in Split-Subsection $Page.Sections['PARAMETERS']) {
        if (-not $part.Title -or $part.Title -eq 'CommonParameters') { continue } # the platyPS stub that points to about_CommonParameters
        $name = $part.Title.TrimStart('-').Trim()
        $yaml = @{}
        $yamls = [System.Collections.Generic.List[hashtable]]::new()
        $text = [System.Collections.Generic.List[object]]::new()
        foreach ($b in $part.Items) {
            if ($b.Type -eq 'Block' -and $b.Kind -eq 'code' -and $b.Lang -eq 'yaml') {
                $block = @{}
                foreach ($l in $b.Text -split "`n") { if ($l -match '^([^:]+):\s*(.*)$') { $block[$Matches[1].Trim()] = $yaml[$Matches[1].Trim()] = $Matches[2].Trim() } }
                $yamls.Add($block)
            } else {
                $text.Add($b)
            }
        }
        $result[$name] = [pscustomobject]@{ Paragraphs = @(ConvertTo-Paragraph $text | Where-Object { $_ -and $_.Trim() }); Yaml = $yaml; Yamls = $yamls }
    }
    return $result
}

function Get-ExampleDoc($Page) {
    if (-not $Page.Sections.Contains('EXAMPLES')) { return @() }
    foreach ($part in Split-Subsection $Page.Sections['EXAMPLES']) {
        if (-not $part.Title) { continue }
        $codeBlocks = @($part.Items | Where-Object { $_.Type -eq 'Block' -and $_.Kind -eq 'code' })
        $code = if ($codeBlocks) { $codeBlocks[0].Text } else { '' }
        $rest = @($part.Items | Where-Object { -not [object]::ReferenceEquals($_, $(if ($codeBlocks) { $codeBlocks[0] })) })
        [pscustomobject]@{ Title = $part.Title; Code = $code; Remarks = @(ConvertTo-Paragraph $rest | Where-Object { $_ -and $_.Trim() }) }
    }
}

# INPUTS / OUTPUTS: one entry per '### Type' (or the section text as one entry when it has no H3).
function Get-TypeDoc($Page, [string] $Section) {
    if (-not $Page.Sections.Contains($Section)) { return @() }
    foreach ($part in Split-Subsection $Page.Sections[$Section]) {
        $paras = @(ConvertTo-Paragraph $part.Items | Where-Object { $_ -and $_.Trim() })
        if ($part.Title) {
            [pscustomobject]@{ Type = (ConvertFrom-InlineMarkdown $part.Title); Paragraphs = $paras }
        } elseif ($paras) {
            [pscustomobject]@{ Type = $paras[0]; Paragraphs = @($paras | Select-Object -Skip 1) }
        }
    }
}

function Get-LinkDoc($Page) {
    if (-not $Page.Sections.Contains('RELATED LINKS')) { return @() }
    foreach ($b in $Page.Sections['RELATED LINKS'] | Where-Object Type -eq 'Block') {
        $entries = switch ($b.Kind) { 'list' { $b.Items -replace '^\S+\s+', '' } 'para' { $b.Text } default { @() } }
        foreach ($e in $entries) {
            if ($e -match '^\[([^\]]+)\]\(([^)]*)\)') {
                $text = $Matches[1]; $target = $Matches[2]
                # Links to other pages (Get-AdeToken.md) are shown by name only; web links keep their address.
                $uri = if ($target -match '^https?://') { $target } else { '' }
                [pscustomobject]@{ Text = $text; Uri = $uri }
            } elseif ($e -match '^(https?://\S+)$') {
                [pscustomobject]@{ Text = $e; Uri = $e }
            } elseif ($e.Trim()) {
                [pscustomobject]@{ Text = (ConvertFrom-InlineMarkdown $e.Trim()); Uri = '' }
            }
        }
    }
}

# ---- command metadata ---------------------------------------------------------------------------------------------

function Get-FriendlyTypeName([type] $Type) {
    if ($Type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    return $Type.Name
}

function Get-FullTypeName([type] $Type) {
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    return $Type.FullName
}

function Get-PipelineText([bool] $ByValue, [bool] $ByPropertyName) {
    $kinds = @(if ($ByValue) { 'ByValue' }; if ($ByPropertyName) { 'ByPropertyName' })
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

# The facts of one parameter, in one parameter set ($SetName) or merged over all of its sets.
function Get-ParameterFact([System.Management.Automation.ParameterMetadata] $Parameter, [string] $SetName) {
    $sets = @($Parameter.ParameterSets.GetEnumerator() | Where-Object { -not $SetName -or $_.Key -eq $SetName -or $_.Key -eq '__AllParameterSets' })
    $required = @($sets | Where-Object { -not $_.Value.IsMandatory }).Count -eq 0
    $positions = @($sets | ForEach-Object { $_.Value.Position } | Where-Object { $_ -ge 0 } | Sort-Object -Unique)
    $byValue = @($sets | Where-Object { $_.Value.ValueFromPipeline }).Count -gt 0
    $byName = @($sets | Where-Object { $_.Value.ValueFromPipelineByPropertyName }).Count -gt 0
    $setNames = @($sets | ForEach-Object { if ($_.Key -eq '__AllParameterSets') { '(All)' } else { $_.Key } } | Sort-Object)
    [pscustomobject]@{
        Name      = $Parameter.Name
        Type      = Get-FriendlyTypeName $Parameter.ParameterType
        FullType  = Get-FullTypeName $Parameter.ParameterType
        IsSwitch  = $Parameter.SwitchParameter
        Required  = $required
        Position  = if ($positions.Count) { [string]$positions[0] } else { 'named' }
        Pipeline  = Get-PipelineText $byValue $byName
        Aliases   = @($Parameter.Aliases)
        Globbing  = [bool]($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
        Sets      = $setNames
    }
}

# Compares a page's ```yaml block with the cmdlet; differences are warnings (the MAML uses the cmdlet's facts).
function Test-YamlBlock($Command, $Fact, [hashtable] $Yaml) {
    if (-not $Yaml.Count) { return }
    $expected = [ordered]@{
        'Type'                       = $Fact.Type
        'Parameter Sets'             = ($Fact.Sets -join ', ')
        'Aliases'                    = ($Fact.Aliases -join ', ')
        'Required'                   = [string]$Fact.Required
        'Position'                   = $(if ($Fact.Position -eq 'named') { 'Named' } else { $Fact.Position })
        'Accept pipeline input'      = $Fact.Pipeline
        'Accept wildcard characters' = [string]$Fact.Globbing
    }
    foreach ($key in $expected.Keys) {
        if ($Yaml.ContainsKey($key) -and $Yaml[$key] -ne $expected[$key]) {
            Write-Warning "Build-Help: $Command -$($Fact.Name): the page says '${key}: $($Yaml[$key])' but the cmdlet has '$($expected[$key])'. The help uses the cmdlet's value; fix the page."
        }
    }
}

# ---- MAML writing --------------------------------------------------------------------------------------------------

$ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

function Write-Paragraphs([System.Xml.XmlWriter] $W, [string[]] $Paragraphs, [string] $Prefix = 'maml', [string] $Element = 'description') {
    $W.WriteStartElement($Prefix, $Element, $ns[$Prefix])
    foreach ($p in @($Paragraphs)) { $W.WriteElementString('maml', 'para', $ns.maml, $p) }
    $W.WriteEndElement()
}

function Write-ParameterElement([System.Xml.XmlWriter] $W, $Fact, [string[]] $Description, [string] $DefaultValue, [bool] $InSyntax) {
    $W.WriteStartElement('command', 'parameter', $ns.command)
    $W.WriteAttributeString('required', $Fact.Required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', 'true')
    $W.WriteAttributeString('globbing', $Fact.Globbing.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $Fact.Pipeline)
    $W.WriteAttributeString('position', $Fact.Position)
    $W.WriteAttributeString('aliases', $(if ($Fact.Aliases) { $Fact.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('maml', 'name', $ns.maml, $Fact.Name)
    Write-Paragraphs $W $Description
    if (-not ($InSyntax -and $Fact.IsSwitch)) {
        $W.WriteStartElement('command', 'parameterValue', $ns.command)
        $W.WriteAttributeString('required', $(if ($Fact.IsSwitch) { 'false' } else { 'true' }))
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($Fact.Type)
        $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $ns.dev)
    $W.WriteElementString('maml', 'name', $ns.maml, $Fact.FullType)
    $W.WriteElementString('maml', 'uri', $ns.maml, '')
    $W.WriteEndElement()
    $W.WriteElementString('dev', 'defaultValue', $ns.dev, $DefaultValue)
    $W.WriteEndElement()
}

function Write-CommandHelp([System.Xml.XmlWriter] $W, $Doc) {
    $cmd = $Doc.Command
    $W.WriteStartElement('command', 'command', $ns.command)
    foreach ($p in 'maml', 'dev', 'MSHelp') { $W.WriteAttributeString('xmlns', $p, $null, $ns[$p]) }

    $W.WriteStartElement('command', 'details', $ns.command)
    $W.WriteElementString('command', 'name', $ns.command, $cmd.Name)
    Write-Paragraphs $W $Doc.Synopsis
    $W.WriteElementString('command', 'verb', $ns.command, $cmd.Verb)
    $W.WriteElementString('command', 'noun', $ns.command, $cmd.Noun)
    $W.WriteElementString('dev', 'version', $ns.dev, [string]$cmd.Module.Version)
    $W.WriteEndElement()

    Write-Paragraphs $W $Doc.Description

    # Syntax: one item per parameter set, positional parameters first, then mandatory, then optional, -WhatIf/-Confirm last.
    $W.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $cmd.ParameterSets) {
        $W.WriteStartElement('command', 'syntaxItem', $ns.command)
        $W.WriteElementString('maml', 'name', $ns.maml, $cmd.Name)
        $ordered = $set.Parameters | Where-Object Name -notin $commonParameters | Sort-Object `
            @{ Expression = { if ($shouldProcessParameters.Contains($_.Name)) { 1 } else { 0 } } },
            @{ Expression = { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } } },
            @{ Expression = { -not $_.IsMandatory } }
        foreach ($sp in $ordered) {
            $fact = Get-ParameterFact $cmd.Parameters[$sp.Name] $set.Name
            Write-ParameterElement $W $fact $Doc.Parameters[$sp.Name].Paragraphs $Doc.Parameters[$sp.Name].Default $true
        }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($name in $Doc.Parameters.Keys) {
        $fact = Get-ParameterFact $cmd.Parameters[$name] $null
        Write-ParameterElement $W $fact $Doc.Parameters[$name].Paragraphs $Doc.Parameters[$name].Default $false
    }
    $W.WriteEndElement()

    foreach ($kind in @(@{ List = 'inputTypes'; Item = 'inputType'; Data = $Doc.Inputs }, @{ List = 'returnValues'; Item = 'returnValue'; Data = $Doc.Outputs })) {
        $W.WriteStartElement('command', $kind.List, $ns.command)
        foreach ($t in @($kind.Data)) {
            $W.WriteStartElement('command', $kind.Item, $ns.command)
            $W.WriteStartElement('dev', 'type', $ns.dev)
            $W.WriteElementString('maml', 'name', $ns.maml, $t.Type)
            $W.WriteEndElement()
            Write-Paragraphs $W $t.Paragraphs
            $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }

    if (@($Doc.Notes).Count) {
        $W.WriteStartElement('maml', 'alertSet', $ns.maml)
        $W.WriteStartElement('maml', 'alert', $ns.maml)
        foreach ($p in @($Doc.Notes)) { $W.WriteElementString('maml', 'para', $ns.maml, $p) }
        $W.WriteEndElement()
        $W.WriteEndElement()
    }

    $W.WriteStartElement('command', 'examples', $ns.command)
    foreach ($e in $Doc.Examples) {
        $W.WriteStartElement('command', 'example', $ns.command)
        $W.WriteElementString('maml', 'title', $ns.maml, "---------- $($e.Title) ----------")
        $W.WriteElementString('dev', 'code', $ns.dev, $e.Code)
        Write-Paragraphs $W $e.Remarks 'dev' 'remarks'
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($l in @($Doc.Links)) {
        $W.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $W.WriteElementString('maml', 'linkText', $ns.maml, $l.Text)
        $W.WriteElementString('maml', 'uri', $ns.maml, $l.Uri)
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteEndElement() # command:command
}

function Write-MamlFile([string] $Path, $Docs) {
    $settings = [System.Xml.XmlWriterSettings]::new()
    $settings.Indent = $true
    $settings.IndentChars = '  '
    $settings.Encoding = [System.Text.UTF8Encoding]::new($false)
    $settings.NewLineChars = "`n"
    $settings.NewLineHandling = [System.Xml.NewLineHandling]::Replace
    $writer = [System.Xml.XmlWriter]::Create($Path, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', $ns.msh)
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($doc in $Docs) { Write-CommandHelp $writer $doc }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    } finally {
        $writer.Dispose()
    }
}

# ---- about_ topics ---------------------------------------------------------------------------------------------------

function Format-Wrapped([string] $Text, [int] $Indent, [int] $Hanging = $Indent) {
    $words = @($Text -split '\s+' | Where-Object { $_ })
    $lines = [System.Collections.Generic.List[string]]::new()
    $line = ' ' * $Indent
    $empty = $true
    foreach ($word in $words) {
        if (-not $empty -and $line.Length + 1 + $word.Length -gt $wrapWidth) {
            $lines.Add($line)
            $line = (' ' * $Hanging) + $word
        } elseif ($empty) {
            $line += $word
        } else {
            $line += ' ' + $word
        }
        $empty = $false
    }
    if (-not $empty) { $lines.Add($line) }
    return $lines
}

# An about_*.md page as an about_*.help.txt: TOPIC, then H2 sections in capitals, body indented four spaces and
# wrapped at 80 columns; code indented eight spaces as written; tables aligned (or one block per row when too wide).
function ConvertTo-AboutText([string] $Path) {
    $lines = [string[]](Get-Content -LiteralPath $Path -Encoding utf8)
    $items = @(ConvertTo-MarkdownItem $lines)
    $topic = [IO.Path]::GetFileNameWithoutExtension($Path)
    $out = [System.Collections.Generic.List[string]]::new()
    $hasTopic = @($items | Where-Object { $_.Type -eq 'Heading' -and $_.Level -eq 2 -and $_.Text -eq 'TOPIC' }).Count -gt 0
    if (-not $hasTopic) { $out.Add('TOPIC'); $out.Add("    $topic"); $out.Add('') }
    foreach ($item in $items) {
        if ($item.Type -eq 'Heading') {
            if ($item.Level -eq 1) { continue }
            if ($out.Count -and $out[$out.Count - 1] -ne '') { $out.Add('') }
            if ($item.Level -eq 2) { $out.Add($item.Text.ToUpperInvariant()) }
            else { $out.Add('  ' + (ConvertFrom-InlineMarkdown $item.Text)); $out.Add('  ' + ('-' * (ConvertFrom-InlineMarkdown $item.Text).Length)) }
            continue
        }
        switch ($item.Kind) {
            'para' { $out.AddRange([string[]](Format-Wrapped (ConvertFrom-InlineMarkdown $item.Text) 4)) }
            'list' {
                foreach ($li in $item.Items) {
                    $text = ConvertFrom-InlineMarkdown $li
                    $marker = ($text -split ' ', 2)[0]
                    $out.AddRange([string[]](Format-Wrapped $text 4 (5 + $marker.Length)))
                }
            }
            'code' { foreach ($l in $item.Text -split "`n") { $out.Add($(if ($l.Trim()) { '        ' + $l } else { '' })) } }
            'table' {
                $rows = @($item.Rows | ForEach-Object { , [string[]]@($_ | ForEach-Object { ConvertFrom-InlineMarkdown $_ }) })
                $columns = ($rows | ForEach-Object Count | Measure-Object -Maximum).Maximum
                $widths = @(for ($c = 0; $c -lt $columns; $c++) { ($rows | ForEach-Object { if ($c -lt $_.Count) { $_[$c].Length } else { 0 } } | Measure-Object -Maximum).Maximum })
                if ((($widths | Measure-Object -Sum).Sum + 2 * ($columns - 1) + 4) -le $wrapWidth) {
                    for ($r = 0; $r -lt $rows.Count; $r++) {
                        $out.Add(('    ' + (@(for ($c = 0; $c -lt $rows[$r].Count; $c++) { $rows[$r][$c].PadRight($widths[$c]) }) -join '  ')).TrimEnd())
                        if ($r -eq 0) { $out.Add('    ' + (@($widths | ForEach-Object { '-' * $_ }) -join '  ')) }
                    }
                } else {
                    # Too wide for 80 columns: one block per row, the first cell as its title. With more than two
                    # columns each further cell is labelled with its column header.
                    $header = $rows[0]
                    $body = @($rows | Select-Object -Skip 1)
                    for ($r = 0; $r -lt $body.Count; $r++) {
                        $row = $body[$r]
                        if ($r -gt 0) { $out.Add('') }
                        $out.Add('    ' + $row[0])
                        for ($c = 1; $c -lt $row.Count; $c++) {
                            if (-not $row[$c]) { continue }
                            if ($columns -gt 2) { $out.AddRange([string[]](Format-Wrapped "$($header[$c]): $($row[$c])" 8 10)) }
                            else { $out.AddRange([string[]](Format-Wrapped $row[$c] 8)) }
                        }
                    }
                }
            }
        }
        $out.Add('')
    }
    while ($out.Count -and $out[$out.Count - 1] -eq '') { $out.RemoveAt($out.Count - 1) }
    return ($out -join "`n") + "`n"
}

# ---- per module ----------------------------------------------------------------------------------------------------

$env:PSModulePath = $OutPath + [IO.Path]::PathSeparator + $env:PSModulePath
$plans = [System.Collections.Generic.List[object]]::new()

foreach ($m in $modules) {
    $manifest = Join-Path $OutPath "$($m.Name)/$($m.Name).psd1"
    if (-not (Test-Path $manifest)) {
        if (-not $m.Optional) { Add-Problem "$($m.Name): the built module '$manifest' does not exist." }
        continue
    }
    $module = Import-Module $manifest -Force -PassThru -ErrorAction Stop
    $commands = @($module.ExportedCommands.Values | Where-Object { $_.CommandType -in 'Cmdlet', 'Function' } | Sort-Object Name)
    $docs = [System.Collections.Generic.List[object]]::new()
    foreach ($cmd in $commands) {
        $pagePath = Join-Path $m.Docs "$($cmd.Name).md"
        if (-not (Test-Path -LiteralPath $pagePath)) { Add-Problem "$($cmd.Name): no help page (expected $pagePath)."; continue }
        $page = Read-HelpPage $pagePath
        $where = "$($cmd.Name) ($pagePath)"
        if ($page.Name -ne $cmd.Name) { Add-Problem "${where}: the page's title is '$($page.Name)', not '$($cmd.Name)'." }
        if ($page.Front['Module Name'] -and $page.Front['Module Name'] -ne $m.Name) { Write-Warning "Build-Help: ${where}: front matter says 'Module Name: $($page.Front['Module Name'])', the command is in $($m.Name)." }
        $helpFile = if ($cmd.CommandType -eq 'Cmdlet') { $cmd.HelpFile } else { "$($m.Name)-help.xml" }
        if ($page.Front['external help file'] -and $page.Front['external help file'] -ne $helpFile) { Write-Warning "Build-Help: ${where}: front matter says 'external help file: $($page.Front['external help file'])', PowerShell looks for $helpFile." }

        $synopsis = @(Get-SectionText $page 'SYNOPSIS')
        $description = @(Get-SectionText $page 'DESCRIPTION')
        if (-not $synopsis) { Add-Problem "${where}: the SYNOPSIS section is missing or empty." }
        if (-not $description) { Add-Problem "${where}: the DESCRIPTION section is missing or empty." }

        $paramDocs = Get-ParameterDoc $page
        $parameters = [ordered]@{}
        $realNames = @($cmd.Parameters.Values | Where-Object Name -notin $commonParameters | ForEach-Object Name)
        foreach ($documented in $paramDocs.Keys) {
            if (-not $cmd.Parameters.ContainsKey($documented) -or $documented -in $commonParameters) { Add-Problem "${where}: documents -$documented, which the command does not have." }
        }
        # Page order first, then any undocumented parameters (reported), then -WhatIf/-Confirm.
        $orderedNames = @($paramDocs.Keys | Where-Object { $_ -in $realNames }) +
            @($realNames | Where-Object { $_ -notin $paramDocs.Keys -and -not $shouldProcessParameters.Contains($_) }) +
            @($realNames | Where-Object { $shouldProcessParameters.Contains($_) -and $_ -notin $paramDocs.Keys })
        foreach ($name in $orderedNames) {
            $pd = $paramDocs[$name]
            $paras = if ($pd) { @($pd.Paragraphs) } else { @() }
            if (-not $paras -and $shouldProcessParameters.Contains($name)) { $paras = @($shouldProcessParameters[$name]) }
            if (-not $paras) { Add-Problem "${where}: parameter -$name has no description (add '### -$name' with a paragraph under PARAMETERS)." }
            $fact = Get-ParameterFact $cmd.Parameters[$name] $null
            # a block that names one of the parameter's sets is compared with the facts of that set
            foreach ($block in @(if ($pd) { $pd.Yamls })) {
                $set = $block['Parameter Sets']
                $blockFact = if ($set -and $cmd.Parameters[$name].ParameterSets.ContainsKey($set)) { Get-ParameterFact $cmd.Parameters[$name] $set } else { $fact }
                Test-YamlBlock $cmd.Name $blockFact $block
            }
            $default = if ($pd -and $pd.Yaml['Default value']) { $pd.Yaml['Default value'] } elseif ($fact.IsSwitch) { 'False' } else { 'None' }
            $parameters[$name] = [pscustomobject]@{ Paragraphs = $paras; Default = $default }
        }

        $examples = @(Get-ExampleDoc $page)
        if ($examples.Count -lt 2) { Add-Problem "${where}: has $($examples.Count) example(s); at least 2 are required ('### Example N: <title>' followed by a code block)." }
        foreach ($e in $examples) { if (-not $e.Code.Trim()) { Add-Problem "${where}: '$($e.Title)' has no code block." } }

        $docs.Add([pscustomobject]@{
                Command     = $cmd
                HelpFile    = $helpFile
                Synopsis    = $synopsis
                Description = $description
                Parameters  = $parameters
                Examples    = $examples
                Inputs      = @(Get-TypeDoc $page 'INPUTS')
                Outputs     = @(Get-TypeDoc $page 'OUTPUTS')
                Notes       = @(Get-SectionText $page 'NOTES')
                Links       = @(Get-LinkDoc $page)
            })
    }

    # Pages that look like command help (front matter) but match no exported command: stale after a rename?
    if (Test-Path $m.Docs) {
        foreach ($file in Get-ChildItem -LiteralPath $m.Docs -Filter *.md -File | Where-Object { $_.BaseName -notlike 'about_*' -and $_.BaseName -notin @($commands | ForEach-Object Name) }) {
            if ((Get-Content -LiteralPath $file.FullName -TotalCount 1) -eq '---') { Write-Warning "Build-Help: $($file.FullName) is a command page, but $($m.Name) exports no command '$($file.BaseName)'." }
        }
    }
    $abouts = if (Test-Path $m.Docs) { @(Get-ChildItem -LiteralPath $m.Docs -Filter 'about_*.md' -File) } else { @() }
    $plans.Add([pscustomobject]@{ Module = $m.Name; Folder = Join-Path $OutPath "$($m.Name)/$culture"; Docs = $docs; Abouts = $abouts })
}

if ($problems.Count) {
    [Console]::Error.WriteLine("Build-Help: the help cannot be built ($($problems.Count) problem(s)):")
    foreach ($p in $problems) { [Console]::Error.WriteLine("  - $p") }
    exit 1
}

foreach ($plan in $plans) {
    New-Item -ItemType Directory -Force $plan.Folder | Out-Null
    foreach ($group in $plan.Docs | Group-Object HelpFile) {
        $target = Join-Path $plan.Folder $group.Name
        Write-MamlFile $target $group.Group
        Write-Host "Help: $target ($($group.Count) commands)"
    }
    foreach ($about in $plan.Abouts) {
        $target = Join-Path $plan.Folder "$($about.BaseName).help.txt"
        [IO.File]::WriteAllText($target, (ConvertTo-AboutText $about.FullName), [System.Text.UTF8Encoding]::new($false))
        Write-Host "Help: $target"
    }
}
exit 0
