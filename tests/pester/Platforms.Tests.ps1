# Platform-aware profiles through the built module (docs/about_AdeEnrollment.md "Platforms").
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 515
    Connect-AdeStore -Path (Join-Path $TestDrive 'platforms.db')
    $script:t = New-SimToken -Name 'Platforms' -Devices 0
    foreach ($family in 'iPhone', 'Mac', 'AppleTV') { Add-AdeSimDevice -Server 'Platforms' -Count 2 -DeviceFamily $family | Out-Null }
    Sync-AdeDevice -Token 'Platforms' | Out-Null
}

AfterAll { Stop-AdeSimulator }

Describe 'Platform-aware profiles' {
    It 'creates a profile per platform; the platform is a property and iOS is the default' {
        (New-AdeProfile -Token 'Platforms' -Name 'Phones' -UserAffinity WithUserAffinity).Platform | Should -Be 'iOS'
        $mac = New-AdeProfile -Token 'Platforms' -Name 'Macs' -Platform macOS -Language EN -Region us -SupportEmail 'help@contoso.com' -HiddenScreen FileVault -AwaitFinalConfiguration $false
        $mac.Platform | Should -Be 'macOS'
        ($mac.Language, $mac.Region, $mac.AwaitFinalConfiguration) | Should -Be @('en', 'US', $false)
        (New-AdeProfile -Token 'Platforms' -Name 'TVs' -Platform tvOS -HiddenScreen TVRoom -AutoAdvanceSetup).AutoAdvanceSetup | Should -BeTrue
    }

    It 'shows each platform''s own settings in the list view' {
        $mac = Get-AdeProfile -Token 'Platforms' -Name 'Macs' | Format-List | Out-String
        $mac | Should -Match 'Platform\s+: macOS'
        $mac | Should -Match 'Language\s+: en'
        $mac | Should -Match 'SupportEmail\s+: help@contoso.com'
        $mac | Should -Not -Match 'SharedIPad|SyncWithComputers|InstallCompanyPortal|DeviceNameTemplate'
        $phone = Get-AdeProfile -Token 'Platforms' -Name 'Phones' | Format-List | Out-String
        $phone | Should -Match 'SharedIPad\s+: False'
        $phone | Should -Not -Match 'Language|Region'
    }

    It 'takes Apple''s skip keys for -HiddenScreen as well as the pane names' {
        $p = New-AdeProfile -Token 'Platforms' -Name 'Apple keys' -UserAffinity WithUserAffinity -HiddenScreen Biometric, TOS, Payment, Safety
        $p.HiddenScreens | ForEach-Object ToString | Sort-Object | Should -Be @('ApplePay', 'EmergencySos', 'TermsAndConditions', 'TouchIdFaceId')
        $p | Remove-AdeProfile -Confirm:$false
    }

    It 'sends a known skip key in Apple''s spelling whatever its case, once' {
        $p = New-AdeProfile -Token 'Platforms' -Name 'Mac keys' -Platform macOS -AdditionalSkipKey siri, filevault, FileVault, NewPane2027 -WarningVariable w -WarningAction SilentlyContinue
        $p.AdditionalSkipKeys | Should -Be @('Siri', 'FileVault', 'NewPane2027')
        @($w | Where-Object { "$_" -like "*'NewPane2027' is not a skip key*case-sensitive*" }).Count | Should -Be 1
        $mac = Get-AdeDevice -Token 'Platforms' -Platform macOS | Select-Object -First 1
        $mac | Set-AdeDeviceProfile -Profile 'Mac keys' | Out-Null
        (Get-AdeSimProfile -Server 'Platforms' -Name 'Mac keys').Keys.skip_setup_items | Should -Be @('Siri', 'FileVault', 'NewPane2027')
        $mac | Clear-AdeDeviceProfile -Confirm:$false | Out-Null
        Remove-AdeProfile -Token 'Platforms' -Profile 'Mac keys' -Confirm:$false
    }

    It 'refuses a setting or a pane the platform does not have, naming setting and platform, and creates nothing' {
        $err = { New-AdeProfile -Token 'Platforms' -Name 'Bad TV' -Platform tvOS -DeviceNameTemplate 'TV {{SERIAL}}' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand' -PassThru
        $err.Exception.Message | Should -Match 'DeviceNameTemplate.*tvOS'
        $err = { New-AdeProfile -Token 'Platforms' -Name 'Bad Mac' -Platform macOS -HiddenScreen SimSetup -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand' -PassThru
        $err.Exception.Message | Should -Match 'does not exist on macOS'
        { New-AdeProfile -Token 'Platforms' -Name 'Bad phone' -UserAffinity WithoutUserAffinity -Region US -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand'
        $err = { New-AdeProfile -Token 'Platforms' -Name 'Bad TV user' -Platform tvOS -UserAffinity WithUserAffinity -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand' -PassThru
        $err.Exception.Message | Should -Match 'an Apple TV has no user to sign in'
        @(Get-AdeProfile -Token 'Platforms' -Name 'Bad*').Count | Should -Be 0
    }

    It 'returns PlatformMismatch per device and sends nothing for it, with one warning' {
        $devices = Get-AdeDevice -Token 'Platforms'
        $results = $devices | Set-AdeDeviceProfile -Profile 'Macs' -WarningVariable warnings -WarningAction SilentlyContinue
        ($results | Where-Object Status -eq 'Success').SerialNumber | Sort-Object |
            Should -Be (($devices | Where-Object DeviceFamily -eq 'Mac').SerialNumber | Sort-Object)
        @($results | Where-Object Status -eq 'PlatformMismatch').Count | Should -Be 4
        $warnings.Count | Should -Be 1
        $warnings[0] | Should -Match '4 devices'
        Get-AdeSimDevice -Server 'Platforms' | Where-Object DeviceFamily -ne 'Mac' | ForEach-Object { $_.ProfileUuid | Should -BeNullOrEmpty }
        # -WhatIf counts them in its summary line instead of writing results and the warning
        $whatIf = @($devices | Set-AdeDeviceProfile -Profile 'Macs' -WhatIf -WarningVariable warnedWhatIf 6>&1)
        @($whatIf | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] }) | Should -BeNullOrEmpty
        @($warnedWhatIf).Count | Should -Be 0
        "$($whatIf[-1])" | Should -Be "What if: 2 devices would be assigned profile 'Macs' on token 'Platforms' (2 unchanged; 4 devices of another platform)."
    }

    It 'a Shared iPad default goes to arriving iPads only; the sync result counts the iPhones left without a profile' {
        New-AdeSimTenant -Name 'Shared default' -Devices 0 | Out-Null
        Add-AdeSimDevice -Server 'Shared default' -Count 2 -DeviceFamily iPad | Out-Null
        Add-AdeSimDevice -Server 'Shared default' -Count 3 -DeviceFamily iPhone | Out-Null
        New-AdeProfile -Token 'Shared default' -Name 'Shared' -UserAffinity WithoutUserAffinity -SharedIPad -AdditionalSkipKey FutureKey2026 3>$null | Out-Null
        Set-AdeDefaultProfile -Token 'Shared default' -Profile 'Shared' -Confirm:$false -WarningVariable said -WarningAction SilentlyContinue | Out-Null
        "$($said[-1])" | Should -BeLike "'Shared' is a Shared iPad profile: as the iOS default of token 'Shared default' it goes to arriving iPads only*" 
        $r = Sync-AdeDevice -Token 'Shared default' -WarningAction SilentlyContinue
        $r.DefaultProfileAssigned | Should -Be 2
        @($r.WithoutDefaultProfile | ForEach-Object { "$($_.Platform): $($_.Count)" }) | Should -Be @('iOS: 3')
        # every pane is skipped on a Shared iPad, a pane newer than the module's table (-AdditionalSkipKey) too
        (Get-AdeSimProfile -Server 'Shared default' -Name 'Shared').Keys.skip_setup_items | Should -Contain 'FutureKey2026'
    }

    It 'gives a Shared iPad profile to iPads only: an iPhone is SharedIPadOnly, sent nothing, in one warning' {
        New-AdeProfile -Token 'Platforms' -Name 'Shared' -UserAffinity WithoutUserAffinity -SharedIPad 3>$null | Out-Null
        $phones = Get-AdeDevice -Token 'Platforms' -Platform iOS
        $results = $phones | Set-AdeDeviceProfile -Profile 'Shared' -WarningVariable warned -WarningAction SilentlyContinue
        @($results | ForEach-Object { "$($_.Status)" } | Sort-Object -Unique) | Should -Be 'SharedIPadOnly'
        @($warned).Count | Should -Be 1
        "$($warned[0])" | Should -BeLike '2 devices of 2 did not get profile ''Shared'': 2 SharedIPadOnly (iPhones or iPods: a Shared iPad profile is for iPads only*'
        $phones | ForEach-Object { (Get-AdeSimDevice -Server 'Platforms' -SerialNumber $_.SerialNumber).ProfileUuid | Should -BeNullOrEmpty }
        "$(@($phones | Set-AdeDeviceProfile -Profile 'Shared' -WhatIf 6>&1)[-1])" | Should -BeLike '*2 iPhones or iPods that a Shared iPad profile is not for).'
        Remove-AdeProfile -Token 'Platforms' -Profile 'Shared' -Confirm:$false
        # a profile iPhones hold cannot become a Shared iPad profile (Apple would hand it to them)
        New-AdeProfile -Token 'Platforms' -Name 'Kiosk phones' -UserAffinity WithoutUserAffinity | Out-Null
        $phones | Set-AdeDeviceProfile -Profile 'Kiosk phones' | Out-Null
        $err = { Set-AdeProfile -Token 'Platforms' -Profile 'Kiosk phones' -SharedIPad -Force -ErrorAction Stop } | Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.SetAdeProfileCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*for iPads only*'
        (Get-AdeProfile -Token 'Platforms' -Name 'Kiosk phones').SharedIPad | Should -BeFalse
        $phones | Clear-AdeDeviceProfile -Confirm:$false | Out-Null
        Remove-AdeProfile -Token 'Platforms' -Profile 'Kiosk phones' -Confirm:$false
    }

    It 'keeps a default per platform; -Clear -Platform clears one' {
        Set-AdeDefaultProfile -Token 'Platforms' -Profile 'Phones'
        Set-AdeDefaultProfile -Token 'Platforms' -Profile 'TVs'
        $token = Get-AdeToken -Name 'Platforms'
        ($token.DefaultProfile, $token.DefaultTvOSProfile, $token.DefaultMacOSProfile) | Should -Be @('Phones', 'TVs', $null)
        Set-AdeDefaultProfile -Token 'Platforms' -Clear -Platform tvOS
        $token = Get-AdeToken -Name 'Platforms'
        ($token.DefaultProfile, $token.DefaultTvOSProfile) | Should -Be @('Phones', $null)
        # clearing a default that is not there changes nothing, not even the token's ModifiedAt
        $verbose = Set-AdeDefaultProfile -Token 'Platforms' -Clear -Platform tvOS -Verbose 4>&1
        "$verbose" | Should -Match 'has no tvOS default profile: nothing to clear'
        (Get-AdeToken -Name 'Platforms').ModifiedAt | Should -Be $token.ModifiedAt
    }

    It 'makes a piped profile its token''s default without -Profile; without either it is ArgumentInvalid, not a prompt' {
        Get-AdeProfile -Token 'Platforms' -Name 'TVs' | Set-AdeDefaultProfile
        (Get-AdeToken -Name 'Platforms').DefaultTvOSProfile | Should -Be 'TVs'
        $err = { Set-AdeDefaultProfile -Token 'Platforms' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeDefaultProfileCommand' -PassThru
        $err.Exception.Message | Should -Match 'Set-AdeDefaultProfile'
        Set-AdeDefaultProfile -Token 'Platforms' -Clear -Platform tvOS
    }

    It 'clears the default role of piped profiles only: a piped profile that is not a default changes nothing' {
        Set-AdeDefaultProfile -Token 'Platforms' -Profile 'Phones'
        Set-AdeDefaultProfile -Token 'Platforms' -Profile 'Macs'
        $other = New-AdeProfile -Token 'Platforms' -Name "Other phones $([guid]::NewGuid().ToString('N').Substring(0, 4))" -UserAffinity WithUserAffinity
        $other | Set-AdeDefaultProfile -Clear
        $token = Get-AdeToken -Name 'Platforms'
        ($token.DefaultProfile, $token.DefaultMacOSProfile) | Should -Be @('Phones', 'Macs')
        Get-AdeProfile -Token 'Platforms' -Name 'Macs' | Set-AdeDefaultProfile -Clear
        $token = Get-AdeToken -Name 'Platforms'
        ($token.DefaultProfile, $token.DefaultMacOSProfile) | Should -Be @('Phones', $null)
        Get-AdeProfile -Token 'Platforms' -Default | Set-AdeDefaultProfile -Clear -PassThru | Select-Object -ExpandProperty DefaultProfile | Should -BeNullOrEmpty
        $other | Remove-AdeProfile -Confirm:$false
    }

    It 'filters devices and profiles by -Platform, also combined with -Unassigned and with piped serials' {
        $macs = @(Get-AdeDevice -Token 'Platforms' -Platform macOS)
        $macs.Count | Should -Be 2
        $macs.DeviceFamily | Sort-Object -Unique | Should -Be 'Mac'
        @(Get-AdeDevice -Token 'Platforms' -Platform tvOS -Unassigned).Count | Should -Be 2
        @(Get-AdeDevice -Token 'Platforms' -Platform macOS, tvOS).DeviceFamily | Sort-Object -Unique | Should -Be @('AppleTV', 'Mac')
        # a piped serial of another platform is one that does not match the filters: its own error, as for -Unassigned
        $iOS = @((Get-AdeDevice -Token 'Platforms').SerialNumber | Get-AdeDevice -Platform iOS -ErrorVariable others -ErrorAction SilentlyContinue)
        $iOS.DeviceFamily | Sort-Object -Unique | Should -Be 'iPhone'
        $others.Count | Should -Be 4
        $others[0].FullyQualifiedErrorId | Should -Be 'DeviceNotFound,AdeEnrollment.Commands.GetAdeDeviceCommand'
        (Get-AdeProfile -Token 'Platforms' -Platform tvOS).Name | Should -Be 'TVs'
        (Get-AdeProfile -Token 'Platforms' -Name 'T*', 'M*' -Platform macOS).Name | Should -Be 'Macs'
        { Get-AdeDevice -Platform Windows -ErrorAction Stop } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,AdeEnrollment.Commands.GetAdeDeviceCommand'
    }

    It 'shows each profile''s platform in the table, and Shared iPad only for iOS profiles' {
        $table = Get-AdeProfile -Token 'Platforms' -Name 'Phones', 'Macs' | Format-Table | Out-String -Width 120
        $table | Should -Match 'Name\s+Token\s+Platform\s+UserAffinity\s+Authentication\s+Shared\s+Default\s+Devices'
        $table | Should -Match 'Phones\s+Platforms\s+iOS\s+WithUserAffinity\s+\S+\s+False'
        $table | Should -Match 'Macs\s+Platforms\s+macOS\s+WithoutUserAffinity\s+(True|False)\s+\d+\s*(\r?\n|$)' # no Shared value
    }

    It 'names the platform of a default in the way of Remove-AdeProfile, and its remedy clears only that one' {
        Set-AdeDefaultProfile -Token 'Platforms' -Profile 'Phones'
        Set-AdeDefaultProfile -Token 'Platforms' -Profile 'TVs'
        $err = { Remove-AdeProfile -Profile 'TVs' -Token 'Platforms' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileInUse,AdeEnrollment.Commands.RemoveAdeProfileCommand' -PassThru
        $err.Exception.Message | Should -Match "the default tvOS profile of token 'Platforms'"
        $remedy = [regex]::Match($err.Exception.Message, "Set-AdeDefaultProfile -Token 'Platforms' -Clear -Platform tvOS").Value
        $remedy | Should -Not -BeNullOrEmpty
        Invoke-Expression $remedy
        $token = Get-AdeToken -Name 'Platforms'
        ($token.DefaultProfile, $token.DefaultTvOSProfile) | Should -Be @('Phones', $null) # the iOS default stays
        Set-AdeDefaultProfile -Token 'Platforms' -Clear
    }

    It 'lists the panes per platform and never changes a platform after creation' {
        @(Get-AdeSetupScreen).Count | Should -Be 52
        (Get-AdeSetupScreen -Platform tvOS).Screen | Should -Contain 'TVRoom'
        (Get-AdeSetupScreen -Platform tvOS).Screen | Should -Not -Contain 'Passcode'
        (Get-AdeSetupScreen -Platform iOS | Where-Object Key -eq 'Safety').Screen | Should -Be 'EmergencySos'
        { Set-AdeProfile -Profile 'Macs' -Platform iOS -ErrorAction Stop } | Should -Throw -ErrorId 'NamedParameterNotFound,AdeEnrollment.Commands.SetAdeProfileCommand'
    }

    It 'completes -HiddenScreen with the panes of the platform only' {
        $line = "New-AdeProfile -Token Platforms -Name X -Platform tvOS -HiddenScreen TV"
        $names = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $names | Should -Be @('TVHomeScreenSync', 'TVProviderSignIn', 'TVRoom')
        # Without -Platform: the iOS panes (Accessibility and AdditionalPrivacySettings are macOS panes).
        $line = "New-AdeProfile -Token Platforms -Name X -HiddenScreen A"
        $names = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $names | Should -Be @('ActionButton', 'AndroidMigration', 'Appearance', 'AppleId', 'ApplePay', 'AppStore')
    }

    It 'refuses a language or region that is no ISO code, naming the code probably meant, and completes both from the lists' {
        $err = { New-AdeProfile -Token 'Platforms' -Name 'UK Macs' -Platform macOS -Region UK -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike "*-Region 'UK' is not valid*perhaps 'GB' (United Kingdom)*"
        $err = { Set-AdeProfile -Profile 'Macs' -Language 'en-GB' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.SetAdeProfileCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*perhaps 'en' (English): give the language alone*"
        @(Get-AdeProfile -Token 'Platforms' -Name 'UK*').Count | Should -Be 0
        (Get-AdeProfile -Token 'Platforms' -Name 'Macs').Language | Should -Be 'en'
        (Set-AdeProfile -Profile 'Macs' -Language deu -Region ch -Force -PassThru | ForEach-Object { $_.Language, $_.Region }) | Should -Be @('deu', 'CH')

        $line = 'New-AdeProfile -Token Platforms -Name X -Platform macOS -Region Swi'
        $match = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches)
        $match.CompletionText | Should -Be @('CH')
        $match.ToolTip | Should -Be @('Switzerland')
        $line = 'Set-AdeProfile -Profile Macs -Language ge'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('de', 'ka', 'geo', 'ger', 'gez', 'deu', 'gmh', 'goh', 'kat')
    }

    It 'keeps -Supervised and -InstallCompanyPortal working with a warning; -Unsupervised and -NoCompanyPortal read naturally' {
        $p = New-AdeProfile -Token 'Platforms' -Name 'Old spelling' -UserAffinity WithUserAffinity -Supervised:$false -WarningVariable w -WarningAction SilentlyContinue
        $p.Supervised | Should -BeFalse
        ($w -join "`n") | Should -Match '-Unsupervised'
        $p = New-AdeProfile -Token 'Platforms' -Name 'New spelling' -UserAffinity WithUserAffinity -Unsupervised -NoCompanyPortal -WarningAction SilentlyContinue
        ($p.Supervised, $p.InstallCompanyPortal) | Should -Be @($false, $false)
    }

    It 'warns that a plain -Supervised is no longer needed, and refuses both spellings that contradict each other' {
        $p = New-AdeProfile -Token 'Platforms' -Name 'Plain supervised' -UserAffinity WithUserAffinity -Supervised -WarningVariable w -WarningAction SilentlyContinue
        $p.Supervised | Should -BeTrue
        ($w -join "`n") | Should -Match 'no longer needed'
        $before = @(Get-AdeProfile -Token 'Platforms').Count
        { New-AdeProfile -Token 'Platforms' -Name 'Both' -UserAffinity WithUserAffinity -Supervised -Unsupervised -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand'
        { New-AdeProfile -Token 'Platforms' -Name 'Both' -UserAffinity WithUserAffinity -InstallCompanyPortal -NoCompanyPortal -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand'
        @(Get-AdeProfile -Token 'Platforms').Count | Should -Be $before
    }

    It 'imports a file whose panes are Apple''s skip keys, as -HiddenScreen takes them' {
        $file = Join-Path $TestDrive 'apple-keys.json'
        Set-Content $file '{ "$type": "AdeEnrollment.Profile", "SchemaVersion": 2, "Name": "Apple keys file", "Settings": { "Platform": "iOS", "UserAffinity": "WithoutUserAffinity", "HiddenScreens": ["TOS", "biometric"] } }'
        $p = Import-AdeProfile -Token 'Platforms' -Path $file
        $p.HiddenScreens | ForEach-Object ToString | Sort-Object | Should -Be @('TermsAndConditions', 'TouchIdFaceId')
        $p | Remove-AdeProfile -Confirm:$false
    }

    It 'exports the platform and imports it back' {
        $path = Join-Path $TestDrive 'tv.json'
        Export-AdeProfile -Profile 'TVs' -Token 'Platforms' -Path $path | Out-Null
        (Get-Content -Raw $path | ConvertFrom-Json).Settings.Platform | Should -Be 'tvOS'
        (Import-AdeProfile -Token 'Platforms' -Path $path -Name 'TVs copy').Platform | Should -Be 'tvOS'
    }
}
