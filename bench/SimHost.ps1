# The simulator side of a benchmark scenario, in a pwsh process of its own: the scenario's process then holds only
# the engine, so its peak working set is the engine's (the simulator keeps every device in memory, and in the same
# process it would be counted as the engine's). Started by bench/BenchCommon.ps1 (Start-SimHost) with stdin/stdout
# redirected; reads one JSON command per line and answers one line "@@SIM <json>". Nothing else goes to stdout.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module AdeEnrollment.Simulator

function Send-Reply([hashtable] $Reply) {
    [Console]::Out.WriteLine('@@SIM ' + ($Reply | ConvertTo-Json -Compress -Depth 4))
    [Console]::Out.Flush()
}

$sim = $null
while ($null -ne ($line = [Console]::In.ReadLine())) {
    if (-not $line.Trim()) { continue }
    try {
        $c = $line | ConvertFrom-Json
        $reply = @{ ok = $true }
        switch ($c.op) {
            'start' {
                $sim = Start-AdeSimulator -Seed ([int]$c.seed)
                $reply.uri = $sim.Uri.ToString()
            }
            'server' {
                # ABM "add MDM server" with the engine's public key, then the server's devices.
                New-AdeSimServer -Name $c.name -PublicKeyPath $c.pem -OutFile $c.p7m | Out-Null
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $family = if ($c.family) { @{ DeviceFamily = [string]$c.family } } else { @{} }
                if ([int]$c.count -gt 0) { Add-AdeSimDevice -Server $c.name -Count ([int]$c.count) @family | Out-Null }
                $reply.addSeconds = $watch.Elapsed.TotalSeconds
            }
            'servers' {
                # ManyTokens: many MDM servers at once, each with its devices.
                $watch = [Diagnostics.Stopwatch]::StartNew()
                foreach ($server in $c.servers) {
                    New-AdeSimServer -Name $server.name -PublicKeyPath $server.pem -OutFile $server.p7m | Out-Null
                    if ([int]$c.count -gt 0) { Add-AdeSimDevice -Server $server.name -Count ([int]$c.count) | Out-Null }
                }
                $reply.addSeconds = $watch.Elapsed.TotalSeconds
            }
            'add' {
                $reply.serials = @(Add-AdeSimDevice -Server $c.name -Count ([int]$c.count) | ForEach-Object SerialNumber)
            }
            'remove' {
                # ABM "unassign": the first N devices of the server leave it with a 'deleted' event.
                $serials = @(Get-AdeSimDevice -Server $c.name | Select-Object -First ([int]$c.count) | ForEach-Object SerialNumber)
                Remove-AdeSimDevice -Server $c.name -SerialNumber $serials -Confirm:$false
                $reply.serials = $serials
            }
            'bizaccount' {
                # Apple Business "create API account": the key goes to a file the scenario reads; activities end at once
                # (the simulator's clock: -Wait sees each one completed on its first poll).
                $a = New-AdeSimBusinessAccount -KeyOutFile $c.pem
                Set-AdeSimBusinessApi -ActivityDuration ([timespan]::Zero) -GetPerMinute 0 -PostPerHour 0
                $reply.clientId = $a.ClientId; $reply.keyId = $a.KeyId; $reply.tokenUri = $a.TokenUri.ToString(); $reply.serviceUri = $a.ServiceUri.ToString()
            }
            'orgdevices' {
                # Devices bought by the organisation, on no MDM server yet.
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $added = Add-AdeSimOrgDevice -Count ([int]$c.count)
                $reply.addSeconds = $watch.Elapsed.TotalSeconds
                if ($c.PSObject.Properties["serials"] -and $c.serials) { $reply.serials = @($added | ForEach-Object SerialNumber) }
            }
            'advance' {
                Set-AdeSimClock -Advance ([timespan]::FromMinutes([double]$c.minutes)) -Confirm:$false
            }
            'stats' {
                $p = [Diagnostics.Process]::GetCurrentProcess()
                $reply.peakWorkingSetBytes = $p.PeakWorkingSet64
                $reply.cpuSeconds = $p.TotalProcessorTime.TotalSeconds
            }
            'quit' {
                if ($sim) { Stop-AdeSimulator }
                Send-Reply $reply
                exit 0
            }
            default { throw "Unknown command '$($c.op)'." }
        }
        Send-Reply $reply
    } catch {
        Send-Reply @{ ok = $false; error = "$_" }
    }
}
