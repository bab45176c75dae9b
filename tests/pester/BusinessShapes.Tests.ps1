# Apple Business API payload shapes Apple leaves open, through the cmdlets against the simulator: what a user sees
# for each variant the simulator can send (Set-AdeSimBusinessApi switches).
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 5252

    function New-TestAccount {
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "key-$([guid]::NewGuid().ToString('N')).pem")
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri
    }
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'Apple Business API payload shapes' {
    BeforeEach {
        Set-AdeSimClock -Reset
        Clear-AdeSimFault
        Set-AdeSimBusinessApi -GetPerMinute 0 -PostPerHour 0 -ActivityDuration ([timespan]::Zero) -ActivityOutcome None -MacAddressShape String -ListReleasedDevices $false -ReleaseAttributes $true -ReleaserEntityType API -ApiAssignedBy ClientId -ListDeletedServers $false -ExtraProductFamily @() -CaseSensitiveSerials $false
        Connect-AdeStore -Path (Join-Path $TestDrive "shape-$([guid]::NewGuid().ToString('N')).db")
        New-TestAccount | Out-Null
    }

    It 'MAC addresses read the same as strings, arrays or under builtInEthernetMacAddress; -MacAddress ignores separators and case' -ForEach @(
        @{ Shape = 'String' }, @{ Shape = 'Array' }, @{ Shape = 'BuiltInEthernet' }
    ) {
        Set-AdeSimBusinessApi -MacAddressShape $Shape
        $mac = Add-AdeSimOrgDevice -Count 1 -ProductFamily Mac
        $phone = Add-AdeSimOrgDevice -Count 1 -ProductFamily iPhone
        $d = Get-AdeOrgDevice -SerialNumber $mac.SerialNumber
        @($d.WiFiMacAddress) | Should -Be @($mac.WiFiMacAddress)
        @($d.EthernetMacAddress) | Should -Be @($mac.EthernetMacAddress)
        ($d | Format-List | Out-String) | Should -Match ('EthernetMacAddress\s+: \{' + [regex]::Escape($mac.EthernetMacAddress[0]) + '\}')
        # a NAC log writes the address in lower case with dashes, or Cisco-dotted
        $dashed = $phone.BluetoothMacAddress.Replace(':', '-').ToLowerInvariant()
        $dotted = ($mac.EthernetMacAddress[0].Replace(':', '') -split '(.{4})' | Where-Object { $_ }) -join '.'
        (@(Get-AdeOrgDevice -MacAddress $dashed, $dotted).SerialNumber | Sort-Object) | Should -Be (@($mac.SerialNumber, $phone.SerialNumber) | Sort-Object)
        { Get-AdeOrgDevice -MacAddress 'not-a-mac' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
    }

    It 'IMEI, MEID and EID read the same as lists or one string; -Imei ignores separators and takes 14 digits' -ForEach @(
        @{ Shape = 'Array' }, @{ Shape = 'String' }
    ) {
        Set-AdeSimBusinessApi -ImeiShape $Shape
        $phone = Add-AdeSimOrgDevice -Count 1 -ProductFamily iPhone
        $d = Get-AdeOrgDevice -SerialNumber $phone.SerialNumber
        @($d.Imei) | Should -Be @(if ($Shape -eq 'Array') { $phone.Imei } else { $phone.Imei[0] })
        ($d.Eid, @($d.Meid)) | Should -Be @($phone.Eid, $phone.Meid[0])
        $spaced = $phone.Imei[0].Substring(0, 2) + ' ' + $phone.Imei[0].Substring(2, 6) + '-' + $phone.Imei[0].Substring(8, 6)
        @(Get-AdeOrgDevice -Imei $spaced).SerialNumber | Should -Be @($phone.SerialNumber)
        { Get-AdeOrgDevice -Imei '12345' -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
    }

    It 'released devices listed by Apple show as Released with who released them; assigning one warns and sends nothing' {
        Set-AdeSimBusinessApi -ListReleasedDevices $true -ReleaserEntityType 'SOMETHING_NEW'
        $t = New-SimToken -Name "Shape $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 1
        ($d | Remove-AdeOrgDevice -Confirm:$false -Wait).Status | Should -Be 'COMPLETED'
        $r = Get-AdeOrgDevice -SerialNumber $d.SerialNumber
        $r.Status | Should -Be 'RELEASED'
        $r.ReleasedFromOrgDate | Should -Not -BeNullOrEmpty
        $r.ReleaserEntityType | Should -Be 'SOMETHING_NEW'
        @(Get-AdeOrgDevice -Status Released).SerialNumber | Should -Contain $d.SerialNumber
        ($r | Format-Table | Out-String) | Should -Match "$($d.SerialNumber).*RELEASED"
        $posts = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count
        $d.SerialNumber.ToLowerInvariant() | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -WarningVariable w -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        "$w" | Should -Match "$($d.SerialNumber).*released"
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count | Should -Be $posts

        # added back with Apple Configurator: the organisation's again, and assigned
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 5)
        Add-AdeSimOrgDevice -SerialNumber $d.SerialNumber -PurchaseSourceType MANUALLY_ADDED | Out-Null
        ($d.SerialNumber | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait -WarningVariable w2 -WarningAction SilentlyContinue).Succeeded | Should -Be 1
        "$w2" | Should -Not -Match 'released'
    }

    It 'a deleted server Apple still lists shows as DELETED without its token, and assigning to it is refused before any POST' {
        Set-AdeSimBusinessApi -ListDeletedServers $true
        $t = New-SimToken -Name "Gone $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        (Get-AdeMdmServer -Name $t.Token.Name).Token | Should -Be $t.Token.Name
        Set-AdeSimBusinessApi -DeleteMdmServer $t.Token.Name
        $s = Get-AdeMdmServer -Name $t.Token.Name
        $s.Status | Should -Be 'DELETED'
        $s.Token | Should -BeNullOrEmpty
        ($s | Format-Table | Out-String) | Should -Match 'DELETED'
        $d = Add-AdeSimOrgDevice -Count 1
        $posts = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count
        { $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessServerDeleted,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand'
        { $d | Set-AdeOrgDeviceServer -Token $t.Token -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessServerDeleted,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand'
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count | Should -Be $posts
    }

    It 'a product family Apple adds later is shown as sent with an empty platform, and -ProductFamily takes it' {
        Set-AdeSimBusinessApi -ExtraProductFamily 'Holo'
        $d = Add-AdeSimOrgDevice -Count 1 -ProductFamily Holo
        $r = @(Get-AdeOrgDevice -ProductFamily holo)
        $r.SerialNumber | Should -Be $d.SerialNumber
        $r[0].ProductFamily | Should -Be 'Holo'
        $r[0].Platform | Should -BeNullOrEmpty
        ($r | Format-Table | Out-String) | Should -Match "$($d.SerialNumber)\s+Holo"
    }

    It 'serials typed in lower case are found and assigned when Apple matches serials case-sensitively' {
        Set-AdeSimBusinessApi -CaseSensitiveSerials $true
        $t = New-SimToken -Name "Case $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 1
        (Get-AdeOrgDevice -SerialNumber $d.SerialNumber.ToLowerInvariant()).SerialNumber | Should -Be $d.SerialNumber
        $a = $d.SerialNumber.ToLowerInvariant() | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait
        $a.SubStatus | Should -Be 'COMPLETED_WITH_SUCCESS'
        $a.Devices.SerialNumber | Should -BeExactly $d.SerialNumber
    }

    It 'a device an activity assigned shows whoever Apple names as its assigner (-ApiAssignedBy <By>)' -ForEach @(
        @{ By = 'ClientId' }, @{ By = 'ServerAdmin' }, @{ By = 'Empty' }
    ) {
        Set-AdeSimBusinessApi -ApiAssignedBy $By
        $t = New-SimToken -Name "By $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 1
        ($d | Set-AdeOrgDeviceServer -Token $t.Token -Wait).SubStatus | Should -Be 'COMPLETED_WITH_SUCCESS'
        (Sync-AdeDevice -Token $t.Token.Name).Added | Should -Be 1
        $got = (Get-AdeDevice -SerialNumber $d.SerialNumber).AssignedBy
        switch ($By) {
            'ClientId' { $got | Should -BeExactly (Get-AdeBusinessAccount).ClientId }
            'ServerAdmin' { $got | Should -BeExactly $t.Server.AdminId; $got | Should -Match '@' }
            'Empty' { $got | Should -BeNullOrEmpty }
        }
    }
}
