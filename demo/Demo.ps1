# The AdeEnrollment demo: the main job against a fresh, throw-away store. Started by `build.ps1 Demo`.
$ErrorActionPreference = 'Stop'
$out = if ($env:ADE_DEMO_OUT) { $env:ADE_DEMO_OUT } else { Join-Path $PSScriptRoot '../out' }
$env:PSModulePath = $out + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module AdeEnrollment

$work = Join-Path ([IO.Path]::GetTempPath()) ("ade-demo-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory $work | Out-Null
function Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

try {
    Step 'Connect to a fresh store'
    Connect-AdeStore -Path (Join-Path $work 'demo.db') -PassThru | Format-Table | Out-Host

    Step 'Step 1: create a token request and the certificate to upload to Apple Business Manager'
    $pem = Join-Path $work 'AdeEnrollment-upload.pem'
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
    $request | Format-Table | Out-Host

    Step "Step 2: Apple Business Manager returns a server token (.p7m) for that certificate (made locally with openssl here)"
    $expiry = [datetime]::UtcNow.AddDays(365).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")
    $json = @{ consumer_key = 'CK_demo0001'; consumer_secret = 'CS_demo-secret'; access_token = 'AT_demo-token'; access_secret = 'AS_demo-secret'; access_token_expiry = $expiry } | ConvertTo-Json -Compress
    $plain = Join-Path $work 'message.txt'
    [IO.File]::WriteAllText($plain, "Content-Type: text/plain;charset=UTF-8`r`n`r`n-----BEGIN MESSAGE-----`r`n$json`r`n-----END MESSAGE-----`r`n")
    $p7m = Join-Path $work 'Contoso iPads_Token_2026-11-29T09-00-00Z_smime.p7m'
    & openssl smime -encrypt -binary -aes256 -in $plain -out $p7m $pem
    if ($LASTEXITCODE -ne 0) { throw 'openssl is needed by this demo step.' }
    Remove-Item $plain
    Write-Host "Token file: $p7m"

    Step 'Step 3: import the token'
    $token = New-AdeToken -Request $request -Path $p7m -AppleId 'ade-admin@contoso.com' -ScopeTag 'Default', 'Amsterdam' -EnrollmentUrl 'https://mdm.contoso.com/enroll'
    Get-AdeToken | Format-Table | Out-Host

    Step 'Rename it and show the store'
    Set-AdeToken -Token $token -Name 'Contoso iPads (Amsterdam)'
    Get-AdeToken | Format-List Name, AppleId, ExpiresAt, DaysUntilExpiry, Status, ScopeTags, EnrollmentUrl | Out-Host
    Get-AdeStore | Format-Table | Out-Host

    Step 'A request can be used once'
    try { New-AdeToken -Request $request -Path $p7m -AppleId 'ade-admin@contoso.com' } catch { Write-Host "Refused: [$($_.FullyQualifiedErrorId)] $($_.Exception.Message)" -ForegroundColor Yellow }

    Step 'Remove the token'
    Get-AdeToken | Remove-AdeToken -Confirm:$false
    "Tokens left: $(@(Get-AdeToken).Count)"
    Write-Host "`nDemo finished." -ForegroundColor Green
} finally {
    [Microsoft.Data.Sqlite.SqliteConnection]::ClearAllPools()
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
