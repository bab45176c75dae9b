<#
.SYNOPSIS
    Nightly health check for monitoring: one log line per problem, a summary line, and an exit code.
.DESCRIPTION
    Runs Test-AdeHealth for every token and appends to the log one line per warning or failure (with the command
    that fixes it) and one summary line. A monitoring system only needs the exit code:

    Exit codes: 0 every check passed; 1 warnings only; 2 at least one check failed; 3 the script itself failed.
.EXAMPLE
    pwsh -NoProfile -File ./Test-AdeHealthNightly.ps1 -LogPath /var/log/ade-health.log
#>
[CmdletBinding()]
param(
    # Where to append the log.
    [string] $LogPath = (Join-Path ([IO.Path]::GetTempPath()) 'ade-health.log'),

    # How long a device may stay without an enrollment profile before it is reported.
    [TimeSpan] $UnassignedThreshold = (New-TimeSpan -Hours 24),

    # A store other than the default one.
    [string] $StorePath
)

$ErrorActionPreference = 'Stop'
function Write-Log([string] $Level, [string] $Message) {
    Add-Content -Path $LogPath -Value ('{0:u} {1,-5} {2}' -f [DateTimeOffset]::UtcNow, $Level, $Message)
}

try {
    Import-Module AdeEnrollment
    if ($StorePath) { Connect-AdeStore -Path $StorePath }
    $results = @(Test-AdeHealth -UnassignedThreshold $UnassignedThreshold)
    foreach ($r in $results | Where-Object Status -ne 'Pass') {
        $level = if ($r.Status -eq 'Fail') { 'FAIL' } else { 'WARN' }
        $where = if ($r.Token) { "$($r.Token): " } else { '' }
        Write-Log $level "$where$($r.Check): $($r.Detail) Remedy: $($r.Remedy)"
    }

    $fails = @($results | Where-Object Status -eq 'Fail').Count
    $warnings = @($results | Where-Object Status -eq 'Warning').Count
    Write-Log 'INFO' "Health: $($results.Count) checks, $fails failed, $warnings warnings"
    exit $(if ($fails) { 2 } elseif ($warnings) { 1 } else { 0 })
} catch {
    Write-Log 'ERROR' "The health check itself failed: $($_.FullyQualifiedErrorId): $_"
    exit 3
}
