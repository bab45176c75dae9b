<#
.SYNOPSIS
    Puts last week's purchases on the MDM server of an ADE token, syncs the token, and reports what happened.
.DESCRIPTION
    Reads the organisation's devices from Apple Business that are still unassigned and were ordered in the last
    -Days days (or belong to the given -OrderNumber), assigns them to the MDM server of -Token, waits for Apple to
    finish, syncs the token so that the devices arrive in the store with their default profile, and writes one CSV
    row per device (serial, order, outcome, whether the sync brought it in).
    Exit code 0: every device was assigned; 1: some were not; 2: the run failed (the error is written).
.EXAMPLE
    ./Set-AdeOrderServer.ps1 -Token 'Contoso iPads' -ReportPath ./order-report.csv
.EXAMPLE
    ./Set-AdeOrderServer.ps1 -Token 'Contoso iPads' -OrderNumber 'PO-4711' -ProductFamily iPad -WaitForLimit
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Token,
    [string] $OrderNumber,
    [int] $Days = 7,
    [string[]] $ProductFamily,
    [string] $ReportPath = './order-report.csv',
    [switch] $WaitForLimit
)

$ErrorActionPreference = 'Stop'
Import-Module AdeEnrollment
try {
    $since = [DateTimeOffset]::UtcNow.AddDays(-$Days)
    $query = @{ Status = 'Unassigned'; WaitForLimit = $WaitForLimit }
    if ($OrderNumber) { $query.OrderNumber = $OrderNumber }
    if ($ProductFamily) { $query.ProductFamily = $ProductFamily }
    $devices = @(Get-AdeOrgDevice @query | Where-Object { $OrderNumber -or ($_.OrderDate -and $_.OrderDate -ge $since) })
    if ($devices.Count -eq 0) {
        Write-Output 'No unassigned devices to assign.'
        @() | Export-Csv -Path $ReportPath -NoTypeInformation
        exit 0
    }

    $activities = @($devices | Set-AdeOrgDeviceServer -Token $Token -Wait -WaitForLimit:$WaitForLimit -Confirm:$false)
    $outcome = @{}
    foreach ($d in $activities.Devices) { $outcome[$d.SerialNumber] = $d }

    $sync = Sync-AdeDevice -Token $Token -ErrorAction Continue
    $inStore = @{}
    foreach ($d in @(Get-AdeDevice -Token $Token)) { $inStore[$d.SerialNumber] = $d }

    $rows = foreach ($d in $devices) {
        [pscustomobject]@{
            SerialNumber = $d.SerialNumber
            OrderNumber  = $d.OrderNumber
            OrderDate    = $d.OrderDate
            Family       = $d.ProductFamily
            Outcome      = if ($outcome[$d.SerialNumber]) { $outcome[$d.SerialNumber].Status } else { 'NOT_SENT' }
            Detail       = $outcome[$d.SerialNumber].Detail
            InStore      = $inStore.ContainsKey($d.SerialNumber)
            Profile      = $inStore[$d.SerialNumber].EnrollmentProfileName
        }
    }
    $rows | Export-Csv -Path $ReportPath -NoTypeInformation
    $ok = @($rows | Where-Object Outcome -eq 'SUCCESS').Count
    Write-Output ("{0} of {1} devices assigned to the server of '{2}'; sync: {3} added." -f $ok, $rows.Count, $Token, $sync.Added)
    exit ($(if ($ok -eq $rows.Count) { 0 } else { 1 }))
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 2
}
