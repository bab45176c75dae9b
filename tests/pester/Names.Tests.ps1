# The one name rule: an exact name first, otherwise PowerShell's wildcard semantics — the same for every cmdlet.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 7
    Connect-AdeStore -Path (Join-Path $TestDrive 'names.db')
    New-SimToken -Name 'Contoso [EU]' -Devices 3 | Out-Null
    New-SimToken -Name 'Contoso E' | Out-Null
    New-SimToken -Name 'Contoso U' | Out-Null
    # A server name from Apple that is not a valid wildcard: the token is named after it (no -Name).
    $pem = Join-Path $TestDrive 'sites.pem'; $p7m = Join-Path $TestDrive 'sites.p7m'
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
    New-AdeSimServer -Name 'Sites [new-old]' -PublicKeyPath $pem -OutFile $p7m | Out-Null
    New-AdeToken -Request $request -Path $p7m -AppleId 'ade.admin@contoso.example' -ServiceUri $sim.Uri | Out-Null
    Add-AdeSimDevice -Server 'Sites [new-old]' -Count 2 | Out-Null
}

AfterAll { Stop-AdeSimulator }

Describe 'Token and profile names' {
    It 'Get-AdeToken -Name finds a name with brackets exactly, as Sync-AdeDevice -Token does' {
        @(Get-AdeToken -Name 'Contoso [EU]').Name | Should -Be 'Contoso [EU]'
        (Sync-AdeDevice -Token 'Contoso [EU]').Added | Should -Be 3
    }

    It 'a name with escaped brackets (as -like reads it) names that token and profile' {
        (Get-AdeToken -Name 'Contoso `[EU`]').Name | Should -Be 'Contoso [EU]'
        New-AdeProfile -Token 'Contoso `[EU`]' -Name 'Staff [Paris]' -UserAffinity WithUserAffinity | Out-Null
        (Get-AdeProfile -Name 'Staff `[Paris`]').Name | Should -Be 'Staff [Paris]'
        (Set-AdeProfile -Profile 'Staff `[Paris`]' -Token 'Contoso `[EU`]' -Department 'Paris' -PassThru).Department | Should -Be 'Paris'
        Remove-AdeProfile -Profile 'Staff `[Paris`]' -Token 'Contoso [EU]' -Confirm:$false
    }

    It 'reads a reference that names no token as a PowerShell wildcard' {
        # No token is called 'Contoso [EU]x': as a wildcard that is neither E nor U followed by x.
        @(Get-AdeToken -Name 'Contoso [EU]').Count | Should -Be 1
        @(Get-AdeToken -Name 'contoso [eu]*' | Sort-Object Name).Name | Should -Be @('Contoso E', 'Contoso U')
        @(Get-AdeToken -Name 'Contoso ?').Count | Should -Be 2
        # PowerShell has no negation in sets: [!E] is the set of '!' and 'E'.
        @(Get-AdeToken -Name 'Contoso [!E]').Name | Should -Be 'Contoso E'
    }

    It 'a server name that is not a valid wildcard works in every -Token' {
        (Get-AdeToken -Name 'Sites [new-old]').Name | Should -Be 'Sites [new-old]'
        (Sync-AdeDevice -Token 'Sites [new-old]').Added | Should -Be 2
        @(Get-AdeDevice -Token 'Sites [new-old]').Count | Should -Be 2
        $p = New-AdeProfile -Token 'Sites [new-old]' -Name 'Kiosk [A]' -UserAffinity WithoutUserAffinity
        (Get-AdeProfile -Token 'Sites [new-old]' -Name 'Kiosk [A]').Id | Should -Be $p.Id
    }

    It 'a name that is not a valid wildcard and names nothing is not found, in every cmdlet (<Command>)' -ForEach @(
        @{ Command = 'Get-AdeToken'; Call = { Get-AdeToken 'Contoso [' -ErrorAction Stop }; Id = 'TokenNotFound,AdeEnrollment.Commands.GetAdeTokenCommand' }
        @{ Command = 'Get-AdeDevice'; Call = { Get-AdeDevice -Token 'Sites [old-new' -ErrorAction Stop }; Id = 'TokenNotFound,AdeEnrollment.Commands.GetAdeDeviceCommand' }
        @{ Command = 'Get-AdeProfile'; Call = { Get-AdeProfile -Token 'Sites [new-old]' -Name 'Kiosk [B-A]' -ErrorAction Stop }; Id = 'ProfileNotFound,AdeEnrollment.Commands.GetAdeProfileCommand' }
    ) {
        # A typo with a stray bracket was silently empty: PowerShell refuses such a pattern, so it is a name like any other.
        $Call | Should -Throw -ErrorId $Id
    }

    It 'an ambiguous wildcard is refused for a single-token parameter' {
        { Sync-AdeDevice -Token 'Contoso ?' } | Should -Throw -ErrorId 'TokenAmbiguous,AdeEnrollment.Commands.SyncAdeDeviceCommand'
    }

    It 'a -Token wildcard of a Get- cmdlet or Test-AdeHealth gets what every matching token has' {
        Sync-AdeDevice -Token 'Contoso E' | Out-Null
        Sync-AdeDevice -Token 'Contoso U' | Out-Null
        Add-AdeSimDevice -Server 'Contoso E' -Count 2 | Out-Null
        Add-AdeSimDevice -Server 'Contoso U' -Count 1 | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        try {
            Sync-AdeDevice -Token 'Contoso E' | Out-Null
            Sync-AdeDevice -Token 'Contoso U' | Out-Null
        } finally { Set-AdeSimClock -Reset }
        New-AdeProfile -Token 'Contoso E' -Name 'Both' -UserAffinity WithUserAffinity | Out-Null
        New-AdeProfile -Token 'Contoso U' -Name 'Both' -UserAffinity WithUserAffinity | Out-Null

        @(Get-AdeDevice -Token 'Contoso ?' | Sort-Object Token -Unique).Token | Should -Be @('Contoso E', 'Contoso U')
        @(Get-AdeDevice -Token 'Contoso ?').Count | Should -Be 3
        @(Get-AdeDevice -Token 'Contoso ?' -Profile 'Both').Count | Should -Be 0 # no device holds it yet
        @(Get-AdeProfile -Token 'Contoso ?' -Name 'Both').Token | Sort-Object | Should -Be @('Contoso E', 'Contoso U')
        @(Get-AdeSyncStatus -Token 'Contoso ?').Token | Sort-Object | Should -Be @('Contoso E', 'Contoso U')
        @(Get-AdeDeviceEvent -Token 'Contoso ?' | Sort-Object Token -Unique).Token | Should -Be @('Contoso E', 'Contoso U')
        $events = @(Get-AdeDeviceEvent -Token 'Contoso ?')
        ($events.Id | Sort-Object) | Should -Be $events.Id # oldest first across the tokens
        @(Test-AdeHealth -Token 'Contoso ?' | Where-Object Check -eq 'TokenExpiry').Token | Sort-Object | Should -Be @('Contoso E', 'Contoso U')
        # a piped device of a token the wildcard does not match is filtered out, naming the token it is in
        $eu = (Get-AdeDevice -Token 'Contoso [EU]')[0]
        $err = { $eu | Get-AdeDevice -Token 'Contoso ?' -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceNotFound,AdeEnrollment.Commands.GetAdeDeviceCommand' -PassThru
        $err.Exception.Message | Should -Match "token 'Contoso \[EU\]'"
        # a wildcard that matches no token gets nothing, without an error; a plain name that matches none is TokenNotFound
        @(Get-AdeDevice -Token 'Nowhere*' -ErrorAction Stop).Count | Should -Be 0
        @(Get-AdeProfile -Token 'Nowhere*' -Name 'Both' -ErrorAction Stop).Count | Should -Be 0
        @(Get-AdeDeviceEvent -Token 'Nowhere*' -ErrorAction Stop).Count | Should -Be 0
        { Get-AdeProfile -Token 'Nowhere' -ErrorAction Stop } | Should -Throw -ErrorId 'TokenNotFound,AdeEnrollment.Commands.GetAdeProfileCommand'
        # serials under a wildcard with -Profile: each device's own token's profile of that name
        $e1 = (Get-AdeDevice -Token 'Contoso E')[0]
        Set-AdeDeviceProfile -Profile 'Both' -Token 'Contoso E' -SerialNumber $e1.SerialNumber | Out-Null
        (Get-AdeDevice -Token 'Contoso ?' -Profile 'Both' -SerialNumber $e1.SerialNumber -ErrorAction Stop).SerialNumber | Should -Be $e1.SerialNumber
        (Get-AdeDevice -Token 'Contoso ?' -Profile 'Both' -ErrorAction Stop).SerialNumber | Should -Be $e1.SerialNumber
        $tokens = @(Get-AdeDevice -Token 'Contoso ?').Token
        $tokens | Should -Be @($tokens | Sort-Object) # one listing, token by token
        # a profile none of the matching tokens has is ProfileNotFound, as with one token
        { Get-AdeDevice -Token 'Contoso ?' -Profile 'Nope' -ErrorAction Stop } | Should -Throw -ErrorId 'ProfileNotFound,AdeEnrollment.Commands.GetAdeDeviceCommand'
        { Get-AdeDevice -Token 'Contoso ?' -Profile 'Nope' -SerialNumber $e1.SerialNumber -ErrorAction Stop } | Should -Throw -ErrorId 'ProfileNotFound,AdeEnrollment.Commands.GetAdeDeviceCommand'
        # a piped serial under the wildcard reads each token's own profile (it was ProfileAmbiguous)
        ($e1.SerialNumber | Get-AdeDevice -Token 'Contoso ?' -Profile 'Both' -ErrorAction Stop).SerialNumber | Should -Be $e1.SerialNumber
        # a piped token the wildcard names but that lacks the profile is its own ProfileNotFound
        New-AdeProfile -Token 'Contoso E' -Name 'Only E' -UserAffinity WithUserAffinity | Out-Null
        { Get-AdeToken -Name 'Contoso U' | Get-AdeDevice -Token 'Contoso ?' -Profile 'Only E' -ErrorAction Stop } | Should -Throw -ErrorId 'ProfileNotFound,AdeEnrollment.Commands.GetAdeDeviceCommand'
        # a piped token or profile that -Token does not name is left out, one token or several
        @(Get-AdeToken -Name 'Contoso U' | Get-AdeDevice -Token 'Contoso E').Count | Should -Be 0
        @(Get-AdeToken -Name 'Contoso U' | Get-AdeDevice -Token '*E*').Count | Should -Be 0 # several tokens, not U
    }

    It 'a hashtable that holds itself is refused, not followed (it overflowed the stack)' {
        $h = @{}; $h.Id = $h
        { Get-AdeSyncStatus -Token $h -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,AdeEnrollment.Commands.GetAdeSyncStatusCommand'
    }

    It 'a token named by its name and by its Id in one manual sync''s pipeline is synced once' {
        $t = New-SimToken -Name "Once $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 1
        @($t.Token.Name, "$($t.Token.Id)" | Sync-AdeDevice -ErrorAction Stop).Count | Should -Be 1
    }

    It 'a pathological pattern is answered without a regex' {
        @(Get-AdeToken -Name '*a*a*a*a*a*a*a*a*a*a*a*a*a*b').Count | Should -Be 0
    }

    It 'completion offers names under the same rule' {
        $r = TabExpansion2 -inputScript 'Get-AdeToken -Name Contoso' -cursorColumn 'Get-AdeToken -Name Contoso'.Length
        $r.CompletionMatches.ListItemText | Should -Contain 'Contoso [EU]'
        $r = TabExpansion2 -inputScript "Get-AdeToken -Name 'Sites [" -cursorColumn "Get-AdeToken -Name 'Sites [".Length
        $r.CompletionMatches.ListItemText | Should -Contain 'Sites [new-old]'
    }

    It 'a completed name runs as the name itself, whatever characters it holds (<Name>)' -ForEach @(
        @{ Name = 'Dept$Sales' }, @{ Name = 'EU(2)' }, @{ Name = "O'Brien, Kiosk" }, @{ Name = '-Lab' }, @{ Name = 'Plain-Name_2.0' }
    ) {
        Set-AdeToken -Token 'Contoso E' -NewName $Name
        try {
            $line = 'Get-AdeToken -Name '
            $text = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Where-Object ListItemText -EQ $Name | ForEach-Object CompletionText)
            $text.Count | Should -Be 1
            (Invoke-Expression "Get-AdeToken -Name $($text[0])").Name | Should -Be $Name
            if ($Name -eq 'Plain-Name_2.0') { $text[0] | Should -Be $Name } # a plain name is offered bare
        } finally {
            Set-AdeToken -Token $Name -NewName 'Contoso E'
        }
    }

    It 'pressing Tab never creates a store' {
        $fresh = Join-Path $TestDrive "tab-$([guid]::NewGuid().ToString('N')).db"
        $saved = $env:ADE_ENROLLMENT_STORE
        Disconnect-AdeStore
        $env:ADE_ENROLLMENT_STORE = $fresh
        try {
            foreach ($line in 'Sync-AdeDevice -Token ', 'Get-AdeProfile -Name ', 'New-AdeProfile -Token x -Profile y -HiddenScreen ', 'Get-AdeDevice -SerialNumber ',
                'Set-AdeOrgDeviceServer -SerialNumber X -MdmServer ', 'Get-AdeOrgDeviceActivity -Id ') {
                $null = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            }
            @(Get-ChildItem -Path "$fresh*").Count | Should -Be 0
            (Get-AdeStore).Exists | Should -BeFalse
        } finally {
            $env:ADE_ENROLLMENT_STORE = $saved
            Connect-AdeStore -Path (Join-Path $TestDrive 'names.db')
        }
    }
}

Describe 'Wildcards: the parameters and their pages agree' {
    BeforeDiscovery {
        . $PSScriptRoot/Common.ps1
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $script:commands = foreach ($command in Get-Command -Module AdeEnrollment -CommandType Cmdlet | Sort-Object Name) {
            @{
                Name       = $command.Name
                Parameters = @($command.Parameters.Values | Where-Object Name -notin $common | ForEach-Object {
                        @{
                            Name      = $_.Name
                            Wildcards = [bool]($_.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                        }
                    })
            }
        }
    }

    It '<Name>: every parameter with [SupportsWildcards()] says "Accept wildcard characters: True" in its page, and no other' -ForEach $commands {
        $page = Get-Content -Raw (Join-Path $PSScriptRoot "../../docs/$Name.md")
        $wrong = foreach ($p in $Parameters) {
            $section = [regex]::Match($page, "(?ms)^### -$($p.Name)\r?\n(.*?)(?=^##)").Groups[1].Value
            $said = [regex]::Match($section, '(?m)^Accept wildcard characters:\s*(\w+)\s*$')
            if (-not $said.Success) { "-$($p.Name): the page does not say whether it accepts wildcard characters"; continue }
            if ($said.Groups[1].Value -ne "$($p.Wildcards)") { "-$($p.Name): the page says $($said.Groups[1].Value), the parameter has [SupportsWildcards()]: $($p.Wildcards)" }
        }
        $wrong | Should -BeNullOrEmpty
    }

    It '<Name>: every -Token, -Profile, -Account and -MdmServer (read under the one name rule) has [SupportsWildcards()]' -ForEach $commands {
        $missing = $Parameters | Where-Object { $_.Name -in 'Token', 'Profile', 'Account', 'MdmServer' -and -not $_.Wildcards } | ForEach-Object { "-$($_.Name)" }
        $missing | Should -BeNullOrEmpty
    }
}
