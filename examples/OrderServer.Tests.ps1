# The purchase-to-enrollment example script, run in its own pwsh process against the simulator.
BeforeAll {
    Import-Module AdeEnrollment, AdeEnrollment.Simulator
    $script:savedStore = $env:ADE_ENROLLMENT_STORE # the child processes' store is set below; the session's comes back in AfterAll
    $script:sim = Start-AdeSimulator -Seed 12
    $script:script = Join-Path $PSScriptRoot 'Set-AdeOrderServer.ps1'
    Set-AdeSimBusinessApi -ActivityDuration ([timespan]::Zero)

    function Invoke-Script([string] $Store, [string[]] $Arguments) {
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $env:ADE_ENROLLMENT_STORE = $Store
        & $pwsh -NoProfile -NonInteractive -File $script @Arguments | Out-Null
        $LASTEXITCODE
    }
}

AfterAll {
    # leave the session as it was: no simulator, its own store (the TestDrive and its stores are deleted now)
    Stop-AdeSimulator
    Disconnect-AdeStore
    $env:ADE_ENROLLMENT_STORE = $savedStore
}

Describe 'Set-AdeOrderServer.ps1' {
    It 'assigns last week''s order to the token''s server, syncs, and reports each device' {
        $store = Join-Path $TestDrive 'order.db'
        Connect-AdeStore -Path $store
        $pem = Join-Path $TestDrive 'srv.pem'
        $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
        New-AdeSimServer -Name 'Order Server' -PublicKeyPath $pem -OutFile (Join-Path $TestDrive 'srv.p7m') | Out-Null
        New-AdeToken -Request $request -Path (Join-Path $TestDrive 'srv.p7m') -AppleId 'ade@contoso.example' -ServiceUri $sim.Uri | Out-Null
        $sa = New-AdeSimBusinessAccount -KeyOutFile $TestDrive
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri | Out-Null
        $recent = Add-AdeSimOrgDevice -Count 3 -OrderNumber 'PO-NEW' -OrderDate ([DateTimeOffset]::UtcNow.AddDays(-2))
        Add-AdeSimOrgDevice -Count 2 -OrderNumber 'PO-OLD' -OrderDate ([DateTimeOffset]::UtcNow.AddDays(-40)) | Out-Null

        $report = Join-Path $TestDrive 'report.csv'
        Invoke-Script $store @('-Token', 'Order Server', '-ReportPath', $report) | Should -Be 0
        $rows = Import-Csv $report
        ($rows.SerialNumber | Sort-Object) | Should -Be ($recent.SerialNumber | Sort-Object)
        $rows.Outcome | Should -Be @('SUCCESS', 'SUCCESS', 'SUCCESS')
        $rows.InStore | Should -Be @('True', 'True', 'True')
        (Get-AdeSimOrgDevice | Where-Object OrderNumber -eq 'PO-OLD').Status | Should -Be @('UNASSIGNED', 'UNASSIGNED')
    }

    It 'exits 2 with the error when no API account is stored' {
        $store = Join-Path $TestDrive 'empty.db'
        Invoke-Script $store @('-Token', 'Nothing', '-ReportPath', (Join-Path $TestDrive 'r2.csv')) | Should -Be 2
    }
}
