# The views of the built modules' format files (the module's and the simulator's): every object a cmdlet outputs has
# one, and every table fits a 120-column console (PowerShell drops the columns that do not fit, so a wider view loses its last columns).

BeforeDiscovery {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $formats = foreach ($module in 'AdeEnrollment', 'AdeEnrollment.Simulator') {
        # the imported module's file (Common.ps1 imports the one under test), not whichever copy PSModulePath lists first
        @{ Module = $module; Xml = [xml](Get-Content -Raw (Join-Path (Get-Module $module).ModuleBase "$module.format.ps1xml")) }
    }
    $tables = foreach ($format in $formats) {
        foreach ($view in $format.Xml.Configuration.ViewDefinitions.View | Where-Object { $_.TableControl }) {
            @{
                View       = "$($format.Module) $($view.Name)"
                Type       = "$($view.ViewSelectedBy.TypeName)"
                # A column without a width is sized to its content: it needs at least its header.
                Columns    = @($view.TableControl.TableHeaders.TableColumnHeader | ForEach-Object {
                        @{ Label = "$($_.Label)"; Width = if ($_.Width) { [int]$_.Width } else { "$($_.Label)".Length }; Fixed = [bool]$_.Width }
                    })
                Properties = @($view.TableControl.TableRowEntries.TableRowEntry.TableColumnItems.TableColumnItem | ForEach-Object { "$($_.PropertyName)" } | Where-Object { $_ })
            }
        }
    }

    $viewed = @($formats[0].Xml.Configuration.ViewDefinitions.View | ForEach-Object { $_.ViewSelectedBy.TypeName })
    $outputs = foreach ($command in Get-Command -Module AdeEnrollment -CommandType Cmdlet) {
        foreach ($type in $command.OutputType | Where-Object Name -like 'AdeEnrollment.*') {
            @{ Command = $command.Name; Type = $type.Name; Viewed = $type.Name -in $viewed }
        }
    }
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator # its views too
}

Describe 'The table view <View>' -ForEach $tables {
    It 'fits 120 columns: the widths and the spaces between the columns' {
        $total = ($Columns | ForEach-Object { $_.Width } | Measure-Object -Sum).Sum + $Columns.Count - 1
        $total | Should -BeLessOrEqual 120 -Because (($Columns | ForEach-Object { "$($_.Label)=$($_.Width)" }) -join ' ')
    }

    It 'gives every header room for its label' {
        foreach ($c in $Columns) { $c.Width | Should -BeGreaterOrEqual $c.Label.Length -Because "the header '$($c.Label)'" }
    }

    It 'fixes the width of every column but the last, so that long values are cut short instead of pushing columns out' {
        # PowerShell sizes a column without a width to its values and drops the columns that then do not fit: an Apple ID
        # or an organisation name of 40 characters took a token's Status and Devices off a 120-column console.
        $Columns | Select-Object -SkipLast 1 | Where-Object { -not $_.Fixed } | ForEach-Object Label | Should -BeNullOrEmpty
    }

    It 'shows every column at 120 columns when every text is 70 characters long' {
        $row = [ordered]@{ PSTypeName = $Type }
        foreach ($p in $Properties) { $row[$p] = 'X' * 70 }
        $header = (([pscustomobject]$row | Format-Table | Out-String -Width 120) -split "`r?`n" | Where-Object { $_.Trim() })[0]
        foreach ($c in $Columns) { $header | Should -Match "(^| )$([regex]::Escape($c.Label))( |$)" -Because "the column '$($c.Label)'" }
    }
}

Describe 'The output of <Command>' -ForEach $outputs {
    It 'has a view for <Type>' {
        $Viewed | Should -BeTrue
    }
}

Describe 'Get-AdeSetupScreen as a table' {
    It 'shows the -HiddenScreen value and the versions of every platform in 120 columns' {
        $text = Get-AdeSetupScreen | Format-Table | Out-String -Width 120
        $lines = $text -split "`r?`n"
        $lines | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 120 }
        $text | Should -Match 'Screen\s+iOS\s+macOS\s+tvOS\s+visionOS'
        # a row: the value to give -HiddenScreen, then the first version per platform with its remarks
        $text | Should -Match 'AppleId\s+7\.0\s+10\.9\s+10\.2\s+26\.0'
        $text | Should -Match '\(deprecated 15\.0\)'
        $text | Should -Not -Match 'AdeEnrollment\.Engine'
    }
}

Describe 'Times in the views' {
    It 'every time of day is shown in the session''s local time with its offset' {
        $format = [xml](Get-Content -Raw (Join-Path (Get-Module AdeEnrollment).ModuleBase 'AdeEnrollment.format.ps1xml'))
        $blocks = @($format.SelectNodes('//ScriptBlock') | ForEach-Object InnerText | Where-Object { $_ -match 'HH:mm' })
        $blocks.Count | Should -BeGreaterThan 10
        foreach ($block in $blocks) {
            $block | Should -Match '\.ToLocalTime\(\)\.ToString\(''[^'']*HH:mm zzz'', \[cultureinfo\]::InvariantCulture\)' -Because 'a time without its offset reads hours off in another time zone'
        }
    }

    It 'every date is written with the Gregorian calendar whatever the session''s culture (ar-SA showed Hijri years)' {
        foreach ($module in 'AdeEnrollment', 'AdeEnrollment.Simulator') {
            $format = [xml](Get-Content -Raw (Join-Path (Get-Module $module).ModuleBase "$module.format.ps1xml"))
            $blocks = @($format.SelectNodes('//ScriptBlock') | ForEach-Object InnerText | Where-Object { $_ -match '\.ToString\(''' })
            $blocks.Count | Should -BeGreaterThan 2
            foreach ($block in $blocks) { $block | Should -Match 'InvariantCulture' -Because "$module formats '$block'" }
        }
        $culture = [cultureinfo]::CurrentCulture
        try {
            [cultureinfo]::CurrentCulture = 'ar-SA'
            $token = [pscustomobject]@{ PSTypeName = 'AdeEnrollment.Engine.Model.AdeToken'; Name = 'Contoso'; ExpiresAt = [datetimeoffset]::new(2026, 12, 3, 12, 0, 0, [timespan]::Zero) }
            $shown = $token | Format-Table | Out-String
            $shown | Should -Match '2026-12-0[234]'
            $shown | Should -Not -Match '144\d-'
        } finally { [cultureinfo]::CurrentCulture = $culture }
    }

    It 'every table column that shows a time is wide enough for it, in any time zone' {
        $format = [xml](Get-Content -Raw (Join-Path (Get-Module AdeEnrollment).ModuleBase 'AdeEnrollment.format.ps1xml'))
        $shown = [datetimeoffset]::new(2026, 12, 31, 23, 59, 0, [timespan]::FromHours(-9.5)) # the longest offset text
        $checked = 0
        foreach ($table in $format.SelectNodes('//TableControl')) {
            $headers = @($table.TableHeaders.TableColumnHeader)
            $items = @($table.TableRowEntries.TableRowEntry.TableColumnItems.TableColumnItem)
            for ($i = 0; $i -lt $items.Count; $i++) {
                if ("$($items[$i].ScriptBlock)" -match 'ToString\(''([^'']*HH:mm[^'']*)''' -and $headers[$i].Width) {
                    $text = $shown.ToString($Matches[1], [cultureinfo]::InvariantCulture)
                    [int]$headers[$i].Width | Should -BeGreaterOrEqual $text.Length -Because "the column '$($headers[$i].Label)' shows '$text'"
                    $checked++
                }
            }
        }
        $checked | Should -BeGreaterThan 5
    }
}
