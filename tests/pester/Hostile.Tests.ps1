# Hostile input and failing parts on the store/file side: catalogued errors that change nothing (docs/security.md).
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 41

    function Get-ErrorId([scriptblock] $Script) {
        try { & $Script; return $null } catch { return $_.FullyQualifiedErrorId }
    }
}

AfterAll {
    Stop-AdeSimulator
}

Describe 'The store key file is never replaced' {
    It 'refuses a new store beside an existing key file (StoreKeyFileExists) and keeps the key' {
        $path = Join-Path $TestDrive 'recreated.db'
        Set-Content -Path "$path.key" -Value 'the key of a backup' -NoNewline

        Get-ErrorId { Connect-AdeStore -Path $path } | Should -Be 'StoreKeyFileExists,AdeEnrollment.Commands.ConnectAdeStoreCommand'

        Get-Content -Raw "$path.key" | Should -Be 'the key of a backup'
        Test-Path $path | Should -BeFalse
    }

    It 'refuses a new passphrase store with a passphrase under 12 characters (StorePassphraseTooShort)' {
        $path = Join-Path $TestDrive 'weak.db'
        $weak = ConvertTo-SecureString 'Tr0ub4dor&3' -AsPlainText -Force

        $err = $null
        try { Connect-AdeStore -Path $path -Key $weak } catch { $err = $_ }

        $err.FullyQualifiedErrorId | Should -Be 'StorePassphraseTooShort,AdeEnrollment.Commands.ConnectAdeStoreCommand'
        $err.Exception.Message | Should -Not -Match 'Tr0ub4dor'
        Test-Path $path | Should -BeFalse
    }
}

Describe 'Output paths are checked before anything is stored' {
    BeforeEach {
        Connect-AdeStore -Path (Join-Path $TestDrive "out-$([guid]::NewGuid().ToString('N')).db")
    }

    It 'New-AdeTokenRequest -OutFile naming a folder is OutputPathInvalid and leaves no pending request' {
        Get-ErrorId { New-AdeTokenRequest -AcceptDataSharing -OutFile $TestDrive } |
            Should -Be 'OutputPathInvalid,AdeEnrollment.Commands.NewAdeTokenRequestCommand'
        @(Get-AdeTokenRequest).Count | Should -Be 0
    }

    It 'a path of only spaces or with a NUL is refused by Connect-AdeStore, Copy-AdeStore and -OutFile, and no file is made' {
        Push-Location $TestDrive
        try {
            $store = (Get-AdeStore).Path
            Get-ErrorId { Connect-AdeStore -Path '  ' } | Should -Be 'ArgumentInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand'
            Get-ErrorId { Connect-AdeStore -Path "a`0b.db" } | Should -Be 'ArgumentInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand'
            Get-ErrorId { Copy-AdeStore -DestinationPath '   ' -Confirm:$false } | Should -Be 'ArgumentInvalid,AdeEnrollment.Commands.CopyAdeStoreCommand'
            Get-ErrorId { Copy-AdeStore -DestinationPath "c`0.db" -Confirm:$false } | Should -Be 'ArgumentInvalid,AdeEnrollment.Commands.CopyAdeStoreCommand'
            Get-ErrorId { New-AdeTokenRequest -AcceptDataSharing -OutFile '  ' } | Should -Be 'OutputPathInvalid,AdeEnrollment.Commands.NewAdeTokenRequestCommand'
            @(Get-ChildItem -Force -Name | Where-Object { $_ -match '^\s+(\.key)?$' }).Count | Should -Be 0
            (Get-AdeStore).Path | Should -Be $store
        } finally {
            Pop-Location
        }
    }

    It 'New-AdeTokenRequest -OutFile naming the store key file is OutputPathInvalid and the key is kept' {
        $store = (Get-AdeStore).Path
        New-AdeTokenRequest -AcceptDataSharing | Out-Null # the key file exists once a secret was written
        $key = Get-Content -Raw "$store.key"

        Get-ErrorId { New-AdeTokenRequest -AcceptDataSharing -OutFile "$store.key" } |
            Should -Be 'OutputPathInvalid,AdeEnrollment.Commands.NewAdeTokenRequestCommand'
        Get-Content -Raw "$store.key" | Should -Be $key
        @(Get-AdeTokenRequest).Count | Should -Be 1
    }

    It 'Export-AdeProfile and New-AdeTokenRequest through a link to the store''s folder are OutputPathInvalid; a hard link is replaced, not written through' {
        $t = New-TestToken -Folder $TestDrive -Name "Links $([guid]::NewGuid().ToString('N').Substring(0, 4))"
        New-AdeProfile -Token $t.Token -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        $store = (Get-AdeStore).Path
        $key = Get-Content -Raw "$store.key"
        $linked = Join-Path $TestDrive "linked-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType SymbolicLink -Path $linked -Target (Split-Path $store) | Out-Null
        Get-ErrorId { Export-AdeProfile -Profile 'Staff' -Path (Join-Path $linked "$(Split-Path -Leaf $store).key") -ErrorAction Stop } |
            Should -Be 'OutputPathInvalid,AdeEnrollment.Commands.ExportAdeProfileCommand'
        Get-ErrorId { New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $linked (Split-Path -Leaf $store)) } |
            Should -Be 'OutputPathInvalid,AdeEnrollment.Commands.NewAdeTokenRequestCommand'
        Get-Content -Raw "$store.key" | Should -Be $key
        (Get-AdeProfile -Name 'Staff').Name | Should -Be 'Staff' # the store still opens

        if (-not $IsWindows) {
            $hard = Join-Path $TestDrive "hard-$([guid]::NewGuid().ToString('N')).json"
            & ln "$store.key" $hard
            $LASTEXITCODE | Should -Be 0
            Export-AdeProfile -Profile 'Staff' -Path $hard
            (Get-Content -Raw $hard | ConvertFrom-Json).Name | Should -Be 'Staff'
            Get-Content -Raw "$store.key" | Should -Be $key
        }
    }

    It '-NoClobber refuses an existing file (OutputFileExists); without it the file is replaced' {
        $pem = Join-Path $TestDrive 'existing.pem'
        Set-Content -Path $pem -Value 'keep' -NoNewline

        Get-ErrorId { New-AdeTokenRequest -AcceptDataSharing -OutFile $pem -NoClobber } |
            Should -Be 'OutputFileExists,AdeEnrollment.Commands.NewAdeTokenRequestCommand'
        Get-Content -Raw $pem | Should -Be 'keep'
        @(Get-AdeTokenRequest).Count | Should -Be 0

        $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
        Get-Content -Raw $pem | Should -Be $request.PublicKeyPem
    }

    It 'Export-AdeProfile -Path naming a folder is OutputPathInvalid, and -NoClobber keeps an existing file' {
        $t = New-TestToken -Folder $TestDrive -Name 'Exporter'
        New-AdeProfile -Token $t.Token -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        $existing = Join-Path $TestDrive 'staff.json'
        Set-Content -Path $existing -Value 'keep' -NoNewline

        Get-ErrorId { Export-AdeProfile -Profile 'Staff' -Path $TestDrive -ErrorAction Stop } |
            Should -Be 'OutputPathInvalid,AdeEnrollment.Commands.ExportAdeProfileCommand'
        Get-ErrorId { Export-AdeProfile -Profile 'Staff' -Path $existing -NoClobber -ErrorAction Stop } |
            Should -Be 'OutputFileExists,AdeEnrollment.Commands.ExportAdeProfileCommand'
        Get-Content -Raw $existing | Should -Be 'keep'
    }
}

Describe 'Input files must be regular files' -Skip:$IsWindows {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'fifo.db')
        $script:token = New-TestToken -Folder $TestDrive -Name 'Fifo'
        $script:fifo = Join-Path $TestDrive 'pipe.p7m'
        & mkfifo $script:fifo
        if ($LASTEXITCODE -ne 0) { throw 'mkfifo failed' }
    }

    It 'New-AdeToken -Path naming a FIFO is TokenFileInvalid at once (the pipe is never opened)' {
        $request = New-AdeTokenRequest -AcceptDataSharing
        $err = $null
        try { New-AdeToken -Request $request -Path $script:fifo -AppleId 'admin@contoso.com' -ServiceUri $sim.Uri } catch { $err = $_ }

        $err.FullyQualifiedErrorId | Should -Be 'TokenFileInvalid,AdeEnrollment.Commands.NewAdeTokenCommand'
        $err.Exception.Message | Should -Match 'not a regular file'
        (Get-AdeTokenRequest -Id $request.Id).Status | Should -Be 'Pending'
    }

    It 'Import-AdeProfile -Path naming a FIFO or a device is ProfileFileInvalid and creates nothing' {
        Get-ErrorId { Import-AdeProfile -Token 'Fifo' -Path $script:fifo -ErrorAction Stop } |
            Should -Be 'ProfileFileInvalid,AdeEnrollment.Commands.ImportAdeProfileCommand'
        Get-ErrorId { Import-AdeProfile -Token 'Fifo' -Path '/dev/zero' -ErrorAction Stop } |
            Should -Be 'ProfileFileInvalid,AdeEnrollment.Commands.ImportAdeProfileCommand'
        @(Get-AdeProfile -Token 'Fifo').Count | Should -Be 0
    }
}

Describe 'The simulator writes plain-text credentials privately' -Skip:$IsWindows {
    It 'New-AdeSimServer and Export-AdeSimServerToken -PlainTextOutFile write mode 0600, also over an existing 0644 file' {
        Connect-AdeStore -Path (Join-Path $TestDrive 'sim.db')
        $pem = Join-Path $TestDrive 'sim.pem'
        New-AdeTokenRequest -AcceptDataSharing -OutFile $pem | Out-Null
        $plain = Join-Path $TestDrive 'plain.txt'
        $again = Join-Path $TestDrive 'plain-again.txt'
        Set-Content -Path $again -Value 'old'
        [IO.File]::SetUnixFileMode($again, [IO.UnixFileMode]'UserRead, UserWrite, GroupRead, OtherRead')

        New-AdeSimServer -Name 'Private' -PublicKeyPath $pem -OutFile (Join-Path $TestDrive 'p.p7m') -PlainTextOutFile $plain | Out-Null
        Export-AdeSimServerToken -Server 'Private' -OutFile (Join-Path $TestDrive 'p2.p7m') -PlainTextOutFile $again | Out-Null

        [IO.File]::GetUnixFileMode($plain) | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        [IO.File]::GetUnixFileMode($again) | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        Get-Content -Raw $again | Should -Match 'BEGIN MESSAGE'
    }
}

Describe 'Values shown back in errors' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'echo.db')
        $script:t = New-TestToken -Folder $TestDrive -Name 'Echo'
    }

    It 'a value with a terminal escape is shown with U+FFFD in place of the control character' {
        $err = { Set-AdeToken -Token "No`e[2Jsuch" -ScopeTag 'x' -ErrorAction Stop } |
            Should -Throw -ErrorId 'TokenNotFound,AdeEnrollment.Commands.SetAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -Not -Match "`e"
        $err.Exception.Message.Contains("No$([char]0xFFFD)[2Jsuch") | Should -BeTrue
        "$($err.TargetObject)" | Should -Not -Match "`e"
    }

    It 'a value of 100,000 characters is shown cut short with its length, not repeated in full' {
        $err = { Set-AdeToken -Token ('x' * 100000) -ScopeTag 'x' -ErrorAction Stop } |
            Should -Throw -ErrorId 'TokenNotFound,AdeEnrollment.Commands.SetAdeTokenCommand' -PassThru
        $err.Exception.Message.Length | Should -BeLessThan 400
        $err.Exception.Message | Should -Match '\(100,000 characters\)'
    }

    It 'a name with half a surrogate pair is NameInvalid, a scope tag with an escape or a ; is ArgumentInvalid; the token is unchanged' {
        $before = Get-AdeToken -Name 'Echo'
        { Set-AdeToken -Token 'Echo' -NewName "Echo $([char]0xD800)" -ErrorAction Stop } |
            Should -Throw -ErrorId 'NameInvalid,AdeEnrollment.Commands.SetAdeTokenCommand'
        foreach ($tag in "Red`e[31m", 'Finance;HR', "Half $([char]0xDC00)") {
            $err = { Set-AdeToken -Token 'Echo' -ScopeTag 'Default', $tag -ErrorAction Stop } |
                Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeTokenCommand' -PassThru
            $err.Exception.Message | Should -Not -Match "`e"
        }
        $after = Get-AdeToken -Name 'Echo'
        ($after.Name, "$($after.ScopeTags)", $after.ModifiedAt) | Should -Be ($before.Name, "$($before.ScopeTags)", $before.ModifiedAt)
        # a whole pair is a character like any other
        (Set-AdeToken -Token 'Echo' -NewName "Echo $([char]::ConvertFromUtf32(0x1F4DF))" -PassThru).Name | Should -Be "Echo $([char]::ConvertFromUtf32(0x1F4DF))"
        Set-AdeToken -Token "Echo $([char]::ConvertFromUtf32(0x1F4DF))" -NewName 'Echo'
    }

    It 'a pasted VPP token file and more than 100 skip keys are ProfileSettingInvalid with a short message; nothing is created' {
        $err = { New-AdeProfile -Token 'Echo' -Name 'Vpp' -UserAffinity WithUserAffinity -CompanyPortalVppToken ('A' * 100000) -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand' -PassThru
        $err.Exception.Message.Length | Should -BeLessThan 1000
        $err = { New-AdeProfile -Token 'Echo' -Name 'Keys' -UserAffinity WithUserAffinity -AdditionalSkipKey (1..101 | ForEach-Object { "Pane$_" }) -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProfileSettingInvalid,AdeEnrollment.Commands.NewAdeProfileCommand' -PassThru
        $err.Exception.Message | Should -Match 'at most 100 keys'
        Get-AdeProfile -Token 'Echo' | Where-Object Name -in 'Vpp', 'Keys' | Should -BeNullOrEmpty
    }

    It 'a store path naming a device is StoreInvalid, and the store in use stays' -Skip:$IsWindows {
        $store = (Get-AdeStore).Path
        $err = { Connect-AdeStore -Path '/dev/null' } | Should -Throw -ErrorId 'StoreInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand' -PassThru
        $err.Exception.Message | Should -Match 'a device, a pipe or a socket'
        (Get-AdeStore).Path | Should -Be $store
    }

    It 'New-AdeMdmServer -CertificatePath naming a device that never ends is refused at once' -Skip:$IsWindows {
        $sa = New-AdeSimBusinessAccount -KeyOutFile $TestDrive
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri | Out-Null
        $err = { New-AdeMdmServer -Name 'Zero' -CertificatePath '/dev/zero' -Account $sa.ClientId -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.NewAdeMdmServerCommand' -PassThru
        $err.Exception.Message | Should -Match 'not a regular file'
        $err = { New-AdeMdmServer -Name 'Zero' -CertificatePath $TestDrive -Account $sa.ClientId -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.NewAdeMdmServerCommand' -PassThru
        $err.Exception.Message | Should -Match 'is a folder'
        Get-AdeSimRequest -Path '/v1/mdmServers' | Where-Object Method -eq 'POST' | Should -BeNullOrEmpty
    }

    It 'an enrollment URL with a line break is ArgumentInvalid and the token keeps its URL' {
        $before = (Get-AdeToken -Name 'Echo').EnrollmentUrl
        { Set-AdeToken -Token 'Echo' -EnrollmentUrl "https://mdm.contoso.com/enroll`r`nX-Injected: 1" -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeTokenCommand'
        (Get-AdeToken -Name 'Echo').EnrollmentUrl | Should -Be $before
    }

    It 'a postgresql:// URI whose password holds an unencoded / is refused without showing the password' {
        $err = { Connect-AdeStore -ConnectionString 'postgresql://ade:12/Pw0rdSecret@127.0.0.1/ade' -ErrorAction Stop } |
            Should -Throw -ErrorId 'StoreConnectionStringInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand' -PassThru
        $err.Exception.Message | Should -Not -Match 'Pw0rdSecret'
        $err.Exception.Message | Should -Match '%2F'
        (Get-AdeStore).Path | Should -BeLike '*echo.db'
    }
}

Describe 'Apple answers that leave out devices sent' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'partial.db')
        New-SimToken -Name 'Partial' -Devices 3 | Out-Null
        Sync-AdeDevice -Token Partial | Out-Null
        New-AdeProfile -Token Partial -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        $script:serials = @((Get-AdeDevice -Token Partial).SerialNumber)
        Set-AdeDeviceProfile -Profile Staff -SerialNumber $serials[0] | Out-Null # defines the profile at Apple
    }

    AfterAll { Clear-AdeSimFault }

    It 'an assignment answer without the outcome of every device is AppleResponseInvalid; nothing is recorded or held back' {
        Set-AdeSimFault -Endpoint '/profile/devices' -StatusCode 200 -Body '{"devices":{"NOTMINE":"SUCCESS"}}' -Count 1 | Out-Null
        $err = { Set-AdeDeviceProfile -Profile Staff -SerialNumber $serials[1], $serials[2] -ErrorAction Stop } |
            Should -Throw -ErrorId 'AppleResponseInvalid,AdeEnrollment.Commands.SetAdeDeviceProfileCommand' -PassThru
        $err.Exception.Message | Should -Match 'no outcome for 2 devices of the 2 sent'
        Get-AdeDevice -SerialNumber $serials[1], $serials[2] | ForEach-Object { $_.LastAssignmentResult | Should -BeNullOrEmpty }
        @(Set-AdeDeviceProfile -Profile Staff -SerialNumber $serials[1], $serials[2]).Status | Should -Be @('Success', 'Success')
    }
}
