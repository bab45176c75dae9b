# Installed the way administrators install modules: the built modules are published with Publish-PSResource to a
# temporary local repository, installed with Install-PSResource into a throw-away user profile, imported by name in
# a fresh pwsh, and used for a token request and a sync against the simulator. The registration is removed after.
BeforeAll {
    $script:pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    $script:home2 = Join-Path $TestDrive 'home'
    New-Item -ItemType Directory $home2, (Join-Path $TestDrive 'repo') | Out-Null
    $script:child = Join-Path $TestDrive 'install.ps1'
    Set-Content $child @'
param([string] $Out, [string] $Repo, [string] $ResultPath)
$ErrorActionPreference = 'Stop'
$result = [ordered]@{}
$name = 'AdeTest' + [guid]::NewGuid().ToString('N').Substring(0, 8)
Register-PSResourceRepository -Name $name -Uri $Repo -Trusted
try {
    Publish-PSResource -Path (Join-Path $Out 'AdeEnrollment') -Repository $name
    Publish-PSResource -Path (Join-Path $Out 'AdeEnrollment.Simulator') -Repository $name
    $result.Packages = @(Get-ChildItem $Repo -Filter *.nupkg | ForEach-Object Name)
    Install-PSResource -Name AdeEnrollment.Simulator -Repository $name -Scope CurrentUser -TrustRepository
    $result.Installed = @(Get-InstalledPSResource -Name AdeEnrollment, AdeEnrollment.Simulator | ForEach-Object { "$($_.Name) $($_.Version)" })
} finally {
    Unregister-PSResourceRepository -Name $name
    $result.RegisteredAfter = @(Get-PSResourceRepository -Name $name -ErrorAction SilentlyContinue).Count
}
# A fresh pwsh that finds the installed modules by name only (the build output is not on PSModulePath).
$use = {
    param($Work)
    $ErrorActionPreference = 'Stop'
    Import-Module AdeEnrollment, AdeEnrollment.Simulator
    $r = [ordered]@{ ModuleBase = (Get-Module AdeEnrollment).ModuleBase }
    Connect-AdeStore -Path (Join-Path $Work 'installed.db')
    $sim = Start-AdeSimulator -Seed 3
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $Work 'i.pem')
    New-AdeSimServer -Name 'Installed' -PublicKeyPath (Join-Path $Work 'i.pem') -OutFile (Join-Path $Work 'i.p7m') | Out-Null
    New-AdeToken -Request $request -Path (Join-Path $Work 'i.p7m') -AppleId 'a@contoso.example' -ServiceUri $sim.Uri | Out-Null
    Add-AdeSimDevice -Server 'Installed' -Count 3 | Out-Null
    $r.Added = (Sync-AdeDevice -Token 'Installed').Added
    Stop-AdeSimulator
    $r
}
$paths = ($env:PSModulePath -split [IO.Path]::PathSeparator | Where-Object { $_ -notlike "$Out*" }) -join [IO.Path]::PathSeparator
$env:PSModulePath = $paths
$work = Split-Path $ResultPath
$inner = & ([IO.Path]::Combine($PSHOME, $IsWindows ? 'pwsh.exe' : 'pwsh')) -NoProfile -NonInteractive -OutputFormat Xml -Command $use -args $work
foreach ($k in $inner.Keys) { $result[$k] = $inner[$k] }
$result | ConvertTo-Json | Set-Content $ResultPath
'@
}

Describe 'Publish-PSResource / Install-PSResource' {
    It 'publishes, installs into a user profile and works when imported by name' {
        $resultPath = Join-Path $TestDrive 'result.json'
        $saved = @{ HOME = $env:HOME; XDG_DATA_HOME = $env:XDG_DATA_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; LOCALAPPDATA = $env:LOCALAPPDATA; USERPROFILE = $env:USERPROFILE }
        try {
            # A throw-away user profile: Install-PSResource -Scope CurrentUser installs under it.
            $env:HOME = $home2; $env:USERPROFILE = $home2
            $env:XDG_DATA_HOME = Join-Path $home2 '.local/share'; $env:XDG_CONFIG_HOME = Join-Path $home2 '.config'
            $env:LOCALAPPDATA = Join-Path $home2 'AppData/Local'
            $output = & $pwsh -NoProfile -NonInteractive -File $child -Out $env:ADE_TEST_OUT -Repo (Join-Path $TestDrive 'repo') -ResultPath $resultPath 2>&1
        } finally {
            foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
        }
        if (-not (Test-Path $resultPath)) { throw "The install script failed: $output" }
        $r = Get-Content -Raw $resultPath | ConvertFrom-Json
        $r.Packages | Should -HaveCount 2
        $r.Installed | Should -HaveCount 2
        $r.RegisteredAfter | Should -Be 0
        $r.ModuleBase | Should -BeLike "$home2*"
        $r.Added | Should -Be 3
    }
}
