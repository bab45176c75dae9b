<#
.SYNOPSIS
    Bulk-assigns an enrollment profile to the serial numbers in a CSV file and writes a report.
.DESCRIPTION
    The CSV needs a serial number column: SerialNumber, Serial Number, Serial, SerialNo, Device Serial Number and the
    other spellings listed in about_AdeEnrollment (other columns are ignored). Serials are normalised and de-duplicated and sent
    to Apple in requests of at most 1000. Use -WhatIf first: it shows, per device, its current profile and the new one,
    and sends nothing. Devices Apple throttles are retried within the cmdlet's time; devices Apple fails are held back
    24 hours (the report says until when).
.EXAMPLE
    ./Set-AdeProfileFromCsv.ps1 -Path ./classroom.csv -ProfileName 'Classroom Shared iPad' -Token 'Contoso iPads' -WhatIf
.EXAMPLE
    ./Set-AdeProfileFromCsv.ps1 -Path ./classroom.csv -ProfileName 'Classroom Shared iPad' -Token 'Contoso iPads' -ReportPath ./report.csv
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Path,
    [Parameter(Mandatory)] [string] $ProfileName,
    [string] $Token,
    [string] $ReportPath = ([IO.Path]::ChangeExtension($Path, '.report.csv'))
)

$ErrorActionPreference = 'Stop'
Import-Module AdeEnrollment
$params = @{ Profile = $ProfileName }
if ($Token) { $params.Token = $Token }
$results = Import-Csv -Path $Path | Set-AdeDeviceProfile @params -WhatIf:$WhatIfPreference
if ($WhatIfPreference) { return }

$results | Select-Object SerialNumber, PreviousProfile, Profile, Status, RetryAfter | Export-Csv -Path $ReportPath -NoTypeInformation
$results | Group-Object Status | Select-Object @{ n = 'Status'; e = 'Name' }, Count | Format-Table -AutoSize
Write-Host "Report: $ReportPath"
if ($results | Where-Object Status -ne 'Success') { exit 1 }
