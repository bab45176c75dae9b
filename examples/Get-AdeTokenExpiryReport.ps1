<#
.SYNOPSIS
    Lists ADE tokens that expire within a number of days (30 by default), are expired or were rejected by Apple.
.DESCRIPTION
    A token that expires stops every sync and assignment of its MDM server. Renew it in Apple Business Manager
    (download the token of the MDM server again) and run Update-AdeToken. Exit code 1 when a token needs attention,
    so a monitoring job can alert on it.
.EXAMPLE
    ./Get-AdeTokenExpiryReport.ps1 -Days 45 | Export-Csv tokens-to-renew.csv -NoTypeInformation
#>
[CmdletBinding()]
param([ValidateRange(1, 365)] [int] $Days = 30)

Import-Module AdeEnrollment
$attention = Get-AdeToken | Where-Object { $_.Status -in 'Expired', 'Invalid' -or $_.DaysUntilExpiry -le $Days } |
    Sort-Object ExpiresAt |
    Select-Object Name, AppleId, ServerName, OrgName, ExpiresAt, DaysUntilExpiry, Status, DeviceCount,
        @{ n = 'Action'; e = { if ($_.Status -eq 'Invalid') { 'Download the token again in ABM, then Update-AdeToken' } else { 'Renew in ABM, then Update-AdeToken' } } }
$attention
if ($attention) { exit 1 }
