# The AdeEnrollment demo: the main job of an Intune-style ADE administrator, end to end, against the embedded Apple
# simulator and a fresh throw-away store. Started by `build.ps1 Demo` (and by the test suite, so it cannot rot).
$ErrorActionPreference = 'Stop'
$out = if ($env:ADE_DEMO_OUT) { $env:ADE_DEMO_OUT } else { Join-Path $PSScriptRoot '../out' }
$env:PSModulePath = $out + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module AdeEnrollment, AdeEnrollment.Simulator

$work = Join-Path ([IO.Path]::GetTempPath()) ("ade-demo-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory $work | Out-Null
$clock = [Diagnostics.Stopwatch]::StartNew()
function Step([string] $Text) { Write-Host ("`n== {0}  [{1:N1}s]" -f $Text, $clock.Elapsed.TotalSeconds) -ForegroundColor Cyan }
function Show { $input | Format-Table -AutoSize | Out-String -Width 160 | Write-Host }

try {
    Step 'Start the Apple simulator (ADE service + ABM portal) and a fresh store'
    $sim = Start-AdeSimulator -Seed 2026
    Write-Host "Simulator: $($sim.Uri)"
    Connect-AdeStore -Path (Join-Path $work 'demo.db') -PassThru | Show

    Step '1. Token request: key pair + certificate to upload to Apple Business Manager'
    $pem = Join-Path $work 'AdeEnrollment-upload.pem'
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
    $request | Show

    Step '2. In ABM: add the MDM server with that certificate and download its token (.p7m)'
    $p7m = Join-Path $work 'Contoso iPads_Token_smime.p7m'
    New-AdeSimServer -Name 'Contoso iPads' -PublicKeyPath $pem -OutFile $p7m -OrgName 'Contoso Ltd' -AdminId 'abm.admin@contoso.example' | Show

    Step '3. Import the token (verified with Apple: server and organisation filled in)'
    $token = New-AdeToken -Request $request -Path $p7m -AppleId 'ade.admin@contoso.example' -ScopeTag 'Default', 'Amsterdam' `
        -EnrollmentUrl 'https://mdm.contoso.example/enroll' -ServiceUri $sim.Uri
    Get-AdeToken | Show

    Step '4. Enrollment profiles: staff devices with modern authentication, and Shared iPads for the classrooms'
    $staff = New-AdeProfile -Token $token -Name 'Staff iPhones' -UserAffinity WithUserAffinity -AuthenticationMethod SetupAssistantModern `
        -Department 'Contoso IT' -DepartmentPhone '+31 20 555 0100' -DeviceNameTemplate 'STAFF-{{SERIAL}}' -HiddenScreen Siri, ScreenTime, Privacy
    $shared = New-AdeProfile -Token $token -Name 'Classroom Shared iPad' -UserAffinity WithoutUserAffinity -SharedIPad -MaximumCachedUsers 8 `
        -LockedEnrollment -Department 'Contoso Academy' -WarningAction SilentlyContinue
    Get-AdeProfile | Show

    Step '5. Default profile: every device that arrives without one gets the staff profile'
    Set-AdeDefaultProfile -Token $token -Profile $staff -PassThru | Select-Object Name, DefaultProfile | Show

    Step '6. ABM assigns 5,000 devices to the MDM server'
    Add-AdeSimDevice -Server 'Contoso iPads' -Count 5000 | Out-Null
    Write-Host "Apple now assigns $(@(Get-AdeSimDevice -Server 'Contoso iPads').Count) devices to 'Contoso iPads'."

    Step '7. Sync the devices (first sync: full; the default profile is assigned in the same sync)'
    Sync-AdeDevice -Token $token | Format-List Token, Kind, Trigger, Status, Added, Modified, DefaultProfileAssigned, Pages, Duration, ExpectedAbmDeliveryMinutes, NextManualSyncAt, NextAutomaticSyncAt | Out-String | Write-Host

    Step '8. Assign a CSV of 400 iPad serials to the Shared iPad profile (batched, one result per device)'
    $csv = Join-Path $work 'classroom-ipads.csv'
    Get-AdeDevice -Token $token | Where-Object DeviceFamily -eq 'iPad' | Select-Object -First 400 SerialNumber | Export-Csv $csv -NoTypeInformation
    $results = Import-Csv $csv | Set-AdeDeviceProfile -Profile $shared
    $results | Group-Object Status | Select-Object @{ n = 'Status'; e = 'Name' }, Count | Show

    Step '9. A second manual sync right away is refused by the 15-minute rule (a scheduler uses -IfDue)'
    try { Sync-AdeDevice -Token $token -ErrorAction Stop } catch { Write-Host "Refused: [$($_.FullyQualifiedErrorId)] $($_.Exception.Message)" -ForegroundColor Yellow }
    Sync-AdeDevice -Token $token -IfDue | Select-Object Token, Status, NextAutomaticSyncAt | Show

    Step 'Tokens, sync status and devices by profile'
    Get-AdeToken | Show
    Get-AdeSyncStatus | Show
    Get-AdeDevice | Group-Object EnrollmentProfileName | Sort-Object Count -Descending |
        Select-Object @{ n = 'Profile'; e = { if ($_.Name) { $_.Name } else { '(none)' } } }, Count | Show

    Write-Host ("`nDemo finished in {0:N1} s." -f $clock.Elapsed.TotalSeconds) -ForegroundColor Green
} finally {
    Stop-AdeSimulator -ErrorAction SilentlyContinue
    # Pooled SQLite connections keep the store open (Windows locks open files); the module's SQLite lives in its own
    # load context, so release them through it before deleting the throw-away folder.
    ([AdeEnrollment.Loader.LoadContext]::Current.Assemblies | Where-Object { $_.GetName().Name -eq 'Microsoft.Data.Sqlite' }).
        GetType('Microsoft.Data.Sqlite.SqliteConnection')::ClearAllPools()
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
