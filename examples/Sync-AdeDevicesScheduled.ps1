<#
.SYNOPSIS
    Scheduled device sync for every ADE token (cron, Task Scheduler, an automation account).
.DESCRIPTION
    Run it as often as you like (every 15 or 30 minutes): Sync-AdeDevice -IfDue syncs a token only when its
    automatic sync is due (12 hours after the last successful sync; 15 minutes after a failed or stopped one) and returns Status NotDue otherwise, so the
    schedule can never break Intune's sync limits. A token that fails (Apple refuses it, the service is down) does
    not stop the others.

    Exit codes: 0 every token synced or was not due; 1 at least one token failed; 2 the script itself failed, or the
    store holds no token (a mistyped $env:ADE_ENROLLMENT_STORE or -StorePath, an unmounted volume: nothing to sync is
    not a success).
.EXAMPLE
    pwsh -NoProfile -File ./Sync-AdeDevicesScheduled.ps1 -LogPath /var/log/ade-sync.log
#>
[CmdletBinding()]
param(
    # Where to append the log; a line per token and one summary line per run.
    [string] $LogPath = (Join-Path ([IO.Path]::GetTempPath()) 'ade-sync.log'),

    # A store other than the default one (a shared store also needs $env:ADE_ENROLLMENT_STORE_KEY).
    [string] $StorePath
)

$ErrorActionPreference = 'Stop'
function Write-Log([string] $Level, [string] $Message) {
    $line = '{0:u} {1,-5} {2}' -f [DateTimeOffset]::UtcNow, $Level, $Message
    Add-Content -Path $LogPath -Value $line
    Write-Verbose $line
}

try {
    Import-Module AdeEnrollment
    if ($StorePath) {
        # Connect-AdeStore creates a store where none is: a mistyped path would leave an empty store (and its key) behind
        if (-not (Test-Path -LiteralPath $StorePath -PathType Leaf)) {
            Write-Log 'ERROR' "no store at '$StorePath', so nothing was synced: check -StorePath"
            exit 2
        }
        Connect-AdeStore -Path $StorePath
    }
    $failures = @()
    $warned = @()
    # Get-AdeStore only looks (it creates no store at a mistyped path, as the first cmdlet that uses a store would)
    $store = Get-AdeStore
    if (-not $store.Exists -or $store.TokenCount -eq 0) {
        Write-Log 'ERROR' "the store '$($store.Path)' holds no ADE token, so nothing was synced: check -StorePath or `$env:ADE_ENROLLMENT_STORE"
        exit 2
    }

    Write-Log 'INFO' "run started: store '$($store.Path)', $($store.TokenCount) tokens"
    # warnings (a previous run that was killed, default profiles Apple could not take, a token over 200,000 devices)
    # go to the log too: a scheduler discards the console
    $results = Get-AdeToken | Sync-AdeDevice -IfDue -ErrorAction SilentlyContinue -ErrorVariable +failures -WarningVariable +warned -WarningAction SilentlyContinue
    foreach ($w in $warned) {
        Write-Log 'WARN' $w.Message
    }
    foreach ($r in $results) {
        if ($r.Status -eq 'NotDue') {
            # NextAutomaticSyncAt: when this script's -IfDue will really sync the token (NextManualSyncAt is for people).
            Write-Log 'INFO' "$($r.Token): not due (next scheduled sync at $($r.NextAutomaticSyncAt.ToString('u')))"
        } else {
            Write-Log 'INFO' ("{0}: {1} {2} sync ({3}), +{4} ~{5} -{6}, default profile to {7}, {8:N1}s, next scheduled sync at {9:u}" -f $r.Token, $r.Status, $r.Kind,
                $r.Trigger, $r.Added, $r.Modified, $r.Removed, $r.DefaultProfileAssigned, $r.Duration.TotalSeconds, $r.NextAutomaticSyncAt)
        }
    }
    foreach ($f in $failures) {
        Write-Log 'ERROR' "$($f.TargetObject): [$($f.FullyQualifiedErrorId)] $($f.Exception.Message)"
    }
    foreach ($t in Get-AdeToken | Where-Object Status -in 'ExpiringSoon', 'Expired', 'Invalid') {
        Write-Log 'WARN' "$($t.Name): token is $($t.Status) (expires $($t.ExpiresAt.ToString('u'))); renew it with Update-AdeToken"
    }
    $synced = @($results | Where-Object Status -ne 'NotDue').Count
    Write-Log 'INFO' "run finished: $synced synced, $(@($results).Count - $synced) not due, $($failures.Count) failed"
    exit ([int]($failures.Count -gt 0))
} catch {
    Write-Log 'ERROR' "the sync script failed: $($_.Exception.Message)"
    exit 2
}
