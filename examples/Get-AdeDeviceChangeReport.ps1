<#
.SYNOPSIS
    "What changed since yesterday": a report of the change journal, grouped by token and kind.
.DESCRIPTION
    Reads Get-AdeDeviceEvent since a time (default: 24 hours ago) and writes one line per token and kind with the
    count and the first few serial numbers, then the devices that left Apple Business Manager or were released (the
    ones an asset register must act on). With -CsvPath the events themselves are exported too.

    Exit codes: 0 the report was written; 2 the script itself failed.
.EXAMPLE
    pwsh -NoProfile -File ./Get-AdeDeviceChangeReport.ps1 -Since (Get-Date).AddDays(-7) -CsvPath ./week.csv
#>
[CmdletBinding()]
param(
    # Events at or after this time.
    [DateTimeOffset] $Since = [DateTimeOffset]::Now.AddDays(-1),

    # Where to export the events (optional).
    [string] $CsvPath,

    # A store other than the default one.
    [string] $StorePath
)

$ErrorActionPreference = 'Stop'
try {
    Import-Module AdeEnrollment
    if ($StorePath) { Connect-AdeStore -Path $StorePath }
    $events = @(Get-AdeDeviceEvent -Since $Since)
    "Device changes since $($Since.ToString('u')): $($events.Count) event(s)"
    foreach ($group in $events | Group-Object Token, Kind) {
        $first = @($group.Group | Select-Object -First 5 -ExpandProperty SerialNumber) -join ', '
        $more = if ($group.Count -gt 5) { ", +$($group.Count - 5) more" } else { '' }
        '  {0,-30} {1,-20} {2,6}  {3}{4}' -f $group.Group[0].Token, $group.Group[0].Kind, $group.Count, $first, $more
    }

    $gone = @($events | Where-Object Kind -in 'DeletedFromAbm', 'Released')
    if ($gone) {
        'Left Apple Business Manager:'
        foreach ($e in $gone) { '  {0} ({1}, {2:u})' -f $e.SerialNumber, $e.Kind, $e.At }
    }

    if ($CsvPath) {
        $events | Select-Object Id, At, Token, Kind, SerialNumber, Detail | Export-Csv -Path $CsvPath -NoTypeInformation
    }

    exit 0
} catch {
    Write-Error "Change report failed: $($_.FullyQualifiedErrorId): $_" -ErrorAction Continue
    exit 2
}
