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
        Set-AdeSimBusinessApi -GetPerMinute 0 -PostPerHour 0 -ActivityDuration ([timespan]::Zero) -ActivityOutcome None -MacAddressShape String
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
}
