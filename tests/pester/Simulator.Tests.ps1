#Requires -Modules Pester
# The simulator module end-to-end through the built modules, as an administrator's Pester suite would use it.

BeforeAll {
    Import-Module AdeEnrollment.Simulator -ErrorAction Stop
    $script:sim = Start-AdeSimulator -Seed 1234

    function New-TestServer {
        # New-AdeTokenRequest -> New-AdeSimServer: the PEM goes to "ABM", the .p7m comes back.
        param([string] $Name, [string] $OrgName = 'Contoso Ltd')
        $request = New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $TestDrive "$Name.pem")
        $server = New-AdeSimServer -Name $Name -PublicKeyPath (Join-Path $TestDrive "$Name.pem") -OutFile (Join-Path $TestDrive "$Name.p7m") -OrgName $OrgName -AdminId 'abm.admin@contoso.example'
        [pscustomobject]@{ Request = $request; Server = $server; TokenFile = Join-Path $TestDrive "$Name.p7m" }
    }

    function Connect-TestStore {
        param([string] $Name)
        Connect-AdeStore -Path (Join-Path $TestDrive "$Name.db")
    }
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'AdeEnrollment.Simulator module' {
    It 'exports exactly the simulator cmdlets' {
        (Get-Command -Module AdeEnrollment.Simulator).Name | Sort-Object | Should -Be @(
            'Add-AdeSimDevice', 'Add-AdeSimOrgDevice', 'Clear-AdeSimFault', 'Clear-AdeSimRequest', 'Export-AdeSimServerToken', 'Get-AdeSimClock', 'Get-AdeSimDevice',
            'Get-AdeSimOrgDevice', 'Get-AdeSimProfile', 'Get-AdeSimRequest', 'New-AdeSimBusinessAccount', 'New-AdeSimServer', 'New-AdeSimTenant', 'Remove-AdeSimDevice',
            'Set-AdeSimBusinessApi', 'Set-AdeSimClock', 'Set-AdeSimDevice', 'Set-AdeSimFault', 'Set-AdeSimProfile', 'Set-AdeSimServer',
            'Start-AdeSimulator', 'Stop-AdeSimulator', 'Use-AdeSimulator')
    }

    It 'requires the AdeEnrollment module' {
        (Get-Module AdeEnrollment.Simulator).RequiredModules.Name | Should -Be 'AdeEnrollment'
    }

    It 'Use-AdeSimulator makes a running simulator current for the other simulator cmdlets; a stopped one is refused' {
        $first = Start-AdeSimulator
        $second = Start-AdeSimulator
        try {
            Use-AdeSimulator $first
            Set-AdeSimFault -Endpoint '/account' -StatusCode 503 -Count 1 | Out-Null
            @($first.GetFaults()).Count | Should -Be 1
            @($second.GetFaults()).Count | Should -Be 0
            ($second | Use-AdeSimulator -PassThru).Uri | Should -Be $second.Uri
            Clear-AdeSimFault # the second's: none
            @($first.GetFaults()).Count | Should -Be 1
            $second | Stop-AdeSimulator
            Clear-AdeSimFault # the first is current again
            @($first.GetFaults()).Count | Should -Be 0
            { Use-AdeSimulator $second -ErrorAction Stop } | Should -Throw -ErrorId 'SimulatorStopped,AdeEnrollment.Simulator.Commands.UseAdeSimulatorCommand'
        } finally {
            $first, $second | Where-Object IsRunning | Stop-AdeSimulator
            Use-AdeSimulator $sim
        }
    }

    It 'Remove-Module stops its simulators and makes time real again for the AdeEnrollment cmdlets that stay loaded' {
        # in a child pwsh: this session keeps its simulator module
        $work = Join-Path $TestDrive 'unload'
        New-Item -ItemType Directory $work | Out-Null
        $child = Join-Path $work 'unload.ps1'
        Set-Content $child @'
param($Work)
$ErrorActionPreference = 'Stop'
Import-Module AdeEnrollment.Simulator
$sim = Start-AdeSimulator
Set-AdeSimClock -Advance (New-TimeSpan -Days 30) | Out-Null
Connect-AdeStore -Path (Join-Path $Work 'store.db')
Remove-Module AdeEnrollment.Simulator
$listening = try { $null = Invoke-WebRequest "$($sim.Uri)account" -SkipHttpErrorCheck -TimeoutSec 5; $true } catch { $false }
$created = (New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $Work 'r.pem')).CreatedAt
@{ Listening = $listening; DriftSeconds = [math]::Abs(($created - [DateTimeOffset]::UtcNow).TotalSeconds) } | ConvertTo-Json | Set-Content (Join-Path $Work 'result.json')
'@
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $env:XDG_DATA_HOME, $saved = $work, $env:XDG_DATA_HOME
        try { $output = & $pwsh -NoProfile -NonInteractive -File $child -Work $work 2>&1 } finally { $env:XDG_DATA_HOME = $saved }
        $result = if (Test-Path (Join-Path $work 'result.json')) { Get-Content -Raw (Join-Path $work 'result.json') | ConvertFrom-Json } else { throw "The child pwsh failed: $output" }
        $result.Listening | Should -BeFalse
        $result.DriftSeconds | Should -BeLessThan 3600 -Because 'the request is dated now, not 30 simulated days ahead'
    }

    It 'Stop-AdeSimulator -WhatIf stops nothing' {
        Stop-AdeSimulator -WhatIf
        $sim.IsRunning | Should -BeTrue
    }

    It 'listens on the loopback address only' {
        $sim | Should -BeOfType 'AdeEnrollment.Simulator.AdeSimulator'
        $sim.Uri.IsLoopback | Should -BeTrue
        $sim.Uri.Host | Should -Be ($IsWindows ? 'localhost' : '127.0.0.1')
        $sim.Port | Should -BeGreaterThan 0
        $sim.Seed | Should -Be 1234
        $sim.IsRunning | Should -BeTrue
    }
}

Describe 'New-AdeToken against the simulator' {
    It 'imports the token and shows the MDM server and organisation' {
        Connect-TestStore 'import'
        $t = New-TestServer -Name 'Contoso iPhones'
        $token = New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri
        $token.Name | Should -Be 'Contoso iPhones'
        $token.ServerName | Should -Be 'Contoso iPhones'
        $token.OrgName | Should -Be 'Contoso Ltd'
        $token.ServerUuid | Should -Be $t.Server.Uuid
        $token.AdminId | Should -Be 'abm.admin@contoso.example'
        $token.OrgType | Should -Be 'org'
        (Get-AdeToken -Name 'Contoso iPhones').ServerName | Should -Be 'Contoso iPhones'
        (Get-AdeSimRequest -Path '/account' | Select-Object -Last 1).StatusCode | Should -Be 200
    }

    It 'puts a server created without -OrgName in the first server''s organisation' {
        $pem = Join-Path $TestDrive 'second.pem'
        New-AdeTokenRequest -AcceptDataSharing -OutFile $pem | Out-Null
        (New-AdeSimServer -Name 'Second org server' -PublicKeyPath $pem -OutFile (Join-Path $TestDrive 'second.p7m')).OrgName | Should -Be 'Contoso Ltd'
    }

    It 'refuses a token that Apple rejects and stores nothing' {
        Connect-TestStore 'replaced'
        $t = New-TestServer -Name 'Replaced'
        Export-AdeSimServerToken -Server $t.Server -OutFile (Join-Path $TestDrive 'replaced-new.p7m') | Out-Null
        { New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri } |
            Should -Throw -ErrorId 'AppleTokenRejected,AdeEnrollment.Commands.NewAdeTokenCommand'
        Get-AdeToken | Should -BeNullOrEmpty
        (Get-AdeTokenRequest -Id $t.Request.Id).Status | Should -Be 'Pending'
    }
}

Describe 'Export-AdeSimServerToken' {
    It 'downloads a new token and the previous one stops working' {
        Connect-TestStore 'export'
        $t = New-TestServer -Name 'Export'
        $server = Export-AdeSimServerToken -Server 'Export' -OutFile (Join-Path $TestDrive 'export-2.p7m')
        $server.TokenVersion | Should -Be 2
        $server.TokenFile | Should -Be (Join-Path $TestDrive 'export-2.p7m')
        { New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri } |
            Should -Throw -ErrorId 'AppleTokenRejected,AdeEnrollment.Commands.NewAdeTokenCommand'
        $token = New-AdeToken -Request $t.Request -Path (Join-Path $TestDrive 'export-2.p7m') -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri
        $token.ServerName | Should -Be 'Export'
    }

    It 'writes an ABM-style file name into a folder' {
        $null = New-TestServer -Name 'Folder Server'
        $folder = New-Item -ItemType Directory (Join-Path $TestDrive 'downloads')
        $server = Export-AdeSimServerToken -Server 'Folder Server' -OutFile $folder.FullName -ExpiresAt ([DateTimeOffset]::UtcNow.AddDays(20))
        Split-Path -Leaf $server.TokenFile | Should -Match '^Folder_Server_Token_.+_smime\.p7m$'
        $server.TokenExpiresAt | Should -BeLessThan ([DateTimeOffset]::UtcNow.AddDays(21))
    }
}

Describe 'Simulated devices' {
    BeforeAll { Connect-TestStore 'devices'; $null = New-TestServer -Name 'Devices' }

    It 'adds generated devices of a family' {
        $devices = Add-AdeSimDevice -Server 'Devices' -Count 5 -DeviceFamily iPad
        $devices | Should -HaveCount 5
        $devices.DeviceFamily | Sort-Object -Unique | Should -Be 'iPad'
        $devices.Os | Sort-Object -Unique | Should -Be 'iPadOS'
        $devices.ProfileStatus | Sort-Object -Unique | Should -Be 'empty'
        $devices[0].SerialNumber | Should -Match '^[A-Z0-9]{10}$'
    }

    It 'adds named devices and shows them as Apple sees them' {
        Add-AdeSimDevice -Server 'Devices' -SerialNumber 'C02ABC123XYZ', 'DMPQRS456TUV' | Should -HaveCount 2
        $device = Get-AdeSimDevice -Server 'Devices' -SerialNumber 'C02ABC123XYZ'
        $device.SerialNumber | Should -Be 'C02ABC123XYZ'
        $device.DeviceAssignedBy | Should -Be 'abm.admin@contoso.example'
        Get-AdeSimDevice -Server 'Devices' -SerialNumber 'C02*' | Should -HaveCount 1
    }

    It 'refuses a serial that another server holds' {
        $null = New-TestServer -Name 'Elsewhere'
        { Add-AdeSimDevice -Server 'Elsewhere' -SerialNumber 'C02ABC123XYZ' } |
            Should -Throw -ErrorId 'DeviceExists,AdeEnrollment.Simulator.Commands.AddAdeSimDeviceCommand'
    }

    It 'removes devices from the pipeline and reports unknown serials without stopping' {
        Get-AdeSimDevice -Server 'Devices' -SerialNumber 'DMPQRS456TUV' | Remove-AdeSimDevice
        Remove-AdeSimDevice -Server 'Devices' -SerialNumber 'NOSUCHSERIAL', 'C02ABC123XYZ' -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'DeviceNotFound,AdeEnrollment.Simulator.Commands.RemoveAdeSimDeviceCommand'
        Get-AdeSimDevice -Server 'Devices' -SerialNumber 'C02ABC123XYZ', 'DMPQRS456TUV' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-AdeSimDevice -Server 'Devices') | Should -HaveCount 5
    }

    It 'a device unassigned from one server and added to another is the same hardware, with a new assignment' {
        $null = New-TestServer -Name 'Moved to'
        $before = Add-AdeSimDevice -Server 'Devices' -SerialNumber 'F9MOVED0001'
        $before | Remove-AdeSimDevice
        $after = Add-AdeSimDevice -Server 'Moved to' -SerialNumber 'F9MOVED0001'
        ($after.Model, $after.Description, $after.Color, $after.DeviceFamily, $after.Os) | Should -Be @($before.Model, $before.Description, $before.Color, $before.DeviceFamily, $before.Os)
        ($after.Server, $after.ProfileStatus) | Should -Be @('Moved to', 'empty')
    }

    It 'names a server that does not exist' {
        { Add-AdeSimDevice -Server 'Nope' -Count 1 } | Should -Throw -ErrorId 'ServerNotFound,AdeEnrollment.Simulator.Commands.AddAdeSimDeviceCommand'
        { Get-AdeSimDevice -Server 'Nope' } | Should -Throw -ErrorId 'ServerNotFound,AdeEnrollment.Simulator.Commands.GetAdeSimDeviceCommand'
    }

    It 'refuses a file that is not a certificate' {
        Set-Content -Path (Join-Path $TestDrive 'not.pem') -Value 'hello'
        { New-AdeSimServer -Name 'Bad' -PublicKeyPath (Join-Path $TestDrive 'not.pem') -OutFile (Join-Path $TestDrive 'bad.p7m') } |
            Should -Throw -ErrorId 'CertificateInvalid,AdeEnrollment.Simulator.Commands.NewAdeSimServerCommand'
        { New-AdeSimServer -Name 'Devices' -PublicKeyPath (Join-Path $TestDrive 'Devices.pem') -OutFile (Join-Path $TestDrive 'dup.p7m') } |
            Should -Throw -ErrorId 'ServerExists,AdeEnrollment.Simulator.Commands.NewAdeSimServerCommand'
    }
}

Describe 'Get-AdeSimProfile' {
    BeforeAll {
        Connect-TestStore 'profiles'
        $null = New-TestServer -Name 'Pairing'
        $null = New-AdeToken -Request (Get-AdeTokenRequest | Select-Object -Last 1) -Path (Join-Path $TestDrive 'Pairing.p7m') -AppleId 'ade.admin@contoso.example' -Name 'Pairing' -EnrollmentUrl 'https://mdm.contoso.example/enroll' -ServiceUri $sim.Uri
        Add-AdeSimDevice -Server 'Pairing' -Count 3 -DeviceFamily iPad | Out-Null
        Sync-AdeDevice -Token 'Pairing' | Out-Null
        $key = [Security.Cryptography.ECDsa]::Create()
        $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Bench Mac', $key, [Security.Cryptography.HashAlgorithmName]::SHA256)
        $script:certPath = Join-Path $TestDrive 'bench-mac.cer'
        [IO.File]::WriteAllBytes($certPath, $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddYears(1)).RawData)
        $script:serials = @((Get-AdeDevice -Token 'Pairing').SerialNumber)
    }

    It 'shows what reached Apple: pairing by certificate is pairing off with the certificate as the one allowed host' {
        New-AdeProfile -Token 'Pairing' -Name 'ByCert' -UserAffinity WithoutUserAffinity -SyncWithComputers AllowByCertificate -ConfiguratorCertificate $certPath | Out-Null
        New-AdeProfile -Token 'Pairing' -Name 'Deny' -UserAffinity WithoutUserAffinity -SyncWithComputers DenyAll | Out-Null
        New-AdeProfile -Token 'Pairing' -Name 'Allow' -UserAffinity WithoutUserAffinity | Out-Null
        Set-AdeDeviceProfile -Profile 'ByCert' -SerialNumber $serials[0] | Out-Null
        Set-AdeDeviceProfile -Profile 'Deny' -SerialNumber $serials[1] | Out-Null
        Set-AdeDeviceProfile -Profile 'Allow' -SerialNumber $serials[2] | Out-Null

        $byCert = Get-AdeSimProfile -Server 'Pairing' -Name 'ByCert'
        $byCert.Keys.allow_pairing | Should -BeFalse
        $byCert.Keys.supervising_host_certs | Should -Be @([Convert]::ToBase64String([IO.File]::ReadAllBytes($certPath)))
        $byCert.DeviceCount | Should -Be 1
        $byCert.ProfileUuid | Should -Be (Get-AdeProfile -Token 'Pairing' -Name 'ByCert').AppleProfileUuid
        (Get-AdeSimProfile -Server 'Pairing' -Name 'Deny').Keys.allow_pairing | Should -BeFalse
        (Get-AdeSimProfile -Server 'Pairing' -Name 'Deny').Keys.Contains('supervising_host_certs') | Should -BeFalse
        (Get-AdeSimProfile -Server 'Pairing' -Name 'Allow').Keys.allow_pairing | Should -BeTrue
        ($byCert.Json | ConvertFrom-Json).profile_name | Should -Be 'ByCert'
    }

    It 'lists the server''s profiles oldest first, takes a module profile from the pipeline and filters by name' {
        (Get-AdeSimProfile -Server 'Pairing').ProfileName | Should -Be @('ByCert', 'Deny', 'Allow')
        (Get-AdeProfile -Token 'Pairing' -Name 'Deny' | Get-AdeSimProfile -Server 'Pairing').ProfileName | Should -Be 'Deny'
        (Get-AdeSimProfile -Server 'Pairing' -Name 'A*').ProfileName | Should -Be 'Allow'
        (Get-AdeSimProfile -Server 'Pairing' | Format-Table | Out-String) | Should -Match 'ByCert'
        # the request log shows which devices each assignment carried and which profile it named
        $assigned = @(Get-AdeSimRequest -Path '/profile/devices' | Where-Object { $_.Method -eq 'POST' -and $_.Server -eq 'Pairing' -and $_.StatusCode -eq 200 })
        $assigned.Count | Should -Be 3
        ($assigned | ForEach-Object { @($_.SerialNumbers) } | Sort-Object) | Should -Be ($serials | Sort-Object)
        $assigned[0].ProfileUuid | Should -Be (Get-AdeProfile -Token 'Pairing' -Name 'ByCert').AppleProfileUuid
        (Get-AdeSimRequest -Path '/account' | Select-Object -First 1).SerialNumbers | Should -BeNullOrEmpty
    }

    It 'says which profile or server it does not know' {
        { Get-AdeSimProfile -Server 'Pairing' -Name 'Nope' -ErrorAction Stop } | Should -Throw -ErrorId 'ProfileNotFound,AdeEnrollment.Simulator.Commands.GetAdeSimProfileCommand' -ExpectedMessage '*first assigned*'
        { Get-AdeSimProfile -Server 'Pairing' -ProfileUuid 'ABCDEF' -ErrorAction Stop } | Should -Throw -ErrorId 'ProfileNotFound,AdeEnrollment.Simulator.Commands.GetAdeSimProfileCommand'
        Get-AdeSimProfile -Server 'Pairing' -Name 'Nothing*' | Should -BeNullOrEmpty
        { Get-AdeSimProfile -Server 'Nope' } | Should -Throw -ErrorId 'ServerNotFound,AdeEnrollment.Simulator.Commands.GetAdeSimProfileCommand'
    }

    It 'sends every certificate of a PEM chain given to -AnchorCertificate, not only the first' {
        $pem = { param($der) "-----BEGIN CERTIFICATE-----`n$([Convert]::ToBase64String($der, 'InsertLineBreaks'))`n-----END CERTIFICATE-----`n" }
        $rootKey = [Security.Cryptography.ECDsa]::Create()
        $root = [Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Contoso Root', $rootKey, [Security.Cryptography.HashAlgorithmName]::SHA256).CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddYears(1))
        $bench = [IO.File]::ReadAllBytes($certPath)
        $bundle = Join-Path $TestDrive 'chain.pem'
        Set-Content -Path $bundle -Value ((& $pem $bench) + (& $pem $root.RawData)) -NoNewline
        (New-AdeProfile -Token 'Pairing' -Name 'Anchored' -UserAffinity WithoutUserAffinity -AnchorCertificate $bundle).AnchorCertificates | Should -HaveCount 2
        Set-AdeDeviceProfile -Profile 'Anchored' -SerialNumber $serials[0] | Out-Null
        (Get-AdeSimProfile -Server 'Pairing' -Name 'Anchored').Keys.anchor_certs | Should -Be @([Convert]::ToBase64String($bench), [Convert]::ToBase64String($root.RawData))
    }
}

Describe 'New-AdeSimTenant' {
    It 'onboards a server in one step: request, server, token in the store, devices; bad input creates nothing' {
        Connect-TestStore 'tenant'
        $t = New-AdeSimTenant -Name 'One step' -Devices 7 -DeviceFamily iPad -OrgName 'Tenant Ltd'
        $t.PSTypeNames | Should -Contain 'AdeEnrollment.Engine.Model.AdeToken'
        ($t.Name, $t.ServerName) | Should -Be @('One step', 'One step')
        (Get-AdeSimDevice -Server 'One step').DeviceFamily | Sort-Object -Unique | Should -Be 'iPad'
        (Sync-AdeDevice -Token 'One step').Added | Should -Be 7
        $requests = @(Get-AdeTokenRequest).Count
        { New-AdeSimTenant -Name 'One step' } | Should -Throw -ErrorId 'ServerExists,AdeEnrollment.Simulator.Commands.NewAdeSimTenantCommand'
        { New-AdeSimTenant -Name 'Bad family' -Devices 1 -DeviceFamily Watch } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Simulator.Commands.NewAdeSimTenantCommand'
        New-AdeSimTenant -Name 'What if' -WhatIf
        @(Get-AdeTokenRequest).Count | Should -Be $requests -Because 'a refused or -WhatIf tenant makes no token request'
        @(Get-AdeToken).Name | Should -Be @('One step')
    }

    It 'writes the token''s expiry as Apple does whatever the session''s culture (<Culture>: another calendar)' -ForEach @(@{ Culture = 'th-TH' }, @{ Culture = 'ar-SA' }) {
        Connect-TestStore "tenant-$Culture"
        $saved = [cultureinfo]::CurrentCulture
        try {
            [cultureinfo]::CurrentCulture = $Culture
            $t = New-AdeSimTenant -Name "Culture $Culture" -Devices 1
        } finally { [cultureinfo]::CurrentCulture = $saved }
        $t.DaysUntilExpiry | Should -BeGreaterThan 360
        $t.DaysUntilExpiry | Should -BeLessOrEqual 366
    }
}

Describe 'Set-AdeSimDevice -Activate' {
    It 'makes a device that holds a profile fetch it (pushed), and says which devices have none' {
        Connect-TestStore 'activate'
        $null = New-TestServer -Name 'Activate'
        $null = New-AdeToken -Request (Get-AdeTokenRequest | Select-Object -Last 1) -Path (Join-Path $TestDrive 'Activate.p7m') -AppleId 'ade.admin@contoso.example' -Name 'Activate' -EnrollmentUrl 'https://mdm.contoso.example/enroll' -ServiceUri $sim.Uri
        Add-AdeSimDevice -Server 'Activate' -Count 3 -DeviceFamily iPad | Out-Null
        Sync-AdeDevice -Token 'Activate' | Out-Null
        New-AdeProfile -Token 'Activate' -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        $devices = @(Get-AdeDevice -Token 'Activate')
        $devices[0..1] | Set-AdeDeviceProfile -Profile 'Staff' | Out-Null
        $out = @($devices | Set-AdeSimDevice -Server 'Activate' -Activate -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out.ProfileStatus | Should -Be @('pushed', 'pushed')
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'DeviceHasNoProfile,AdeEnrollment.Simulator.Commands.SetAdeSimDeviceCommand'
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16) | Out-Null
        Sync-AdeDevice -Token 'Activate' | Out-Null
        @(Get-AdeDevice -Token 'Activate' | Where-Object ProfileStatus -eq 'Pushed').Count | Should -Be 2
        { Set-AdeSimDevice -Server 'Activate' -SerialNumber $devices[0].SerialNumber } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Simulator.Commands.SetAdeSimDeviceCommand'
    }
}

Describe 'Clear-AdeSimRequest' {
    It 'empties the request log, so a test counts only its own requests' {
        Connect-TestStore 'requests'
        $t = New-TestServer -Name 'Requests'
        New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri | Out-Null
        @(Get-AdeSimRequest).Count | Should -BeGreaterThan 0
        Clear-AdeSimRequest -WhatIf
        @(Get-AdeSimRequest).Count | Should -BeGreaterThan 0
        Clear-AdeSimRequest
        @(Get-AdeSimRequest).Count | Should -Be 0
        Sync-AdeDevice -Token 'Requests' | Out-Null
        (Get-AdeSimRequest).Path | Should -Contain '/server/devices'
    }
}

Describe 'Faults' {
    AfterEach { Clear-AdeSimFault }

    It 'turns a 403 T_C_NOT_SIGNED into the terms error' {
        Connect-TestStore 'terms'
        $t = New-TestServer -Name 'Terms'
        Set-AdeSimFault -Endpoint '/account' -StatusCode 403 -Body 'T_C_NOT_SIGNED'
        { New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri } |
            Should -Throw -ErrorId 'AppleTermsNotSigned,AdeEnrollment.Commands.NewAdeTokenCommand'
        Get-AdeToken | Should -BeNullOrEmpty
    }

    It 'is retried after Retry-After on a 503' {
        Connect-TestStore 'retry'
        $t = New-TestServer -Name 'Retry'
        $fault = Set-AdeSimFault -Endpoint '/account' -StatusCode 503 -Count 1 -RetryAfterSeconds 1 -PassThru
        $fault.Remaining | Should -Be 1
        $token = New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri
        $token.ServerName | Should -Be 'Retry'
        $log = Get-AdeSimRequest -Path '/account' | Select-Object -Last 2
        $log.StatusCode | Should -Be 503, 200
        $log[0].Fault | Should -BeTrue
    }

    It 'gives up on a persistent 401 after one re-authentication' {
        Connect-TestStore 'unauthorized'
        $t = New-TestServer -Name 'Unauthorized'
        Set-AdeSimFault -Endpoint '/account' -StatusCode 401
        { New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri } |
            Should -Throw -ErrorId 'AppleTokenRejected,AdeEnrollment.Commands.NewAdeTokenCommand'
    }

    It 'can delay or drop answers and answer per device' {
        Set-AdeSimFault -Endpoint '/server/*' -Latency ([TimeSpan]::FromMilliseconds(100)) -Count 1 -PassThru | Select-Object -ExpandProperty Latency |
            Should -Be ([TimeSpan]::FromMilliseconds(100))
        (Set-AdeSimFault -Endpoint '/devices' -DropConnection -Method POST -PassThru).DropConnection | Should -BeTrue
        $null = New-TestServer -Name 'PerDevice'
        $serial = (Add-AdeSimDevice -Server 'PerDevice').SerialNumber
        { Set-AdeSimFault -Server 'PerDevice' -SerialNumber $serial -DeviceStatus Throttled -RetryAfterSeconds 120 } | Should -Not -Throw
    }

    It 'refuses a fault on an endpoint no request can reach (a typo would make a failure test pass silently)' {
        $err = { Set-AdeSimFault -Endpoint '/sesion' -StatusCode 500 } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Simulator.Commands.SetAdeSimFaultCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*no endpoint of the simulated Apple services matches it*/session*'
        Set-AdeSimFault -Endpoint '/v1/mdmServers/ABC' -StatusCode 404 -Count 1 | Out-Null
        Clear-AdeSimFault | Should -BeNullOrEmpty
    }

    It 'takes the server and serial of a piped simulated device for a per-device answer' {
        $server = 'PerDevice ' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $null = New-TestServer -Name $server
        Add-AdeSimDevice -Server $server -Count 2 | Out-Null
        { Get-AdeSimDevice -Server $server | Select-Object -First 1 | Set-AdeSimFault -DeviceStatus Failed -ErrorAction Stop } | Should -Not -Throw
        Clear-AdeSimFault
    }

    It 'refuses a fault without an effect' {
        { Set-AdeSimFault -Endpoint '/account' -StatusCode 42 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AdeEnrollment.Simulator.Commands.SetAdeSimFaultCommand'
    }
}

Describe 'Set-AdeSimClock' {
    AfterEach { Set-AdeSimClock -Reset }

    It 'moves the simulator and the AdeEnrollment engine together' {
        Connect-TestStore 'clock'
        $t = New-TestServer -Name 'Clock'
        $token = New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri
        $token.Status | Should -Be 'Active'
        $before = [DateTimeOffset]::UtcNow
        $now = Set-AdeSimClock -Advance ([TimeSpan]::FromDays(340)) -PassThru
        ($now - $before).TotalDays | Should -BeGreaterOrEqual 340
        $later = Get-AdeToken -Name 'Clock'
        $later.Status | Should -Be 'ExpiringSoon'
        $later.DaysUntilExpiry | Should -BeLessThan 30
    }

    It 'tests "15 minutes later"' {
        $before = Set-AdeSimClock -Advance 0 -PassThru
        $after = Set-AdeSimClock -Advance '00:15:00' -PassThru
        [int]($after - $before).TotalMinutes | Should -Be 15
    }

    It 'reads h:mm:ss as hours (25:00:00 is 25 hours, not 25 days) and the short forms 15m, 12h, 7d, 1d12h; refuses other text' {
        $before = Get-AdeSimClock
        Set-AdeSimClock -Advance '25:00:00'
        ((Get-AdeSimClock) - $before).TotalHours | Should -BeGreaterOrEqual 25
        ((Get-AdeSimClock) - $before).TotalHours | Should -BeLessThan 25.1
        foreach ($case in @(@('15m', 15), @('12h', 720), @('7d', 10080), @('1d12h', 2160), @('-30m', -30), @('7.00:00:00', 10080))) {
            $from = Set-AdeSimClock -Advance 0 -PassThru
            $to = Set-AdeSimClock -Advance $case[0] -PassThru
            [int](($to - $from).TotalMinutes) | Should -Be $case[1] -Because $case[0]
        }
        $err = { Set-AdeSimClock -Advance 'next week' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,AdeEnrollment.Simulator.Commands.SetAdeSimClockCommand' -PassThru
        $err.Exception.Message | Should -Match "'25:00:00' is 25 hours"
        # unquoted, PowerShell reads 7d as the decimal 7 and 90s as the short 90: still days and seconds; a bare number is refused
        $from = Set-AdeSimClock -Advance 0 -PassThru
        $to = Set-AdeSimClock -Advance 7d -PassThru
        [int](($to - $from).TotalMinutes) | Should -Be 10080
        $from = Set-AdeSimClock -Advance 0 -PassThru
        $to = Set-AdeSimClock -Advance 90s -PassThru
        [int](($to - $from).TotalSeconds) | Should -Be 90
        foreach ($bare in { Set-AdeSimClock -Advance 8 -ErrorAction Stop }, { Set-AdeSimClock -Advance '8' -ErrorAction Stop }, { Set-AdeSimClock -Advance 8n -ErrorAction Stop }) {
            $err = $bare | Should -Throw -ErrorId 'ParameterArgumentTransformationError,AdeEnrollment.Simulator.Commands.SetAdeSimClockCommand' -PassThru
            $err.Exception.Message | Should -Match "8 is a number, not a span of time: give a unit \('8h'"
        }
    }

    It '-Waits Instant makes the module''s retry waits pass at once on the simulated time; -Reset makes them real again' {
        Connect-TestStore 'instant'
        $t = New-TestServer -Name 'Instant'
        Set-AdeSimClock -Waits Instant
        try {
            Set-AdeSimFault -Endpoint '/account' -StatusCode 503 -Count 2 -RetryAfterSeconds 45 | Out-Null
            $token = New-AdeToken -Request $t.Request -Path $t.TokenFile -AppleId 'admin@contoso.example' -ServiceUri $sim.Uri
            $token.ServerName | Should -Be 'Instant'
            # the two waits of 45 s moved the simulated time ahead of the real time (real waits would move both alike)
            ((Get-AdeSimClock) - [DateTimeOffset]::UtcNow).TotalSeconds | Should -BeGreaterThan 89
            @(Get-AdeSimRequest -Path '/account' | Select-Object -Last 3).StatusCode | Should -Be 503, 503, 200
        }
        finally {
            Clear-AdeSimFault
            Set-AdeSimClock -Reset
        }

        # real waits again: a wait of 1 s takes real time and moves no simulated time
        Set-AdeSimFault -Endpoint '/account' -StatusCode 503 -Count 1 -RetryAfterSeconds 1 | Out-Null
        $started = [Diagnostics.Stopwatch]::StartNew()
        Update-AdeToken -Token $token.Name -Path $t.TokenFile | Out-Null
        $started.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1
        [math]::Abs(((Get-AdeSimClock) - [DateTimeOffset]::UtcNow).TotalSeconds) | Should -BeLessThan 5
    }

    It 'Get-AdeSimClock gives the simulated time the engine uses, without a simulator too' {
        $set = Set-AdeSimClock -Now '2031-05-06T07:08:09Z' -PassThru
        $now = Get-AdeSimClock
        $now | Should -BeOfType [DateTimeOffset]
        ($now - $set).TotalSeconds | Should -BeLessThan 5
        $now.Year | Should -Be 2031
    }

    It 'sets an absolute time and goes back to the real time' {
        (Set-AdeSimClock -Now '2030-01-01T00:00:00Z' -PassThru).Year | Should -Be 2030
        $real = Set-AdeSimClock -Reset -PassThru
        [math]::Abs(($real - [DateTimeOffset]::UtcNow).TotalMinutes) | Should -BeLessThan 1
    }
}

Describe 'Without a running simulator' {
    BeforeAll {
        $script:other = Start-AdeSimulator
        $other | Stop-AdeSimulator
        Set-AdeSimClock -Advance 7d
        Set-AdeSimClock -Waits Instant
        $script:stopped = @(Stop-AdeSimulator -Verbose 4>&1)
    }

    It 'the last simulator to stop takes the simulated time and waits back to real' {
        [math]::Abs(((Get-AdeSimClock) - [DateTimeOffset]::UtcNow).TotalMinutes) | Should -BeLessThan 1
        "$($stopped[-1])" | Should -Be 'No simulator is running any more: the simulated time and the module''s waits are real again.'
    }

    AfterAll { $script:sim = Start-AdeSimulator -Seed 1234 }

    It 'says to start one' {
        { Get-AdeSimRequest } | Should -Throw -ErrorId 'NotRunning,AdeEnrollment.Simulator.Commands.GetAdeSimRequestCommand'
        { Stop-AdeSimulator } | Should -Not -Throw
    }
}
